"""GraphQL surface of authentication: the viewer, and the mutations that start sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from api.accounts import invitations, tenants, users
from api.accounts.schema import AcceptInvitationInput, TenantType, UserType
from api.audit import query as audit_query
from api.audit.schema import AuditEventConnection
from api.auth import mfa, service, sessions
from api.privacy import consents, requests
from api.privacy.schema import ConsentEventType, ConsentType, DataRequestType
from api.auth.sessions import LiveSession, SessionInfo
from api.errors import ErrorCode, Forbidden, UserFailure
from api.graphql.types import Info, OkPayload, UserError, transactional
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


STAGE_STATUS = {
    "full": LoginStatus.SUCCESS,
    "mfa_pending": LoginStatus.MFA_REQUIRED,
    "mfa_enrollment": LoginStatus.MFA_ENROLLMENT_REQUIRED,
}


def login_payload(stage: str, user: models.User, tenant: models.Tenant) -> LoginPayload:
    """The viewer is shown only for a full session; the others can do one thing each."""
    status = STAGE_STATUS[stage]
    viewer = Viewer.of_account(user, tenant) if status is LoginStatus.SUCCESS else None
    return LoginPayload(status=status, viewer=viewer)


@strawberry.type(name="Session")
class SessionType:
    id: strawberry.ID
    current: bool = strawberry.field(description="True for the session that made this request.")
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    mfa_verified: bool

    @classmethod
    def of(cls, s: LiveSession, current_id: object) -> SessionType:
        return cls(
            id=strawberry.ID(str(s.id)), current=s.id == current_id, created_at=s.created_at, last_seen_at=s.last_seen_at,
            expires_at=s.expires_at, ip_address=s.ip_address, user_agent=s.user_agent, mfa_verified=s.mfa_verified,
        )


@strawberry.type(description="The authenticated user and everything the API holds about them.")
class Viewer:
    # The account arrives with the session lookup, or with the mutation that made the session.
    user: UserType
    tenant_id: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    session_id: strawberry.Private[uuid.UUID | None] = None
    preloaded_tenant: strawberry.Private[models.Tenant | None] = None

    @classmethod
    def of_session(cls, session: SessionInfo) -> Viewer:
        assert session.user is not None
        return cls(user=UserType.of(session.user), tenant_id=session.tenant_id, user_id=session.user_id, session_id=session.session_id)  # type: ignore[arg-type]

    @classmethod
    def of_account(cls, user: models.User, tenant: models.Tenant) -> Viewer:
        return cls(user=UserType.of(user), tenant_id=user.tenant_id, user_id=user.id, preloaded_tenant=tenant)

    @strawberry.field
    async def tenant(self, info: Info) -> TenantType:
        if self.preloaded_tenant is None:
            self.preloaded_tenant = await info.context.read(lambda db: tenants.get(db, self.tenant_id))
        return TenantType.of(self.preloaded_tenant)

    @strawberry.field
    async def sessions(self, info: Info) -> list[SessionType]:
        live = await info.context.read(lambda db: sessions.live_for_user(db, *self._ids()))
        return [SessionType.of(s, self.session_id) for s in live]

    @strawberry.field(description="Security-relevant events about this user (logins, password and 2FA changes), newest first.")
    async def activity(self, info: Info, first: int | None = 20, after: str | None = None) -> AuditEventConnection:
        page = await info.context.read(
            lambda db: audit_query.activity(db, *self._ids(), first=20 if first is None else first, after=after)
        )
        return AuditEventConnection.of(page, subject_id=self.user_id)

    @strawberry.field
    async def consents(self, info: Info) -> list[ConsentType]:
        return [ConsentType.of(c) for c in await info.context.read(lambda db: consents.state(db, *self._ids()))]

    @strawberry.field
    async def consent_history(self, info: Info) -> list[ConsentEventType]:
        return [ConsentEventType.of(e) for e in await info.context.read(lambda db: consents.history(db, *self._ids()))]

    @strawberry.field
    async def data_requests(self, info: Info) -> list[DataRequestType]:
        tenant_id, user_id = self._ids()
        own = await info.context.read(lambda db: requests.for_subject(db, tenant_id, user_id))
        return [DataRequestType.of(r, viewer_id=user_id, settings=info.context.settings) for r in own]

    @strawberry.field
    async def recovery_codes_remaining(self, info: Info) -> int:
        return await info.context.read(lambda db: mfa.recovery_codes_remaining(db, *self._ids()))

    def _ids(self) -> tuple[uuid.UUID, uuid.UUID]:
        return self.tenant_id, self.user_id


@strawberry.type
class LoginPayload:
    status: LoginStatus | None = None
    viewer: Viewer | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeSessionsPayload:
    revoked_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


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
        if session is None or session.stage != "full":
            return None
        return Viewer.of_session(session)


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Starts a session. Sets the session cookie and returns the token nowhere else.")
    @transactional(LoginPayload)
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        token, _ = ctx.presented_token()
        done = await service.login(
            ctx.db(), ctx.services.guard, ctx.meta,
            tenant_slug=input.tenant, identifier=input.identifier, password=input.password, previous_token=token,
        )
        ctx.set_session_cookie(done.session_token)
        return login_payload(done.stage, done.user, done.tenant)

    @strawberry.mutation(description="Ends the current session and clears the cookie. True even without a session.")
    async def logout(self, info: Info) -> bool:
        ctx = info.context
        token, _ = ctx.presented_token()
        async with ctx.lock:
            await service.logout(ctx.db(), ctx.meta, token)
            await ctx.db().commit()
        ctx.clear_session_cookie()
        return True

    @strawberry.mutation(description="Always ok, whether or not the address exists; sends a reset link when it does.")
    @transactional(OkPayload)
    async def request_password_reset(self, info: Info, input: RequestPasswordResetInput) -> OkPayload:
        ctx = info.context
        await service.request_password_reset(ctx.db(), ctx.settings, ctx.services.guard, ctx.meta, tenant_slug=input.tenant, email=input.email)
        return OkPayload(ok=True)

    @strawberry.mutation(description="Single-use token from the email; revokes every session of the account.")
    @transactional(OkPayload)
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> OkPayload:
        ctx = info.context
        await service.reset_password(ctx.db(), ctx.meta, token=input.token, new_password=input.new_password)
        return OkPayload(ok=True)

    @strawberry.mutation(description="Single-use token sent to a new address by changeEmail.")
    @transactional(OkPayload)
    async def verify_email(self, info: Info, token: str) -> OkPayload:
        ctx = info.context
        await service.verify_email(ctx.db(), ctx.meta, token=token)
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(OkPayload)
    async def change_password(self, info: Info, input: ChangePasswordInput) -> OkPayload:
        ctx = info.context
        token = await service.change_password(
            ctx.db(), ctx.services.guard, await ctx.full_session(), ctx.meta,
            current_password=input.current_password, new_password=input.new_password,
        )
        ctx.set_session_cookie(token)
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(OkPayload)
    async def change_email(self, info: Info, input: ChangeEmailInput) -> OkPayload:
        ctx = info.context
        await service.change_email(
            ctx.db(), ctx.settings, ctx.services.guard, await ctx.actor(), ctx.meta, new_email=input.new_email, password=input.password
        )
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(OkPayload)
    async def revoke_session(self, info: Info, id: strawberry.ID) -> OkPayload:
        ctx = info.context
        session = await ctx.full_session()
        target = users.parse_id(id)
        revoked = target and await sessions.revoke(
            ctx.db(), tenant_id=session.tenant_id, user_id=session.user_id, meta=ctx.meta, actor=session.actor,
            reason="revoked_by_user", only=target,
        )
        if not revoked:
            raise UserFailure.of(ErrorCode.NOT_FOUND, "No such session.", "id")
        if target == session.session_id:
            ctx.clear_session_cookie()
        return OkPayload(ok=True)

    @strawberry.mutation
    @transactional(RevokeSessionsPayload)
    async def revoke_other_sessions(self, info: Info) -> RevokeSessionsPayload:
        ctx = info.context
        session = await ctx.full_session()
        revoked = await sessions.revoke(
            ctx.db(), tenant_id=session.tenant_id, user_id=session.user_id, meta=ctx.meta, actor=session.actor,
            reason="revoked_by_user", keep=session.session_id,
        )
        return RevokeSessionsPayload(revoked_count=len(revoked))

    @strawberry.mutation
    @transactional(RevokeSessionsPayload)
    async def revoke_user_sessions(self, info: Info, id: strawberry.ID) -> RevokeSessionsPayload:
        ctx = info.context
        actor = await ctx.admin()
        user = await users.visible(ctx.db(), actor, id)
        if user is None:
            raise UserFailure.of(ErrorCode.NOT_FOUND, "No such account.", "id")
        if user.role == "OWNER" and not actor.is_owner:
            raise Forbidden()
        revoked = await sessions.revoke(
            ctx.db(), tenant_id=actor.tenant_id, user_id=user.id, meta=ctx.meta, actor=actor, reason="revoked_by_admin"
        )
        return RevokeSessionsPayload(revoked_count=len(revoked))

    @strawberry.mutation(description="Single-use token from the invitation email: sets the password, verifies the email, logs in.")
    @transactional(LoginPayload)
    async def accept_invitation(self, info: Info, input: AcceptInvitationInput) -> LoginPayload:
        ctx = info.context
        accepted = await invitations.accept(ctx.db(), ctx.meta, token=input.token, password=input.password)
        ctx.set_session_cookie(accepted.session_token)
        return login_payload(accepted.stage, accepted.user, accepted.tenant)
