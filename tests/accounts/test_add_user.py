"""addUser: administrators add INVITED accounts within their seat licence."""

from __future__ import annotations

import asyncio

from tests.helpers import ADD_USER, Api


def _input(username: str, email: str | None = None, **extra: object) -> dict[str, object]:
    return {"input": {"username": username, "email": email or f"{username}@acme.example", **extra}}


async def test_admin_adds_an_invited_account_and_an_invitation_is_emailed(api: Api) -> None:
    owner = await api.owner("acme")
    result = await owner.browser.gql(
        ADD_USER, _input("j.doe-42", "J.Doe@Acme.Example", displayName="  Jo  ", role="ADMIN")
    )
    user = result.ok("addUser")["user"]
    assert user["username"] == "j.doe-42"
    assert user["email"] == "J.Doe@acme.example"  # domain normalised by email-validator
    assert (user["displayName"], user["role"], user["status"]) == ("Jo", "ADMIN", "INVITED")
    assert user["emailVerified"] is False and user["lastLoginAt"] is None

    [message] = await api.mailbox.wait_for("J.Doe@acme.example")
    assert message.link().startswith("http://app.test/accept-invitation?token=")
    assert "j.doe-42" in message.body and "Acme Ltd" in message.subject

    event = await api.db.fetchrow(
        "SELECT actor_id::text, actor_type, changes, request_id, user_agent FROM audit_event "
        "WHERE action = 'user.created' AND target_id = $1::uuid",
        user["id"],
    )
    assert event["actor_id"] == owner.id and event["actor_type"] == "USER"
    assert event["user_agent"] == "pytest-browser/1.0" and event["request_id"]
    # Personal values are named, never stored.
    assert "J.Doe" not in event["changes"] and "j.doe-42" not in event["changes"]


async def test_the_invitation_token_is_stored_only_as_a_hash(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(ADD_USER, _input("sam"))).ok("addUser")
    token = await api.queued_token("sam@acme.example")
    dump = await api.db.fetchval("SELECT string_agg(t::text, '|') FROM account_token t")
    jobs = await api.db.fetchval("SELECT string_agg(args::text, '|') FROM procrastinate_jobs")
    assert token not in dump and token not in jobs
    assert "sam@acme.example" not in jobs  # queued mail is sealed


async def test_usernames_are_unique_per_tenant_ignoring_case(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(ADD_USER, _input("Robin"))).ok("addUser")
    result = await owner.browser.gql(ADD_USER, _input("rOBIN", "other@acme.example"))
    assert result.user_errors("addUser") == [("input.username", "DUPLICATE")]
    assert result.data["addUser"]["user"] is None


async def test_emails_are_unique_per_tenant(api: Api) -> None:
    owner = await api.owner("acme")
    (await owner.browser.gql(ADD_USER, _input("robin", "robin@acme.example"))).ok("addUser")
    result = await owner.browser.gql(ADD_USER, _input("robin2", "ROBIN@acme.example"))
    assert result.user_errors("addUser") == [("input.email", "DUPLICATE")]


async def test_the_same_username_is_fine_in_another_tenant(api: Api) -> None:
    acme = await api.owner("acme")
    globex = await api.owner("globex")
    (await acme.browser.gql(ADD_USER, _input("robin"))).ok("addUser")
    (await globex.browser.gql(ADD_USER, _input("robin", "robin@globex.example"))).ok("addUser")


async def test_invalid_input_is_reported_per_field_and_changes_nothing(api: Api) -> None:
    owner = await api.owner("acme")
    before = await api.count("audit_event"), await api.count("procrastinate_jobs"), await api.count("app_user")
    for username, address, field in [
        ("ab", "ab@acme.example", "input.username"),
        ("x" * 65, "long@acme.example", "input.username"),
        ("bad name", "bad@acme.example", "input.username"),
        ("émile", "emile@acme.example", "input.username"),
        ("fine", "not-an-email", "input.email"),
        ("fine", "a@b@c", "input.email"),
    ]:
        result = await owner.browser.gql(ADD_USER, _input(username, address))
        assert result.user_errors("addUser") == [(field, "INVALID_INPUT")], (username, address)
    both = await owner.browser.gql(ADD_USER, _input("a", "nope"))
    assert sorted(both.user_errors("addUser")) == [
        ("input.email", "INVALID_INPUT"),
        ("input.username", "INVALID_INPUT"),
    ]
    after = await api.count("audit_event"), await api.count("procrastinate_jobs"), await api.count("app_user")
    assert after == before


async def test_past_the_seat_limit_adding_fails_and_sends_nothing(api: Api) -> None:
    owner = await api.owner("acme", seats=2)
    (await owner.browser.gql(ADD_USER, _input("second"))).ok("addUser")
    await api.mailbox.wait_for("second@acme.example")
    result = await owner.browser.gql(ADD_USER, _input("third"))
    assert result.user_errors("addUser") == [(None, "SEAT_LIMIT_REACHED")]
    assert await api.count("app_user", "username = 'third'") == 0
    assert await api.count("audit_event", "action = 'user.created' AND actor_type = 'USER'") == 1
    assert await api.queued_to("third@acme.example") == []


async def test_twenty_requests_racing_for_the_last_seats_get_exactly_the_free_number(api: Api) -> None:
    owner = await api.owner("acme", seats=4)  # the owner holds one: three are free
    results = await asyncio.gather(*(owner.browser.gql(ADD_USER, _input(f"racer{i}")) for i in range(20)))
    won = [r for r in results if r.payload("addUser")["user"]]
    lost = [r for r in results if r.user_errors("addUser") == [(None, "SEAT_LIMIT_REACHED")]]
    assert (len(won), len(lost)) == (3, 17)
    assert await api.count("app_user") == 4
    assert await api.count("procrastinate_jobs", "task_name = 'send_email'") == 1 + 3


async def test_only_an_owner_adds_an_owner(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    denied = await admin.browser.gql(ADD_USER, _input("boss", role="OWNER"))
    assert denied.codes == ["FORBIDDEN"] and denied.data is None
    assert await api.count("app_user", "username = 'boss'") == 0
    (await owner.browser.gql(ADD_USER, _input("boss", role="OWNER"))).ok("addUser")
    (await admin.browser.gql(ADD_USER, _input("helper", role="ADMIN"))).ok("addUser")


async def test_members_are_forbidden_and_anonymous_callers_unauthenticated(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "moe")
    assert (await member.browser.gql(ADD_USER, _input("x1"))).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(ADD_USER, _input("x2"))).codes == ["UNAUTHENTICATED"]
    assert await api.count("app_user", "username IN ('x1', 'x2')") == 0
