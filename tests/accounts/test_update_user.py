"""updateUser: roles, status and display names, with the OWNER rules."""

from __future__ import annotations

from tests.helpers import ADD_USER, VIEWER, Api

UPDATE = """
mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  user { id role status displayName } errors { field message code } } }
"""


async def test_admin_changes_role_and_display_name_with_an_audit_event_each(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    result = await owner.browser.gql(UPDATE, {"input": {"id": member.id, "role": "ADMIN", "displayName": "Mia M."}})
    assert result.ok("updateUser")["user"] == {
        "id": member.id,
        "role": "ADMIN",
        "status": "ACTIVE",
        "displayName": "Mia M.",
    }
    role_event = await api.db.fetchval(
        "SELECT changes FROM audit_event WHERE action = 'user.role_changed' AND target_id = $1::uuid", member.id
    )
    assert role_event == '{"role": {"new": "ADMIN", "old": "MEMBER"}}'
    name_event = await api.db.fetchval(
        "SELECT changes FROM audit_event WHERE action = 'user.updated' AND target_id = $1::uuid", member.id
    )
    assert "Mia" not in name_event and "display_name" in name_event


async def test_disabling_an_account_revokes_its_sessions(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(VIEWER)).data["viewer"] is not None
    result = await owner.browser.gql(UPDATE, {"input": {"id": member.id, "status": "DISABLED"}})
    assert result.ok("updateUser")["user"]["status"] == "DISABLED"
    assert await api.count("user_session", "user_id = $1::uuid", member.id) == 0
    assert (await member.browser.gql(VIEWER)).data["viewer"] is None
    # Enabling again does not bring the session back, and takes a seat again.
    assert (await owner.browser.gql(UPDATE, {"input": {"id": member.id, "status": "ACTIVE"}})).ok("updateUser")["user"][
        "status"
    ] == "ACTIVE"
    assert (await member.browser.gql(VIEWER)).data["viewer"] is None


async def test_re_enabling_needs_a_free_seat(api: Api) -> None:
    owner = await api.owner("acme", seats=2)
    member = await api.member(owner, "mia")
    (await owner.browser.gql(UPDATE, {"input": {"id": member.id, "status": "DISABLED"}})).ok("updateUser")
    (await owner.browser.gql(ADD_USER, {"input": {"username": "newbie", "email": "newbie@acme.example"}})).ok("addUser")
    result = await owner.browser.gql(UPDATE, {"input": {"id": member.id, "status": "ACTIVE"}})
    assert result.user_errors("updateUser") == [(None, "SEAT_LIMIT_REACHED")]
    assert await api.db.fetchval("SELECT status FROM app_user WHERE id = $1::uuid", member.id) == "DISABLED"


async def test_an_invited_account_cannot_be_made_active_by_hand(api: Api) -> None:
    owner = await api.owner("acme")
    added = (await owner.browser.gql(ADD_USER, {"input": {"username": "ivy", "email": "ivy@acme.example"}})).ok(
        "addUser"
    )
    result = await owner.browser.gql(UPDATE, {"input": {"id": added["user"]["id"], "status": "ACTIVE"}})
    assert result.ok("updateUser")["user"]["status"] == "INVITED"
    disabled = await owner.browser.gql(UPDATE, {"input": {"id": added["user"]["id"], "status": "DISABLED"}})
    assert disabled.ok("updateUser")["user"]["status"] == "DISABLED"
    back = await owner.browser.gql(UPDATE, {"input": {"id": added["user"]["id"], "status": "ACTIVE"}})
    assert back.ok("updateUser")["user"]["status"] == "INVITED"  # no password yet: back to waiting
    invited = await owner.browser.gql(UPDATE, {"input": {"id": added["user"]["id"], "status": "INVITED"}})
    assert invited.user_errors("updateUser") == [("input.status", "INVALID_INPUT")]


async def test_the_last_owner_cannot_be_demoted_or_disabled(api: Api) -> None:
    owner = await api.owner("acme")
    for change in ({"role": "ADMIN"}, {"status": "DISABLED"}):
        result = await owner.browser.gql(UPDATE, {"input": {"id": owner.id, **change}})
        assert result.user_errors("updateUser") == [("input.id", "LAST_OWNER")]
    assert await api.db.fetchval("SELECT role || status FROM app_user WHERE id = $1::uuid", owner.id) == "OWNERACTIVE"
    assert await api.count("audit_event", "action LIKE 'user.%_changed'") == 0


async def test_with_a_second_owner_the_first_may_step_down(api: Api) -> None:
    owner = await api.owner("acme")
    second = await api.member(owner, "co-owner", role="OWNER")
    result = await owner.browser.gql(UPDATE, {"input": {"id": owner.id, "role": "ADMIN"}})
    assert result.ok("updateUser")["user"]["role"] == "ADMIN"
    # Now the second is the last owner.
    last = await second.browser.gql(UPDATE, {"input": {"id": second.id, "role": "MEMBER"}})
    assert last.user_errors("updateUser") == [("input.id", "LAST_OWNER")]


async def test_only_an_owner_grants_owner_or_touches_an_owner(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    member = await api.member(owner, "mia")
    assert (await admin.browser.gql(UPDATE, {"input": {"id": member.id, "role": "OWNER"}})).codes == ["FORBIDDEN"]
    assert (await admin.browser.gql(UPDATE, {"input": {"id": owner.id, "status": "DISABLED"}})).codes == ["FORBIDDEN"]
    assert (await admin.browser.gql(UPDATE, {"input": {"id": member.id, "role": "ADMIN"}})).ok("updateUser")
    assert (await owner.browser.gql(UPDATE, {"input": {"id": member.id, "role": "OWNER"}})).ok("updateUser")


async def test_members_cannot_update_anyone(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(UPDATE, {"input": {"id": member.id, "role": "ADMIN"}})).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(UPDATE, {"input": {"id": member.id, "role": "ADMIN"}})).codes == ["UNAUTHENTICATED"]


async def test_an_unknown_id_or_one_from_another_tenant_is_not_found(api: Api) -> None:
    acme = await api.owner("acme")
    globex = await api.owner("globex")
    stranger = await api.member(globex, "gary", slug="globex")
    for some_id in (stranger.id, "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        result = await acme.browser.gql(UPDATE, {"input": {"id": some_id, "status": "DISABLED"}})
        assert result.user_errors("updateUser") == [("input.id", "NOT_FOUND")]
    assert await api.db.fetchval("SELECT status FROM app_user WHERE id = $1::uuid", stranger.id) == "ACTIVE"


async def test_invalid_display_name_is_refused(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    result = await owner.browser.gql(UPDATE, {"input": {"id": member.id, "displayName": "x" * 101}})
    assert result.user_errors("updateUser") == [("input.displayName", "INVALID_INPUT")]
    result = await owner.browser.gql(UPDATE, {"input": {"id": member.id, "displayName": "bell\u0007"}})
    assert result.user_errors("updateUser") == [("input.displayName", "INVALID_INPUT")]


async def test_an_active_owner_always_remains(api: Api) -> None:
    """An INVITED owner cannot act yet: it does not count as the owner that must remain."""
    owner = await api.owner("acme")
    invited = await owner.browser.gql(
        ADD_USER, {"input": {"username": "heir", "email": "heir@acme.example", "role": "OWNER"}}
    )
    heir = invited.ok("addUser")["user"]["id"]
    for change in ({"role": "ADMIN"}, {"role": "MEMBER"}, {"status": "DISABLED"}):
        result = await owner.browser.gql(UPDATE, {"input": {"id": owner.id, **change}})
        assert result.user_errors("updateUser") == [("input.id", "LAST_OWNER")], change
    delete = "mutation($p: String!) { deleteAccount(input: {password: $p}) { errors { field code } } }"
    assert (await owner.browser.gql(delete, {"p": "lumen-quarry-velvet-7-oboe"})).user_errors("deleteAccount") == [
        (None, "LAST_OWNER")
    ]
    assert await api.db.fetchval("SELECT count(*) FROM app_user WHERE role = 'OWNER' AND status = 'ACTIVE'") == 1
    assert heir
