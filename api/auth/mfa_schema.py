"""GraphQL surface of two-factor authentication."""

from __future__ import annotations

import strawberry

from api.auth import mfa
from api.auth.schema import LoginPayload, login_payload
from api.graphql.types import Info, OkPayload, PasswordInput, UserError, transactional


@strawberry.type
class TotpEnrollmentPayload:
    secret: str | None = strawberry.field(default=None, description="Base32 secret, shown once for manual entry.")
    otpauth_uri: str | None = strawberry.field(default=None, description="otpauth:// URI for authenticator apps.")
    qr_code_svg: str | None = strawberry.field(default=None, description="The URI as an SVG QR code.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecoveryCodesPayload:
    recovery_codes: list[str] | None = strawberry.field(default=None, description="Shown once; stored only as hashes.")
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class VerifyMfaInput:
    code: str = strawberry.field(description="A 6-digit TOTP code or one unused recovery code.")


@strawberry.input
class ConfirmTotpInput:
    code: str


@strawberry.input
class DisableTotpInput:
    password: str
    code: str


@strawberry.type
class MfaMutation:
    @strawberry.mutation(description="Completes an MFA_REQUIRED login with a TOTP or recovery code.")
    @transactional(LoginPayload)
    async def verify_mfa(self, info: Info, input: VerifyMfaInput) -> LoginPayload:
        ctx = info.context
        pending = await ctx.session_in_stage("mfa_pending")
        done = await mfa.verify(ctx.db(), ctx.settings, ctx.services.guard, pending, ctx.meta, code=input.code)
        ctx.set_session_cookie(done.session_token)
        return login_payload("full", done.user, done.tenant)

    @strawberry.mutation
    @transactional(TotpEnrollmentPayload)
    async def begin_totp_enrollment(self, info: Info) -> TotpEnrollmentPayload:
        ctx = info.context
        session = await ctx.session_in_stage("full", "mfa_enrollment")
        started = await mfa.begin_enrollment(ctx.db(), ctx.settings, session, ctx.meta)
        return TotpEnrollmentPayload(secret=started.secret, otpauth_uri=started.otpauth_uri, qr_code_svg=started.qr_svg)

    @strawberry.mutation
    @transactional(RecoveryCodesPayload)
    async def confirm_totp_enrollment(self, info: Info, input: ConfirmTotpInput) -> RecoveryCodesPayload:
        ctx = info.context
        session = await ctx.session_in_stage("full", "mfa_enrollment")
        confirmed = await mfa.confirm_enrollment(ctx.db(), ctx.settings, ctx.services.guard, session, ctx.meta, code=input.code)
        ctx.set_session_cookie(confirmed.session_token)
        return RecoveryCodesPayload(recovery_codes=confirmed.recovery_codes)

    @strawberry.mutation
    @transactional(RecoveryCodesPayload)
    async def regenerate_recovery_codes(self, info: Info, input: PasswordInput) -> RecoveryCodesPayload:
        ctx = info.context
        codes = await mfa.regenerate_recovery_codes(
            ctx.db(), ctx.settings, ctx.services.guard, await ctx.actor(), ctx.meta, password=input.password, code=input.code
        )
        return RecoveryCodesPayload(recovery_codes=codes)

    @strawberry.mutation
    @transactional(OkPayload)
    async def disable_totp(self, info: Info, input: DisableTotpInput) -> OkPayload:
        ctx = info.context
        await mfa.disable(ctx.db(), ctx.settings, ctx.services.guard, await ctx.actor(), ctx.meta, password=input.password, code=input.code)
        return OkPayload(ok=True)

    @strawberry.mutation(description="For a user who lost their authenticator: removes TOTP and recovery codes, revokes sessions.")
    @transactional(OkPayload)
    async def reset_user_mfa(self, info: Info, id: strawberry.ID) -> OkPayload:
        ctx = info.context
        await mfa.reset_for_user(ctx.db(), await ctx.admin(), ctx.meta, user_id=id)
        return OkPayload(ok=True)
