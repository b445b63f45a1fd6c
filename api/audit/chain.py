"""Verifying each tenant's hash chain, recomputed here from the stored fields
(independently of the database trigger that wrote it), streaming the rows."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from api.audit.checkpoints import Checkpoint, CheckpointKeys

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _field(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def content_hash(fields: Sequence[str | None]) -> bytes:
    """SHA-256 of the fields as migration 0004's audit_field() joins them (length-prefixed,
    '-' for null); the operators' log (api.operators.chain) hashes its rows the same way."""
    return hashlib.sha256("".join(_field(v) for v in fields).encode()).digest()


def micros(moment: datetime) -> str:
    """A timestamp as the trigger hashes it: whole microseconds since the epoch."""
    return str((moment - _EPOCH) // timedelta(microseconds=1))


def optional(value: object) -> str | None:
    return None if value is None else str(value)


def row_hash(row: asyncpg.Record | dict[str, Any]) -> bytes:
    return content_hash(
        (
            bytes(row["prev_hash"]).hex(),
            str(row["tenant_id"]),
            str(row["chain_seq"]),
            str(row["id"]),
            micros(row["occurred_at"]),
            row["action"],
            row["actor_type"],
            optional(row["actor_id"]),
            row["target_type"],
            optional(row["target_id"]),
            row["request_id"],
            row["changes_text"],
        )
    )


@dataclass(frozen=True)
class ChainReport:
    tenant_id: uuid.UUID
    slug: str
    events: int
    broken_event_id: int | None = None
    broken_chain_seq: int | None = None
    reason: str | None = None
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is None


_ROWS = """
SELECT id, tenant_id, chain_seq, prev_hash, row_hash, occurred_at, action, actor_type, actor_id,
       target_type, target_id, request_id, changes::text AS changes_text
FROM audit_event WHERE tenant_id = $1 ORDER BY chain_seq
"""


async def _rows(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> AsyncGenerator[asyncpg.Record, None]:
    async with conn.transaction(readonly=True):
        async for row in conn.cursor(_ROWS, tenant_id, prefetch=2000):
            yield row


async def _purged_through(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> int:
    """The newest chain position removed by the retention path (0 when none was)."""
    value = await conn.fetchval(
        "SELECT max((changes->'through_seq'->>'new')::bigint) FROM audit_event WHERE tenant_id = $1 AND action = 'audit.purged'",
        tenant_id,
    )
    return int(value or 0)


async def _checkpoints(conn: asyncpg.Connection, tenant_id: uuid.UUID) -> list[Checkpoint]:
    rows = await conn.fetch(
        "SELECT tenant_id, chain_seq, row_hash, created_at, key_id, prev_mac, mac FROM audit_checkpoint "
        "WHERE tenant_id = $1 ORDER BY chain_seq",
        tenant_id,
    )
    return [
        Checkpoint(
            r["tenant_id"],
            r["chain_seq"],
            bytes(r["row_hash"]),
            r["created_at"],
            r["key_id"],
            bytes(r["prev_mac"]),
            bytes(r["mac"]),
        )
        for r in rows
    ]


def _forged_checkpoint(checkpoints: list[Checkpoint], keys: CheckpointKeys) -> Checkpoint | None:
    """The first checkpoint whose signature or link to the one before does not hold."""
    previous = b""
    for checkpoint in checkpoints:
        if checkpoint.prev_mac != previous or not keys.valid(checkpoint):
            return checkpoint
        previous = checkpoint.mac
    return None


async def verify_tenant(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, slug: str, keys: CheckpointKeys | None = None
) -> ChainReport:
    checkpoints = await _checkpoints(conn, tenant_id) if keys is not None else []
    if keys is not None and (forged := _forged_checkpoint(checkpoints, keys)) is not None:
        return ChainReport(
            tenant_id,
            slug,
            0,
            None,
            forged.chain_seq,
            "the checkpoint there is not signed with this service's key or was unlinked",
            len(checkpoints),
        )
    anchors = {c.chain_seq: c for c in checkpoints}
    previous: bytes | None = None
    expected_seq: int | None = None
    last_seq = 0
    count = 0
    purged = await _purged_through(conn, tenant_id)
    # Closed at once when the loop returns early: the next query needs the connection.
    async with aclosing(_rows(conn, tenant_id)) as rows:
        async for row in rows:
            count += 1
            prev_hash, stored = bytes(row["prev_hash"]), bytes(row["row_hash"])
            problem = None
            if expected_seq is None:
                # The oldest kept event: either the chain's start, or right after what retention removed.
                if row["chain_seq"] != 1 and row["chain_seq"] != purged + 1:
                    problem = f"events before chain position {row['chain_seq']} are missing"
            elif row["chain_seq"] != expected_seq:
                problem = f"chain position {expected_seq} is missing"
            elif prev_hash != previous:
                problem = "does not link to the event before it"
            if problem is None and row_hash(row) != stored:
                problem = "its content does not match its hash"
            anchor = anchors.get(row["chain_seq"])
            if problem is None and anchor is not None and anchor.row_hash != stored:
                problem = f"the chain was rewritten: it differs from the signed checkpoint of {anchor.created_at:%Y-%m-%d %H:%M} UTC"
            if problem is not None:
                return ChainReport(tenant_id, slug, count, row["id"], row["chain_seq"], problem, len(checkpoints))
            previous, expected_seq, last_seq = stored, row["chain_seq"] + 1, row["chain_seq"]
    if checkpoints and checkpoints[-1].chain_seq > last_seq and checkpoints[-1].chain_seq > purged:
        return ChainReport(
            tenant_id,
            slug,
            count,
            None,
            checkpoints[-1].chain_seq,
            f"the chain was cut short: it ends at position {last_seq}, a signed checkpoint names position "
            f"{checkpoints[-1].chain_seq}",
            len(checkpoints),
        )
    return ChainReport(tenant_id, slug, count, checkpoints=len(checkpoints))


async def verify(
    conn: asyncpg.Connection, slug: str | None = None, keys: CheckpointKeys | None = None
) -> list[ChainReport]:
    tenants = await conn.fetch(
        "SELECT id, slug FROM tenant WHERE $1::text IS NULL OR lower(slug) = lower($1) ORDER BY slug", slug
    )
    return [await verify_tenant(conn, t["id"], t["slug"], keys) for t in tenants]


__all__ = ["ChainReport", "row_hash", "verify", "verify_tenant"]
