"""The number of SQL statements per request does not grow with the rows returned."""

from __future__ import annotations

import pytest
from starlette.middleware import Middleware

from tests.helpers import ADD_USER, Api, login, seen_just_now
from tests.queries import SET_CONSENTS
from tests.sqlcount import SqlCountMiddleware, init_asyncpg_connection

USERS_PAGE = """{ users(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id username email displayName role status emailVerified mfaEnabled createdAt lastLoginAt } } } }"""
VIEWER_EVERYTHING = """{ viewer {
  user { id username email displayName role status mfaEnabled lastLoginAt }
  tenant { id name seatLimit seatsUsed requireMfa }
  sessions { id current createdAt lastSeenAt expiresAt ipAddress userAgent mfaVerified }
  consents { purpose { key title version legalBasis } granted version needsRenewal updatedAt }
  consentHistory { purposeKey granted version source recordedAt }
  dataRequests { id kind status dueAt downloadUrl }
  recoveryCodesRemaining
  activity(first: 20) { edges { node { id action occurredAt changes } } pageInfo { hasNextPage } }
} }"""


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    """Every request reports its SQL statements in X-SQL-Statements."""
    return {"extra_middleware": [Middleware(SqlCountMiddleware)], "pool_init": init_asyncpg_connection}


async def statements(browser, query: str) -> int:  # type: ignore[no-untyped-def]
    await seen_just_now(browser)  # so the session's once-a-minute update is not in the count
    result = await browser.gql(query)
    assert not result.errors, result.errors
    return int(result.response.headers["x-sql-statements"])


async def test_the_users_page_costs_the_same_for_3_or_60_accounts(api: Api) -> None:
    owner = await api.owner("acme")
    for i in range(2):
        (await owner.browser.gql(ADD_USER, {"input": {"username": f"few{i}", "email": f"few{i}@acme.example"}})).ok(
            "addUser"
        )
    few = await statements(owner.browser, USERS_PAGE)
    for i in range(57):
        (
            await owner.browser.gql(ADD_USER, {"input": {"username": f"many{i:02d}", "email": f"many{i}@acme.example"}})
        ).ok("addUser")
    many = await statements(owner.browser, USERS_PAGE)
    assert few == many == 2, (few, many)  # the session lookup; the page with its count


async def test_the_viewer_with_every_list_costs_the_same_however_long_the_lists(api: Api) -> None:
    owner = await api.owner("acme")
    small = await statements(owner.browser, VIEWER_EVERYTHING)
    for i in range(6):
        await login(api.browser())  # more sessions and activity
        (
            await owner.browser.gql(
                SET_CONSENTS,
                {
                    "i": [
                        {"purposeKey": "newsletter", "granted": i % 2 == 0},
                        {"purposeKey": "product-analytics", "granted": True},
                    ]
                },
            )
        ).ok("setConsents")
    await owner.browser.gql("mutation { requestDataExport { errors { code } } }")
    large = await statements(owner.browser, VIEWER_EVERYTHING)
    assert small == large, (small, large)
    assert 8 <= large <= 12, large  # one statement per list, whatever its length
