"""Where the time of an operation goes: py-spy on the server under wrk load, and the CPU
of each process on the machine's two cores.

    .venv/bin/python -m bench.profile [--seconds 10] [--only users,audit,setConsents]
        [--path product|floor|stock] [--py-spy PATH] [--top 25]

Needs py-spy (`pip install --target /tmp/pyspy py-spy`, or on PATH). Starts the server
and data of bench.throughput, then for each operation: wrk drives it (16 connections)
while py-spy samples the server process (250 Hz, busy threads only) and /proc counts
the CPU seconds of the server, of PostgreSQL (postmaster and backends) and of wrk.

Printed per operation: requests/s; the CPU split (a core is 100 %); the server's busy
time by package of the innermost frame (self time: where the CPU actually is); the
project's functions (api/, db/) by inclusive time (what they cost with what they call);
and the functions with the most self time."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncpg

from bench.common import ROOT, cpu, database_uri, postmaster_pid, settle
from bench.throughput import LUA, OPERATIONS, TENANTS, Operation, Setup, lua_string, prepared_server

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*)\)$")
PACKAGES = (  # (label, path fragment), first match wins
    ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"),
    ("strawberry", "/strawberry/"),
    ("graphql-core", "/graphql/"),
    ("starlette", "/starlette/"),
    ("uvicorn", "/uvicorn/"),
    ("pydantic/sqlmodel", "/pydantic"),
    ("pydantic/sqlmodel", "/sqlmodel/"),
    ("prometheus_client", "/prometheus_client/"),
    ("argon2", "/argon2/"),
    ("api.graphql (product execution)", f"{ROOT}/api/graphql/"),
    ("api (services)", f"{ROOT}/api/"),
    ("db", f"{ROOT}/db/"),
    ("bench (floor)", f"{ROOT}/bench/"),
    ("stdlib: asyncio", "/asyncio/"),
    ("stdlib: json", "/json/"),
    ("stdlib: logging", "/logging/"),
    ("stdlib: other", "/lib/python3"),
)


def package(file: str) -> str:
    for label, fragment in PACKAGES:
        if fragment in file:
            return label
    return "other: " + file.rsplit("/", 1)[-1]


def parse(raw: str) -> list[tuple[list[tuple[str, str]], int]]:
    """py-spy's raw (collapsed) output: (frames root first as (function, file), count)."""
    stacks = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = []
        for text in stack.split(";"):
            found = FRAME.match(text)
            frames.append((found["function"], found["file"]) if found else (text, ""))
        stacks.append((frames, int(count)))
    return stacks


WAITS = """
SELECT CASE WHEN state = 'idle in transaction' THEN 'in a transaction, waiting for the application'
            ELSE coalesce(wait_event_type || ':' || wait_event, 'on CPU') END AS what, count(*) AS n
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
GROUP BY 1
"""


def sample_waits(url: str, stop: threading.Event, into: collections.Counter[str]) -> None:
    """What PostgreSQL's busy backends are doing, every 10 ms, until `stop`: on CPU, in a
    transaction waiting for the application's next statement, or waiting on something
    (Lock:advisory is the audit chain's per-tenant lock, Lock:object the queue of NOTIFY
    at commit, LWLock:WALWrite and IO:WALSync the commit's flush)."""

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            while not stop.is_set():
                for row in await conn.fetch(WAITS):
                    into[row["what"]] += row["n"]
                into["(samples)"] += 1
                await asyncio.sleep(0.01)
        finally:
            await conn.close()

    asyncio.run(run())


def short(file: str) -> str:
    file = file.replace(f"{ROOT}/", "")
    return re.sub(r".*/site-packages/", "", file)


def profile(setup: Setup, op: Operation, path: str, seconds: float, py_spy: str, top: int, show: bool = True) -> None:
    server = int(setup.env["BENCH_SERVER_PID"])
    postgres = postmaster_pid(Path(setup.data_dir) / "pg")
    assert postgres is not None
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    samples = Path(tempfile.mkstemp(suffix=".txt")[1])
    script.write_text(
        LUA
        % {
            "cookies": ", ".join(lua_string(c) for c in op.cookies(setup)),
            "body": lua_string(json.dumps(op.body(), ensure_ascii=True)),
        }
    )
    connections = op.connections or 16
    wrk = subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{round(seconds) + 2}s",
            "--timeout=60s",
            "-s",
            str(script),
            setup.base + path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)
        before = {"server": cpu(server), "postgres": cpu(postgres), "wrk": cpu(wrk.pid)}
        waits: collections.Counter[str] = collections.Counter()
        stop = threading.Event()
        sampler = threading.Thread(target=sample_waits, args=(database_uri(setup.data_dir), stop, waits))
        sampler.start()
        began = time.monotonic()
        subprocess.run(
            [
                *(py_spy, "record", "--pid", str(server), "--duration", str(round(seconds)), "--rate", "250"),
                *("--format", "raw", "--full-filenames", "--nolineno", "--nonblocking", "-o", str(samples)),
            ],
            check=True,
            capture_output=True,
        )
        wall = time.monotonic() - began
        stop.set()
        sampler.join()
        after = {"server": cpu(server), "postgres": cpu(postgres), "wrk": cpu(wrk.pid)}
        out, _ = wrk.communicate(timeout=60)
    finally:
        if wrk.poll() is None:
            wrk.kill()
        script.unlink()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    stacks = parse(samples.read_text())
    samples.unlink()
    if not show:
        return
    total = sum(count for _, count in stacks) or 1
    print(f"\n=== {op.name} on {path}: {rps.group(1) if rps else '?'} req/s, {connections} connections")
    shares = {name: (after[name] - before[name]) / wall for name in after}
    load = os.getloadavg()[0]
    print(
        "CPU, share of one core: "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
        + f"  (machine load average {load:.1f} on 2 cores)"
    )
    by_package: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        function, file = frames[-1]
        by_package[package(file)] += count
        own[f"{function} ({short(file)})"] += count
        seen = set()
        for function, file in frames:
            if file.startswith((f"{ROOT}/api/", f"{ROOT}/db/")):
                key = f"{function} ({short(file)})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    rounds = waits.pop("(samples)", 1)
    print(
        "PostgreSQL active backends, average number by what they do: "
        + ", ".join(f"{what} {n / rounds:.2f}" for what, n in waits.most_common())
    )
    print(f"server busy samples: {total}; self time by package of the innermost frame:")
    for name, count in by_package.most_common(top):
        print(f"  {count / total:6.1%}  {name}")
    print("project functions, inclusive time (share of busy samples):")
    for name, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {name}")
    print("functions with the most self time:")
    for name, count in own.most_common(top):
        print(f"  {count / total:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--only", default="users(,auditEvents,8 users", help="comma-separated parts of names")
    parser.add_argument("--path", default="product", help="product, floor or stock, or several: product,floor")
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "/tmp/pyspy/bin/py-spy")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if not Path(args.py_spy).exists():
        sys.exit("py-spy is needed: pip install --target /tmp/pyspy py-spy (or give --py-spy)")
    words = [w.strip() for w in args.only.split(",") if w.strip()]
    operations = [op for op in OPERATIONS if any(w in op.name for w in words)]
    with prepared_server(tenants=TENANTS if any(op.callers == "owners" for op in operations) else 0) as setup:
        for op in operations:
            for side in args.path.split(","):
                path = {"product": "/graphql", "floor": op.floor_path, "stock": "/_bench/stock"}[side]
                if path is None or (side == "stock" and not op.stock):
                    continue
                profile(setup, op, path, 2, args.py_spy, args.top, show=False)  # warm-up
                settle(setup.base, setup.env)
                profile(setup, op, path, args.seconds, args.py_spy, args.top)
                settle(setup.base, setup.env)


if __name__ == "__main__":
    main()
