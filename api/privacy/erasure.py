"""Erasure: the account and everything about it go at once. What stays: audit events
with the bare account id (who-from details blanked), data requests with the subject
set to null, and an ERASURE request as proof."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlmodel import col

from api import clock, events
from api.accounts import tenants, users
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, Forbidden, UserFailure
from api.i18n import _
from api.privacy import parts
from api.privacy.requests import created_data, due
from api.request_meta import RequestMeta
from api.security import stepup
from api.security.reauth import confirm_password
from api.work import Work
from db.enums import ActorType, DataRequestKind, DataRequestStatus, Role
from db.models import DataRequest, ExportChunk, User, WebhookEvent


async def erase(work: Work, user: User, *, reason: str, details: dict[str, Any] | None = None) -> DataRequest:
    """Erase the account at once, by the acting user (themselves, or an administrator) or
    by the system; `details` join the audit event's changes (e.g. the retention policy
    that erased it)."""
    [proof] = await erase_many(work, [user], reason=reason, details=details)
    return proof


async def erase_many(
    work: Work, accounts: Sequence[User], *, reason: str, details: dict[str, Any] | None = None
) -> list[DataRequest]:
    """Erase accounts of one tenant at once, each exactly as `erase` erases one, in a
    number of statements that does not grow with how many (a tenant's closure)."""
    if not accounts:
        return []
    db, meta, actor = work.db, work.meta, work.actor
    tenant_id = accounts[0].tenant_id
    assert all(u.tenant_id == tenant_id for u in accounts)
    ids = [u.id for u in accounts]
    theirs = (col(DataRequest.tenant_id) == tenant_id) & col(DataRequest.subject_id).in_(ids)
    await db.execute(
        update(DataRequest)
        .where(theirs, col(DataRequest.status).in_((DataRequestStatus.PENDING, DataRequestStatus.PROCESSING)))
        .values(status=DataRequestStatus.REJECTED)
    )
    await db.execute(
        delete(ExportChunk).where(
            col(ExportChunk.tenant_id) == tenant_id,
            col(ExportChunk.request_id).in_(select(col(DataRequest.id)).where(theirs)),
        )
    )
    await db.execute(update(DataRequest).where(theirs).values(download_expires_at=None))
    await parts.drop_for_subject_requests(db, tenant_id, select(col(DataRequest.id)).where(theirs))
    # Events about them not yet delivered (they carry their names); `user.erased` follows.
    await db.execute(delete(WebhookEvent).where(col(WebhookEvent.subject_id).in_(ids)))
    # Mail to them that has not gone out, and the sealed copies of what has.
    await db.execute(
        text("DELETE FROM procrastinate_jobs WHERE args->>'subject' = ANY(CAST(:u AS text[])) AND status <> 'doing'"),
        {"u": [str(i) for i in ids]},
    )
    # Where they acted from: blanked in the audit log (the chain does not cover it).
    await db.execute(
        text(
            "UPDATE audit_event SET ip_address = NULL, user_agent = NULL WHERE tenant_id = :t "
            "AND (actor_id = ANY(:u) OR (target_id = ANY(:u) AND actor_type = 'ANONYMOUS')) "
            "AND (ip_address IS NOT NULL OR user_agent IS NOT NULL)"
        ),
        {"t": tenant_id, "u": ids},
    )
    # The accounts; sessions, tokens, 2FA and consent history go with them (ON DELETE CASCADE).
    await db.execute(delete(User).where(col(User.tenant_id) == tenant_id, col(User.id).in_(ids)))
    for user in accounts:
        db.expunge(user)
    now = clock.now()
    proofs: list[DataRequest] = []
    for user_id in ids:
        self_erasure = actor is not None and actor.user_id == user_id
        proof = DataRequest(
            tenant_id=tenant_id,
            kind=DataRequestKind.ERASURE,
            status=DataRequestStatus.COMPLETED,
            subject_id=None,
            requested_by=actor.user_id if actor and not self_erasure else None,
            requested_at=now,
            due_at=due(now),
            completed_at=now,
        )
        proofs.append(proof)
        db.add(proof)
        # The erased person's own request keeps no trace of where they were.
        event_meta = RequestMeta(ip_address=None, user_agent=None, request_id=meta.request_id) if self_erasure else meta
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.USER_ERASED,
            meta=event_meta,
            actor=actor if actor and not self_erasure else None,
            actor_id=user_id if self_erasure else (work.operator.operator_id if work.operator else None),
            actor_type=None if actor else ActorType.OPERATOR if work.operator else ActorType.SYSTEM,
            target_type="user",
            target_id=user_id,
            changes={"reason": {"new": reason}, **(details or {})},
        )
    await db.flush()
    # Connected applications taking part in erasure confirm theirs; until all have, the
    # request shows which are pending (api.privacy.parts).
    waiting = await parts.open_parts(db, DataRequestKind.ERASURE, proofs)
    for proof in proofs:
        if proof.id in waiting:
            proof.status, proof.completed_at = DataRequestStatus.PROCESSING, None
    await events.emit_many(
        db,
        [
            events.Event(
                events.USER_ERASED,
                tenant_id,
                {
                    "userId": user_id,
                    "dataRequestId": proof.id,
                    "reason": reason,
                    "confirmationRequired": proof.id in waiting,
                },
            )
            for user_id, proof in zip(ids, proofs)
        ]
        + [events.Event(events.DATA_REQUEST_CREATED, tenant_id, created_data(proof)) for proof in proofs]
        + [
            events.Event(events.DATA_REQUEST_COMPLETED, tenant_id, parts.completed_data(proof))
            for proof in proofs
            if proof.id not in waiting
        ],
    )
    await db.flush()
    return proofs


async def delete_own_account(work: Work, *, password: str) -> DataRequest:
    actor, db = work.acting(), work.db
    await stepup.require_fresh(work)
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    assert user is not None
    await confirm_password(work, user, password, field="input.password", failed_action=actions.ACCOUNT_DELETE_FAILED)
    await tenants.lock(db, actor.tenant_id)
    user = await db.get(
        User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    assert user is not None
    await users.ensure_owned_without(db, user, field=None)
    return await erase(work, user, reason="deleted_by_user")


async def erase_as_admin(work: Work, user: User) -> DataRequest:
    admin = work.admin()
    await stepup.require_fresh(work)  # whatever path an administrator's erasure takes
    if user.role == Role.OWNER and not admin.is_owner:
        raise Forbidden()
    await tenants.lock(work.db, admin.tenant_id)
    await users.ensure_owned_without(work.db, user, field=None)
    return await erase(work, user, reason="removed_by_admin")


async def remove_user(work: Work, *, user_id: str) -> DataRequest:
    await stepup.require_fresh(work)
    user = await users.visible(work.db, work.admin(), user_id, lock=True)
    if user is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such account."), "id")
    return await erase_as_admin(work, user)
