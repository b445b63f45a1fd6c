"""Signed checkpoints of each tenant's audit chain.

The chain's hashes are computed by the database, so someone with write access to it can
rewrite an event and recompute every hash after it. A checkpoint is the chain head (its
position and row hash) as the application saw it, signed with an HMAC under a key derived
from SECRET_KEY, which the database never holds, and linked to the checkpoint before it.
`verify-audit` then finds an event rewritten, or a chain cut short, anywhere up to the
latest checkpoint. Checkpoints are made by a periodic job (and `python -m api
checkpoint-audit`), and each one is also written to the log, a copy outside the database."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock

log = logging.getLogger("api.audit.checkpoints")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Checkpoint:
    tenant_id: uuid.UUID
    chain_seq: int
    row_hash: bytes
    created_at: datetime
    key_id: str
    prev_mac: bytes
    mac: bytes


class CheckpointKeys:
    """HMAC keys derived from SECRET_KEY (and its fallbacks, to verify old checkpoints)."""

    def __init__(self, secret_keys: list[bytes]) -> None:
        self._keys: dict[str, bytes] = {}
        for secret in secret_keys:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"account-api:audit-checkpoint").derive(
                secret
            )
            self._keys[hashlib.sha256(key).hexdigest()[:8]] = key
        self.current_kid = next(iter(self._keys))

    def mac(
        self, kid: str, tenant_id: uuid.UUID, chain_seq: int, row_hash: bytes, created_at: datetime, prev_mac: bytes
    ) -> bytes | None:
        key = self._keys.get(kid)
        if key is None:
            return None
        micros = (created_at - _EPOCH) // timedelta(microseconds=1)
        content = f"{tenant_id}|{chain_seq}|{row_hash.hex()}|{micros}|{prev_mac.hex()}".encode()
        return hmac.new(key, content, hashlib.sha256).digest()

    def valid(self, checkpoint: Checkpoint) -> bool:
        expected = self.mac(
            checkpoint.key_id,
            checkpoint.tenant_id,
            checkpoint.chain_seq,
            checkpoint.row_hash,
            checkpoint.created_at,
            checkpoint.prev_mac,
        )
        return expected is not None and hmac.compare_digest(expected, checkpoint.mac)


def _grouped(mac: bytes) -> str:
    # Short groups: the log's redaction would mask one long hex string as a token.
    digest = mac.hex()
    return ":".join(digest[i : i + 16] for i in range(0, len(digest), 16))


_HEADS = text(
    """
    SELECT t.id AS tenant_id, head.chain_seq, head.row_hash, last.chain_seq AS last_seq, last.mac AS last_mac
    FROM tenant t
    CROSS JOIN LATERAL (SELECT chain_seq, row_hash FROM audit_event e WHERE e.tenant_id = t.id
                        ORDER BY chain_seq DESC LIMIT 1) head
    LEFT JOIN LATERAL (SELECT chain_seq, mac FROM audit_checkpoint c WHERE c.tenant_id = t.id
                       ORDER BY chain_seq DESC LIMIT 1) last ON true
    WHERE last.chain_seq IS NULL OR head.chain_seq > last.chain_seq
    """
)
_INSERT = text(
    "INSERT INTO audit_checkpoint (tenant_id, chain_seq, row_hash, created_at, key_id, prev_mac, mac) "
    "VALUES (:tenant_id, :chain_seq, :row_hash, :created_at, :key_id, :prev_mac, :mac) ON CONFLICT DO NOTHING"
)


async def make(db: AsyncSession, keys: CheckpointKeys) -> int:
    """A checkpoint for every tenant whose chain grew since its last one; returns how many.
    One run at a time (a transaction-scoped lock), so each checkpoint links to the last."""
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('audit-checkpoints', 0))"))
    made = 0
    now = clock.now()
    for head in (await db.execute(_HEADS)).all():
        prev_mac = bytes(head.last_mac) if head.last_mac is not None else b""
        row_hash = bytes(head.row_hash)
        mac = keys.mac(keys.current_kid, head.tenant_id, head.chain_seq, row_hash, now, prev_mac)
        await db.execute(
            _INSERT,
            {
                "tenant_id": head.tenant_id,
                "chain_seq": head.chain_seq,
                "row_hash": row_hash,
                "created_at": now,
                "key_id": keys.current_kid,
                "prev_mac": prev_mac,
                "mac": mac,
            },
        )
        log.info(
            "audit checkpoint",
            extra={
                "tenant_id": str(head.tenant_id),
                "chain_seq": head.chain_seq,
                "checkpoint_mac": _grouped(mac or b""),
            },
        )
        made += 1
    return made
