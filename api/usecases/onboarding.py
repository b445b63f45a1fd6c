"""Onboarding a tenant: the organisation, its purposes catalogue, its first OWNER
(INVITED) and the invitation email, in one unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from api.accounts import tenants, validation
from api.accounts.invitations import issue_invitation
from api.audit import actions
from api.audit import service as audit
from api.errors import ErrorCode, UserFailure
from api.privacy.purposes import seed_defaults
from api.work import Work
from db.enums import AccountStatus, ActorType, Role
from db.models import Tenant, User


@dataclass(frozen=True)
class NewTenant:
    tenant: Tenant
    owner: User
    invitation_link: str


async def create_tenant(
    work: Work, *, slug: str, name: str, owner_username: str, owner_email: str, seats: int | None
) -> NewTenant:
    slug = validation.tenant_slug(slug, "slug")
    name = validation.tenant_name(name, "name")
    owner_username = validation.username(owner_username, "owner-username")
    owner_email = validation.email(owner_email, "owner-email")
    if seats is not None and seats < 1:
        raise UserFailure.of(ErrorCode.INVALID_INPUT, "A tenant needs at least one seat for its owner.", "seats")
    taken = UserFailure.of(ErrorCode.DUPLICATE, f"A tenant with the slug {slug!r} exists.", "slug")
    db = work.db
    if await tenants.by_slug(db, slug):
        raise taken
    tenant = Tenant(slug=slug, name=name, seat_limit=seats)
    owner = User(
        tenant_id=tenant.id, username=owner_username, email=owner_email, role=Role.OWNER, status=AccountStatus.INVITED
    )
    db.add(tenant)
    try:
        await db.flush()
    except IntegrityError:  # a concurrent creation took the slug
        raise taken from None
    seed_defaults(db, tenant.id)
    db.add(owner)
    await db.flush()
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.TENANT_CREATED,
        meta=work.meta,
        actor_type=ActorType.SYSTEM,
        target_type="tenant",
        target_id=tenant.id,
        changes={"slug": {"new": slug}, "seat_limit": {"new": seats}},
    )
    audit.record(
        db,
        tenant_id=tenant.id,
        action=actions.USER_CREATED,
        meta=work.meta,
        actor_type=ActorType.SYSTEM,
        target_type="user",
        target_id=owner.id,
        changes={
            "username": {"changed": True},
            "email": {"changed": True},
            "role": {"new": Role.OWNER},
            "status": {"new": AccountStatus.INVITED},
        },
    )
    link = await issue_invitation(work.as_actor(None), tenant=tenant, user=owner)
    return NewTenant(tenant, owner, link)
