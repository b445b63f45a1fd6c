"""schemathesis generates GraphQL operations from the schema and sends them to a running
server with an administrator's session: no 5xx, and no internal error of any kind (masked
or not) may come back. The example count is bounded so it fits in CI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import ACCEPT, PASSWORD
from tests.platform.processes import ROOT, env_for, free_port

MAX_EXAMPLES = 10

# The JSON scalar (an application's export part): any value, as GraphQL literals.
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(
        st.integers().map(schemathesis.graphql.nodes.Int),
        st.text(max_size=40).map(schemathesis.graphql.nodes.String),
        st.booleans().map(schemathesis.graphql.nodes.Boolean),
        st.just(schemathesis.graphql.nodes.Null),
    ),
)


@pytest.fixture
def graphql_schema(pg_url: str) -> Iterator[schemathesis.BaseSchema]:
    from db import urls

    name = f"fuzz_{int(time.time() * 1000)}"

    async def make() -> None:
        conn = await asyncpg.connect(pg_url)
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE app_template")
        await conn.close()

    asyncio.run(make())
    database_url = urls.with_database(pg_url, name)
    env = env_for(database_url, LOGIN_FAILURES_PER_IP="100000")
    link = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "create-tenant",
            "--slug",
            "fuzz",
            "--name",
            "Fuzz",
            "--owner-username",
            "owner",
            "--owner-email",
            "owner@fuzz.example",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        accepted = httpx.post(
            f"{base}/graphql",
            json={"query": ACCEPT, "variables": {"token": link.split("token=")[1], "password": PASSWORD}},
        )
        token = accepted.cookies["session"]
        loaded = schemathesis.graphql.from_url(f"{base}/graphql")
        loaded.config.headers = {"Authorization": f"Bearer {token}"}  # type: ignore[attr-defined]
        yield loaded
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_generated_operations_never_fail_inside(graphql_schema: schemathesis.BaseSchema) -> None:
    auth = {"Authorization": graphql_schema.config.headers["Authorization"]}  # type: ignore[attr-defined]
    operations = [result.ok() for result in graphql_schema.get_all_operations()]
    assert len(operations) >= 35  # the query and mutation fields schemathesis can generate for
    sent = 0

    def check(case: schemathesis.Case) -> None:
        nonlocal sent
        response = case.call(headers=auth)
        sent += 1
        assert response.status_code < 500, (case.body, response.text)
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "INTERNAL_SERVER_ERROR" not in codes, (case.body, body)
        assert "Traceback" not in response.text

    for operation in operations:
        run = settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )(given(operation.as_strategy())(check))
        run()
    assert sent >= len(operations)
