"""Server-side sessions: an opaque random token in the browser, its hash in the database.

The per-request lookup is one indexed SQL statement on the driver connection (no ORM):
it runs on every authenticated request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import asyncpg
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.audit import actions
from api.audit import service as audit
from api.crypto import hash_token, new_token
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.request_meta import Actor, RequestMeta
from db.enums import AccountStatus, ActorType, ProofMethod, Role, SessionStage, TenantState
from db.models import Tenant, User, UserSession

# lastSeenAt is written at most this often per session, so reads stay reads.
LAST_SEEN_GRANULARITY = timedelta(seconds=60)
# Sessions that can do one thing only: give the second factor, or enroll one.
STAGE_LIFETIMES = {SessionStage.MFA_PENDING: timedelta(minutes=5), SessionStage.MFA_ENROLLMENT: timedelta(minutes=15)}


async def login_stage(db: AsyncSession, user: User, tenant: Tenant) -> SessionStage:
    """What a correct password earns: a full session, a pending one that needs a second
    factor (the user has TOTP or a passkey), or (the tenant requires 2FA, the user has
    none) one that may only enroll."""
    if user.mfa_enabled:
        return SessionStage.MFA_PENDING
    return SessionStage.MFA_ENROLLMENT if tenant.require_mfa else SessionStage.FULL


# Enum members by their stored value: a dictionary lookup instead of the Enum call.
ROLES: dict[str, Role] = {member.value: member for member in Role}
ACCOUNT_STATUSES: dict[str, AccountStatus] = {member.value: member for member in AccountStatus}


class UserSnapshot(NamedTuple):
    """The account as the session lookup (or a list page) read it; has the attributes
    UserType reads. A tuple: a page makes fifty of them per request."""

    tenant_id: uuid.UUID
    id: uuid.UUID
    username: str
    email: str
    display_name: str | None
    role: Role
    status: AccountStatus
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime
    last_login_at: datetime | None
    # The account's own choices (None follows the organisation's).
    locale: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class SessionInfo:
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    stage: SessionStage
    mfa_verified: bool
    user: UserSnapshot | None = None
    proof_at: datetime | None = None
    proof_method: ProofMethod | None = None
    # What the account's texts and dates follow: its own choice, else the organisation's.
    locale: str = "en"
    time_zone: str = "UTC"

    @property
    def actor(self) -> Actor:
        return Actor(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            role=self.role,
            session_id=self.session_id,
            proof_at=self.proof_at,
            proof_method=self.proof_method,
            has_second_factor=bool(self.user and self.user.mfa_enabled),
            locale=self.locale,
            time_zone=self.time_zone,
        )


# The hot path of every authenticated request: one indexed statement on a bare asyncpg
# connection, no ORM and no transaction. It also reads the account, so `viewer { user }`
# needs nothing more.
# The tenant's settings as they are now apply to sessions made before: a shorter absolute
# timeout (counted from the session's start), and a required second factor, which turns a
# full session without one into one that may only give a code (the user has TOTP) or
# enroll (the user has none: a session verified by a factor the account no longer has
# counts as without one). A tenant that is not ACTIVE (suspended, closed) has no
# working session, whatever its rows say.
LOOKUP_SQL = """
SELECT s.id, s.tenant_id, s.user_id, s.mfa_verified, s.last_seen_at, s.proof_at, s.proof_method,
       CASE WHEN t.require_mfa AND s.stage = 'full' AND NOT (s.mfa_verified AND u.mfa_enabled)
            THEN CASE WHEN u.mfa_enabled THEN 'mfa_pending' ELSE 'mfa_enrollment' END
            ELSE s.stage END AS stage,
       u.username, u.email, u.display_name, u.role, u.status, u.email_verified, u.mfa_enabled,
       u.created_at, u.last_login_at, u.locale, u.time_zone,
       t.default_locale AS tenant_locale, t.time_zone AS tenant_time_zone
FROM user_session s
JOIN app_user u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
JOIN tenant t ON t.id = s.tenant_id
WHERE s.token_hash = $1
  AND s.expires_at > $2::timestamptz
  AND s.created_at > $2::timestamptz - make_interval(hours => t.session_absolute_timeout_hours)
  AND s.last_seen_at > $2::timestamptz - make_interval(mins => t.session_idle_timeout_minutes)
  AND u.status = 'ACTIVE'
  AND t.state = 'ACTIVE'
"""
TOUCH_SQL = (
    "UPDATE user_session SET last_seen_at = $1::timestamptz "
    "WHERE tenant_id = $2 AND id = $3 AND last_seen_at < $1::timestamptz - interval '60 seconds'"
)


async def resolve(pool: asyncpg.Pool, token: str) -> SessionInfo | None:
    """The live session for a token, or None when unknown, expired, idle or the account
    is not active. Refreshes lastSeenAt when it is more than a minute old."""
    if not token or len(token) > 128:
        return None
    now = clock.now()
    row = await pool.fetchrow(LOOKUP_SQL, hash_token(token), now)
    if row is None:
        return None
    if now - row["last_seen_at"] >= LAST_SEEN_GRANULARITY:
        await pool.execute(TOUCH_SQL, now, row["tenant_id"], row["id"])
    role = ROLES[row["role"]]
    user = UserSnapshot(
        row["tenant_id"],
        row["user_id"],
        row["username"],
        row["email"],
        row["display_name"],
        role,
        ACCOUNT_STATUSES[row["status"]],
        row["email_verified"],
        row["mfa_enabled"],
        row["created_at"],
        row["last_login_at"],
        row["locale"],
        row["time_zone"],
    )
    return SessionInfo(
        row["id"],
        row["tenant_id"],
        row["user_id"],
        role,
        SessionStage(row["stage"]),
        row["mfa_verified"],
        user,
        row["proof_at"],
        ProofMethod(row["proof_method"]) if row["proof_method"] else None,
        row["locale"] or row["tenant_locale"],
        row["time_zone"] or row["tenant_time_zone"],
    )


async def start(
    db: AsyncSession,
    *,
    user: User,
    tenant: Tenant,
    meta: RequestMeta,
    stage: SessionStage = SessionStage.FULL,
    mfa_verified: bool = False,
    proof: ProofMethod | None = None,
) -> tuple[str, UserSession]:
    """A new session with a fresh token (never reuse one: no fixation). Returns the token,
    which only the cookie will ever hold.

    The organisation is checked again here, its row held FOR SHARE to the commit: a
    suspension or closure (which locks it, then ends every session) either waits for
    this session and ends it too, or has committed and is seen; a login or an accepted
    invitation racing it cannot leave a session behind to come back on reactivation."""
    state = (
        await db.execute(text("SELECT state FROM tenant WHERE id = :t FOR SHARE"), {"t": tenant.id})
    ).scalar_one_or_none()
    if state == TenantState.CLOSED:
        raise UserFailure.of(ErrorCode.TENANT_CLOSED, _("This organisation's account is closed."))
    if state != TenantState.ACTIVE:
        raise UserFailure.of(ErrorCode.TENANT_SUSPENDED, _("This organisation's account is suspended."))
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
        expires_at=now + STAGE_LIFETIMES.get(stage, timedelta(hours=tenant.session_absolute_timeout_hours)),
        ip_address=meta.ip_address,
        user_agent=(meta.user_agent or "")[:512] or None,
        proof_at=now,
        proof_method=proof or (ProofMethod.PASSWORD_TOTP if mfa_verified else ProofMethod.PASSWORD),
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


async def end(db: AsyncSession, token: str, meta: RequestMeta, reason: str = "logout") -> bool:
    """Delete the session behind a token (audited); False when there was none."""
    if not token or len(token) > 128:
        return False
    result = await db.execute(
        delete(UserSession)
        .where(col(UserSession.token_hash) == hash_token(token))
        .returning(col(UserSession.id), col(UserSession.tenant_id), col(UserSession.user_id))
    )
    row = result.first()
    if row is None:
        return False
    audit.record(
        db,
        tenant_id=row.tenant_id,
        action=actions.SESSION_REVOKED,
        meta=meta,
        actor_id=row.user_id,
        target_type="session",
        target_id=row.id,
        changes={"reason": {"new": reason}, "user_id": {"new": str(row.user_id)}},
    )
    return True


# --- a user's own sessions, and revocation ------------------------------------------------

_LIVE_FOR_USER = text(
    """
    SELECT s.id, s.created_at, s.last_seen_at, s.ip_address, s.user_agent, s.mfa_verified,
           least(s.expires_at, s.last_seen_at + make_interval(mins => t.session_idle_timeout_minutes),
                 s.created_at + make_interval(hours => t.session_absolute_timeout_hours)) AS expires_at
    FROM user_session s JOIN tenant t ON t.id = s.tenant_id
    WHERE s.tenant_id = :tenant_id AND s.user_id = :user_id AND s.stage = 'full'
      AND s.expires_at > CAST(:now AS timestamptz)
      AND s.created_at > CAST(:now AS timestamptz) - make_interval(hours => t.session_absolute_timeout_hours)
      AND s.last_seen_at > CAST(:now AS timestamptz) - make_interval(mins => t.session_idle_timeout_minutes)
    ORDER BY s.last_seen_at DESC, s.id
    """
)


@dataclass(frozen=True)
class LiveSession:
    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    mfa_verified: bool


async def live_for_user(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[LiveSession]:
    rows = await db.execute(_LIVE_FOR_USER, {"tenant_id": tenant_id, "user_id": user_id, "now": clock.now()})
    return [
        LiveSession(
            r.id,
            r.created_at,
            r.last_seen_at,
            r.expires_at,
            str(r.ip_address) if r.ip_address else None,
            r.user_agent,
            r.mfa_verified,
        )
        for r in rows
    ]


async def revoke(
    db: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    meta: RequestMeta,
    actor: Actor | None,
    reason: str,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Delete a user's sessions (one, or all but one, or all) and audit each revocation."""
    query = delete(UserSession).where(col(UserSession.tenant_id) == tenant_id, col(UserSession.user_id) == user_id)
    if only is not None:
        query = query.where(col(UserSession.id) == only)
    if keep is not None:
        query = query.where(col(UserSession.id) != keep)
    ids = [row.id for row in await db.execute(query.returning(col(UserSession.id)))]
    for session_id in ids:
        audit.record(
            db,
            tenant_id=tenant_id,
            action=actions.SESSION_REVOKED,
            meta=meta,
            actor=actor,
            actor_id=None if actor else user_id,
            actor_type=ActorType.SYSTEM if actor is None and reason == "system" else None,
            target_type="session",
            target_id=session_id,
            changes={"reason": {"new": reason}, "user_id": {"new": str(user_id)}},
        )
    return ids


async def revoke_own(db: AsyncSession, actor: Actor, session_id: uuid.UUID | None, meta: RequestMeta) -> bool:
    """A user ends one of their own sessions; True when it was the one asking (its cookie
    then goes too). NOT_FOUND for an id that is not one of theirs."""
    revoked = session_id is not None and await revoke(
        db,
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        meta=meta,
        actor=actor,
        reason="revoked_by_user",
        only=session_id,
    )
    if not revoked:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such session."), "id")
    return session_id == actor.session_id


async def rotate(db: AsyncSession, info: SessionInfo, *, user: User, tenant: Tenant, meta: RequestMeta) -> str:
    """A privilege change: the current session is replaced by a new one with a new token."""
    await db.execute(
        delete(UserSession).where(col(UserSession.tenant_id) == info.tenant_id, col(UserSession.id) == info.session_id)
    )
    token, session = await start(
        db, user=user, tenant=tenant, meta=meta, stage=info.stage, mfa_verified=info.mfa_verified
    )
    # The new token carries the old one's proof (a privilege change proves nothing new).
    session.proof_at, session.proof_method = info.proof_at, info.proof_method
    return token


_PURGE_EXPIRED = text(
    """
    DELETE FROM user_session s USING tenant t
    WHERE t.id = s.tenant_id
      AND (s.expires_at <= CAST(:now AS timestamptz)
           OR s.created_at <= CAST(:now AS timestamptz) - make_interval(hours => t.session_absolute_timeout_hours)
           OR s.last_seen_at <= CAST(:now AS timestamptz) - make_interval(mins => t.session_idle_timeout_minutes))
    RETURNING s.tenant_id
    """
)


async def purge_expired(db: AsyncSession) -> dict[uuid.UUID, int]:
    """Delete sessions past their idle or absolute timeout; counts per tenant."""
    counts: dict[uuid.UUID, int] = {}
    for row in await db.execute(_PURGE_EXPIRED, {"now": clock.now()}):
        counts[row.tenant_id] = counts.get(row.tenant_id, 0) + 1
    return counts


# --- for connected applications: what a session token stands for -------------------------

DESCRIBE_SQL = """
SELECT s.user_id, s.tenant_id, t.slug, u.role, (s.mfa_verified AND u.mfa_enabled) AS mfa_verified,
       least(s.expires_at, s.last_seen_at + make_interval(mins => t.session_idle_timeout_minutes),
             s.created_at + make_interval(hours => t.session_absolute_timeout_hours)) AS expires_at
FROM user_session s
JOIN app_user u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
JOIN tenant t ON t.id = s.tenant_id
WHERE s.token_hash = $1 AND s.stage = 'full' AND t.state = 'ACTIVE' AND u.status = 'ACTIVE'
  AND (NOT t.require_mfa OR (s.mfa_verified AND u.mfa_enabled))
  AND s.expires_at > $2::timestamptz
  AND s.created_at > $2::timestamptz - make_interval(hours => t.session_absolute_timeout_hours)
  AND s.last_seen_at > $2::timestamptz - make_interval(mins => t.session_idle_timeout_minutes)
"""


@dataclass(frozen=True)
class SessionDescription:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_slug: str
    role: Role
    mfa_verified: bool
    expires_at: datetime


async def describe(pool: asyncpg.Pool, token: str) -> SessionDescription | None:
    """A live full session's user, tenant, role, second-factor state and expiry; None for
    anything else (unknown, expired, pending a second factor, suspended). Nothing more:
    no names, no addresses. Reading it does not extend the session."""
    if not token or len(token) > 128:
        return None
    row = await pool.fetchrow(DESCRIBE_SQL, hash_token(token), clock.now())
    if row is None:
        return None
    return SessionDescription(
        row["user_id"], row["tenant_id"], row["slug"], Role(row["role"]), row["mfa_verified"], row["expires_at"]
    )
