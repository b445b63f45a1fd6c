"""Operator sessions: as users' (an opaque token in the cookie, its hash in the table),
in a table of their own. Operator tokens start with `op_`, so one lookup per request
knows which table to ask."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.crypto import TOKEN_BYTES, hash_token
from api.request_meta import OperatorActor, RequestMeta
from api.settings import Settings
from db.models import Operator, OperatorSession

PREFIX = "op_"
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


def is_operator_token(token: str | None) -> bool:
    return bool(token) and token.startswith(PREFIX)  # type: ignore[union-attr]


@dataclass(frozen=True)
class OperatorSessionInfo:
    session_id: uuid.UUID
    operator_id: uuid.UUID
    username: str
    email: str
    created_at: datetime
    last_login_at: datetime | None

    @property
    def actor(self) -> OperatorActor:
        return OperatorActor(operator_id=self.operator_id, session_id=self.session_id)


# $3 and $4: the idle and absolute timeouts (minutes, hours), from settings.
LOOKUP_SQL = """
SELECT s.id, s.operator_id, s.last_seen_at, o.username, o.email, o.created_at, o.last_login_at
FROM operator_session s JOIN operator o ON o.id = s.operator_id
WHERE s.token_hash = $1
  AND s.expires_at > $2::timestamptz
  AND s.created_at > $2::timestamptz - make_interval(hours => $4::int)
  AND s.last_seen_at > $2::timestamptz - make_interval(mins => $3::int)
  AND NOT o.disabled
"""
TOUCH_SQL = (
    "UPDATE operator_session SET last_seen_at = $1::timestamptz "
    "WHERE id = $2 AND last_seen_at < $1::timestamptz - interval '60 seconds'"
)


async def resolve(pool: asyncpg.Pool, settings: Settings, token: str) -> OperatorSessionInfo | None:
    if not is_operator_token(token) or len(token) > 128:
        return None
    now = clock.now()
    row = await pool.fetchrow(
        LOOKUP_SQL,
        hash_token(token),
        now,
        settings.operator_session_idle_minutes,
        settings.operator_session_absolute_hours,
    )
    if row is None:
        return None
    if now - row["last_seen_at"] >= LAST_SEEN_GRANULARITY:
        await pool.execute(TOUCH_SQL, now, row["id"])
    return OperatorSessionInfo(
        row["id"], row["operator_id"], row["username"], row["email"], row["created_at"], row["last_login_at"]
    )


def start(db: AsyncSession, settings: Settings, operator: Operator, meta: RequestMeta) -> tuple[str, OperatorSession]:
    """A new session with a fresh token; returns the token, which only the cookie holds."""
    token = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    session = OperatorSession(
        operator_id=operator.id,
        token_hash=hash_token(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.operator_session_absolute_hours),
        ip_address=meta.ip_address,
        user_agent=(meta.user_agent or "")[:512] or None,
    )
    db.add(session)
    return token, session


async def end(db: AsyncSession, token: str) -> uuid.UUID | None:
    """Delete the session behind a token; its operator's id, or None when there was none."""
    if not is_operator_token(token) or len(token) > 128:
        return None
    result = await db.execute(
        delete(OperatorSession)
        .where(col(OperatorSession.token_hash) == hash_token(token))
        .returning(col(OperatorSession.operator_id))
    )
    return result.scalar_one_or_none()


async def purge_expired(db: AsyncSession, settings: Settings) -> int:
    now = clock.now()
    result = await db.execute(
        delete(OperatorSession).where(
            (col(OperatorSession.expires_at) <= now)
            | (col(OperatorSession.created_at) <= now - timedelta(hours=settings.operator_session_absolute_hours))
            | (col(OperatorSession.last_seen_at) <= now - timedelta(minutes=settings.operator_session_idle_minutes))
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
