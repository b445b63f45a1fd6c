"""Invitation links: issued when an account is added or an invitation resent, accepted
once to set the first password."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from api import clock, events
from api.accounts import tokens
from api.audit import actions
from api.audit import service as audit
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_email, queue_emails
from api.security import passwords, sessions
from api.work import Work
from db.enums import AccountStatus, ActorType, SessionStage, TokenKind
from db.models import Tenant, User

INVITATION_VALID_DAYS = 7


async def issue_invitation(work: Work, *, tenant: Tenant, user: User) -> str:
    """Replace any earlier invitation of the user with a new token and queue the email;
    by the acting administrator, or by the system when there is none. Returns the link
    (the CLI prints it; nothing else should)."""
    db = work.db
    token = await tokens.issue(db, user, TokenKind.INVITATION, timedelta(days=INVITATION_VALID_DAYS))
    link = f"{work.settings.app_url}/accept-invitation?token={quote(token)}"
    await queue_email(
        db,
        work.settings,
        templates.invitation(
            to=templates.recipient(user, tenant),
            tenant_name=tenant.name,
            username=user.username,
            link=link,
            expires_at=clock.now() + timedelta(days=INVITATION_VALID_DAYS),
        ),
        subject_id=user.id,
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.INVITATION_SENT,
        meta=work.meta,
        actor=work.actor,
        actor_type=None if work.actor else ActorType.SYSTEM,
        target_type="user",
        target_id=user.id,
    )
    await db.flush()
    return link


async def invite_new(work: Work, *, tenant: Tenant, accounts: list[User]) -> None:
    """Invitations for accounts just added together (bulk add): one token and one email
    each, in a number of statements that does not grow with how many."""
    db, settings = work.db, work.settings
    issued = await tokens.issue_new(db, accounts, TokenKind.INVITATION, timedelta(days=INVITATION_VALID_DAYS))
    expires_at = clock.now() + timedelta(days=INVITATION_VALID_DAYS)
    await queue_emails(
        db,
        settings,
        [
            (
                templates.invitation(
                    to=templates.recipient(user, tenant),
                    tenant_name=tenant.name,
                    username=user.username,
                    link=f"{settings.app_url}/accept-invitation?token={quote(token)}",
                    expires_at=expires_at,
                ),
                user.id,
            )
            for user, token in zip(accounts, issued)
        ],
    )
    for user in accounts:
        audit.record(
            db,
            tenant_id=tenant.id,
            action=actions.INVITATION_SENT,
            meta=work.meta,
            actor=work.actor,
            actor_type=None if work.actor else ActorType.SYSTEM,
            target_type="user",
            target_id=user.id,
        )
    await db.flush()


@dataclass(frozen=True)
class Accepted:
    user: User
    tenant: Tenant
    session_token: str
    stage: SessionStage


async def accept(work: Work, *, token: str, password: str) -> Accepted:
    """Set the first password, verify the email (the link reached it) and log in.
    The token works once: of two concurrent uses exactly one succeeds."""
    db = work.db
    _token, user, tenant = await tokens.take(
        db,
        token,
        TokenKind.INVITATION,
        account_status=AccountStatus.INVITED,
        field="input.token",
        message=_("This invitation link is invalid or has expired."),
    )
    password_hash = await passwords.hash_new_password(
        password,
        username=user.username,
        email=user.email,
        tenant_words=[tenant.slug, tenant.name],
        field="input.password",
    )
    now = clock.now()
    user.password_hash = password_hash
    user.status = AccountStatus.ACTIVE
    user.email_verified = True
    user.last_login_at, user.inactivity_warned_at = now, None
    user.updated_at = now
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.INVITATION_ACCEPTED,
        meta=work.meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={
            "status": {"old": AccountStatus.INVITED, "new": AccountStatus.ACTIVE},
            "email_verified": {"old": False, "new": True},
            "password": {"changed": True},
        },
    )
    await events.emit(
        db,
        events.USER_UPDATED,
        tenant.id,
        {**events.user_data(user), "changed": ["status", "emailVerified"]},
        user.id,
    )
    stage = await sessions.login_stage(db, user, tenant)
    session_token, _session = await sessions.start(db, user=user, tenant=tenant, meta=work.meta, stage=stage)
    await db.flush()
    return Accepted(user, tenant, session_token, stage)
