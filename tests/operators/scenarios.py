"""The operators' mutations, set up for tests/audit/test_mutation_coverage.py, which
checks that every mutation of the schema leaves its audit event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.helpers import Api
from tests.operators.support import (
    REACTIVATE,
    SET_SEATS,
    SUSPEND,
    create_operator,
    operator_login,
    signed_in_operator,
    tenant_id,
)

Act = Callable[[], Awaitable[None]]


async def s_operator_login(api: Api) -> Act:
    staff = await create_operator(api)

    async def act() -> None:
        (await operator_login(api.browser(), staff.username, staff.secret)).ok("operatorLogin")

    return act


async def s_set_tenant_seat_limit(api: Api) -> Act:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")

    async def act() -> None:
        (await staff.gql(SET_SEATS, {"id": acme, "seats": 10})).ok("setTenantSeatLimit")

    return act


async def s_suspend_tenant(api: Api) -> Act:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")

    async def act() -> None:
        (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")

    return act


async def s_reactivate_tenant(api: Api) -> Act:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SUSPEND, {"id": acme})).ok("suspendTenant")

    async def act() -> None:
        (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")

    return act
