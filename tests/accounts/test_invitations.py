"""Invitations: a single-use, expiring link that sets the first password and logs in."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from api import clock
from tests.helpers import ACCEPT, ADD_USER, PASSWORD, VIEWER, Api

RESEND = "mutation($id: ID!) { resendInvitation(id: $id) { ok errors { field message code } } }"


async def _invite(api: Api, username: str = "ivy") -> tuple[object, str, str]:
    owner = await api.owner("acme")
    added = await owner.browser.gql(ADD_USER, {"input": {"username": username, "email": f"{username}@acme.example"}})
    return owner, added.ok("addUser")["user"]["id"], await api.queued_token(f"{username}@acme.example")


async def test_accepting_sets_the_password_verifies_the_email_and_logs_in(api: Api) -> None:
    _, user_id, token = await _invite(api)
    browser = api.browser()
    result = await browser.gql(ACCEPT, {"token": token, "password": PASSWORD})
    payload = result.ok("acceptInvitation")
    assert payload["status"] == "SUCCESS"
    assert payload["viewer"]["user"] == {
        "id": user_id,
        "username": "ivy",
        "role": "MEMBER",
        "status": "ACTIVE",
        "emailVerified": True,
    }
    assert (await browser.gql(VIEWER)).data["viewer"]["user"]["username"] == "ivy"
    hashed = await api.db.fetchval("SELECT password_hash FROM app_user WHERE id = $1::uuid", user_id)
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PASSWORD not in hashed
    actions = [
        r["action"]
        for r in await api.db.fetch("SELECT action FROM audit_event WHERE actor_id = $1::uuid ORDER BY id", user_id)
    ]
    assert actions == ["invitation.accepted", "session.created"]


async def test_the_session_cookie_is_http_only_lax_and_ends_with_the_browser(api: Api) -> None:
    _, _, token = await _invite(api)
    result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    cookie = result.response.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    value, *attributes = [part.strip() for part in rest.split(";")]
    assert name == "session" and len(value) >= 43  # 256 bits, base64url
    assert sorted(a.lower() for a in attributes) == ["httponly", "path=/", "samesite=lax"]
    assert "token" not in str(result.body).lower() or value not in str(result.body)
    assert await api.count("user_session", "token_hash = sha256(convert_to($1, 'UTF8'))", value) == 1


async def test_the_bearer_header_carries_the_same_token(api: Api) -> None:
    _, _, token = await _invite(api)
    accepted = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    session_token = accepted.response.cookies["session"]
    result = await api.browser().gql(VIEWER, authorization=f"Bearer {session_token}")
    assert result.data["viewer"]["user"]["username"] == "ivy"


async def test_a_link_works_once(api: Api) -> None:
    _, _, token = await _invite(api)
    (await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})).ok("acceptInvitation")
    again = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD + "x"})
    assert again.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]
    assert again.response.headers.get("set-cookie") is None


async def test_of_ten_concurrent_acceptances_exactly_one_wins(api: Api) -> None:
    _, user_id, token = await _invite(api)
    results = await asyncio.gather(
        *(api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD}) for _ in range(10))
    )
    statuses = sorted(
        r.payload("acceptInvitation")["status"] or r.user_errors("acceptInvitation")[0][1] for r in results
    )
    assert statuses == ["INVALID_TOKEN"] * 9 + ["SUCCESS"]
    assert await api.count("user_session", "user_id = $1::uuid", user_id) == 1
    assert await api.count("audit_event", "action = 'invitation.accepted'") == 2  # the owner's and ivy's


async def test_a_link_expires_after_seven_days(api: Api) -> None:
    _, _, token = await _invite(api)
    clock.advance(timedelta(days=7, minutes=1))
    result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    assert result.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]


async def test_a_weak_password_is_refused_and_the_link_stays_usable(api: Api) -> None:
    _, user_id, token = await _invite(api)
    for weak in ("short", "password123", "ivy@acme.example", "acmeacmeacme"):
        result = await api.browser().gql(ACCEPT, {"token": token, "password": weak})
        [(field, code)] = result.user_errors("acceptInvitation")
        assert (field, code) == ("input.password", "PASSWORD_POLICY"), weak
    message = result.payload("acceptInvitation")["errors"][0]["message"]
    assert "15" in message
    assert await api.db.fetchval("SELECT status FROM app_user WHERE id = $1::uuid", user_id) == "INVITED"
    assert await api.count("user_session") == 1  # only the owner's
    (await api.browser().gql(ACCEPT, {"token": token, "password": "x" * 3 + PASSWORD + "Z" * 40})).ok(
        "acceptInvitation"
    )


async def test_garbage_tokens_are_invalid(api: Api) -> None:
    await _invite(api)
    for token in ("", "nope", "x" * 5000):
        result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
        assert result.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]


async def test_resending_replaces_the_earlier_link(api: Api) -> None:
    owner, user_id, first = await _invite(api)
    api.mailbox.clear()
    (await owner.browser.gql(RESEND, {"id": user_id})).ok("resendInvitation")
    [message] = await api.mailbox.wait_for("ivy@acme.example")
    second = message.token()
    assert second != first
    old = await api.browser().gql(ACCEPT, {"token": first, "password": PASSWORD})
    assert old.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]
    (await api.browser().gql(ACCEPT, {"token": second, "password": PASSWORD})).ok("acceptInvitation")
    # Once active, there is nothing to resend.
    again = await owner.browser.gql(RESEND, {"id": user_id})
    assert again.user_errors("resendInvitation") == [("id", "INVALID_INPUT")]


async def test_resending_is_for_admins_of_the_same_tenant(api: Api) -> None:
    owner, user_id, _ = await _invite(api)
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(RESEND, {"id": user_id})).codes == ["FORBIDDEN"]
    globex = await api.owner("globex")
    assert (await globex.browser.gql(RESEND, {"id": user_id})).user_errors("resendInvitation") == [("id", "NOT_FOUND")]


async def test_a_disabled_invitee_cannot_accept(api: Api) -> None:
    owner, user_id, token = await _invite(api)
    disable = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { code } } }"
    assert (await owner.browser.gql(disable, {"id": user_id})).ok("updateUser")
    result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    assert result.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]


async def test_disabling_an_invitee_ends_the_link_for_good_and_enabling_asks_for_a_new_one(api: Api) -> None:
    owner, user_id, token = await _invite(api)
    update = "mutation($id: ID!, $s: AccountStatus!) { updateUser(input: {id: $id, status: $s}) { user { status } errors { code } } }"
    (await owner.browser.gql(update, {"id": user_id, "s": "DISABLED"})).ok("updateUser")
    enabled = (await owner.browser.gql(update, {"id": user_id, "s": "ACTIVE"})).ok("updateUser")
    assert enabled["user"]["status"] == "INVITED"
    # The link sent before (it may be why the account was disabled) stays dead.
    result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    assert result.user_errors("acceptInvitation") == [("input.token", "INVALID_TOKEN")]
    (await owner.browser.gql(RESEND, {"id": user_id})).ok("resendInvitation")


async def test_create_tenant_prints_a_link_that_accept_invitation_accepts(api: Api) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": api.settings.database_url,
        "SECRET_KEY": api.settings.secret_key,
        "APP_URL": "http://app.test",
    }
    run = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "api",
            "create-tenant",
            "--slug",
            "initech",
            "--name",
            "Initech",
            "--owner-username",
            "bill",
            "--owner-email",
            "bill@initech.example",
            "--seats",
            "10",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    link = run.stdout.strip()
    assert link.startswith("http://app.test/accept-invitation?token=")
    token = link.split("token=", 1)[1]
    result = await api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD})
    assert result.ok("acceptInvitation")["viewer"]["user"]["role"] == "OWNER"
    assert result.data["acceptInvitation"]["viewer"]["tenant"]["slug"] == "initech"
    # The invitation email went out too (the in-process worker of the running server).
    [message] = await api.mailbox.wait_for("bill@initech.example")
    assert message.token() == token

    duplicate = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "api",
            "create-tenant",
            "--slug",
            "initech",
            "--name",
            "Again",
            "--owner-username",
            "bob",
            "--owner-email",
            "bob@initech.example",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=60,
    )
    assert duplicate.returncode == 2 and "is taken" in duplicate.stderr


async def test_accepting_while_an_administrator_disables_the_account_ends_one_way_or_the_other(api: Api) -> None:
    """The two lock the account, the tenant's audit chain and the token in different
    orders; a deadlock between them is retried, never an internal error."""
    owner = await api.owner("acme")
    update = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { user { status } errors { code } } }"
    for round_ in range(12):
        address = f"race{round_}@acme.example"
        added = await owner.browser.gql(ADD_USER, {"input": {"username": f"race{round_}", "email": address}})
        user_id = added.ok("addUser")["user"]["id"]
        token = await api.queued_token(address)
        accepted, disabled = await asyncio.gather(
            api.browser().gql(ACCEPT, {"token": token, "password": PASSWORD}),
            owner.browser.gql(update, {"id": user_id}),
        )
        assert not accepted.errors and not disabled.errors, (accepted.body, disabled.body)
        disabled.ok("updateUser")
        assert await api.db.fetchval("SELECT status FROM app_user WHERE id = $1", uuid.UUID(user_id)) == "DISABLED"
        # Whichever came first, no live session of the disabled account is left.
        assert await api.count("user_session", "user_id = $1", uuid.UUID(user_id)) == 0
