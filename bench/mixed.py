"""A mixed load at a fixed arrival rate: per-operation latency at 70 % of saturation.

    .venv/bin/python -m bench.mixed [--seconds 30] [--load 0.7] [--saturation-seconds 10]

The mix (by requests): 70 % viewer, 10 % users(first: 50), 5 % auditEvents(first: 50),
10 % setConsents (one decision, 8 members of the tenant in turn), 5 % login (the same
members in turn). The server and its data are bench.throughput's.

1. Saturation: wrk, closed loop, 16 connections, each request drawn by weight (Lua);
   the median requests/s of --saturation-runs runs is the saturation of this mix on
   this machine, now (it moves a lot with the neighbours' load).
2. The measured load: an open-loop generator in this process (asyncio, uvloop, a
   minimal HTTP/1.1 client over a pool of keep-alive connections, a new connection
   whenever none is free) sends requests at a fixed rate (--load x saturation), one
   every 1/rate seconds whatever the answers do, each drawn by weight from a seeded
   generator. A latency is counted from the moment the request was due, not from when
   it went out, so a stalled server is not hidden (no coordinated omission).
Goal: p99 under 100 ms for every operation but login."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from bench.common import PASSWORD, percentile, run_wrk, settle
from bench.throughput import AUDIT_EVENTS, LOGIN, SET_CONSENTS, USERS, VIEWER, Setup, lua_string, prepared_server

MIX = (  # name, weight, query, variables, callers (login: as each member in turn)
    ("viewer", 70, VIEWER, None, "owner"),
    ("users(first: 50)", 10, USERS, None, "owner"),
    ("auditEvents(first: 50)", 5, AUDIT_EVENTS, None, "owner"),
    ("setConsents", 10, SET_CONSENTS, {"purpose": "newsletter", "granted": True}, "members"),
    ("login", 5, LOGIN, None, "members"),
)
GOAL_MS = 100.0


@dataclass
class Kind:
    name: str
    weight: int
    requests: list[bytes]  # raw HTTP requests, one per caller, used in turn
    turn: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    first_failure: str = ""

    def next_request(self) -> bytes:
        self.turn += 1
        return self.requests[self.turn % len(self.requests)]


def _raw(host: str, body: dict[str, object], cookie: str | None) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n" + (f"Cookie: session={cookie}\r\n" if cookie else "") + "\r\n"
    )
    return head.encode() + payload


def kinds(setup: Setup) -> list[Kind]:
    host = urlsplit(setup.base).netloc
    members = [f"user{i:02d}" for i in range(len(setup.members))]
    result = []
    for name, weight, query, variables, callers in MIX:
        if name == "login":
            requests = [
                _raw(
                    host,
                    {"query": query, "variables": {"tenant": "bench", "identifier": m, "password": PASSWORD}},
                    None,
                )
                for m in members
            ]
        else:
            body: dict[str, object] = {"query": query, **({"variables": variables} if variables else {})}
            cookies = [setup.token] if callers == "owner" else setup.members
            requests = [_raw(host, body, c) for c in cookies]
        result.append(Kind(name, weight, requests))
    return result


# --- saturation (wrk, closed loop) --------------------------------------------------

LUA = """
local kinds = {%(kinds)s}
local total = 0
for _, k in ipairs(kinds) do total = total + k[1] end
local turns = {}

function request()
  local r = math.random() * total
  for i, k in ipairs(kinds) do
    r = r - k[1]
    if r <= 0 or i == #kinds then
      turns[i] = (turns[i] or 0) + 1
      return k[2][(turns[i] %% #k[2]) + 1]
    end
  end
end
"""


def saturation(setup: Setup, all_kinds: list[Kind], seconds: float, connections: int) -> float:
    entries = []
    for kind in all_kinds:
        raws = ", ".join(lua_string(r.decode()) for r in kind.requests)
        entries.append(f"{{{kind.weight}, {{{raws}}}}}")
    script = LUA % {"kinds": ", ".join(entries)}
    out = run_wrk(script, setup.base, seconds=seconds, connections=connections, timeout=30)
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"failures at saturation:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found, out
    return float(found.group(1))


# --- the open-loop load -------------------------------------------------------------


class Pool:
    """Keep-alive HTTP/1.1 connections; a new one whenever none is free. The server
    closes a connection idle for 5 s (uvicorn's keep-alive timeout): one idle for 4 s
    is not reused."""

    IDLE = 4.0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.opened = 0

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = time.monotonic()
        while self.free:
            reader, writer, used = self.free.pop()
            if now - used < self.IDLE and not writer.is_closing():
                return reader, writer
            writer.close()
        self.opened += 1
        return await asyncio.open_connection(self.host, self.port)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        reader, writer = await self._connection()
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        assert length, head
        body = await reader.readexactly(int(length.group(1)))
        self.free.append((reader, writer, time.monotonic()))
        return status, body

    def close(self) -> None:
        for _, writer, _ in self.free:
            writer.close()


FAILED = re.compile(rb'"errors"\s*:\s*\[\s*\{')


async def open_loop(setup: Setup, all_kinds: list[Kind], rate: float, seconds: float, seed: int) -> tuple[float, int]:
    """Send at `rate` per second for `seconds`; the achieved rate and connections opened."""
    split = urlsplit(setup.base)
    pool = Pool(split.hostname or "127.0.0.1", split.port or 80)
    rng = random.Random(seed)
    weights = [k.weight for k in all_kinds]
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def one(kind: Kind, due: float) -> None:
        try:
            status, body = await pool.send(kind.next_request())
        except (OSError, asyncio.IncompleteReadError) as error:
            status, body = 0, str(error).encode()
        if status != 200 or FAILED.search(body):
            kind.failures += 1
            kind.first_failure = kind.first_failure or f"{status} {body[:200]!r}"
        kind.latencies.append(loop.time() - due)

    start = loop.time() + 0.05
    count = int(rate * seconds)
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        kind = rng.choices(all_kinds, weights)[0]
        task = asyncio.create_task(one(kind, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    sent_in = loop.time() - start
    await asyncio.gather(*tasks)
    pool.close()
    return count / sent_in, pool.opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30, help="of the fixed-rate load")
    parser.add_argument("--load", type=float, default=0.7, help="fraction of the measured saturation")
    parser.add_argument("--saturation-seconds", type=float, default=10)
    parser.add_argument("--saturation-runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16, help="of wrk, for the saturation")
    parser.add_argument("--rate", type=float, default=0, help="requests/s instead of --load x saturation")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument(
        "--hash-nice", type=int, default=0, help="experiment: run the server's argon2 threads at this nice level"
    )
    args = parser.parse_args()
    extra = {"BENCH_HASH_NICE": str(args.hash_nice)} if args.hash_nice else {}
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    with prepared_server(tenants=0, extra_env=extra, log=log) as setup:
        log.write_bytes(b"")  # what set-up logged is not the load's
        all_kinds = kinds(setup)
        saturation(setup, all_kinds, 2, args.connections)  # warm-up
        settle(setup.base, setup.env)
        peaks = []
        for _ in range(args.saturation_runs):  # the machine is shared: the median of a few
            peaks.append(saturation(setup, all_kinds, args.saturation_seconds, args.connections))
            settle(setup.base, setup.env)
        peak = statistics.median(peaks)
        rate = args.rate or args.load * peak
        print(
            f"saturation of the mix: {peak:.0f} req/s, median of "
            + ", ".join(f"{p:.0f}" for p in peaks)
            + f" (wrk, {args.connections} connections, closed loop, {args.saturation_seconds:g}s each)"
        )
        print(
            f"fixed-rate load: {rate:.0f} req/s for {args.seconds:g}s"
            + (f"; argon2 threads at nice {args.hash_nice}" if args.hash_nice else ""),
            flush=True,
        )
        began = time.monotonic()
        achieved, opened = uvloop.run(open_loop(setup, all_kinds, rate, args.seconds, args.seed))
        took = time.monotonic() - began
    print(
        f"sent at {achieved:.0f} req/s, all answered after {took:.1f}s; {opened} connections opened\n"
        f"mix by requests: " + ", ".join(f"{k.weight} % {k.name}" for k in all_kinds)
    )
    print(
        f"\n{'':26}{'requests':>9}{'failed':>8}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}   goal p99 < {GOAL_MS:.0f} ms"
    )
    for k in all_kinds:
        ms = [x * 1000 for x in k.latencies]
        verdict = "-" if k.name == "login" else ("met" if percentile(ms, 0.99) < GOAL_MS else "MISSED")
        print(
            f"{k.name:26}{len(ms):>9}{k.failures:>8}{statistics.median(ms):>8.1f}ms{percentile(ms, 0.9):>8.1f}ms"
            f"{percentile(ms, 0.99):>8.1f}ms{max(ms):>8.1f}ms   {verdict}"
        )
        if k.first_failure:
            print(f"    first failure: {k.first_failure}")
    errors: collections.Counter[str] = collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("levelname", entry.get("level")) in ("ERROR", "CRITICAL"):
            cause = str(entry.get("exc_info") or "").strip().splitlines()[-1:] or [""]
            errors[f"{entry.get('message', '')[:60]} | {cause[0][:150]}"] += 1
    log.unlink()
    if errors:
        print("\nthe server's errors during the load, by count (message | exception):")
        for text, count in errors.most_common(8):
            print(f"  {count:6} {text}")


if __name__ == "__main__":
    main()
