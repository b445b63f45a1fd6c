"""Step-up: each sensitive action answers REAUTH_REQUIRED when the session's proof of who
is there is older than ten minutes (or weaker than the account allows), saying how old a
proof may be and which ways this account has; after `reauthenticate` it goes through."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from api import clock
from tests.helpers import PASSWORD, Api, Browser, code, enroll, login
from tests.passkeys.support import (
    BEGIN_REGISTRATION,
    PASSKEYS,
    REAUTHENTICATE,
    authenticator,
    reauthenticate_with_passkey,
    register,
)
from tests.queries import REQUEST_EXPORT

OLD = timedelta(minutes=11)


@dataclass
class Stage:
    browser: Browser
    act: Callable[[], Awaitable[Any]]  # returns the Result
    name: str
    secret: str | None = None  # the acting account's TOTP secret, when it has one


async def _user(api: Api) -> tuple[Any, Any]:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    return owner, member


def _call(browser: Browser, query: str, variables: dict[str, Any] | None = None) -> Callable[[], Awaitable[Any]]:
    async def act() -> Any:
        return await browser.gql(query, variables or {})

    return act


async def s_export(api: Api) -> Stage:
    _, member = await _user(api)
    return Stage(member.browser, _call(member.browser, REQUEST_EXPORT), "requestDataExport")


async def s_delete_account(api: Api) -> Stage:
    _, member = await _user(api)
    query = "mutation($p: String!) { deleteAccount(input: {password: $p}) { ok errors { code } } }"
    return Stage(member.browser, _call(member.browser, query, {"p": PASSWORD}), "deleteAccount")


async def s_change_email(api: Api) -> Stage:
    _, member = await _user(api)
    query = 'mutation($p: String!) { changeEmail(input: {newEmail: "mia2@acme.example", password: $p}) { ok errors { code } } }'
    return Stage(member.browser, _call(member.browser, query, {"p": PASSWORD}), "changeEmail")


async def s_change_password(api: Api) -> Stage:
    _, member = await _user(api)
    query = 'mutation($p: String!) { changePassword(input: {currentPassword: $p, newPassword: "plum-harbour-lantern-93-kite"}) { ok errors { code } } }'
    return Stage(member.browser, _call(member.browser, query, {"p": PASSWORD}), "changePassword")


async def s_add_totp(api: Api) -> Stage:
    _, member = await _user(api)
    query = "mutation { beginTotpEnrollment { secret errors { code } } }"
    return Stage(member.browser, _call(member.browser, query), "beginTotpEnrollment")


async def s_disable_totp(api: Api) -> Stage:
    _, member = await _user(api)
    secret, _ = await enroll(member.browser)
    query = "mutation($p: String!, $c: String!) { disableTotp(input: {password: $p, code: $c}) { ok errors { field code } } }"

    async def act() -> Any:
        clock.advance(timedelta(seconds=30))
        return await member.browser.gql(query, {"p": PASSWORD, "c": code(secret)})

    return Stage(member.browser, act, "disableTotp", secret)


async def s_recovery_codes(api: Api) -> Stage:
    _, member = await _user(api)
    secret, _ = await enroll(member.browser)
    query = "mutation($p: String!, $c: String) { regenerateRecoveryCodes(input: {password: $p, code: $c}) { recoveryCodes errors { code } } }"

    async def act() -> Any:
        clock.advance(timedelta(seconds=30))
        return await member.browser.gql(query, {"p": PASSWORD, "c": code(secret)})

    return Stage(member.browser, act, "regenerateRecoveryCodes", secret)


async def s_add_passkey(api: Api) -> Stage:
    _, member = await _user(api)
    return Stage(member.browser, _call(member.browser, BEGIN_REGISTRATION), "beginPasskeyRegistration")


async def s_remove_passkey(api: Api) -> Stage:
    _, member = await _user(api)
    device = authenticator(api)
    stored = await register(member.browser, device)
    query = "mutation($id: ID!) { removePasskey(id: $id) { ok errors { code } } }"
    stage = Stage(member.browser, _call(member.browser, query, {"id": stored["id"]}), "removePasskey")
    stage.secret = "passkey"
    api.device = device  # type: ignore[attr-defined]
    return stage


async def s_remove_user(api: Api) -> Stage:
    owner, member = await _user(api)
    query = "mutation($id: ID!) { removeUser(id: $id) { ok errors { code } } }"
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "removeUser")


async def s_change_role(api: Api) -> Stage:
    owner, member = await _user(api)
    query = "mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) { user { role } errors { code } } }"
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "updateUser")


async def s_reset_mfa(api: Api) -> Stage:
    owner, member = await _user(api)
    await enroll(member.browser)
    query = "mutation($id: ID!) { resetUserMfa(id: $id) { ok errors { code } } }"
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "resetUserMfa")


async def s_close_tenant(api: Api) -> Stage:
    owner, _ = await _user(api)
    query = 'mutation($p: String!) { closeTenant(input: {confirmSlug: "acme", password: $p}) { state errors { field code } } }'
    return Stage(owner.browser, _call(owner.browser, query, {"p": PASSWORD}), "closeTenant")


async def s_erase_by_admin(api: Api) -> Stage:
    owner, member = await _user(api)
    query = "mutation($id: ID!) { createDataRequest(userId: $id, kind: ERASURE) { dataRequest { status } errors { code } } }"
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "createDataRequest")


async def s_export_by_admin(api: Api) -> Stage:
    owner, member = await _user(api)
    query = (
        "mutation($id: ID!) { createDataRequest(userId: $id, kind: EXPORT) { dataRequest { status } errors { code } } }"
    )
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "createDataRequest")


async def s_add_administrator(api: Api) -> Stage:
    owner, _ = await _user(api)
    query = 'mutation { addUser(input: {username: "ada", email: "ada@acme.example", role: ADMIN}) { user { role } errors { code } } }'
    return Stage(owner.browser, _call(owner.browser, query), "addUser")


async def s_add_owners_in_bulk(api: Api) -> Stage:
    owner, _ = await _user(api)
    query = """mutation { addUsers(input: {users: [{username: "bob", email: "bob@acme.example"},
      {username: "ozzy", email: "ozzy@acme.example", role: OWNER}]}) { users { role } errors { code } } }"""
    return Stage(owner.browser, _call(owner.browser, query), "addUsers")


async def s_disable_administrator(api: Api) -> Stage:
    owner, member = await _user(api)
    promote = "mutation($id: ID!) { updateUser(input: {id: $id, role: ADMIN}) { errors { code } } }"
    (await owner.browser.gql(promote, {"id": member.id})).ok("updateUser")
    query = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { user { status } errors { code } } }"
    return Stage(owner.browser, _call(owner.browser, query, {"id": member.id}), "updateUser")


def _settings(change: str) -> Callable[[Api], Awaitable[Stage]]:
    async def stage(api: Api) -> Stage:
        owner, _ = await _user(api)
        query = f"mutation {{ updateTenantSettings(input: {{{change}}}) {{ tenant {{ id }} errors {{ code }} }} }}"
        return Stage(owner.browser, _call(owner.browser, query), "updateTenantSettings")

    return stage


CREATE_ENDPOINT = """mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: ["audit.event"]}) {
  endpoint { id } errors { code } } }"""


async def _endpoint(api: Api) -> tuple[Any, str]:
    owner, _ = await _user(api)
    made = await owner.browser.gql(CREATE_ENDPOINT, {"u": "https://127.0.0.1:9/siem"})
    return owner, made.ok("createWebhookEndpoint")["endpoint"]["id"]


async def s_create_endpoint(api: Api) -> Stage:
    owner, _ = await _user(api)
    return Stage(
        owner.browser, _call(owner.browser, CREATE_ENDPOINT, {"u": "https://127.0.0.1:9/x"}), "createWebhookEndpoint"
    )


def _on_endpoint(name: str, query: str) -> Callable[[Api], Awaitable[Stage]]:
    """An action on an endpoint the owner made (`query` takes it as $id)."""

    async def stage(api: Api) -> Stage:
        owner, endpoint = await _endpoint(api)
        return Stage(owner.browser, _call(owner.browser, query, {"id": endpoint}), name)

    return stage


SENSITIVE = {
    "requestDataExport": s_export,
    "deleteAccount": s_delete_account,
    "changeEmail": s_change_email,
    "changePassword": s_change_password,
    "beginTotpEnrollment": s_add_totp,
    "disableTotp": s_disable_totp,
    "regenerateRecoveryCodes": s_recovery_codes,
    "beginPasskeyRegistration": s_add_passkey,
    "removePasskey": s_remove_passkey,
    "removeUser": s_remove_user,
    "updateUser (role)": s_change_role,
    "resetUserMfa": s_reset_mfa,
    "closeTenant": s_close_tenant,
    "createDataRequest (erasure)": s_erase_by_admin,
    "createDataRequest (export)": s_export_by_admin,
    "addUser (an administrator)": s_add_administrator,
    "addUsers (an owner among them)": s_add_owners_in_bulk,
    "updateUser (disable an administrator)": s_disable_administrator,
    "updateTenantSettings (requireMfa)": _settings("requireMfa: true"),
    "updateTenantSettings (audit retention)": _settings("auditRetentionDays: 30"),
    "updateTenantSettings (inactive accounts)": _settings("inactiveAccountRetentionDays: 90"),
    "updateTenantSettings (session timeout)": _settings("sessionAbsoluteTimeoutHours: 720"),
    "createWebhookEndpoint": s_create_endpoint,
    "updateWebhookEndpoint (url)": _on_endpoint(
        "updateWebhookEndpoint",
        'mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, url: "https://127.0.0.1:9/elsewhere"}) { errors { code } } }',
    ),
    "deleteWebhookEndpoint": _on_endpoint(
        "deleteWebhookEndpoint", "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ok errors { code } } }"
    ),
    "rotateWebhookEndpointSecret": _on_endpoint(
        "rotateWebhookEndpointSecret",
        "mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { signingSecret errors { code } } }",
    ),
}


@pytest.mark.parametrize("action", sorted(SENSITIVE))
async def test_a_sensitive_action_asks_for_a_fresh_proof_then_goes_through(api: Api, action: str) -> None:
    stage = await SENSITIVE[action](api)
    clock.advance(OLD)
    refused = await stage.act()
    assert refused.codes == ["REAUTH_REQUIRED"], refused.body
    extensions = refused.errors[0]["extensions"]
    assert extensions["maxAgeSeconds"] == 600
    # Only the ways this account really has are offered.
    expected = {"passkey": ["PASSKEY"], None: ["PASSWORD"]}.get(stage.secret, ["PASSWORD_AND_SECOND_FACTOR"])
    assert extensions["methods"] == expected
    if stage.secret == "passkey":
        await reauthenticate_with_passkey(stage.browser, api.device)  # type: ignore[attr-defined]
    elif stage.secret:
        # The account has a second factor: the password alone is not enough.
        alone = await stage.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})
        assert alone.user_errors("reauthenticate") == [("input.code", "INVALID_CODE")]
        clock.advance(timedelta(seconds=30))
        proven = await stage.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD, "code": code(stage.secret)}})
        assert proven.ok("reauthenticate")["method"] == "PASSWORD_TOTP"
    else:
        wrong = await stage.browser.gql(REAUTHENTICATE, {"i": {"password": "not it"}})
        assert wrong.user_errors("reauthenticate") == [("input.password", "INVALID_CREDENTIALS")]
        proven = (await stage.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})).ok("reauthenticate")
        assert proven["method"] == "PASSWORD" and proven["validUntil"]
    done = await stage.act()
    assert not done.errors, done.errors
    name = stage.name.split(" ")[0]
    assert done.data[name].get("errors", []) == [], done.data


ROUTINE = {
    "addUser (a member)": 'mutation { addUser(input: {username: "max", email: "max@acme.example"}) { errors { code } } }',
    "updateUser (disable a member)": "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { code } } }",
    "updateTenantSettings (name, language)": 'mutation { updateTenantSettings(input: {name: "Acme BV", defaultLocale: "nl"}) { errors { code } } }',
}


@pytest.mark.parametrize("action", sorted(ROUTINE))
async def test_routine_administration_needs_no_fresh_proof(api: Api, action: str) -> None:
    owner, member = await _user(api)
    clock.advance(OLD)
    result = await owner.browser.gql(ROUTINE[action], {"id": member.id} if "$id" in ROUTINE[action] else {})
    name = action.split(" ")[0]
    assert not result.errors and result.data[name]["errors"] == [], result.body


async def test_a_session_made_to_enrol_by_a_later_requirement_proves_the_password_before_choosing_the_factor(
    api: Api,
) -> None:
    """Whoever holds an old session's cookie must not pick the second factor the account
    will need from now on (the organisation turned requireMfa on meanwhile)."""
    owner, member = await _user(api)
    clock.advance(OLD)
    await owner.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})
    (await owner.browser.gql("mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }")).ok(
        "updateTenantSettings"
    )
    begin = "mutation { beginTotpEnrollment { secret errors { code } } }"
    refused = await member.browser.gql(begin)
    assert refused.codes == ["REAUTH_REQUIRED"], refused.body
    assert refused.errors[0]["extensions"]["methods"] == ["PASSWORD"]
    (await member.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})).ok("reauthenticate")
    assert (await member.browser.gql(begin)).ok("beginTotpEnrollment")["secret"]


async def test_a_fresh_proof_lasts_ten_minutes_and_is_recorded(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")  # just logged in: fresh
    assert await api.count("audit_event", "action = 'session.reauthenticated'") == 0
    clock.advance(OLD)
    (await owner.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})).ok("reauthenticate")
    assert await api.count("audit_event", "action = 'session.reauthenticated'") == 1
    clock.advance(timedelta(minutes=9))
    query = "{ viewer { user { id } } }"
    assert (await owner.browser.gql(query)).data["viewer"]["user"]["id"] == owner.id


async def test_a_passkey_sign_in_is_a_strong_proof_and_a_password_alone_is_not_once_there_is_a_second_factor(
    api: Api,
) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    # The session that registered it proved the password only, before the account had a
    # second factor: for a sensitive action it must prove two now.
    refused = await owner.browser.gql(REQUEST_EXPORT)
    assert refused.codes == ["REAUTH_REQUIRED"]
    assert refused.errors[0]["extensions"]["methods"] == ["PASSKEY"]  # no TOTP: a password alone won't do
    await reauthenticate_with_passkey(owner.browser, device)
    (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")
    assert (await owner.browser.gql(PASSKEYS)).data["viewer"]["passkeys"][0]["lastUsedAt"]
    # Another user cannot answer this session's reauthentication.
    browser = api.browser()
    await login(browser)  # MFA required now
    assert (await browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})).codes == ["UNAUTHENTICATED"]
