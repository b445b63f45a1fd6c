"""Erasure: the account and everything about it go at once. What stays: audit events
with the bare account id (who-from details blanked), data requests with the subject
set to null, and an ERASURE request as proof."""

from __future__ import annotations



from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.accounts import tenants, users
from api.audit import actions, service as audit
from api.auth.guard import Guard
from api.auth.service import check_password
from api.errors import ErrorCode, Forbidden, UserFailure
from api.privacy.requests import due
from api.request_meta import Actor, RequestMeta
from api.settings import Settings
from db.models import DataRequest, ExportChunk, User


async def erase(
    db: AsyncSession, meta: RequestMeta, user: User, *, actor: Actor | None, reason: str, details: dict[str, Any] | None = None
) -> DataRequest:
    """Erase the account at once; `details` join the audit event's changes (e.g. the
    retention policy that erased it)."""
    tenant_id, user_id = user.tenant_id, user.id
    subject_requests = select(DataRequest.id).where(DataRequest.tenant_id == tenant_id, DataRequest.subject_id == user_id)
    await db.execute(
        update(DataRequest)
        .where(DataRequest.tenant_id == tenant_id, DataRequest.subject_id == user_id, DataRequest.status.in_(("PENDING", "PROCESSING")))  # type: ignore[attr-defined]
        .values(status="REJECTED")
    )
    await db.execute(delete(ExportChunk).where(ExportChunk.tenant_id == tenant_id, ExportChunk.request_id.in_(subject_requests)))  # type: ignore[attr-defined]
    await db.execute(update(DataRequest).where(DataRequest.tenant_id == tenant_id, DataRequest.subject_id == user_id).values(download_expires_at=None))
    # Mail to them that has not gone out, and the sealed copies of what has.
    await db.execute(text("DELETE FROM procrastinate_jobs WHERE args->>'subject' = :u AND status <> 'doing'"), {"u": str(user_id)})
    # Where they acted from: blanked in the audit log (the chain does not cover it).
    await db.execute(
        text(
            "UPDATE audit_event SET ip_address = NULL, user_agent = NULL WHERE tenant_id = :t "
            "AND (actor_id = :u OR (target_id = :u AND actor_type = 'ANONYMOUS')) "
            "AND (ip_address IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        {"t": tenant_id, "u": user_id},
    )
    # The account; sessions, tokens, 2FA and consent history go with it (ON DELETE CASCADE).
    await db.execute(delete(User).where(User.tenant_id == tenant_id, User.id == user_id))  # type: ignore[arg-type]
    db.expunge(user)
    now = clock.now()
    proof = DataRequest(tenant_id=tenant_id, kind="ERASURE", status="COMPLETED", subject_id=None,
                        requested_by=actor.user_id if actor and actor.user_id != user_id else None,
                        requested_at=now, due_at=due(now), completed_at=now)
    db.add(proof)
    self_erasure = actor is not None and actor.user_id == user_id
    # The erased person's own request keeps no trace of where they were.
    event_meta = RequestMeta(ip_address=None, user_agent=None, request_id=meta.request_id) if self_erasure else meta
    audit.record(db, tenant_id=tenant_id, action=actions.USER_ERASED, meta=event_meta, actor=actor if actor and actor.user_id != user_id else None,
                 actor_id=user_id if actor and actor.user_id == user_id else None, actor_type=None if actor else "SYSTEM",
                 target_type="user", target_id=user_id, changes={"reason": {"new": reason}, **(details or {})})
    await db.flush()
    return proof


async def delete_own_account(db: AsyncSession, guard: Guard, actor: Actor, meta: RequestMeta, *, password: str) -> DataRequest:
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    assert user is not None
    await check_password(db, guard, meta, user, password, field="input.password", failed_action=actions.ACCOUNT_DELETE_FAILED)
    await tenants.lock(db, actor.tenant_id)
    user = await db.get(User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True}, populate_existing=True)
    assert user is not None
    await users.ensure_owned_without(db, user, field=None)
    return await erase(db, meta, user, actor=actor, reason="deleted_by_user")


async def erase_as_admin(db: AsyncSession, settings: Settings, admin: Actor, meta: RequestMeta, user: User) -> DataRequest:
    if user.role == "OWNER" and not admin.is_owner:
        raise Forbidden()
    await tenants.lock(db, admin.tenant_id)
    await users.ensure_owned_without(db, user, field=None)
    return await erase(db, meta, user, actor=admin, reason="removed_by_admin")


async def remove_user(db: AsyncSession, settings: Settings, admin: Actor, meta: RequestMeta, *, user_id: str) -> DataRequest:
    if not admin.is_admin:
        raise Forbidden()
    user = await users.visible(db, admin, user_id, lock=True)
    if user is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, "No such account.", "id")
    return await erase_as_admin(db, settings, admin, meta, user)


__all__ = ["erase", "delete_own_account", "remove_user", "erase_as_admin"]
