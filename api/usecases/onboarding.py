"""Founding a tenant: the organisation, its purposes catalogue, its first OWNER and, when
given, its contract record, in one unit of work. From the command line (and operators)
the owner is INVITED and emailed a link; from a confirmed sign-up the owner is ACTIVE
with the password chosen at sign-up (api.usecases.signup)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api import events
from api.accounts import contracts, tenants, validation
from api.accounts.invitations import issue_invitation
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.i18n import _
from api.operators import log as operator_log
from api.privacy.purposes import seed_defaults
from api.work import Work
from db.enums import AccountStatus, ActorType, Role
from db.models import Tenant, User


@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    owner: User
    invitation_link: str | None


@dataclass(frozen=True)
class Founding:
    """What a new tenant starts with (validated by the caller)."""

    slug: str
    name: str
    seats: int | None
    owner_username: str
    owner_email: str
    source: str  # "cli", "operator", "signup"
    # A sign-up's owner is ACTIVE with this hash; otherwise the owner is INVITED.
    owner_password_hash: str | None = None
    contract: contracts.ContractDetails | None = None
    signup_nonce_hash: bytes | None = None
    owner_id: uuid.UUID | None = None
    slug_field: str = "slug"
    locale: str = "en"


async def found(work: Work, founding: Founding) -> NewTenant:
    """Create the tenant; DUPLICATE when the slug is taken, also by a concurrent founding
    (the unique index decides: of two, exactly one wins)."""
    db, f = work.db, founding
    taken = UserFailure.of(
        ErrorCode.DUPLICATE, _("The organisation address %(slug)r is taken.", slug=f.slug), f.slug_field
    )
    if await tenants.by_slug(db, f.slug):
        raise taken
    tenant = Tenant(
        slug=f.slug, name=f.name, seat_limit=f.seats, signup_nonce_hash=f.signup_nonce_hash, default_locale=f.locale
    )
    db.add(tenant)
    try:
        await db.flush()
    except IntegrityError:
        raise taken from None
    seed_defaults(db, tenant.id)
    active = f.owner_password_hash is not None
    owner = User(
        tenant_id=tenant.id,
        id=f.owner_id or uuid.uuid4(),
        username=f.owner_username,
        email=f.owner_email,
        role=Role.OWNER,
        status=AccountStatus.ACTIVE if active else AccountStatus.INVITED,
        password_hash=f.owner_password_hash,
        # A sign-up is confirmed through a link sent to this address.
        email_verified=active,
    )
    db.add(owner)
    if f.contract is not None:
        db.add(contracts.new_record(tenant.id, f.contract))
    await db.flush()
    by_operator = work.operator.operator_id if work.operator is not None else None

    def record(action: str, target_type: str, target_id: uuid.UUID, changes: dict[str, object]) -> None:
        audit.record(
            db,
            tenant_id=tenant.id,
            action=action,
            meta=work.meta,
            actor_type=ActorType.OPERATOR if by_operator else ActorType.SYSTEM,
            actor_id=by_operator,
            target_type=target_type,
            target_id=target_id,
            changes=changes,
        )

    record(
        actions.TENANT_CREATED,
        "tenant",
        tenant.id,
        {"slug": {"new": f.slug}, "seat_limit": {"new": f.seats}, "source": {"new": f.source}},
    )
    record(
        actions.USER_CREATED,
        "user",
        owner.id,
        {
            "username": {"changed": True},
            "email": {"changed": True},
            "role": {"new": Role.OWNER},
            "status": {"new": owner.status},
        },
    )
    if f.contract is not None:
        record(
            actions.CONTRACT_CREATED,
            "tenant",
            tenant.id,
            {key: {"changed": True} for key, value in f.contract.__dict__.items() if value is not None},
        )
    link = None if active else await issue_invitation(work.as_actor(None), tenant=tenant, user=owner)
    await events.emit(db, events.USER_CREATED, tenant.id, events.user_data(owner), owner.id)
    return NewTenant(tenant, owner, link)


async def used_signup(work: Work, nonce_hash: bytes) -> Tenant | None:
    """The tenant a sign-up link already created, if any."""
    found_tenant = await work.db.execute(select(Tenant).where(col(Tenant.signup_nonce_hash) == nonce_hash))
    return found_tenant.scalar_one_or_none()


async def create_tenant(
    work: Work,
    *,
    slug: str,
    name: str,
    owner_username: str,
    owner_email: str,
    seats: int | None,
    source: str = "cli",
    contract: dict[str, str | None] | None = None,
) -> NewTenant:
    """A tenant with an INVITED owner (the command line; operators)."""
    fields = "slug", "name", "owner-username", "owner-email"
    if source == "operator":
        fields = "input.slug", "input.name", "input.ownerUsername", "input.ownerEmail"
    problems = []
    values: list[str] = []
    for check, value, field in zip(
        (validation.tenant_slug, validation.tenant_name, validation.username, validation.email),
        (slug, name, owner_username, owner_email),
        fields,
    ):
        try:
            values.append(check(value, field))
        except UserFailure as failure:
            problems += failure.problems
    if seats is not None and not 1 <= seats <= 1_000_000:
        problems += UserFailure.of(
            ErrorCode.INVALID_INPUT,
            _("A tenant needs from 1 (its owner) to 1,000,000 seats."),
            "input.seatLimit" if source == "operator" else "seats",
        ).problems
    details = None
    if contract is not None:
        try:
            details = contracts.details(**contract)
        except UserFailure as failure:
            problems += failure.problems
    if problems:
        raise UserFailure(*problems)
    slug, name, owner_username, owner_email = values
    created = await found(
        work,
        Founding(
            slug=slug,
            name=name,
            seats=seats,
            owner_username=owner_username,
            owner_email=owner_email,
            source=source,
            contract=details,
            slug_field=fields[0],
        ),
    )
    if work.operator is not None:
        operator_log.record(
            work.db,
            action=actions.TENANT_CREATED,
            meta=work.meta,
            operator_id=work.operator.operator_id,
            tenant_id=created.tenant.id,
            changes={"slug": {"new": slug}, "seat_limit": {"new": seats}},
        )
    return created
