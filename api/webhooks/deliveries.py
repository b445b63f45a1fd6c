"""Deliveries as their owners see them (a tenant's administrators for its endpoints,
operators for applications): the list with each attempt, a retry by hand, a replay from a
point in time; what happens when a receiver is disabled; and purging old history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.audit import actions
from api.audit import service as audit
from api.errors import BadInput, ErrorCode, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_emails
from api.operators import log as operator_log
from api.pagination import check_first, decode_cursor, encode_cursor
from api.request_meta import SYSTEM_META
from api.webhooks import applications, endpoints
from api.webhooks.endpoints import parse_id
from api.work import Work
from db.enums import AccountStatus, ActorType, DeliveryStatus, Role
from db.models import (
    Application,
    Operator,
    Tenant,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

MAX_REPLAY = 10_000


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]
    cursor: str


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[DeliveryView]
    has_next_page: bool


async def _page(
    db: AsyncSession, where: list[object], *, first: int, after: str | None, status: DeliveryStatus | None
) -> DeliveryPage:
    check_first(first)
    query = select(WebhookDelivery, WebhookEvent.type).join(  # type: ignore[call-overload]
        WebhookEvent, col(WebhookEvent.id) == col(WebhookDelivery.event_id)
    )
    for condition in where:
        query = query.where(condition)
    if status is not None:
        query = query.where(col(WebhookDelivery.status) == status)
    if after:
        when, did = decode_cursor(after, "datetime", "uuid")
        query = query.where(tuple_(col(WebhookDelivery.created_at), col(WebhookDelivery.id)) < tuple_(when, did))
    rows = (
        await db.execute(
            query.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()).limit(first + 1)
        )
    ).all()
    page = rows[:first]
    ids = [row[0].id for row in page]
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for attempt in (
            await db.execute(
                select(WebhookAttempt)
                .where(col(WebhookAttempt.delivery_id).in_(ids))
                .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.id))
            )
        ).scalars():
            attempts[attempt.delivery_id].append(attempt)
    views = [
        DeliveryView(d, event_type, attempts[d.id], encode_cursor(d.created_at.isoformat(), str(d.id)))
        for d, event_type in page
    ]
    return DeliveryPage(views, len(rows) > first)


async def for_endpoint(
    work: Work, endpoint: WebhookEndpoint, *, first: int, after: str | None, status: DeliveryStatus | None
) -> DeliveryPage:
    actor = work.admin()
    if endpoint.tenant_id != actor.tenant_id:
        raise BadInput(_("No such endpoint."))
    return await _page(
        work.db,
        [col(WebhookDelivery.tenant_id) == endpoint.tenant_id, col(WebhookDelivery.endpoint_id) == endpoint.id],
        first=first,
        after=after,
        status=status,
    )


async def for_application(
    work: Work, application_id: uuid.UUID, *, first: int, after: str | None, status: DeliveryStatus | None
) -> DeliveryPage:
    work.operating()
    return await _page(
        work.db, [col(WebhookDelivery.application_id) == application_id], first=first, after=after, status=status
    )


async def retry(work: Work, *, delivery_id: str) -> WebhookDelivery:
    """One more attempt now: of a tenant's endpoint delivery (its ADMIN or OWNER) or of an
    application's (an operator). A delivery in flight is left as it is."""
    did = parse_id(delivery_id)
    not_found = UserFailure.of(ErrorCode.NOT_FOUND, _("No such delivery."), "input.id")
    delivery = await work.db.get(WebhookDelivery, did, with_for_update=True, populate_existing=True) if did else None
    if delivery is None:
        raise not_found
    if work.operator is not None:
        if delivery.application_id is None:
            raise not_found
    else:
        actor = work.admin()
        if delivery.tenant_id != actor.tenant_id:
            raise not_found
    now = clock.now()
    if delivery.status == DeliveryStatus.PENDING and delivery.locked_until is not None and delivery.locked_until > now:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("This delivery is being attempted right now."), "input.id")
    delivery.status, delivery.next_attempt_at, delivery.finished_at = DeliveryStatus.PENDING, now, None
    changes = {"delivery_id": {"new": str(delivery.id)}}
    if work.operator is not None:
        operator_log.record(
            work.db,
            action=actions.WEBHOOK_DELIVERY_RETRIED,
            meta=work.meta,
            operator_id=work.operator.operator_id,
            changes={**changes, "application_id": {"new": str(delivery.application_id)}},
        )
    else:
        assert delivery.tenant_id is not None
        audit.record(
            work.db,
            tenant_id=delivery.tenant_id,
            action=actions.WEBHOOK_DELIVERY_RETRIED,
            meta=work.meta,
            actor=work.actor,
            target_type="webhook_endpoint",
            target_id=delivery.endpoint_id,
            changes=changes,
        )
    await work.db.flush()
    # Wakes the sender at commit (the trigger only fires on inserts).
    await work.db.execute(text("SELECT pg_notify('webhook_delivery', '')"))
    return delivery


_REPLAY_ENDPOINT = text(
    """
    INSERT INTO webhook_delivery (id, event_id, application_id, tenant_id, endpoint_id, status, next_attempt_at, created_at)
    SELECT gen_random_uuid(), e.id, NULL, :tenant, :endpoint, 'PENDING', CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM webhook_event e
    WHERE e.tenant_id = :tenant AND e.occurred_at >= CAST(:since AS timestamptz) AND e.type = ANY(CAST(:types AS text[]))
      AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_id = e.id AND d.endpoint_id = :endpoint
                      AND d.tenant_id = :tenant AND d.status IN ('SUCCEEDED', 'PENDING'))
    ORDER BY e.occurred_at LIMIT :limit
    RETURNING id
    """
)
_REPLAY_APPLICATION = text(
    """
    INSERT INTO webhook_delivery (id, event_id, application_id, tenant_id, endpoint_id, status, next_attempt_at, created_at)
    SELECT gen_random_uuid(), e.id, :application, NULL, NULL, 'PENDING', CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM webhook_event e
    WHERE e.occurred_at >= CAST(:since AS timestamptz)
      AND (e.type = ANY(CAST(:types AS text[])) OR (e.type = 'user.erased' AND :erasure) OR (e.type = 'export.requested' AND :export))
      AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_id = e.id AND d.application_id = :application
                      AND d.status IN ('SUCCEEDED', 'PENDING'))
    ORDER BY e.occurred_at LIMIT :limit
    RETURNING id
    """
)


def _since(since: datetime, history_days: int) -> datetime:
    if since.tzinfo is None:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Give the time with its offset (UTC)."), "input.since")
    if since < clock.now() - timedelta(days=history_days):
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Events are kept for %(days)s days; replay from within them.", days=history_days),
            "input.since",
        )
    return since


async def replay_endpoint(work: Work, *, endpoint_id: str, since: datetime) -> int:
    """Deliver again every event since `since` that the endpoint wants and did not get
    (failed, or made while it was disabled); at most MAX_REPLAY. The number queued."""
    actor = work.admin()
    since = _since(since, work.settings.webhook_history_days)
    endpoint = await endpoints.visible(work.db, actor.tenant_id, endpoint_id, lock=True)
    # Nothing from before the endpoint existed: what it may receive must not depend on
    # which other receivers happened to keep an event.
    since = max(since, endpoint.created_at)
    rows = await work.db.execute(
        _REPLAY_ENDPOINT,
        {
            "tenant": endpoint.tenant_id,
            "endpoint": endpoint.id,
            "since": since,
            "types": endpoint.event_types,
            "now": clock.now(),
            "limit": MAX_REPLAY,
        },
    )
    count = len(rows.all())
    audit.record(
        work.db,
        tenant_id=endpoint.tenant_id,
        action=actions.WEBHOOK_REPLAYED,
        meta=work.meta,
        actor=actor,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        changes={"since": {"new": since.isoformat()}, "deliveries": {"new": count}},
    )
    return count


async def replay_application(work: Work, *, application_id: str, since: datetime) -> int:
    operator = work.operating()
    since = _since(since, work.settings.webhook_history_days)
    application = await applications.get(work.db, application_id, lock=True)
    since = max(since, application.created_at)  # as for endpoints: nothing from before it
    rows = await work.db.execute(
        _REPLAY_APPLICATION,
        {
            "application": application.id,
            "since": since,
            "types": application.event_types,
            "erasure": application.takes_erasure,
            "export": application.takes_export,
            "now": clock.now(),
            "limit": MAX_REPLAY,
        },
    )
    count = len(rows.all())
    operator_log.record(
        work.db,
        action=actions.WEBHOOK_REPLAYED,
        meta=work.meta,
        operator_id=operator.operator_id,
        changes={
            "application_id": {"new": str(application.id)},
            "since": {"new": since.isoformat()},
            "deliveries": {"new": count},
        },
    )
    return count


async def receiver_disabled(
    work: Work, *, application_id: uuid.UUID | None, tenant_id: uuid.UUID | None, endpoint_id: uuid.UUID | None
) -> None:
    """A receiver failing for days was disabled: recorded, and its owner emailed (an
    endpoint's: who made it, else the tenant's active owners; an application's: the
    operators)."""
    db, settings = work.db, work.settings
    if application_id is not None:
        application = await db.get(Application, application_id)
        if application is None:
            return
        operator_log.record(
            db,
            action=actions.APPLICATION_DISABLED,
            meta=SYSTEM_META,
            operator_id=None,
            changes={"application_id": {"new": str(application_id)}, "reason": {"new": application.disabled_reason}},
        )
        operators = (await db.execute(select(Operator.email).where(col(Operator.disabled).is_(False)))).scalars()  # type: ignore[call-overload]
        # The vendor's staff read the operator console's language: English.
        readers = [templates.Recipient(address) for address in operators]
        is_application, name = True, application.name
    else:
        assert tenant_id is not None and endpoint_id is not None
        endpoint = await db.get(WebhookEndpoint, (tenant_id, endpoint_id))
        if endpoint is None:
            return
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.WEBHOOK_ENDPOINT_DISABLED,
            meta=SYSTEM_META,
            actor_type=ActorType.SYSTEM,
            target_type="webhook_endpoint",
            target_id=endpoint_id,
            changes={"reason": {"new": endpoint.disabled_reason}},
        )
        people = select(User).where(col(User.tenant_id) == tenant_id, col(User.status) == AccountStatus.ACTIVE)
        creator = list((await db.execute(people.where(col(User.id) == endpoint.created_by))).scalars())
        tenant = await db.get(Tenant, tenant_id)
        chosen = creator or list((await db.execute(people.where(col(User.role) == Role.OWNER))).scalars())
        readers = [templates.recipient(user, tenant) for user in chosen]
        is_application, name = False, endpoint.description or endpoint.url.split("?")[0]
    await queue_emails(
        db,
        settings,
        [
            (
                templates.receiver_disabled(
                    to=to, application=is_application, name=name, days=settings.webhook_disable_after_hours // 24
                ),
                None,
            )
            for to in readers
        ],
    )


async def purge_history(db: AsyncSession, history_days: int) -> dict[str, int]:
    """Attempts older than the history, and events whose every delivery finished before it
    (with those deliveries), go."""
    cutoff = clock.now() - timedelta(days=history_days)
    attempts = await db.execute(delete(WebhookAttempt).where(col(WebhookAttempt.attempted_at) < cutoff))
    events = await db.execute(
        text(
            """
            DELETE FROM webhook_event e WHERE e.occurred_at < CAST(:cutoff AS timestamptz)
              AND NOT EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.event_id = e.id
                              AND (d.status = 'PENDING' OR d.finished_at >= CAST(:cutoff AS timestamptz)))
            """
        ),
        {"cutoff": cutoff},
    )
    return {"attempts": int(attempts.rowcount or 0), "events": int(events.rowcount or 0)}  # type: ignore[attr-defined]
