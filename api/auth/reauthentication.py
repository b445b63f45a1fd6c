"""Refreshing a session's proof of who is there without a new login (step-up): the
password, with a code when the account has a second factor, or a passkey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from api import clock
from api.audit import actions
from api.audit import service as audit
from api.auth import mfa, passkeys
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.security.reauth import confirm_password
from api.work import Work
from db.enums import ProofMethod
from db.models import User, UserSession


@dataclass(frozen=True)
class Proven:
    method: ProofMethod
    valid_until: datetime


async def reauthenticate(
    work: Work, *, password: str | None, code: str | None, flow_id: str | None, credential: Any
) -> Proven:
    actor, db = work.acting(), work.db
    if flow_id or credential is not None:
        await passkeys.reauthenticate_with(work, flow_id=flow_id or "", credential=credential)
        method = ProofMethod.PASSKEY
    else:
        user = await db.get(User, (actor.tenant_id, actor.user_id))
        assert user is not None
        await confirm_password(
            work, user, password or "", field="input.password", failed_action=actions.REAUTHENTICATION_FAILED
        )
        method = ProofMethod.PASSWORD
        if code:
            await mfa.prove_code(work, actor, code)
            method = ProofMethod.PASSWORD_TOTP
        elif actor.has_second_factor:
            raise UserFailure.of(
                ErrorCode.INVALID_CODE,
                _("Your account has a second factor: give a code with the password, or use a passkey."),
                "input.code",
            )
    now = clock.now()
    await db.execute(
        update(UserSession)
        .where(col(UserSession.tenant_id) == actor.tenant_id, col(UserSession.id) == actor.session_id)
        .values(proof_at=now, proof_method=method)
    )
    audit.record(
        db,
        tenant_id=actor.tenant_id,
        action=actions.SESSION_REAUTHENTICATED,
        meta=work.meta,
        actor=actor,
        target_type="session",
        target_id=actor.session_id,
        changes={"method": {"new": method}},
    )
    await db.flush()
    return Proven(method, now + timedelta(minutes=work.settings.reauth_max_age_minutes))
