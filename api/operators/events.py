"""Reading the operators' log (operators only): newest first, keyset-paginated on the
chain position, which only grows in commit order, so pages stay stable while new events
arrive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from api.errors import BadInput
from api.i18n import _
from api.pagination import check_first, decode_cursor, encode_cursor
from api.work import Work
from db.models import OperatorAuditEvent


@dataclass(frozen=True)
class OperatorEventPage:
    events: list[OperatorAuditEvent]
    cursors: list[str]
    has_next_page: bool


async def page(work: Work, *, first: int, after: str | None, tenant_id: str | None) -> OperatorEventPage:
    work.operating()
    check_first(first)
    query = select(OperatorAuditEvent)
    if tenant_id is not None:
        try:
            query = query.where(col(OperatorAuditEvent.tenant_id) == uuid.UUID(str(tenant_id)))
        except ValueError:
            raise BadInput(_("`tenantId` is not a valid id.")) from None
    if after:
        [seq] = decode_cursor(after, "int")
        query = query.where(col(OperatorAuditEvent.chain_seq) < seq)
    query = query.order_by(col(OperatorAuditEvent.chain_seq).desc()).limit(first + 1)
    rows = list((await work.db.execute(query)).scalars())
    shown = rows[:first]
    return OperatorEventPage(shown, [encode_cursor(e.chain_seq) for e in shown], len(rows) > first)
