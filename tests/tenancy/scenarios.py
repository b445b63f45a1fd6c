"""Audit scenarios of the tenant-life mutations (see tests/audit/test_mutation_coverage.py):
each sets the stage and returns the mutation as the act."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.helpers import PASSWORD, Api
from tests.tenancy.common import CLOSE, CONFIRM_SIGN_UP, operator_browser, signed_up

Act = Callable[[], Awaitable[None]]


async def s_confirm_sign_up(api: Api) -> Act:
    token = await signed_up(api)

    async def act() -> None:
        (await api.browser().gql(CONFIRM_SIGN_UP, {"t": token})).ok("confirmSignUp")

    return act


async def s_add_users(api: Api) -> Act:
    owner = await api.owner("acme")
    query = "mutation($u: [AddUserInput!]!) { addUsers(input: {users: $u}) { errors { code } } }"

    async def act() -> None:
        rows = [{"username": "mia", "email": "mia@acme.example"}, {"username": "max", "email": "max@acme.example"}]
        (await owner.browser.gql(query, {"u": rows})).ok("addUsers")

    return act


async def s_update_contract(api: Api) -> Act:
    owner = await api.owner("acme")
    query = "mutation($i: UpdateContractInput!) { updateContract(input: $i) { errors { code } } }"
    details = {
        "companyName": "Acme",
        "postalAddress": "Dam 1, Amsterdam",
        "country": "NL",
        "billingEmail": "billing@acme.example",
        "contactName": "Carla",
    }

    async def act() -> None:
        (await owner.browser.gql(query, {"i": details})).ok("updateContract")

    return act


async def s_close_tenant(api: Api) -> Act:
    owner = await api.owner("acme")

    async def act() -> None:
        (await owner.browser.gql(CLOSE, {"input": {"confirmSlug": "acme", "password": PASSWORD}})).ok("closeTenant")

    return act


async def s_create_tenant(api: Api) -> Act:
    operator, _ = await operator_browser(api)
    query = "mutation($i: CreateTenantInput!) { createTenant(input: $i) { errors { code } } }"
    given = {"slug": "umbrella", "name": "Umbrella", "ownerUsername": "uma", "ownerEmail": "uma@umbrella.example"}

    async def act() -> None:
        (await operator.gql(query, {"i": given})).ok("createTenant")

    return act
