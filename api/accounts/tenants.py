"""Tenants: lookup, settings, seats. Creating one with its first owner is a use case
(api.usecases.onboarding)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts import identifiers, validation
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Forbidden, Problem, UserFailure
from api.i18n import _
from api.security import stepup
from api.values import UNSET, Maybe
from api.work import Work
from db.enums import AccountStatus, TenantState
from db.models import Tenant, User

SEAT_STATUSES = (AccountStatus.INVITED, AccountStatus.ACTIVE)


async def get(db: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:
        raise LookupError(tenant_id)
    return tenant


async def by_slug(db: AsyncSession, slug: str) -> Tenant | None:
    """The tenant a typed slug names (see identifiers.slug), or None."""
    normal = identifiers.slug(slug)
    if normal is None:
        return None
    return (await db.execute(select(Tenant).where(func.lower(col(Tenant.slug)) == normal))).scalar_one_or_none()


async def lock(
    db: AsyncSession, tenant_id: uuid.UUID, *, states: tuple[TenantState, ...] = (TenantState.ACTIVE,)
) -> Tenant:
    """The tenant row under FOR NO KEY UPDATE: serialises seat, owner and state changes
    within a tenant, while inserts that merely reference the tenant (audit events,
    sessions) go on. A tenant not in `states` (by default: suspended or closed, perhaps
    while this request waited for the lock) fails with TENANT_SUSPENDED / TENANT_CLOSED."""
    result = await db.execute(
        select(Tenant)
        .where(col(Tenant.id) == tenant_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    tenant = result.scalar_one()
    if tenant.state not in states:
        raise not_in_use(tenant)
    return tenant


def not_in_use(tenant: Tenant) -> UserFailure:
    if tenant.state == TenantState.CLOSED:
        return UserFailure.of(ErrorCode.TENANT_CLOSED, _("This organisation's account is closed."))
    return UserFailure.of(ErrorCode.TENANT_SUSPENDED, _("This organisation's account is suspended."))


async def seats_used(db: AsyncSession, tenant_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(User)
        .where(col(User.tenant_id) == tenant_id, col(User.status).in_(SEAT_STATUSES))
    )
    return int((await db.execute(query)).scalar_one())


async def ensure_free_seat(db: AsyncSession, tenant: Tenant) -> None:
    """Call with the tenant locked (see `lock`), so concurrent callers count one at a time."""
    if tenant.seat_limit is not None and await seats_used(db, tenant.id) >= tenant.seat_limit:
        raise UserFailure.of(
            ErrorCode.SEAT_LIMIT_REACHED,
            _("All %(limit)s seats of this organisation are in use.", limit=tenant.seat_limit),
        )


IDLE_MINUTES = (5, 1440)
ABSOLUTE_HOURS = (1, 720)
RETENTION_DAYS = (30, 3650)
AUDIT_RETENTION_DAYS = (30, 3650)


# Settings that protect accounts or the record of what happened: changing one needs a
# fresh proof of identity (a stolen session must not switch off the second factor, or
# shorten the audit log's life).
SECURITY_SETTINGS = frozenset(
    {
        "require_mfa",
        "session_idle_timeout_minutes",
        "session_absolute_timeout_hours",
        "inactive_account_retention_days",
        "audit_retention_days",
    }
)


async def update_settings(
    work: Work,
    *,
    name: Maybe[str | None] = UNSET,
    require_mfa: Maybe[bool | None] = UNSET,
    session_idle_timeout_minutes: Maybe[int | None] = UNSET,
    session_absolute_timeout_hours: Maybe[int | None] = UNSET,
    inactive_account_retention_days: Maybe[int | None] = UNSET,
    audit_retention_days: Maybe[int | None] = UNSET,
    default_locale: Maybe[str | None] = UNSET,
    time_zone: Maybe[str | None] = UNSET,
) -> Tenant:
    actor = work.admin()
    if (
        inactive_account_retention_days is not UNSET or audit_retention_days not in (UNSET, None)
    ) and not actor.is_owner:
        # Settings that erase are the owner's: an administrator could otherwise have the
        # owners erased by the retention job, or the record of their own actions shortened.
        raise Forbidden()
    wanted: dict[str, object] = {}
    problems: list[Problem] = []
    # For the non-nullable settings an explicit null means "leave as is".
    if name not in (UNSET, None):
        try:
            wanted["name"] = validation.tenant_name(name)
        except UserFailure as failure:
            problems += failure.problems
    if require_mfa not in (UNSET, None):
        wanted["require_mfa"] = bool(require_mfa)
    for key, raw, check, field in (
        ("default_locale", default_locale, validation.locale, "input.defaultLocale"),
        ("time_zone", time_zone, validation.time_zone, "input.timeZone"),
    ):
        if raw in (UNSET, None):
            continue
        try:
            checked = check(raw, field)
            if checked is None:
                raise UserFailure.of(ErrorCode.INVALID_INPUT, _("An organisation always has one."), field)
            wanted[key] = checked
        except UserFailure as failure:
            problems += failure.problems
    for key, value, bounds, what, field in (
        (
            "session_idle_timeout_minutes",
            session_idle_timeout_minutes,
            IDLE_MINUTES,
            _("The idle timeout in minutes"),
            "input.sessionIdleTimeoutMinutes",
        ),
        (
            "session_absolute_timeout_hours",
            session_absolute_timeout_hours,
            ABSOLUTE_HOURS,
            _("The absolute timeout in hours"),
            "input.sessionAbsoluteTimeoutHours",
        ),
        (
            "audit_retention_days",
            audit_retention_days,
            AUDIT_RETENTION_DAYS,
            _("The audit log's retention in days"),
            "input.auditRetentionDays",
        ),
    ):
        if value not in (UNSET, None):
            problem = validation.int_range(value, *bounds, field, what)
            problems += [problem] if problem else []
            wanted[key] = value
    if inactive_account_retention_days is not UNSET:
        value = inactive_account_retention_days
        if value is not None:
            problem = validation.int_range(
                value,
                *RETENTION_DAYS,
                "input.inactiveAccountRetentionDays",
                _("The retention of inactive accounts in days"),
            )
            problems += [problem] if problem else []
        wanted["inactive_account_retention_days"] = value
    if problems:
        raise UserFailure(*problems)

    db = work.db
    tenant = await lock(db, actor.tenant_id)
    idle = wanted.get("session_idle_timeout_minutes", tenant.session_idle_timeout_minutes)
    absolute = wanted.get("session_absolute_timeout_hours", tenant.session_absolute_timeout_hours)
    if isinstance(idle, int) and isinstance(absolute, int) and idle > absolute * 60:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("The idle timeout cannot be longer than the absolute timeout."),
            "input.sessionIdleTimeoutMinutes",
        )
    before = {key: getattr(tenant, key) for key in wanted}
    if any(before[key] != wanted[key] for key in SECURITY_SETTINGS & wanted.keys()):
        await stepup.require_fresh(work)
    for key, new in wanted.items():
        setattr(tenant, key, new)
    changes = audit.field_changes(before, wanted)
    if changes:
        # The tenant's name is an organisation's, not a person's: its value is kept.
        if "name" in changes:
            changes["name"] = {"old": before["name"], "new": wanted["name"]}
        audit.record(
            db,
            tenant_id=tenant.id,
            action=actions.TENANT_SETTINGS_CHANGED,
            meta=work.meta,
            actor=actor,
            target_type="tenant",
            target_id=tenant.id,
            changes=changes,
        )
    await db.flush()
    return tenant
