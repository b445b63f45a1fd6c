"""Export an account with many audit events; report time and peak memory.

    .venv/bin/python -m bench.export_memory [--events 100000]

A throwaway embedded PostgreSQL; the subject's audit events are written in bulk with
the chain trigger off (placeholder hashes: the export reads, it does not verify). The
export runs in this process through the worker's own code path (api.privacy.export.build)."""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
import tracemalloc
import uuid

import asyncpg

from api.privacy import export
from api.settings import Settings
from bench.common import embedded_database
from db.engine import make_engine, make_sessionmaker

FILL = """
INSERT INTO audit_event (tenant_id, id, chain_seq, occurred_at, action, actor_type, actor_id, target_type, target_id,
                         ip_address, user_agent, request_id, changes, prev_hash, row_hash)
SELECT $1, nextval('audit_event_id_seq'), g, now() - (($3 - g) * interval '1 minute'),
       (ARRAY['login.succeeded','session.created','consent.granted','consent.withdrawn','mfa.verified'])[1 + g % 5],
       'USER', $2, 'user', $2, '192.0.2.1', 'Mozilla/5.0 (X11; Linux x86_64) Benchmark/1.0', md5(g::text),
       '{"purpose": {"new": "newsletter"}, "granted": {"new": true}, "source": {"new": "web"}}', '\\x00', '\\x00'
FROM generate_series(1, $3::bigint) AS g
"""


async def run(events: int, url: str) -> None:
    conn = await asyncpg.connect(url)
    tenant, user, request = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute("INSERT INTO tenant (id, slug, name) VALUES ($1, 'bench', 'Bench')", tenant)
    await conn.execute(
        "INSERT INTO app_user (tenant_id, id, username, email, role, status) VALUES ($1, $2, 'subject', 'subject@bench.example', 'MEMBER', 'ACTIVE')",
        tenant,
        user,
    )
    await conn.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_chain")
    await conn.execute(FILL, tenant, user, events)
    await conn.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_chain")
    await conn.execute(
        "INSERT INTO data_request (tenant_id, id, kind, status, subject_id, due_at) VALUES ($1, $2, 'EXPORT', 'PENDING', $3, now() + interval '1 month')",
        tenant,
        request,
        user,
    )
    await conn.execute("ANALYZE")

    settings = Settings(database_url=url, db_pool_size=2)
    engine = make_engine(settings, url)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    began = time.perf_counter()
    await export.build(make_sessionmaker(engine), settings, tenant, request, final_attempt=True)
    elapsed = time.perf_counter() - began
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = await conn.fetchval("SELECT sum(length(data)) FROM export_chunk WHERE request_id = $1", request)
    status = await conn.fetchval("SELECT status FROM data_request WHERE id = $1", request)
    await engine.dispose()
    await conn.close()
    print(f"audit events exported : {events:,}")
    print(f"status                : {status}")
    print(f"archive size          : {size / 1e6:.1f} MB in {size // export.CHUNK_BYTES + 1} chunks")
    print(f"time                  : {elapsed:.1f} s")
    print(f"python heap peak      : {python_peak / 1e6:.1f} MB (tracemalloc, during the export)")
    print(f"process peak RSS      : {rss_after / 1024:.0f} MB (before the export: {rss_before / 1024:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    events = parser.parse_args().events
    with embedded_database("export-bench-") as url:  # stopped and removed afterwards, also on Ctrl-C
        asyncio.run(run(events, url))


if __name__ == "__main__":
    main()
