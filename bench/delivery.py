"""Event delivery: 10,000 events to a local receiver through the real path (outbox rows
committed in transactions, a `serve` that runs the worker and its webhook sender, signed
POSTs), against a floor of the same number of bare POSTs to the same receiver at the same
concurrency, side by side in one run.

    .venv/bin/python -m bench.delivery [--events 10000] [--batch 100]

Reported: delivery throughput and its ratio to the floor, and the lag from each event's
commit to its receipt (p50, p99, max). The events are committed by this process in
batches (`--batch` per transaction) as fast as it can, so the lag includes the queue that
builds up behind a burst; with `--rate` they are committed at that pace instead, and the
lag is the pipeline's own.

    .venv/bin/python -m bench.delivery --rate 300 --batch 10"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import events
from api.settings import Settings
from api.work import background_work
from bench.common import create_owner, percentile, running_server
from db.engine import database_url, make_engine, make_sessionmaker

CONCURRENCY = 16
CREATE_ENDPOINT = """
mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: ["user.updated"]}) {
  signingSecret errors { message } } }
"""


class Receiver:
    def __init__(self) -> None:
        self.received: dict[str, float] = {}
        self.bodies = 0
        self.expected = 0
        self.all_in = asyncio.Event()

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.bodies += 1
        marker = request.headers.get("x-bench-marker") or json.loads(body)["data"]["marker"]
        self.received.setdefault(marker, time.time())
        if self.expected and len(self.received) >= self.expected:
            self.all_in.set()
        return Response(status_code=204)


async def serve_receiver(receiver: Receiver) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])]),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110  (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


async def floor(url: str, count: int) -> float:
    """Bare POSTs of event-sized bodies at the sender's concurrency: requests per second."""
    body = json.dumps({"type": "user.updated", "data": {"marker": "x" * 36, "pad": "y" * 200}})
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            await http.post(
                url, content=body, headers={"x-bench-marker": f"floor-{i}", "content-type": "application/json"}
            )

    began = time.perf_counter()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(CONCURRENCY)))
    return count / (time.perf_counter() - began)


async def run(count: int, batch: int, rate: float) -> None:
    with running_server({"WEBHOOK_CONCURRENCY": str(CONCURRENCY), "WEBHOOK_ALLOW_LOOPBACK": "true"}) as (base, env):
        receiver = Receiver()
        server, task, url = await serve_receiver(receiver)
        try:
            session = create_owner(base, env)
            async with httpx.AsyncClient(base_url=base, cookies={"session": session}) as client:
                made = (await client.post("/graphql", json={"query": CREATE_ENDPOINT, "variables": {"u": url}})).json()
                assert not made["data"]["createWebhookEndpoint"]["errors"], made

            floor_rate = await floor(url, count)
            receiver.received.clear()
            receiver.expected = count

            settings = Settings(data_dir=Path(env["DATA_DIR"]), secret_key=None, db_pool_size=2)
            db_url = database_url(settings)
            conn = await asyncpg.connect(db_url)
            tenant_id = await conn.fetchval("SELECT id FROM tenant WHERE slug = 'bench'")
            await conn.close()
            engine = make_engine(settings, db_url)
            sessionmaker = make_sessionmaker(engine)
            committed: dict[str, float] = {}
            began = time.time()
            for start in range(0, count, batch):
                markers = [str(uuid.uuid4()) for _ in range(min(batch, count - start))]
                async with background_work(sessionmaker, settings) as work:
                    await events.emit_many(
                        work.db,
                        [
                            events.Event(events.USER_UPDATED, tenant_id, {"marker": m, "pad": "y" * 200})
                            for m in markers
                        ],
                    )
                done = time.time()
                committed.update(dict.fromkeys(markers, done))
                if rate:  # paced: the next batch when its time has come
                    await asyncio.sleep(max(0.0, began + (start + batch) / rate - time.time()))
            emitted = time.time() - began
            await engine.dispose()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(receiver.all_in.wait(), 600)
            got = [m for m in committed if m in receiver.received]
            lags = [max(receiver.received[m] - committed[m], 0.0) * 1000 for m in got]
            span = max(receiver.received[m] for m in got) - began
        finally:
            server.should_exit = True
            await task

    rate = len(got) / span
    print(f"\n{count:,} events committed in {emitted:.1f} s ({count / emitted:,.0f}/s, {batch} per transaction)")
    print(f"delivered:        {len(got):,} of {count:,} (receiver saw {receiver.bodies:,} requests, floor included)")
    print(f"delivery rate:    {rate:,.0f} events/s, first commit to last receipt")
    print(f"floor:            {floor_rate:,.0f} bare POSTs/s at the same concurrency ({CONCURRENCY})")
    print(f"ratio:            {rate / floor_rate:.0%} of the floor")
    print(
        f"lag (commit to receipt): p50 {percentile(lags, 0.5):,.0f} ms, p99 {percentile(lags, 0.99):,.0f} ms, max {max(lags):,.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0, help="events per second to commit (0: as fast as possible)")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.batch, args.rate))


if __name__ == "__main__":
    main()
