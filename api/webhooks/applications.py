"""The vendor's connected applications, registered by operators: where their events go,
which they want, whether they take part in erasure and export, their signing secret
(shown once) and their API keys (random, kept as hashes, shown once, revocable). Every
change is in the operators' log."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events, text
from api.audit import actions
from api.crypto import hash_token
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.operators import log as operator_log
from api.request_meta import ApplicationActor
from api.values import UNSET, Maybe
from api.webhooks import signing
from api.webhooks.endpoints import event_types, parse_id
from api.webhooks.targets import checked_url
from api.work import Work
from db.models import Application, ApplicationApiKey

KEY_PREFIX = "ak_"
LAST_USED_GRANULARITY = timedelta(seconds=60)


def _name(value: str, field: str = "input.name") -> str:
    return text.clean(value, field=field, what=_("Application names"), max_length=64)


def _record(work: Work, action: str, application_id: uuid.UUID, changes: dict[str, object]) -> None:
    operator_log.record(
        work.db,
        action=action,
        meta=work.meta,
        operator_id=work.operator.operator_id if work.operator else None,
        changes={"application_id": {"new": str(application_id)}, **changes},
    )


def _authorise(work: Work, system: bool) -> None:
    """Operators; or, from the command line (`system`), the one who runs it."""
    if not system:
        work.operating()


@dataclass(frozen=True)
class WithSecret:
    application: Application
    secret: str


async def create(
    work: Work,
    *,
    name: str,
    webhook_url: str,
    types: Sequence[str],
    takes_erasure: bool,
    takes_export: bool,
    system: bool = False,
) -> WithSecret:
    _authorise(work, system)
    db, settings = work.db, work.settings
    problems = []
    clean_name, clean_types = "", []
    try:
        clean_name = _name(name)
    except UserFailure as failure:
        problems += failure.problems
    try:
        clean_types = event_types(types, allowed=events.ALL_TYPES, field="input.eventTypes") if types else []
    except UserFailure as failure:
        problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    url = await checked_url(webhook_url, field="input.webhookUrl", allow_loopback=bool(settings.webhook_allow_loopback))
    secret, sealed = signing.new_secret(settings)
    application = Application(
        name=clean_name,
        webhook_url=url,
        event_types=clean_types,
        takes_erasure=takes_erasure,
        takes_export=takes_export,
        secret_sealed=sealed,
    )
    db.add(application)
    try:
        await db.flush()
    except IntegrityError:
        raise UserFailure.of(ErrorCode.DUPLICATE, _("An application has this name."), "input.name") from None
    _record(
        work,
        actions.APPLICATION_CREATED,
        application.id,
        {
            "name": {"new": clean_name},
            "event_types": {"new": clean_types},
            "takes_erasure": {"new": takes_erasure},
            "takes_export": {"new": takes_export},
        },
    )
    return WithSecret(application, secret)


async def get(db: AsyncSession, application_id: str, *, lock: bool = False, field: str = "input.id") -> Application:
    aid = parse_id(application_id)
    application = await db.get(Application, aid, with_for_update=lock, populate_existing=lock) if aid else None
    if application is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such application."), field)
    return application


async def update(
    work: Work,
    *,
    application_id: str,
    webhook_url: Maybe[str | None] = UNSET,
    types: Maybe[Sequence[str] | None] = UNSET,
    takes_erasure: Maybe[bool | None] = UNSET,
    takes_export: Maybe[bool | None] = UNSET,
    enabled: Maybe[bool | None] = UNSET,
) -> Application:
    work.operating()
    db, settings = work.db, work.settings
    new_types = (
        event_types(types, allowed=events.ALL_TYPES, field="input.eventTypes")
        if types is not UNSET and types is not None and len(types) > 0
        else None
    )
    new_url = (
        await checked_url(webhook_url, field="input.webhookUrl", allow_loopback=bool(settings.webhook_allow_loopback))
        if isinstance(webhook_url, str)
        else None
    )
    application = await get(db, application_id, lock=True)
    changes: dict[str, object] = {}
    if new_url is not None and new_url != application.webhook_url:
        application.webhook_url, changes["webhook_url"] = new_url, {"changed": True}
    if types is not UNSET and types is not None and (new_types or []) != application.event_types:
        changes["event_types"] = {"old": application.event_types, "new": new_types or []}
        application.event_types = new_types or []
    for key, value in (("takes_erasure", takes_erasure), ("takes_export", takes_export), ("enabled", enabled)):
        if value not in (UNSET, None) and value != getattr(application, key):
            changes[key] = {"old": getattr(application, key), "new": value}
            setattr(application, key, bool(value))
    if "enabled" in changes:
        application.failing_since = None
        application.disabled_reason = None if application.enabled else "disabled by an operator"
    if changes:
        application.updated_at = clock.now()
        _record(work, actions.APPLICATION_UPDATED, application.id, changes)
    await db.flush()
    return application


async def delete(work: Work, *, application_id: str) -> None:
    """Its keys, deliveries and parts in data requests go with it (the use case
    api.usecases.applications lets the requests that waited on it go on)."""
    work.operating()
    application = await get(work.db, application_id, lock=True)
    _record(work, actions.APPLICATION_DELETED, application.id, {"name": {"old": application.name}})
    await work.db.delete(application)
    await work.db.flush()


async def rotate_secret(work: Work, *, application_id: str) -> WithSecret:
    work.operating()
    application = await get(work.db, application_id, lock=True)
    secret, application.secret_sealed = signing.new_secret(work.settings)
    application.updated_at = clock.now()
    _record(work, actions.APPLICATION_SECRET_ROTATED, application.id, {"secret": {"changed": True}})
    await work.db.flush()
    return WithSecret(application, secret)


async def list_all(work: Work) -> list[Application]:
    work.operating()
    return list((await work.db.execute(select(Application).order_by(col(Application.name)))).scalars())


async def keys_of(db: AsyncSession, application_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ApplicationApiKey]]:
    found: dict[uuid.UUID, list[ApplicationApiKey]] = {a: [] for a in application_ids}
    if application_ids:
        rows = await db.execute(
            select(ApplicationApiKey)
            .where(col(ApplicationApiKey.application_id).in_(application_ids))
            .order_by(col(ApplicationApiKey.created_at))
        )
        for key in rows.scalars():
            found[key.application_id].append(key)
    return found


# --- API keys -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewKey:
    key: ApplicationApiKey
    token: str


async def create_key(work: Work, *, application_id: str, name: str, system: bool = False) -> NewKey:
    _authorise(work, system)
    clean = text.clean(name, field="input.name", what=_("Key names"), max_length=100)
    application = await get(work.db, application_id, lock=True, field="input.applicationId")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApplicationApiKey(application_id=application.id, name=clean, prefix=token[:10], key_hash=hash_token(token))
    work.db.add(key)
    await work.db.flush()
    _record(work, actions.API_KEY_CREATED, application.id, {"key_id": {"new": str(key.id)}, "name": {"new": clean}})
    return NewKey(key, token)


async def revoke_key(work: Work, *, key_id: str) -> ApplicationApiKey:
    work.operating()
    kid = parse_id(key_id)
    key = await work.db.get(ApplicationApiKey, kid, with_for_update=True) if kid else None
    if key is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such key."), "input.id")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        _record(work, actions.API_KEY_REVOKED, key.application_id, {"key_id": {"new": str(key.id)}})
        await work.db.flush()
    return key


RESOLVE_SQL = """
SELECT k.id, k.last_used_at, a.id AS application_id, a.name
FROM application_api_key k JOIN application a ON a.id = k.application_id
WHERE k.key_hash = $1 AND k.revoked_at IS NULL
"""


def is_api_key(token: str | None) -> bool:
    return bool(token) and str(token).startswith(KEY_PREFIX)


async def resolve_key(pool: asyncpg.Pool, token: str) -> ApplicationActor | None:
    """The application a presented key belongs to (None: unknown or revoked); its
    last-used time is written at most once a minute."""
    if not is_api_key(token) or len(token) > 128:
        return None
    row = await pool.fetchrow(RESOLVE_SQL, hash_token(token))
    if row is None:
        return None
    now = clock.now()
    if row["last_used_at"] is None or now - row["last_used_at"] >= LAST_USED_GRANULARITY:
        await pool.execute("UPDATE application_api_key SET last_used_at = $1 WHERE id = $2", now, row["id"])
    return ApplicationActor(application_id=row["application_id"], name=row["name"], key_id=row["id"])
