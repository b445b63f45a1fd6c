"""Connected applications' parts in data requests.

Erasure: each application that takes part in erasure gets `user.erased` and confirms with
`confirmErasure`; the ERASURE request stays PROCESSING, showing which are pending, until
all have confirmed. Export: each application that takes part in export gets
`export.requested` and sends its part with `deliverExportPart`; the archive is built when
every part is in or known to be missing (its request could not be delivered, or nothing
came within EXPORT_PART_WAIT_HOURS); a missing part is named in the archive and on the
request, never silently left out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.queue import enqueue_many
from api.request_meta import SYSTEM_META
from api.work import Work
from db.enums import ActorType, DataRequestKind, DataRequestStatus, PartStatus
from db.models import Application, DataRequest, DataRequestPart

BUILD_EXPORT_TASK = "build_export"

# Every application taking part, enabled or not: a disabled one still owes its erasure
# (it waits, and gets the event once enabled and replayed); its export part is missing.
_OPEN = text(
    """
    INSERT INTO data_request_part (tenant_id, request_id, application_id, status, reason, created_at, updated_at)
    SELECT r.tenant_id, r.request_id, a.id,
           CASE WHEN a.enabled OR :kind = 'ERASURE' THEN 'PENDING' ELSE 'MISSING' END,
           CASE WHEN a.enabled OR :kind = 'ERASURE' THEN NULL ELSE 'the application is disabled' END,
           CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM unnest(CAST(:tenants AS uuid[]), CAST(:requests AS uuid[])) AS r(tenant_id, request_id)
    CROSS JOIN application a
    WHERE CASE WHEN :kind = 'ERASURE' THEN a.takes_erasure ELSE a.takes_export END
    RETURNING request_id, status
    """
)


async def open_parts(db: AsyncSession, kind: DataRequestKind, requests: Sequence[DataRequest]) -> set[uuid.UUID]:
    """A part for every application taking part in this kind of request; the ids of the
    requests that now wait for one (one statement)."""
    if not requests:
        return set()
    rows = await db.execute(
        _OPEN,
        {
            "tenants": [r.tenant_id for r in requests],
            "requests": [r.id for r in requests],
            "kind": kind.value,
            "now": clock.now(),
        },
    )
    return {row.request_id for row in rows if row.status == PartStatus.PENDING}


@dataclass(frozen=True)
class Part:
    application_id: uuid.UUID
    application: str
    status: PartStatus
    reason: str | None
    updated_at: datetime


async def parts_of(db: AsyncSession, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Part]]:
    """Each request's parts with the applications' names: one statement for any number
    (none too, so that a page costs the same whatever it holds)."""
    rows = await db.execute(
        select(DataRequestPart, Application.name)  # type: ignore[call-overload]
        .join(Application, col(Application.id) == col(DataRequestPart.application_id))
        .where(col(DataRequestPart.request_id).in_(request_ids))
        .order_by(col(Application.name))
    )
    found: dict[uuid.UUID, list[Part]] = {rid: [] for rid in request_ids}
    for part, name in rows:
        found[part.request_id].append(Part(part.application_id, name, part.status, part.reason, part.updated_at))
    return found


async def _application_part(work: Work, request_id: str, kind: DataRequestKind) -> tuple[DataRequest, DataRequestPart]:
    """The calling application's part of this request, both locked; NOT_FOUND otherwise
    (a request it has no part in looks the same as none)."""
    application = work.applying()
    try:
        rid = uuid.UUID(request_id)
    except (ValueError, TypeError, AttributeError):
        rid = None
    not_found = UserFailure.of(
        ErrorCode.NOT_FOUND, _("No such data request for this application."), "input.dataRequestId"
    )
    if rid is None:
        raise not_found
    db = work.db
    part = (
        await db.execute(
            select(DataRequestPart)
            .where(
                col(DataRequestPart.request_id) == rid,
                col(DataRequestPart.application_id) == application.application_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if part is None:
        raise not_found
    request = await db.get(DataRequest, (part.tenant_id, rid), with_for_update=True, populate_existing=True)
    if request is None or request.kind != kind:
        raise not_found
    return request, part


async def confirm_erasure(work: Work, *, request_id: str) -> DataRequest:
    """The calling application has erased the subject. Idempotent: a second confirmation
    changes nothing. The request is COMPLETED when every application has confirmed."""
    request, part = await _application_part(work, request_id, DataRequestKind.ERASURE)
    if part.status == PartStatus.CONFIRMED:
        return request
    db, application = work.db, work.applying()
    now = clock.now()
    part.status, part.updated_at = PartStatus.CONFIRMED, now
    audit.record(
        db,
        tenant_id=request.tenant_id,
        action=actions.DATA_REQUEST_PART_CONFIRMED,
        meta=work.meta,
        actor_type=ActorType.APPLICATION,
        actor_id=application.application_id,
        target_type="data_request",
        target_id=request.id,
        changes={"application": {"new": application.name}},
    )
    await db.flush()
    await _complete_erasure_if_confirmed(db, request)
    return request


async def _complete_erasure_if_confirmed(db: AsyncSession, request: DataRequest) -> None:
    pending = await db.execute(
        select(col(DataRequestPart.application_id)).where(
            col(DataRequestPart.tenant_id) == request.tenant_id,
            col(DataRequestPart.request_id) == request.id,
            col(DataRequestPart.status) == PartStatus.PENDING,
        )
    )
    if pending.first() is not None or request.status != DataRequestStatus.PROCESSING:
        return
    request.status, request.completed_at = DataRequestStatus.COMPLETED, clock.now()
    audit.record(
        db,
        tenant_id=request.tenant_id,
        action=actions.DATA_REQUEST_COMPLETED,
        meta=SYSTEM_META,
        actor_type=ActorType.SYSTEM,
        target_type="data_request",
        target_id=request.id,
        changes={"kind": {"new": request.kind}},
    )
    await events.emit(db, events.DATA_REQUEST_COMPLETED, request.tenant_id, completed_data(request))
    await db.flush()


def completed_data(request: DataRequest) -> dict[str, Any]:
    return {
        "dataRequestId": request.id,
        "kind": request.kind,
        "status": request.status,
        "subjectId": request.subject_id,
        "completedAt": request.completed_at,
    }


async def deliver_export_part(work: Work, *, request_id: str, data: Any) -> DataRequest:
    """The calling application's part of an export: a JSON object or array, at most
    EXPORT_PART_MAX_BYTES. Delivering again replaces it while the export is not built."""
    if not isinstance(data, dict | list):
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("The part is a JSON object or array."), "input.data")
    try:
        # JSON has no Infinity or NaN (a GraphQL float literal such as 1e400 gives one):
        # the archive must stay JSON every reader parses.
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except ValueError:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("The part holds a number JSON cannot write (infinite or not a number)."),
            "input.data",
        ) from None
    if len(body) > work.settings.export_part_max_bytes:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _(
                "The part has %(size)s bytes; at most %(max)s are taken.",
                size=len(body),
                max=work.settings.export_part_max_bytes,
            ),
            "input.data",
        )
    request, part = await _application_part(work, request_id, DataRequestKind.EXPORT)
    if request.status != DataRequestStatus.PENDING or part.status == PartStatus.MISSING:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT, _("This export no longer waits for parts."), "input.dataRequestId"
        )
    application = work.applying()
    part.status, part.data, part.updated_at, part.reason = PartStatus.DELIVERED, body, clock.now(), None
    audit.record(
        work.db,
        tenant_id=request.tenant_id,
        action=actions.DATA_REQUEST_PART_DELIVERED,
        meta=work.meta,
        actor_type=ActorType.APPLICATION,
        actor_id=application.application_id,
        target_type="data_request",
        target_id=request.id,
        changes={"application": {"new": application.name}, "bytes": {"new": len(body)}},
    )
    await work.db.flush()
    await start_ready_exports(work.db)
    await work.db.refresh(request)  # the statement above may have moved it on
    return request


_MISSING_WHEN_UNDELIVERABLE = text(
    """
    UPDATE data_request_part p SET status = 'MISSING', updated_at = CAST(:now AS timestamptz),
           reason = 'the request for the part could not be delivered'
    FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id
    WHERE p.status = 'PENDING' AND d.status = 'FAILED' AND e.type = 'export.requested'
      AND d.application_id = p.application_id AND e.payload->'data'->>'dataRequestId' = p.request_id::text
      AND NOT EXISTS (SELECT 1 FROM webhook_delivery other WHERE other.event_id = e.id
                      AND other.application_id = p.application_id AND other.status IN ('PENDING', 'SUCCEEDED'))
    RETURNING p.tenant_id, p.request_id
    """
)
_MISSING_WHEN_LATE = text(
    """
    UPDATE data_request_part p SET status = 'MISSING', updated_at = CAST(:now AS timestamptz),
           reason = 'no part came in time'
    FROM data_request r
    WHERE p.status = 'PENDING' AND r.tenant_id = p.tenant_id AND r.id = p.request_id AND r.kind = 'EXPORT'
      AND p.created_at < CAST(:before AS timestamptz)
    RETURNING p.tenant_id, p.request_id
    """
)
# Exports waiting for parts that have none pending any more: claimed for building once.
_READY = text(
    """
    UPDATE data_request r SET status = 'PROCESSING'
    WHERE r.kind = 'EXPORT' AND r.status = 'PENDING' AND r.subject_id IS NOT NULL
      AND EXISTS (SELECT 1 FROM data_request_part p WHERE p.tenant_id = r.tenant_id AND p.request_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM data_request_part p
                      WHERE p.tenant_id = r.tenant_id AND p.request_id = r.id AND p.status = 'PENDING')
    RETURNING r.tenant_id, r.id
    """
)


async def recheck(db: AsyncSession, request_ids: Sequence[uuid.UUID]) -> None:
    """After an application is removed (its parts with it): erasures it alone held are
    complete, exports it alone held are built."""
    if not request_ids:
        return
    waiting = (
        await db.execute(
            select(DataRequest).where(
                col(DataRequest.id).in_(request_ids),
                col(DataRequest.status).in_((DataRequestStatus.PENDING, DataRequestStatus.PROCESSING)),
            )
        )
    ).scalars()
    for request in list(waiting):
        if request.kind == DataRequestKind.ERASURE:
            await _complete_erasure_if_confirmed(db, request)
            continue
        pending = await db.execute(
            select(col(DataRequestPart.application_id)).where(
                col(DataRequestPart.request_id) == request.id, col(DataRequestPart.status) == PartStatus.PENDING
            )
        )
        if request.status == DataRequestStatus.PENDING and request.subject_id and pending.first() is None:
            request.status = DataRequestStatus.PROCESSING
            await enqueue_many(
                db, BUILD_EXPORT_TASK, [{"tenant_id": str(request.tenant_id), "request_id": str(request.id)}]
            )
    await db.flush()


async def pending_requests_of(db: AsyncSession, application_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await db.execute(
        select(col(DataRequestPart.request_id)).where(
            col(DataRequestPart.application_id) == application_id, col(DataRequestPart.status) == PartStatus.PENDING
        )
    )
    return list(rows.scalars())


async def start_ready_exports(db: AsyncSession) -> int:
    ready = list(await db.execute(_READY))
    for row in ready:
        audit.record(
            db,
            tenant_id=row.tenant_id,
            action=actions.DATA_REQUEST_PROCESSING,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            target_type="data_request",
            target_id=row.id,
        )
    await enqueue_many(db, BUILD_EXPORT_TASK, [{"tenant_id": str(r.tenant_id), "request_id": str(r.id)} for r in ready])
    return len(ready)


async def settle(db: AsyncSession, settings_wait_hours: int) -> int:
    """Mark export parts missing whose request failed to reach the application or that
    did not come in time; start the exports that wait for nothing more. Returns how many
    exports were started."""
    now = clock.now()
    await db.execute(_MISSING_WHEN_UNDELIVERABLE, {"now": now})
    await db.execute(_MISSING_WHEN_LATE, {"now": now, "before": now - timedelta(hours=settings_wait_hours)})
    return await start_ready_exports(db)


async def export_parts(db: AsyncSession, tenant_id: uuid.UUID, request_id: uuid.UUID) -> list[tuple[str, Any]]:
    """(application name, its part's JSON bytes or a missing marker) for the archive."""
    rows = await db.execute(
        select(Application.name, DataRequestPart.status, DataRequestPart.data, DataRequestPart.reason)  # type: ignore[call-overload]
        .join(Application, col(Application.id) == col(DataRequestPart.application_id))
        .where(col(DataRequestPart.tenant_id) == tenant_id, col(DataRequestPart.request_id) == request_id)
        .order_by(col(Application.name))
    )
    parts: list[tuple[str, Any]] = []
    for name, status, data, reason in rows:
        if status == PartStatus.DELIVERED and data is not None:
            parts.append((name, bytes(data)))
        else:
            parts.append((name, {"missing": True, "reason": reason or "no part came"}))
    return parts


async def drop_for_subject_requests(db: AsyncSession, tenant_id: uuid.UUID, request_ids: Any) -> None:
    """Export parts hold personal data: they go when their subject is erased."""
    await db.execute(
        update(DataRequestPart)
        .where(col(DataRequestPart.tenant_id) == tenant_id, col(DataRequestPart.request_id).in_(request_ids))
        .where(col(DataRequestPart.data).is_not(None))
        .values(data=None)
    )
