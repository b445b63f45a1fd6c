"""The one path that removes audit events: those older than the tenant's audit
retention. The database's guard trigger allows nothing else (see migration 0004)."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import actions
from api.audit import service as audit
from api.request_meta import SYSTEM_META
from db.enums import ActorType

_PURGE = text(
    """
    DELETE FROM audit_event e USING tenant t
    WHERE t.id = e.tenant_id AND e.tenant_id = :tenant_id
      AND e.occurred_at < now() - make_interval(days => t.audit_retention_days)
    RETURNING e.chain_seq
    """
)


async def purge_expired_events(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    await db.execute(text("SELECT set_config('audit.retention_purge', 'on', true)"))
    removed = [row.chain_seq for row in await db.execute(_PURGE, {"tenant_id": tenant_id})]
    await db.execute(text("SELECT set_config('audit.retention_purge', 'off', true)"))
    if removed:
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.AUDIT_PURGED,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            changes={"count": {"new": len(removed)}, "through_seq": {"new": max(removed)}},
        )
    return len(removed)
