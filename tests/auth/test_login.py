"""login and logout: one answer for every wrong credential, a fresh token every time."""

from __future__ import annotations

import json
import statistics
import time

import pytest
from argon2 import PasswordHasher

from tests.helpers import PASSWORD, VIEWER, Api, login

INVALID = [(None, "INVALID_CREDENTIALS")]


async def test_login_by_username_or_email_starts_a_session(api: Api) -> None:
    owner = await api.owner("acme")
    for identifier in ("owner", "OWNER", "owner@acme.example", "Owner@ACME.example"):
        browser = api.browser()
        result = await login(browser, identifier=identifier)
        payload = result.ok("login")
        assert payload["status"] == "SUCCESS"
        assert payload["viewer"]["user"]["id"] == owner.id and payload["viewer"]["user"]["lastLoginAt"]
        assert (await browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "owner"
    assert await api.count("audit_event", "action = 'login.succeeded'") == 4


async def test_every_wrong_credential_gets_the_same_answer(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    invited = 'mutation { addUser(input: {username: "ivy", email: "ivy@acme.example"}) { errors { code } } }'
    (await owner.browser.gql(invited)).ok("addUser")
    disable = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { code } } }"
    (await owner.browser.gql(disable, {"id": member.id})).ok("updateUser")

    answers = []
    for tenant, identifier, password in [
        ("nosuch", "owner", PASSWORD),  # unknown tenant
        ("acme", "nobody", PASSWORD),  # unknown user
        ("acme", "owner", PASSWORD + "!"),  # wrong password
        ("acme", "mia", PASSWORD),  # disabled
        ("acme", "ivy", PASSWORD),  # invited, no password yet
    ]:
        browser = api.browser()
        result = await login(browser, password, tenant=tenant, identifier=identifier)
        assert result.user_errors("login") == INVALID
        assert result.data["login"]["status"] is None and result.data["login"]["viewer"] is None
        assert "set-cookie" not in result.response.headers
        answers.append(result.body)
    assert all(a == answers[0] for a in answers)

    reasons = [
        json.loads(r["changes"])["reason"]["new"]
        for r in await api.db.fetch("SELECT changes FROM audit_event WHERE action = 'login.failed' ORDER BY id")
    ]
    assert reasons == ["unknown_user", "wrong_password", "account_disabled", "account_invited"]


async def test_unknown_user_and_wrong_password_take_about_the_same_time(api: Api) -> None:
    await api.owner("acme")
    browser = api.browser()
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    for i in range(12):
        for kind, identifier in (("unknown", f"ghost{i}"), ("wrong", "owner")):
            started = time.perf_counter()
            result = await login(browser, f"not-the-password-{i}", identifier=identifier)
            timings[kind].append(time.perf_counter() - started)
            assert result.user_errors("login") == INVALID
        if i == 8:  # stay under the account limit of 10
            await api.db.execute("DELETE FROM rate_limit_counter")
    unknown, wrong = statistics.median(timings["unknown"]), statistics.median(timings["wrong"])
    # Both verify an argon2id hash; without the dummy hash, unknown users answer ~10x faster.
    assert 0.6 < unknown / wrong < 1.6, (unknown, wrong)


async def test_a_login_replaces_the_session_and_its_token(api: Api) -> None:
    owner = await api.owner("acme")
    before = owner.browser.session_cookie
    result = await login(owner.browser)
    result.ok("login")
    after = owner.browser.session_cookie
    assert after and after != before
    assert await api.count("user_session", "user_id = $1::uuid", owner.id) == 1  # the old one is gone
    old = api.browser()
    assert (await old.gql(VIEWER, authorization=f"Bearer {before}")).data["viewer"] is None


async def test_a_hash_with_old_parameters_is_upgraded_at_login(api: Api) -> None:
    owner = await api.owner("acme")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await api.db.execute("UPDATE app_user SET password_hash = $1 WHERE id = $2::uuid", weak, owner.id)
    (await login(api.browser())).ok("login")
    upgraded = await api.db.fetchval("SELECT password_hash FROM app_user WHERE id = $1::uuid", owner.id)
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_logout_ends_the_session_and_clears_the_cookie(api: Api) -> None:
    owner = await api.owner("acme")
    token = owner.browser.session_cookie
    result = await owner.browser.gql("mutation { logout }")
    assert result.data == {"logout": True}
    assert 'session=""' in result.response.headers["set-cookie"] or "Max-Age=0" in result.response.headers["set-cookie"]
    assert await api.count("user_session", "user_id = $1::uuid", owner.id) == 0
    assert (await api.browser().gql(VIEWER, authorization=f"Bearer {token}")).data["viewer"] is None
    assert (await api.browser().gql("mutation { logout }")).data == {"logout": True}
    assert await api.count("audit_event", "action = 'session.revoked'") == 1


async def test_no_transaction_waits_on_the_hash_and_a_password_changed_meanwhile_does_not_let_in(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the password is being hashed the login holds no transaction (a burst of
    logins cannot empty the connection pool), and what it checked is checked again after:
    a password changed in between refuses the login."""
    from api.security import passwords

    await api.owner("acme")
    real = passwords.verify_password
    seen: list[int] = []

    async def verify_while_the_account_changes(stored: str | None, given: str) -> bool:
        seen.append(
            await api.db.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'account-api' AND datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        )
        await api.db.execute("UPDATE app_user SET password_hash = $1", PasswordHasher().hash("a different one"))
        return await real(stored, given)

    monkeypatch.setattr(passwords, "verify_password", verify_while_the_account_changes)
    refused = await login(api.browser())
    assert refused.user_errors("login") == [(None, "INVALID_CREDENTIALS")]
    assert seen == [0]
    assert await api.count("user_session") == 1  # the owner's own, from accepting the invitation
    assert await api.count("audit_event", "action = 'login.failed'") == 1
