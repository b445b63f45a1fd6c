"""The audit log is append-only in the database and tamper-evident by a per-tenant hash chain."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api import clock
from api.accounts import tenants
from api.audit import actions, service as audit
from api.audit.chain import verify
from api.audit.retention import purge_expired_events
from api.request_meta import Actor, RequestMeta
from db.engine import make_engine, make_sessionmaker, transaction
from tests.helpers import ADD_USER, Api, login

ROOT = Path(__file__).parents[2]


def verify_cli(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": api.settings.database_url, "SECRET_KEY": api.settings.secret_key or ""}
    return subprocess.run([sys.executable, "-m", "api", "verify-audit", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
async def app_db(api: Api):  # type: ignore[no-untyped-def]
    """A session made the way the application makes them."""
    engine = make_engine(api.settings, api.settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_change_and_its_audit_event_commit_or_roll_back_together(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))
    actor = Actor(tenant_id=tenant_id, user_id=uuid.UUID(owner.id), role="OWNER")
    with pytest.raises(RuntimeError):
        async with transaction(app_db) as db:
            await tenants.update_settings(db, actor, RequestMeta(), name="Renamed")
            assert await db.scalar(text("SELECT count(*) FROM audit_event WHERE action = 'tenant.settings_changed'")) == 1
            raise RuntimeError("something after the change fails")
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme Ltd"
    assert await api.count("audit_event", "action = 'tenant.settings_changed'") == 0
    async with transaction(app_db) as db:
        await tenants.update_settings(db, actor, RequestMeta(), name="Renamed")
    assert await api.db.fetchval("SELECT name FROM tenant") == "Renamed"
    assert await api.count("audit_event", "action = 'tenant.settings_changed'") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'user.updated'",
        "UPDATE audit_event SET changes = '{}'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ],
)
async def test_the_application_connection_cannot_rewrite_or_remove_events(api: Api, app_db, statement: str) -> None:  # type: ignore[no-untyped-def]
    await api.owner("acme")
    before = await api.count("audit_event")
    with pytest.raises(DBAPIError, match="append-only"):
        async with transaction(app_db) as db:
            await db.execute(text(statement))
    assert await api.count("audit_event") == before


async def test_the_retention_flag_does_not_open_recent_events(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    await api.owner("acme")
    with pytest.raises(DBAPIError, match="append-only"):
        async with transaction(app_db) as db:
            await db.execute(text("SELECT set_config('audit.retention_purge', 'on', true)"))
            await db.execute(text("DELETE FROM audit_event"))


async def test_verify_audit_passes_on_a_clean_log(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    await api.owner("globex")
    run = verify_cli(api)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("acme: ok,") and lines[1].startswith("globex: ok,")
    assert verify_cli(api, "--tenant", "globex").stdout.startswith("globex: ok")


async def test_verify_audit_names_the_row_a_superuser_changed(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    target = await api.db.fetchval("SELECT id FROM audit_event WHERE action = 'user.created' AND actor_type = 'USER'")
    await api.db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    await api.db.execute("UPDATE audit_event SET changes = jsonb_set(changes, '{role,new}', '\"OWNER\"') WHERE id = $1", target)
    await api.db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    run = verify_cli(api, "--tenant", "acme")
    assert run.returncode == 1
    assert f"BROKEN at event {target} " in run.stdout and "does not match its hash" in run.stdout


async def test_verify_audit_finds_a_removed_event(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    seq, gone = await api.db.fetchrow("SELECT chain_seq, id FROM audit_event ORDER BY chain_seq OFFSET 3 LIMIT 1")
    following = await api.db.fetchval("SELECT id FROM audit_event WHERE chain_seq = $1", seq + 1)
    await api.db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    await api.db.execute("DELETE FROM audit_event WHERE id = $1", gone)
    await api.db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")
    run = verify_cli(api)
    assert run.returncode == 1 and f"BROKEN at event {following} (chain position {seq + 1}): chain position {seq} is missing" in run.stdout


async def test_twenty_concurrent_writers_leave_one_unbroken_chain(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    await api.owner("acme")
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))

    async def writer(i: int) -> None:
        async with transaction(app_db) as db:
            for _ in range(5):
                audit.record(db, tenant_id=tenant_id, action=actions.USER_UPDATED, meta=RequestMeta(request_id=f"w{i}"), actor_type="SYSTEM")
                await db.flush()
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(i) for i in range(20)))
    seqs = [r["chain_seq"] for r in await api.db.fetch("SELECT chain_seq FROM audit_event ORDER BY chain_seq")]
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 100
    [report] = await verify(api.db, "acme")
    assert report.ok and report.events == len(seqs)


async def test_the_retention_path_removes_old_events_and_the_chain_still_verifies(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    clock.advance(timedelta(days=-800))  # these events happen 800 days ago
    owner = await api.owner("acme")
    clock.reset()
    (await login(owner.browser)).ok("login")  # that session ended long ago
    await api.member(owner, "mia")
    old = await api.count("audit_event", "occurred_at < now() - interval '730 days'")
    total = await api.count("audit_event")
    assert old > 0
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))
    async with transaction(app_db) as db:
        assert await purge_expired_events(db, tenant_id) == old
    assert await api.count("audit_event") == total - old + 1  # plus the audit.purged event itself
    [report] = await verify(api.db, "acme")
    assert report.ok, report


async def test_erasure_may_blank_ip_and_user_agent_and_the_chain_holds(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    async with transaction(app_db) as db:
        await db.execute(text("UPDATE audit_event SET ip_address = NULL, user_agent = NULL WHERE actor_id = :u"), {"u": uuid.UUID(owner.id)})
    assert await api.count("audit_event", "actor_id = $1::uuid AND ip_address IS NOT NULL", owner.id) == 0
    [report] = await verify(api.db, "acme")
    assert report.ok


async def test_events_carry_who_when_and_from_where(api: Api) -> None:
    owner = await api.owner("acme")
    response = await owner.browser.gql(ADD_USER, {"input": {"username": "sam", "email": "sam@acme.example"}})
    row = await api.db.fetchrow("SELECT * FROM audit_event WHERE action = 'user.created' AND actor_type = 'USER'")
    assert str(row["actor_id"]) == owner.id and str(row["ip_address"]) == "127.0.0.1"
    assert row["request_id"] == response.response.headers["x-request-id"]
    assert row["user_agent"] == "pytest-browser/1.0" and row["occurred_at"] is not None
