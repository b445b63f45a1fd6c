"""GraphQL surface of passkeys and step-up: registering and managing passkeys, signing in
with one (alone, or as the second factor after a password), and `reauthenticate`, which
refreshes the session's proof of who is there for sensitive actions."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.auth import passkeys, reauthentication
from api.graphql.auth import LoginPayload, login_payload
from api.graphql.context import Context
from api.graphql.mutations import ANYONE, ENROLLING, PENDING_SECOND_FACTOR, USER, mutation
from api.graphql.passkey_type import PasskeyType
from api.graphql.types import OkPayload, Payload
from api.operators import auth as operator_auth
from api.operators import sessions as operator_sessions
from api.work import Work
from db.enums import ProofMethod, SessionStage


@strawberry.type
class PasskeyOptionsPayload(Payload):
    flow_id: strawberry.ID | None = strawberry.field(default=None, description="Give it back with the answer.")
    options: JSON | None = strawberry.field(
        default=None,
        description="PublicKeyCredentialCreationOptions / RequestOptions in their JSON form (base64url for bytes), for navigator.credentials.",
    )


@strawberry.input
class FinishPasskeyRegistrationInput:
    flow_id: strawberry.ID
    credential: JSON = strawberry.field(description="navigator.credentials.create()'s answer in its JSON form.")
    name: str | None = None


@strawberry.type
class PasskeyPayload(Payload):
    passkey: PasskeyType | None = None


@strawberry.input
class RenamePasskeyInput:
    id: strawberry.ID
    name: str


@strawberry.input
class BeginPasskeyLoginInput:
    tenant: str = strawberry.field(description="The organisation's address (slug).")


@strawberry.input
class PasskeyAnswerInput:
    flow_id: strawberry.ID
    credential: JSON = strawberry.field(description="navigator.credentials.get()'s answer in its JSON form.")


@strawberry.input
class ReauthenticateInput:
    password: str | None = None
    code: str | None = strawberry.field(default=None, description="With the password, when the account has TOTP.")
    flow_id: strawberry.ID | None = strawberry.field(
        default=None, description="Or a passkey: beginReauthentication's flow."
    )
    credential: JSON | None = None


@strawberry.type
class ReauthenticatePayload(Payload):
    method: ProofMethod | None = None
    valid_until: datetime | None = strawberry.field(
        default=None, description="Sensitive actions are allowed until then without another proof."
    )


@strawberry.type
class PasskeysMutation:
    @mutation(PasskeyOptionsPayload, caller=USER, description="Step-up applies (a fresh proof).")
    async def begin_passkey_registration(self, work: Work) -> PasskeyOptionsPayload:
        started = await passkeys.begin_registration(work)
        return PasskeyOptionsPayload(flow_id=strawberry.ID(str(started.flow_id)), options=JSON(started.options))

    @mutation(PasskeyPayload, caller=USER)
    async def finish_passkey_registration(self, work: Work, input: FinishPasskeyRegistrationInput) -> PasskeyPayload:
        stored = await passkeys.finish_registration(
            work, flow_id=str(input.flow_id), credential=input.credential, name=input.name
        )
        return PasskeyPayload(passkey=PasskeyType.of(stored))

    @mutation(PasskeyPayload, caller=USER)
    async def rename_passkey(self, work: Work, input: RenamePasskeyInput) -> PasskeyPayload:
        return PasskeyPayload(passkey=PasskeyType.of(await passkeys.rename(work, passkey_id=input.id, name=input.name)))

    @mutation(
        OkPayload,
        caller=USER,
        description="Step-up applies. LAST_SECOND_FACTOR when the tenant requires a second factor and this is the last.",
    )
    async def remove_passkey(self, work: Work, id: strawberry.ID) -> OkPayload:
        await passkeys.remove(work, passkey_id=id)
        return OkPayload(ok=True)

    @mutation(
        PasskeyOptionsPayload,
        caller=ANYONE,
        description="Options to sign in with a passkey alone (no username): the same answer for any tenant.",
    )
    async def begin_passkey_login(self, work: Work, input: BeginPasskeyLoginInput) -> PasskeyOptionsPayload:
        started = await passkeys.begin_login(work, tenant_slug=input.tenant)
        return PasskeyOptionsPayload(flow_id=strawberry.ID(str(started.flow_id)), options=JSON(started.options))

    @mutation(
        LoginPayload,
        caller=ANYONE,
        description="A user-verified passkey is two factors: a full session (the tenant's requireMfa is met).",
    )
    async def finish_passkey_login(self, work: Work, ctx: Context, input: PasskeyAnswerInput) -> LoginPayload:
        previous = ctx.credentials.token
        if operator_sessions.is_operator_token(previous):
            assert previous is not None
            await operator_auth.end_any(work, previous, reason="replaced_by_login")
            previous = None
        done = await passkeys.finish_login(
            work, flow_id=str(input.flow_id), credential=input.credential, previous_token=previous
        )
        ctx.set_session_cookie(done.session_token)
        return login_payload(SessionStage.FULL, done.user, done.tenant)

    @mutation(
        PasskeyOptionsPayload,
        caller=PENDING_SECOND_FACTOR,
        description="After a password: a passkey as the second factor.",
    )
    async def begin_passkey_second_factor(self, work: Work, ctx: Context) -> PasskeyOptionsPayload:
        assert ctx.session is not None
        started = await passkeys.begin_second_factor(work, ctx.session)
        return PasskeyOptionsPayload(flow_id=strawberry.ID(str(started.flow_id)), options=JSON(started.options))

    @mutation(LoginPayload, caller=PENDING_SECOND_FACTOR)
    async def verify_passkey(self, work: Work, ctx: Context, input: PasskeyAnswerInput) -> LoginPayload:
        assert ctx.session is not None
        done = await passkeys.finish_second_factor(
            work, ctx.session, flow_id=str(input.flow_id), credential=input.credential
        )
        ctx.set_session_cookie(done.session_token)
        return login_payload(SessionStage.FULL, done.user, done.tenant)

    @mutation(PasskeyOptionsPayload, caller=USER, description="Options for reauthenticating with a passkey.")
    async def begin_reauthentication(self, work: Work) -> PasskeyOptionsPayload:
        started = await passkeys.begin_reauthentication(work)
        return PasskeyOptionsPayload(flow_id=strawberry.ID(str(started.flow_id)), options=JSON(started.options))

    @mutation(
        ReauthenticatePayload,
        caller=ENROLLING,  # a session that must enrol a second factor may need a fresh proof first
        description="A fresh proof of who is there, for sensitive actions (see REAUTH_REQUIRED): the password (with a code when the account has a second factor) or a passkey.",
    )
    async def reauthenticate(self, work: Work, input: ReauthenticateInput) -> ReauthenticatePayload:
        proven = await reauthentication.reauthenticate(
            work,
            password=input.password,
            code=input.code,
            flow_id=str(input.flow_id) if input.flow_id else None,
            credential=input.credential,
        )
        return ReauthenticatePayload(method=proven.method, valid_until=proven.valid_until)
