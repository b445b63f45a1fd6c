"""Closing a tenant, by its OWNER (password, second factor when enrolled, and the slug
typed out) or by an operator (the slug typed out). At once: every account is erased as
`deleteAccount` erases one, the tenant becomes CLOSED with its legal hold running to
`retain_until`, its audit chain gets a final event, and its owners get a confirmation
(queued before their addresses go; nobody else is mailed after erasure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, text
from sqlmodel import col

from api import clock, events
from api.accounts import tenants, users
from api.audit import actions
from api.audit import service as audit
from api.auth import mfa
from api.errors import ErrorCode, Forbidden, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_emails
from api.operators import auth as operator_auth
from api.operators import log as operator_log
from api.privacy.erasure import erase_many
from api.request_meta import RequestMeta
from api.security import stepup
from api.security.reauth import confirm_password
from api.work import Work
from db.enums import AccountStatus, Role, TenantState
from db.models import Tenant, TenantContract, User


@dataclass(frozen=True)
class Closed:
    tenant: Tenant
    accounts_erased: int


def _typed_slug_matches(tenant: Tenant, typed: str) -> None:
    if typed.strip().lower() != tenant.slug.lower():
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Type the organisation address exactly, to confirm that you mean to close it."),
            "input.confirmSlug",
        )


async def close_own(
    work: Work, *, password: str, code: str | None, confirm_slug: str, tenant_id: str | None = None
) -> Closed:
    actor, db = work.acting(), work.db
    if not actor.is_owner or (tenant_id is not None and users.parse_id(tenant_id) != actor.tenant_id):
        raise Forbidden()
    await stepup.require_fresh(work)
    tenant = await tenants.get(db, actor.tenant_id)
    _typed_slug_matches(tenant, confirm_slug)
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    if user is None:  # erased meanwhile (a concurrent closure)
        raise tenants.not_in_use(await tenants.get(db, actor.tenant_id))
    await confirm_password(work, user, password, field="input.password", failed_action=actions.TENANT_CLOSE_FAILED)
    await mfa.confirm_second_factor(work, actor, code)
    return await _close(work, tenant.id, reason="closed_by_owner", states=(TenantState.ACTIVE,))


async def close_as_operator(work: Work, *, tenant_id: str, confirm_slug: str, password: str, code: str) -> Closed:
    """An operator's closure needs a fresh password and code too: a stolen operator
    session alone must not be able to erase a customer."""
    work.operating()
    uid = users.parse_id(tenant_id)
    tenant = await work.db.get(Tenant, uid) if uid is not None else None
    if tenant is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such organisation."), "input.tenantId")
    _typed_slug_matches(tenant, confirm_slug)
    await operator_auth.confirm(work, password=password, code=code)
    return await _close(
        work, tenant.id, reason="closed_by_operator", states=(TenantState.ACTIVE, TenantState.SUSPENDED)
    )


async def _close(work: Work, tenant_id: uuid.UUID, *, reason: str, states: tuple[TenantState, ...]) -> Closed:
    db, settings = work.db, work.settings
    # Waits for (and then sees) anything that holds the tenant: a seat taken, a setting, a
    # suspension (an owner closes only an organisation in use).
    tenant = await tenants.lock(db, tenant_id, states=states)
    accounts = list(
        (
            await db.execute(
                select(User)
                .where(col(User.tenant_id) == tenant.id)
                .order_by(col(User.id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    now = clock.now()
    # The hold is for the contract record; a tenant without one keeps what is left (its
    # audit log, by bare ids) for its own audit retention only.
    held = await db.get(TenantContract, tenant.id) is not None
    retain_until = (
        now + relativedelta(years=settings.contract_retention_years)
        if held
        else now + timedelta(days=tenant.audit_retention_days)
    )
    # Read before the accounts are erased.
    owners = [
        templates.recipient(u, tenant) for u in accounts if u.role == Role.OWNER and u.status == AccountStatus.ACTIVE
    ]
    before = tenant.state
    await erase_many(work, accounts, reason="tenant_closed")
    # Jobs still queued for the tenant (an export being built) have nothing left to do.
    await db.execute(
        text("DELETE FROM procrastinate_jobs WHERE args->>'tenant_id' = :t AND status = 'todo'"), {"t": str(tenant.id)}
    )
    # Who-from details of events about nobody in particular (failed logins, requests),
    # the erasures' events just recorded included.
    await audit.write_recorded(db)
    await db.execute(
        text(
            "UPDATE audit_event SET ip_address = NULL, user_agent = NULL WHERE tenant_id = :t "
            "AND (ip_address IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        {"t": tenant.id},
    )
    tenant.state, tenant.state_changed_at = TenantState.CLOSED, now
    tenant.closed_at, tenant.retain_until = now, retain_until
    changes = {
        "state": {"old": before, "new": TenantState.CLOSED},
        "reason": {"new": reason},
        "accounts_erased": {"new": len(accounts)},
        "retain_until": {"new": retain_until.isoformat()},
    }
    if work.operator is not None:
        operator_log.record_on_tenant(work, tenant_id=tenant.id, action=actions.TENANT_CLOSED, changes=changes)
    else:
        actor = work.acting()
        # The closing owner is erased with everyone: their event keeps the bare id only.
        audit.record(
            db,
            tenant_id=tenant.id,
            action=actions.TENANT_CLOSED,
            meta=RequestMeta(ip_address=None, user_agent=None, request_id=work.meta.request_id),
            actor_id=actor.user_id,
            target_type="tenant",
            target_id=tenant.id,
            changes=changes,
        )
        operator_log.record(
            db,
            action=actions.TENANT_CLOSED,
            meta=RequestMeta(request_id=work.meta.request_id),
            operator_id=None,
            tenant_id=tenant.id,
            changes=changes,
        )
    await events.emit(
        db,
        events.TENANT_CLOSED,
        tenant.id,
        {"slug": tenant.slug, "closedAt": now, "retainUntil": retain_until, "accountsErased": len(accounts)},
    )
    # The owners' confirmation: sealed in the queue with no account to point to, sent
    # once, and removed with the other sent mail (api.jobs.maintenance).
    await queue_emails(
        db,
        settings,
        [
            (
                templates.tenant_closed(
                    to=owner,
                    tenant_name=tenant.name,
                    slug=tenant.slug,
                    closed_at=now,
                    retain_until=retain_until,
                ),
                None,
            )
            for owner in owners
        ],
    )
    await db.flush()
    return Closed(tenant, len(accounts))
