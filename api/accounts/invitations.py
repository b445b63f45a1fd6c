"""Invitation links: issued when an account is added or an invitation resent, accepted
once to set the first password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.audit import actions, service as audit
from api.auth import passwords, sessions
from api.crypto import hash_token, new_token
from api.errors import ErrorCode, UserFailure
from api.mail import templates
from api.mail.outbox import queue_email
from api.request_meta import Actor, RequestMeta
from api.settings import Settings
from db.models import AccountToken, Tenant, User

INVITATION_VALID_DAYS = 7
INVITATION = "invitation"


async def issue_invitation(
    db: AsyncSession, settings: Settings, meta: RequestMeta, *, tenant: Tenant, user: User, actor: Actor | None
) -> str:
    """Replace any earlier invitation of the user with a new token and queue the email.
    Returns the link (the CLI prints it; nothing else should)."""
    await db.execute(
        delete(AccountToken).where(
            AccountToken.tenant_id == user.tenant_id,  # type: ignore[arg-type]
            AccountToken.user_id == user.id,  # type: ignore[arg-type]
            AccountToken.kind == INVITATION,  # type: ignore[arg-type]
        )
    )
    token, token_hash = new_token()
    db.add(
        AccountToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=INVITATION,
            token_hash=token_hash,
            expires_at=clock.now() + timedelta(days=INVITATION_VALID_DAYS),
        )
    )
    link = f"{settings.app_url}/accept-invitation?token={quote(token)}"
    await queue_email(
        db,
        settings,
        templates.invitation(
            to=user.email, tenant_name=tenant.name, username=user.username, link=link, valid_days=INVITATION_VALID_DAYS
        ),
    )
    audit.record(
        db, tenant_id=tenant.id, action=actions.INVITATION_SENT, meta=meta, actor=actor,
        actor_type=None if actor else "SYSTEM", target_type="user", target_id=user.id,
    )
    await db.flush()
    return link


@dataclass(frozen=True)
class Accepted:
    user: User
    tenant: Tenant
    session_token: str


async def accept(db: AsyncSession, meta: RequestMeta, *, token: str, password: str) -> Accepted:
    """Set the first password, verify the email (the link reached it) and log in.
    The token works once: of two concurrent uses exactly one succeeds."""
    invalid = UserFailure.of(ErrorCode.INVALID_TOKEN, "This invitation link is invalid or has expired.", "input.token")
    if not token or len(token) > 128:
        raise invalid
    now = clock.now()
    token_hash = hash_token(token)
    row = (
        await db.execute(
            select(AccountToken, User, Tenant)
            .join(User, (User.tenant_id == AccountToken.tenant_id) & (User.id == AccountToken.user_id))
            .join(Tenant, Tenant.id == AccountToken.tenant_id)
            .where(
                AccountToken.token_hash == token_hash,  # type: ignore[arg-type]
                AccountToken.kind == INVITATION,  # type: ignore[arg-type]
                AccountToken.used_at.is_(None),  # type: ignore[union-attr]
                AccountToken.expires_at > now,  # type: ignore[arg-type]
            )
        )
    ).first()
    if row is None or row.User.status != "INVITED":
        raise invalid
    user: User = row.User
    tenant: Tenant = row.Tenant

    problems = await passwords.check_password_policy(
        password, user_inputs=[user.username, user.email, tenant.slug, tenant.name], field="input.password"
    )
    if problems:
        raise UserFailure(*problems)
    password_hash = await passwords.hash_password(password)

    # The single-use guard: a concurrent acceptance waits on this row and then finds it used.
    consumed = await db.execute(
        update(AccountToken)
        .where(AccountToken.tenant_id == row.AccountToken.tenant_id, AccountToken.id == row.AccountToken.id, AccountToken.used_at.is_(None))  # type: ignore[arg-type, union-attr]
        .values(used_at=now)
    )
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise invalid
    user.password_hash = password_hash
    user.status = "ACTIVE"
    user.email_verified = True
    user.last_login_at = now
    user.updated_at = now
    audit.record(
        db, tenant_id=tenant.id, action=actions.INVITATION_ACCEPTED, meta=meta, actor_id=user.id,
        target_type="user", target_id=user.id,
        changes={"status": {"old": "INVITED", "new": "ACTIVE"}, "email_verified": {"old": False, "new": True}, "password": {"changed": True}},
    )
    session_token, _ = await sessions.start(db, user=user, tenant=tenant, meta=meta)
    await db.flush()
    return Accepted(user, tenant, session_token)
