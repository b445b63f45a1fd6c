"""GraphQL surface of authentication: the viewer, and the mutations that start sessions."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.accounts import invitations, tenants
from api.accounts.schema import AcceptInvitationInput, TenantType, UserType
from api.auth.sessions import SessionInfo
from api.graphql.types import Info, UserError, transactional
from db import models


@strawberry.enum
class LoginStatus(Enum):
    SUCCESS = strawberry.enum_value("SUCCESS", description="A full session exists now.")
    MFA_REQUIRED = strawberry.enum_value(
        "MFA_REQUIRED",
        description="Password was right; a second factor must be given with verifyMfa before the session is usable.",
    )
    MFA_ENROLLMENT_REQUIRED = strawberry.enum_value(
        "MFA_ENROLLMENT_REQUIRED",
        description="Password was right, but the tenant requires 2FA and the user has none: only TOTP enrollment is allowed until it is confirmed.",
    )


@strawberry.type(description="The authenticated user and everything the API holds about them.")
class Viewer:
    session: strawberry.Private[SessionInfo | None]
    preloaded_user: strawberry.Private[models.User | None] = None
    preloaded_tenant: strawberry.Private[models.Tenant | None] = None

    @strawberry.field
    async def user(self, info: Info) -> UserType:
        if self.preloaded_user is None:
            assert self.session is not None
            async with info.context.reading() as db:
                self.preloaded_user = await db.get(models.User, (self.session.tenant_id, self.session.user_id))
        return UserType.of(self.preloaded_user)  # type: ignore[arg-type]

    @strawberry.field
    async def tenant(self, info: Info) -> TenantType:
        if self.preloaded_tenant is None:
            assert self.session is not None
            async with info.context.reading() as db:
                self.preloaded_tenant = await tenants.get(db, self.session.tenant_id)
        return TenantType.of(self.preloaded_tenant)


@strawberry.type
class LoginPayload:
    status: LoginStatus | None = None
    viewer: Viewer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AuthQuery:
    @strawberry.field(description="Null when the request carries no valid full session.")
    async def viewer(self, info: Info) -> Viewer | None:
        session = await info.context.session_info()
        if session is None or session.stage != "full":
            return None
        return Viewer(session=session)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Single-use token from the invitation email: sets the password, verifies the email, logs in.")
    @transactional(LoginPayload)
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> LoginPayload:
        ctx = info.context
        accepted = await invitations.accept(ctx.db(), ctx.meta, token=input.token, password=input.password)
        ctx.set_session_cookie(accepted.session_token)
        return LoginPayload(
            status=LoginStatus.SUCCESS,
            viewer=Viewer(session=None, preloaded_user=accepted.user, preloaded_tenant=accepted.tenant),
        )
