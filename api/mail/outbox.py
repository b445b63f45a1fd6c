"""Queue an email in the caller's transaction. The message is sealed with the outbox
key: queued emails carry one-time tokens and addresses, which must not sit in the
job table in clear."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from api.crypto import Cipher
from api.jobs.queue import enqueue
from api.mail.templates import Email
from api.settings import Settings

SEND_EMAIL_TASK = "send_email"


def outbox_cipher(settings: Settings) -> Cipher:
    return Cipher(settings.secret_keys(), purpose="outbox")


async def queue_email(db: AsyncSession, settings: Settings, email: Email, *, subject_id: uuid.UUID | None = None) -> None:
    """`subject_id` (a bare account id) lets erasure find and drop mail not yet sent."""
    sealed = outbox_cipher(settings).encrypt(json.dumps(asdict(email)).encode())
    args: dict[str, str] = {"sealed": sealed}
    if subject_id is not None:
        args["subject"] = str(subject_id)
    await enqueue(db, SEND_EMAIL_TASK, args, queue="email")


def open_sealed(settings: Settings, sealed: str) -> Email:
    return Email(**json.loads(outbox_cipher(settings).decrypt(sealed)))
