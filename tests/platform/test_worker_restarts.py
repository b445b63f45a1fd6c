"""The job worker outlives a database restart, in both set-ups: inside `serve`
(development) and as its own `worker` process (production). Afterwards an invitation
email and an export are still delivered, and `/readyz` of a `serve` that runs the jobs
tells when its worker is down."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pgserver
import pytest
from pgserver import _commands as pg_commands
from pgserver.utils import ensure_prefix_permissions

from api.accounts import invitations
from api.settings import Settings
from api.usecases.onboarding import create_tenant
from api.work import background_work
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from tests.helpers import ADD_USER, PASSWORD, Mailbox
from tests.platform.processes import env_for, free_port, process, wait_ready
from tests.queries import MY_DATA_REQUESTS, REQUEST_EXPORT


async def _owner_token(url: str, tmp_path: Path) -> str:
    settings = Settings(
        database_url=url, secret_key="test-secret-key-" + "x" * 40, run_worker_in_serve=False, data_dir=tmp_path
    )
    engine = make_engine(settings, url)
    try:
        async with background_work(make_sessionmaker(engine), settings) as work:
            created = await create_tenant(
                work, slug="acme", name="Acme", owner_username="owner", owner_email="owner@acme.example", seats=None
            )
        async with background_work(make_sessionmaker(engine), settings) as work:
            accepted = await invitations.accept(
                work, token=created.invitation_link.split("token=")[1], password=PASSWORD
            )
    finally:
        await engine.dispose()
    return accepted.session_token


async def _restart_database(server: pgserver.PostgresServer, data: Path, down_for: float) -> None:
    await asyncio.to_thread(pg_commands.pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=data, user=server.system_user)
    await asyncio.sleep(down_for)
    # Another pytest session starting meanwhile makes /tmp/pytest-of-<user> private again;
    # the server's user must still reach its data directory.
    ensure_prefix_permissions(data)
    await asyncio.to_thread(server.ensure_postgres_running)


@pytest.mark.parametrize("in_serve", [True, False], ids=["worker-in-serve", "separate-worker"])
async def test_after_a_database_restart_mail_and_exports_still_go_out(
    tmp_path: Path, mailbox: Mailbox, in_serve: bool
) -> None:
    data = tmp_path / "pg"
    server = pgserver.get_server(data, cleanup_mode="delete")
    url = server.get_uri()
    upgrade(url)
    token = await _owner_token(url, tmp_path)
    port = free_port()
    env = env_for(
        url,
        SMTP_URL=f"smtp://127.0.0.1:{mailbox.port}",
        RUN_WORKER_IN_SERVE=str(in_serve).lower(),
        WORKER_HEARTBEAT_SECONDS="1",
        DATA_DIR=str(tmp_path),
    )
    base = f"http://127.0.0.1:{port}"
    with process(["serve", "--port", str(port)], env, tmp_path / "serve.log"):
        worker = None if in_serve else process(["worker", "--concurrency", "2"], env, tmp_path / "worker.log")
        if worker is not None:
            worker.__enter__()
        try:
            await wait_ready(base)
            await _restart_database(server, data, down_for=3)
            await wait_ready(base, timeout=90)  # with the worker running again, for the in-serve set-up
            async with httpx.AsyncClient(
                base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30
            ) as client:
                added = await client.post(
                    "/graphql",
                    json={"query": ADD_USER, "variables": {"input": {"username": "mia", "email": "mia@acme.example"}}},
                )
                assert added.json()["data"]["addUser"]["errors"] == []
                await mailbox.wait_for("mia@acme.example", timeout=90)
                requested = await client.post("/graphql", json={"query": REQUEST_EXPORT})
                request_id = requested.json()["data"]["requestDataExport"]["dataRequest"]["id"]
                deadline = time.monotonic() + 90
                while True:
                    mine = (await client.post("/graphql", json={"query": MY_DATA_REQUESTS})).json()["data"]["viewer"][
                        "dataRequests"
                    ]
                    if any(r["id"] == request_id and r["status"] == "COMPLETED" for r in mine):
                        break
                    assert time.monotonic() < deadline, mine
                    await asyncio.sleep(0.5)
        finally:
            if worker is not None:
                worker.__exit__(None, None, None)
    log = (tmp_path / ("serve.log" if in_serve else "worker.log")).read_text()
    assert "starting it again" in log  # it did go down, and came back by itself


async def test_readyz_of_a_serve_with_jobs_reports_a_worker_that_is_down(settings: Settings) -> None:
    """The worker's state reaches /readyz (here: a worker that can never start)."""
    import socket

    import uvicorn

    from api.app import create_app
    from api.jobs import worker as jobs

    failing = settings.model_copy(update={"run_worker_in_serve": True})
    original = jobs.connected_app

    def broken(conninfo: str):  # type: ignore[no-untyped-def]
        raise RuntimeError("no queue")

    jobs.connected_app = broken  # type: ignore[assignment]
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app_server = uvicorn.Server(uvicorn.Config(create_app(failing), lifespan="on", log_level="critical"))
    task = asyncio.create_task(app_server.serve(sockets=[sock]))
    try:
        while not app_server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as client:
            for _ in range(100):
                ready = await client.get("/readyz")
                if ready.status_code == 503:
                    break
                await asyncio.sleep(0.05)
            assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "worker": "restarting"})
    finally:
        jobs.connected_app = original  # type: ignore[assignment]
        app_server.should_exit = True
        await task
