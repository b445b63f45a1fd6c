"""Audit scenarios of the passkey and step-up mutations (tests/audit/test_mutation_coverage.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.helpers import PASSWORD, Api, login
from tests.passkeys.support import (
    BEGIN_LOGIN,
    BEGIN_REGISTRATION,
    BEGIN_SECOND,
    FINISH_LOGIN,
    FINISH_REGISTRATION,
    REAUTHENTICATE,
    VERIFY_PASSKEY,
    authenticator,
    reauthenticate_with_passkey,
    register,
)

Act = Callable[[], Awaitable[None]]


async def s_finish_passkey_registration(api: Api) -> Act:
    owner = await api.owner("acme")
    device = authenticator(api)
    begun = (await owner.browser.gql(BEGIN_REGISTRATION)).ok("beginPasskeyRegistration")

    async def act() -> None:
        answer = device.create(begun["options"])
        (await owner.browser.gql(FINISH_REGISTRATION, {"f": begun["flowId"], "c": answer, "n": "x"})).ok(
            "finishPasskeyRegistration"
        )

    return act


async def s_rename_passkey(api: Api) -> Act:
    owner = await api.owner("acme")
    stored = await register(owner.browser, authenticator(api))
    query = 'mutation($id: ID!) { renamePasskey(input: {id: $id, name: "new name"}) { errors { code } } }'

    async def act() -> None:
        (await owner.browser.gql(query, {"id": stored["id"]})).ok("renamePasskey")

    return act


async def s_remove_passkey(api: Api) -> Act:
    owner = await api.owner("acme")
    device = authenticator(api)
    stored = await register(owner.browser, device)
    await reauthenticate_with_passkey(owner.browser, device)
    query = "mutation($id: ID!) { removePasskey(id: $id) { errors { code } } }"

    async def act() -> None:
        (await owner.browser.gql(query, {"id": stored["id"]})).ok("removePasskey")

    return act


async def s_finish_passkey_login(api: Api) -> Act:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    browser = api.browser()

    async def act() -> None:
        begun = (await browser.gql(BEGIN_LOGIN, {"t": "acme"})).ok("beginPasskeyLogin")
        (await browser.gql(FINISH_LOGIN, {"f": begun["flowId"], "c": device.get(begun["options"])})).ok(
            "finishPasskeyLogin"
        )

    return act


async def s_verify_passkey(api: Api) -> Act:
    owner = await api.owner("acme")
    device = authenticator(api)
    await register(owner.browser, device)
    browser = api.browser()
    await login(browser)

    async def act() -> None:
        begun = (await browser.gql(BEGIN_SECOND)).ok("beginPasskeySecondFactor")
        (await browser.gql(VERIFY_PASSKEY, {"f": begun["flowId"], "c": device.get(begun["options"])})).ok(
            "verifyPasskey"
        )

    return act


async def s_reauthenticate(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(REAUTHENTICATE, {"i": {"password": PASSWORD}})).ok("reauthenticate")

    return act
