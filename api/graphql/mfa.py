"""GraphQL surface of two-factor authentication."""

from __future__ import annotations

import strawberry

from api.auth import mfa
from api.graphql.auth import LoginPayload, login_payload
from api.graphql.context import Context
from api.graphql.mutations import ADMIN, ENROLLING, PENDING_SECOND_FACTOR, USER, mutation
from api.graphql.types import OkPayload, PasswordInput, Payload
from api.work import Work
from db.enums import SessionStage


@strawberry.type
class TotpEnrollmentPayload(Payload):
    secret: str | None = strawberry.field(default=None, description="Base32 secret, shown once for manual entry.")
    otpauth_uri: str | None = strawberry.field(default=None, description="otpauth:// URI for authenticator apps.")
    qr_code_svg: str | None = strawberry.field(default=None, description="The URI as an SVG QR code.")


@strawberry.type
class RecoveryCodesPayload(Payload):
    recovery_codes: list[str] | None = strawberry.field(default=None, description="Shown once; stored only as hashes.")


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
    @mutation(
        LoginPayload,
        caller=PENDING_SECOND_FACTOR,
        description="Completes an MFA_REQUIRED login with a TOTP or recovery code.",
    )
    async def verify_mfa(self, work: Work, ctx: Context, input: VerifyMfaInput) -> LoginPayload:
        assert ctx.session is not None
        done = await mfa.verify(work, ctx.session, code=input.code)
        ctx.set_session_cookie(done.session_token)
        return login_payload(SessionStage.FULL, done.user, done.tenant)

    @mutation(TotpEnrollmentPayload, caller=ENROLLING)
    async def begin_totp_enrollment(self, work: Work, ctx: Context) -> TotpEnrollmentPayload:
        assert ctx.session is not None
        started = await mfa.begin_enrollment(work, ctx.session)
        return TotpEnrollmentPayload(secret=started.secret, otpauth_uri=started.otpauth_uri, qr_code_svg=started.qr_svg)

    @mutation(RecoveryCodesPayload, caller=ENROLLING)
    async def confirm_totp_enrollment(self, work: Work, ctx: Context, input: ConfirmTotpInput) -> RecoveryCodesPayload:
        assert ctx.session is not None
        confirmed = await mfa.confirm_enrollment(work, ctx.session, code=input.code)
        ctx.set_session_cookie(confirmed.session_token)
        return RecoveryCodesPayload(recovery_codes=confirmed.recovery_codes)

    @mutation(RecoveryCodesPayload, caller=USER)
    async def regenerate_recovery_codes(self, work: Work, input: PasswordInput) -> RecoveryCodesPayload:
        return RecoveryCodesPayload(
            recovery_codes=await mfa.regenerate_recovery_codes(work, password=input.password, code=input.code)
        )

    @mutation(OkPayload, caller=USER)
    async def disable_totp(self, work: Work, input: DisableTotpInput) -> OkPayload:
        await mfa.disable(work, password=input.password, code=input.code)
        return OkPayload(ok=True)

    @mutation(
        OkPayload,
        caller=ADMIN,
        description="For a user who lost their authenticator: removes TOTP and recovery codes, revokes sessions.",
    )
    async def reset_user_mfa(self, work: Work, id: strawberry.ID) -> OkPayload:
        await mfa.reset_for_user(work, user_id=id)
        return OkPayload(ok=True)
