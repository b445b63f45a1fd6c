"""Operators list and search tenants: state, seats used and licensed, created, last
activity; keyset pages in slug order; a constant number of SQL statements per page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.middleware import Middleware

from api import clock
from tests.helpers import ADD_USER, Api, login, seen_just_now
from tests.operators.support import SUSPEND, TENANTS, Staff, signed_in_operator, tenant_id
from tests.sqlcount import SqlCountMiddleware, init_asyncpg_connection


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    """Every request reports its SQL statements in X-SQL-Statements."""
    return {"extra_middleware": [Middleware(SqlCountMiddleware)], "pool_init": init_asyncpg_connection}


async def tenants(staff: Staff, **variables: object) -> dict:  # type: ignore[type-arg]
    result = await staff.gql(TENANTS, variables)
    assert not result.errors, result.errors
    return result.data["tenants"]  # type: ignore[no-any-return]


def slugs(page: dict) -> list[str]:  # type: ignore[type-arg]
    return [edge["node"]["slug"] for edge in page["edges"]]


async def test_each_tenant_shows_its_state_seats_and_last_activity(api: Api) -> None:
    owner = await api.owner("acme", seats=10)
    await api.member(owner, "mia")
    (await owner.browser.gql(ADD_USER, {"input": {"username": "ivy", "email": "ivy@acme.example"}})).ok("addUser")
    await api.create_tenant("globex")  # its owner never accepted the invitation
    clock.advance(timedelta(minutes=5))
    (await login(api.browser())).ok("login")
    last_login = await api.db.fetchval("SELECT max(last_login_at) FROM app_user")
    staff = await signed_in_operator(api)

    page = await tenants(staff)
    assert page["totalCount"] == 2 and slugs(page) == ["acme", "globex"]
    acme, globex = (edge["node"] for edge in page["edges"])
    assert acme["id"] == await tenant_id(api, "acme")
    assert (acme["name"], acme["state"], acme["seatLimit"], acme["seatsUsed"]) == ("Acme Ltd", "ACTIVE", 10, 3)
    assert acme["lastActivityAt"] == last_login.isoformat()
    assert acme["createdAt"] and acme["stateChangedAt"] is None and acme["closedAt"] is None
    assert acme["retainUntil"] is None
    assert (globex["seatLimit"], globex["seatsUsed"], globex["lastActivityAt"]) == (None, 1, None)


async def test_a_disabled_account_takes_no_seat(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    disable = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { code } } }"
    (await owner.browser.gql(disable, {"id": member.id})).ok("updateUser")
    staff = await signed_in_operator(api)
    assert (await tenants(staff))["edges"][0]["node"]["seatsUsed"] == 1


async def test_search_matches_slug_or_name_case_insensitively_and_wildcards_are_literal(api: Api) -> None:
    await api.create_tenant("acme")
    await api.create_tenant("globex")
    await api.create_tenant("initech")
    await api.db.execute("UPDATE tenant SET name = 'Initech 100% Ltd' WHERE slug = 'initech'")
    staff = await signed_in_operator(api)
    assert slugs(await tenants(staff, search="GLOB")) == ["globex"]
    assert slugs(await tenants(staff, search="ltd")) == ["acme", "globex", "initech"]
    assert slugs(await tenants(staff, search="100%")) == ["initech"]
    assert slugs(await tenants(staff, search="%")) == ["initech"]
    assert slugs(await tenants(staff, search="_")) == []
    assert (await tenants(staff, search="ltd"))["totalCount"] == 3
    assert (await tenants(staff, search="  "))["totalCount"] == 3


async def test_the_state_filter_shows_only_tenants_in_that_state(api: Api) -> None:
    for slug in ("acme", "globex", "initech"):
        await api.create_tenant(slug)
    staff = await signed_in_operator(api)
    (await staff.gql(SUSPEND, {"id": await tenant_id(api, "globex")})).ok("suspendTenant")
    suspended = await tenants(staff, state="SUSPENDED")
    assert slugs(suspended) == ["globex"] and suspended["totalCount"] == 1
    assert suspended["edges"][0]["node"]["stateChangedAt"]
    assert slugs(await tenants(staff, state="ACTIVE")) == ["acme", "initech"]
    assert slugs(await tenants(staff, state="ACTIVE", search="glob")) == []


async def test_pages_walk_every_tenant_once_in_slug_order(api: Api) -> None:
    wanted = sorted(f"t{i:02d}-corp" for i in range(7))
    for slug in reversed(wanted):
        await api.create_tenant(slug)
    staff = await signed_in_operator(api)
    seen: list[str] = []
    after = None
    while True:
        page = await tenants(staff, first=3, after=after)
        assert page["totalCount"] == 7
        seen += slugs(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == wanted


async def test_bad_page_arguments_are_refused(api: Api) -> None:
    staff = await signed_in_operator(api)
    for variables in ({"first": 0}, {"first": 101}, {"after": "not-a-cursor"}, {"search": "x" * 201}):
        assert (await staff.gql(TENANTS, variables)).codes == ["BAD_USER_INPUT"], variables
    assert (await staff.gql(TENANTS, {"search": "x" * 200})).codes == []


async def test_a_page_costs_the_same_statements_for_2_or_40_tenants(api: Api) -> None:
    for i in range(2):
        owner = await api.owner(f"few{i}")
        await api.member(owner, "mia", slug=f"few{i}")
    staff = await signed_in_operator(api)
    assert staff.browser is not None
    await seen_just_now(staff.browser)
    few = await staff.gql(TENANTS, {"first": 50})
    for i in range(38):
        await api.create_tenant(f"many{i:02d}")
    await seen_just_now(staff.browser)
    many = await staff.gql(TENANTS, {"first": 50})
    assert len(many.data["tenants"]["edges"]) == 40
    counts = int(few.response.headers["x-sql-statements"]), int(many.response.headers["x-sql-statements"])
    assert counts[0] == counts[1] == 3, counts  # the session lookup, the page with its counts, the total
