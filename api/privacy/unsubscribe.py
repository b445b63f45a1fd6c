"""Unsubscribe links: signed tokens bound to one user and one purpose, good for nothing
else (their own salt), made and checked with itsdangerous."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from api import clock
from api.settings import Settings

SALT = "account-api/unsubscribe/v1"


@dataclass(frozen=True)
class Unsubscribe:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    purpose_key: str
    # When the link was made: it must not withdraw a consent given after that. None for
    # links made before tokens carried it.
    issued_at: datetime | None = None


def _serializer(settings: Settings) -> URLSafeSerializer:
    # itsdangerous signs with the last key and accepts any: the current key goes last.
    keys = settings.secret_keys()
    return URLSafeSerializer(list(reversed(keys)), salt=SALT)


def make_token(settings: Settings, *, tenant_id: uuid.UUID, user_id: uuid.UUID, purpose_key: str) -> str:
    issued_ms = int(clock.now().timestamp() * 1000)
    return _serializer(settings).dumps({"t": str(tenant_id), "u": str(user_id), "p": purpose_key, "i": issued_ms})


def unsubscribe_link(settings: Settings, *, tenant_id: uuid.UUID, user_id: uuid.UUID, purpose_key: str) -> str:
    token = make_token(settings, tenant_id=tenant_id, user_id=user_id, purpose_key=purpose_key)
    return f"{settings.app_url}/unsubscribe?token={quote(token)}"


def read_token(settings: Settings, token: str) -> Unsubscribe | None:
    if not token or len(token) > 512:
        return None
    try:
        data = _serializer(settings).loads(token)
        issued = data.get("i")
        issued_at = datetime.fromtimestamp(issued / 1000, UTC) if isinstance(issued, int) else None
        return Unsubscribe(uuid.UUID(data["t"]), uuid.UUID(data["u"]), str(data["p"]), issued_at)
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        return None
