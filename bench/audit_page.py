"""Fill one tenant with millions of audit events, then time filtered pages.

    .venv/bin/python -m bench.audit_page [--rows 10000000] [--runs 30]

Uses a throwaway embedded PostgreSQL. The filler rows are written in bulk with the
chain trigger switched off (their hashes are placeholders; building a real chain row
by row would take hours and measures nothing the query depends on). Each page is the
query `auditEvents` runs (api.audit.query.search), through the app's own engine."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from api.audit.query import EventFilter, search
from api.request_meta import Actor
from api.settings import Settings
from api.work import background_work
from bench.common import embedded_database
from db.engine import make_engine, make_sessionmaker
from db.enums import Role

FILL = """
INSERT INTO audit_event (tenant_id, id, chain_seq, occurred_at, action, actor_type, actor_id, target_type, target_id,
                         ip_address, request_id, changes, prev_hash, row_hash)
SELECT $1, nextval('audit_event_id_seq'), g,
       $2::timestamptz + g * interval '6 seconds',
       (ARRAY['login.succeeded','login.failed','session.created','session.revoked','user.created','user.updated',
              'user.role_changed','consent.granted','consent.withdrawn','mfa.verified','password.changed',
              'email.changed','invitation.sent','tenant.settings_changed','mfa.failed','recovery_code.used'])[1 + g % 16],
       'USER', ('00000000-0000-4000-8000-' || lpad((g % 5000)::text, 12, '0'))::uuid,
       'user', ('00000000-0000-4000-9000-' || lpad((g % 20000)::text, 12, '0'))::uuid,
       '10.0.0.1', md5(g::text), '{"role": {"new": "MEMBER"}}', '\\x00', '\\x00'
FROM generate_series($3::bigint, $4::bigint) AS g
"""


async def fill(url: str, rows: int) -> tuple[uuid.UUID, datetime]:
    conn = await asyncpg.connect(url)
    tenant = uuid.uuid4()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    await conn.execute("INSERT INTO tenant (id, slug, name) VALUES ($1, 'big', 'Big Co')", tenant)
    await conn.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain")
    batch = 500_000
    began = time.perf_counter()
    for low in range(1, rows + 1, batch):
        await conn.execute(FILL, tenant, start, low, min(rows, low + batch - 1))
        print(f"  filled {min(rows, low + batch - 1):>10,} rows ({time.perf_counter() - began:.0f}s)", flush=True)
    await conn.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain")
    await conn.execute("VACUUM ANALYZE audit_event")
    await conn.close()
    return tenant, start


async def measure(url: str, tenant: uuid.UUID, start: datetime, rows: int, runs: int) -> None:
    settings = Settings(database_url=url, db_pool_size=2)
    engine = make_engine(settings, url)
    sessionmaker = make_sessionmaker(engine)
    actor = Actor(tenant_id=tenant, user_id=uuid.uuid4(), role=Role.ADMIN)
    middle = start + timedelta(seconds=6 * rows // 2)
    cases = {
        "newest page, no filter": EventFilter(),
        "action = consent.withdrawn": EventFilter(action="consent.withdrawn"),
        "actor (1 of 5,000)": EventFilter(actor_id="00000000-0000-4000-8000-000000000042"),
        "target (1 of 20,000)": EventFilter(target_id="00000000-0000-4000-9000-000000000042"),
        "one day, mid-history": EventFilter(since=middle, until=middle + timedelta(days=1)),
        "until mid-history + action": EventFilter(action="mfa.failed", until=middle),
    }
    print(f"\n{f'page of 50 (median/p95 of {runs})':40}{'median':>10}{'p95':>10}{'rows':>6}")
    for name, where in cases.items():
        timings = []
        for _ in range(runs):
            async with background_work(sessionmaker, settings) as work:
                began = time.perf_counter()
                page = await search(work.as_actor(actor), first=50, after=None, where=where)
                second = await search(work.as_actor(actor), first=50, after=page.cursors[-1], where=where)
                timings.append((time.perf_counter() - began) / 2)
        timings.sort()
        print(
            f"{name:40}{statistics.median(timings) * 1000:>8.2f}ms{timings[int(0.95 * len(timings))] * 1000:>8.2f}ms{len(second.events):>6}"
        )
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with embedded_database("audit-bench-") as url:  # stopped and removed afterwards, also on Ctrl-C
        print(f"filling one tenant with {args.rows:,} audit events")
        tenant, start = asyncio.run(fill(url, args.rows))
        asyncio.run(measure(url, tenant, start, args.rows, args.runs))


if __name__ == "__main__":
    main()
