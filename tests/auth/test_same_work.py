"""An anonymous request that names an account does the same work whether or not the
account exists, so that how long it takes tells nothing either. Nothing is timed here:
the SQL statements each request issues are recorded and compared, text by text."""

from __future__ import annotations

import re

import pytest
from starlette.middleware import Middleware

from tests.helpers import LOGIN, Api
from tests.operators.support import OPERATOR_LOGIN, create_operator
from tests.queries import REQUEST_PASSWORD_RESET
from tests.sqlcount import LAST_REQUEST, SqlCountMiddleware, init_asyncpg_connection
from tests.tenancy.common import SIGN_UP, sign_up_input


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    """Every request's SQL statements end up in sqlcount.LAST_REQUEST."""
    return {"extra_middleware": [Middleware(SqlCountMiddleware)], "pool_init": init_asyncpg_connection}


async def _reset_statements(api: Api, tenant: str, address: str) -> list[str]:
    """The statements one requestPasswordReset issues, from a browser without a session."""
    result = await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": tenant, "e": address})
    assert result.body == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}}
    return list(LAST_REQUEST)


async def test_a_reset_request_issues_the_same_statements_for_an_existing_and_a_missing_address(api: Api) -> None:
    await api.owner("acme")
    existing = await _reset_statements(api, "acme", "owner@acme.example")
    missing = await _reset_statements(api, "acme", "nobody@acme.example")
    no_organisation = await _reset_statements(api, "nosuch", "owner@acme.example")
    for _ in range(2):
        await _reset_statements(api, "acme", "Owner@Acme.example ")
    # The account's three links an hour are spent: the request still does what it did.
    past_its_budget = await _reset_statements(api, "acme", "owner@acme.example")

    assert existing == missing == no_organisation == past_its_budget
    # The client's hourly budget, then the job that does the rest.
    assert len(existing) == 2, existing
    assert "rate_limit_steps" in existing[0] and "procrastinate_defer_jobs" in existing[1]

    # The job did the rest: three links for the account, nothing for anyone else.
    await api.jobs_done()
    assert len(await api.queued_to("owner@acme.example")) == 1 + 3  # the invitation, three links
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 1 + 3
    assert await api.count("audit_event", "action = 'password.reset_requested'") == 3


async def test_a_reset_request_never_reads_an_account_an_organisation_or_a_token(api: Api) -> None:
    await api.owner("acme")
    statements = await _reset_statements(api, "acme", "owner@acme.example")
    touched = {t for s in statements for t in re.findall(r"\b(app_user|tenant|account_token|audit_event)\b", s)}
    assert touched == set(), statements
    # Nor does the job queue hold the address in clear.
    assert await api.count("procrastinate_jobs", "args::text ILIKE '%acme.example%'") == 0


async def _statements(api: Api, query: str, variables: dict[str, object]) -> list[str]:
    await api.browser().gql(query, variables)
    return list(LAST_REQUEST)


async def test_a_failed_login_issues_the_same_statements_for_an_existing_and_a_missing_account(api: Api) -> None:
    await api.owner("acme")
    existing = await _statements(api, LOGIN, {"tenant": "acme", "identifier": "owner", "password": "wrong"})
    missing = await _statements(api, LOGIN, {"tenant": "acme", "identifier": "nobody", "password": "wrong"})
    assert existing == missing


async def test_a_failed_operator_login_issues_the_same_statements_for_an_existing_and_a_missing_operator(
    api: Api,
) -> None:
    await create_operator(api, "olivia")
    existing = await _statements(api, OPERATOR_LOGIN, {"u": "olivia", "p": "wrong", "c": "000000"})
    missing = await _statements(api, OPERATOR_LOGIN, {"u": "nobody", "p": "wrong", "c": "000000"})
    assert existing == missing


async def test_a_sign_up_issues_the_same_statements_whether_or_not_the_organisation_address_is_taken(
    api: Api,
) -> None:
    await api.owner("acme")
    taken = await _statements(api, SIGN_UP, {"input": sign_up_input("acme", "buyer-1@initech.example")})
    free = await _statements(api, SIGN_UP, {"input": sign_up_input("initech", "buyer-2@initech.example")})
    assert taken == free
