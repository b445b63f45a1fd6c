"""Every mutation that changes data leaves an audit event. This walks the schema's
mutation list: a new mutation without a scenario here fails the suite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from api import clock
from api.graphql.schema import schema
from tests.helpers import ACCEPT, ADD_USER, BEGIN, CONFIRM, PASSWORD, Api, code, enroll, login
from tests.operators import scenarios as operators
from tests.passkeys import scenarios as passkeys
from tests.tenancy import scenarios as tenancy
from tests.webhooks import scenarios as webhooks

NEW_PASSWORD = "plum-harbour-lantern-93-kite"
Act = Callable[[], Awaitable[None]]
Scenario = Callable[[Api], Awaitable[Act]]  # sets the stage, returns the mutation as the act


async def _reset_token(api: Api) -> str:
    await api.browser().gql(
        'mutation { requestPasswordReset(input: {tenant: "acme", email: "owner@acme.example"}) { ok } }'
    )
    return await api.queued_token("owner@acme.example")


async def s_login(api: Api) -> Act:
    await api.owner("acme")

    async def act() -> None:
        (await login(api.browser())).ok("login")

    return act


async def s_logout(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        await owner.browser.gql("mutation { logout }")

    return act


async def s_verify_mfa(api: Api) -> Act:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    browser = api.browser()
    await login(browser)

    async def act() -> None:
        (
            await browser.gql(
                "mutation($c: String!) { verifyMfa(input: {code: $c}) { errors { code } } }", {"c": code(secret)}
            )
        ).ok("verifyMfa")

    return act


async def s_request_password_reset(api: Api) -> Act:
    await api.owner("acme")

    async def act() -> None:
        await _reset_token(api)

    return act


async def s_reset_password(api: Api) -> Act:
    await api.owner("acme")
    token = await _reset_token(api)
    query = (
        "mutation($t: String!, $p: String!) { resetPassword(input: {token: $t, newPassword: $p}) { errors { code } } }"
    )

    async def act() -> None:
        (await api.browser().gql(query, {"t": token, "p": NEW_PASSWORD})).ok("resetPassword")

    return act


async def s_accept_invitation(api: Api) -> Act:
    token = await api.create_tenant("acme")

    async def act() -> None:
        (await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})).ok("acceptInvitation")

    return act


async def s_verify_email(api: Api) -> Act:
    owner = await api.owner("acme")
    await owner.browser.gql(
        'mutation($p: String!) { changeEmail(input: {newEmail: "new@acme.example", password: $p}) { ok } }',
        {"p": PASSWORD},
    )
    token = await api.queued_token("new@acme.example")

    async def act() -> None:
        (
            await api.browser().gql(
                "mutation($t: String!) { verifyEmail(token: $t) { errors { code } } }", {"t": token}
            )
        ).ok("verifyEmail")

    return act


async def s_change_password(api: Api) -> Act:
    owner = await api.owner("acme")
    query = "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"c": PASSWORD, "n": NEW_PASSWORD})).ok("changePassword")

    return act


async def s_change_email(api: Api) -> Act:
    owner = await api.owner("acme")
    query = (
        'mutation($p: String!) { changeEmail(input: {newEmail: "new@acme.example", password: $p}) { errors { code } } }'
    )

    async def act() -> None:
        (await owner.browser.gql(query, {"p": PASSWORD})).ok("changeEmail")

    return act


async def s_revoke_session(api: Api) -> Act:
    owner = await api.owner("acme")
    other = api.browser()
    await login(other)
    sessions = (await owner.browser.gql("{ viewer { sessions { id current } } }")).data["viewer"]["sessions"]
    victim = next(s["id"] for s in sessions if not s["current"])

    async def act() -> None:
        (
            await owner.browser.gql("mutation($id: ID!) { revokeSession(id: $id) { errors { code } } }", {"id": victim})
        ).ok("revokeSession")

    return act


async def s_revoke_other_sessions(api: Api) -> Act:
    owner = await api.owner("acme")
    await login(api.browser())

    async def act() -> None:
        (await owner.browser.gql("mutation { revokeOtherSessions { errors { code } } }")).ok("revokeOtherSessions")

    return act


async def s_begin_totp_enrollment(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(BEGIN)).ok("beginTotpEnrollment")

    return act


async def s_confirm_totp_enrollment(api: Api) -> Act:
    owner = await api.owner("acme")
    secret = (await owner.browser.gql(BEGIN)).ok("beginTotpEnrollment")["secret"]

    async def act() -> None:
        (await owner.browser.gql(CONFIRM, {"c": code(secret)})).ok("confirmTotpEnrollment")

    return act


async def s_regenerate_recovery_codes(api: Api) -> Act:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    clock.advance(timedelta(seconds=30))
    query = "mutation($p: String!, $c: String) { regenerateRecoveryCodes(input: {password: $p, code: $c}) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"p": PASSWORD, "c": code(secret)})).ok("regenerateRecoveryCodes")

    return act


async def s_disable_totp(api: Api) -> Act:
    owner = await api.owner("acme")
    secret, _ = await enroll(owner.browser)
    clock.advance(timedelta(seconds=30))
    query = "mutation($p: String!, $c: String!) { disableTotp(input: {password: $p, code: $c}) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"p": PASSWORD, "c": code(secret)})).ok("disableTotp")

    return act


async def s_add_user(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(ADD_USER, {"input": {"username": "sam", "email": "sam@acme.example"}})).ok("addUser")

    return act


async def s_update_user(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    query = "mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"id": member.id})).ok("updateUser")

    return act


async def s_resend_invitation(api: Api) -> Act:
    owner = await api.owner("acme")
    added = (await owner.browser.gql(ADD_USER, {"input": {"username": "sam", "email": "sam@acme.example"}})).ok(
        "addUser"
    )
    query = "mutation($id: ID!) { resendInvitation(id: $id) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"id": added["user"]["id"]})).ok("resendInvitation")

    return act


async def s_reset_user_mfa(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await enroll(member.browser)

    async def act() -> None:
        (
            await owner.browser.gql(
                "mutation($id: ID!) { resetUserMfa(id: $id) { errors { code } } }", {"id": member.id}
            )
        ).ok("resetUserMfa")

    return act


async def s_revoke_user_sessions(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    query = "mutation($id: ID!) { revokeUserSessions(id: $id) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"id": member.id})).ok("revokeUserSessions")

    return act


async def s_update_tenant_settings(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (
            await owner.browser.gql("mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }")
        ).ok("updateTenantSettings")

    return act


SET_CONSENTS = "mutation($i: [ConsentDecisionInput!]!) { setConsents(input: $i) { errors { code } } }"


async def s_set_consents(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok(
            "setConsents"
        )

    return act


async def s_withdraw_consent_by_token(api: Api) -> Act:
    from api.privacy.unsubscribe import make_token

    owner = await api.owner("acme")
    (await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant")
    token = make_token(
        api.settings, tenant_id=tenant_id, user_id=__import__("uuid").UUID(owner.id), purpose_key="newsletter"
    )

    async def act() -> None:
        (
            await api.browser().gql(
                "mutation($t: String!) { withdrawConsentByToken(token: $t) { errors { code } } }", {"t": token}
            )
        ).ok("withdrawConsentByToken")

    return act


async def s_update_profile(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql('mutation { updateProfile(input: {displayName: "Olive"}) { errors { code } } }')).ok(
            "updateProfile"
        )

    return act


async def s_request_data_export(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql("mutation { requestDataExport { errors { code } } }")).ok("requestDataExport")

    return act


async def s_delete_account(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")

    async def act() -> None:
        query = "mutation($p: String!) { deleteAccount(input: {password: $p}) { errors { code } } }"
        (await member.browser.gql(query, {"p": PASSWORD})).ok("deleteAccount")

    return act


async def s_remove_user(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")

    async def act() -> None:
        (
            await owner.browser.gql("mutation($id: ID!) { removeUser(id: $id) { errors { code } } }", {"id": member.id})
        ).ok("removeUser")

    return act


UPSERT = """mutation($k: String!, $b: Boolean!) { upsertPurpose(input: {key: $k, title: "Events", description: "Invitations to events.",
  legalBasis: CONSENT, bumpVersion: $b}) { errors { code } } }"""


async def s_upsert_purpose(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(UPSERT, {"k": "events", "b": False})).ok("upsertPurpose")

    return act


async def s_archive_purpose(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql('mutation { archivePurpose(key: "review-invitations") { errors { code } } }')).ok(
            "archivePurpose"
        )

    return act


async def s_create_data_request(api: Api) -> Act:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")

    async def act() -> None:
        query = "mutation($id: ID!) { createDataRequest(userId: $id, kind: EXPORT) { errors { code } } }"
        (await owner.browser.gql(query, {"id": member.id})).ok("createDataRequest")

    return act


# mutation -> (scenario, the audit action its success must record)
SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "login": (s_login, "login.succeeded"),
    "logout": (s_logout, "session.revoked"),
    "verifyMfa": (s_verify_mfa, "mfa.verified"),
    "requestPasswordReset": (s_request_password_reset, "password.reset_requested"),
    "resetPassword": (s_reset_password, "password.reset"),
    "acceptInvitation": (s_accept_invitation, "invitation.accepted"),
    "verifyEmail": (s_verify_email, "email.changed"),
    "changePassword": (s_change_password, "password.changed"),
    "changeEmail": (s_change_email, "email.change_requested"),
    "revokeSession": (s_revoke_session, "session.revoked"),
    "revokeOtherSessions": (s_revoke_other_sessions, "session.revoked"),
    "beginTotpEnrollment": (s_begin_totp_enrollment, "mfa.enrollment_started"),
    "confirmTotpEnrollment": (s_confirm_totp_enrollment, "mfa.enabled"),
    "regenerateRecoveryCodes": (s_regenerate_recovery_codes, "recovery_codes.generated"),
    "disableTotp": (s_disable_totp, "mfa.disabled"),
    "addUser": (s_add_user, "user.created"),
    "updateUser": (s_update_user, "user.role_changed"),
    "resendInvitation": (s_resend_invitation, "invitation.sent"),
    "resetUserMfa": (s_reset_user_mfa, "mfa.reset"),
    "revokeUserSessions": (s_revoke_user_sessions, "session.revoked"),
    "updateTenantSettings": (s_update_tenant_settings, "tenant.settings_changed"),
    "setConsents": (s_set_consents, "consent.granted"),
    "withdrawConsentByToken": (s_withdraw_consent_by_token, "consent.withdrawn"),
    "updateProfile": (s_update_profile, "profile.updated"),
    "requestDataExport": (s_request_data_export, "data_request.created"),
    "deleteAccount": (s_delete_account, "user.erased"),
    "removeUser": (s_remove_user, "user.erased"),
    "upsertPurpose": (s_upsert_purpose, "purpose.created"),
    "archivePurpose": (s_archive_purpose, "purpose.archived"),
    "createDataRequest": (s_create_data_request, "data_request.created"),
    "setTenantSeatLimit": (operators.s_set_tenant_seat_limit, "tenant.seat_limit_changed"),
    "suspendTenant": (operators.s_suspend_tenant, "tenant.suspended"),
    "reactivateTenant": (operators.s_reactivate_tenant, "tenant.reactivated"),
    "confirmSignUp": (tenancy.s_confirm_sign_up, "tenant.created"),
    "addUsers": (tenancy.s_add_users, "user.created"),
    "updateContract": (tenancy.s_update_contract, "contract.created"),
    "closeTenant": (tenancy.s_close_tenant, "tenant.closed"),
    "createTenant": (tenancy.s_create_tenant, "tenant.created"),
    "createWebhookEndpoint": (webhooks.s_create_webhook_endpoint, "webhook_endpoint.created"),
    "updateWebhookEndpoint": (webhooks.s_update_webhook_endpoint, "webhook_endpoint.updated"),
    "deleteWebhookEndpoint": (webhooks.s_delete_webhook_endpoint, "webhook_endpoint.deleted"),
    "rotateWebhookEndpointSecret": (webhooks.s_rotate_webhook_endpoint_secret, "webhook_endpoint.secret_rotated"),
    "replayWebhookEndpoint": (webhooks.s_replay_webhook_endpoint, "webhook.replayed"),
    "retryWebhookDelivery": (webhooks.s_retry_webhook_delivery, "webhook_delivery.retried"),
    "confirmErasure": (webhooks.s_confirm_erasure, "data_request.part_confirmed"),
    "deliverExportPart": (webhooks.s_deliver_export_part, "data_request.part_delivered"),
    "finishPasskeyRegistration": (passkeys.s_finish_passkey_registration, "passkey.registered"),
    "renamePasskey": (passkeys.s_rename_passkey, "passkey.renamed"),
    "removePasskey": (passkeys.s_remove_passkey, "passkey.removed"),
    "finishPasskeyLogin": (passkeys.s_finish_passkey_login, "login.succeeded"),
    "verifyPasskey": (passkeys.s_verify_passkey, "mfa.verified"),
    "reauthenticate": (passkeys.s_reauthenticate, "session.reauthenticated"),
}
# Mutations that change nothing, each with the reason.
NOTHING_TO_AUDIT = {
    "signUp": "stores nothing (the emailed link carries the request); confirmSignUp records the founding",
    "beginPasskeyRegistration": "issues a challenge; finishPasskeyRegistration records the outcome",
    "beginPasskeyLogin": "issues a challenge; finishPasskeyLogin records the outcome",
    "beginPasskeySecondFactor": "issues a challenge; verifyPasskey records the outcome",
    "beginReauthentication": "issues a challenge; reauthenticate records the outcome",
}
# Mutations that concern no tenant: their event is in the operators' log (operator_audit_event).
OPERATOR_LOG_SCENARIOS: dict[str, tuple[Scenario, str]] = {
    "operatorLogin": (operators.s_operator_login, "operator.login_succeeded"),
    "createApplication": (webhooks.s_create_application, "application.created"),
    "updateApplication": (webhooks.s_update_application, "application.updated"),
    "deleteApplication": (webhooks.s_delete_application, "application.deleted"),
    "rotateApplicationSecret": (webhooks.s_rotate_application_secret, "application.secret_rotated"),
    "replayApplication": (webhooks.s_replay_application, "webhook.replayed"),
    "createApiKey": (webhooks.s_create_api_key, "api_key.created"),
    "revokeApiKey": (webhooks.s_revoke_api_key, "api_key.revoked"),
}


def test_every_mutation_in_the_schema_has_an_audit_scenario() -> None:
    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    covered = set(SCENARIOS) | set(OPERATOR_LOG_SCENARIOS) | set(NOTHING_TO_AUDIT)
    missing = sorted(mutations - covered)
    assert not missing, f"mutations without an audit test: {missing}"
    assert not sorted(covered - mutations), "scenarios for mutations that no longer exist"


@pytest.mark.parametrize("mutation", sorted(SCENARIOS))
async def test_the_mutation_records_its_audit_event(api: Api, mutation: str) -> None:
    scenario, action = SCENARIOS[mutation]
    act = await scenario(api)
    before = await api.count("audit_event", "action = $1", action)
    await act()
    assert await api.count("audit_event", "action = $1", action) > before, mutation


@pytest.mark.parametrize("mutation", sorted(OPERATOR_LOG_SCENARIOS))
async def test_the_mutation_records_its_event_in_the_operators_log(api: Api, mutation: str) -> None:
    scenario, action = OPERATOR_LOG_SCENARIOS[mutation]
    act = await scenario(api)
    before = await api.count("operator_audit_event", "action = $1", action)
    await act()
    assert await api.count("operator_audit_event", "action = $1", action) > before, mutation
