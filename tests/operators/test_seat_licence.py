"""Operators change a tenant's seat licence: raised or lowered at will, never below the
seats in use (INVITED and ACTIVE accounts), and a limit change racing an administrator
adding the last account leaves the licence holding."""

from __future__ import annotations

import asyncio
import json

from tests.helpers import ADD_USER, Api
from tests.operators.support import SET_SEATS, TENANTS, new_id, operator_log, signed_in_operator, tenant_id


async def test_the_operators_licence_is_the_one_adding_accounts_obeys(api: Api) -> None:
    owner = await api.owner("acme", seats=2)
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    raised = (await staff.gql(SET_SEATS, {"id": acme, "seats": 3})).ok("setTenantSeatLimit")["tenant"]
    assert (raised["id"], raised["seatLimit"], raised["seatsUsed"]) == (acme, 3, 1)
    for name in ("mia", "max"):
        (await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})).ok(
            "addUser"
        )
    refused = await owner.browser.gql(ADD_USER, {"input": {"username": "moe", "email": "moe@acme.example"}})
    assert refused.user_errors("addUser") == [(None, "SEAT_LIMIT_REACHED")]
    unlimited = (await staff.gql(SET_SEATS, {"id": acme, "seats": None})).ok("setTenantSeatLimit")["tenant"]
    assert unlimited["seatLimit"] is None
    (await owner.browser.gql(ADD_USER, {"input": {"username": "moe", "email": "moe@acme.example"}})).ok("addUser")
    viewer = await owner.browser.gql("{ viewer { tenant { seatLimit seatsUsed } } }")
    assert viewer.data["viewer"]["tenant"] == {"seatLimit": None, "seatsUsed": 4}


async def test_a_licence_below_the_seats_in_use_is_refused_and_nothing_changes(api: Api) -> None:
    owner = await api.owner("acme", seats=10)
    await api.member(owner, "mia")
    (await owner.browser.gql(ADD_USER, {"input": {"username": "ivy", "email": "ivy@acme.example"}})).ok("addUser")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    events_before = await api.count("audit_event")

    result = await staff.gql(SET_SEATS, {"id": acme, "seats": 2})
    [error] = result.payload("setTenantSeatLimit")["errors"]
    assert (error["field"], error["code"]) == ("input.seatLimit", "SEATS_IN_USE")
    assert "3 seats are in use" in error["message"]
    assert result.data["setTenantSeatLimit"]["tenant"] is None
    assert await api.db.fetchval("SELECT seat_limit FROM tenant") == 10
    assert await api.count("audit_event") == events_before
    assert await operator_log(api, "action = 'tenant.seat_limit_changed'") == []
    # Exactly the seats in use is allowed.
    assert (await staff.gql(SET_SEATS, {"id": acme, "seats": 3})).ok("setTenantSeatLimit")["tenant"]["seatLimit"] == 3


async def test_out_of_range_or_missing_values_and_unknown_tenants_are_refused(api: Api) -> None:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    for seats in (0, -1, 1_000_001):
        result = await staff.gql(SET_SEATS, {"id": acme, "seats": seats})
        assert result.user_errors("setTenantSeatLimit") == [("input.seatLimit", "INVALID_INPUT")], seats
    omitted = await staff.gql(
        "mutation($id: ID!) { setTenantSeatLimit(input: {tenantId: $id}) { errors { field code } } }", {"id": acme}
    )
    assert omitted.user_errors("setTenantSeatLimit") == [("input.seatLimit", "INVALID_INPUT")]
    for unknown in (new_id(), "not-an-id", ""):
        result = await staff.gql(SET_SEATS, {"id": unknown, "seats": 5})
        assert result.user_errors("setTenantSeatLimit") == [("input.tenantId", "NOT_FOUND")], unknown
    assert (await staff.gql(SET_SEATS, {"id": acme, "seats": 1_000_000})).ok("setTenantSeatLimit")
    assert await api.db.fetchval("SELECT seat_limit FROM tenant") == 1_000_000


async def test_a_closed_tenants_licence_cannot_change(api: Api) -> None:
    await api.create_tenant("acme", seats=5)
    await api.db.execute(
        "UPDATE tenant SET state = 'CLOSED', closed_at = now(), retain_until = now() + interval '7 years'"
    )
    staff = await signed_in_operator(api)
    result = await staff.gql(SET_SEATS, {"id": await tenant_id(api, "acme"), "seats": 50})
    assert result.user_errors("setTenantSeatLimit") == [("input.tenantId", "TENANT_CLOSED")]
    assert await api.db.fetchval("SELECT seat_limit FROM tenant") == 5


async def test_the_change_is_audited_with_old_and_new_licence(api: Api) -> None:
    await api.owner("acme", seats=5)
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SET_SEATS, {"id": acme, "seats": 8})).ok("setTenantSeatLimit")
    (await staff.gql(SET_SEATS, {"id": acme, "seats": 8})).ok("setTenantSeatLimit")  # no change, no event
    [event] = await api.db.fetch("SELECT * FROM audit_event WHERE action = 'tenant.seat_limit_changed'")
    assert (event["actor_type"], str(event["actor_id"]), str(event["target_id"])) == ("OPERATOR", staff.id, acme)
    assert json.loads(event["changes"]) == {"seat_limit": {"old": 5, "new": 8}, "seats_used": {"new": 1}}
    [logged] = await operator_log(api, "action = 'tenant.seat_limit_changed'")
    assert (str(logged["operator_id"]), str(logged["tenant_id"])) == (staff.id, acme)


async def test_a_lowered_licence_racing_the_last_free_seat_keeps_the_licence(api: Api) -> None:
    """Each round: two seats in use of three; at the same moment an administrator adds a
    third account and an operator lowers the licence to two. Whichever runs second sees
    the first: exactly one of them succeeds, and no tenant ends with more seats in use
    than its licence."""
    rounds = 10
    admins = [await api.owner(f"race{i}", seats=3) for i in range(rounds)]
    for i, admin in enumerate(admins):
        await api.member(admin, "mia", slug=f"race{i}")
    staff = await signed_in_operator(api)
    ids = [await tenant_id(api, f"race{i}") for i in range(rounds)]

    async def add(i: int) -> bool:
        result = await admins[i].browser.gql(
            ADD_USER, {"input": {"username": "last", "email": f"last@race{i}.example"}}
        )
        return result.payload("addUser")["errors"] == []

    async def lower(i: int) -> bool:
        result = await staff.gql(SET_SEATS, {"id": ids[i], "seats": 2})
        return result.payload("setTenantSeatLimit")["errors"] == []

    outcomes = await asyncio.gather(*(call(i) for i in range(rounds) for call in (add, lower)))
    for i in range(rounds):
        added, lowered = outcomes[2 * i], outcomes[2 * i + 1]
        assert added != lowered, (i, added, lowered)
    page = (await staff.gql(TENANTS, {"search": "race"})).data["tenants"]
    for edge in page["edges"]:
        node = edge["node"]
        assert node["seatsUsed"] <= node["seatLimit"], node
