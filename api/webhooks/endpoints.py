"""A tenant's own webhook endpoints (its SIEM, its automation), managed by its ADMINs and
OWNERs. An endpoint only ever receives its own tenant's events: deliveries are made for
the endpoints of the event's tenant (api.events), and every lookup here is by the
caller's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events, text
from api.accounts import tenants
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.security import stepup
from api.values import UNSET, Maybe
from api.webhooks import signing
from api.webhooks.targets import checked_url
from api.work import Work
from db.models import WebhookDelivery, WebhookEndpoint

MAX_TYPES = len(events.ALL_TYPES)


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def event_types(values: Sequence[str], *, allowed: Sequence[str], field: str) -> list[str]:
    """The subscribed types, each known and allowed here, once each, in catalogue order."""
    if not values:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Choose at least one event type."), field)
    if len(values) > 2 * MAX_TYPES:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("Too many event types."), field)
    unknown = sorted({v for v in values if v not in allowed})
    if unknown:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("Unknown event type %(type)r; the types are: %(types)s.", type=unknown[0][:64], types=", ".join(allowed)),
            field,
        )
    return [t for t in allowed if t in set(values)]


def _description(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return text.clean(value, field="input.description", what=_("Descriptions"), max_length=200)


async def visible(db: AsyncSession, tenant_id: uuid.UUID, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    eid = parse_id(endpoint_id)
    query = select(WebhookEndpoint).where(col(WebhookEndpoint.tenant_id) == tenant_id, col(WebhookEndpoint.id) == eid)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    endpoint = (await db.execute(query)).scalar_one_or_none() if eid else None
    if endpoint is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such endpoint."), "input.id")
    return endpoint


@dataclass(frozen=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str


async def create(work: Work, *, url: str, types: Sequence[str], description: str | None) -> WithSecret:
    actor, db, settings = work.admin(), work.db, work.settings
    await stepup.require_fresh(work)  # where the organisation's events (its people's data) go
    problems = []
    checked_types: list[str] = []
    clean_description = None
    try:
        checked_types = event_types(types, allowed=events.TENANT_TYPES, field="input.eventTypes")
    except UserFailure as failure:
        problems += failure.problems
    try:
        clean_description = _description(description)
    except UserFailure as failure:
        problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    target = await checked_url(url, field="input.url", allow_loopback=bool(settings.webhook_allow_loopback))
    await tenants.lock(db, actor.tenant_id)  # serialises the count
    count = (
        await db.execute(
            select(func.count()).select_from(WebhookEndpoint).where(col(WebhookEndpoint.tenant_id) == actor.tenant_id)
        )
    ).scalar_one()
    if count >= settings.webhook_endpoints_per_tenant:
        raise UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("An organisation has at most %(max)s endpoints.", max=settings.webhook_endpoints_per_tenant),
            "input.url",
        )
    secret, sealed = signing.new_secret(settings)
    endpoint = WebhookEndpoint(
        tenant_id=actor.tenant_id,
        url=target,
        description=clean_description,
        event_types=checked_types,
        secret_sealed=sealed,
        created_by=actor.user_id,
    )
    db.add(endpoint)
    await db.flush()
    _audit(
        work,
        actions.WEBHOOK_ENDPOINT_CREATED,
        endpoint,
        {"url": {"changed": True}, "event_types": {"new": checked_types}},
    )
    return WithSecret(endpoint, secret)


def _audit(work: Work, action: str, endpoint: WebhookEndpoint, changes: dict[str, object]) -> None:
    # A URL may carry a token of the receiver's: the log says that it changed, not what it is.
    audit.record(
        work.db,
        tenant_id=endpoint.tenant_id,
        action=action,
        meta=work.meta,
        actor=work.actor,
        target_type="webhook_endpoint",
        target_id=endpoint.id,
        changes=changes,
    )


async def update(
    work: Work,
    *,
    endpoint_id: str,
    url: Maybe[str | None] = UNSET,
    types: Maybe[Sequence[str] | None] = UNSET,
    description: Maybe[str | None] = UNSET,
    enabled: Maybe[bool | None] = UNSET,
) -> WebhookEndpoint:
    actor, db, settings = work.admin(), work.db, work.settings
    new_types = (
        event_types(types, allowed=events.TENANT_TYPES, field="input.eventTypes")
        if types not in (UNSET, None)
        else None
    )
    new_description = _description(description) if description is not UNSET else UNSET
    new_url = (
        await checked_url(url, field="input.url", allow_loopback=bool(settings.webhook_allow_loopback))
        if isinstance(url, str)
        else None
    )
    endpoint = await visible(db, actor.tenant_id, endpoint_id, lock=True)
    changes: dict[str, object] = {}
    if new_url is not None and new_url != endpoint.url:
        endpoint.url, changes["url"] = new_url, {"changed": True}
    if new_types is not None and new_types != endpoint.event_types:
        changes["event_types"] = {"old": endpoint.event_types, "new": new_types}
        endpoint.event_types = new_types
    if new_description is not UNSET and new_description != endpoint.description:
        endpoint.description, changes["description"] = new_description, {"changed": True}
    if enabled not in (UNSET, None) and enabled != endpoint.enabled:
        changes["enabled"] = {"old": endpoint.enabled, "new": enabled}
        endpoint.enabled = bool(enabled)
        endpoint.failing_since, endpoint.disabled_reason = None, None if enabled else "disabled by an administrator"
    if changes.keys() - {"description"}:
        await stepup.require_fresh(work)  # where events go, which, or whether
    if changes:
        endpoint.updated_at = clock.now()
        _audit(work, actions.WEBHOOK_ENDPOINT_UPDATED, endpoint, changes)
    await db.flush()
    return endpoint


async def delete(work: Work, *, endpoint_id: str) -> None:
    actor, db = work.admin(), work.db
    await stepup.require_fresh(work)  # a customer's copy of the audit chain may go there
    endpoint = await visible(db, actor.tenant_id, endpoint_id)
    # Its deliveries first, then the endpoint: the order in which a retry, the sender and
    # every audit event streamed to it (a new delivery referencing the endpoint) lock
    # them. Locking the endpoint first deadlocked with a retry whose audit event queued a
    # delivery to this very endpoint.
    where = (col(WebhookDelivery.tenant_id) == endpoint.tenant_id, col(WebhookDelivery.endpoint_id) == endpoint.id)
    await db.execute(sa_delete(WebhookDelivery).where(*where))
    gone = await db.execute(
        sa_delete(WebhookEndpoint)
        .where(col(WebhookEndpoint.tenant_id) == endpoint.tenant_id, col(WebhookEndpoint.id) == endpoint.id)
        .returning(col(WebhookEndpoint.id))
    )
    if gone.first() is None:  # deleted meanwhile
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such endpoint."), "input.id")
    db.expunge(endpoint)
    _audit(work, actions.WEBHOOK_ENDPOINT_DELETED, endpoint, {"url": {"changed": True}})
    await db.flush()


async def rotate_secret(work: Work, *, endpoint_id: str) -> WithSecret:
    """A new signing secret at once (shown once); deliveries from now on are signed with it."""
    actor, db = work.admin(), work.db
    await stepup.require_fresh(work)  # the new secret is shown to whoever asks
    endpoint = await visible(db, actor.tenant_id, endpoint_id, lock=True)
    secret, endpoint.secret_sealed = signing.new_secret(work.settings)
    endpoint.updated_at = clock.now()
    _audit(work, actions.WEBHOOK_ENDPOINT_SECRET_ROTATED, endpoint, {"secret": {"changed": True}})
    await db.flush()
    return WithSecret(endpoint, secret)


async def list_for_tenant(work: Work) -> list[WebhookEndpoint]:
    actor = work.admin()
    query = (
        select(WebhookEndpoint)
        .where(col(WebhookEndpoint.tenant_id) == actor.tenant_id)
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    return list((await work.db.execute(query)).scalars())
