"""The HTTP surface: health, readiness, error format, request limits, browser rules."""

from __future__ import annotations

import httpx

from tests.helpers import VIEWER, Api


async def test_healthz_and_readyz(api: Api) -> None:
    browser = api.browser()
    assert (await browser.http.get("/healthz")).json() == {"status": "ok"}
    ready = await browser.http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_every_response_has_a_request_id(api: Api) -> None:
    browser = api.browser()
    response = await browser.http.get("/healthz")
    assert len(response.headers["x-request-id"]) >= 8
    echoed = await browser.http.get("/healthz", headers={"x-request-id": "proxy-abc-123"})
    assert echoed.headers["x-request-id"] == "proxy-abc-123"
    refused = await browser.http.get("/healthz", headers={"x-request-id": "<script>"})
    assert refused.headers["x-request-id"] != "<script>"


async def test_internal_errors_are_masked_without_sql_or_traces(api: Api) -> None:
    owner = await api.owner("acme")
    await api.db.execute("ALTER TABLE tenant RENAME COLUMN name TO name_gone")
    result = await owner.browser.gql(VIEWER)
    assert result.status == 200
    [error] = result.errors
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == result.response.headers["x-request-id"]
    text = result.response.text.lower()
    for leak in ("name_gone", "select", "traceback", "sqlalchemy", "asyncpg", ".py"):
        assert leak not in text, leak


async def test_malformed_queries_are_bad_user_input(api: Api) -> None:
    browser = api.browser()
    assert (await browser.gql("{ viewer { ")).codes == ["BAD_USER_INPUT"]
    assert (await browser.gql("{ nosuchfield }")).codes == ["BAD_USER_INPUT"]
    wrong_type = await browser.gql("query($f: Int) { users(first: $f) { totalCount } }", {"f": "ten"})
    assert wrong_type.codes == ["BAD_USER_INPUT"]


async def test_alias_floods_and_huge_documents_are_refused(api: Api) -> None:
    browser = api.browser()
    aliases = "{ " + " ".join(f"a{i}: viewer {{ user {{ id }} }}" for i in range(40)) + " }"
    assert (await browser.gql(aliases)).codes[0] == "BAD_USER_INPUT"
    tokens = "{ viewer { user { " + "id " * 4000 + "} } }"
    assert (await browser.gql(tokens)).codes[0] == "BAD_USER_INPUT"


async def test_batches_and_form_posts_are_refused(api: Api) -> None:
    browser = api.browser()
    batch = await browser.http.post("/graphql", json=[{"query": "{ viewer { user { id } } }"}] * 2)
    assert batch.status_code == 400
    form = await browser.http.post("/graphql", data={"query": "{ viewer { user { id } } }"})
    assert form.status_code == 400


async def test_mutations_are_not_accepted_over_get(api: Api) -> None:
    browser = api.browser()
    response = await browser.http.get("/graphql", params={"query": 'mutation { resendInvitation(id: "x") { ok } }'})
    assert response.status_code == 400 and "mutation" in response.text.lower()


async def test_graphiql_is_served_in_development(api: Api) -> None:
    response = await api.browser().http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_cors_allows_credentials_only_for_configured_origins(api: Api) -> None:
    browser = api.browser()
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "content-type"}
    allowed = await browser.http.options("/graphql", headers={"origin": "http://app.test", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "http://app.test"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    denied = await browser.http.options("/graphql", headers={"origin": "http://evil.test", **preflight})
    assert denied.status_code == 400 and "access-control-allow-origin" not in denied.headers
    simple = await browser.http.post(
        "/graphql", json={"query": "{ viewer { user { id } } }"}, headers={"origin": "http://evil.test"}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_readyz_fails_when_the_database_is_unreachable(settings) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import socket

    import uvicorn

    from api.app import create_app

    settings = settings.model_copy(update={"run_worker_in_serve": False})
    app = create_app(settings, db_url="postgresql://nobody@127.0.0.1:1/none")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="critical"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
            failed = await client.post("/graphql", json={"query": VIEWER}, headers={"authorization": "Bearer abc"})
            assert failed.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert "127.0.0.1" not in failed.text and "connect" not in failed.text.lower()
    finally:
        server.should_exit = True
        await task
