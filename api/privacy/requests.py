"""Data subject requests: access and portability (EXPORT) and erasure (ERASURE), with the
statutory one-month deadline; exports are built by a background job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_emails
from api.pagination import check_first, decode_cursor, encode_cursor
from api.privacy import parts
from api.queue import enqueue
from api.request_meta import SYSTEM_META, Actor
from api.security import stepup
from api.work import Work
from db.enums import AccountStatus, ActorType, DataRequestKind, DataRequestStatus, Role
from db.models import DataRequest, Tenant, User


def due(requested_at: datetime) -> datetime:
    """One month after the request (GDPR art. 12(3)), by the calendar."""
    return requested_at + relativedelta(months=1)


async def _open_export(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> DataRequest | None:
    query = select(DataRequest).where(
        col(DataRequest.tenant_id) == tenant_id,
        col(DataRequest.subject_id) == user_id,
        col(DataRequest.kind) == DataRequestKind.EXPORT,
        col(DataRequest.status).in_((DataRequestStatus.PENDING, DataRequestStatus.PROCESSING)),
    )
    return (await db.execute(query.limit(1))).scalar_one_or_none()


async def start_export(work: Work, *, subject: User, requested_by: Actor | None) -> DataRequest:
    db, meta = work.db, work.meta
    if await _open_export(db, subject.tenant_id, subject.id):
        raise UserFailure.of(ErrorCode.DUPLICATE, _("An export is already being prepared."))
    now = clock.now()
    request = DataRequest(
        tenant_id=subject.tenant_id,
        kind=DataRequestKind.EXPORT,
        subject_id=subject.id,
        requested_by=requested_by.user_id if requested_by else subject.id,
        requested_at=now,
        due_at=due(now),
    )
    db.add(request)
    await db.flush()
    if await parts.open_parts(db, DataRequestKind.EXPORT, [request]):
        # Built once every connected application taking part has sent its part (or it is
        # known to be missing): api.privacy.parts.
        await events.emit(
            db,
            events.EXPORT_REQUESTED,
            subject.tenant_id,
            {"dataRequestId": request.id, "subjectId": subject.id, "dueAt": request.due_at},
        )
    else:
        await enqueue(
            db,
            parts.BUILD_EXPORT_TASK,
            {"tenant_id": str(request.tenant_id), "request_id": str(request.id)},
            queue="default",
        )
    await events.emit(db, events.DATA_REQUEST_CREATED, subject.tenant_id, created_data(request), subject.id)
    audit.record(
        db,
        tenant_id=subject.tenant_id,
        action=actions.DATA_REQUEST_CREATED,
        meta=meta,
        actor=requested_by,
        actor_id=None if requested_by else subject.id,
        target_type="data_request",
        target_id=request.id,
        changes={"kind": {"new": DataRequestKind.EXPORT}, "subject_id": {"new": str(subject.id)}},
    )
    return request


def created_data(request: DataRequest) -> dict[str, object]:
    return {
        "dataRequestId": request.id,
        "kind": request.kind,
        "subjectId": request.subject_id,
        "requestedAt": request.requested_at,
        "dueAt": request.due_at,
    }


async def request_own_export(work: Work) -> DataRequest:
    actor, db = work.acting(), work.db
    await stepup.require_fresh(work)
    await work.attempts.take(work.attempts.limits.data_export, str(actor.user_id))
    # The account's row lock makes "one open export at a time" hold under concurrency.
    subject = await db.get(
        User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    assert subject is not None
    return await start_export(work, subject=subject, requested_by=None)


async def for_subject(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[DataRequest]:
    query = select(DataRequest).where(col(DataRequest.tenant_id) == tenant_id, col(DataRequest.subject_id) == user_id)
    return list(
        (await db.execute(query.order_by(col(DataRequest.requested_at).desc(), col(DataRequest.id).desc()))).scalars()
    )


@dataclass(frozen=True)
class RequestPage:
    requests: list[DataRequest]
    cursors: list[str]
    has_next_page: bool


def _cursor(r: DataRequest) -> str:
    return encode_cursor(r.requested_at.isoformat(), str(r.id))


def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    when, rid = decode_cursor(cursor, "datetime", "uuid")
    return when, rid


async def list_page(work: Work, *, first: int, after: str | None, status: DataRequestStatus | None) -> RequestPage:
    actor, db = work.admin(), work.db
    check_first(first)
    query = select(DataRequest).where(col(DataRequest.tenant_id) == actor.tenant_id)
    if status:
        query = query.where(col(DataRequest.status) == status)
    if after:
        when, rid = _decode(after)
        query = query.where(tuple_(col(DataRequest.requested_at), col(DataRequest.id)) < tuple_(when, rid))
    rows = list(
        (
            await db.execute(
                query.order_by(col(DataRequest.requested_at).desc(), col(DataRequest.id).desc()).limit(first + 1)
            )
        ).scalars()
    )
    page = rows[:first]
    return RequestPage(page, [_cursor(r) for r in page], len(rows) > first)


def download_available(kind: str, status: str, download_expires_at: datetime | None) -> bool:
    return (
        kind == DataRequestKind.EXPORT
        and status == DataRequestStatus.COMPLETED
        and download_expires_at is not None
        and download_expires_at > clock.now()
    )


async def flag_overdue(work: Work) -> int:
    """Requests past their due date and still open: recorded once each, and each tenant's
    active administrators told in one email. The number flagged."""
    db, settings, now = work.db, work.settings, clock.now()
    flagged = list(
        (
            await db.execute(
                update(DataRequest)
                .where(
                    col(DataRequest.status).in_((DataRequestStatus.PENDING, DataRequestStatus.PROCESSING)),
                    col(DataRequest.due_at) < now,
                    col(DataRequest.overdue_notified_at).is_(None),
                )
                .values(overdue_notified_at=now)
                .returning(col(DataRequest.tenant_id), col(DataRequest.id), col(DataRequest.kind))
            )
        ).all()
    )
    per_tenant: dict[uuid.UUID, int] = {}
    for tenant_id, request_id, kind in flagged:
        per_tenant[tenant_id] = per_tenant.get(tenant_id, 0) + 1
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.DATA_REQUEST_OVERDUE,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            target_type="data_request",
            target_id=request_id,
            changes={"kind": {"new": kind}},
        )
    emails: list[tuple[templates.Email, uuid.UUID | None]] = []
    for tenant_id, count in per_tenant.items():
        tenant = await db.get(Tenant, tenant_id)
        admins = await db.execute(
            select(User).where(
                col(User.tenant_id) == tenant_id,
                col(User.status) == AccountStatus.ACTIVE,
                col(User.role).in_((Role.OWNER, Role.ADMIN)),
            )
        )
        emails.extend(
            (
                templates.data_requests_overdue(
                    to=templates.recipient(admin, tenant),
                    tenant_name=tenant.name if tenant else "",
                    count=count,
                    link=f"{settings.app_url}/admin/requests",
                ),
                None,
            )
            for admin in admins.scalars()
        )
    await queue_emails(db, settings, emails)
    return len(flagged)
