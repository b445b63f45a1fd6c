"""Self-service sign-up: a buyer asks for an organisation; nothing is stored until they
confirm the link emailed to them. The link itself carries the request, sealed (AES-GCM
under a key derived from SECRET_KEY, so nobody can read or alter it): the organisation,
the owner's username, address and password hash, and the contract details. Confirming
founds the tenant with the buyer as its ACTIVE OWNER and the trial licence.

The answer to a sign-up is the same whether or not the organisation address is taken:
the mailbox learns it (an email without a link), nobody else does."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from cryptography.exceptions import InvalidTag

from api import clock, i18n
from api.accounts import contracts, tenants, validation
from api.crypto import Cipher
from api.errors import ErrorCode, Problem, UserFailure
from api.i18n import _
from api.mail import templates
from api.mail.outbox import queue_email
from api.security import passwords
from api.settings import Settings
from api.usecases.onboarding import Founding, NewTenant, found, used_signup
from api.work import Work

log = logging.getLogger("api.signup")

LINK_VALID = timedelta(hours=24)
MAX_TOKEN = 8192
INVALID_LINK = _("This sign-up link is invalid or has expired; sign up again.")


def _cipher(settings: Settings) -> Cipher:
    return Cipher(settings.secret_keys(), purpose="signup")


@dataclass(frozen=True)
class SignUpRequest:
    slug: str
    name: str
    username: str
    email: str
    password_hash: str
    contract: contracts.ContractDetails
    nonce: str
    expires: float
    # The owner account's id to be: the confirmation email carries it, so erasing that
    # account also takes the email (and its sealed copy) out of the queue.
    owner_id: str
    # The browser's language when signing up: the new organisation's default.
    locale: str = "en"


def _disabled() -> UserFailure:
    return UserFailure.of(
        ErrorCode.SIGNUP_DISABLED, _("Sign-up is closed; ask the vendor to create your organisation's account.")
    )


async def sign_up(
    work: Work,
    *,
    organisation_name: str,
    slug: str,
    username: str,
    email: str,
    password: str,
    contract: dict[str, str | None],
) -> None:
    """Validate, then email the confirmation link (or, when the slug is taken, a note
    without one); limited per client IP (visible) and per address (silent)."""
    settings, attempts = work.settings, work.attempts
    if not settings.signup_enabled:
        raise _disabled()
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for key, check, value, field in (
        ("slug", validation.tenant_slug, slug, "input.slug"),
        ("name", validation.tenant_name, organisation_name, "input.organisationName"),
        ("username", validation.username, username, "input.username"),
        ("email", validation.email, email, "input.email"),
    ):
        try:
            values[key] = check(value, field)
        except UserFailure as failure:
            problems += failure.problems
    details: contracts.ContractDetails | None = None
    try:
        details = contracts.details(**contract)
    except UserFailure as failure:
        problems += failure.problems
    length = passwords.length_problem(password, "input.password")
    if length is not None:
        problems.append(length)
    if problems:
        raise UserFailure(*problems)
    assert details is not None

    # The checks that cost (password strength, hashing) come after the client's budget.
    await attempts.take(attempts.limits.signup_ip, work.meta.ip_address or "unknown")
    password_hash = await passwords.hash_new_password(
        password,
        username=values["username"],
        email=values["email"],
        tenant_words=[values["slug"], values["name"], details.company_name],
        field="input.password",
    )
    address = values["email"].lower()
    if not await attempts.within(attempts.limits.signup_address, address):
        log.info("sign-up not mailed: the address's daily limit is reached (request %s)", work.meta.request_id)
        return
    db = work.db
    if await tenants.by_slug(db, values["slug"]) is not None:
        await queue_email(
            db,
            settings,
            templates.signup_slug_taken(
                to=templates.Recipient(values["email"], i18n.choose(work.meta.locale)),
                slug=values["slug"],
                signup_link=f"{settings.app_url}/signup",
            ),
        )
        return
    request = SignUpRequest(
        slug=values["slug"],
        name=values["name"],
        username=values["username"],
        email=values["email"],
        password_hash=password_hash,
        contract=details,
        nonce=secrets.token_urlsafe(16),
        expires=(clock.now() + LINK_VALID).timestamp(),
        owner_id=str(uuid.uuid4()),
        locale=i18n.choose(work.meta.locale),
    )
    token = _seal(settings, request)
    await queue_email(
        db,
        settings,
        templates.signup_confirmation(
            to=templates.Recipient(request.email, request.locale),
            slug=request.slug,
            link=f"{settings.app_url}/signup/confirm?token={quote(token)}",
            expires_at=datetime.fromtimestamp(request.expires, UTC),
        ),
        subject_id=uuid.UUID(request.owner_id),
    )


def _seal(settings: Settings, request: SignUpRequest) -> str:
    body = asdict(request)
    return _cipher(settings).encrypt(json.dumps(body, separators=(",", ":")).encode())


def _open(settings: Settings, token: str) -> SignUpRequest:
    invalid = UserFailure.of(ErrorCode.INVALID_TOKEN, INVALID_LINK, "input.token")
    if not token or len(token) > MAX_TOKEN:
        raise invalid
    try:
        body = json.loads(_cipher(settings).decrypt(token.strip()))
        request = SignUpRequest(**{**body, "contract": contracts.ContractDetails(**body["contract"])})
    except (ValueError, TypeError, KeyError, AttributeError, InvalidTag):  # tampered with, or not ours
        raise invalid from None
    if datetime.fromtimestamp(request.expires, UTC) <= clock.now():
        raise invalid
    return request


@dataclass(frozen=True)
class Confirmed:
    slug: str
    username: str


async def confirm(work: Work, *, token: str) -> Confirmed:
    """Found the tenant the link describes. A link works once; of two sign-ups racing for
    one slug, exactly one is confirmed (the other: DUPLICATE)."""
    settings = work.settings
    if not settings.signup_enabled:
        raise _disabled()
    request = _open(settings, token)
    nonce_hash = hashlib.sha256(request.nonce.encode()).digest()
    if await used_signup(work, nonce_hash) is not None:
        raise UserFailure.of(
            ErrorCode.INVALID_TOKEN,
            _("This sign-up is already confirmed: sign in to your organisation."),
            "input.token",
        )
    created: NewTenant = await found(
        work,
        Founding(
            slug=request.slug,
            name=request.name,
            seats=settings.signup_trial_seats,
            owner_username=request.username,
            owner_email=request.email,
            source="signup",
            owner_password_hash=request.password_hash,
            contract=request.contract,
            signup_nonce_hash=nonce_hash,
            owner_id=uuid.UUID(request.owner_id),
            locale=i18n.choose(request.locale),
            slug_field="input.token",
        ),
    )
    return Confirmed(created.tenant.slug, created.owner.username)
