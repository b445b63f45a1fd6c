"""Throughput and latency of the real server, each operation beside its floor and the
stock path, in interleaved rounds of one run.

    .venv/bin/python -m bench.throughput [--seconds 10] [--rounds 3] [--connections 16] [--only users,login]

Needs `wrk` (Debian: apt-get install wrk). Starts the application (one process, uvloop +
httptools, embedded PostgreSQL, the in-process worker as `serve` runs it in
development) with the benchmark routes of bench.floor, and measures each operation on
three paths:
  product  POST /graphql, the product's own endpoint and execution path
  floor    bare Starlette + asyncpg issuing the same statements, orjson (bench.floor);
           for login: one argon2id verification and nothing else (the hashing limit)
  stock    the same schema and context served by strawberry.asgi.GraphQL
Operations: viewer { user }, users(first: 50) and auditEvents(first: 50) with the admin
screen's fields, setConsents (one decision) by 8 members of one tenant in turn, the
same by the owners of 8 tenants in turn (the audit chain serialises writers per tenant),
and login.

Each round runs every operation on the three paths back to back (the order of the
paths turns from round to round), so that a noisy neighbour on this shared 2-core
machine weighs on all sides of a comparison; each ratio is the median of the rounds'
ratios, and every round is printed. Before measuring, the answers of the three paths
are compared: a floor that answered something else would measure nothing."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import PASSWORD, cpu, create_owner, database_uri, postmaster_pid, run_wrk, running_server, settle

VIEWER = "{ viewer { user { id username } } }"
USERS = (
    "{ users(first: 50) { totalCount pageInfo { hasNextPage endCursor } "
    "edges { cursor node { id username email displayName role status mfaEnabled lastLoginAt } } } }"
)
AUDIT_EVENTS = (
    "{ auditEvents(first: 50) { pageInfo { hasNextPage endCursor } edges { cursor node { "
    "id occurredAt action actorType actorId targetType targetId ipAddress changes } } } }"
)
SET_CONSENTS = (
    "mutation($purpose: String!, $granted: Boolean!) { "
    "setConsents(input: [{purposeKey: $purpose, granted: $granted}]) { errors { code } } }"
)
LOGIN = (
    "mutation($tenant: String!, $identifier: String!, $password: String!) { "
    "login(input: {tenant: $tenant, identifier: $identifier, password: $password}) { status } }"
)
MEMBERS = 8  # setConsents callers in the bench tenant
TENANTS = 8  # setConsents callers, one owner in each of as many tenants

# The per-account and per-IP limits would turn repeated calls into RATE_LIMITED answers.
SERVER_ENV = {
    "LOGIN_FAILURES_PER_IP": "100000",
    "SUCCESSFUL_LOGINS_PER_WINDOW": "10000000",
    "CONSENT_DECISIONS_PER_HOUR": "100000000",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class Setup:
    base: str
    data_dir: str
    env: dict[str, str]  # the server's, as running_server gives it
    token: str  # the bench tenant's OWNER
    members: list[str] = field(default_factory=list)  # MEMBER sessions in the bench tenant
    owners: list[str] = field(default_factory=list)  # one OWNER session in each of TENANTS tenants


@dataclass(frozen=True)
class Operation:
    name: str
    query: str
    floor_path: str | None
    goal: float | None  # of the floor
    callers: str = "owner"  # owner | members | owners | anonymous
    variables: dict[str, Any] = field(default_factory=dict)
    connections: int | None = None  # None: --connections
    stock: bool = True

    @property
    def cookie(self) -> bool:
        return self.callers != "anonymous"

    def body(self, setup: Setup | None = None) -> dict[str, Any]:
        return {"query": self.query, **({"variables": self.variables} if self.variables else {})}

    def cookies(self, setup: Setup) -> list[str]:
        return {"owner": [setup.token], "members": setup.members, "owners": setup.owners, "anonymous": []}[self.callers]


OPERATIONS = [
    Operation("viewer", VIEWER, "/_bench/floor/viewer", 0.60),
    Operation("users(first: 50)", USERS, "/_bench/floor/users", 0.40),
    Operation("auditEvents(first: 50)", AUDIT_EVENTS, "/_bench/floor/audit-events", 0.40),
    Operation(
        f"setConsents, {MEMBERS} users of 1 tenant",
        SET_CONSENTS,
        "/_bench/floor/set-consents",
        0.50,
        callers="members",
        variables={"purpose": "newsletter", "granted": True},
    ),
    Operation(
        f"setConsents, {TENANTS} tenants",
        SET_CONSENTS,
        "/_bench/floor/set-consents",
        None,
        callers="owners",
        variables={"purpose": "newsletter", "granted": True},
        stock=False,
    ),
    Operation(
        "login",
        LOGIN,
        "/_bench/floor/verify",
        0.85,
        callers="anonymous",
        variables={"tenant": "bench", "identifier": "owner", "password": PASSWORD},
        connections=4,
    ),
]

LUA = """
local cookies = {%(cookies)s}
local body = %(body)s
local n = 0
local threads = {}
bad = 0
first_bad = ""

function setup(thread)
  table.insert(threads, thread)
end

function request()
  n = n + 1
  local headers = {["Content-Type"] = "application/json"}
  if #cookies > 0 then
    headers["Cookie"] = "session=" .. cookies[(n %% #cookies) + 1]
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"%%s*:%%s*%%[%%s*{') then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local total, sample = 0, ""
  for _, t in ipairs(threads) do
    total = total + t:get("bad")
    if sample == "" then sample = t:get("first_bad") end
  end
  io.write("BAD " .. total .. " " .. sample .. "\\n")
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here (no \\u escapes)


def wrk(
    url: str, body: dict[str, Any], cookies: list[str], seconds: float, connections: int, timeout: float = 60
) -> dict[str, float]:
    """wrk -t1 against `url`; requests/s, p50 and p99 in ms. Fails on any non-200 answer
    or GraphQL error (the Lua script reads every body)."""
    script = LUA % {
        "cookies": ", ".join(lua_string(c) for c in cookies),
        "body": lua_string(json.dumps(body, ensure_ascii=True)),
    }
    out = run_wrk(script, url, seconds=seconds, connections=connections, timeout=timeout, latency=True)
    bad = re.search(r"^BAD (\d+) ?(.*)$", out, re.MULTILINE)
    assert bad, out
    if int(bad.group(1)):
        raise SystemExit(f"{bad.group(1)} failed answers from {url}, e.g. {bad.group(2)}\n{out}")
    if "Socket errors" in out:
        raise SystemExit(f"socket errors or timeouts from {url}:\n{out}")

    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert found, out
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    assert requests and done, out
    return {"rps": float(requests.group(1)), "p50": ms("50%"), "p99": ms("99%"), "requests": float(done.group(1))}


# --- setting up ---------------------------------------------------------------------


def graphql(client: httpx.Client, query: str, variables: dict[str, Any] | None = None, path: str = "/graphql") -> Any:
    response = client.post(path, json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert not answer.get("errors"), answer
    return answer["data"]


def login(base: str, tenant: str, identifier: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"tenant": tenant, "identifier": identifier, "password": PASSWORD}},
        )
        assert response.json()["data"]["login"]["status"] == "SUCCESS", response.text
        return response.cookies["session"]


async def activate(data_dir: str, tenant_slug: str, usernames: list[str]) -> None:
    """Make invited accounts ACTIVE with the owner's password, directly in the database
    (accepting each emailed invitation would measure nothing here)."""
    conn = await asyncpg.connect(database_uri(data_dir))
    try:
        await conn.execute(
            """
            UPDATE app_user u SET status = 'ACTIVE', password_hash = o.password_hash, email_verified = true
            FROM app_user o JOIN tenant t ON t.id = o.tenant_id
            WHERE t.slug = $1 AND o.username = 'owner' AND u.tenant_id = o.tenant_id AND u.username = ANY($2::text[])
            """,
            tenant_slug,
            usernames,
        )
    finally:
        await conn.close()


@contextlib.contextmanager
def prepared_server(
    *,
    worker: bool = True,
    members: int = MEMBERS,
    tenants: int = TENANTS,
    users: int = 60,
    extra_env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[Setup]:
    """The server with the benchmark routes, the bench tenant (its OWNER, `users`
    accounts of which `members` are ACTIVE and logged in, the audit events of all that),
    and `tenants` more tenants with a logged-in OWNER each."""
    env = {**SERVER_ENV, **(extra_env or {})}
    if not worker:
        env["RUN_WORKER_IN_SERVE"] = "false"
    with running_server(env, module="bench.floor", log=log) as (base, server_env):
        setup = Setup(base, server_env["DATA_DIR"], server_env, create_owner(base, server_env))
        add = "mutation($u: String!, $e: String!) { addUser(input: {username: $u, email: $e}) { errors { code } } }"
        with httpx.Client(base_url=base, cookies={"session": setup.token}, timeout=30) as client:
            for i in range(users):  # more than a page of accounts, and of audit events
                assert not graphql(client, add, {"u": f"user{i:02d}", "e": f"user{i}@bench.example"})["addUser"][
                    "errors"
                ]
            assert graphql(client, VIEWER)["viewer"], "no session"
        names = [f"user{i:02d}" for i in range(members)]
        asyncio.run(activate(setup.data_dir, "bench", names))
        setup.members = [login(base, "bench", name) for name in names]
        for i in range(tenants):
            slug = f"bench{i + 1}"
            create_owner(base, server_env, slug)
            setup.owners.append(login(base, slug, "owner"))
        yield setup


def _answer(base: str, path: str, op: Operation, cookie: str | None) -> Any:
    with httpx.Client(base_url=base, timeout=30, cookies={"session": cookie} if cookie else None) as client:
        response = client.post(path, json=op.body())
        assert response.status_code == 200, (path, response.text)
        answer = response.json()
        assert not answer.get("errors"), (path, answer)
        return answer


def check_answers(setup: Setup, operations: list[Operation]) -> None:
    """The three paths give the same answer to the same request (reads: equal; writes
    and login: the same shape, as each call records something new)."""
    for op in operations:
        cookie = op.cookies(setup)[0] if op.cookie else None
        product = _answer(setup.base, "/graphql", op, cookie)
        paths = [p for p in (op.floor_path, "/_bench/stock" if op.stock else None) if p]
        for path in paths:
            other = _answer(setup.base, path, op, cookie)
            if op.query.startswith("mutation"):
                assert other.keys() == product.keys() and other["data"].keys() == product["data"].keys(), (
                    op.name,
                    path,
                    other,
                    product,
                )
            else:
                assert other == product, f"{op.name}: {path} answers differently:\n{other}\n{product}"


# --- measuring ----------------------------------------------------------------------

SIDES = ("product", "floor", "stock")


def measure(
    setup: Setup, operations: list[Operation], seconds: float, rounds: int, connections: int
) -> dict[str, list[dict[str, dict[str, float]]]]:
    """results[operation][round][side] = {rps, p50, p99}."""
    paths = {"product": "/graphql", "stock": "/_bench/stock"}
    server = int(setup.env["BENCH_SERVER_PID"])
    postgres = postmaster_pid(Path(setup.data_dir) / "pg")
    assert postgres is not None
    results: dict[str, list[dict[str, dict[str, float]]]] = {op.name: [] for op in operations}

    def run(op: Operation, side: str, duration: float) -> dict[str, float]:
        path = op.floor_path if side == "floor" else paths[side]
        assert path is not None
        before = cpu(server), cpu(postgres)
        result = wrk(setup.base + path, op.body(), op.cookies(setup), duration, op.connections or connections)
        after = cpu(server), cpu(postgres)
        # CPU per request: steadier than requests/s on a shared machine (includes the
        # work of requests wrk gave up on at its deadline, a few per measurement).
        result["server_ms"] = 1000 * (after[0] - before[0]) / max(1.0, result["requests"])
        result["postgres_ms"] = 1000 * (after[1] - before[1]) / max(1.0, result["requests"])
        settle(setup.base, setup.env)
        return result

    for op in operations:  # warm-up: caches, pools, prepared statements
        for side in SIDES:
            if side != "stock" or op.stock:
                run(op, side, 1)
    for number in range(rounds):
        order = SIDES[number % 3 :] + SIDES[: number % 3]
        for op in operations:
            outcome = {side: run(op, side, seconds) for side in order if side != "stock" or op.stock}
            results[op.name].append(outcome)
            print(
                f"  round {number + 1} {op.name:34}"
                + "".join(f" {side} {outcome[side]['rps']:7.0f}" for side in SIDES if side in outcome),
                flush=True,
            )
    return results


def _ratios(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} [" + " ".join(f"{v:{fmt}}" for v in values) + "]"


def report(operations: list[Operation], results: dict[str, list[dict[str, dict[str, float]]]], args: Any) -> None:
    print("\nratios: median of the rounds' ratios of requests/s, each round's in brackets;")
    print(
        "'by CPU': the same ratio computed from CPU time per request (server + PostgreSQL), steadier on a shared machine"
    )
    print(f"{'':38}{'product / floor':<28}{'by CPU':<8}{'goal':<7}{'product / stock':<28}{'by CPU':<8}goal")

    def by_cpu(rounds: list[dict[str, dict[str, float]]], other: str) -> float:
        return statistics.median(
            (r[other]["server_ms"] + r[other]["postgres_ms"])
            / (r["product"]["server_ms"] + r["product"]["postgres_ms"])
            for r in rounds
        )

    for op in operations:
        rounds = results[op.name]
        line = f"{op.name:38}" + _ratios([r["product"]["rps"] / r["floor"]["rps"] for r in rounds], ".0%").ljust(28)
        line += f"{by_cpu(rounds, 'floor'):.0%}".ljust(8) + (f"{op.goal:.0%}" if op.goal else "-").ljust(7)
        if op.stock:
            line += _ratios([r["product"]["rps"] / r["stock"]["rps"] for r in rounds], ".1f").ljust(28)
            line += f"{by_cpu(rounds, 'stock'):.1f}".ljust(8) + "3.0"
        print(line)
    print(
        f"\n{'':38}{'':9}{'req/s':>9}{'p50':>10}{'p99':>10}{'server CPU':>13}{'PG CPU':>11}"
        "   (medians over the rounds; CPU: ms per request)"
    )
    for op in operations:
        for side in SIDES:
            values = [r[side] for r in results[op.name] if side in r]
            if not values:
                continue
            med = {k: statistics.median(v[k] for v in values) for k in values[0]}
            label = "hashing" if side == "floor" and op.name == "login" else side
            print(
                f"{op.name if side == 'product' else '':38}{label:9}{med['rps']:>9.0f}{med['p50']:>8.2f}ms{med['p99']:>8.2f}ms"
                f"{med['server_ms']:>11.2f}ms{med['postgres_ms']:>9.2f}ms"
            )
    print(
        f"\n{args.connections} connections (4 for login), {args.seconds:g}s per measurement, {args.rounds} rounds, "
        "wrk -t1, one server process; 2 cores shared by wrk, the server and PostgreSQL"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="comma-separated words: operations whose name contains one")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    words = [w.strip() for w in args.only.split(",") if w.strip()]
    operations = [op for op in OPERATIONS if not words or any(w in op.name for w in words)]
    began = time.monotonic()
    with prepared_server() as setup:
        check_answers(setup, operations)
        results = measure(setup, operations, args.seconds, args.rounds, args.connections)
    report(operations, results, args)
    print(f"({time.monotonic() - began:.0f} s in all)")


if __name__ == "__main__":
    main()
