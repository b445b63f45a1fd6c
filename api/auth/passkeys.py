"""Passkeys (WebAuthn, with the `webauthn` package): registering them, signing in with one
alone (discoverable, user-verified: two factors in one), using one as the second factor
after a password, and as the proof of a step-up.

Every ceremony starts with options whose challenge is stored as its hash, for that
ceremony only, bound to the session that asked (or, signing in, to the flow id handed
out with it), single-use and short-lived. The answer is verified against the relying
party id and origins from settings, user verification required. A signature counter that
does not go forward is refused and audited. What is stored of a credential: its id, public
key, counter, AAGUID, transports and backup flags; never key material of the user's."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from api import clock, text
from api.accounts import identifiers, tenants
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.request_meta import Actor
from api.security import sessions, stepup
from api.security.sessions import SessionInfo
from api.work import Work
from db.enums import AccountStatus, PasskeyCeremony, ProofMethod, SessionStage
from db.models import Tenant, User, UserSession, UserTotp, WebauthnChallenge, WebauthnCredential

MAX_CREDENTIAL_BYTES = 64 * 1024
MAX_PER_USER = 20
REFUSED = _("The passkey was not accepted.")


# --- challenges ---------------------------------------------------------------------------


def _hash(challenge: bytes) -> bytes:
    return hashlib.sha256(challenge).digest()


def _store(
    work: Work,
    ceremony: PasskeyCeremony,
    challenge: bytes,
    *,
    tenant_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
) -> uuid.UUID:
    now = clock.now()
    row = WebauthnChallenge(
        ceremony=ceremony,
        challenge_hash=_hash(challenge),
        tenant_id=tenant_id,
        user_id=user_id,
        session_id=session_id,
        created_at=now,
        expires_at=now + timedelta(seconds=work.settings.passkey_challenge_seconds),
    )
    work.db.add(row)
    return row.id


async def _take(
    work: Work, flow_id: str, ceremony: PasskeyCeremony, challenge: bytes, *, session_id: uuid.UUID | None
) -> WebauthnChallenge | None:
    """The challenge of this flow, spent (of two uses exactly one finds it), when it is
    the one the answer signed, for this ceremony and session, and not expired. Spent for
    good even when what follows fails: a challenge is answered once."""
    try:
        fid = uuid.UUID(flow_id)
    except (ValueError, TypeError, AttributeError):
        return None
    db = work.db

    async def spend(standing_db: AsyncSession) -> None:
        await standing_db.execute(
            update(WebauthnChallenge)
            .where(
                col(WebauthnChallenge.id) == fid,
                col(WebauthnChallenge.challenge_hash) == _hash(challenge),
                col(WebauthnChallenge.used_at).is_(None),
            )
            .values(used_at=clock.now())
        )

    work.stand(spend)
    query = (
        update(WebauthnChallenge)
        .where(
            col(WebauthnChallenge.id) == fid,
            col(WebauthnChallenge.ceremony) == ceremony,
            col(WebauthnChallenge.challenge_hash) == _hash(challenge),
            col(WebauthnChallenge.used_at).is_(None),
            col(WebauthnChallenge.expires_at) > clock.now(),
        )
        .values(used_at=clock.now())
        .returning(WebauthnChallenge)
    )
    if session_id is not None:
        query = query.where(col(WebauthnChallenge.session_id) == session_id)
    return (await db.execute(query)).scalar_one_or_none()


def _options(options: Any) -> dict[str, Any]:
    return json.loads(options_to_json(options))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Ceremony:
    flow_id: uuid.UUID
    options: dict[str, Any]


async def _limit(work: Work) -> None:
    await work.attempts.take(work.attempts.limits.passkey_options, work.meta.ip_address or "unknown")


def _descriptors(credentials: list[WebauthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=c.credential_id,
            transports=[
                AuthenticatorTransport(t) for t in c.transports if t in AuthenticatorTransport._value2member_map_
            ],
        )
        for c in credentials
    ]


async def of_user(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[WebauthnCredential]:
    query = (
        select(WebauthnCredential)
        .where(col(WebauthnCredential.tenant_id) == tenant_id, col(WebauthnCredential.user_id) == user_id)
        .order_by(col(WebauthnCredential.created_at), col(WebauthnCredential.id))
    )
    return list((await db.execute(query)).scalars())


def _parse(kind: str, credential: Any) -> Any:
    """The browser's answer as the library reads it; None when it is not one."""
    try:
        if len(json.dumps(credential)) > MAX_CREDENTIAL_BYTES:
            return None
        if kind == "registration":
            return parse_registration_credential_json(credential)
        return parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError):
        return None


def _signed_challenge(parsed: RegistrationCredential | AuthenticationCredential) -> bytes | None:
    try:
        client_data = json.loads(parsed.response.client_data_json)
        return base64url_to_bytes(client_data["challenge"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _refused(field: str = "input.credential") -> UserFailure:
    return UserFailure.of(ErrorCode.INVALID_CREDENTIALS, REFUSED, field)


def _failed(work: Work, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None, ceremony: str, reason: str) -> None:
    if tenant_id is None:
        return
    audit.record_failure(
        work,
        tenant_id=tenant_id,
        action=actions.PASSKEY_FAILED,
        actor_id=user_id,
        target_type="user" if user_id else None,
        target_id=user_id,
        changes={"ceremony": {"new": ceremony}, "reason": {"new": reason}},
    )


# --- registration -------------------------------------------------------------------------


async def begin_registration(work: Work) -> Ceremony:
    actor, db, settings = work.acting(), work.db, work.settings
    await stepup.require_fresh(work)
    await _limit(work)
    user = await db.get(User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True})
    assert user is not None
    if user.webauthn_user_handle is None:
        user.webauthn_user_handle = secrets.token_bytes(32)
    existing = await of_user(db, actor.tenant_id, actor.user_id)
    if len(existing) >= MAX_PER_USER:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, _("An account has at most %(max)s passkeys.", max=MAX_PER_USER))
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=settings.webauthn_rp_name,
        user_name=user.username,
        user_id=user.webauthn_user_handle,
        user_display_name=user.display_name or user.username,
        timeout=settings.passkey_challenge_seconds * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    flow = _store(
        work,
        PasskeyCeremony.REGISTRATION,
        options.challenge,
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        session_id=actor.session_id,
    )
    await db.flush()
    return Ceremony(flow, _options(options))


def _name(value: str | None) -> str:
    if value is None or not value.strip():
        return "Passkey"
    return text.clean(value, field="input.name", what=_("Passkey names"), max_length=64)


async def finish_registration(work: Work, *, flow_id: str, credential: Any, name: str | None) -> WebauthnCredential:
    actor, db, settings = work.acting(), work.db, work.settings
    await stepup.require_fresh(work)
    label = _name(name)
    parsed = _parse("registration", credential)
    challenge = _signed_challenge(parsed) if parsed is not None else None
    flow = (
        await _take(work, flow_id, PasskeyCeremony.REGISTRATION, challenge, session_id=actor.session_id)
        if challenge is not None
        else None
    )
    if flow is None or flow.user_id != actor.user_id or challenge is None:
        _failed(work, actor.tenant_id, actor.user_id, "registration", "unknown_or_spent_challenge")
        raise _refused()
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.rp_origins,
            require_user_verification=True,
        )
    except WebAuthnException as error:
        _failed(work, actor.tenant_id, actor.user_id, "registration", _reason(error))
        raise _refused() from None
    user = await db.get(User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True})
    assert user is not None
    taken = await db.execute(
        select(col(WebauthnCredential.id)).where(
            col(WebauthnCredential.tenant_id) == actor.tenant_id,
            col(WebauthnCredential.credential_id) == verified.credential_id,
        )
    )
    if taken.first() is not None:
        raise UserFailure.of(ErrorCode.DUPLICATE, _("This passkey is registered already."), "input.credential")
    transports = [t.value for t in (parsed.response.transports or [])][:8]
    stored = WebauthnCredential(
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=str(verified.aaguid),
        transports=transports,
        backup_eligible=verified.credential_device_type == "multi_device",
        backed_up=verified.credential_backed_up,
        name=label,
        created_at=clock.now(),
    )
    db.add(stored)
    before = user.mfa_enabled
    user.mfa_enabled = True
    audit.record(
        db,
        tenant_id=actor.tenant_id,
        action=actions.PASSKEY_REGISTERED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=actor.user_id,
        changes={
            "passkey_id": {"new": str(stored.id)},
            "aaguid": {"new": stored.aaguid},
            **({"mfa_enabled": {"old": False, "new": True}} if not before else {}),
        },
    )
    await db.flush()
    return stored


def _reason(error: Exception) -> str:
    text_ = str(error).lower()
    if "origin" in text_:
        return "wrong_origin"
    if "sign count" in text_:
        return "sign_count_not_increasing"
    if "challenge" in text_:
        return "wrong_challenge"
    if "verif" in text_ and "user" in text_:
        return "user_not_verified"
    if "signature" in text_:
        return "bad_signature"
    return "invalid_response"


# --- using one ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Asserted:
    credential: WebauthnCredential
    user: User


async def _assert(
    work: Work,
    *,
    ceremony: PasskeyCeremony,
    flow_id: str,
    credential: Any,
    session_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> Asserted:
    """Verify an assertion for this flow; the credential (its counter moved on) and its
    account. A counter that does not go forward is refused and audited as such."""
    db, settings = work.db, work.settings
    parsed = _parse("authentication", credential)
    challenge = _signed_challenge(parsed) if parsed is not None else None
    flow = await _take(work, flow_id, ceremony, challenge, session_id=session_id) if challenge is not None else None
    if flow is None or flow.tenant_id is None or challenge is None:
        _failed(work, flow.tenant_id if flow else None, user_id, ceremony, "unknown_or_spent_challenge")
        raise _refused()
    tenant_id = flow.tenant_id
    stored = (
        await db.execute(
            select(WebauthnCredential)
            .where(
                col(WebauthnCredential.tenant_id) == tenant_id,
                col(WebauthnCredential.credential_id) == parsed.raw_id,
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    owner_id = user_id or flow.user_id
    if stored is None or (owner_id is not None and stored.user_id != owner_id):
        _failed(work, tenant_id, owner_id, ceremony, "unknown_credential")
        raise _refused()
    user = await db.get(User, (tenant_id, stored.user_id), with_for_update={"key_share": True})
    handle = parsed.response.user_handle
    if user is None or (handle is not None and handle != user.webauthn_user_handle):
        _failed(work, tenant_id, stored.user_id, ceremony, "wrong_user_handle")
        raise _refused()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.rp_origins,
            credential_public_key=stored.public_key,
            credential_current_sign_count=0,  # compared below, so that a regression is told apart
            require_user_verification=True,
        )
    except WebAuthnException as error:
        _failed(work, tenant_id, user.id, ceremony, _reason(error))
        raise _refused() from None
    if (verified.new_sign_count > 0 or stored.sign_count > 0) and verified.new_sign_count <= stored.sign_count:
        # A cloned authenticator, or a replayed answer: refused, and kept in the log.
        audit.record_failure(
            work,
            tenant_id=tenant_id,
            action=actions.PASSKEY_SIGN_COUNT_REGRESSED,
            actor_id=user.id,
            target_type="user",
            target_id=user.id,
            changes={
                "passkey_id": {"new": str(stored.id)},
                "stored": {"new": stored.sign_count},
                "presented": {"new": verified.new_sign_count},
            },
        )
        raise _refused()
    stored.sign_count, stored.backed_up, stored.last_used_at = (
        verified.new_sign_count,
        verified.credential_backed_up,
        clock.now(),
    )
    audit.record(
        work.db,
        tenant_id=tenant_id,
        action=actions.PASSKEY_USED,
        meta=work.meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"passkey_id": {"new": str(stored.id)}, "ceremony": {"new": ceremony}},
    )
    return Asserted(stored, user)


async def _authentication_options(
    work: Work,
    ceremony: PasskeyCeremony,
    *,
    tenant_id: uuid.UUID | None,
    actor: Actor | None,
    allow: list[WebauthnCredential],
) -> Ceremony:
    settings = work.settings
    options = generate_authentication_options(
        rp_id=settings.rp_id,
        timeout=settings.passkey_challenge_seconds * 1000,
        allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    flow = _store(
        work,
        ceremony,
        options.challenge,
        tenant_id=tenant_id,
        user_id=actor.user_id if actor else None,
        session_id=actor.session_id if actor else None,
    )
    await work.db.flush()
    return Ceremony(flow, _options(options))


async def begin_login(work: Work, *, tenant_slug: str) -> Ceremony:
    """Options for signing in with a passkey alone (the browser offers the tenant's
    passkeys it holds). The same answer whether or not the tenant exists."""
    await _limit(work)
    tenant = await tenants.by_slug(work.db, tenant_slug) if identifiers.slug(tenant_slug) else None
    tenant_id = tenant.id if tenant is not None and tenant.state != "CLOSED" else None
    return await _authentication_options(work, PasskeyCeremony.LOGIN, tenant_id=tenant_id, actor=None, allow=[])


@dataclass(frozen=True)
class PasskeySignIn:
    user: User
    tenant: Tenant
    session_token: str


async def finish_login(work: Work, *, flow_id: str, credential: Any, previous_token: str | None) -> PasskeySignIn:
    """A user-verified passkey is two factors: a full session, `requireMfa` satisfied."""
    db, meta = work.db, work.meta
    await work.attempts.take(work.attempts.limits.login_ip, meta.ip_address or "unknown")
    asserted = await _assert(
        work, ceremony=PasskeyCeremony.LOGIN, flow_id=flow_id, credential=credential, session_id=None, user_id=None
    )
    user = asserted.user
    tenant = await tenants.get(db, user.tenant_id)
    if user.status != AccountStatus.ACTIVE:
        _failed(work, tenant.id, user.id, "login", "account_" + user.status.lower())
        raise _refused()
    if tenant.state != "ACTIVE":
        raise tenants.not_in_use(tenant)
    await work.attempts.take(work.attempts.limits.login_success, str(user.id))
    await work.attempts.give_back(work.attempts.limits.login_ip, meta.ip_address or "unknown")
    if previous_token:
        await sessions.end(db, previous_token, meta, reason="replaced_by_login")
    user.last_login_at, user.inactivity_warned_at = clock.now(), None
    token, _session = await sessions.start(
        db, user=user, tenant=tenant, meta=meta, stage=SessionStage.FULL, mfa_verified=True, proof=ProofMethod.PASSKEY
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.LOGIN_SUCCEEDED,
        meta=meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"stage": {"new": SessionStage.FULL}, "method": {"new": "passkey"}},
    )
    await db.flush()
    return PasskeySignIn(user, tenant, token)


async def begin_second_factor(work: Work, pending: SessionInfo) -> Ceremony:
    db = work.db
    await work.attempts.take(work.attempts.limits.mfa_session, str(pending.session_id))
    mine = await of_user(db, pending.tenant_id, pending.user_id)
    if not mine:
        raise UserFailure.of(ErrorCode.NOT_ENABLED, _("This account has no passkey; give a code instead."))
    return await _authentication_options(
        work, PasskeyCeremony.SECOND_FACTOR, tenant_id=pending.tenant_id, actor=pending.actor, allow=mine
    )


async def finish_second_factor(work: Work, pending: SessionInfo, *, flow_id: str, credential: Any) -> PasskeySignIn:
    """After a password: the pending session becomes a full one, proven by password and passkey."""
    db, meta, attempts = work.db, work.meta, work.attempts
    await attempts.take(attempts.limits.mfa_account, str(pending.user_id))
    asserted = await _assert(
        work,
        ceremony=PasskeyCeremony.SECOND_FACTOR,
        flow_id=flow_id,
        credential=credential,
        session_id=pending.session_id,
        user_id=pending.user_id,
    )
    user = asserted.user
    tenant = await tenants.get(db, user.tenant_id)
    await db.execute(
        delete(UserSession).where(
            col(UserSession.tenant_id) == pending.tenant_id, col(UserSession.id) == pending.session_id
        )
    )
    await attempts.clear(attempts.limits.mfa_account, str(user.id))
    token, _session = await sessions.start(
        db,
        user=user,
        tenant=tenant,
        meta=meta,
        stage=SessionStage.FULL,
        mfa_verified=True,
        proof=ProofMethod.PASSWORD_PASSKEY,
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.MFA_VERIFIED,
        meta=meta,
        actor_id=user.id,
        target_type="user",
        target_id=user.id,
        changes={"method": {"new": "passkey"}},
    )
    await db.flush()
    return PasskeySignIn(user, tenant, token)


async def begin_reauthentication(work: Work) -> Ceremony:
    actor = work.acting()
    await _limit(work)
    mine = await of_user(work.db, actor.tenant_id, actor.user_id)
    if not mine:
        raise UserFailure.of(ErrorCode.NOT_ENABLED, _("This account has no passkey; use the password instead."))
    return await _authentication_options(
        work, PasskeyCeremony.REAUTHENTICATION, tenant_id=actor.tenant_id, actor=actor, allow=mine
    )


async def reauthenticate_with(work: Work, *, flow_id: str, credential: Any) -> None:
    actor = work.acting()
    await _assert(
        work,
        ceremony=PasskeyCeremony.REAUTHENTICATION,
        flow_id=flow_id,
        credential=credential,
        session_id=actor.session_id,
        user_id=actor.user_id,
    )


# --- managing them ------------------------------------------------------------------------


async def _mine(work: Work, passkey_id: str, *, lock: bool = False) -> WebauthnCredential:
    actor = work.acting()
    try:
        pid = uuid.UUID(passkey_id)
    except (ValueError, TypeError, AttributeError):
        pid = None
    query = select(WebauthnCredential).where(
        col(WebauthnCredential.tenant_id) == actor.tenant_id,
        col(WebauthnCredential.user_id) == actor.user_id,
        col(WebauthnCredential.id) == pid,
    )
    if lock:
        query = query.with_for_update()
    found = (await work.db.execute(query)).scalar_one_or_none() if pid else None
    if found is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No such passkey."), "input.id")
    return found


async def rename(work: Work, *, passkey_id: str, name: str) -> WebauthnCredential:
    actor = work.acting()
    label = _name(name)
    found = await _mine(work, passkey_id, lock=True)
    if found.name != label:
        found.name = label
        audit.record(
            work.db,
            tenant_id=actor.tenant_id,
            action=actions.PASSKEY_RENAMED,
            meta=work.meta,
            actor=actor,
            target_type="user",
            target_id=actor.user_id,
            changes={"passkey_id": {"new": str(found.id)}, "name": {"changed": True}},
        )
        await work.db.flush()
    return found


async def count_of(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, excluding: uuid.UUID | None = None
) -> int:
    """The account's passkeys (but one, when it is about to go)."""
    query = (
        select(func.count())
        .select_from(WebauthnCredential)
        .where(col(WebauthnCredential.tenant_id) == tenant_id, col(WebauthnCredential.user_id) == user_id)
    )
    if excluding is not None:
        query = query.where(col(WebauthnCredential.id) != excluding)
    return int((await db.execute(query)).scalar_one())


async def ensure_a_factor_left(db: AsyncSession, tenant_id: uuid.UUID, *, left: int, field: str) -> None:
    """LAST_SECOND_FACTOR when removing one would leave none (`left`) while the tenant
    requires one: the rule for passkeys and TOTP alike."""
    if left == 0 and (await tenants.get(db, tenant_id)).require_mfa:
        raise UserFailure.of(
            ErrorCode.LAST_SECOND_FACTOR,
            _("Your organisation requires a second factor and this is your last one; add another first."),
            field,
        )


async def remove(work: Work, *, passkey_id: str) -> None:
    """Not the last second factor while the tenant requires one (the account always has its
    password to sign in with, so a passkey is never the last way in)."""
    actor, db = work.acting(), work.db
    await stepup.require_fresh(work)
    user = await db.get(User, (actor.tenant_id, actor.user_id), with_for_update={"key_share": True})
    assert user is not None
    found = await _mine(work, passkey_id, lock=True)
    others = await count_of(db, actor.tenant_id, actor.user_id, excluding=found.id)
    totp = (
        await db.execute(
            select(func.count())
            .select_from(UserTotp)
            .where(
                col(UserTotp.tenant_id) == actor.tenant_id,
                col(UserTotp.user_id) == actor.user_id,
                col(UserTotp.confirmed_at).is_not(None),
            )
        )
    ).scalar_one()
    await ensure_a_factor_left(db, actor.tenant_id, left=others + totp, field="input.id")
    await db.delete(found)
    changes: dict[str, Any] = {"passkey_id": {"new": str(found.id)}}
    if others == 0 and totp == 0:
        user.mfa_enabled = False
        changes["mfa_enabled"] = {"old": True, "new": False}
    audit.record(
        db,
        tenant_id=actor.tenant_id,
        action=actions.PASSKEY_REMOVED,
        meta=work.meta,
        actor=actor,
        target_type="user",
        target_id=actor.user_id,
        changes=changes,
    )
    await db.flush()


async def has_passkeys(db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    found = await db.execute(
        select(col(WebauthnCredential.id))
        .where(col(WebauthnCredential.tenant_id) == tenant_id, col(WebauthnCredential.user_id) == user_id)
        .limit(1)
    )
    return found.first() is not None
