"""Two-factor authentication: TOTP enrollment, the second step of login, recovery codes,
and turning it off (by the user with a code, or by an administrator)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.accounts import tenants, users
from api.audit import actions
from api.audit import service as audit
from api.auth import passkeys
from api.crypto import Cipher
from api.errors import ErrorCode, Forbidden, RateLimited, UserFailure
from api.i18n import _
from api.request_meta import Actor
from api.security import sessions, stepup, totp
from api.security.reauth import confirm_password
from api.security.sessions import SessionInfo
from api.settings import Settings
from api.work import Work
from db.enums import ProofMethod, Role, SessionStage
from db.models import RecoveryCode, Tenant, User, UserSession, UserTotp, WebauthnCredential

RECOVERY_CODE_COUNT = 10


def cipher(settings: Settings) -> Cipher:
    return Cipher(settings.secret_keys(), purpose="totp")


def _normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash_recovery_code(code: str) -> bytes:
    # 80 random bits per code: a plain hash cannot be brute-forced.
    return hashlib.sha256(_normalise_recovery_code(code).encode()).digest()


def _new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


async def _authenticator(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, lock: bool = False
) -> UserTotp | None:
    query = select(UserTotp).where(col(UserTotp.tenant_id) == tenant_id, col(UserTotp.user_id) == user_id)
    if lock:
        query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
    return (await db.execute(query)).scalar_one_or_none()


async def has_confirmed_totp(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    found = await _authenticator(db, tenant_id, user_id)
    return found is not None and found.confirmed_at is not None


async def _replace_recovery_codes(db: AsyncSession, user: User) -> list[str]:
    await db.execute(
        delete(RecoveryCode).where(col(RecoveryCode.tenant_id) == user.tenant_id, col(RecoveryCode.user_id) == user.id)
    )
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.add_all(RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=_hash_recovery_code(c)) for c in codes)
    return codes


async def recovery_codes_remaining(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(RecoveryCode)
        .where(
            col(RecoveryCode.tenant_id) == tenant_id,
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.used_at).is_(None),
        )
    )
    return int((await db.execute(query)).scalar_one())


async def _accept_totp(db: AsyncSession, authenticator: UserTotp, settings: Settings, code: str) -> str:
    """'ok', 'replayed' or 'invalid'. A code's step must be newer than the last accepted
    one; the conditional update makes that hold under concurrency too."""
    secret = cipher(settings).decrypt(authenticator.secret_ciphertext).decode()
    step = totp.matching_step(secret, code, clock.now())
    if step is None:
        return "invalid"
    accepted = await db.execute(
        update(UserTotp)
        .where(
            col(UserTotp.tenant_id) == authenticator.tenant_id,
            col(UserTotp.user_id) == authenticator.user_id,
            (col(UserTotp.last_used_step).is_(None)) | (col(UserTotp.last_used_step) < step),
        )
        .values(last_used_step=step)
        .returning(col(UserTotp.user_id))
    )
    return "ok" if accepted.first() is not None else "replayed"


# --- enrollment -------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrollment:
    secret: str
    otpauth_uri: str
    qr_svg: str


async def begin_enrollment(work: Work, session: SessionInfo) -> Enrollment:
    db, settings, meta = work.db, work.settings, work.meta
    # Also when the organisation demands it: that enrolment usually comes straight after
    # the password, but a session made to enrol by a later requireMfa may be old (and
    # whoever holds its cookie must not choose the account's second factor).
    await stepup.require_fresh(work, session.actor)
    user = await db.get(User, (session.tenant_id, session.user_id))
    tenant = await tenants.get(db, session.tenant_id)
    assert user is not None
    existing = await _authenticator(db, user.tenant_id, user.id, lock=True)
    if existing is not None and existing.confirmed_at is not None:
        raise UserFailure.of(ErrorCode.ALREADY_ENABLED, _("Two-factor authentication is already on."))
    secret = totp.new_secret()
    sealed = cipher(settings)
    if existing is None:
        existing = UserTotp(tenant_id=user.tenant_id, user_id=user.id, secret_ciphertext="", key_id="")
        db.add(existing)
    existing.secret_ciphertext = sealed.encrypt(secret.encode())
    existing.key_id = sealed.current_kid
    existing.last_used_step = None
    existing.created_at = clock.now()
    audit.record(
        db,
        tenant_id=user.tenant_id,
        action=actions.MFA_ENROLLMENT_STARTED,
        meta=meta,
        actor=session.actor,
        target_type="user",
        target_id=user.id,
    )
    await db.flush()
    uri = totp.provisioning_uri(secret, account=user.username, issuer=tenant.name)
    return Enrollment(secret=secret, otpauth_uri=uri, qr_svg=totp.qr_svg(uri))


@dataclass(frozen=True)
class Confirmed:
    recovery_codes: list[str]
    session_token: str


async def confirm_enrollment(work: Work, session: SessionInfo, *, code: str) -> Confirmed:
    """Turns TOTP on, returns the recovery codes (shown once) and a new session token:
    an enrollment-only session becomes a full one."""
    db, settings, meta, attempts = work.db, work.settings, work.meta, work.attempts
    await attempts.take(attempts.limits.mfa_account, str(session.user_id))
    authenticator = await _authenticator(db, session.tenant_id, session.user_id, lock=True)
    if authenticator is None:
        raise UserFailure.of(ErrorCode.NOT_ENABLED, _("Start the enrollment first."))
    if authenticator.confirmed_at is not None:
        raise UserFailure.of(ErrorCode.ALREADY_ENABLED, _("Two-factor authentication is already on."))
    if await _accept_totp(db, authenticator, settings, code) != "ok":
        raise UserFailure.of(
            ErrorCode.INVALID_CODE, _("That code is not right; check the time on your device."), "input.code"
        )
    user = await db.get(
        User, (session.tenant_id, session.user_id), with_for_update={"key_share": True}, populate_existing=True
    )
    tenant = await tenants.get(db, session.tenant_id)
    assert user is not None
    authenticator.confirmed_at = clock.now()
    user.mfa_enabled = True
    await attempts.clear(attempts.limits.mfa_account, str(user.id))
    codes = await _replace_recovery_codes(db, user)
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.MFA_ENABLED,
        meta=meta,
        actor=session.actor,
        target_type="user",
        target_id=user.id,
        changes={"mfa_enabled": {"old": False, "new": True}},
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.RECOVERY_CODES_GENERATED,
        meta=meta,
        actor=session.actor,
        target_type="user",
        target_id=user.id,
        changes={"count": {"new": RECOVERY_CODE_COUNT}},
    )
    # The code just given proves the new factor; the password's proof keeps its time.
    upgraded = SessionInfo(
        session.session_id,
        session.tenant_id,
        session.user_id,
        session.role,
        SessionStage.FULL,
        True,
        proof_at=session.proof_at or clock.now(),
        proof_method=ProofMethod.PASSWORD_TOTP,
    )
    token = await sessions.rotate(db, upgraded, user=user, tenant=tenant, meta=meta)
    await db.flush()
    return Confirmed(codes, token)


# --- the second step of login -----------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    user: User
    tenant: Tenant
    session_token: str


async def verify(work: Work, pending: SessionInfo, *, code: str) -> Verified:
    """A TOTP code or an unused recovery code turns the pending session into a full one."""
    db, settings, meta, attempts = work.db, work.settings, work.meta, work.attempts
    try:
        await attempts.take(attempts.limits.mfa_session, str(pending.session_id))
        await attempts.take(attempts.limits.mfa_account, str(pending.user_id))
    except RateLimited:
        # The pending session is spent: the user logs in again once the limit allows.
        async def spend(standing_db: AsyncSession) -> None:
            await standing_db.execute(
                delete(UserSession).where(
                    col(UserSession.tenant_id) == pending.tenant_id, col(UserSession.id) == pending.session_id
                )
            )
            audit.record(
                standing_db,
                tenant_id=pending.tenant_id,
                action=actions.MFA_ATTEMPTS_EXHAUSTED,
                meta=meta,
                actor_id=pending.user_id,
                target_type="user",
                target_id=pending.user_id,
            )

        work.stand(spend)
        raise
    authenticator = await _authenticator(db, pending.tenant_id, pending.user_id)
    user = await db.get(User, (pending.tenant_id, pending.user_id))
    tenant = await tenants.get(db, pending.tenant_id)
    assert user is not None
    # An account whose second factor is a passkey only has no code to give.
    confirmed = authenticator is not None and authenticator.confirmed_at is not None
    outcome = await _accept_totp(db, authenticator, settings, code) if confirmed and authenticator else "invalid"
    method = "totp"
    if outcome == "invalid" and await _spend_recovery_code(db, user.tenant_id, user.id, code):
        outcome, method = "ok", "recovery_code"
        audit.record(
            db,
            tenant_id=tenant.id,
            action=actions.RECOVERY_CODE_USED,
            meta=meta,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
        )
    if outcome != "ok":
        action = actions.MFA_CODE_REPLAYED if outcome == "replayed" else actions.MFA_FAILED
        audit.record_failure(
            work, tenant_id=tenant.id, action=action, actor_id=user.id, target_type="user", target_id=user.id
        )
        raise UserFailure.of(ErrorCode.INVALID_CODE, _("That code is not right."), "input.code")

    await db.execute(
        delete(UserSession).where(
            col(UserSession.tenant_id) == pending.tenant_id, col(UserSession.id) == pending.session_id
        )
    )
    await attempts.clear(attempts.limits.mfa_account, str(user.id))
    token, _session = await sessions.start(
        db, user=user, tenant=tenant, meta=meta, stage=SessionStage.FULL, mfa_verified=True
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.MFA_VERIFIED,
        meta=meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"method": {"new": method}},
    )
    await db.flush()
    return Verified(user, tenant, token)


# --- turning it off, new codes ----------------------------------------------------------


async def _confirmed(db: AsyncSession, actor: Actor) -> UserTotp:
    authenticator = await _authenticator(db, actor.tenant_id, actor.user_id, lock=True)
    if authenticator is None or authenticator.confirmed_at is None:
        raise UserFailure.of(ErrorCode.NOT_ENABLED, _("Two-factor authentication is not on."))
    return authenticator


async def _remove(db: AsyncSession, user: User) -> None:
    await db.execute(
        delete(UserTotp).where(col(UserTotp.tenant_id) == user.tenant_id, col(UserTotp.user_id) == user.id)
    )
    await db.execute(
        delete(RecoveryCode).where(col(RecoveryCode.tenant_id) == user.tenant_id, col(RecoveryCode.user_id) == user.id)
    )
    # Passkeys are a second factor too: the account keeps one while it has any.
    user.mfa_enabled = await passkeys.has_passkeys(db, user.tenant_id, user.id)


async def _prove_second_factor(work: Work, actor: Actor, code: str | None) -> UserTotp:
    """Changing second factors needs a second factor: a current TOTP code or an unused
    recovery code. Every guess counts against the account's code budget (the same as at
    login), before it is checked; a right one gives back only its own attempt."""
    db, attempts = work.db, work.attempts
    await _confirmed(db, actor)
    if not code:
        raise UserFailure.of(
            ErrorCode.INVALID_CODE, _("Give a code from your authenticator or a recovery code."), "input.code"
        )
    await attempts.take(attempts.limits.mfa_account, str(actor.user_id))
    authenticator = await _confirmed(db, actor)
    outcome = await _accept_totp(db, authenticator, work.settings, code)
    if outcome == "invalid" and await _spend_recovery_code(db, actor.tenant_id, actor.user_id, code):
        audit.record(
            db,
            tenant_id=actor.tenant_id,
            action=actions.RECOVERY_CODE_USED,
            meta=work.meta,
            actor=actor,
            target_type="user",
            target_id=actor.user_id,
        )
        outcome = "ok"
    if outcome != "ok":
        action = actions.MFA_CODE_REPLAYED if outcome == "replayed" else actions.MFA_FAILED
        audit.record_failure(
            work, tenant_id=actor.tenant_id, action=action, actor=actor, target_type="user", target_id=actor.user_id
        )
        raise UserFailure.of(ErrorCode.INVALID_CODE, _("That code is not right."), "input.code")
    await attempts.give_back(attempts.limits.mfa_account, str(actor.user_id))
    return authenticator


async def prove_code(work: Work, actor: Actor, code: str) -> None:
    """A current TOTP code or an unused recovery code of the acting account (step-up)."""
    await _prove_second_factor(work, actor, code)


async def confirm_second_factor(work: Work, actor: Actor, code: str | None) -> None:
    """For a sensitive action (closing the organisation): a second factor when the account
    has one, a current TOTP code or an unused recovery code, on the same budget as above."""
    if await has_confirmed_totp(work.db, actor.tenant_id, actor.user_id):
        await _prove_second_factor(work, actor, code)


async def _spend_recovery_code(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, code: str) -> bool:
    """Marks an unused recovery code used (a conditional UPDATE: of concurrent uses one wins)."""
    used = await db.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.tenant_id) == tenant_id,
            col(RecoveryCode.user_id) == user_id,
            col(RecoveryCode.code_hash) == _hash_recovery_code(code[:64]),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=clock.now())
        .returning(col(RecoveryCode.id))
    )
    return used.first() is not None


async def disable(work: Work, *, password: str, code: str) -> None:
    actor, db = work.acting(), work.db
    await stepup.require_fresh(work)
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    assert user is not None
    await _confirmed(db, actor)
    await confirm_password(work, user, password, field="input.password", failed_action=actions.MFA_FAILED)
    await _prove_second_factor(work, actor, code)
    passkeys_left = await passkeys.count_of(db, user.tenant_id, user.id)
    await passkeys.ensure_a_factor_left(db, actor.tenant_id, left=passkeys_left, field="input.code")
    await _remove(db, user)
    audit.record(
        db,
        tenant_id=actor.tenant_id,
        action=actions.MFA_DISABLED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=user.id,
        changes={"mfa_enabled": {"old": True, "new": False}},
    )
    await db.flush()


async def regenerate_recovery_codes(work: Work, *, password: str, code: str | None) -> list[str]:
    """New codes are a new permanent second factor: they need the password and a second factor."""
    actor, db = work.acting(), work.db
    await stepup.require_fresh(work)
    user = await db.get(User, (actor.tenant_id, actor.user_id))
    assert user is not None
    await _confirmed(db, actor)
    await confirm_password(work, user, password, field="input.password", failed_action=actions.MFA_FAILED)
    await _prove_second_factor(work, actor, code)
    codes = await _replace_recovery_codes(db, user)
    audit.record(
        db,
        tenant_id=actor.tenant_id,
        action=actions.RECOVERY_CODES_GENERATED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=user.id,
        changes={"count": {"new": RECOVERY_CODE_COUNT}},
    )
    await db.flush()
    return codes


async def reset_for_user(work: Work, *, user_id: str) -> None:
    """For a user who lost their authenticator: TOTP and codes go, and every session."""
    admin, db, meta = work.admin(), work.db, work.meta
    await stepup.require_fresh(work)
    if users.parse_id(user_id) == admin.user_id:
        # One's own second factor is changed with a second factor (disableTotp), never by
        # the administrator power that is meant for others.
        raise Forbidden()
    user = await users.visible(db, admin, user_id, lock=True)
    if user is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such account."), "id")
    if user.role == Role.OWNER and not admin.is_owner:
        raise Forbidden()
    if not user.mfa_enabled and await _authenticator(db, user.tenant_id, user.id) is None:
        raise UserFailure.of(ErrorCode.NOT_ENABLED, _("This account has no two-factor authentication."), "id")
    # Lost devices: TOTP, recovery codes and passkeys all go.
    await db.execute(
        delete(WebauthnCredential).where(
            col(WebauthnCredential.tenant_id) == user.tenant_id, col(WebauthnCredential.user_id) == user.id
        )
    )
    await _remove(db, user)
    revoked = await sessions.revoke(
        db, tenant_id=user.tenant_id, user_id=user.id, meta=meta, actor=admin, reason="mfa_reset"
    )
    audit.record(
        db,
        tenant_id=admin.tenant_id,
        action=actions.MFA_RESET,
        meta=meta,
        actor=admin,
        target_type="user",
        target_id=user.id,
        changes={"mfa_enabled": {"old": True, "new": False}, "sessions_revoked": {"new": len(revoked)}},
    )
    await db.flush()
