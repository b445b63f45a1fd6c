"""Several server and worker processes on one database: nothing that must be shared
lives in a process; a worker that dies mid-job leaves the job to be retried."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.helpers import PASSWORD, VIEWER, Api, Browser, login
from tests.platform.processes import env_for, free_port, process, wait_ready
from tests.queries import REQUEST_EXPORT


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"run_worker_in_serve": False}


async def test_two_server_processes_share_sessions_revocations_and_limits(api: Api) -> None:
    await api.owner("acme")
    ports = [free_port(), free_port()]
    env = env_for(api.settings.database_url)
    with process(["serve", "--port", str(ports[0])], env), process(["serve", "--port", str(ports[1])], env):
        a, b = (f"http://127.0.0.1:{p}" for p in ports)
        await asyncio.gather(wait_ready(a), wait_ready(b))
        on_a, on_b = Browser(a), Browser(b)
        try:
            (await login(on_a)).ok("login")
            on_b.http.cookies.set(
                "session", on_a.session_cookie
            )  # the same browser, another process behind the balancer
            assert (await on_b.gql(VIEWER)).data["viewer"]["user"]["username"] == "owner"
            assert (await on_b.gql("mutation { logout }")).data == {"logout": True}
            assert (await on_a.gql(VIEWER)).data["viewer"] is None  # revoked on B, gone on A
            for i in range(6):
                await login(Browser(a), f"wrong-{i}")
            for i in range(4):
                assert (await login(Browser(b), f"wrong-b{i}")).user_errors("login") == [(None, "INVALID_CREDENTIALS")]
            assert (await login(Browser(b), PASSWORD)).codes == [
                "RATE_LIMITED"
            ]  # the 11th attempt, counted across both
            assert (await login(Browser(a), PASSWORD)).codes == ["RATE_LIMITED"]
        finally:
            await on_a.close()
            await on_b.close()


async def test_a_worker_killed_mid_export_leaves_the_job_to_be_retried(api: Api) -> None:
    owner = await api.owner("acme")
    tenant_id = await api.db.fetchval("SELECT id FROM tenant")
    # A long history, so the export is still running when the worker is killed.
    await api.db.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain")
    await api.db.execute(
        "INSERT INTO audit_event (tenant_id, chain_seq, occurred_at, action, actor_type, actor_id, changes, prev_hash, row_hash) "
        "SELECT $1, 1000 + g, now(), 'login.succeeded', 'USER', $2::uuid, '{\"stage\": {\"new\": \"full\"}}', '\\x00', '\\x00' "
        "FROM generate_series(1, 40000) g",
        tenant_id,
        owner.id,
    )
    await api.db.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain")
    request_id = (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    env = env_for(api.settings.database_url, WORKER_HEARTBEAT_SECONDS="1", WORKER_STALLED_AFTER_SECONDS="3")
    status = "SELECT status FROM data_request WHERE id = $1::uuid"
    with process(["worker"], env) as first:
        deadline = time.monotonic() + 60
        while await api.db.fetchval(status, request_id) != "PROCESSING":
            assert time.monotonic() < deadline, "the export never started"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert await api.db.fetchval(status, request_id) == "PROCESSING"
    assert await api.db.fetchval("SELECT status FROM procrastinate_jobs WHERE task_name = 'build_export'") == "doing"
    await asyncio.sleep(4)  # past the heartbeat timeout
    with process(["worker"], env):
        deadline = time.monotonic() + 90
        while await api.db.fetchval(status, request_id) != "COMPLETED":
            assert time.monotonic() < deadline, "the export was not retried"
            await asyncio.sleep(0.2)
    response = await owner.browser.http.get(f"/exports/{request_id}")
    assert response.status_code == 200 and response.content.count(b'"login.succeeded"') >= 40000


async def test_graceful_shutdown_finishes_requests_in_flight(api: Api) -> None:
    await api.owner("acme")
    port = free_port()
    with process(["serve", "--port", str(port)], env_for(api.settings.database_url)) as server:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        slow = " ".join(
            f'a{i}: login(input: {{tenant: "acme", identifier: "owner", password: "{PASSWORD}"}}) {{ status }}'
            for i in range(8)
        )
        browser = Browser(base)
        logins = "action = 'login.succeeded'"
        before = await api.count("audit_event", logins)
        try:
            in_flight = asyncio.create_task(browser.gql(f"mutation {{ {slow} }}"))
            # Each login commits on its own: once the first has, the request is being served.
            deadline = time.monotonic() + 30
            while await api.count("audit_event", logins) == before:
                assert time.monotonic() < deadline, "the request was not served"
                await asyncio.sleep(0.01)
            server.send_signal(signal.SIGTERM)
            result = await in_flight
            assert result.status == 200 and [result.data[f"a{i}"]["status"] for i in range(8)] == ["SUCCESS"] * 8
            await asyncio.to_thread(server.wait, 30)
            assert server.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled
        finally:
            await browser.close()
