"""Signing secrets and signatures, per the Standard Webhooks specification (the
`standardwebhooks` package): a `whsec_` secret per receiver, shown once when made or
rotated and kept sealed (it must be read to sign), and the three headers on each request."""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

from api.crypto import Cipher
from api.settings import Settings

SECRET_BYTES = 32


def _cipher(settings: Settings) -> Cipher:
    return Cipher(settings.secret_keys(), purpose="webhook-secret")


def new_secret(settings: Settings) -> tuple[str, str]:
    """A new signing secret and its sealed form (the only one stored)."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
    return secret, _cipher(settings).encrypt(secret.encode())


def open_secret(settings: Settings, sealed: str) -> str:
    return _cipher(settings).decrypt(sealed).decode()


def headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    """webhook-id, webhook-timestamp, webhook-signature for this body. The timestamp is
    the real time now: receivers reject signatures more than five minutes off theirs."""
    now = datetime.fromtimestamp(int(time.time()), UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }
