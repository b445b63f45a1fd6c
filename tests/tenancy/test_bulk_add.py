"""Adding many accounts in one call: all or nothing against the licence, every row's
problems with its index, one invitation each, and a number of SQL statements that does
not grow with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.middleware import Middleware

from tests.helpers import Api, seen_just_now
from tests.sqlcount import SqlCountMiddleware, init_asyncpg_connection

ADD_USERS = """
mutation($users: [AddUserInput!]!) { addUsers(input: {users: $users}) {
  users { id username email role status } errors { field code message index } } }
"""


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    return {"extra_middleware": [Middleware(SqlCountMiddleware)], "pool_init": init_asyncpg_connection}


def rows(n: int, prefix: str = "person", start: int = 0) -> list[dict[str, Any]]:
    return [
        {"username": f"{prefix}-{i:04d}", "email": f"{prefix}-{i:04d}@acme.example", "displayName": f"Person {i}"}
        for i in range(start, start + n)
    ]


async def test_a_thousand_accounts_within_the_licence_in_as_many_statements_as_ten(api: Api) -> None:
    owner = await api.owner("acme", seats=1 + 10 + 1000)
    await seen_just_now(owner.browser)
    small = await owner.browser.gql(ADD_USERS, {"users": rows(10, "small")})
    assert len(small.ok("addUsers")["users"]) == 10
    await seen_just_now(owner.browser)
    large = await owner.browser.gql(ADD_USERS, {"users": rows(1000)})
    added = large.ok("addUsers")["users"]
    assert len(added) == 1000 and {u["status"] for u in added} == {"INVITED"}
    assert int(large.response.headers["x-sql-statements"]) == int(small.response.headers["x-sql-statements"])
    assert await api.count("app_user", "status = 'INVITED'") == 1010
    assert await api.count("account_token", "kind = 'invitation' AND used_at IS NULL") == 1010
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 1 + 1010
    assert len(await api.queued_to("person-0999@acme.example")) == 1
    assert await api.count("audit_event", "action = 'user.created'") == 1 + 1010


async def test_one_more_than_the_licence_allows_adds_nothing(api: Api) -> None:
    owner = await api.owner("acme", seats=1000)
    over = await owner.browser.gql(ADD_USERS, {"users": rows(1000)})
    assert over.user_errors("addUsers") == [("input.users", "SEAT_LIMIT_REACHED")]
    assert "999 of the 1000 are free" in over.payload("addUsers")["errors"][0]["message"]
    too_many = await owner.browser.gql(ADD_USERS, {"users": rows(1001)})
    assert [e[1] for e in too_many.user_errors("addUsers")] == ["SEAT_LIMIT_REACHED", "INVALID_INPUT"]
    assert await api.count("app_user") == 1
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 1
    (await owner.browser.gql(ADD_USERS, {"users": rows(999)})).ok("addUsers")


async def test_each_rows_problems_carry_its_index_and_nothing_is_added(api: Api) -> None:
    owner = await api.owner("acme")
    batch = rows(6)
    batch[1]["username"] = "x"  # too short
    batch[2]["email"] = "not an address"
    batch[3]["email"] = batch[0]["email"].upper()  # twice in the file
    batch[4]["username"] = "OWNER"  # taken in the organisation
    batch[5]["displayName"] = "Bad\u202ename"
    result = await owner.browser.gql(ADD_USERS, {"users": batch})
    errors = result.payload("addUsers")["errors"]
    assert [(e["index"], e["field"], e["code"]) for e in errors] == [
        (1, "input.users.1.username", "INVALID_INPUT"),
        (2, "input.users.2.email", "INVALID_INPUT"),
        (3, "input.users.3.email", "DUPLICATE"),
        (4, "input.users.4.username", "DUPLICATE"),
        (5, "input.users.5.displayName", "INVALID_INPUT"),
    ]
    assert "Row 1" in errors[2]["message"]
    assert result.payload("addUsers")["users"] is None
    assert await api.count("app_user") == 1


async def test_only_administrators_add_and_only_owners_add_owners(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(ADD_USERS, {"users": rows(1)})).codes == ["FORBIDDEN"]
    owners = [{**rows(1)[0], "role": "OWNER"}]
    assert (await admin.browser.gql(ADD_USERS, {"users": owners})).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(ADD_USERS, {"users": rows(1)})).codes == ["UNAUTHENTICATED"]
    empty = await admin.browser.gql(ADD_USERS, {"users": []})
    assert empty.user_errors("addUsers") == [("input.users", "INVALID_INPUT")]
    (await owner.browser.gql(ADD_USERS, {"users": owners})).ok("addUsers")
