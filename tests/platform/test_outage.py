"""When PostgreSQL goes away the service says so, answers cleanly, and recovers by
itself when it returns: no restart."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pgserver
import uvicorn
from pgserver import _commands as pg_commands

from api.accounts import invitations
from api.app import create_app
from api.settings import Settings
from api.usecases.onboarding import create_tenant
from api.work import background_work
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from tests.helpers import PASSWORD, VIEWER

READ = "{ viewer { sessions { id } consents { granted } } }"
WRITE = 'mutation { setConsents(input: [{purposeKey: "newsletter", granted: true}]) { errors { code } } }'


async def _reads_and_writes(client: httpx.AsyncClient, headers: dict[str, str]) -> list[object]:
    answers = await asyncio.gather(
        *(client.post("/graphql", json={"query": q}, headers=headers) for q in [READ, WRITE] * 4)
    )
    return [a.json() for a in answers if a.status_code != 200 or a.json().get("errors")]


async def test_a_database_outage_fails_readiness_and_heals_without_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    server = pgserver.get_server(data, cleanup_mode="delete")
    url = server.get_uri()
    upgrade(url)
    settings = Settings(
        database_url=url, secret_key="k" * 40, run_worker_in_serve=False, data_dir=tmp_path, log_level="CRITICAL"
    )
    engine = make_engine(settings, url)
    async with background_work(make_sessionmaker(engine), settings) as work:
        created = await create_tenant(
            work, slug="acme", name="Acme", owner_username="owner", owner_email="o@acme.example", seats=None
        )
    async with background_work(make_sessionmaker(engine), settings) as work:
        accepted = await invitations.accept(work, token=created.invitation_link.split("token=")[1], password=PASSWORD)
    await engine.dispose()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app_server = uvicorn.Server(uvicorn.Config(create_app(settings), lifespan="on", log_level="critical"))
    task = asyncio.create_task(app_server.serve(sockets=[sock]))
    while not app_server.started:
        await asyncio.sleep(0.01)
    headers = {"authorization": f"Bearer {accepted.session_token}"}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=10) as client:
            assert (await client.post("/graphql", json={"query": VIEWER}, headers=headers)).json()["data"]["viewer"]
            # Several pooled connections of the request engine (which does not ping them).
            assert await _reads_and_writes(client, headers) == []

            await asyncio.to_thread(
                pg_commands.pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=data, user=server.system_user
            )
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
            failed = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
            assert failed.status_code == 503  # the session could not be looked up
            [error] = failed.json()["errors"]
            assert (
                error["extensions"]["code"] == "INTERNAL_SERVER_ERROR" and error["message"] == "Internal server error."
            )
            assert (
                "Traceback" not in failed.text
                and "postgres" not in failed.text.lower()
                and str(data) not in failed.text
            )
            assert (await client.get("/healthz")).status_code == 200  # the process itself is fine

            await asyncio.to_thread(server.ensure_postgres_running)
            deadline = time.monotonic() + 30
            while (await client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "did not recover"
                await asyncio.sleep(0.2)
            healed = await client.post("/graphql", json={"query": VIEWER}, headers=headers)
            assert healed.json()["data"]["viewer"]["user"]["username"] == "owner"
            # Every pooled connection died with the server: the first use of each fails, the
            # pool is invalidated and the request retried, so nobody sees an error.
            assert await _reads_and_writes(client, headers) == []
    finally:
        app_server.should_exit = True
        await task
