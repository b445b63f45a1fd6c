"""Changing, resetting and recovering passwords; changing the email address."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from api import clock
from tests.helpers import PASSWORD, VIEWER, Api, login
from tests.queries import CHANGE_PASSWORD, REQUEST_PASSWORD_RESET, RESET_PASSWORD

NEW = "plum-harbour-lantern-93-kite"
CHANGE_EMAIL = "mutation($e: String!, $p: String!) { changeEmail(input: {newEmail: $e, password: $p}) { ok errors { field code } } }"
VERIFY = "mutation($t: String!) { verifyEmail(token: $t) { ok errors { field code } } }"


async def test_change_password_revokes_other_sessions_and_renews_this_one(api: Api) -> None:
    owner = await api.owner("acme")
    laptop = api.browser()
    (await login(laptop)).ok("login")
    before = owner.browser.session_cookie
    (await owner.browser.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW})).ok("changePassword")
    assert owner.browser.session_cookie != before
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    assert (await laptop.gql(VIEWER)).data["viewer"] is None
    assert (await api.browser().gql(VIEWER, authorization=f"Bearer {before}")).data["viewer"] is None
    assert (await login(api.browser(), NEW)).ok("login")
    assert (await login(api.browser(), PASSWORD)).user_errors("login") == [(None, "INVALID_CREDENTIALS")]
    assert await api.count("audit_event", "action = 'password.changed'") == 1


async def test_change_password_needs_the_current_one_and_a_good_new_one(api: Api) -> None:
    owner = await api.owner("acme")
    wrong = await owner.browser.gql(CHANGE_PASSWORD, {"c": "not-it", "n": NEW})
    assert wrong.user_errors("changePassword") == [("input.currentPassword", "INVALID_CREDENTIALS")]
    assert wrong.data["changePassword"]["ok"] is False
    weak = await owner.browser.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": "owner-acme"})
    assert weak.user_errors("changePassword") == [("input.newPassword", "PASSWORD_POLICY")]
    assert (await login(api.browser())).ok("login")  # unchanged
    assert await api.count("audit_event", "action = 'password.change_failed'") == 1
    assert (await api.browser().gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW})).codes == ["UNAUTHENTICATED"]


async def test_a_reset_link_is_sent_only_when_the_address_exists_and_the_answer_is_the_same(api: Api) -> None:
    await api.owner("acme")
    anonymous = api.browser()
    answers = [
        (await anonymous.gql(REQUEST_PASSWORD_RESET, {"t": tenant, "e": address})).body
        for tenant, address in [
            ("acme", "owner@acme.example"),
            ("acme", "nobody@acme.example"),
            ("nosuch", "owner@acme.example"),
            ("acme", "not an email"),
        ]
    ]
    assert all(a == {"data": {"requestPasswordReset": {"ok": True, "errors": []}}} for a in answers)
    # The invitation and the reset (the worker may send them in either order).
    received = await api.mailbox.wait_for("owner@acme.example", count=2)
    assert sorted(m.link().split("?")[0] for m in received) == [
        "http://app.test/accept-invitation",
        "http://app.test/reset-password",
    ]
    assert sorted(m.subject for m in await api.queued_to("owner@acme.example")) == sorted(m.subject for m in received)
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 2  # nothing for the others


async def test_resetting_sets_the_password_and_revokes_every_session(api: Api) -> None:
    owner = await api.owner("acme")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    token = await api.queued_token("owner@acme.example")
    (await api.browser().gql(RESET_PASSWORD, {"t": token, "p": NEW})).ok("resetPassword")
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is None
    assert await api.count("user_session") == 0
    assert (await login(api.browser(), NEW)).ok("login")
    again = await api.browser().gql(RESET_PASSWORD, {"t": token, "p": NEW + "x"})
    assert again.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]


async def test_a_reset_link_expires_after_an_hour(api: Api) -> None:
    await api.owner("acme")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    token = await api.queued_token("owner@acme.example")
    clock.advance(timedelta(minutes=61))
    result = await api.browser().gql(RESET_PASSWORD, {"t": token, "p": NEW})
    assert result.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]


async def test_a_weak_new_password_keeps_the_link_usable(api: Api) -> None:
    await api.owner("acme")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    token = await api.queued_token("owner@acme.example")
    weak = await api.browser().gql(RESET_PASSWORD, {"t": token, "p": "12345678"})
    assert weak.user_errors("resetPassword") == [("input.newPassword", "PASSWORD_POLICY")]
    (await api.browser().gql(RESET_PASSWORD, {"t": token, "p": NEW})).ok("resetPassword")


async def test_ten_concurrent_resets_with_one_token_succeed_once(api: Api) -> None:
    await api.owner("acme")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    token = await api.queued_token("owner@acme.example")
    results = await asyncio.gather(
        *(api.browser().gql(RESET_PASSWORD, {"t": token, "p": f"{NEW}-{i}"}) for i in range(10))
    )
    winners = [i for i, r in enumerate(results) if r.payload("resetPassword")["ok"]]
    assert len(winners) == 1
    assert all(
        r.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]
        for i, r in enumerate(results)
        if i not in winners
    )
    assert (await login(api.browser(), f"{NEW}-{winners[0]}")).ok("login")
    assert await api.count("audit_event", "action = 'password.reset'") == 1


async def test_reset_emails_are_limited_per_account_but_the_answer_stays_ok(api: Api) -> None:
    await api.owner("acme")
    # More at once than the worker runs jobs concurrently: each job holds a connection
    # while it counts the account's budget on another (they once waited on each other).
    results = await asyncio.gather(
        *(api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"}) for _ in range(12))
    )
    assert all(r.ok("requestPasswordReset") for r in results)
    await api.jobs_done()  # the worker's job issues and queues the links
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 1 + 3


async def test_changing_email_waits_for_the_new_address_and_tells_the_old(api: Api) -> None:
    owner = await api.owner("acme")
    api.mailbox.clear()
    (await owner.browser.gql(CHANGE_EMAIL, {"e": "boss@new.example", "p": PASSWORD})).ok("changeEmail")
    assert await api.db.fetchval("SELECT email FROM app_user WHERE id = $1::uuid", owner.id) == "owner@acme.example"
    [confirm] = await api.mailbox.wait_for("boss@new.example")
    notice = await api.mailbox.wait_for_one("owner@acme.example", lambda m: "new.example" in m.body)
    assert confirm.link().startswith("http://app.test/verify-email?token=")
    assert "b***@new.example" in notice.body and "token" not in notice.body
    (await api.browser().gql(VERIFY, {"t": confirm.token()})).ok("verifyEmail")
    assert await api.db.fetchval("SELECT email FROM app_user WHERE id = $1::uuid", owner.id) == "boss@new.example"
    assert (await login(api.browser(), identifier="boss@new.example")).ok("login")
    again = await api.browser().gql(VERIFY, {"t": confirm.token()})
    assert again.user_errors("verifyEmail") == [("token", "INVALID_TOKEN")]


async def test_changing_email_needs_the_password_and_a_valid_new_address(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    cases = [
        ({"e": "x@new.example", "p": "wrong"}, [("input.password", "INVALID_CREDENTIALS")]),
        ({"e": "nope", "p": PASSWORD}, [("input.newEmail", "INVALID_INPUT")]),
        ({"e": "owner@acme.example", "p": PASSWORD}, [("input.newEmail", "INVALID_INPUT")]),
    ]
    for variables, errors in cases:
        assert (await owner.browser.gql(CHANGE_EMAIL, variables)).user_errors("changeEmail") == errors, variables
    assert await api.count("account_token", "kind = 'email_verification'") == 0


async def test_an_address_in_use_is_not_revealed_and_gets_no_link(api: Api) -> None:
    """Whether another account of the organisation has an address is not for a member
    to find out: the answer is the same; the holder of the address is told, nothing changes."""
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    api.mailbox.clear()
    taken = await owner.browser.gql(CHANGE_EMAIL, {"e": "MIA@acme.example", "p": PASSWORD})
    free = await owner.browser.gql(CHANGE_EMAIL, {"e": "boss@new.example", "p": PASSWORD})
    assert taken.body == free.body == {"data": {"changeEmail": {"ok": True, "errors": []}}}
    notice = await api.mailbox.wait_for_one("mia@acme.example", lambda m: "already uses it" in m.body)
    assert "http" not in notice.body
    assert await api.count("account_token", "kind = 'email_verification'") == 1  # for the free one only


async def test_a_change_of_password_or_email_ends_outstanding_links(api: Api) -> None:
    owner = await api.owner("acme")
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    reset_before_change = await api.queued_token("owner@acme.example")
    (await owner.browser.gql(CHANGE_EMAIL, {"e": "boss@new.example", "p": PASSWORD})).ok("changeEmail")
    verification = await api.queued_token("boss@new.example")
    (await owner.browser.gql(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW})).ok("changePassword")
    dead = await api.browser().gql(RESET_PASSWORD, {"t": reset_before_change, "p": "another-long-pass-phrase-9"})
    assert dead.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]
    assert (await api.browser().gql(VERIFY, {"t": verification})).user_errors("verifyEmail") == [
        ("token", "INVALID_TOKEN")
    ]

    # A new reset link, then an email change: the link dies with the old address.
    await api.browser().gql(REQUEST_PASSWORD_RESET, {"t": "acme", "e": "owner@acme.example"})
    reset_before_email = await api.queued_token("owner@acme.example")
    (await owner.browser.gql(CHANGE_EMAIL, {"e": "boss@new.example", "p": NEW})).ok("changeEmail")
    (await api.browser().gql(VERIFY, {"t": await api.queued_token("boss@new.example")})).ok("verifyEmail")
    dead = await api.browser().gql(RESET_PASSWORD, {"t": reset_before_email, "p": "another-long-pass-phrase-9"})
    assert dead.user_errors("resetPassword") == [("input.token", "INVALID_TOKEN")]
    assert await api.count("account_token", "kind IN ('password_reset', 'email_verification') AND used_at IS NULL") == 0


async def test_confirming_one_address_for_several_accounts_at_once_gives_it_to_one(api: Api) -> None:
    """Each asked for the same new address; their confirmations race: one account gets
    it, the others are told it is taken (never an internal error)."""
    owner = await api.owner("acme", seats=8)
    members = [await api.member(owner, f"m{i}x") for i in range(5)]
    for member in members:
        (await member.browser.gql(CHANGE_EMAIL, {"e": "shared@acme.example", "p": PASSWORD})).ok("changeEmail")
    links = [
        parse_qs(urlsplit(re.search(r"https?://\S+", m.body).group(0)).query)["token"][0]  # type: ignore[union-attr]
        for m in await api.queued_to("shared@acme.example")
    ]
    assert len(links) == 5
    results = await asyncio.gather(*(api.browser().gql(VERIFY, {"t": link}) for link in links))
    assert all(not r.errors for r in results), [r.body for r in results]
    outcomes = sorted(tuple(r.user_errors("verifyEmail")) for r in results)
    assert outcomes == [()] + [(("token", "DUPLICATE"),)] * 4, outcomes
    assert await api.count("app_user", "lower(email) = 'shared@acme.example'") == 1
