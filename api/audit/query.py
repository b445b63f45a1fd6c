"""Reading the audit log: an administrator's search over their tenant, and a user's own
security activity. Newest first, keyset-paginated on the chain position, which only
grows in commit order, so pages stay stable while new events arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.audit import actions
from api.errors import BadInput
from api.i18n import _
from api.pagination import check_first, decode_cursor, encode_cursor
from api.work import Work
from db.enums import ActorType
from db.models import AuditEvent


@dataclass(frozen=True)
class EventFilter:
    action: str | None = None
    actor_id: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class EventRow(NamedTuple):
    """An audit event as a page shows it, read as a plain record (no ORM)."""

    id: int | None
    occurred_at: datetime
    action: str
    actor_type: ActorType
    actor_id: uuid.UUID | None
    target_type: str | None
    target_id: uuid.UUID | None
    ip_address: object
    changes: dict[str, Any] | None
    request_id: str | None
    chain_seq: int | None


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent] | list[EventRow]
    cursors: list[str]
    has_next_page: bool


def _decode_cursor(cursor: str) -> int:
    [seq] = decode_cursor(cursor, "int")
    return int(seq)


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadInput(_("`%(name)s` is not a valid id.", name=name)) from None


async def _page(db: AsyncSession, query: Select[AuditEvent], first: int, after: str | None) -> EventPage:
    check_first(first)
    if after:
        query = query.where(col(AuditEvent.chain_seq) < _decode_cursor(after))
    rows = list((await db.execute(query.order_by(col(AuditEvent.chain_seq).desc()).limit(first + 1))).scalars())
    page = rows[:first]
    return EventPage(page, [encode_cursor(e.chain_seq) for e in page], len(rows) > first)


_COLUMNS = (
    "id, occurred_at, action, actor_type, actor_id, target_type, target_id, ip_address, changes, request_id, chain_seq"
)


async def search(work: Work, *, first: int, after: str | None, where: EventFilter) -> EventPage:
    """One statement on plain records. Only the filters given are in its text (a few
    distinct statements, each prepared once), so each keeps its own index path."""
    actor, db = work.admin(), work.db
    check_first(first)
    conditions: list[str] = ["tenant_id = $1"]
    args: list[object] = [actor.tenant_id]

    def bound(condition: str, value: object) -> None:
        args.append(value)
        conditions.append(condition.replace("?", f"${len(args)}"))

    if where.action:
        bound("action = ?", where.action)
    if where.actor_id:
        bound("actor_id = ?", _uuid(where.actor_id, "actorId"))
    if where.target_id:
        bound("target_id = ?", _uuid(where.target_id, "targetId"))
    for name, moment in (("since", where.since), ("until", where.until)):
        if moment is not None:
            _check_moment(moment, name)
    # The chain trigger keeps occurred_at non-decreasing along chain_seq, so a time bound
    # is a chain position bound: one index probe each, then every filter is a range scan.
    if where.since:
        bound("chain_seq >= ?", await _first_seq_at_or_after(db, actor.tenant_id, where.since))
    if where.until:
        bound("chain_seq < ?", await _first_seq_at_or_after(db, actor.tenant_id, where.until))
    if after:
        bound("chain_seq < ?", _decode_cursor(after))
    args.append(first + 1)
    sql = f"SELECT {_COLUMNS} FROM audit_event WHERE {' AND '.join(conditions)} ORDER BY chain_seq DESC LIMIT ${len(args)}"
    rows = [_row(r) for r in await work.fetch(sql, *args)]
    page = rows[:first]
    return EventPage(page, [encode_cursor(e.chain_seq) for e in page], len(rows) > first)


_ACTOR_TYPES: dict[str, ActorType] = {member.value: member for member in ActorType}


def _row(r: Any) -> EventRow:
    changes = r["changes"]
    return EventRow(
        r["id"],
        r["occurred_at"],
        r["action"],
        _ACTOR_TYPES[r["actor_type"]],
        r["actor_id"],
        r["target_type"],
        r["target_id"],
        r["ip_address"],
        orjson.loads(changes) if isinstance(changes, str) else changes,
        r["request_id"],
        r["chain_seq"],
    )


def _check_moment(moment: datetime, name: str) -> None:
    try:
        if moment.tzinfo is not None and datetime(1970, 1, 1, tzinfo=UTC) <= moment <= datetime(9999, 1, 1, tzinfo=UTC):
            return
    except OverflowError:
        pass
    raise BadInput(_("`%(name)s` must be a time with a zone between 1970 and 9999.", name=name))


async def _first_seq_at_or_after(db: AsyncSession, tenant_id: uuid.UUID, moment: datetime) -> int:
    """The chain position of the first event at or after `moment` (one past the end if none)."""
    found = await db.execute(
        select(col(AuditEvent.chain_seq))
        .where(col(AuditEvent.tenant_id) == tenant_id, col(AuditEvent.occurred_at) >= moment)
        .order_by(col(AuditEvent.occurred_at), col(AuditEvent.chain_seq))
        .limit(1)
    )
    seq = found.scalar_one_or_none()
    if seq is not None:
        return int(seq)
    last = await db.execute(select(func.max(col(AuditEvent.chain_seq))).where(col(AuditEvent.tenant_id) == tenant_id))
    return int(last.scalar_one() or 0) + 1


async def activity(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, first: int, after: str | None
) -> EventPage:
    """Security-relevant events by or about this user."""
    query = select(AuditEvent).where(
        col(AuditEvent.tenant_id) == tenant_id,
        or_(col(AuditEvent.actor_id) == user_id, col(AuditEvent.target_id) == user_id),
        col(AuditEvent.action).in_(sorted(actions.SECURITY)),
    )
    return await _page(db, query, first, after)
