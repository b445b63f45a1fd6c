"""Failed logins are limited per account and per client IP, in PostgreSQL, per attempt."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from api import clock
from api.attempts import Attempts, Limit, Limits, Step, _seconds_left
from api.errors import RateLimited
from api.settings import ConfigurationError, Settings
from db.engine import make_engine, make_sessionmaker
from tests.helpers import LOGIN, PASSWORD, Api, login


async def test_fifty_concurrent_wrong_attempts_get_exactly_ten_checks(api: Api) -> None:
    await api.owner("acme")
    results = await asyncio.gather(*(login(api.browser(), f"guess-{i}") for i in range(50)))
    checked = [r for r in results if r.data and r.data["login"]["errors"]]
    limited = [r for r in results if r.codes == ["RATE_LIMITED"]]
    assert (len(checked), len(limited)) == (10, 40)
    assert all(r.user_errors("login") == [(None, "INVALID_CREDENTIALS")] for r in checked)
    retry = limited[0].errors[0]["extensions"]["retryAfter"]
    assert 1 <= retry <= 900
    # Even the right password waits now: the account is limited, not the guess.
    assert (await login(api.browser())).codes == ["RATE_LIMITED"]
    assert await api.count("audit_event", "action = 'login.failed'") == 50


async def test_aliases_in_one_request_count_as_separate_attempts(api: Api) -> None:
    await api.owner("acme")
    fields = " ".join(
        f'a{i}: login(input: {{tenant: "acme", identifier: "owner", password: "guess-{i}"}}) {{ errors {{ code }} }}'
        for i in range(15)
    )
    result = await api.browser().gql(f"mutation {{ {fields} }}")
    # The eleventh alias is refused; its error nulls the non-null payload and ends the operation.
    assert result.codes == ["RATE_LIMITED"] and result.data is None
    assert (
        await api.count("audit_event", "action = 'login.failed' AND changes->'reason'->>'new' = 'wrong_password'") == 10
    )


async def test_the_account_keeps_its_budget_whatever_names_it_but_says_so_to_nobody(api: Api) -> None:
    """Guesses through the username and the email share the account's budget. Past it the
    password is not even checked, but the answer stays INVALID_CREDENTIALS: a visible
    limit on the account would tell an attacker that the two name one existing account."""
    await api.owner("acme")
    for i in range(10):
        await login(api.browser(), f"guess-{i}", identifier="owner" if i % 2 else "OWNER@acme.example")
    refused = await login(api.browser(), identifier="owner@acme.example")
    assert refused.user_errors("login") == [(None, "INVALID_CREDENTIALS")]
    assert (
        await api.count("audit_event", "action = 'login.failed' AND changes->'reason'->>'new' = 'account_limited'") == 1
    )


async def test_after_the_window_the_account_may_try_again(api: Api) -> None:
    await api.owner("acme")
    for i in range(11):
        await login(api.browser(), f"guess-{i}")
    assert (await login(api.browser())).codes == ["RATE_LIMITED"]
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await login(api.browser())).ok("login")


async def test_a_success_clears_the_account_count(api: Api) -> None:
    await api.owner("acme")
    for i in range(9):
        await login(api.browser(), f"guess-{i}")
    (await login(api.browser())).ok("login")
    for i in range(9):
        assert (await login(api.browser(), f"again-{i}")).user_errors("login") == [(None, "INVALID_CREDENTIALS")]


async def test_one_client_ip_is_limited_across_accounts(api: Api) -> None:
    await api.owner("acme")
    # 50 failures from 127.0.0.1 spread over unknown accounts, five each.
    for i in range(50):
        result = await login(api.browser(), "x", identifier=f"user{i // 5}")
        assert result.user_errors("login") == [(None, "INVALID_CREDENTIALS")]
    assert (await login(api.browser(), "x", identifier="someone-new")).codes == ["RATE_LIMITED"]


async def test_an_aliased_login_flood_is_also_limited_with_a_single_http_request(api: Api) -> None:
    await api.owner("acme")
    many = " ".join(
        f'a{i}: login(input: {{tenant: "acme", identifier: "owner", password: "g{i}"}}) {{ status }}' for i in range(25)
    )
    first = await api.browser().gql(f"mutation {{ {many} }}")
    second = await api.browser().gql(f"mutation {{ {many} }}")
    assert first.codes == second.codes == ["RATE_LIMITED"]
    assert (
        await api.count("audit_event", "action = 'login.failed' AND changes->'reason'->>'new' = 'wrong_password'") == 10
    )


def test_production_refuses_limits_above_a_hundred_failures_an_hour() -> None:
    base = {
        "env": "production",
        "secret_key": "k" * 40,
        "app_url": "https://x.example",
        "database_url": "postgresql://db/x",
    }
    Settings(**base).check_production_safety()  # the defaults: 10 per 15 minutes
    with pytest.raises(ConfigurationError, match="100 failures"):
        Settings(**base, login_failures_per_account=30).check_production_safety()


async def test_the_limit_is_shared_through_the_database(api: Api) -> None:
    await api.owner("acme")
    for i in range(10):
        await login(api.browser(), f"guess-{i}")
    keys = await api.db.fetch("SELECT key, count FROM rate_limit_counter ORDER BY key")
    assert {r["count"] for r in keys} == {10}
    assert not any("owner" in r["key"] or "127.0.0.1" in r["key"] for r in keys)  # HMACs, no personal data
    assert LOGIN and PASSWORD


def test_retry_after_is_never_longer_than_the_window() -> None:
    """A concurrent attempt may open the window with a clock read later than this one's."""
    now = clock.now()
    window = timedelta(minutes=15)
    assert _seconds_left(now + timedelta(milliseconds=400), window, now) == 900
    assert _seconds_left(now - timedelta(seconds=899, milliseconds=600), window, now) == 1
    assert _seconds_left(now - timedelta(hours=1), window, now) == 1


@pytest.mark.parametrize("bare_pool", [True, False], ids=["bare pool", "sqlalchemy"])
async def test_a_batch_of_counter_steps_applies_in_order_and_stops_at_the_first_attempt_past_its_limit(
    db_url: str, db: asyncpg.Connection, bare_pool: bool
) -> None:
    engine = make_engine(Settings(database_url=db_url), db_url)
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2) if bare_pool else None
    try:
        attempts = Attempts(b"k" * 32, Limits.from_settings(Settings()), make_sessionmaker(engine), pool)
        two, one = Limit("two", 2, timedelta(minutes=5)), Limit("one", 1, timedelta(minutes=5))
        silent, cleared = Limit("silent", 1, timedelta(minutes=5)), Limit("cleared", 5, timedelta(minutes=5))
        await attempts.take(cleared, "x", cost=3)

        async def counts() -> dict[str, int]:
            rows = await db.fetch("SELECT key, count FROM rate_limit_counter")
            return {row["key"].split(":")[0]: row["count"] for row in rows}

        batch = (Step.take(two, "x"), Step.within(silent, "x"), Step.take(one, "x"), Step.clear(cleared, "x"))
        assert await attempts.steps(*batch) == [True]
        assert await counts() == {"two": 1, "silent": 1, "one": 1}
        # `one` is past its limit: its count stands, the batch stops there (nothing cleared
        # after it), and the error names the limit.
        await attempts.take(cleared, "x")
        with pytest.raises(RateLimited) as limited:
            await attempts.steps(*batch)
        assert limited.value.limit == "one" and 1 <= limited.value.retry_after <= 300
        assert await counts() == {"two": 2, "silent": 2, "one": 2, "cleared": 1}
        # A silent limit only reports; giving back uncounts.
        assert await attempts.steps(Step.within(silent, "x"), Step.give_back(two, "x")) == [False]
        assert await counts() == {"two": 1, "silent": 3, "one": 2, "cleared": 1}
    finally:
        if pool is not None:
            await pool.close()
        await engine.dispose()
