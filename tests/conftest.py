"""Test harness: one embedded PostgreSQL per run, a migrated template database cloned
for every test, the real app served by uvicorn on a loopback port, and a real SMTP
server (aiosmtpd) catching the mail the worker sends."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import uvicorn

from api import clock
from api.app import create_app
from api.settings import Settings
from db import urls
from db.embedded import start_embedded
from db.migrate import upgrade
from tests.helpers import Api, Mailbox, start_smtp

TEMPLATE_DB = "app_template"
METRICS_TOKEN = "test-metrics-token"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The run's embedded server, with the schema migrated once into a template database."""
    data = Path(tempfile.mkdtemp(prefix="account-api-test-pg-"))
    url = start_embedded(data / "pg", cleanup=True)

    async def make_template() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB}")
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        finally:
            await conn.close()

    asyncio.run(make_template())
    upgrade(urls.with_database(url, TEMPLATE_DB))
    yield url


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    box, controller = start_smtp()
    yield box
    controller.stop()


@pytest.fixture
async def db_url(pg_url: str) -> AsyncIterator[str]:
    """A fresh database per test, cloned from the migrated template."""
    name = f"test_{os.getpid()}_{next(_counter)}"
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    finally:
        await conn.close()
    yield urls.with_database(pg_url, name)
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection for setting up and inspecting state (as the database owner)."""
    conn = await asyncpg.connect(db_url)
    yield conn
    await conn.close()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module to run its server with other settings."""
    return {}


@pytest.fixture
def settings(db_url: str, mailbox: Mailbox, tmp_path: Path, settings_overrides: dict[str, object]) -> Settings:
    values: dict[str, object] = {
        "env": "development",
        "database_url": db_url,
        "secret_key": "test-secret-key-" + "x" * 40,
        "app_url": "http://app.test",
        "smtp_url": f"smtp://127.0.0.1:{mailbox.port}",
        "mail_from": "Accounts <no-reply@app.test>",
        "allowed_origins": ["http://app.test"],
        "data_dir": tmp_path / "data",
        "db_pool_size": 30,
        "metrics_token": METRICS_TOKEN,
        # No periodic job (audit checkpoints, purges, ...) runs unasked in the middle of a
        # test; tests run them directly.
        "scheduled_jobs": False,
    }
    return Settings(**{**values, **settings_overrides})  # type: ignore[arg-type]


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    """Override in a test module to plug instrumentation into its server (create_app's
    extra_routes, extra_middleware, pool_init)."""
    return {}


@pytest.fixture
async def server(settings: Settings, app_instrumentation: dict[str, object]) -> AsyncIterator[str]:
    """The real app on a real socket; yields its base URL."""
    clock.reset()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, **app_instrumentation), lifespan="on", log_level="warning", access_log=False
    )  # type: ignore[arg-type]
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    while not srv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task
    clock.reset()


@pytest.fixture
async def api(server: str, settings: Settings, db: asyncpg.Connection, mailbox: Mailbox) -> AsyncIterator[Api]:
    mailbox.clear()
    async with Api(server, settings, db, mailbox) as client:
        yield client
