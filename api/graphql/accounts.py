"""GraphQL surface of accounts: Tenant, User, the admin user list, and the mutations
that add, change and invite accounts. Resolvers convert, call one service, map back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import UNSET as GQL_UNSET

from api import i18n
from api.accounts import bulk, contracts, tenants, users
from api.graphql.contracts import ContractType
from api.graphql.mutations import ADMIN, mutation
from api.graphql.types import Connection, Info, OkPayload, Payload
from api.security.sessions import UserSnapshot
from api.values import UNSET
from api.work import Work
from db import models
from db.enums import AccountStatus, Role, TenantState


def given(value: Any) -> Any:
    """strawberry's 'not given' becomes the services' UNSET."""
    return UNSET if value is GQL_UNSET else value


@strawberry.type(name="Tenant")
class TenantType:
    id: strawberry.ID
    slug: str
    name: str
    seat_limit: int | None = strawberry.field(
        description="Licensed number of active or invited accounts; null means unlimited."
    )
    require_mfa: bool
    session_idle_timeout_minutes: int
    session_absolute_timeout_hours: int
    inactive_account_retention_days: int | None = strawberry.field(
        description="Days after which an account that has not logged in is erased; null keeps accounts until removed."
    )
    created_at: datetime
    state: TenantState
    audit_retention_days: int = strawberry.field(
        description="Days the audit log keeps events (at least 30); only the OWNER changes it."
    )
    model_id: strawberry.Private[uuid.UUID]
    default_locale: str = strawberry.field(
        default=i18n.DEFAULT_LOCALE, description="The language of accounts that chose none (en, nl, de)."
    )
    time_zone: str = strawberry.field(
        default=i18n.DEFAULT_TIME_ZONE, description="The IANA time zone of accounts that chose none, for emails' dates."
    )

    @strawberry.field
    async def seats_used(self, info: Info) -> int:
        return await info.context.read(lambda work: tenants.seats_used(work.db, self.model_id))

    @strawberry.field(
        description="OWNER only (FORBIDDEN for others): the contracting party's details; null when none is recorded."
    )
    async def contract(self, info: Info) -> ContractType | None:
        record = await info.context.read(contracts.own)
        return ContractType.of(record) if record else None

    @classmethod
    def of(cls, t: models.Tenant) -> TenantType:
        return cls(
            id=strawberry.ID(str(t.id)),
            slug=t.slug,
            name=t.name,
            seat_limit=t.seat_limit,
            require_mfa=t.require_mfa,
            session_idle_timeout_minutes=t.session_idle_timeout_minutes,
            session_absolute_timeout_hours=t.session_absolute_timeout_hours,
            inactive_account_retention_days=t.inactive_account_retention_days,
            created_at=t.created_at,
            state=t.state,
            audit_retention_days=t.audit_retention_days,
            default_locale=t.default_locale,
            time_zone=t.time_zone,
            model_id=t.id,
        )


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
    locale: str | None = strawberry.field(
        default=None, description="The account's own language (en, nl, de); null follows the organisation's."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="The account's own IANA time zone; null follows the organisation's."
    )

    @classmethod
    def of(cls, u: models.User | UserSnapshot) -> UserType:
        return cls(
            id=strawberry.ID(str(u.id)),
            username=u.username,
            email=u.email,
            display_name=u.display_name,
            role=u.role,
            status=u.status,
            email_verified=u.email_verified,
            mfa_enabled=u.mfa_enabled,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
            locale=u.locale,
            time_zone=u.time_zone,
        )


@strawberry.type
class LocaleOption:
    code: str = strawberry.field(description="en, nl, de: what `locale` fields and Accept-Language take.")
    name: str = strawberry.field(description="The language's own name (Nederlands, Deutsch).")


@strawberry.type(name="UserConnection")
class UserConnection(Connection[UserType]):
    total_count: int


@strawberry.type
class UserPayload(Payload):
    user: UserType | None = None


@strawberry.type
class TenantPayload(Payload):
    tenant: TenantType | None = None


@strawberry.input
class AddUserInput:
    username: str = strawberry.field(
        description="Chosen by the administrator; need not be a real name. Unique within the tenant, case-insensitive."
    )
    email: str
    role: Role = Role.MEMBER
    display_name: str | None = None
    locale: str | None = strawberry.field(
        default=None,
        description="en, nl or de: the invitation and the account's texts; null follows the organisation's.",
    )
    time_zone: str | None = strawberry.field(
        default=None, description="An IANA time zone for the account's dates; null follows the organisation's."
    )


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
    audit_retention_days: int | None = strawberry.field(default=GQL_UNSET, description="OWNER only; 30 to 3650 days.")
    default_locale: str | None = strawberry.field(default=GQL_UNSET, description="en, nl or de.")
    time_zone: str | None = strawberry.field(
        default=GQL_UNSET, description="An IANA time zone such as Europe/Amsterdam."
    )


@strawberry.input
class AddUsersInput:
    users: list[AddUserInput] = strawberry.field(
        description="Up to 1,000 accounts; all are added or none (per-row errors carry the row's index)."
    )


@strawberry.type
class AddUsersPayload(Payload):
    users: list[UserType] | None = None


@strawberry.input
class AcceptInvitationInput:
    token: str
    password: str


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The languages texts, emails and messages are available in. Public.")
    def locales(self) -> list[LocaleOption]:
        return [LocaleOption(code=code, name=i18n.locale_name(code)) for code in i18n.LOCALES]

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
        page = await info.context.read(
            lambda work: users.list_page(
                work, first=50 if first is None else first, after=after, search=search, role=role, status=status
            )
        )
        connection = Connection.page([UserType.of(u) for u in page.users], page.cursors, page.has_next_page)
        return UserConnection(edges=connection.edges, page_info=connection.page_info, total_count=page.total_count)

    @strawberry.field(description="ADMIN or OWNER. Null for an id outside the viewer's tenant.")
    async def user(self, info: Info, id: strawberry.ID) -> UserType | None:
        user = await info.context.read(lambda work: users.get_visible(work, id))
        return UserType.of(user) if user else None


@strawberry.type
class AccountsMutation:
    @mutation(
        UserPayload,
        caller=ADMIN,
        description="Creates an INVITED account and emails an invitation link. Fails with SEAT_LIMIT_REACHED past the licence.",
    )
    async def add_user(self, work: Work, input: AddUserInput) -> UserPayload:
        user = await users.add(
            work,
            username=input.username,
            email=input.email,
            role=input.role,
            display_name=input.display_name,
            locale=input.locale,
            time_zone=input.time_zone,
        )
        return UserPayload(user=UserType.of(user))

    @mutation(
        AddUsersPayload,
        caller=ADMIN,
        description="Adds up to 1,000 INVITED accounts in one go, each emailed an invitation: all or nothing (SEAT_LIMIT_REACHED when they do not all fit the licence).",
    )
    async def add_users(self, work: Work, input: AddUsersInput) -> AddUsersPayload:
        added = await bulk.add_many(
            work,
            [
                bulk.NewAccount(
                    username=row.username,
                    email=row.email,
                    role=row.role,
                    display_name=row.display_name,
                    locale=row.locale,
                    time_zone=row.time_zone,
                )
                for row in input.users
            ],
        )
        return AddUsersPayload(users=[UserType.of(u) for u in added])

    @mutation(UserPayload, caller=ADMIN)
    async def update_user(self, work: Work, input: UpdateUserInput) -> UserPayload:
        user = await users.update(
            work,
            user_id=input.id,
            role=given(input.role),
            status=given(input.status),
            display_name=given(input.display_name),
        )
        return UserPayload(user=UserType.of(user))

    @mutation(OkPayload, caller=ADMIN)
    async def resend_invitation(self, work: Work, id: strawberry.ID) -> OkPayload:
        await users.resend_invitation(work, user_id=id)
        return OkPayload(ok=True)

    @mutation(TenantPayload, caller=ADMIN)
    async def update_tenant_settings(self, work: Work, input: UpdateTenantSettingsInput) -> TenantPayload:
        tenant = await tenants.update_settings(
            work,
            name=given(input.name),
            require_mfa=given(input.require_mfa),
            session_idle_timeout_minutes=given(input.session_idle_timeout_minutes),
            session_absolute_timeout_hours=given(input.session_absolute_timeout_hours),
            inactive_account_retention_days=given(input.inactive_account_retention_days),
            audit_retention_days=given(input.audit_retention_days),
            default_locale=given(input.default_locale),
            time_zone=given(input.time_zone),
        )
        return TenantPayload(tenant=TenantType.of(tenant))
