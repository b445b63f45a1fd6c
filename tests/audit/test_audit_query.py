"""auditEvents for administrators and viewer.activity for each user."""

from __future__ import annotations

from tests.helpers import ADD_USER, PASSWORD, Api, login

EVENTS = """
query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id occurredAt action actorType actorId targetType targetId ipAddress changes requestId } } } }
"""
ACTIVITY = "query($after: String) { viewer { activity(first: 3, after: $after) { pageInfo { hasNextPage endCursor } edges { node { action actorId } } } } }"


def actions_of(result) -> list[str]:  # type: ignore[no-untyped-def]
    assert not result.errors, result.errors
    return [e["node"]["action"] for e in result.data["auditEvents"]["edges"]]


async def test_events_come_newest_first_with_their_details(api: Api) -> None:
    owner = await api.owner("acme")
    added = (await owner.browser.gql(ADD_USER, {"input": {"username": "sam", "email": "sam@acme.example"}})).ok(
        "addUser"
    )
    result = await owner.browser.gql(EVENTS, {"first": 2})
    assert actions_of(result) == ["invitation.sent", "user.created"]
    node = result.data["auditEvents"]["edges"][1]["node"]
    assert node["actorType"] == "USER" and node["actorId"] == owner.id
    assert node["targetType"] == "user" and node["targetId"] == added["user"]["id"]
    assert node["ipAddress"] == "127.0.0.1" and node["requestId"]
    assert node["changes"]["role"] == {"new": "MEMBER"} and node["changes"]["email"] == {"changed": True}
    assert "sam" not in str(node["changes"])


async def test_filters_by_action_actor_target_and_time(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert set(actions_of(await owner.browser.gql(EVENTS, {"filter": {"action": "login.succeeded"}}))) <= {
        "login.succeeded"
    }
    by_member = actions_of(await owner.browser.gql(EVENTS, {"filter": {"actorId": member.id}}))
    assert by_member == ["session.created", "invitation.accepted"]
    about_member = actions_of(await owner.browser.gql(EVENTS, {"filter": {"targetId": member.id}}))
    assert about_member == ["invitation.accepted", "invitation.sent", "user.created"]
    times = [
        e["node"]["occurredAt"] for e in (await owner.browser.gql(EVENTS, {"first": 100})).data["auditEvents"]["edges"]
    ]
    middle = sorted(times)[len(times) // 2]
    newer = await owner.browser.gql(EVENTS, {"first": 100, "filter": {"since": middle}})
    older = await owner.browser.gql(EVENTS, {"first": 100, "filter": {"until": middle}})
    assert len(newer.data["auditEvents"]["edges"]) + len(older.data["auditEvents"]["edges"]) == len(times)


async def test_pages_stay_stable_while_new_events_arrive(api: Api) -> None:
    owner = await api.owner("acme")
    for name in ("ann", "bob", "cyd"):
        (await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})).ok(
            "addUser"
        )
    everything = [
        e["node"]["id"] for e in (await owner.browser.gql(EVENTS, {"first": 100})).data["auditEvents"]["edges"]
    ]
    first = (await owner.browser.gql(EVENTS, {"first": 4})).data["auditEvents"]
    (await owner.browser.gql(ADD_USER, {"input": {"username": "dee", "email": "dee@acme.example"}})).ok("addUser")
    seen = [e["node"]["id"] for e in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    while after:
        page = (await owner.browser.gql(EVENTS, {"first": 4, "after": after})).data["auditEvents"]
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == everything  # nothing skipped, nothing twice, the new events not mixed in


async def test_only_administrators_of_the_tenant_see_its_log(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(EVENTS)).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(EVENTS)).codes == ["UNAUTHENTICATED"]
    globex = await api.owner("globex")
    theirs = (await globex.browser.gql(EVENTS, {"first": 100, "filter": {"targetId": member.id}})).data["auditEvents"][
        "edges"
    ]
    assert theirs == []
    assert (await owner.browser.gql(EVENTS, {"after": "bogus"})).codes == ["BAD_USER_INPUT"]
    assert (await owner.browser.gql(EVENTS, {"filter": {"actorId": "not-an-id"}})).codes == ["BAD_USER_INPUT"]


async def test_a_user_sees_their_own_security_activity(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await login(api.browser(), "wrong", identifier="mia")
    await login(member.browser, PASSWORD, identifier="mia")
    first = (await member.browser.gql(ACTIVITY)).data["viewer"]["activity"]
    assert [e["node"]["action"] for e in first["edges"]] == ["login.succeeded", "session.created", "session.revoked"]
    second = (await member.browser.gql(ACTIVITY, {"after": first["pageInfo"]["endCursor"]})).data["viewer"]["activity"]
    assert [e["node"]["action"] for e in second["edges"]] == ["login.failed", "session.created", "invitation.accepted"]
    own = (await owner.browser.gql("{ viewer { activity(first: 50) { edges { node { action actorId } } } } }")).data
    assert all(
        e["node"]["action"] not in ("user.created", "invitation.sent") for e in own["viewer"]["activity"]["edges"]
    )
    assert member.id not in str(own)
