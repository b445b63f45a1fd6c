"""Does any request get slower as consent history grows? Small history beside large, in
interleaved rounds of one run.

    .venv/bin/python -m bench.history [--user-events 100000] [--tenant-events 1000000]
        [--tenant-users 10000] [--seconds 5] [--rounds 3] [--connections 4] [--max-seconds 40] [--no-audit]

Starts the application (bench.floor, worker off) on a throwaway embedded PostgreSQL with
two tenants:
  small  its OWNER with 10 consent decisions; --tenant-users accounts that have each
         decided once per consent purpose (so its current state is as large as big's);
  big    its OWNER with --user-events decisions, the tenant with --tenant-events over
         --tenant-users accounts;
both with one audit event per decision, as the product writes them (unless --no-audit).
So the two differ in the length of their histories only.
The history is written directly in SQL (generate_series, in batches, secondary indexes
dropped and rebuilt around it, triggers off for the session: `session_replication_role
= replica`). consent_current (migration 0012) is then filled from the history as its
trigger would have kept it; the audit events are written as one
contiguous stretch of the tenant's chain after its head (chain positions and occurred_at
non-decreasing, as the chain trigger keeps them), but their hashes are placeholders:
building a real hash chain row by row would take hours and changes nothing a request
reads. Requests made afterwards extend the chain through the trigger as usual.

Then, for each operation, wrk runs it as the small tenant's OWNER and as the big
tenant's OWNER back to back, round after round; flat means big/small near 100 %:
  setConsents (one decision), viewer.consents, viewer.consentHistory, consentReport.
Last, EXPLAIN ANALYZE of the statements behind them for both owners, as they were when
issue #18 was filed and as they are since consent_current (migration 0012)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench.common import create_owner, database_uri, running_server, settle
from bench.throughput import SERVER_ENV, SET_CONSENTS, login, wrk

CONSENTS = "{ viewer { consents { purpose { key } granted version needsRenewal updatedAt } } }"
HISTORY = "{ viewer { consentHistory(first: 50) { purposeKey granted version source recordedAt } } }"
REPORT = "{ consentReport { purpose { key } granted withdrawn undecided } }"
OPERATIONS: dict[str, dict[str, Any]] = {
    "setConsents (one decision)": {"query": SET_CONSENTS, "variables": {"purpose": "newsletter", "granted": True}},
    "viewer.consents": {"query": CONSENTS},
    "viewer.consentHistory(first: 50)": {"query": HISTORY},
    "consentReport": {"query": REPORT},
}
BATCH = 1_000_000


@dataclass
class Tenant:
    slug: str
    id: uuid.UUID
    owner_id: uuid.UUID
    token: str


# --- filling ------------------------------------------------------------------------

USERS = """
INSERT INTO app_user (tenant_id, id, username, email, role, status, email_verified, created_at, updated_at)
SELECT $1, gen_random_uuid(), 'member' || g, 'member' || g || '@history.example', 'MEMBER', 'ACTIVE', true, now(), now()
FROM generate_series(1, $2::int) AS g
"""
# Decision g of a stretch: account g % accounts (in id order), the consent purposes in
# turn; granted two times in three; one second apart, ending now.
CONSENT_EVENTS = """
WITH u AS (
  SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS n FROM app_user
  WHERE tenant_id = $1 AND id = ANY($2::uuid[])
), p AS (
  SELECT id, key, version, (row_number() OVER (ORDER BY key) - 1)::int AS n FROM purpose
  WHERE tenant_id = $1 AND legal_basis = 'CONSENT' AND active
)
INSERT INTO consent_event (tenant_id, id, user_id, purpose_id, purpose_key, purpose_version, granted, source,
                           ip_address, recorded_at)
SELECT $1, gen_random_uuid(), u.id, p.id, p.key, p.version, g % 3 <> 0, 'web', '10.0.0.1',
       now() - ($4::bigint - g) * interval '1 second'
FROM generate_series($3::bigint, $4::bigint) AS g
JOIN u ON u.n = (g % array_length($2::uuid[], 1))::int
JOIN p ON p.n = ((g / array_length($2::uuid[], 1)) % (SELECT count(*) FROM p))::int
"""
# One audit event per decision, after the chain's head: positions head+1.., occurred_at
# spread between the head's time and now (non-decreasing along the chain).
AUDIT_EVENTS = """
INSERT INTO audit_event (tenant_id, id, chain_seq, occurred_at, action, actor_type, actor_id, target_type, target_id,
                         ip_address, request_id, changes, prev_hash, row_hash)
SELECT $1, nextval('audit_event_id_seq'), $2::bigint + g,
       $3::timestamptz + (now() - $3::timestamptz) * (g::float8 / $5::bigint),
       CASE WHEN g % 3 <> 0 THEN 'consent.granted' ELSE 'consent.withdrawn' END, 'USER', $6::uuid, 'user', $6::uuid,
       '10.0.0.1', md5(g::text), '{"granted": {"new": true}, "purpose": {"new": "newsletter"}}', '\\x00', '\\x00'
FROM generate_series($4::bigint, $5::bigint) AS g
"""


CURRENT = """
INSERT INTO consent_current AS c (tenant_id, user_id, purpose_id, granted, purpose_version, recorded_at, event_id)
SELECT DISTINCT ON (tenant_id, user_id, purpose_id) tenant_id, user_id, purpose_id, granted, purpose_version,
       recorded_at, id
FROM consent_event WHERE tenant_id = ANY($1::uuid[])
ORDER BY tenant_id, user_id, purpose_id, recorded_at DESC, id DESC
ON CONFLICT (tenant_id, user_id, purpose_id) DO UPDATE
  SET granted = EXCLUDED.granted, purpose_version = EXCLUDED.purpose_version,
      recorded_at = EXCLUDED.recorded_at, event_id = EXCLUDED.event_id
  WHERE (EXCLUDED.recorded_at, EXCLUDED.event_id) > (c.recorded_at, c.event_id)
"""


async def _secondary_indexes(conn: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `table` that back no constraint."""
    rows = await conn.fetch(
        """
        SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        table,
    )
    return [(r["name"], r["definition"]) for r in rows]


async def fill(
    url: str, big: Tenant, small: Tenant, *, user_events: int, tenant_events: int, tenant_users: int, audit: bool
) -> None:
    conn = await asyncpg.connect(url)
    began = time.perf_counter()

    def say(what: str) -> None:
        print(f"  {time.perf_counter() - began:6.0f}s  {what}", flush=True)

    try:
        await conn.execute("SET session_replication_role = replica")  # no triggers: no FK checks, no chain trigger
        await conn.execute(USERS, big.id, tenant_users)
        await conn.execute(USERS, small.id, tenant_users)
        say(f"{tenant_users:,} accounts in each tenant")
        purposes = await conn.fetchval(
            "SELECT count(*) FROM purpose WHERE tenant_id = $1 AND legal_basis = 'CONSENT' AND active", small.id
        )
        dropped = {t: await _secondary_indexes(conn, t) for t in ("consent_event", "audit_event")}
        for indexes in dropped.values():
            for name, _ in indexes:
                await conn.execute(f'DROP INDEX "{name}"')
        members = {
            t.slug: [r["id"] for r in await conn.fetch("SELECT id FROM app_user WHERE tenant_id = $1", t.id)]
            for t in (big, small)
        }
        plan = [
            (small, [small.owner_id], 10),
            # Every account of the small tenant decides once per purpose: the current state is
            # as large as the big tenant's, only the history is short.
            (small, members["small"], len(members["small"]) * purposes),
            (big, [big.owner_id], user_events),
            (big, members["big"], max(0, tenant_events - user_events)),
        ]
        for tenant, users, count in plan:
            for low in range(1, count + 1, BATCH):
                high = min(count, low + BATCH - 1)
                await conn.execute(CONSENT_EVENTS, tenant.id, users, low, high)
                if audit:
                    head = await conn.fetchrow(
                        "SELECT chain_seq, occurred_at FROM audit_event WHERE tenant_id = $1 ORDER BY chain_seq DESC LIMIT 1",
                        tenant.id,
                    )
                    assert head is not None, "the tenant's chain has a head (tenant.created)"
                    await conn.execute(
                        AUDIT_EVENTS, tenant.id, head["chain_seq"] - low + 1, head["occurred_at"], low, high, users[0]
                    )
                if count > 1000:
                    say(f"{tenant.slug}: {high:,} of {count:,} decisions{' and audit events' if audit else ''}")
        if await conn.fetchval("SELECT to_regclass('consent_current') IS NOT NULL"):
            # What the consent_current_keep trigger (migration 0012) would have kept.
            await conn.execute(CURRENT, [big.id, small.id])
            say(f"consent_current: {await conn.fetchval('SELECT count(*) FROM consent_current'):,} rows")
        for indexes in dropped.values():
            for name, definition in indexes:
                await conn.execute(definition)
                say(f"index {name} rebuilt")
        await conn.execute("RESET session_replication_role")
        for table in ("app_user", "consent_event", "audit_event"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        say("vacuumed and analysed")
        sizes = await conn.fetch(
            "SELECT t.slug, (SELECT count(*) FROM consent_event c WHERE c.tenant_id = t.id) AS consents, "
            "(SELECT count(*) FROM audit_event a WHERE a.tenant_id = t.id) AS audits, "
            "(SELECT count(*) FROM consent_event c WHERE c.tenant_id = t.id AND c.user_id = ANY($1::uuid[])) AS own "
            "FROM tenant t WHERE t.slug = ANY($2::text[]) ORDER BY t.slug",
            [big.owner_id, small.owner_id],
            [big.slug, small.slug],
        )
        for r in sizes:
            print(
                f"  {r['slug']:6} consent events: {r['consents']:>11,} (its OWNER's: {r['own']:,}); audit events: {r['audits']:,}"
            )
    finally:
        await conn.close()


# --- explaining ---------------------------------------------------------------------
# The statements as they were when the issue was filed (4f29d3b), then as they are since
# consent_current (migration 0012, f90cdd3): copied here, so that both can be compared
# on the same data whatever the code says today.

BEFORE = {
    "state: newest decision per purpose (DISTINCT ON over the history)": (
        """
        SELECT DISTINCT ON (purpose_id) purpose_id, granted, purpose_version, recorded_at
        FROM consent_event WHERE tenant_id = $1 AND user_id = $2
        ORDER BY purpose_id, recorded_at DESC, id DESC
        """,
        "user",
    ),
    "history: all of it": (
        "SELECT * FROM consent_event WHERE tenant_id = $1 AND user_id = $2 ORDER BY recorded_at DESC, id DESC",
        "user",
    ),
    "report: DISTINCT ON over the tenant's history": (
        """
        WITH latest AS (
          SELECT DISTINCT ON (user_id, purpose_id) user_id, purpose_id, granted
          FROM consent_event WHERE tenant_id = $1
          ORDER BY user_id, purpose_id, recorded_at DESC, id DESC
        ), people AS (
          SELECT id FROM app_user WHERE tenant_id = $1 AND status <> 'DISABLED'
        )
        SELECT p.id, count(*) FILTER (WHERE l.granted) AS granted,
               count(*) FILTER (WHERE l.granted = false) AS withdrawn,
               count(*) FILTER (WHERE l.granted IS NULL) AS undecided
        FROM purpose p CROSS JOIN people u
        LEFT JOIN latest l ON l.purpose_id = p.id AND l.user_id = u.id
        WHERE p.tenant_id = $1 AND p.active
        GROUP BY p.id
        """,
        "tenant",
    ),
}
NOW = {
    "state: consent_current": (
        "SELECT purpose_id, granted, purpose_version, recorded_at FROM consent_current "
        "WHERE tenant_id = $1 AND user_id = $2",
        "user",
    ),
    "history: a page of 50 (consent_event_history_idx)": (
        "SELECT * FROM consent_event WHERE tenant_id = $1 AND user_id = $2 ORDER BY recorded_at DESC, id DESC LIMIT 50",
        "user",
    ),
    "report: consent_current joined with the accounts": (
        """
        WITH people AS (
          SELECT count(*) AS n FROM app_user WHERE tenant_id = $1 AND status <> 'DISABLED'
        ), decided AS (
          SELECT c.purpose_id, count(*) FILTER (WHERE c.granted) AS granted,
                 count(*) FILTER (WHERE NOT c.granted) AS withdrawn
          FROM consent_current c
          JOIN app_user u ON u.tenant_id = c.tenant_id AND u.id = c.user_id AND u.status <> 'DISABLED'
          WHERE c.tenant_id = $1
          GROUP BY c.purpose_id
        )
        SELECT p.id, coalesce(d.granted, 0) AS granted, coalesce(d.withdrawn, 0) AS withdrawn,
               people.n - coalesce(d.granted, 0) - coalesce(d.withdrawn, 0) AS undecided
        FROM purpose p CROSS JOIN people
        LEFT JOIN decided d ON d.purpose_id = p.id
        WHERE p.tenant_id = $1 AND p.active
        """,
        "tenant",
    ),
}


async def _explain(conn: asyncpg.Connection, sql: str, *args: Any) -> tuple[float, str]:
    plan = [r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)]
    took = next((float(line.split(":")[1].split()[0]) for line in plan if line.startswith("Execution Time")), 0.0)
    return took, "\n".join("      " + line for line in plan)


async def explain(url: str, big: Tenant, small: Tenant, *, verbose: bool) -> None:
    conn = await asyncpg.connect(url)
    try:
        has_current = await conn.fetchval("SELECT to_regclass('consent_current') IS NOT NULL")
        print("\nEXPLAIN ANALYZE, execution time, median of 3 (the big tenant's plans with --verbose)")
        for title, group in (("before consent_current (4f29d3b)", BEFORE), ("with consent_current (f90cdd3)", NOW)):
            if group is NOW and not has_current:
                print("  (no consent_current table in this database)")
                continue
            print(f"  {title}:")
            for name, (sql, scope) in group.items():
                timings = []
                for tenant in (small, big):
                    args = (tenant.id, tenant.owner_id) if scope == "user" else (tenant.id,)
                    runs = [await _explain(conn, sql, *args) for _ in range(3)]
                    timings.append(statistics.median(took for took, _ in runs))
                    if verbose and tenant is big:
                        print(runs[-1][1])
                print(f"    {name:66} small {timings[0]:9.2f} ms   big {timings[1]:9.2f} ms")
    finally:
        await conn.close()


# --- measuring ----------------------------------------------------------------------


async def _tenant(url: str, slug: str, token: str) -> Tenant:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT t.id, u.id AS owner FROM tenant t JOIN app_user u ON u.tenant_id = t.id AND u.username = 'owner' "
            "WHERE t.slug = $1",
            slug,
        )
        assert row is not None, slug
        return Tenant(slug, row["id"], row["owner"], token)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user-events", type=int, default=100_000, help="consent decisions of the big tenant's OWNER")
    parser.add_argument("--tenant-events", type=int, default=1_000_000, help="consent decisions in the big tenant")
    parser.add_argument("--tenant-users", type=int, default=10_000, help="accounts in the big tenant")
    parser.add_argument("--no-audit", action="store_true", help="no audit event per filled decision")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=40, help="cap on a slow operation's measurement")
    parser.add_argument("--verbose", action="store_true", help="print the plans")
    args = parser.parse_args()
    env = {**SERVER_ENV, "RUN_WORKER_IN_SERVE": "false"}
    with running_server(env, module="bench.floor") as (base, server_env):
        url = database_uri(server_env["DATA_DIR"])
        tenants = {}
        for slug in ("small", "big"):
            create_owner(base, server_env, slug)
            tenants[slug] = asyncio.run(_tenant(url, slug, login(base, slug, "owner")))
        small, big = tenants["small"], tenants["big"]
        print(
            f"filling: big tenant {args.tenant_events:,} decisions over {args.tenant_users:,} accounts, "
            f"its OWNER {args.user_events:,}{'' if args.no_audit else ', one audit event each'}"
        )
        asyncio.run(
            fill(
                url,
                big,
                small,
                user_events=args.user_events,
                tenant_events=args.tenant_events,
                tenant_users=args.tenant_users,
                audit=not args.no_audit,
            )
        )
        # Warm-up, and the answers are whole. An operation whose single request takes L
        # seconds runs for 10 L (at most --max-seconds) on both sides, so that each side
        # completes some.
        duration = {}
        for name, body in OPERATIONS.items():
            slowest = 0.0
            for tenant in (small, big):
                with httpx.Client(base_url=base, cookies={"session": tenant.token}, timeout=300) as client:
                    for _ in range(2):
                        began = time.perf_counter()
                        answer = client.post("/graphql", json=body).json()
                        slowest = max(slowest, time.perf_counter() - began)
                        assert not answer.get("errors"), answer
            duration[name] = max(args.seconds, min(args.max_seconds, 10 * slowest))
        results: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {name: [] for name in OPERATIONS}
        for number in range(args.rounds):
            for name, body in OPERATIONS.items():
                measured = {}
                for t in [small, big] if number % 2 == 0 else [big, small]:
                    measured[t.slug] = wrk(f"{base}/graphql", body, [t.token], duration[name], args.connections, 300)
                    settle(base, server_env)
                results[name].append((measured["small"], measured["big"]))
                print(
                    f"  round {number + 1} {name:28} small {measured['small']['rps']:8.1f}  big {measured['big']['rps']:8.1f} req/s"
                    f"  ({duration[name]:.0f}s each)",
                    flush=True,
                )
        asyncio.run(explain(url, big, small, verbose=args.verbose))
    print(
        f"\nbig / small (median of {args.rounds} rounds: requests/s ratio, then each side's median req/s, p50, p99); "
        f"flat is 100 %; big tenant {args.tenant_events:,} decisions, its OWNER {args.user_events:,}"
    )
    print(f"{'':30}{'big/small':>10}{'small req/s':>13}{'p50':>10}{'p99':>10}{'big req/s':>11}{'p50':>11}{'p99':>11}")
    for name, rounds in results.items():
        ratio = statistics.median(b["rps"] / s["rps"] if s["rps"] else 0.0 for s, b in rounds)

        def med(side: int, key: str, rounds: list[tuple[dict[str, float], dict[str, float]]] = rounds) -> float:
            return statistics.median(r[side][key] for r in rounds)

        print(
            f"{name:30}{ratio:>10.1%}{med(0, 'rps'):>13.1f}{med(0, 'p50'):>8.1f}ms{med(0, 'p99'):>8.1f}ms"
            f"{med(1, 'rps'):>11.1f}{med(1, 'p50'):>9.1f}ms{med(1, 'p99'):>9.1f}ms"
        )
    print(f"\n{args.connections} connections, {args.seconds:g}s per measurement, wrk -t1, one server process")


if __name__ == "__main__":
    main()
