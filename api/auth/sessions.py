"""Server-side sessions: an opaque random token in the browser, its hash in the database.

The per-request lookup is one indexed SQL statement on the driver connection (no ORM):
it runs on every authenticated request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.audit import actions, service as audit
from api.crypto import hash_token, new_token
from api.request_meta import Actor, RequestMeta
from db.models import Tenant, User, UserSession

# lastSeenAt is written at most this often per session, so reads stay reads.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionInfo:
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    stage: str
    mfa_verified: bool

    @property
    def actor(self) -> Actor:
        return Actor(tenant_id=self.tenant_id, user_id=self.user_id, role=self.role, session_id=self.session_id)


_LOOKUP = text(
    """
    SELECT s.id, s.tenant_id, s.user_id, u.role, s.stage, s.mfa_verified, s.last_seen_at
    FROM user_session s
    JOIN app_user u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
    JOIN tenant t ON t.id = s.tenant_id
    WHERE s.token_hash = :token_hash
      AND s.expires_at > :now
      AND s.last_seen_at > :now - make_interval(mins => t.session_idle_timeout_minutes)
      AND u.status = 'ACTIVE'
    """
)
_TOUCH = text(
    "UPDATE user_session SET last_seen_at = :now "
    "WHERE tenant_id = :tenant_id AND id = :id AND last_seen_at < :now - interval '60 seconds'"
)


async def resolve(db: AsyncSession, token: str) -> SessionInfo | None:
    """The live session for a token, or None when unknown, expired, idle or the account
    is not active. Refreshes lastSeenAt when it is more than a minute old."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    row = (await db.execute(_LOOKUP, {"token_hash": hash_token(token), "now": now})).first()
    if row is None:
        return None
    if now - row.last_seen_at >= LAST_SEEN_GRANULARITY:
        await db.execute(_TOUCH, {"now": now, "tenant_id": row.tenant_id, "id": row.id})
        await db.commit()
    return SessionInfo(row.id, row.tenant_id, row.user_id, row.role, row.stage, row.mfa_verified)


async def start(
    db: AsyncSession,
    *,
    user: User,
    tenant: Tenant,
    meta: RequestMeta,
    stage: str = "full",
    mfa_verified: bool = False,
) -> tuple[str, UserSession]:
    """A new session with a fresh token (never reuse one: no fixation). Returns the token,
    which only the cookie will ever hold."""
    token, token_hash = new_token()
    now = clock.now()
    session = UserSession(
        tenant_id=tenant.id,
        user_id=user.id,
        token_hash=token_hash,
        stage=stage,
        mfa_verified=mfa_verified,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=tenant.session_absolute_timeout_hours),
        ip_address=meta.ip_address,
        user_agent=(meta.user_agent or "")[:512] or None,
    )
    db.add(session)
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.SESSION_CREATED,
        meta=meta,
        actor_id=user.id,
        target_type="session",
        target_id=session.id,
        changes={"stage": {"new": stage}, "mfa_verified": {"new": mfa_verified}},
    )
    return token, session


async def revoke_all_for_user(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
    result = await db.execute(
        delete(UserSession).where(UserSession.tenant_id == tenant_id, UserSession.user_id == user_id)  # type: ignore[arg-type]
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def end(db: AsyncSession, token: str) -> uuid.UUID | None:
    """Delete the session behind a token; its id, or None when there was none."""
    result = await db.execute(
        delete(UserSession).where(UserSession.token_hash == hash_token(token)).returning(UserSession.id, UserSession.tenant_id)  # type: ignore[arg-type]
    )
    row = result.first()
    return row.id if row else None


def expires_in(session: UserSession) -> datetime:
    return session.expires_at
