"""The SQL statements one request issues, as PostgreSQL executed them (log_statement=all
on the benchmark's embedded server): what the floor endpoints (bench.floor) must repeat.

    .venv/bin/python -m bench.statements

Starts the server with the floor and stock routes (bench.floor), sets up the data of
bench.throughput, then prints, for each operation, the statements of one request on
each path (after a warm-up request), so that the floor can be checked against the
product statement by statement."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import asyncpg
import httpx

from bench.common import database_uri

ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \w+ \[(\d+)\] ")
STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)$", re.DOTALL)


async def enable_statement_log(data_dir: str) -> None:
    conn = await asyncpg.connect(database_uri(data_dir))
    await conn.execute("ALTER SYSTEM SET log_statement = 'all'")
    await conn.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] '")
    await conn.execute("SELECT pg_reload_conf()")
    await conn.close()
    await asyncio.sleep(0.5)


def _entries(text: str) -> list[str]:
    entries: list[str] = []
    for line in text.splitlines():
        if ENTRY.match(line):
            entries.append(line)
        elif entries:
            entries[-1] += "\n" + line
    return entries


def statements(data_dir: str, send: httpx.Client, path: str, body: dict[str, object]) -> list[str]:
    """The statements PostgreSQL logged while one request to `path` ran."""
    log = Path(data_dir) / "pg" / "log"
    send.post(path, json=body)  # warm-up: caches, prepared statements
    time.sleep(0.3)
    start = log.stat().st_size
    response = send.post(path, json=body)
    assert response.status_code == 200, response.text
    time.sleep(0.3)
    with log.open() as f:
        f.seek(start)
        text = f.read()
    found = []
    for entry in _entries(text):
        body_match = STATEMENT.search(ENTRY.sub("", entry, count=1))
        if body_match:
            found.append(" ".join(body_match.group(1).split()))
    return found


def main() -> None:
    from bench.throughput import OPERATIONS, prepared_server

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=160, help="characters of each statement to print")
    args = parser.parse_args()

    with prepared_server(worker=False) as setup:
        asyncio.run(enable_statement_log(setup.data_dir))
        with httpx.Client(base_url=setup.base, timeout=30) as client:
            for op in OPERATIONS:
                seen: dict[str, list[str]] = {}
                for side, path in (("product", "/graphql"), ("floor", op.floor_path), ("stock", "/_bench/stock")):
                    if path is None:
                        continue
                    client.cookies.clear()
                    if op.cookie:
                        client.cookies.set("session", op.cookies(setup)[0])
                    found = seen[side] = statements(setup.data_dir, client, path, op.body(setup))
                    print(f"\n== {op.name}: {side} ({len(found)} statements)")
                    for sql in found:
                        print("  " + (sql if len(sql) <= args.width else sql[: args.width] + " …"))
                if seen.get("floor"):
                    extra, missing = Counter(seen["product"]), Counter(seen["floor"])
                    extra.subtract(seen["floor"])
                    missing.subtract(seen["product"])
                    print(f"-- {op.name}: the product issues besides the floor's:")
                    for sql, n in extra.items():
                        if n > 0:
                            print(f"     {n} x {sql[:80]}")
                    for sql, n in missing.items():
                        if n > 0:
                            print(f"   floor only: {n} x {sql[:80]}")


if __name__ == "__main__":
    main()
