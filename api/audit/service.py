"""Recording audit events in the caller's transaction: a change and its event commit
together or not at all. Personal values are never stored; only the field names."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.audit import actions
from api.request_meta import Actor, RequestMeta
from api.work import Work
from db.engine import UnitOfWorkSession
from db.enums import ActorType
from db.models import AuditEvent

# Fields whose values identify a person: the audit log names them but keeps no value.
PERSONAL_FIELDS = frozenset({"email", "username", "display_name", "ip_address", "user_agent", "new_email"})
# Fields that are secret: never named with a value, whatever the caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash", "totp_secret", "recovery_codes", "code"})


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: {"old": x, "new": y}} for each changed field; personal and secret values
    are replaced by a bare marker that the field changed."""
    changed: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key)
        if old == new:
            continue
        if key in PERSONAL_FIELDS or key in SECRET_FIELDS:
            changed[key] = {"changed": True}
        else:
            changed[key] = {"old": _plain(old), "new": _plain(new)}
    return changed


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record(
    db: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    action: str,
    meta: RequestMeta,
    actor: Actor | None = None,
    actor_type: ActorType | None = None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if action not in actions.ALL:
        raise ValueError(f"unknown audit action {action!r}: add it to api/audit/actions.py")
    for key in SECRET_FIELDS & set(changes or {}):
        if (changes or {})[key] != {"changed": True}:
            raise ValueError("secrets never go into the audit log; name the field only")
    event = AuditEvent(
        tenant_id=tenant_id,
        occurred_at=clock.now(),
        action=action,
        actor_type=actor_type or (ActorType.USER if actor or actor_id else ActorType.ANONYMOUS),
        actor_id=actor.user_id if actor else actor_id,
        target_type=target_type,
        target_id=target_id,
        ip_address=meta.ip_address,
        user_agent=meta.user_agent,
        request_id=meta.request_id,
        changes=changes or None,
    )
    if isinstance(db, UnitOfWorkSession):
        db.add_last(event)  # inserted just before COMMIT: the chain lock is held briefly
    else:
        db.add(event)
    return event


async def write_recorded(db: AsyncSession) -> None:
    """Insert the events recorded so far now rather than at commit, for a statement that
    must see them (it then holds the chain lock from here to the commit)."""
    if isinstance(db, UnitOfWorkSession):
        await db.write_last_now()
    await db.flush()


def record_failure(work: Work, **event: Any) -> None:
    """The audit event of a failed attempt (record's arguments without db and meta): it
    stands although the unit of work rolls back (written after it, see api.attempts)."""
    meta = work.meta

    async def write(db: AsyncSession) -> None:
        # A closed tenant's chain ends with its closure: a failure that lands after it (a
        # wrong password racing the closure) is not recorded. FOR SHARE waits for a
        # closure in progress to commit, then sees it.
        state = await db.execute(text("SELECT state FROM tenant WHERE id = :t FOR SHARE"), {"t": event["tenant_id"]})
        if state.scalar_one_or_none() in (None, "CLOSED"):
            return
        record(db, meta=meta, **event)

    work.stand(write)
