"""Operator accounts: the vendor's staff, made from the command line only. Each has a
password (the users' policy, argon2id) and, always, a TOTP second factor, whose secret
is sealed at rest like users' (AES-GCM under a key derived for this purpose) and shown
once, when it is issued."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api import clock
from api.accounts import identifiers, validation
from api.audit import actions
from api.crypto import Cipher
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.operators import log
from api.security import passwords, totp
from api.settings import Settings
from api.work import Work
from db.enums import ActorType
from db.models import Operator, OperatorSession

ISSUER = "Accounts operators"


def cipher(settings: Settings) -> Cipher:
    """The operators' TOTP secrets have a key of their own (not the users')."""
    return Cipher(settings.secret_keys(), purpose="operator-totp")


@dataclass(frozen=True)
class Factor:
    """A newly issued TOTP secret, shown once to the operator who enrolls it."""

    operator: Operator
    secret: str
    otpauth_uri: str


async def by_username(db: AsyncSession, username: str, *, lock: bool = False) -> Operator | None:
    """The operator this typed username names (case-insensitive, as the unique index), or None."""
    normal = identifiers.identifier(username)
    if normal is None:
        return None
    query = select(Operator).where(func.lower(col(Operator.username)) == normal)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await db.execute(query)).scalar_one_or_none()


def _issue_factor(operator: Operator, settings: Settings) -> Factor:
    secret = totp.new_secret()
    sealed = cipher(settings)
    operator.totp_secret_ciphertext = sealed.encrypt(secret.encode())
    operator.totp_key_id = sealed.current_kid
    operator.totp_last_used_step = None
    uri = totp.provisioning_uri(secret, account=operator.username, issuer=ISSUER)
    return Factor(operator, secret, uri)


def secret_of(operator: Operator, settings: Settings) -> str:
    return cipher(settings).decrypt(operator.totp_secret_ciphertext).decode()


async def create(work: Work, *, username: str, email: str, password: str) -> Factor:
    """A new operator with its password and second factor; DUPLICATE when the username
    (case-insensitive) is taken. Audited in the operators' log as the system's act."""
    db = work.db
    username = validation.username(username, "username")
    email = validation.email(email, "email")
    taken = UserFailure.of(ErrorCode.DUPLICATE, _("An operator named %(name)r exists.", name=username), "username")
    if await by_username(db, username) is not None:
        raise taken
    password_hash = await passwords.hash_new_password(
        password, username=username, email=email, tenant_words=[], field="password"
    )
    operator = Operator(
        username=username,
        email=email,
        password_hash=password_hash,
        totp_secret_ciphertext="",
        totp_key_id="",
        created_at=clock.now(),
    )
    factor = _issue_factor(operator, work.settings)
    db.add(operator)
    try:
        await db.flush()
    except IntegrityError:  # a concurrent creation took the name
        raise taken from None
    log.record(
        db,
        action=actions.OPERATOR_CREATED,
        meta=work.meta,
        operator_id=operator.id,
        actor_type=ActorType.SYSTEM,
        changes={"username": {"changed": True}, "email": {"changed": True}, "totp": {"new": "issued"}},
    )
    await db.flush()
    return factor


async def reset_factor(work: Work, *, username: str) -> Factor:
    """A new TOTP secret for an operator who lost theirs: the old one stops working and
    every session of the operator ends. NOT_FOUND for an unknown username."""
    db = work.db
    operator = await by_username(db, username, lock=True)
    if operator is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No operator has this username."), "username")
    factor = _issue_factor(operator, work.settings)
    ended = await db.execute(
        delete(OperatorSession)
        .where(col(OperatorSession.operator_id) == operator.id)
        .returning(col(OperatorSession.id))
    )
    log.record(
        db,
        action=actions.OPERATOR_FACTOR_RESET,
        meta=work.meta,
        operator_id=operator.id,
        actor_type=ActorType.SYSTEM,
        changes={"totp": {"new": "issued"}, "sessions_ended": {"new": len(ended.all())}},
    )
    await db.flush()
    return factor


async def set_disabled(work: Work, *, username: str, disabled: bool) -> Operator:
    """Offboarding (or back): a disabled operator cannot log in, and every session of
    theirs ends at once. NOT_FOUND for an unknown username."""
    db = work.db
    operator = await by_username(db, username, lock=True)
    if operator is None:
        raise UserFailure.of(ErrorCode.NOT_FOUND, _("No operator has this username."), "username")
    operator.disabled = disabled
    ended = await db.execute(
        delete(OperatorSession)
        .where(col(OperatorSession.operator_id) == operator.id)
        .returning(col(OperatorSession.id))
    )
    log.record(
        db,
        action=actions.OPERATOR_DISABLED if disabled else actions.OPERATOR_ENABLED,
        meta=work.meta,
        operator_id=operator.id,
        actor_type=ActorType.SYSTEM,
        changes={"disabled": {"new": disabled}, "sessions_ended": {"new": len(ended.all())}},
    )
    await db.flush()
    return operator
