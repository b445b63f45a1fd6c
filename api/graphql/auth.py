"""GraphQL surface of authentication: the viewer query, and the mutations that start,
end and change sessions and credentials."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.accounts import invitations, users
from api.auth import service
from api.graphql.accounts import AcceptInvitationInput
from api.graphql.context import Context
from api.graphql.mutations import ADMIN, ANYONE, USER, mutation
from api.graphql.types import Info, OkPayload, Payload
from api.graphql.viewer import Viewer
from api.operators import auth as operator_auth
from api.operators import sessions as operator_sessions
from api.security import sessions
from api.work import Work
from db import models
from db.enums import SessionStage


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


STAGE_STATUS = {
    SessionStage.FULL: LoginStatus.SUCCESS,
    SessionStage.MFA_PENDING: LoginStatus.MFA_REQUIRED,
    SessionStage.MFA_ENROLLMENT: LoginStatus.MFA_ENROLLMENT_REQUIRED,
}


@strawberry.type
class LoginPayload(Payload):
    status: LoginStatus | None = None
    viewer: Viewer | None = None


def login_payload(stage: SessionStage, user: models.User, tenant: models.Tenant) -> LoginPayload:
    """The viewer is shown only for a full session; the others can do one thing each."""
    status = STAGE_STATUS[stage]
    return LoginPayload(
        status=status, viewer=Viewer.of_account(user, tenant) if status is LoginStatus.SUCCESS else None
    )


@strawberry.type
class RevokeSessionsPayload(Payload):
    revoked_count: int | None = None


@strawberry.input
class LoginInput:
    tenant: str = strawberry.field(description="The tenant's slug.")
    identifier: str = strawberry.field(description="Username or email address.")
    password: str


@strawberry.input
class RequestPasswordResetInput:
    tenant: str
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class ChangeEmailInput:
    new_email: str
    password: str


@strawberry.type
class AuthQuery:
    @strawberry.field(description="Null when the request carries no valid full session.")
    def viewer(self, info: Info) -> Viewer | None:
        session = info.context.session
        if session is None or session.stage != SessionStage.FULL:
            return None
        return Viewer.of_session(session)


@strawberry.type
class AuthMutation:
    @mutation(
        LoginPayload,
        caller=ANYONE,
        description="Starts a session. Sets the session cookie and returns the token nowhere else.",
    )
    async def login(self, work: Work, ctx: Context, input: LoginInput) -> LoginPayload:
        previous = ctx.credentials.token
        if operator_sessions.is_operator_token(previous):
            # An operator's session ends when the same browser logs in as a user.
            assert previous is not None
            await operator_auth.end_any(work, previous, reason="replaced_by_login")
            previous = None
        done = await service.login(
            work,
            tenant_slug=input.tenant,
            identifier=input.identifier,
            password=input.password,
            previous_token=previous,
        )
        ctx.set_session_cookie(done.session_token)
        return login_payload(done.stage, done.user, done.tenant)

    @mutation(
        None, caller=ANYONE, description="Ends the current session and clears the cookie. True even without a session."
    )
    async def logout(self, work: Work, ctx: Context) -> bool:
        token = ctx.credentials.token
        if operator_sessions.is_operator_token(token):
            assert token is not None
            await operator_auth.logout(work, token)
        else:
            await service.logout(work, token)
        ctx.clear_session_cookie()
        return True

    @mutation(
        OkPayload,
        caller=ANYONE,
        description="Always ok, whether or not the address exists; sends a reset link when it does.",
    )
    async def request_password_reset(self, work: Work, input: RequestPasswordResetInput) -> OkPayload:
        await service.request_password_reset(work, tenant_slug=input.tenant, email=input.email)
        return OkPayload(ok=True)

    @mutation(
        OkPayload, caller=ANYONE, description="Single-use token from the email; revokes every session of the account."
    )
    async def reset_password(self, work: Work, input: ResetPasswordInput) -> OkPayload:
        await service.reset_password(work, token=input.token, new_password=input.new_password)
        return OkPayload(ok=True)

    @mutation(OkPayload, caller=ANYONE, description="Single-use token sent to a new address by changeEmail.")
    async def verify_email(self, work: Work, token: str) -> OkPayload:
        await service.verify_email(work, token=token)
        return OkPayload(ok=True)

    @mutation(OkPayload, caller=USER)
    async def change_password(self, work: Work, ctx: Context, input: ChangePasswordInput) -> OkPayload:
        assert ctx.session is not None
        token = await service.change_password(
            work, ctx.session, current_password=input.current_password, new_password=input.new_password
        )
        ctx.set_session_cookie(token)
        return OkPayload(ok=True)

    @mutation(OkPayload, caller=USER)
    async def change_email(self, work: Work, input: ChangeEmailInput) -> OkPayload:
        await service.change_email(work, new_email=input.new_email, password=input.password)
        return OkPayload(ok=True)

    @mutation(OkPayload, caller=USER)
    async def revoke_session(self, work: Work, ctx: Context, id: strawberry.ID) -> OkPayload:
        if await sessions.revoke_own(work.db, work.acting(), users.parse_id(id), work.meta):
            ctx.clear_session_cookie()
        return OkPayload(ok=True)

    @mutation(RevokeSessionsPayload, caller=USER)
    async def revoke_other_sessions(self, work: Work) -> RevokeSessionsPayload:
        actor = work.acting()
        revoked = await sessions.revoke(
            work.db,
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            meta=work.meta,
            actor=actor,
            reason="revoked_by_user",
            keep=actor.session_id,
        )
        return RevokeSessionsPayload(revoked_count=len(revoked))

    @mutation(RevokeSessionsPayload, caller=ADMIN)
    async def revoke_user_sessions(self, work: Work, id: strawberry.ID) -> RevokeSessionsPayload:
        return RevokeSessionsPayload(revoked_count=await users.revoke_sessions(work, user_id=id))

    @mutation(
        LoginPayload,
        caller=ANYONE,
        description="Single-use token from the invitation email: sets the password, verifies the email, logs in.",
    )
    async def accept_invitation(self, work: Work, ctx: Context, input: AcceptInvitationInput) -> LoginPayload:
        accepted = await invitations.accept(work, token=input.token, password=input.password)
        ctx.set_session_cookie(accepted.session_token)
        return login_payload(accepted.stage, accepted.user, accepted.tenant)
