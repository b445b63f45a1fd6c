"""What operators see of tenants and do to them: the list (state, seats, activity), the
seat licence, suspension and reactivation. Operators see organisations, never their
users: a summary holds counts and times, no account's data. Every change is recorded in
the tenant's own chain (actor type OPERATOR) and in the operators' log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, text
from api.accounts import tenants
from api.audit import actions
from api.errors import BadInput, ErrorCode, UserFailure
from api.i18n import _, ngettext
from api.operators import log
from api.pagination import check_first, decode_cursor, encode_cursor
from api.values import UNSET, Maybe
from api.work import Work
from db.enums import TenantState
from db.models import Tenant, User, UserSession

MAX_SEATS = 1_000_000
MAX_SEARCH = 200
MAX_REASON = 500


@dataclass(frozen=True)
class TenantSummary:
    id: uuid.UUID
    slug: str
    name: str
    state: TenantState
    seat_limit: int | None
    seats_used: int
    created_at: datetime
    last_activity_at: datetime | None
    state_changed_at: datetime | None
    closed_at: datetime | None
    retain_until: datetime | None


@dataclass(frozen=True)
class TenantPage:
    tenants: list[TenantSummary]
    cursors: list[str]
    has_next_page: bool
    total_count: int


# Counted per row by correlated subqueries, so a page of tenants is one statement.
_SEATS_USED = (
    select(func.count())
    .select_from(User)
    .where(col(User.tenant_id) == col(Tenant.id), col(User.status).in_(tenants.SEAT_STATUSES))
    .correlate(Tenant)
    .scalar_subquery()
)
_LAST_ACTIVITY = (
    select(func.max(col(User.last_login_at)))
    .where(col(User.tenant_id) == col(Tenant.id))
    .correlate(Tenant)
    .scalar_subquery()
)


def _summaries() -> Select[Any]:
    return select(Tenant, _SEATS_USED.label("seats_used"), _LAST_ACTIVITY.label("last_activity_at"))


def _summary(tenant: Tenant, seats_used: int, last_activity_at: datetime | None) -> TenantSummary:
    return TenantSummary(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        state=TenantState(tenant.state),
        seat_limit=tenant.seat_limit,
        seats_used=int(seats_used or 0),
        created_at=tenant.created_at,
        last_activity_at=last_activity_at,
        state_changed_at=tenant.state_changed_at,
        closed_at=tenant.closed_at,
        retain_until=tenant.retain_until,
    )


async def summary(db: AsyncSession, tenant_id: uuid.UUID) -> TenantSummary:
    row = (await db.execute(_summaries().where(col(Tenant.id) == tenant_id))).one()
    return _summary(row[0], row.seats_used, row.last_activity_at)


def _filtered(query: Select[Any], search: str | None, state: TenantState | None) -> Select[Any]:
    if search and search.strip():
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                func.lower(col(Tenant.slug)).like(pattern, escape="\\"),
                func.lower(col(Tenant.name)).like(pattern, escape="\\"),
            )
        )
    if state is not None:
        query = query.where(col(Tenant.state) == state)
    return query


async def list_page(
    work: Work, *, first: int, after: str | None, search: str | None, state: TenantState | None
) -> TenantPage:
    """Tenants ordered by slug (case-insensitive), keyset-paginated: two statements a page
    (the page with its counts, and the total), however many tenants it shows."""
    work.operating()
    db = work.db
    check_first(first)
    if search is not None and len(search) > MAX_SEARCH:
        raise BadInput(_("`search` has at most %(max)s characters.", max=MAX_SEARCH))
    query = _filtered(_summaries(), search, state)
    if after:
        key, tid = decode_cursor(after, "text", "uuid")
        query = query.where(tuple_(func.lower(col(Tenant.slug)), col(Tenant.id)) > tuple_(key, tid))
    query = query.order_by(func.lower(col(Tenant.slug)), col(Tenant.id)).limit(first + 1)
    rows = (await db.execute(query)).all()
    total = (await db.execute(_filtered(select(func.count()).select_from(Tenant), search, state))).scalar_one()
    page = [_summary(row[0], row.seats_used, row.last_activity_at) for row in rows[:first]]
    cursors = [encode_cursor(t.slug.lower(), str(t.id)) for t in page]
    return TenantPage(page, cursors, len(rows) > first, int(total))


# --- changes -------------------------------------------------------------------------


def _parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


async def _locked(db: AsyncSession, tenant_id: str) -> Tenant:
    """The tenant under the same row lock as adding accounts takes (api.accounts.tenants.lock),
    so seat counts and limit changes happen one at a time; NOT_FOUND for an unknown id."""
    tid = _parse_id(tenant_id)
    found = None
    if tid is not None:
        found = (
            await db.execute(
                select(Tenant)
                .where(col(Tenant.id) == tid)
                .with_for_update(key_share=True)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
    if found is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such tenant."), "input.tenantId")
    return found


def _refuse_closed(tenant: Tenant) -> None:
    if tenant.state == TenantState.CLOSED:
        raise UserFailure.of(ErrorCode.TENANT_CLOSED, _("This organisation has closed its account."), "input.tenantId")


async def set_seat_limit(work: Work, *, tenant_id: str, seat_limit: Maybe[int | None]) -> TenantSummary:
    """The seat licence (null: unlimited). Never below the seats in use (INVITED and ACTIVE
    accounts): SEATS_IN_USE, and nothing changes."""
    work.operating()
    if seat_limit is UNSET:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("Give the number of seats, or null for unlimited."), "input.seatLimit"
        )
    if seat_limit is not None and not 1 <= seat_limit <= MAX_SEATS:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("A seat licence is between 1 and %(max)s seats.", max=MAX_SEATS),
            "input.seatLimit",
        )
    db = work.db
    tenant = await _locked(db, tenant_id)
    _refuse_closed(tenant)
    used = await tenants.seats_used(db, tenant.id)
    if seat_limit is not None and seat_limit < used:
        raise UserFailure.of(
            ErrorCode.SEATS_IN_USE,
            ngettext(
                "%(n)s seat is in use (invited and active accounts); the licence cannot be lower than that.",
                "%(n)s seats are in use (invited and active accounts); the licence cannot be lower than that.",
                used,
            ),
            "input.seatLimit",
        )
    if tenant.seat_limit != seat_limit:
        before, tenant.seat_limit = tenant.seat_limit, seat_limit
        log.record_on_tenant(
            work,
            tenant_id=tenant.id,
            action=actions.TENANT_SEAT_LIMIT_CHANGED,
            changes={"seat_limit": {"old": before, "new": seat_limit}, "seats_used": {"new": used}},
        )
        await db.flush()
    return await summary(db, tenant.id)


def _reason(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return text.clean(value, field="input.reason", what=_("Reasons"), max_length=MAX_REASON)


async def suspend(work: Work, *, tenant_id: str, reason: str | None) -> TenantSummary:
    """Nobody of the tenant can log in, and every session of its accounts ends; the data is kept."""
    work.operating()
    why = _reason(reason)
    db = work.db
    tenant = await _locked(db, tenant_id)
    _refuse_closed(tenant)
    if tenant.state == TenantState.SUSPENDED:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("This organisation is already suspended."), "input.tenantId")
    before = tenant.state
    tenant.state, tenant.state_changed_at = TenantState.SUSPENDED, clock.now()
    ended = await db.execute(
        delete(UserSession).where(col(UserSession.tenant_id) == tenant.id).returning(col(UserSession.id))
    )
    changes: dict[str, Any] = {
        "state": {"old": before, "new": TenantState.SUSPENDED},
        "sessions_revoked": {"new": len(ended.all())},
    }
    # The reason is the vendor's note (it may name people): the tenant's log says only that
    # one was given; the text is in the operators' log.
    if why is not None:
        changes["reason_given"] = {"new": True}
    log.record_on_tenant(
        work,
        tenant_id=tenant.id,
        action=actions.TENANT_SUSPENDED,
        changes=changes,
        operators_only={"reason": {"new": why}} if why is not None else None,
    )
    await db.flush()
    return await summary(db, tenant.id)


async def reactivate(work: Work, *, tenant_id: str) -> TenantSummary:
    """A suspended tenant is in use again: its users can log in."""
    work.operating()
    db = work.db
    tenant = await _locked(db, tenant_id)
    _refuse_closed(tenant)
    if tenant.state != TenantState.SUSPENDED:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("This organisation is not suspended."), "input.tenantId")
    tenant.state, tenant.state_changed_at = TenantState.ACTIVE, clock.now()
    log.record_on_tenant(
        work,
        tenant_id=tenant.id,
        action=actions.TENANT_REACTIVATED,
        changes={"state": {"old": TenantState.SUSPENDED, "new": TenantState.ACTIVE}},
    )
    await db.flush()
    return await summary(db, tenant.id)
