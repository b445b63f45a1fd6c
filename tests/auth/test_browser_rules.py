"""The cookie and the rules that keep other sites from using it."""

from __future__ import annotations

from tests.helpers import VIEWER, Api, login


async def test_the_login_cookie_has_exactly_the_safe_attributes(api: Api) -> None:
    await api.owner("acme")
    result = await login(api.browser())
    [cookie] = result.response.headers.get_list("set-cookie")
    parts = [p.strip() for p in cookie.split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "session" and len(value) >= 43
    assert sorted(p.lower() for p in parts[1:]) == ["httponly", "path=/", "samesite=lax"]  # no Max-Age/Expires
    assert value not in result.response.text  # the token is in the cookie only


async def test_production_cookies_are_secure_with_the_host_prefix(settings) -> None:  # type: ignore[no-untyped-def]
    from starlette.requests import Request

    from api.graphql.context import Context, Services
    from api.request_meta import RequestMeta

    secure = settings.model_copy(update={"cookie_secure": True})
    context = Context(request=Request({"type": "http", "headers": []}),
                      services=Services(settings=secure, sessionmaker=None, guard=None, pool=None), meta=RequestMeta())  # type: ignore[arg-type]
    context.set_session_cookie("t" * 43)
    [cookie] = context.cookie_headers
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()


async def test_a_cookie_request_without_json_or_a_custom_header_is_refused(api: Api) -> None:
    owner = await api.owner("acme")
    body = '{"query": "mutation { revokeOtherSessions { revokedCount } }"}'
    for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        response = await owner.browser.http.post("/graphql", content=body, headers={"content-type": content_type})
        assert response.status_code == 403, content_type
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    linked = await owner.browser.http.get("/graphql", params={"query": "{ viewer { user { email } } }"})
    assert linked.status_code == 403


async def test_json_or_a_custom_header_passes(api: Api) -> None:
    owner = await api.owner("acme")
    assert (await owner.browser.gql(VIEWER)).data["viewer"] is not None
    via_get = await owner.browser.http.get(
        "/graphql", params={"query": "{ viewer { user { username } } }"}, headers={"x-requested-with": "fetch"}
    )
    assert via_get.json()["data"]["viewer"]["user"]["username"] == "owner"


async def test_bearer_requests_without_the_cookie_are_not_subject_to_the_cookie_rule(api: Api) -> None:
    owner = await api.owner("acme")
    token = owner.browser.session_cookie
    client = api.browser()
    response = await client.http.get("/graphql", params={"query": "{ viewer { user { username } } }"}, headers={"authorization": f"Bearer {token}"})
    assert response.json()["data"]["viewer"]["user"]["username"] == "owner"
