"""Operator login and logout. One step: the password and the current TOTP code together
(an operator always has a second factor). Every failure looks the same from outside
(INVALID_CREDENTIALS, the same work: a dummy hash is verified for an unknown name) and is
recorded in the operators' log with its reason inside, standing although the unit of work
rolls back. The limits are the users' (api.attempts): per client IP and per normalised
username (answered RATE_LIMITED, the same whether or not the operator exists), and the
operator's own budget, which is silent."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.accounts import identifiers
from api.attempts import Step
from api.audit import actions
from api.errors import ErrorCode, RateLimited, UserFailure
from api.i18n import _
from api.metrics import LOGINS
from api.operators import accounts, log, sessions
from api.security import passwords, totp
from api.security import sessions as user_sessions
from api.work import Work
from db.enums import ActorType
from db.models import Operator

logger = logging.getLogger("api.operators")

BAD_CREDENTIALS = _("The username, password or code is not right.")


@dataclass(frozen=True)
class OperatorLoggedIn:
    operator: Operator
    session_token: str


def limit_subject(username: str | None) -> str:
    """What attempts on an operator name count under: never a users' tenant:identifier
    (a slug cannot hold '@'), so a tenant named "operator" shares no counter with them."""
    return "@operator:" + (username or "-")


async def _accept_code(db: AsyncSession, operator: Operator, secret: str, code: str) -> str:
    """'ok', 'replayed' or 'invalid'. A code's time step must be newer than the last one
    accepted; the conditional update makes that hold for concurrent logins too."""
    step = totp.matching_step(secret, code[:64], clock.now())
    if step is None:
        return "invalid"
    accepted = await db.execute(
        update(Operator)
        .where(
            col(Operator.id) == operator.id,
            col(Operator.totp_last_used_step).is_(None) | (col(Operator.totp_last_used_step) < step),
        )
        .values(totp_last_used_step=step)
        .returning(col(Operator.id))
    )
    return "ok" if accepted.first() is not None else "replayed"


def _record_failure(work: Work, operator: Operator | None, reason: str) -> None:
    # The name someone typed is not stored: it may be a mistyped password.
    meta, operator_id = work.meta, operator.id if operator is not None else None

    async def write(db: AsyncSession) -> None:
        log.record(
            db,
            action=actions.OPERATOR_LOGIN_FAILED,
            meta=meta,
            operator_id=operator_id,
            actor_type=ActorType.ANONYMOUS,
            changes={"reason": {"new": reason}},
        )

    work.stand(write)


async def login(work: Work, *, username: str, password: str, code: str, previous_token: str | None) -> OperatorLoggedIn:
    db, meta, attempts, settings = work.db, work.meta, work.attempts, work.settings
    limits = attempts.limits
    name = identifiers.identifier(username)
    operator = await accounts.by_username(db, username) if name else None
    subject = limit_subject(name)

    # In one statement, in the users' login order: the client IP's and the name's visible
    # limits, and the operator's silent one. The same statement whether or not the name
    # is an operator's (a third statement for existing ones only took measurably longer).
    client = meta.ip_address or "unknown"
    account_step = [Step.within(limits.login_account, "operator:" + str(operator.id))] if operator is not None else []
    try:
        verdicts = await attempts.steps(
            Step.take(limits.login_ip, client), Step.take(limits.login_identifier, subject), *account_step
        )
    except RateLimited as limited:
        if limited.limit == limits.login_identifier.name:
            LOGINS.labels("operator_rate_limited").inc()
            _record_failure(work, operator, "rate_limited")
        raise
    account_open = all(verdicts)

    checked_hash = operator.password_hash if operator is not None and account_open else None
    verified = await passwords.verify_password(checked_hash, password[: passwords.MAX_LENGTH * 4])
    # The code is checked (and its step spent) only behind a right password.
    outcome = (
        await _accept_code(db, operator, accounts.secret_of(operator, settings), code)
        if operator is not None and verified
        else "invalid"
    )
    reason = (
        "unknown_operator"
        if operator is None
        else "account_limited"
        if not account_open
        else "wrong_password"
        if not verified
        else "operator_disabled"
        if operator.disabled
        else "code_replayed"
        if outcome == "replayed"
        else "wrong_code"
        if outcome != "ok"
        else None
    )
    if reason is not None:
        _record_failure(work, operator, reason)
        LOGINS.labels("operator_invalid_credentials").inc()
        raise UserFailure.of(ErrorCode.INVALID_CREDENTIALS, BAD_CREDENTIALS)
    assert operator is not None

    account_key = "operator:" + str(operator.id)
    await attempts.take(limits.login_success, account_key)
    await attempts.give_back(limits.login_ip, meta.ip_address or "unknown")
    await attempts.clear(limits.login_identifier, subject)
    await attempts.clear(limits.login_account, account_key)
    if passwords.needs_rehash(operator.password_hash):
        operator.password_hash = await passwords.hash_password(password)
    if previous_token:
        await end_any(work, previous_token, reason="replaced_by_login")
    operator.last_login_at = clock.now()
    token, session = sessions.start(db, settings, operator, meta)
    log.record(
        db,
        action=actions.OPERATOR_LOGIN_SUCCEEDED,
        meta=meta,
        operator_id=operator.id,
        changes={"session_id": {"new": str(session.id)}},
    )
    await db.flush()
    LOGINS.labels("operator_success").inc()
    return OperatorLoggedIn(operator, token)


async def confirm(work: Work, *, password: str, code: str) -> None:
    """A fresh proof from the acting operator before an action that cannot be undone
    (closing a tenant): password and a current code, on the login budget; failures are
    logged and stand."""
    actor, db, attempts = work.operating(), work.db, work.attempts
    operator = await db.get(Operator, actor.operator_id)
    if operator is None or operator.disabled:
        raise UserFailure.of(ErrorCode.INVALID_CREDENTIALS, _("The password is not right."), "input.password")
    account_key = "operator:" + str(operator.id)
    await attempts.take(attempts.limits.login_account, account_key)
    if not await passwords.verify_password(operator.password_hash, password[: passwords.MAX_LENGTH * 4]):
        _record_failure(work, operator, "reauthentication_wrong_password")
        raise UserFailure.of(ErrorCode.INVALID_CREDENTIALS, _("The password is not right."), "input.password")
    if await _accept_code(db, operator, accounts.secret_of(operator, work.settings), code or "") != "ok":
        _record_failure(work, operator, "reauthentication_wrong_code")
        raise UserFailure.of(ErrorCode.INVALID_CODE, _("That code is not right."), "input.code")
    await attempts.give_back(attempts.limits.login_account, account_key)


async def logout(work: Work, token: str) -> uuid.UUID | None:
    """End the operator session behind the token (logged); its operator's id, or None."""
    operator_id = await sessions.end(work.db, token)
    if operator_id is not None:
        log.record(
            work.db,
            action=actions.OPERATOR_LOGGED_OUT,
            meta=work.meta,
            operator_id=operator_id,
            changes={"reason": {"new": "logout"}},
        )
    return operator_id


async def end_any(work: Work, token: str, *, reason: str) -> None:
    """The session a browser presented when it logs in anew, whichever realm it is of."""
    if sessions.is_operator_token(token):
        operator_id = await sessions.end(work.db, token)
        if operator_id is not None:
            log.record(
                work.db,
                action=actions.OPERATOR_LOGGED_OUT,
                meta=work.meta,
                operator_id=operator_id,
                changes={"reason": {"new": reason}},
            )
    else:
        await user_sessions.end(work.db, token, work.meta, reason=reason)
