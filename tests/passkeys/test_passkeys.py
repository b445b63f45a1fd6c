"""Passkeys: registered from the account (user verification, discoverable), used to sign
in with no username, or as the second factor after a password; replayed or foreign
answers, a counter that goes backwards and a reused challenge are refused."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.helpers import PASSWORD, Api, login
from tests.passkeys.authenticator import Authenticator
from tests.passkeys.support import (
    BEGIN_LOGIN,
    BEGIN_REGISTRATION,
    BEGIN_SECOND,
    FINISH_LOGIN,
    FINISH_REGISTRATION,
    PASSKEYS,
    VERIFY_PASSKEY,
    authenticator,
    reauthenticate_with_passkey,
    register,
    sign_in,
)
from tests.queries import REQUEST_EXPORT


async def test_a_user_registers_a_passkey_and_signs_in_with_it_alone(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    begun = (await owner.browser.gql(BEGIN_REGISTRATION)).ok("beginPasskeyRegistration")
    options = begun["options"]
    assert options["rp"]["id"] == "app.test"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    handle = options["user"]["id"]
    assert handle and "owner" not in handle  # a random handle, not the name
    stored = (
        await owner.browser.gql(
            FINISH_REGISTRATION, {"f": begun["flowId"], "c": device.create(options), "n": "Work laptop"}
        )
    ).ok("finishPasskeyRegistration")["passkey"]
    assert stored["name"] == "Work laptop" and stored["aaguid"] == "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
    listed = (await owner.browser.gql(PASSKEYS)).data["viewer"]
    assert listed["user"]["mfaEnabled"] is True and [p["name"] for p in listed["passkeys"]] == ["Work laptop"]
    row = await api.db.fetchrow("SELECT public_key, sign_count, transports FROM webauthn_credential")
    assert len(row["public_key"]) > 60 and row["sign_count"] == 0 and row["transports"] == ["internal", "hybrid"]

    # Signing in: the organisation and the passkey, no username typed.
    browser = api.browser()
    signed = await sign_in(browser, device)
    assert signed.ok("finishPasskeyLogin")["status"] == "SUCCESS"
    assert signed.data["finishPasskeyLogin"]["viewer"]["user"]["username"] == "owner"
    # Two factors in one: a sensitive action needs no further proof.
    (await browser.gql(REQUEST_EXPORT)).ok("requestDataExport")
    actions = [r["action"] for r in await api.db.fetch("SELECT action FROM audit_event ORDER BY chain_seq")]
    assert "passkey.registered" in actions and "passkey.used" in actions


async def test_a_passkey_meets_a_tenant_that_requires_a_second_factor(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    # A security setting, from a session that proved the password only, before the passkey.
    await reauthenticate_with_passkey(owner.browser, device)
    update = "mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }"
    (await owner.browser.gql(update)).ok("updateTenantSettings")
    browser = api.browser()
    assert (await sign_in(browser, device)).ok("finishPasskeyLogin")["status"] == "SUCCESS"
    assert (await browser.gql("{ viewer { user { id } } }")).data["viewer"]["user"]["id"] == owner.id


async def test_after_a_password_a_passkey_is_the_second_factor(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    browser = api.browser()
    assert (await login(browser)).ok("login")["status"] == "MFA_REQUIRED"
    begun = (await browser.gql(BEGIN_SECOND)).ok("beginPasskeySecondFactor")
    assert [c["id"] for c in begun["options"]["allowCredentials"]]  # this account's passkeys only
    answer = device.get(begun["options"])
    verified = await browser.gql(VERIFY_PASSKEY, {"f": begun["flowId"], "c": answer})
    assert verified.ok("verifyPasskey")["status"] == "SUCCESS"
    assert (await browser.gql("{ viewer { user { id } } }")).data["viewer"]["user"]["id"] == owner.id
    # A code still works as the second factor for who has TOTP; this account has none.
    other = api.browser()
    await login(other)
    wrong = await other.gql('mutation { verifyMfa(input: {code: "123456"}) { errors { field code } } }')
    assert wrong.user_errors("verifyMfa") == [("input.code", "INVALID_CODE")]


async def test_replayed_foreign_and_backwards_answers_and_reused_challenges_are_refused(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    browser = api.browser()

    begun = (await browser.gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
    answer = device.get(begun["options"])
    (await browser.gql(FINISH_LOGIN, {"f": begun["flowId"], "c": answer})).ok("finishPasskeyLogin")
    # The same answer again: its challenge is spent.
    again = await api.browser().gql(FINISH_LOGIN, {"f": begun["flowId"], "c": answer})
    assert again.user_errors("finishPasskeyLogin") == [("input.credential", "INVALID_CREDENTIALS")]
    # The same answer for a new flow: it signed another challenge.
    fresh = (await browser.gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
    replayed = await api.browser().gql(FINISH_LOGIN, {"f": fresh["flowId"], "c": answer})
    assert replayed.user_errors("finishPasskeyLogin") == [("input.credential", "INVALID_CREDENTIALS")]
    # An answer made for another origin (a phishing site relaying the challenge).
    phished = device.get(fresh["options"], origin="https://app-test.example")
    assert (await api.browser().gql(FINISH_LOGIN, {"f": fresh["flowId"], "c": phished})).user_errors(
        "finishPasskeyLogin"
    ) == [("input.credential", "INVALID_CREDENTIALS")]
    # A counter that goes backwards (a cloned authenticator): refused, and kept in the log.
    cloned = await sign_in(api.browser(), device, sign_count=1)
    assert cloned.user_errors("finishPasskeyLogin") == [("input.credential", "INVALID_CREDENTIALS")]
    assert await api.count("audit_event", "action = 'passkey.sign_count_regressed'") == 1
    # Without user verification.
    device.user_verified = False
    assert (await sign_in(api.browser(), device)).user_errors("finishPasskeyLogin") == [
        ("input.credential", "INVALID_CREDENTIALS")
    ]
    device.user_verified = True
    # A registration challenge answered twice (adding a passkey needs a fresh proof first:
    # the account has a second factor now).
    await reauthenticate_with_passkey(owner.browser, device)
    begun = (await owner.browser.gql(BEGIN_REGISTRATION)).ok("beginPasskeyRegistration")
    made = device.create(begun["options"])
    (await owner.browser.gql(FINISH_REGISTRATION, {"f": begun["flowId"], "c": made, "n": "Phone"})).ok(
        "finishPasskeyRegistration"
    )
    second = Authenticator(origin=api.settings.app_url).create(begun["options"])
    reused = await owner.browser.gql(FINISH_REGISTRATION, {"f": begun["flowId"], "c": second, "n": "Other"})
    assert reused.user_errors("finishPasskeyRegistration") == [("input.credential", "INVALID_CREDENTIALS")]
    # A flow of another session cannot be finished here.
    other = await api.member(owner, "mia")
    stolen = (await owner.browser.gql(BEGIN_REGISTRATION)).ok("beginPasskeyRegistration")
    hijack = await other.browser.gql(
        FINISH_REGISTRATION, {"f": stolen["flowId"], "c": device.create(stolen["options"]), "n": "x"}
    )
    assert hijack.user_errors("finishPasskeyRegistration") == [("input.credential", "INVALID_CREDENTIALS")]
    assert await api.count("audit_event", "action = 'passkey.failed'") >= 4


async def test_of_two_uses_of_one_answer_exactly_one_signs_in(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    begun = (await api.browser().gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
    answer = device.get(begun["options"])
    results = await asyncio.gather(
        *(api.browser().gql(FINISH_LOGIN, {"f": begun["flowId"], "c": answer}) for _ in range(5))
    )
    assert sum(1 for r in results if r.payload("finishPasskeyLogin")["status"] == "SUCCESS") == 1


async def test_signing_in_answers_alike_for_any_tenant_and_is_limited(api: Api) -> None:
    await api.owner("acme")
    known = (await api.browser().gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
    unknown = (await api.browser().gql(BEGIN_LOGIN, {"t": "no-such-org"})).ok("beginPasskeyLogin")
    assert set(known["options"]) == set(unknown["options"])
    assert known["options"]["allowCredentials"] == unknown["options"]["allowCredentials"] == []
    device = authenticator(api)
    device.credentials.clear()
    bogus = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"},
    }
    for flow in (unknown["flowId"], "not-a-flow"):
        result = await api.browser().gql(FINISH_LOGIN, {"f": flow, "c": bogus})
        assert result.user_errors("finishPasskeyLogin") == [("input.credential", "INVALID_CREDENTIALS")]
    for hostile in ({"x": "y" * 70_000}, [], "text", 12):
        result = await api.browser().gql(FINISH_LOGIN, {"f": known["flowId"], "c": hostile})
        assert result.user_errors("finishPasskeyLogin") == [("input.credential", "INVALID_CREDENTIALS")]


@pytest.mark.parametrize("settings_overrides", [{"passkey_options_per_ip_hour": 3}])
async def test_ceremonies_are_limited_per_client(api: Api) -> None:
    browser = api.browser()
    for _ in range(3):
        (await browser.gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
    assert (await browser.gql(BEGIN_LOGIN, {"t": "acme"})).codes == ["RATE_LIMITED"]


async def test_passkeys_are_renamed_and_removed_but_not_the_last_one_a_tenant_requires(api: Api) -> None:
    owner = await api.owner("acme")
    device = authenticator(api)
    first = await register(owner.browser, device, "Laptop")
    await reauthenticate_with_passkey(owner.browser, device)
    second = await register(owner.browser, device, "Phone")
    rename = "mutation($id: ID!, $n: String!) { renamePasskey(input: {id: $id, name: $n}) { passkey { name } errors { field code } } }"
    assert (await owner.browser.gql(rename, {"id": first["id"], "n": "Old laptop"})).ok("renamePasskey")["passkey"] == {
        "name": "Old laptop"
    }
    assert (await owner.browser.gql(rename, {"id": first["id"], "n": "bad\u202ename"})).user_errors(
        "renamePasskey"
    ) == [("input.name", "INVALID_INPUT")]
    (await owner.browser.gql("mutation { updateTenantSettings(input: {requireMfa: true}) { errors { code } } }")).ok(
        "updateTenantSettings"
    )
    remove = "mutation($id: ID!) { removePasskey(id: $id) { ok errors { field code } } }"
    # A session whose proof is the password alone must prove a second factor first.
    password_only = api.browser()
    await login(password_only)  # MFA_REQUIRED: not even signed in
    assert (await password_only.gql(remove, {"id": first["id"]})).codes == ["UNAUTHENTICATED"]
    browser = api.browser()
    (await sign_in(browser, device)).ok("finishPasskeyLogin")
    (await browser.gql(remove, {"id": first["id"]})).ok("removePasskey")
    last = await browser.gql(remove, {"id": second["id"]})
    assert last.user_errors("removePasskey") == [("input.id", "LAST_SECOND_FACTOR")]
    globex = await api.owner("globex")
    assert (await globex.browser.gql(remove, {"id": second["id"]})).user_errors("removePasskey") == [
        ("input.id", "NOT_FOUND")
    ]


async def test_erasure_takes_the_passkeys_and_the_export_lists_them_without_keys(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    device = authenticator(api)
    await register(member.browser, device, "Mia's phone")
    await reauthenticate_with_passkey(member.browser, device)
    from tests.privacy.test_export_and_erasure import completed_export

    request_id = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    await completed_export(member.browser, request_id)
    archive = (await member.browser.http.get(f"/exports/{request_id}")).json()
    [listed] = archive["security"]["passkeys"]
    assert listed["name"] == "Mia's phone" and listed["aaguid"]
    assert "publicKey" not in json.dumps(archive) and "credentialId" not in json.dumps(archive)
    delete = "mutation($p: String!) { deleteAccount(input: {password: $p}) { ok errors { code } } }"
    (await member.browser.gql(delete, {"p": PASSWORD})).ok("deleteAccount")
    assert await api.count("webauthn_credential") == 0
