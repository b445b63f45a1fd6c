"""Passkey ceremonies through the API, with the software authenticator."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, Browser
from tests.passkeys.authenticator import Authenticator

BEGIN_REGISTRATION = "mutation { beginPasskeyRegistration { flowId options errors { field code } } }"
FINISH_REGISTRATION = """
mutation($f: ID!, $c: JSON!, $n: String) { finishPasskeyRegistration(input: {flowId: $f, credential: $c, name: $n}) {
  passkey { id name aaguid backedUp transports createdAt lastUsedAt } errors { field code message } } }
"""
BEGIN_LOGIN = "mutation($t: String!) { beginPasskeyLogin(input: {tenant: $t}) { flowId options errors { code } } }"
FINISH_LOGIN = """
mutation($f: ID!, $c: JSON!) { finishPasskeyLogin(input: {flowId: $f, credential: $c}) {
  status viewer { user { id username } } errors { field code } } }
"""
BEGIN_SECOND = "mutation { beginPasskeySecondFactor { flowId options errors { code } } }"
VERIFY_PASSKEY = """
mutation($f: ID!, $c: JSON!) { verifyPasskey(input: {flowId: $f, credential: $c}) {
  status viewer { user { id } } errors { field code } } }
"""
BEGIN_REAUTH = "mutation { beginReauthentication { flowId options errors { code } } }"
REAUTHENTICATE = """
mutation($i: ReauthenticateInput!) { reauthenticate(input: $i) { method validUntil errors { field code } } }
"""
PASSKEYS = "{ viewer { user { mfaEnabled } passkeys { id name aaguid lastUsedAt } } }"


def authenticator(api: Api) -> Authenticator:
    return Authenticator(origin=api.settings.app_url)


async def register(browser: Browser, device: Authenticator, name: str = "Laptop") -> dict[str, Any]:
    begun = (await browser.gql(BEGIN_REGISTRATION)).ok("beginPasskeyRegistration")
    answer = device.create(begun["options"])
    done = await browser.gql(FINISH_REGISTRATION, {"f": begun["flowId"], "c": answer, "n": name})
    return done.ok("finishPasskeyRegistration")["passkey"]  # type: ignore[no-any-return]


async def sign_in(browser: Browser, device: Authenticator, tenant: str = "acme", **get: Any) -> Any:
    begun = (await browser.gql(BEGIN_LOGIN, {"t": tenant})).ok("beginPasskeyLogin")
    return await browser.gql(FINISH_LOGIN, {"f": begun["flowId"], "c": device.get(begun["options"], **get)})


async def reauthenticate_with_passkey(browser: Browser, device: Authenticator) -> None:
    begun = (await browser.gql(BEGIN_REAUTH)).ok("beginReauthentication")
    answer = device.get(begun["options"])
    (await browser.gql(REAUTHENTICATE, {"i": {"flowId": begun["flowId"], "credential": answer}})).ok("reauthenticate")
