"""users and user(id): an administrator's view of their own tenant, and nothing else."""

from __future__ import annotations

from tests.helpers import ADD_USER, Api

USERS = """
query($first: Int, $after: String, $search: String, $role: Role, $status: AccountStatus) {
  users(first: $first, after: $after, search: $search, role: $role, status: $status) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id username role status } } } }
"""
USER = "query($id: ID!) { user(id: $id) { id username email } }"


async def _names(browser, **variables) -> tuple[list[str], dict, int]:  # type: ignore[no-untyped-def]
    result = await browser.gql(USERS, variables)
    assert not result.errors, result.errors
    users = result.data["users"]
    return [e["node"]["username"] for e in users["edges"]], users["pageInfo"], users["totalCount"]


async def test_pages_through_accounts_in_username_order(api: Api) -> None:
    owner = await api.owner("acme")
    for name in ("delta", "Alpha", "charlie", "bravo", "echo"):
        (await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})).ok(
            "addUser"
        )
    seen: list[str] = []
    after = None
    while True:
        names, page, total = await _names(owner.browser, first=2, after=after)
        assert total == 6
        seen += names
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert seen == ["Alpha", "bravo", "charlie", "delta", "echo", "owner"]


async def test_filters_by_search_role_and_status(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "ada_admin", role="ADMIN")
    (
        await owner.browser.gql(
            ADD_USER, {"input": {"username": "pending", "email": "p@acme.example", "displayName": "Zoë 100%"}}
        )
    ).ok("addUser")
    assert (await _names(owner.browser, search="ADA"))[0] == ["ada_admin"]
    assert (await _names(owner.browser, search="zoë"))[0] == ["pending"]
    assert (await _names(owner.browser, search="100%"))[0] == ["pending"]
    assert (await _names(owner.browser, search="%"))[0] == ["pending"]  # a literal %, not a wildcard
    assert (await _names(owner.browser, search="_"))[0] == ["ada_admin"]  # a literal _, not a wildcard
    assert (await _names(owner.browser, role="ADMIN"))[0] == ["ada_admin"]
    assert (await _names(owner.browser, status="INVITED"))[0:3:2] == (["pending"], 1)
    assert (await _names(owner.browser, role="OWNER", status="ACTIVE"))[0] == ["owner"]


async def test_bad_paging_arguments_are_bad_user_input(api: Api) -> None:
    owner = await api.owner("acme")
    for variables in ({"first": 0}, {"first": 101}, {"after": "garbage!"}):
        result = await owner.browser.gql(USERS, variables)
        assert result.codes == ["BAD_USER_INPUT"], variables


async def test_an_admin_sees_nothing_of_another_tenant(api: Api) -> None:
    acme = await api.owner("acme")
    globex = await api.owner("globex")
    gary = await api.member(globex, "gary", slug="globex")
    names, _, total = await _names(acme.browser, search="gary")
    assert (names, total) == ([], 0)
    assert (await _names(acme.browser))[0] == ["owner"]
    result = await acme.browser.gql(USER, {"id": gary.id})
    assert result.data == {"user": None} and not result.errors
    assert (await acme.browser.gql(USER, {"id": "00000000-0000-0000-0000-000000000000"})).data == {"user": None}
    own = await globex.browser.gql(USER, {"id": gary.id})
    assert own.data["user"]["email"] == "gary@globex.example"


async def test_members_cannot_list_accounts(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(USERS)).codes == ["FORBIDDEN"]
    assert (await member.browser.gql(USER, {"id": owner.id})).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(USERS)).codes == ["UNAUTHENTICATED"]
