"""Bulk add: 1,000 accounts in one `addUsers` call against the same 1,000 added one
`addUser` at a time, and against `addUsers` with 10 rows, side by side in one run: wall
time, and the SQL statements each request ran (counted on both driver paths).

    .venv/bin/python -m bench.bulk_add [--runs 3]

The app runs in this process (uvicorn on a loopback socket) on a throwaway embedded
PostgreSQL, with the statement counter the tests use (tests/sqlcount.py)."""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import uvicorn
from starlette.middleware import Middleware

from api.app import create_app
from api.request_meta import RequestMeta
from api.settings import Settings
from api.usecases.onboarding import create_tenant
from api.work import background_work
from bench.common import PASSWORD, stop_embedded, terminated_by_signals
from db.embedded import start_embedded
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from tests.sqlcount import SqlCountMiddleware, init_asyncpg_connection

ADD_USERS = "mutation($u: [AddUserInput!]!) { addUsers(input: {users: $u}) { users { id } errors { code } } }"
ADD_USER = "mutation($u: AddUserInput!) { addUser(input: $u) { user { id } errors { code } } }"
ACCEPT = 'mutation($t: String!) { acceptInvitation(input: {token: $t, password: "' + PASSWORD + '"}) { status } }'


def rows(prefix: str, n: int) -> list[dict[str, str]]:
    return [{"username": f"{prefix}-{i:04d}", "email": f"{prefix}-{i:04d}@bench.example"} for i in range(n)]


async def run(runs: int, data: Path) -> None:
    url = start_embedded(data / "pg", cleanup=True)
    upgrade(url)
    settings = Settings(
        database_url=url,
        secret_key="bench-" + "x" * 40,
        data_dir=data,
        run_worker_in_serve=False,
        successful_logins_per_window=10_000,
    )
    engine = make_engine(settings, url)
    async with background_work(make_sessionmaker(engine), settings, RequestMeta(request_id="bench")) as work:
        created = await create_tenant(
            work, slug="bench", name="Bench", owner_username="owner", owner_email="owner@bench.example", seats=None
        )
    await engine.dispose()
    assert created.invitation_link is not None
    token = parse_qs(urlsplit(created.invitation_link).query)["token"][0]

    app = create_app(settings, extra_middleware=[Middleware(SqlCountMiddleware)], pool_init=init_asyncpg_connection)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            await client.post("/graphql", json={"query": ACCEPT, "variables": {"t": token}})

            async def call(query: str, variables: dict[str, object]) -> tuple[float, int]:
                began = time.perf_counter()
                response = await client.post("/graphql", json={"query": query, "variables": variables})
                elapsed = time.perf_counter() - began
                body = response.json()
                payload = next(iter(body["data"].values()))
                assert not payload["errors"], payload["errors"]
                return elapsed, int(response.headers["x-sql-statements"])

            bulk, ten, single = [], [], []
            for r in range(runs):
                bulk.append(await call(ADD_USERS, {"u": rows(f"bulk{r}", 1000)}))
                ten.append(await call(ADD_USERS, {"u": rows(f"ten{r}", 10)}))
                one_by_one = [await call(ADD_USER, {"u": row}) for row in rows(f"one{r}", 1000)]
                single.append((sum(t for t, _ in one_by_one), sum(s for _, s in one_by_one)))
                print(f"  run {r + 1}/{runs} done", flush=True)
    finally:
        server.should_exit = True
        await serving

    def line(name: str, samples: list[tuple[float, int]]) -> float:
        median = statistics.median(t for t, _ in samples)
        statements = sorted({s for _, s in samples})
        print(f"{name:42}{median * 1000:>10.0f} ms{', '.join(map(str, statements)):>14}")
        return median

    title = f"1,000 accounts (median of {runs} runs)"
    print(f"\n{title:42}{'time':>13}{'statements':>14}")
    bulk_time = line("addUsers, 1,000 rows in one call", bulk)
    line("addUsers, 10 rows in one call", ten)
    single_time = line("addUser, 1,000 calls one after another", single)
    print(f"\none call is {single_time / bulk_time:.1f}x faster than 1,000 calls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    with terminated_by_signals():  # SIGTERM too runs the `finally`
        try:
            asyncio.run(run(args.runs, data))
        finally:
            stop_embedded(data)


if __name__ == "__main__":
    main()
