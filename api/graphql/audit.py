"""GraphQL surface of the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.audit import query
from api.audit.query import EventFilter, EventPage, EventRow
from api.graphql.types import Connection, Info
from db import models
from db.enums import ActorType


@strawberry.type(name="AuditEvent")
class AuditEventType:
    id: strawberry.ID
    occurred_at: datetime
    action: str = strawberry.field(
        description="Dotted name, e.g. user.created, session.created, login.failed, consent.granted, mfa.enabled."
    )
    actor_type: ActorType
    actor_id: strawberry.ID | None
    target_type: str | None
    target_id: strawberry.ID | None
    ip_address: str | None
    changes: JSON | None = strawberry.field(
        description="Names of changed fields with old and new values; personal values (email, username, names) are named but not stored."
    )
    request_id: str | None

    @classmethod
    def of(cls, e: models.AuditEvent | EventRow, *, subject_id: uuid.UUID | None = None) -> AuditEventType:
        """As an administrator sees it; with `subject_id`, as that user sees events by or
        about them: the network data (IP) of their own actions only, not of what others
        (an administrator, an anonymous caller) did about them."""
        own = e.actor_type == ActorType.USER and e.actor_id == subject_id
        shown_ip = e.ip_address if subject_id is None or own else None
        return cls(
            id=strawberry.ID(str(e.id)),
            occurred_at=e.occurred_at,
            action=e.action,
            actor_type=e.actor_type,
            actor_id=strawberry.ID(str(e.actor_id)) if e.actor_id else None,
            target_type=e.target_type,
            target_id=strawberry.ID(str(e.target_id)) if e.target_id else None,
            ip_address=str(shown_ip) if shown_ip else None,
            changes=e.changes,  # type: ignore[arg-type]  # strawberry's JSON scalar is a NewType of object
            request_id=e.request_id,
        )


def event_page(page: EventPage, *, subject_id: uuid.UUID | None = None) -> Connection[AuditEventType]:
    return Connection.page(
        [AuditEventType.of(e, subject_id=subject_id) for e in page.events], page.cursors, page.has_next_page
    )


@strawberry.input
class AuditEventFilter:
    action: str | None = None
    actor_id: strawberry.ID | None = None
    target_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.type
class AuditQuery:
    @strawberry.field(description="ADMIN or OWNER. Newest first.")
    async def audit_events(
        self, info: Info, first: int | None = 50, after: str | None = None, filter: AuditEventFilter | None = None
    ) -> Connection[AuditEventType]:
        where = EventFilter(**vars(filter)) if filter else EventFilter()
        page = await info.context.read(
            lambda work: query.search(work, first=50 if first is None else first, after=after, where=where)
        )
        return event_page(page)
