"""The cookie and the rules that keep other sites from using it."""

from __future__ import annotations

import httpx

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
    context = Context(
        request=Request({"type": "http", "headers": []}),
        services=Services(settings=secure, sessionmaker=None, attempts=None, pool=None),
        meta=RequestMeta(),
    )  # type: ignore[arg-type]
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
    response = await client.http.get(
        "/graphql", params={"query": "{ viewer { user { username } } }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.json()["data"]["viewer"]["user"]["username"] == "owner"


async def test_the_cookie_rule_reads_the_request_as_the_endpoint_does(api: Api) -> None:
    """What the rule checks is what the endpoint runs: an encoded parameter name is still
    the query, and a second Cookie header or a repeated parameter is refused, not read
    one way by the rule and another by the endpoint."""
    owner = await api.owner("acme")
    token = owner.browser.session_cookie
    raw = httpx.AsyncClient(base_url=api.base_url)
    try:
        encoded = await raw.get(
            "/graphql?%71uery=%7B%20viewer%20%7B%20user%20%7B%20email%20%7D%20%7D%20%7D",
            headers={"cookie": f"session={token}"},
        )
        assert encoded.status_code == 403 and "email" not in encoded.text
        two_headers = await raw.get(
            "/graphql",
            params={"query": "{ viewer { user { email } } }"},
            headers=[("cookie", "theme=dark"), ("cookie", f"session={token}")],  # type: ignore[arg-type]
        )
        assert two_headers.status_code == 403 and "email" not in two_headers.text
        twice = await raw.post(
            "/graphql",
            json={"query": "{ viewer { user { email } } }"},
            headers={"cookie": f"session={token}; session=other", "content-type": "application/json"},
        )
        assert twice.status_code == 400 and "email" not in twice.text
        repeated = await raw.get(
            "/graphql?query=%7B__typename%7D&query=%7B%20viewer%20%7B%20user%20%7B%20email%20%7D%20%7D%20%7D",
            headers={"x-requested-with": "fetch", "cookie": f"session={token}"},
        )
        assert repeated.status_code == 400 and "email" not in repeated.text
        two_authorizations = await raw.post(
            "/graphql",
            json={"query": "{ viewer { user { email } } }"},
            headers=[("authorization", f"Bearer {token}"), ("authorization", "Bearer other")],  # type: ignore[arg-type]
        )
        assert two_authorizations.status_code == 400
    finally:
        await raw.aclose()


async def test_graphql_responses_are_never_cached(api: Api) -> None:
    owner = await api.owner("acme")
    answered = await owner.browser.gql(VIEWER)
    refused = await owner.browser.http.get("/graphql", params={"query": VIEWER})
    anonymous = await api.browser().gql("{ __typename }")
    for response in (answered.response, refused, anonymous.response):
        assert response.headers["cache-control"] == "no-store"
