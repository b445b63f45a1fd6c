"""GraphQL surface of accounts: Tenant, User, the admin user list, and the mutations
that add, change and invite accounts. Resolvers convert, call one service, map back."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import UNSET as GQL_UNSET

from api.accounts import tenants, users
from api.graphql.types import AccountStatus, Info, PageInfo, Role, UserError, OkPayload, transactional
from api.values import UNSET
from db import models


def _maybe(value: object) -> object:
    """strawberry's 'not given' becomes the services' UNSET; enums become their values."""
    if value is GQL_UNSET:
        return UNSET
    return getattr(value, "value", value)


@strawberry.type(name="Tenant")
class TenantType:
    id: strawberry.ID
    slug: str
    name: str
    seat_limit: int | None = strawberry.field(description="Licensed number of active or invited accounts; null means unlimited.")
    require_mfa: bool
    session_idle_timeout_minutes: int
    session_absolute_timeout_hours: int
    inactive_account_retention_days: int | None = strawberry.field(
        description="Days after which an account that has not logged in is erased; null keeps accounts until removed."
    )
    created_at: datetime
    model_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def seats_used(self, info: Info) -> int:
        return await info.context.read(lambda db: tenants.seats_used(db, self.model_id))

    @classmethod
    def of(cls, t: models.Tenant) -> TenantType:
        obj = cls(
            id=strawberry.ID(str(t.id)), slug=t.slug, name=t.name, seat_limit=t.seat_limit, require_mfa=t.require_mfa,
            session_idle_timeout_minutes=t.session_idle_timeout_minutes,
            session_absolute_timeout_hours=t.session_absolute_timeout_hours,
            inactive_account_retention_days=t.inactive_account_retention_days, created_at=t.created_at, model_id=t.id,
        )
        return obj


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    username: str
    email: str
    display_name: str | None
    role: Role
    status: AccountStatus
    email_verified: bool
    mfa_enabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, u: models.User) -> UserType:
        return cls(
            id=strawberry.ID(str(u.id)), username=u.username, email=u.email, display_name=u.display_name,
            role=Role(u.role), status=AccountStatus(u.status), email_verified=u.email_verified,
            mfa_enabled=u.mfa_enabled, created_at=u.created_at, last_login_at=u.last_login_at,
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class UserPayload:
    user: UserType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TenantPayload:
    tenant: TenantType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddUserInput:
    username: str = strawberry.field(description="Chosen by the administrator; need not be a real name. Unique within the tenant, case-insensitive.")
    email: str
    role: Role = Role.MEMBER
    display_name: str | None = None


@strawberry.input
class UpdateUserInput:
    id: strawberry.ID
    role: Role | None = GQL_UNSET
    status: AccountStatus | None = GQL_UNSET
    display_name: str | None = GQL_UNSET


@strawberry.input
class UpdateTenantSettingsInput:
    name: str | None = GQL_UNSET
    require_mfa: bool | None = GQL_UNSET
    session_idle_timeout_minutes: int | None = GQL_UNSET
    session_absolute_timeout_hours: int | None = GQL_UNSET
    inactive_account_retention_days: int | None = GQL_UNSET


@strawberry.input
class AcceptInvitationInput:
    token: str
    password: str


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="ADMIN or OWNER. Accounts of the viewer's tenant.")
    async def users(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        search: str | None = None,
        role: Role | None = None,
        status: AccountStatus | None = None,
    ) -> UserConnection:
        actor = await info.context.admin()
        page = await info.context.read(
            lambda db: users.list_page(
                db, actor, first=50 if first is None else first, after=after, search=search,
                role=role.value if role else None, status=status.value if status else None,
            )
        )
        edges = [UserEdge(cursor=c, node=UserType.of(u)) for u, c in zip(page.users, page.cursors)]
        return UserConnection(
            edges=edges,
            page_info=PageInfo.of(page.cursors, page.has_next_page),
            total_count=page.total_count,
        )

    @strawberry.field(description="ADMIN or OWNER. Null for an id outside the viewer's tenant.")
    async def user(self, info: Info, id: strawberry.ID) -> UserType | None:
        actor = await info.context.admin()
        user = await info.context.read(lambda db: users.get_visible(db, actor, id))
        return UserType.of(user) if user else None


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Creates an INVITED account and emails an invitation link. Fails with SEAT_LIMIT_REACHED past the licence.")
    @transactional(UserPayload)
    async def add_user(self, info: Info, input: AddUserInput) -> UserPayload:
        ctx = info.context
        user = await users.add(
            ctx.db(), ctx.settings, await ctx.admin(), ctx.meta,
            username=input.username, email=input.email, role=input.role.value, display_name=input.display_name,
        )
        return UserPayload(user=UserType.of(user))

    @strawberry.mutation
    @transactional(UserPayload)
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserPayload:
        ctx = info.context
        user = await users.update(
            ctx.db(), await ctx.admin(), ctx.meta, user_id=input.id,
            role=_maybe(input.role), status=_maybe(input.status), display_name=_maybe(input.display_name),  # type: ignore[arg-type]
        )
        return UserPayload(user=UserType.of(user))

    @strawberry.mutation
    @transactional(OkPayload)
    async def resend_invitation(self, info: Info, id: strawberry.ID) -> OkPayload:
        ctx = info.context
        await users.resend_invitation(ctx.db(), ctx.settings, ctx.services.guard, await ctx.admin(), ctx.meta, user_id=id)
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(TenantPayload)
    async def update_tenant_settings(self, info: Info, input: UpdateTenantSettingsInput) -> TenantPayload:
        ctx = info.context
        tenant = await tenants.update_settings(
            ctx.db(), await ctx.admin(), ctx.meta,
            name=_maybe(input.name), require_mfa=_maybe(input.require_mfa),  # type: ignore[arg-type]
            session_idle_timeout_minutes=_maybe(input.session_idle_timeout_minutes),  # type: ignore[arg-type]
            session_absolute_timeout_hours=_maybe(input.session_absolute_timeout_hours),  # type: ignore[arg-type]
            inactive_account_retention_days=_maybe(input.inactive_account_retention_days),  # type: ignore[arg-type]
        )
        return TenantPayload(tenant=TenantType.of(tenant))
