"""Verifying the operators' log: its hash chain recomputed here from the stored fields,
independently of the trigger that wrote it (migration 0007's operator_audit_event_content),
streaming the rows. The log is never purged, so it must start at position 1."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import asyncpg

from api.audit.chain import content_hash, micros, optional


def row_hash(row: asyncpg.Record | dict[str, Any]) -> bytes:
    return content_hash(
        (
            bytes(row["prev_hash"]).hex(),
            str(row["chain_seq"]),
            str(row["id"]),
            micros(row["occurred_at"]),
            row["action"],
            row["actor_type"],
            optional(row["operator_id"]),
            optional(row["tenant_id"]),
            row["request_id"],
            row["changes_text"],
        )
    )


@dataclass(frozen=True)
class OperatorChainReport:
    events: int
    broken_event_id: int | None = None
    broken_chain_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


_ROWS = """
SELECT id, chain_seq, prev_hash, row_hash, occurred_at, action, actor_type, operator_id, tenant_id,
       request_id, changes::text AS changes_text
FROM operator_audit_event ORDER BY chain_seq
"""


async def _rows(conn: asyncpg.Connection) -> AsyncGenerator[asyncpg.Record, None]:
    async with conn.transaction(readonly=True):
        async for row in conn.cursor(_ROWS, prefetch=2000):
            yield row


async def verify(conn: asyncpg.Connection) -> OperatorChainReport:
    previous = b""
    expected_seq = 1
    count = 0
    async with aclosing(_rows(conn)) as rows:
        async for row in rows:
            count += 1
            prev_hash, stored = bytes(row["prev_hash"]), bytes(row["row_hash"])
            problem = None
            if row["chain_seq"] != expected_seq:
                problem = f"chain position {expected_seq} is missing"
            elif prev_hash != previous:
                problem = "does not link to the event before it"
            elif row_hash(row) != stored:
                problem = "its content does not match its hash"
            if problem is not None:
                return OperatorChainReport(count, row["id"], row["chain_seq"], problem)
            previous, expected_seq = stored, row["chain_seq"] + 1
    return OperatorChainReport(count)
