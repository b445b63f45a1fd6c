"""Logs are JSON with the request id and carry no secrets or personal data; metrics
are exposed; oversized bodies are refused before they are read."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.helpers import ACCEPT, ADD_USER, PASSWORD, Api, Browser, login
from tests.platform.processes import env_for, free_port, process, wait_ready


async def test_logs_are_json_with_request_ids_and_no_secrets_or_personal_data(api: Api, tmp_path: Path) -> None:
    owner = await api.owner("acme")
    port = free_port()
    log = tmp_path / "server.log"
    with process(["serve", "--port", str(port)], env_for(api.settings.database_url, LOG_LEVEL="INFO"), log):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        browser = Browser(base)
        try:
            browser.http.cookies.set("session", owner.browser.session_cookie)
            added = await browser.gql(
                ADD_USER, {"input": {"username": "secret-sam", "email": "sam.private@acme.example"}}
            )
            added.ok("addUser")
            invitation = await api.queued_token("sam.private@acme.example")
            sam = Browser(base)
            accepted = await sam.gql(ACCEPT, {"token": invitation, "password": PASSWORD})
            accepted.ok("acceptInvitation")
            session_token = sam.session_cookie
            await login(Browser(base), "a-wrong-password-1234", identifier="sam.private@acme.example")
            await sam.gql(
                'mutation { changeEmail(input: {newEmail: "sam.new@acme.example", password: "nope"}) { ok } }'
            )
            # A query string with a password in it must not reach the log either.
            await sam.http.get(
                "/graphql",
                params={"query": f'{{ purposes(tenant: "{PASSWORD}") {{ key }} }}'},
                headers={"x-requested-with": "t"},
            )
            request_id = added.response.headers["x-request-id"]
            await sam.close()
        finally:
            await browser.close()
    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines, text
    assert any(line.get("request_id") == request_id and line.get("operation") == "mutation addUser" for line in lines)
    for secret in (
        PASSWORD,
        "a-wrong-password-1234",
        invitation,
        session_token,
        "sam.private@acme.example",
        "sam.new@acme.example",
        "secret-sam",
        "nope",
    ):
        assert secret not in text, secret


def test_the_redaction_filter_masks_what_slips_through() -> None:
    from api.observability import redact

    assert redact("DETAIL: Key (email)=(mia@acme.example) exists") == "DETAIL: Key (email)=(<email>) exists"
    assert redact("token=" + "A" * 43) == "token=<redacted>"
    assert redact("$argon2id$v=19$m=19456,t=2,p=1$abc$def") == "<redacted>"
    assert redact("request 0123456789abcdef0123456789abcdef") == "request 0123456789abcdef0123456789abcdef"


SCRAPER = {"authorization": "Bearer test-metrics-token"}


async def test_metrics_count_operations_logins_and_the_job_queue(api: Api) -> None:
    await api.owner("acme")
    await login(api.browser())
    await login(api.browser(), "wrong")
    text = (await api.browser().http.get("/metrics", headers=SCRAPER)).text
    assert 'api_requests_total{operation="mutation login",status="200"}' in text
    assert 'api_logins_total{outcome="success"}' in text and 'api_logins_total{outcome="invalid_credentials"}' in text
    assert "api_request_duration_seconds_bucket" in text
    assert "api_job_queue_depth" in text


async def test_an_oversized_body_is_refused_before_it_is_read(api: Api) -> None:
    browser = api.browser()
    big = '{"query": "{ viewer { user { id } } }", "variables": {"x": "' + "x" * 1_100_000 + '"}}'
    response = await browser.http.post("/graphql", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 50_000

    streamed = await browser.http.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


async def test_metrics_count_the_requests_of_every_worker_process(api: Api, tmp_path: Path) -> None:
    port = free_port()
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_99999.db").write_bytes(b"left over from a previous run")
    env = env_for(api.settings.database_url, PROMETHEUS_MULTIPROC_DIR=str(shared))
    with process(["serve", "--port", str(port), "--workers", "2"], env):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        fresh_connections = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=fresh_connections) as client:
            sent, writers = 0, set()
            deadline = time.monotonic() + 30
            # Each request on a new connection, taken by whichever worker accepts it,
            # until both workers have counted some (the second may start a little later).
            while len(writers) < 2 or sent < 40:
                assert time.monotonic() < deadline, writers
                assert (await client.get("/healthz")).status_code == 200
                sent += 1
                writers = {path.stem.split("_")[-1] for path in shared.glob("*.db")} - {"99999"}
            assert not (shared / "counter_99999.db").exists()  # the stale file was cleared at start
            for _ in range(6):  # whichever worker answers the scrape, it answers for both
                text = (await client.get("/metrics", headers=SCRAPER)).text
                assert f'api_requests_total{{operation="/healthz",status="200"}} {sent}.0' in text, text


async def test_metrics_are_served_only_to_the_scraper_with_the_token(api: Api, settings) -> None:  # type: ignore[no-untyped-def]
    browser = api.browser()
    assert (await browser.http.get("/metrics")).status_code == 404
    assert (await browser.http.get("/metrics", headers={"authorization": "Bearer wrong"})).status_code == 404
    assert (await browser.http.get("/metrics", headers=SCRAPER)).status_code == 200
    from starlette.requests import Request

    from api.observability import metrics_allowed

    scrape = Request({"type": "http", "headers": [(b"authorization", b"Bearer anything")]})
    assert not metrics_allowed(scrape, None)  # no token configured: not served at all


async def test_operation_labels_come_from_the_schema_not_from_the_client(api: Api) -> None:
    """Client-chosen operation names and aliases would make series without end."""
    browser = api.browser()

    async def labels() -> set[str]:
        text = (await browser.http.get("/metrics", headers=SCRAPER)).text
        return {
            line.split('operation="')[1].split('"')[0]
            for line in text.splitlines()
            if line.startswith("api_requests_total{")
        }

    before = await labels()
    for i in range(150):
        await browser.gql(f'query Op{i} {{ alias{i}: purposes(tenant: "acme{i}") {{ key }} }}')
        await browser.gql(f"mutation M{i} {{ x{i}: logout }}")
        await browser.gql(f"query Bad{i} {{ nosuchfield{i} }}")
    operations = await labels()
    assert {"query purposes", "mutation logout"} <= operations
    assert not any("Op1" in o or "alias" in o or "nosuchfield" in o or "M1" in o for o in operations), operations
    assert operations - before <= {"query purposes", "mutation logout", "/graphql", "/metrics"}, operations - before
