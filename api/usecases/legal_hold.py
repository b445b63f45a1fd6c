"""Closed tenants under legal hold: what operators see of them, and the purge when the
hold ends (the daily retention job), after which nothing of the tenant is left but the
operators' log entry that says so."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text, tuple_
from sqlmodel import col

from api import clock
from api.audit import actions
from api.errors import BadInput
from api.i18n import _
from api.operators import log as operator_log
from api.pagination import check_first, decode_cursor, encode_cursor
from api.request_meta import SYSTEM_META
from api.work import Work
from db.enums import TenantState
from db.models import Tenant, TenantContract

PURGE_BATCH = 100


@dataclass(frozen=True)
class LegalHold:
    tenant: Tenant
    contract: TenantContract | None
    legal_basis: str
    cursor: str


@dataclass(frozen=True)
class HoldPage:
    holds: list[LegalHold]
    has_next_page: bool


async def list_page(work: Work, *, first: int, after: str | None) -> HoldPage:
    """Closed tenants whose hold runs, soonest end first (operators only)."""
    work.operating()
    check_first(first)
    query = (
        select(Tenant, TenantContract)
        .outerjoin(TenantContract, col(TenantContract.tenant_id) == col(Tenant.id))
        .where(col(Tenant.state) == TenantState.CLOSED)
    )
    if after:
        until, tid = decode_cursor(after, "datetime", "uuid")
        query = query.where(tuple_(col(Tenant.retain_until), col(Tenant.id)) > tuple_(until, tid))
    rows = (await work.db.execute(query.order_by(col(Tenant.retain_until), col(Tenant.id)).limit(first + 1))).all()
    holds = [
        LegalHold(
            tenant=row.Tenant,
            contract=row.TenantContract,
            legal_basis=work.settings.contract_retention_basis,
            cursor=encode_cursor(_iso(row.Tenant.retain_until), str(row.Tenant.id)),
        )
        for row in rows[:first]
    ]
    return HoldPage(holds, len(rows) > first)


def _iso(value: datetime | None) -> str:
    if value is None:
        raise BadInput(_("a closed tenant without its hold's end"))
    return value.isoformat()


async def purge_ended(work: Work) -> int:
    """Delete each CLOSED tenant whose hold has ended: its contract record, its remaining
    audit events (the audit guard allows it only for a CLOSED tenant named by
    `audit.tenant_purge`), and the tenant row with all that hangs on it. Recorded in the
    operators' log. Returns how many tenants went."""
    db = work.db
    ended = list(
        (
            await db.execute(
                select(Tenant)
                .where(col(Tenant.state) == TenantState.CLOSED, col(Tenant.retain_until) <= clock.now())
                .order_by(col(Tenant.retain_until))
                .limit(PURGE_BATCH)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for tenant in ended:
        tenant_id: uuid.UUID = tenant.id
        await db.execute(text("SELECT set_config('audit.tenant_purge', :t, true)"), {"t": str(tenant_id)})
        events = await db.execute(text("DELETE FROM audit_event WHERE tenant_id = :t"), {"t": tenant_id})
        await db.execute(text("SELECT set_config('audit.tenant_purge', '', true)"))
        contract = await db.execute(
            delete(TenantContract)
            .where(col(TenantContract.tenant_id) == tenant_id)
            .returning(col(TenantContract.tenant_id))
        )
        had_contract = contract.first() is not None
        operator_log.record(
            db,
            action=actions.TENANT_PURGED,
            meta=SYSTEM_META,
            operator_id=None,
            tenant_id=tenant_id,
            changes={
                "slug": {"old": tenant.slug},
                "closed_at": {"old": _iso(tenant.closed_at)},
                "retain_until": {"old": _iso(tenant.retain_until)},
                "audit_events_deleted": {"new": int(events.rowcount or 0)},  # type: ignore[attr-defined]
                "contract_deleted": {"new": had_contract},
            },
        )
        await db.execute(delete(Tenant).where(col(Tenant.id) == tenant_id))
        db.expunge(tenant)
    await db.flush()
    return len(ended)
