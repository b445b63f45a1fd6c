"""Delivering events: at least once, signed, with retries on a schedule of about three days.

A delivery is claimed under a lease (`locked_until`, claimed with SKIP LOCKED, so two
workers never hold one at the same moment), sent, and its outcome recorded only while the
lease is still the claimer's. A worker that dies mid-delivery leaves the lease to run
out; then any worker claims the delivery again, so nothing is lost (receivers dedupe on
`webhook-id`, which stays the event's id through retries). Every attempt is recorded
(status, latency, error). A receiver failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled
and its owner emailed. The loop wakes on the NOTIFY that queued deliveries send at
commit, and polls every second for retries that come due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpcore

from api import clock
from api.settings import Settings
from api.webhooks import signing
from api.webhooks.targets import GuardedBackend

log = logging.getLogger("api.webhooks")

USER_AGENT = "account-api-webhooks/1"
ANSWER_BYTES = 1024
LEASE_MARGIN_SECONDS = 5.0

# Fair to every receiver. Receivers that answer (no `failing_since`) and those that fail
# are claimed separately ($6): the failing ones share at most a quarter of a worker's slots
# and have one delivery in flight each, so receivers that hang cannot hold up the others.
# Each receiver offers at most $4 of its oldest due deliveries (none while it has that many
# in flight); a tenant's endpoints together at most $5. A flood (a replay) so waits its
# turn behind nobody else's deliveries.
CLAIM_SQL = """
WITH app_due AS (
  SELECT d.id, d.next_attempt_at
  FROM application a
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at FROM webhook_delivery d
    WHERE d.application_id = a.id AND d.status = 'PENDING' AND d.next_attempt_at <= $1
      AND (d.locked_until IS NULL OR d.locked_until < $1)
    ORDER BY d.next_attempt_at LIMIT $4
  ) d
  WHERE a.enabled AND (a.failing_since IS NOT NULL) = $6
    AND (SELECT count(*) FROM (SELECT 1 FROM webhook_delivery f WHERE f.application_id = a.id
         AND f.status = 'PENDING' AND f.locked_until >= $1 LIMIT $4) busy) < CASE WHEN $6 THEN 1 ELSE $4 END
), endpoint_due AS (
  SELECT d.id, d.next_attempt_at, row_number() OVER (PARTITION BY w.tenant_id ORDER BY d.next_attempt_at) AS nth
  FROM webhook_endpoint w
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at FROM webhook_delivery d
    WHERE d.tenant_id = w.tenant_id AND d.endpoint_id = w.id AND d.status = 'PENDING' AND d.next_attempt_at <= $1
      AND (d.locked_until IS NULL OR d.locked_until < $1)
    ORDER BY d.next_attempt_at LIMIT $4
  ) d
  WHERE w.enabled AND (w.failing_since IS NOT NULL) = $6
    AND (SELECT count(*) FROM (SELECT 1 FROM webhook_delivery f WHERE f.tenant_id = w.tenant_id AND f.endpoint_id = w.id
         AND f.status = 'PENDING' AND f.locked_until >= $1 LIMIT $4) busy) < CASE WHEN $6 THEN 1 ELSE $4 END
    AND (SELECT count(*) FROM (SELECT 1 FROM webhook_delivery f WHERE f.tenant_id = w.tenant_id
         AND f.status = 'PENDING' AND f.locked_until >= $1 LIMIT $5) busy) < $5
), candidates AS (
  SELECT id, next_attempt_at FROM app_due
  UNION ALL
  SELECT id, next_attempt_at FROM endpoint_due WHERE nth <= $5
  ORDER BY next_attempt_at
  LIMIT $2
), due AS (
  SELECT d.id, d.event_id, d.application_id, d.tenant_id, d.endpoint_id
  FROM webhook_delivery d
  WHERE d.id IN (SELECT id FROM candidates) AND d.status = 'PENDING'
    AND (d.locked_until IS NULL OR d.locked_until < $1)
  FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery d SET locked_until = $3, attempts = d.attempts + 1
FROM due
  JOIN webhook_event e ON e.id = due.event_id
  LEFT JOIN application a ON a.id = due.application_id
  LEFT JOIN webhook_endpoint w ON w.tenant_id = due.tenant_id AND w.id = due.endpoint_id
WHERE d.id = due.id
RETURNING d.id, d.attempts, d.locked_until AS lease, d.application_id, d.tenant_id, d.endpoint_id,
          e.id AS event_id, e.type, e.payload::text AS body,
          coalesce(a.webhook_url, w.url) AS url, coalesce(a.secret_sealed, w.secret_sealed) AS secret_sealed,
          coalesce(a.failing_since, w.failing_since) AS failing_since
"""
# In flight at once: per receiver, and per tenant over all its endpoints.
PER_RECEIVER = 8
PER_TENANT = 8

# Recorded only while the lease is ours; the retry schedule is $7 (seconds after each attempt).
RECORD_SQL = """
WITH owned AS (
  SELECT d.id, d.attempts FROM webhook_delivery d
  WHERE d.id = $1 AND d.status = 'PENDING' AND d.locked_until = $2
  FOR UPDATE
), attempt AS (
  INSERT INTO webhook_attempt (delivery_id, attempted_at, status_code, latency_ms, error)
  SELECT id, $3, $5, $6, $8 FROM owned
)
UPDATE webhook_delivery d SET
  status = CASE WHEN $4 THEN 'SUCCEEDED' WHEN o.attempts > cardinality($7::int[]) THEN 'FAILED' ELSE 'PENDING' END,
  next_attempt_at = CASE WHEN $4 OR o.attempts > cardinality($7::int[]) THEN d.next_attempt_at
                         ELSE $3 + make_interval(secs => ($7::int[])[o.attempts]) END,
  locked_until = NULL, last_status_code = $5, last_error = $8,
  finished_at = CASE WHEN $4 OR o.attempts > cardinality($7::int[]) THEN $3 END
FROM owned o WHERE d.id = o.id
RETURNING d.status
"""


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    attempts: int
    lease: datetime
    application_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    endpoint_id: uuid.UUID | None
    event_id: uuid.UUID
    type: str
    body: str
    url: str
    secret_sealed: str
    failing_since: datetime | None


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str | None


# What the worker does when a receiver is disabled, or deliveries end FAILED.
Disabled = Callable[[Claimed], Awaitable[None]]
Failed = Callable[[Claimed], Awaitable[None]]


class Sender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        *,
        on_disabled: Disabled | None = None,
        on_failed: Failed | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.pool, self.settings = pool, settings
        self.on_disabled, self.on_failed = on_disabled, on_failed
        self.http = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or ssl.create_default_context(),
            max_connections=settings.webhook_concurrency,
            max_keepalive_connections=settings.webhook_concurrency,
            keepalive_expiry=30,
            network_backend=GuardedBackend(allow_loopback=bool(settings.webhook_allow_loopback)),
        )
        self._secrets: dict[str, str] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._failing: set[asyncio.Task[None]] = set()  # of those, deliveries to failing receivers
        self._wake = asyncio.Event()

    async def close(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self.http.aclose()

    # --- one delivery ------------------------------------------------------------------

    def _secret(self, sealed: str) -> str:
        secret = self._secrets.get(sealed)
        if secret is None:
            if len(self._secrets) > 1000:
                self._secrets.clear()
            secret = self._secrets[sealed] = signing.open_secret(self.settings, sealed)
        return secret

    async def attempt(self, delivery: Claimed) -> Outcome:
        began = time.monotonic()
        try:
            headers = {
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                **signing.headers(self._secret(delivery.secret_sealed), str(delivery.event_id), delivery.body),
            }
            timeout = self.settings.webhook_timeout_seconds
            async with asyncio.timeout(timeout):
                async with self.http.stream(
                    "POST",
                    delivery.url,
                    headers=list(headers.items()),
                    content=delivery.body.encode(),
                    extensions={"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}},
                ) as response:
                    answer = b""
                    async for chunk in response.aiter_stream():
                        answer += chunk
                        if len(answer) >= ANSWER_BYTES:
                            break
            latency = int((time.monotonic() - began) * 1000)
            if 200 <= response.status < 300:
                return Outcome(True, response.status, latency, None)
            text = answer[:200].decode("utf-8", "replace").strip()
            return Outcome(False, response.status, latency, f"HTTP {response.status}" + (f": {text}" if text else ""))
        except TimeoutError:
            return Outcome(False, None, int((time.monotonic() - began) * 1000), "timed out")
        except (
            httpcore.NetworkError,
            httpcore.TimeoutException,
            httpcore.ProtocolError,
            OSError,
            ssl.SSLError,
        ) as error:
            return Outcome(
                False, None, int((time.monotonic() - began) * 1000), str(error)[:300] or type(error).__name__
            )
        except Exception as error:  # an unusable URL or secret: a failed attempt, never a lost one
            log.warning("webhook delivery %s failed unexpectedly", delivery.id, exc_info=True)
            return Outcome(False, None, int((time.monotonic() - began) * 1000), type(error).__name__)

    async def record(self, delivery: Claimed, outcome: Outcome) -> str | None:
        """The attempt and the delivery's next state; None when the lease was lost."""
        now = clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.fetchval(
                RECORD_SQL,
                delivery.id,
                delivery.lease,
                now,
                outcome.ok,
                outcome.status_code,
                outcome.latency_ms,
                self.settings.webhook_retry_schedule,
                (outcome.error or "")[:500] or None,
            )
            if status is None:
                return None
            disabled = await self._health(conn, delivery, outcome.ok, now)
        if disabled and self.on_disabled is not None:
            await self.on_disabled(delivery)
        if status == "FAILED" and self.on_failed is not None:
            await self.on_failed(delivery)
        return str(status)

    async def _health(self, conn: Any, delivery: Claimed, ok: bool, now: datetime) -> bool:
        """Keep the receiver's `failing_since`; True when it has just been disabled."""
        ids: tuple[uuid.UUID | None, ...]
        if delivery.application_id is not None:
            table, where, ids = "application", "id = $1", (delivery.application_id,)
        else:
            table, where, ids = (
                "webhook_endpoint",
                "tenant_id = $1 AND id = $2",
                (delivery.tenant_id, delivery.endpoint_id),
            )
        n = len(ids) + 1
        if ok:
            # Not from the claim's snapshot: another worker may have marked it meanwhile.
            await conn.execute(
                f"UPDATE {table} SET failing_since = NULL WHERE {where} AND failing_since IS NOT NULL", *ids
            )
            return False
        if delivery.failing_since is None:
            await conn.execute(
                f"UPDATE {table} SET failing_since = ${n} WHERE {where} AND failing_since IS NULL", *ids, now
            )
            return False
        cutoff = now - timedelta(hours=self.settings.webhook_disable_after_hours)
        disabled = await conn.fetchval(
            f"UPDATE {table} SET enabled = false, disabled_reason = ${n + 1}, updated_at = ${n} "
            f"WHERE {where} AND enabled AND failing_since < ${n + 2} RETURNING true",
            *ids,
            now,
            f"failing since {delivery.failing_since:%Y-%m-%d %H:%M} UTC",
            cutoff,
        )
        return bool(disabled)

    async def deliver(self, delivery: Claimed) -> None:
        try:
            await self.record(delivery, await self.attempt(delivery))
        except Exception:  # the lease runs out and the delivery is claimed again
            log.warning("recording webhook delivery %s failed", delivery.id, exc_info=True)
        finally:
            self._wake.set()  # a slot is free, and the receiver may have more due

    # --- the loop ----------------------------------------------------------------------

    async def claim(self, limit: int, *, failing: bool = False) -> list[Claimed]:
        if limit <= 0:
            return []
        now = clock.now()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
        rows = await self.pool.fetch(CLAIM_SQL, now, limit, lease, PER_RECEIVER, PER_TENANT, failing)
        return [Claimed(**dict(row)) for row in rows]

    async def deliver_due(self) -> int:
        """Claim what is due (as many as there is room for: receivers that fail get a
        quarter of it at most) and start sending it; the number claimed."""
        concurrency = self.settings.webhook_concurrency
        room = concurrency - len(self._in_flight)
        claimed = await self.claim(room)
        failing_room = min(room - len(claimed), max(1, concurrency // 4) - len(self._failing))
        failing = await self.claim(failing_room, failing=True)
        for delivery, to_failing in [(d, False) for d in claimed] + [(d, True) for d in failing]:
            task = asyncio.create_task(self.deliver(delivery), name=f"webhook-{delivery.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            if to_failing:
                self._failing.add(task)
                task.add_done_callback(self._failing.discard)
        return len(claimed) + len(failing)

    async def drain(self) -> None:
        """Deliver everything due now and wait for it (tests, the CLI)."""
        while await self.deliver_due() or self._in_flight:
            if self._in_flight:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)

    async def run(self, dsn: str, stop: asyncio.Event) -> None:
        """Until `stop`: wake on NOTIFY, on a finished delivery, or every second; deliver
        what is due."""
        wake = self._wake
        listener: asyncpg.Connection | None = None
        try:
            while not stop.is_set():
                try:
                    if listener is None or listener.is_closed():
                        listener = await asyncpg.connect(dsn)
                        await listener.add_listener("webhook_delivery", lambda *_: wake.set())
                    wake.clear()
                    claimed = await self.deliver_due()
                    if claimed and len(self._in_flight) < self.settings.webhook_concurrency:
                        continue
                    if self._in_flight and len(self._in_flight) >= self.settings.webhook_concurrency:
                        await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED, timeout=1)
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_first(wake, stop), 1)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    log.warning("the webhook sender lost its database; retrying", exc_info=True)
                    listener = None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 2)
        finally:
            if listener is not None and not listener.is_closed():
                await listener.close()
            await self.close()


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
