"""The retention run: warn, then erase, accounts idle past the tenant's limit; drop export
archives past their download window; purge audit events past the tenant's audit
retention. Each run leaves one SYSTEM audit event per tenant with what it did.

An idle account is first emailed (WARNING_DAYS before the limit is reached, or at once if
the policy is new) and erased only when it is past the limit and was warned at least
WARNING_DAYS before; signing in in between clears the warning."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlmodel import col

from api import clock
from api.accounts import users
from api.audit import actions
from api.audit import service as audit
from api.audit.retention import purge_expired_events
from api.mail import templates
from api.mail.outbox import queue_email
from api.privacy.erasure import erase
from api.request_meta import SYSTEM_META
from api.work import Work
from db.enums import ActorType, DataRequestKind, Role, TenantState
from db.models import DataRequest, ExportChunk, Tenant, User

WARNING_DAYS = 14


async def _erase_or_warn_idle(work: Work, tenant: Tenant, now: datetime) -> tuple[int, int]:
    """(erased, warned) for one tenant's inactivity policy."""
    db, settings = work.db, work.settings
    days = tenant.inactive_account_retention_days
    assert days is not None
    warning = timedelta(days=WARNING_DAYS)
    last_seen = func.coalesce(col(User.last_login_at), col(User.created_at))
    idle = await db.execute(
        select(User)
        .where(col(User.tenant_id) == tenant.id, last_seen < now - timedelta(days=days) + warning)
        .order_by(col(User.id))
        .with_for_update(skip_locked=True)
    )
    erased = warned = 0
    policy = {"inactive_account_retention_days": days, "warning_days": WARNING_DAYS}
    for user in list(idle.scalars()):
        if user.role == Role.OWNER and await users.other_active_owners(db, user) == 0:
            continue  # never leave a tenant without an active owner
        seen = user.last_login_at or user.created_at
        if user.inactivity_warned_at is None:
            erase_on = max(seen + timedelta(days=days), now + warning)
            await queue_email(
                db,
                settings,
                templates.inactivity_warning(
                    to=templates.recipient(user, tenant),
                    tenant_name=tenant.name,
                    erase_on=erase_on,
                    login_link=f"{settings.app_url}/login",
                ),
                subject_id=user.id,
            )
            user.inactivity_warned_at = now
            audit.record(
                db,
                tenant_id=tenant.id,
                action=actions.USER_INACTIVITY_WARNED,
                meta=SYSTEM_META,
                actor_type=ActorType.SYSTEM,
                target_type="user",
                target_id=user.id,
                changes={"erase_on": {"new": erase_on.isoformat()}, "policy": {"new": policy}},
            )
            warned += 1
        elif seen < now - timedelta(days=days) and user.inactivity_warned_at <= now - warning:
            await erase(
                work.as_actor(None),
                user,
                reason="inactive_retention",
                details={"policy": {"new": {**policy, "warned_at": user.inactivity_warned_at.isoformat()}}},
            )
            erased += 1
    return erased, warned


async def run(work: Work) -> dict[str, int]:
    db = work.db
    totals = {"erased_accounts": 0, "warned_accounts": 0, "expired_exports": 0, "audit_events_purged": 0}
    now = clock.now()
    # A CLOSED tenant's chain ends with its closure; its hold's end purges it whole.
    open_tenants = select(Tenant).where(col(Tenant.state) != TenantState.CLOSED).order_by(col(Tenant.created_at))
    for tenant in list((await db.execute(open_tenants)).scalars()):
        erased = warned = expired = 0
        # A suspended tenant's users cannot log in, so they are not idle by choice: they are
        # neither warned nor erased for inactivity until the tenant is ACTIVE again.
        if tenant.inactive_account_retention_days is not None and tenant.state == TenantState.ACTIVE:
            erased, warned = await _erase_or_warn_idle(work, tenant, now)
        expired_ids = list(
            (
                await db.execute(
                    update(DataRequest)
                    .where(
                        col(DataRequest.tenant_id) == tenant.id,
                        col(DataRequest.kind) == DataRequestKind.EXPORT,
                        col(DataRequest.download_expires_at) <= now,
                    )
                    .values(download_expires_at=None)
                    .returning(col(DataRequest.id))
                )
            ).scalars()
        )
        if expired_ids:
            await db.execute(
                delete(ExportChunk).where(
                    col(ExportChunk.tenant_id) == tenant.id, col(ExportChunk.request_id).in_(expired_ids)
                )
            )
            expired = len(expired_ids)
        purged = await purge_expired_events(db, tenant.id)
        audit.record(
            db,
            tenant_id=tenant.id,
            action=actions.RETENTION_COMPLETED,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            changes={
                "erased_accounts": {"new": erased},
                "warned_accounts": {"new": warned},
                "expired_exports": {"new": expired},
                "audit_events_purged": {"new": purged},
            },
        )
        totals["erased_accounts"] += erased
        totals["warned_accounts"] += warned
        totals["expired_exports"] += expired
        totals["audit_events_purged"] += purged
    await db.flush()
    return totals
