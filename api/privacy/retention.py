"""The retention run: erase accounts idle past the tenant's limit, drop export archives
past their download window, purge audit events past the tenant's audit retention.
Each run leaves one SYSTEM audit event per tenant with what it did."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.audit import actions, service as audit
from api.audit.retention import purge_expired_events
from api.privacy.erasure import erase
from api.request_meta import SYSTEM_META
from db.models import DataRequest, ExportChunk, Tenant, User


async def run(db: AsyncSession) -> dict[str, int]:
    totals = {"erased_accounts": 0, "expired_exports": 0, "audit_events_purged": 0}
    now = clock.now()
    for tenant in list((await db.execute(select(Tenant).order_by(Tenant.created_at))).scalars()):
        erased = expired = 0
        if tenant.inactive_account_retention_days is not None:
            cutoff = now - timedelta(days=tenant.inactive_account_retention_days)
            idle = await db.execute(
                select(User).where(
                    User.tenant_id == tenant.id,
                    func.coalesce(User.last_login_at, User.created_at) < cutoff,
                ).with_for_update(skip_locked=True)
            )
            for user in list(idle.scalars()):
                if user.role == "OWNER" and await _owners_left(db, user) == 0:
                    continue  # never leave a tenant without an owner
                await erase(db, SYSTEM_META, user, actor=None, reason="inactive_retention")
                erased += 1
        expired_ids = list((await db.execute(
            update(DataRequest)
            .where(DataRequest.tenant_id == tenant.id, DataRequest.kind == "EXPORT", DataRequest.download_expires_at <= now)  # type: ignore[operator]
            .values(download_expires_at=None)
            .returning(DataRequest.id)
        )).scalars())
        if expired_ids:
            await db.execute(delete(ExportChunk).where(ExportChunk.tenant_id == tenant.id, ExportChunk.request_id.in_(expired_ids)))  # type: ignore[attr-defined]
            expired = len(expired_ids)
        purged = await purge_expired_events(db, tenant.id)
        audit.record(db, tenant_id=tenant.id, action=actions.RETENTION_COMPLETED, meta=SYSTEM_META, actor_type="SYSTEM",
                     changes={"erased_accounts": {"new": erased}, "expired_exports": {"new": expired}, "audit_events_purged": {"new": purged}})
        totals["erased_accounts"] += erased
        totals["expired_exports"] += expired
        totals["audit_events_purged"] += purged
    await db.flush()
    return totals


async def _owners_left(db: AsyncSession, user: User) -> int:
    query = select(func.count()).select_from(User).where(
        User.tenant_id == user.tenant_id, User.role == "OWNER", User.status != "DISABLED", User.id != user.id
    )
    return int((await db.execute(query)).scalar_one())
