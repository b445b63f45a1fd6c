"""Authentication rules: login, logout, passwords and email address changes.
No strawberry or starlette here; the GraphQL layer calls one function per mutation."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock, events
from api.accounts import identifiers, tenants, tokens, validation
from api.attempts import Step
from api.audit import actions
from api.audit import service as audit
from api.crypto import Cipher
from api.errors import ErrorCode, RateLimited, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_email
from api.metrics import LOGINS
from api.queue import enqueue
from api.request_meta import Actor, RequestMeta
from api.security import passwords, sessions, stepup
from api.security.reauth import confirm_password
from api.security.sessions import SessionInfo
from api.settings import Settings
from api.work import Work
from db.enums import AccountStatus, ActorType, SessionStage, TenantState, TokenKind
from db.models import AccountToken, Tenant, User

log = logging.getLogger("api.auth")

RESET_VALID = timedelta(hours=1)
# The job that does a reset request's work (api.jobs.worker), on the email queue: its
# sealed request leaves the queue with the sent mail (after 7 days).
PASSWORD_RESET_TASK = "send_password_reset"
PASSWORD_RESET_QUEUE = "email"
VERIFICATION_VALID = timedelta(hours=24)

BAD_CREDENTIALS = _("The organisation, username or password is not right.")
TENANT_SUSPENDED = _(
    "This organisation's account is suspended; contact the person who manages your "
    "organisation's subscription, or our support."
)
TENANT_CLOSED = _("This organisation's account is closed.")
# Links that act on the account's credentials: a change of password or email ends them all.
CREDENTIAL_LINKS = (TokenKind.PASSWORD_RESET, TokenKind.EMAIL_VERIFICATION)
_STAGE_OUTCOMES = {
    SessionStage.FULL: "success",
    SessionStage.MFA_PENDING: "mfa_required",
    SessionStage.MFA_ENROLLMENT: "mfa_enrollment_required",
}


@dataclass(frozen=True)
class LoggedIn:
    user: User
    tenant: Tenant
    session_token: str
    stage: SessionStage


async def _find_user(db: AsyncSession, tenant: Tenant, identifier: str) -> User | None:
    """The account this normal-form identifier (see identifiers.identifier) names."""
    query = select(User).where(
        col(User.tenant_id) == tenant.id,
        or_(func.lower(col(User.username)) == identifier, func.lower(col(User.email)) == identifier),
    )
    return (await db.execute(query.limit(1))).scalar_one_or_none()


async def login(
    work: Work, *, tenant_slug: str, identifier: str, password: str, previous_token: str | None
) -> LoggedIn:
    """Every failure looks the same from outside (INVALID_CREDENTIALS, same work: a dummy
    hash is verified when there is no account) and is audited with its reason inside.
    The visible limits (per client IP, per tenant and identifier in normal form) treat an
    existing and a missing account alike; the account's own budget, which would tell
    them apart, is silent."""
    db, meta, attempts = work.db, work.meta, work.attempts
    limits = attempts.limits
    slug, account_name = identifiers.slug(tenant_slug), identifiers.identifier(identifier)
    tenant = await tenants.by_slug(db, tenant_slug)
    user = await _find_user(db, tenant, account_name) if tenant and account_name else None
    subject = identifiers.limit_subject(slug, account_name)

    client = meta.ip_address or "unknown"
    # In one statement, in this order (other batches share these counters in it too):
    # the client IP's and the identifier's visible limits, and the account's silent one.
    account_step = [Step.within(limits.login_account, str(user.id))] if user is not None else []
    try:
        verdicts = await attempts.steps(
            Step.take(limits.login_ip, client), Step.take(limits.login_identifier, subject), *account_step
        )
    except RateLimited as limited:
        if limited.limit == limits.login_identifier.name:
            LOGINS.labels("rate_limited").inc()
            if tenant is not None:
                _audit_failure(work, tenant, user, "rate_limited")
        raise
    account_open = all(verdicts)

    checked_hash = user.password_hash if user is not None and account_open else None
    # No transaction and no connection are held while the hash is computed (tens of
    # milliseconds, longer when logins queue for the hash pool): what was read is kept,
    # detached, and the account is read again, locked, once the password is right.
    db.expunge_all()
    await db.rollback()
    verified = await passwords.verify_password(checked_hash, password[: passwords.MAX_LENGTH * 4])
    if verified and user is not None and tenant is not None:
        reread = (
            await db.execute(
                select(User, Tenant)
                .join(Tenant, col(Tenant.id) == col(User.tenant_id))
                .where(col(User.tenant_id) == user.tenant_id, col(User.id) == user.id)
                .with_for_update(of=User)
                .execution_options(populate_existing=True)
            )
        ).first()
        # Changed meanwhile (a new password, a disabled or erased account): this password
        # was checked against what is no longer there.
        if reread is None or reread[0].password_hash != checked_hash:
            verified = False
        else:
            user, tenant = reread[0], reread[1]
    reason = (
        "unknown_tenant"
        if tenant is None
        else "unknown_user"
        if user is None
        else "account_limited"
        if not account_open
        else "account_" + user.status.lower()
        if user.status != AccountStatus.ACTIVE
        else "wrong_password"
        if not verified
        else None
    )
    if reason is not None:
        if tenant is None:
            log.info("login failed: unknown tenant (request %s)", meta.request_id)
        else:
            _audit_failure(work, tenant, user, reason)
        LOGINS.labels("invalid_credentials").inc()
        raise UserFailure.of(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)
    assert user is not None and tenant is not None
    if tenant.state != TenantState.ACTIVE:
        # Said only behind a right password, so it tells a guesser nothing.
        _audit_failure(work, tenant, user, "tenant_" + tenant.state.lower())
        LOGINS.labels("tenant_" + tenant.state.lower()).inc()
        if tenant.state == TenantState.CLOSED:
            raise UserFailure.of(ErrorCode.TENANT_CLOSED, TENANT_CLOSED)
        raise UserFailure.of(ErrorCode.TENANT_SUSPENDED, TENANT_SUSPENDED)

    await attempts.steps(
        Step.take(limits.login_success, str(user.id)),
        Step.give_back(limits.login_ip, client),
        Step.clear(limits.login_identifier, subject),
        Step.clear(limits.login_account, str(user.id)),
    )
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = await passwords.hash_password(password)
    if previous_token:
        await sessions.end(db, previous_token, meta, reason="replaced_by_login")
    user.last_login_at, user.inactivity_warned_at = clock.now(), None
    stage = await sessions.login_stage(db, user, tenant)
    token, _session = await sessions.start(db, user=user, tenant=tenant, meta=meta, stage=stage)
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.LOGIN_SUCCEEDED,
        meta=meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"stage": {"new": stage}},
    )
    await db.flush()
    LOGINS.labels(_STAGE_OUTCOMES[stage]).inc()
    return LoggedIn(user, tenant, token, stage)


def _audit_failure(work: Work, tenant: Tenant, user: User | None, reason: str) -> None:
    if tenant.state == TenantState.CLOSED:
        return  # a closed tenant's chain ends with its closure; it has no accounts to guard
    # The identifier someone typed is not stored: it may be a mistyped password.
    audit.record_failure(
        work,
        tenant_id=tenant.id,
        action=actions.LOGIN_FAILED,
        actor_type=ActorType.ANONYMOUS,
        target_type="user" if user else None,
        target_id=user.id if user else None,
        changes={"reason": {"new": reason}},
    )


async def logout(work: Work, token: str | None) -> None:
    if token:
        await sessions.end(work.db, token, work.meta, reason="logout")


async def current_user(db: AsyncSession, actor: Actor) -> User:
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    assert user is not None
    return user


async def _user_and_tenant(db: AsyncSession, actor: Actor) -> tuple[User, Tenant]:
    user = await db.get(
        User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    assert user is not None
    return user, await tenants.get(db, actor.tenant_id)


async def change_password(work: Work, session: SessionInfo, *, current_password: str, new_password: str) -> str:
    """Returns the new token of the current session; every other session is revoked."""
    db, meta = work.db, work.meta
    await stepup.require_fresh(work, session.actor)
    await confirm_password(
        work,
        await current_user(db, session.actor),
        current_password,
        field="input.currentPassword",
        failed_action=actions.PASSWORD_CHANGE_FAILED,
    )
    user, tenant = await _user_and_tenant(db, session.actor)
    user.password_hash = await passwords.hash_new_password(
        new_password,
        username=user.username,
        email=user.email,
        tenant_words=[tenant.slug, tenant.name],
        field="input.newPassword",
    )
    user.updated_at = clock.now()
    await tokens.revoke(db, user, *CREDENTIAL_LINKS)
    revoked = await sessions.revoke(
        db,
        tenant_id=user.tenant_id,
        user_id=user.id,
        meta=meta,
        actor=session.actor,
        reason="password_changed",
        keep=session.session_id,
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.PASSWORD_CHANGED,
        meta=meta,
        actor=session.actor,
        target_type="user",
        target_id=user.id,
        changes={"password": {"changed": True}, "sessions_revoked": {"new": len(revoked)}},
    )
    token = await sessions.rotate(db, session, user=user, tenant=tenant, meta=meta)
    await db.flush()
    return token


@dataclass(frozen=True)
class ResetRequest:
    """What `requestPasswordReset` hands to its job: the organisation and the address in
    normal form, and who asked from where (for the audit event and the log)."""

    tenant_slug: str
    address: str
    meta: RequestMeta


def _reset_requests(settings: Settings) -> Cipher:
    # Sealed like queued email: an address (of an account or of nobody) must not sit in
    # the job table in clear.
    return Cipher(settings.secret_keys(), purpose="password-reset-request")


def seal_reset_request(settings: Settings, request: ResetRequest) -> str:
    return _reset_requests(settings).encrypt(json.dumps(asdict(request), separators=(",", ":")).encode())


def open_reset_request(settings: Settings, sealed: str) -> ResetRequest:
    body = json.loads(_reset_requests(settings).decrypt(sealed))
    return ResetRequest(tenant_slug=body["tenant_slug"], address=body["address"], meta=RequestMeta(**body["meta"]))


async def request_password_reset(work: Work, *, tenant_slug: str, email: str) -> None:
    """Says nothing, and does the same work, whether or not an account has this address:
    the client's hourly budget is counted, then one job is queued with the request, sealed
    (`send_password_reset` does the rest in the worker). Looking the account up here, and
    issuing and mailing a link only when there was one, made the answer for an existing
    address measurably slower than for a missing one."""
    meta, attempts = work.meta, work.attempts
    await attempts.take(attempts.limits.password_reset_ip, meta.ip_address or "unknown")
    slug, address = identifiers.slug(tenant_slug), identifiers.identifier(email)
    if slug is None or address is None or "@" not in address:
        return  # it names no organisation or no address, whatever exists: nothing to look for
    sealed = seal_reset_request(work.settings, ResetRequest(slug, address, meta))
    await enqueue(work.db, PASSWORD_RESET_TASK, {"sealed": sealed}, queue=PASSWORD_RESET_QUEUE)


async def send_password_reset(work: Work, *, tenant_slug: str, address: str) -> None:
    """The job behind `requestPasswordReset`, in a unit of work with the request's meta:
    a link when an ACTIVE account of an ACTIVE organisation has the address and the
    account's own hourly budget allows; nothing otherwise."""
    db, meta, attempts = work.db, work.meta, work.attempts
    tenant = await tenants.by_slug(db, tenant_slug)
    if tenant is None or tenant.state != TenantState.ACTIVE:
        return
    # KEY SHARE: an erasure or closure in progress is waited for, and then nothing is sent.
    user = (
        await db.execute(
            select(User)
            .where(col(User.tenant_id) == tenant.id, func.lower(col(User.email)) == address)
            .with_for_update(key_share=True)
        )
    ).scalar_one_or_none()
    if user is None or user.status != AccountStatus.ACTIVE:
        return
    if not await attempts.within(attempts.limits.password_reset, str(user.id)):
        log.info("password reset not sent: hourly limit reached (request %s)", meta.request_id)
        return
    token = await tokens.issue(db, user, TokenKind.PASSWORD_RESET, RESET_VALID)
    link = f"{work.settings.app_url}/reset-password?token={quote(token)}"
    await queue_email(
        db,
        work.settings,
        templates.password_reset(
            to=templates.recipient(user, tenant),
            tenant_name=tenant.name,
            link=link,
            expires_at=clock.now() + RESET_VALID,
        ),
        subject_id=user.id,
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.PASSWORD_RESET_REQUESTED,
        meta=meta,
        actor_type=ActorType.ANONYMOUS,
        target_type="user",
        target_id=user.id,
    )
    await db.flush()


async def reset_password(work: Work, *, token: str, new_password: str) -> None:
    """Single use, one hour; sets the password and revokes every session of the account."""
    db, meta = work.db, work.meta
    _token, user, tenant = await tokens.take(
        db,
        token,
        TokenKind.PASSWORD_RESET,
        account_status=AccountStatus.ACTIVE,
        field="input.token",
        message=_("This reset link is invalid or has expired."),
    )
    user.password_hash = await passwords.hash_new_password(
        new_password,
        username=user.username,
        email=user.email,
        tenant_words=[tenant.slug, tenant.name],
        field="input.newPassword",
    )
    user.email_verified = True  # the link reached this address
    user.updated_at = clock.now()
    await tokens.revoke(db, user, *CREDENTIAL_LINKS)
    revoked = await sessions.revoke(
        db, tenant_id=tenant.id, user_id=user.id, meta=meta, actor=None, reason="password_reset"
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.PASSWORD_RESET,
        meta=meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"password": {"changed": True}, "sessions_revoked": {"new": len(revoked)}},
    )
    await db.flush()


def _hint(address: str) -> str:
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def change_email(work: Work, *, new_email: str, password: str) -> None:
    """Nothing changes until the new address confirms; the old address is told. The answer
    does not say whether another account uses the new address (that would tell anyone
    with a session who else is in the organisation): that address is told instead, and
    gets no link."""
    actor, db, settings = work.acting(), work.db, work.settings
    await stepup.require_fresh(work)
    address = validation.email(new_email, "input.newEmail")
    await confirm_password(
        work, await current_user(db, actor), password, field="input.password", failed_action=actions.EMAIL_CHANGE_FAILED
    )
    await work.attempts.take(work.attempts.limits.email_change, str(actor.user_id))
    user, tenant = await _user_and_tenant(db, actor)
    if address.lower() == user.email.lower():
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("This is already your address."), "input.newEmail")
    taken = await db.execute(
        select(col(User.id)).where(
            col(User.tenant_id) == user.tenant_id,
            func.lower(col(User.email)) == address.lower(),
            col(User.id) != user.id,
        )
    )
    holder = taken.scalar_one_or_none()
    if holder is not None:
        # In the language of the account that holds the address: it is theirs.
        held_by = await db.get(User, (user.tenant_id, holder))
        assert held_by is not None
        await queue_email(
            db,
            settings,
            templates.email_in_use(to=templates.recipient(held_by, tenant, address), tenant_name=tenant.name),
            subject_id=holder,
        )
    else:
        token = await tokens.issue(db, user, TokenKind.EMAIL_VERIFICATION, VERIFICATION_VALID, {"new_email": address})
        link = f"{settings.app_url}/verify-email?token={quote(token)}"
        await queue_email(
            db,
            settings,
            templates.email_verification(
                to=templates.recipient(user, tenant, address),
                tenant_name=tenant.name,
                link=link,
                expires_at=clock.now() + VERIFICATION_VALID,
            ),
            subject_id=user.id,
        )
    await queue_email(
        db,
        settings,
        templates.email_change_notice(
            to=templates.recipient(user, tenant), tenant_name=tenant.name, new_address_hint=_hint(address)
        ),
        subject_id=user.id,
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.EMAIL_CHANGE_REQUESTED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=user.id,
        changes={"new_email": {"changed": True}},
    )
    await db.flush()


async def verify_email(work: Work, *, token: str) -> None:
    db = work.db
    row, user, tenant = await tokens.take(
        db,
        token,
        TokenKind.EMAIL_VERIFICATION,
        account_status=AccountStatus.ACTIVE,
        field="token",
        message=_("This confirmation link is invalid or has expired."),
    )
    address = (row.data or {}).get("new_email", "")
    taken = await db.execute(
        select(col(User.id)).where(
            col(User.tenant_id) == user.tenant_id,
            func.lower(col(User.email)) == address.lower(),
            col(User.id) != user.id,
        )
    )
    if not address or taken.first():
        raise UserFailure.of(
            ErrorCode.DUPLICATE, _("Another account of your organisation now uses this address."), "token"
        )
    user.email, user.email_verified, user.updated_at = address, True, clock.now()
    await tokens.revoke(db, user, *CREDENTIAL_LINKS)
    await events.emit(
        db, events.USER_UPDATED, tenant.id, {**events.user_data(user), "changed": ["email", "emailVerified"]}, user.id
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.EMAIL_CHANGED,
        meta=work.meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"email": {"changed": True}, "email_verified": {"new": True}},
    )
    await db.flush()


async def purge_expired_tokens(db: AsyncSession) -> dict[uuid.UUID, int]:
    """Delete emailed tokens a day after they expired or were used; counts per tenant."""
    cutoff = clock.now() - timedelta(days=1)
    result = await db.execute(
        delete(AccountToken)
        .where(or_(col(AccountToken.expires_at) < cutoff, col(AccountToken.used_at) < cutoff))
        .returning(col(AccountToken.tenant_id))
    )
    counts: dict[uuid.UUID, int] = {}
    for row in result:
        counts[row.tenant_id] = counts.get(row.tenant_id, 0) + 1
    return counts
