"""Attempt limits kept in PostgreSQL, so every server process shares them.

Each attempt takes a number from an atomic per-key counter *before* the secret is
checked: of fifty concurrent guesses exactly `limit` are checked, and every alias or
batched operation is its own attempt. `take` commits the request's transaction at once,
so the count stands whatever happens next; call it before the request writes anything."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta


_TAKE = text(
    """
    INSERT INTO rate_limit_counter AS c (key, window_start, count) VALUES (:key, CAST(:now AS timestamptz), :cost)
    ON CONFLICT (key) DO UPDATE SET
        window_start = CASE WHEN c.window_start <= CAST(:now AS timestamptz) - CAST(:window AS interval)
                            THEN CAST(:now AS timestamptz) ELSE c.window_start END,
        count = CASE WHEN c.window_start <= CAST(:now AS timestamptz) - CAST(:window AS interval)
                     THEN :cost ELSE c.count + :cost END
    RETURNING count, window_start
    """
)
_GIVE_BACK = text(
    "UPDATE rate_limit_counter SET count = greatest(count - 1, 0) "
    "WHERE key = :key AND window_start > CAST(:now AS timestamptz) - CAST(:window AS interval)"
)
_CLEAR = text("DELETE FROM rate_limit_counter WHERE key = :key")
_PURGE = text("DELETE FROM rate_limit_counter WHERE window_start < :before")


class Limiter:
    def __init__(self, secret: bytes) -> None:
        self._secret = hashlib.sha256(b"rate-limit:" + secret).digest()

    def key(self, limit: Limit, subject: str) -> str:
        digest = hmac.new(self._secret, f"{limit.name}:{subject}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"{limit.name[:15]}:{digest[:60]}"

    async def take(self, db: AsyncSession, limit: Limit, subject: str, cost: int = 1) -> None:
        """Count one attempt (or `cost` units) and commit; RATE_LIMITED (with the seconds
        until the window ends) past the limit."""
        now = clock.now()
        row = (await db.execute(_TAKE, {"key": self.key(limit, subject), "now": now, "window": limit.window, "cost": cost})).one()
        await db.commit()
        if row.count > limit.limit:
            raise RateLimited(retry_after=_seconds_left(row.window_start, limit.window, now))

    async def give_back(self, db: AsyncSession, limit: Limit, subject: str) -> None:
        """An attempt that turned out legitimate (a success) is not a failure: part of the
        caller's transaction."""
        await db.execute(_GIVE_BACK, {"key": self.key(limit, subject), "now": clock.now(), "window": limit.window})

    async def within(self, db: AsyncSession, limit: Limit, subject: str) -> bool:
        """Count one attempt; False past the limit instead of raising (a silent limit)."""
        try:
            await self.take(db, limit, subject)
        except RateLimited:
            return False
        return True

    async def clear(self, db: AsyncSession, limit: Limit, subject: str) -> None:
        await db.execute(_CLEAR, {"key": self.key(limit, subject)})


async def purge(db: AsyncSession, older_than: timedelta) -> int:
    result = await db.execute(_PURGE, {"before": clock.now() - older_than})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _seconds_left(window_start: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((window_start + window - now).total_seconds()))
