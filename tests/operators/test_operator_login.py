"""Operators log in in one step, with their password and the current TOTP code; every
failure gets the same answer, a code works once, failures are limited as users' are,
and an operator session ends at logout, when idle, and at the purge."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from api import clock
from api.jobs import maintenance
from tests.helpers import Api, code
from tests.operators.support import (
    ME,
    OPERATOR_PASSWORD,
    create_operator,
    login_with_code,
    operator_log,
    operator_login,
    signed_in_operator,
)

INVALID = [(None, "INVALID_CREDENTIALS")]


async def test_password_and_current_code_start_an_operator_session(api: Api) -> None:
    staff = await create_operator(api, "olivia")
    browser = api.browser()
    result = await operator_login(browser, "OLIVIA", staff.secret)
    operator = result.ok("operatorLogin")["operator"]
    assert operator["id"] == staff.id and operator["username"] == "olivia" and operator["lastLoginAt"]
    cookie = browser.session_cookie
    assert cookie and cookie.startswith("op_")
    assert "HttpOnly" in result.response.headers["set-cookie"]
    me = (await browser.gql(ME)).data["operator"]
    assert me["id"] == staff.id and me["email"] == "olivia@vendor.example"
    # The cookie, or the same token as a bearer token.
    assert (await api.browser().gql(ME, authorization=f"Bearer {cookie}")).data["operator"]["id"] == staff.id
    assert await api.count("operator_session", "operator_id = $1::uuid", staff.id) == 1
    [event] = await operator_log(api, "action = 'operator.login_succeeded'")
    assert event["actor_type"] == "OPERATOR" and str(event["operator_id"]) == staff.id


async def test_the_operator_field_is_null_without_an_operator_session(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await api.browser().gql(ME)).data == {"operator": None}
    assert (await owner.browser.gql(ME)).data == {"operator": None}


async def test_every_login_failure_gets_the_same_answer(api: Api) -> None:
    staff = await create_operator(api, "olivia")
    disabled = await create_operator(api, "dora")
    await api.db.execute("UPDATE operator SET disabled = true WHERE id = $1::uuid", disabled.id)
    used = code(staff.secret)
    (await login_with_code(api.browser(), "olivia", used)).ok("operatorLogin")

    answers = []
    for username, password, typed in [
        ("nobody", OPERATOR_PASSWORD, code(staff.secret)),  # unknown operator
        ("olivia", OPERATOR_PASSWORD + "!", code(staff.secret)),  # wrong password
        ("olivia", OPERATOR_PASSWORD, code(disabled.secret)),  # wrong code (another's secret)
        ("olivia", OPERATOR_PASSWORD, used),  # the code just used: a replay
        ("olivia", OPERATOR_PASSWORD, code(staff.secret, -2)),  # a code from a minute ago
        ("dora", OPERATOR_PASSWORD, code(disabled.secret)),  # disabled
    ]:
        browser = api.browser()
        result = await login_with_code(browser, username, typed, password=password)
        assert result.user_errors("operatorLogin") == INVALID
        assert result.data["operatorLogin"]["operator"] is None
        assert "set-cookie" not in result.response.headers
        answers.append(result.body)
    assert all(a == answers[0] for a in answers)

    failures = await operator_log(api, "action = 'operator.login_failed'")
    assert [json.loads(f["changes"])["reason"]["new"] for f in failures] == [
        "unknown_operator",
        "wrong_password",
        "wrong_code",
        "code_replayed",
        "wrong_code",
        "operator_disabled",
    ]
    assert {f["actor_type"] for f in failures} == {"ANONYMOUS"}
    # Nothing anyone typed is kept: not the name, not the password, not the code.
    assert not any("nobody" in (f["changes"] or "") for f in failures)


async def test_a_code_is_accepted_once_and_a_neighbouring_step_is_accepted(api: Api) -> None:
    staff = await create_operator(api)
    current, ahead = code(staff.secret), code(staff.secret, steps=1)
    (await login_with_code(api.browser(), staff.username, current)).ok("operatorLogin")
    assert (await login_with_code(api.browser(), staff.username, current)).user_errors("operatorLogin") == INVALID
    # The next step's code (a phone clock a little ahead) works, and then the current one no longer.
    (await login_with_code(api.browser(), staff.username, ahead)).ok("operatorLogin")
    assert (await login_with_code(api.browser(), staff.username, current)).user_errors("operatorLogin") == INVALID
    clock.advance(timedelta(seconds=60))
    (await operator_login(api.browser(), staff.username, staff.secret)).ok("operatorLogin")


async def test_of_two_concurrent_logins_with_one_code_exactly_one_succeeds(api: Api) -> None:
    staff = await create_operator(api)
    results = await asyncio.gather(*(operator_login(api.browser(), staff.username, staff.secret) for _ in range(2)))
    outcomes = sorted(bool(r.payload("operatorLogin")["operator"]) for r in results)
    assert outcomes == [False, True]


async def test_failed_logins_are_limited_per_operator_name(api: Api) -> None:
    staff = await create_operator(api)
    results = await asyncio.gather(
        *(operator_login(api.browser(), staff.username, staff.secret, password=f"guess-{i}") for i in range(15))
    )
    checked = [r for r in results if r.data and r.data["operatorLogin"]["errors"]]
    limited = [r for r in results if r.codes == ["RATE_LIMITED"]]
    assert (len(checked), len(limited)) == (10, 5), [r.data or r.errors for r in results]
    assert 1 <= limited[0].errors[0]["extensions"]["retryAfter"] <= 900
    # Even the right password and code wait now.
    assert (await operator_login(api.browser(), staff.username, staff.secret)).codes == ["RATE_LIMITED"]
    # An unknown name is limited alike, so the limit tells nobody who exists.
    for i in range(10):
        await operator_login(api.browser(), "ghost", staff.secret, password=f"guess-{i}")
    assert (await operator_login(api.browser(), "ghost", staff.secret)).codes == ["RATE_LIMITED"]
    assert len(await operator_log(api, "action = 'operator.login_failed'")) == 15 + 1 + 10 + 1
    # The window passes; the right credentials work again.
    clock.advance(timedelta(minutes=15, seconds=1))
    (await operator_login(api.browser(), staff.username, staff.secret)).ok("operatorLogin")


async def test_operator_names_and_users_identifiers_have_separate_budgets(api: Api) -> None:
    """Attempts on the operator "owner" do not spend the budget of a tenant's user "owner"."""
    await api.owner("acme")
    for i in range(11):
        await operator_login(api.browser(), "owner", "A" * 32, password=f"guess-{i}")
    from tests.helpers import login

    (await login(api.browser(), identifier="owner")).ok("login")


async def test_logout_ends_the_operator_session_and_clears_the_cookie(api: Api) -> None:
    staff = await signed_in_operator(api)
    assert staff.browser is not None
    token = staff.browser.session_cookie
    result = await staff.gql("mutation { logout }")
    assert result.data == {"logout": True}
    assert "Max-Age=0" in result.response.headers["set-cookie"] or 'session=""' in result.response.headers["set-cookie"]
    assert await api.count("operator_session") == 0
    assert (await api.browser().gql(ME, authorization=f"Bearer {token}")).data["operator"] is None
    [event] = await operator_log(api, "action = 'operator.logged_out'")
    assert str(event["operator_id"]) == staff.id and event["actor_type"] == "OPERATOR"


async def test_a_new_login_replaces_the_session_the_browser_had(api: Api) -> None:
    staff = await signed_in_operator(api)
    assert staff.browser is not None
    before = staff.browser.session_cookie
    (await operator_login(staff.browser, staff.username, staff.secret)).ok("operatorLogin")
    assert staff.browser.session_cookie != before
    assert await api.count("operator_session") == 1
    assert (await api.browser().gql(ME, authorization=f"Bearer {before}")).data["operator"] is None


async def test_an_idle_operator_session_ends_and_the_purge_removes_it(api: Api) -> None:
    staff = await signed_in_operator(api)
    assert staff.browser is not None
    clock.advance(timedelta(minutes=29))
    assert (await staff.gql(ME)).data["operator"] is not None  # in use: not idle
    clock.advance(timedelta(minutes=29))
    assert (await staff.gql(ME)).data["operator"] is not None
    clock.advance(timedelta(minutes=31))
    assert (await staff.gql(ME)).data["operator"] is None
    async with api.transaction() as db:
        counts = await maintenance.purge_expired(db, api.settings)
    assert counts["operator_sessions"] == 1 and await api.count("operator_session") == 0


async def test_an_operator_session_ends_at_the_absolute_timeout_however_busy(api: Api) -> None:
    staff = await signed_in_operator(api)
    started = clock.now()
    while (await staff.gql(ME)).data["operator"] is not None:
        clock.advance(timedelta(minutes=20))
    assert timedelta(hours=12) <= clock.now() - started <= timedelta(hours=12, minutes=20)
