"""Throughput and latency of the real server, side by side in one run.

    .venv/bin/python -m bench.throughput [--seconds 10] [--connections 16] [--rounds 3]

Needs `wrk` (Debian: apt-get install wrk). Starts `python -m api serve` (one process,
uvloop + httptools, embedded PostgreSQL) with the floor route (bench.floor) and measures:
  (a) { viewer { user { id username } } } with a session cookie
  (b) /_bench/floor: bare Starlette + asyncpg doing the same session lookup (the floor)
  (c) users(first: 50) with the fields the admin screen shows
  (d) setConsents (one decision: a consent event and an audit event per call)
  (e) login (argon2id verification per call)
(a) and (b) run in interleaved rounds, each (a) next to its (b), so that a noisy
neighbour on a shared machine weighs on both sides of a round; the ratio is the
median of the rounds' ratios and every round is printed."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.common import PASSWORD, create_owner, running_server

VIEWER = "{ viewer { user { id username } } }"
USERS = "{ users(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id username email displayName role status mfaEnabled lastLoginAt } } } }"
SET_CONSENTS = 'mutation { setConsents(input: [{purposeKey: "newsletter", granted: true}]) { errors { code } } }'
LOGIN = f'mutation {{ login(input: {{tenant: "bench", identifier: "owner", password: "{PASSWORD}"}}) {{ status }} }}'

LUA = """
wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/json"
%s
"""


def wrk(url: str, body: str, cookie: str | None, seconds: float, connections: int) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA % (json.dumps(body), f'wrk.headers["Cookie"] = "session={cookie}"' if cookie else ""))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx responses from {url}:\n{out}")

    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        assert found, out
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    requests = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert requests, out
    rps = float(requests.group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    # The per-account limits would turn the repeated calls into RATE_LIMITED answers.
    env = {
        "LOGIN_FAILURES_PER_IP": "100000",
        "SUCCESSFUL_LOGINS_PER_WINDOW": "10000000",
        "CONSENT_DECISIONS_PER_HOUR": "100000000",
        "LOG_LEVEL": "WARNING",
    }
    with running_server(env, module="bench.floor") as (base, server_env):
        token = create_owner(base, server_env)

        def body(query: str) -> str:
            return json.dumps({"query": query})

        add = 'mutation($u: String!) { addUser(input: {username: $u, email: "%s"}) { errors { code } } }'
        with httpx.Client(base_url=base, cookies={"session": token}) as client:
            for i in range(60):  # a full page of accounts for (c)
                client.post(
                    "/graphql",
                    json={"query": add.replace("%s", f"user{i}@bench.example"), "variables": {"u": f"user{i:02d}"}},
                )
            assert client.post("/graphql", json={"query": VIEWER}).json()["data"]["viewer"], "no session"

        def run(
            path: str, query: str, cookie: str | None = token, connections: int = args.connections
        ) -> dict[str, float]:
            return wrk(base + path, body(query), cookie, args.seconds, connections)

        run("/graphql", VIEWER)  # warm-up
        run("/_bench/floor", VIEWER)
        rounds = [(run("/graphql", VIEWER), run("/_bench/floor", VIEWER)) for _ in range(args.rounds)]

        def mean(side: int) -> dict[str, float]:
            return {k: statistics.fmean(r[side][k] for r in rounds) for k in rounds[0][side]}

        results = {
            "(a) viewer (GraphQL, cookie)": mean(0),
            "(b) floor (Starlette + asyncpg)": mean(1),
            "(c) users(first: 50)": run("/graphql", USERS),
            "(d) setConsents": run("/graphql", SET_CONSENTS),
            "(e) login": run("/graphql", LOGIN, None, 4),
        }
    ratios = [a["rps"] / b["rps"] for a, b in rounds]
    print(
        f"(a)/(b) throughput ratio: {statistics.median(ratios):.0%}  (median of {len(rounds)} rounds; target: at least 60%)"
    )
    print(
        "rounds: "
        + ", ".join(f"a {a['rps']:.0f} / b {b['rps']:.0f} req/s = {a['rps'] / b['rps']:.0%}" for a, b in rounds)
        + "\n"
    )
    print(f"{'':36}{'req/s':>9}{'p50':>10}{'p99':>10}")
    for name, r in results.items():
        print(f"{name:36}{r['rps']:>9.0f}{r['p50']:>8.2f}ms{r['p99']:>8.2f}ms")
    print(
        f"\n{args.connections} connections ({4} for login), {args.seconds:g}s each, wrk -t1, one server process, 2 cores shared with wrk and PostgreSQL"
    )


if __name__ == "__main__":
    main()
