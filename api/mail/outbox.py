"""Queue an email in the caller's transaction. The message is sealed with the outbox
key: queued emails carry one-time tokens and addresses, which must not sit in the
job table in clear."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from api.crypto import Cipher
from api.mail.templates import Email
from api.queue import enqueue_many
from api.settings import Settings

SEND_EMAIL_TASK = "send_email"


def outbox_cipher(settings: Settings) -> Cipher:
    return Cipher(settings.secret_keys(), purpose="outbox")


async def queue_emails(db: AsyncSession, settings: Settings, emails: Sequence[tuple[Email, uuid.UUID | None]]) -> None:
    """Queue each (email, subject id) with one statement. The bare account id of the
    subject lets erasure find and drop mail not yet sent."""
    cipher = outbox_cipher(settings)
    args = []
    for email, subject_id in emails:
        job: dict[str, str] = {"sealed": cipher.encrypt(json.dumps(asdict(email)).encode())}
        if subject_id is not None:
            job["subject"] = str(subject_id)
        args.append(job)
    await enqueue_many(db, SEND_EMAIL_TASK, args, queue="email")


async def queue_email(
    db: AsyncSession, settings: Settings, email: Email, *, subject_id: uuid.UUID | None = None
) -> None:
    await queue_emails(db, settings, [(email, subject_id)])


def open_sealed(settings: Settings, sealed: str) -> Email:
    return Email(**json.loads(outbox_cipher(settings).decrypt(sealed)))
