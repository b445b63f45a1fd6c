"""Data subject requests: access and portability (EXPORT) and erasure (ERASURE), with the
statutory one-month deadline; exports are built by a background job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.pagination import check_first, decode_cursor, encode_cursor
from api.queue import enqueue
from api.request_meta import Actor
from api.work import Work
from db.enums import DataRequestKind, DataRequestStatus
from db.models import DataRequest, User

BUILD_EXPORT_TASK = "build_export"


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
        raise UserFailure.of(ErrorCode.DUPLICATE, "An export is already being prepared.")
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
    await enqueue(
        db, BUILD_EXPORT_TASK, {"tenant_id": str(request.tenant_id), "request_id": str(request.id)}, queue="default"
    )
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


async def request_own_export(work: Work) -> DataRequest:
    actor, db = work.acting(), work.db
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
