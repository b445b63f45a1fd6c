"""Invitation links: issued when an account is added or an invitation resent, accepted
once to set the first password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from api import clock
from api.accounts import tokens
from api.audit import actions, service as audit
from api.auth import passwords, sessions
from api.mail import templates
from api.mail.outbox import queue_email
from api.request_meta import Actor, RequestMeta
from api.settings import Settings
from db.models import Tenant, User

INVITATION_VALID_DAYS = 7


async def issue_invitation(
    db: AsyncSession, settings: Settings, meta: RequestMeta, *, tenant: Tenant, user: User, actor: Actor | None
) -> str:
    """Replace any earlier invitation of the user with a new token and queue the email.
    Returns the link (the CLI prints it; nothing else should)."""
    token = await tokens.issue(db, user, tokens.INVITATION, timedelta(days=INVITATION_VALID_DAYS))
    link = f"{settings.app_url}/accept-invitation?token={quote(token)}"
    await queue_email(
        db,
        settings,
        templates.invitation(
            to=user.email, tenant_name=tenant.name, username=user.username, link=link, valid_days=INVITATION_VALID_DAYS
        ),
        subject_id=user.id,
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
    stage: str


async def accept(db: AsyncSession, meta: RequestMeta, *, token: str, password: str) -> Accepted:
    """Set the first password, verify the email (the link reached it) and log in.
    The token works once: of two concurrent uses exactly one succeeds."""
    _, user, tenant = await tokens.take(
        db, token, tokens.INVITATION, account_status="INVITED", field="input.token",
        message="This invitation link is invalid or has expired.",
    )
    password_hash = await passwords.hash_new_password(
        password, username=user.username, email=user.email, tenant_words=[tenant.slug, tenant.name], field="input.password"
    )
    now = clock.now()
    user.password_hash = password_hash
    user.status = "ACTIVE"
    user.email_verified = True
    user.last_login_at, user.inactivity_warned_at = now, None
    user.updated_at = now
    audit.record(
        db, tenant_id=tenant.id, action=actions.INVITATION_ACCEPTED, meta=meta, actor_id=user.id,
        target_type="user", target_id=user.id,
        changes={"status": {"old": "INVITED", "new": "ACTIVE"}, "email_verified": {"old": False, "new": True}, "password": {"changed": True}},
    )
    stage = await sessions.login_stage(db, user, tenant)
    session_token, _ = await sessions.start(db, user=user, tenant=tenant, meta=meta, stage=stage)
    await db.flush()
    return Accepted(user, tenant, session_token, stage)
