"""GraphQL over HTTP: the server audit suite of the `graphql-http` npm package run against
the real app (no warnings, no errors), and the application/graphql-response+json
behaviour it checks: request errors are 4xx without `data`, while application/json
clients keep 200 with `data: null`."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.graphql.http import negotiate

AUDIT_DIR = Path(__file__).resolve().parents[1] / "graphql_http_audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


async def _run(*command: str, timeout: float) -> str:
    """Runs a command in the audit folder without blocking the event loop the server runs on."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=AUDIT_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{stderr.decode()}"
    return stdout.decode()


async def test_the_graphql_http_server_audit_has_no_warnings_or_errors(server: str) -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm must be on PATH to run the graphql-http audit")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        await _run(npm, "ci", "--no-audit", "--no-fund", timeout=300)
    results: list[dict[str, Any]] = json.loads(await _run(node, "audit.mjs", f"{server}/graphql", timeout=120))
    failing = [r for r in results if r["status"] in ("warn", "error")]
    assert len(results) > 50, results
    assert not failing, "\n".join(f"{r['status']} {r['id']} {r['name']}: {r.get('reason')}" for r in failing)


async def _post(server: str, body: dict[str, Any], accept: str | None = GRAPHQL_RESPONSE) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    async with httpx.AsyncClient(base_url=server) as client:
        return await client.post("/graphql", json=body, headers=headers)


def _assert_request_error(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_graphql_response_json_answers_400_without_data_for_request_errors(server: str) -> None:
    _assert_request_error(await _post(server, {"query": "{ viewer { "}))
    _assert_request_error(await _post(server, {"query": "{ nosuchfield }"}))
    _assert_request_error(
        await _post(server, {"query": "query($f: Int!) { users(first: $f) { totalCount } }", "variables": {"f": "ten"}})
    )
    _assert_request_error(await _post(server, {"query": "query A { __typename }", "operationName": "B"}))
    _assert_request_error(await _post(server, {"query": "{ __typename }", "extensions": []}))


async def test_graphql_response_json_answers_200_once_execution_started(server: str) -> None:
    valid = await _post(server, {"query": "{ __typename viewer { user { id } } }"})
    assert valid.status_code == 200
    assert valid.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert valid.json() == {"data": {"__typename": "Query", "viewer": None}}
    # A field error (here: not signed in) nulls the non-null root field, so `data` is
    # null, but the operation ran: still 200.
    field_error = await _post(server, {"query": "{ users { totalCount } }"})
    assert field_error.status_code == 200
    body = field_error.json()
    assert body["data"] is None and body["errors"][0]["path"] == ["users"]
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_application_json_keeps_200_with_null_data(server: str) -> None:
    for accept in (JSON, "*/*", None, f"{JSON}, {GRAPHQL_RESPONSE};q=0.9"):
        response = await _post(server, {"query": "{ nosuchfield }"}, accept=accept)
        assert response.status_code == 200, accept
        assert response.headers["content-type"] == JSON
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_mutation_over_get_is_405_for_graphql_response_json(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        params = {"query": "mutation { __typename }"}
        response = await client.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
        _assert_request_error(response, 405)
        assert response.headers["allow"] == "POST"
        legacy = await client.get("/graphql", params=params, headers={"accept": JSON})
        assert legacy.status_code == 400 and legacy.json()["data"] is None


async def test_get_reads_json_variables_and_extensions_and_empty_parameters_are_absent(server: str) -> None:
    query = "query Type($name: String!) { __type(name: $name) { name } }"
    async with httpx.AsyncClient(base_url=server) as client:
        params = {
            "query": query,
            "variables": '{"name": "Query"}',
            "extensions": '{"some": "value"}',
            "operationName": "",
        }
        response = await client.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 200 and response.json() == {"data": {"__type": {"name": "Query"}}}
        bad = await client.get(
            "/graphql", params={"query": "{ __typename }", "extensions": "{"}, headers={"accept": GRAPHQL_RESPONSE}
        )
        _assert_request_error(bad)


async def test_an_accept_header_with_no_supported_type_is_406(server: str) -> None:
    response = await _post(server, {"query": "{ __typename }"}, accept="text/html")
    assert response.status_code == 406 and response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (f"{JSON}; charset=utf-8", JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.9", JSON),
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),  # equal q: the first listed
        (f"{JSON}, {GRAPHQL_RESPONSE}", JSON),
        (f"{GRAPHQL_RESPONSE};q=0.5, */*", JSON),
        (f"{GRAPHQL_RESPONSE};q=0.5, */*;q=0.1", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE.upper()}; Q=1", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};charset=latin1, {JSON}", JSON),
        (f"{JSON};q=0, */*", None),  # the most specific range decides
        ("text/html", None),
        (f"text/html, {GRAPHQL_RESPONSE};q=0", None),
        (f"{GRAPHQL_RESPONSE};q=abc", None),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected
