"""Events for the world outside: the types, their payloads' envelope, and emitting them
into the outbox in the caller's transaction (a rolled-back change emits nothing).

An event is stored only when some receiver wants its type: a connected application
subscribed to it (or, for `user.erased` and `export.requested`, taking part in erasure or
export), or an endpoint of the event's tenant subscribed to it; a delivery is queued for
each of those that is enabled. One statement for any number of events. `audit.event`
is emitted by the database itself for every audit event (migration 0008)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock

USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DISABLED = "user.disabled"
USER_ERASED = "user.erased"
CONSENT_GRANTED = "consent.granted"
CONSENT_WITHDRAWN = "consent.withdrawn"
DATA_REQUEST_CREATED = "data_request.created"
DATA_REQUEST_COMPLETED = "data_request.completed"
TENANT_CLOSED = "tenant.closed"
AUDIT_EVENT = "audit.event"
# Only to connected applications that take part in export: "send your part".
EXPORT_REQUESTED = "export.requested"

DESCRIPTIONS = {
    USER_CREATED: "An account was added (invited, or its organisation founded). Carries username, email, display name, role, status.",
    USER_UPDATED: "An account's profile, email, role or status changed. Carries the account as it is now and which fields changed.",
    USER_DISABLED: "An administrator disabled an account.",
    USER_ERASED: "An account was erased; receivers that take part in erasure confirm theirs (confirmErasure).",
    CONSENT_GRANTED: "A consent was given for a purpose (its version).",
    CONSENT_WITHDRAWN: "A consent was withdrawn.",
    DATA_REQUEST_CREATED: "A data subject request (export or erasure) was filed.",
    DATA_REQUEST_COMPLETED: "A data subject request was fulfilled.",
    TENANT_CLOSED: "An organisation closed: every account of it is erased.",
    AUDIT_EVENT: "Every audit event of a tenant, with its chain position and hashes, so that the receiver can verify its copy of the chain.",
    EXPORT_REQUESTED: "Applications taking part in export: send your part of the subject's export (deliverExportPart).",
}
# What tenant endpoints may subscribe to (export requests go to connected applications only).
TENANT_TYPES = tuple(t for t in DESCRIPTIONS if t != EXPORT_REQUESTED)
ALL_TYPES = tuple(DESCRIPTIONS)


@dataclass(frozen=True)
class Event:
    type: str
    tenant_id: uuid.UUID
    data: dict[str, Any]
    # The account it is about: erasing the account deletes its events not yet delivered.
    subject_id: uuid.UUID | None = None


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def envelope(event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The body receivers get (Standard Webhooks' shape): type, timestamp, data."""
    return json.dumps(
        {"type": event_type, "timestamp": _plain(occurred_at), "data": data}, default=_plain, separators=(",", ":")
    )


_EMIT = text(
    """
    WITH input AS (
      SELECT i.id, i.tenant_id, i.type, i.payload::jsonb AS payload, i.subject_id
      FROM unnest(CAST(:ids AS uuid[]), CAST(:tenants AS uuid[]), CAST(:types AS text[]),
                  CAST(:payloads AS text[]), CAST(:subjects AS uuid[])) AS i(id, tenant_id, type, payload, subject_id)
    ), targets AS (
      SELECT i.id AS event_id, a.id AS application_id, NULL::uuid AS endpoint_id, a.enabled
      FROM input i JOIN application a
        ON i.type = ANY(a.event_types)
        OR (i.type = 'user.erased' AND a.takes_erasure)
        OR (i.type = 'export.requested' AND a.takes_export)
      UNION ALL
      SELECT i.id, NULL, w.id, w.enabled
      FROM input i JOIN webhook_endpoint w ON w.tenant_id = i.tenant_id AND i.type = ANY(w.event_types)
    ), stored AS (
      INSERT INTO webhook_event (id, tenant_id, type, payload, subject_id, occurred_at)
      SELECT i.id, i.tenant_id, i.type, i.payload, i.subject_id, CAST(:now AS timestamptz)
      FROM input i WHERE EXISTS (SELECT 1 FROM targets t WHERE t.event_id = i.id)
      RETURNING id, tenant_id
    )
    INSERT INTO webhook_delivery (id, event_id, application_id, tenant_id, endpoint_id, status, next_attempt_at, created_at)
    SELECT gen_random_uuid(), t.event_id, t.application_id, CASE WHEN t.endpoint_id IS NULL THEN NULL ELSE s.tenant_id END,
           t.endpoint_id, 'PENDING', CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM targets t JOIN stored s ON s.id = t.event_id
    WHERE t.enabled
    """
)


async def emit_many(db: AsyncSession, events: Sequence[Event]) -> None:
    """Queue the events for their receivers in the caller's transaction: one statement."""
    if not events:
        return
    now = clock.now()
    ids = [uuid.uuid4() for _ in events]
    await db.execute(
        _EMIT,
        {
            "ids": ids,
            "tenants": [e.tenant_id for e in events],
            "types": [e.type for e in events],
            "payloads": [envelope(e.type, now, {"tenantId": e.tenant_id, **e.data}) for e in events],
            "subjects": [e.subject_id for e in events],
            "now": now,
        },
    )


async def emit(
    db: AsyncSession, event_type: str, tenant_id: uuid.UUID, data: dict[str, Any], subject_id: uuid.UUID | None = None
) -> None:
    await emit_many(db, [Event(event_type, tenant_id, data, subject_id)])


def user_data(user: Any) -> dict[str, Any]:
    """What receivers need to know an account by: ids, the names it goes by, its role."""
    return {
        "userId": user.id,
        "username": user.username,
        "email": user.email,
        "displayName": user.display_name,
        "role": user.role,
        "status": user.status,
    }
