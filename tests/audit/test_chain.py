"""The audit log is append-only in the database and tamper-evident by a per-tenant hash chain."""

from __future__ import annotations

import asyncio
import json
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
from api.audit import actions
from api.audit import service as audit
from api.audit.chain import verify
from api.audit.retention import purge_expired_events
from api.request_meta import Actor, RequestMeta
from db.engine import make_engine, make_sessionmaker, transaction
from db.enums import Role
from tests.helpers import ADD_USER, Api, login

ROOT = Path(__file__).parents[2]


def verify_cli(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": api.settings.database_url, "SECRET_KEY": api.settings.secret_key or ""}
    return subprocess.run(
        [sys.executable, "-m", "api", "verify-audit", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
async def app_db(api: Api):  # type: ignore[no-untyped-def]
    """A session made the way the application makes them."""
    engine = make_engine(api.settings, api.settings.database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_change_and_its_audit_event_commit_or_roll_back_together(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))
    actor = Actor(tenant_id=tenant_id, user_id=uuid.UUID(owner.id), role=Role.OWNER)
    with pytest.raises(RuntimeError):
        async with api.unit() as work:
            await tenants.update_settings(work.as_actor(actor), name="Renamed")
            # The event is held to be written last, right before COMMIT (the chain lock).
            assert [e.action for e in work.db.written_last()] == ["tenant.settings_changed"]
            raise RuntimeError("something after the change fails")
    assert await api.db.fetchval("SELECT name FROM tenant") == "Acme Ltd"
    assert await api.count("audit_event", "action = 'tenant.settings_changed'") == 0
    async with api.unit() as work:
        await tenants.update_settings(work.as_actor(actor), name="Renamed")
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
    await api.db.execute(
        "UPDATE audit_event SET changes = jsonb_set(changes, '{role,new}', '\"OWNER\"') WHERE id = $1", target
    )
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
    assert (
        run.returncode == 1
        and f"BROKEN at event {following} (chain position {seq + 1}): chain position {seq} is missing" in run.stdout
    )


async def test_twenty_concurrent_writers_leave_one_unbroken_chain(api: Api, app_db) -> None:  # type: ignore[no-untyped-def]
    await api.owner("acme")
    tenant_id = uuid.UUID(await api.db.fetchval("SELECT id::text FROM tenant"))

    async def writer(i: int) -> None:
        async with transaction(app_db) as db:
            for _ in range(5):
                audit.record(
                    db,
                    tenant_id=tenant_id,
                    action=actions.USER_UPDATED,
                    meta=RequestMeta(request_id=f"w{i}"),
                    actor_type="SYSTEM",
                )
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
        await db.execute(
            text("UPDATE audit_event SET ip_address = NULL, user_agent = NULL WHERE actor_id = :u"),
            {"u": uuid.UUID(owner.id)},
        )
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


def checkpoint_cli(api: Api) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": api.settings.database_url, "SECRET_KEY": api.settings.secret_key or ""}
    return subprocess.run(
        [sys.executable, "-m", "api", "checkpoint-audit"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


# What an attacker with database access (but not SECRET_KEY) does: switch the triggers off,
# change history, and recompute every hash after the change with the database's own function.
REHASH_FROM = """
DO $$
DECLARE r record; prev bytea;
BEGIN
  SELECT row_hash INTO prev FROM audit_event WHERE tenant_id = $T AND chain_seq = $S - 1;
  FOR r IN SELECT id FROM audit_event WHERE tenant_id = $T AND chain_seq >= $S ORDER BY chain_seq LOOP
    UPDATE audit_event SET prev_hash = coalesce(prev, '\\x'::bytea) WHERE tenant_id = $T AND id = r.id;
    UPDATE audit_event e SET row_hash = sha256(convert_to(audit_event_content(e), 'UTF8'))
      WHERE e.tenant_id = $T AND e.id = r.id RETURNING e.row_hash INTO prev;
  END LOOP;
END $$;
"""


async def _tamper(api: Api, statement: str, rehash_from: int | None, tenant_id: str) -> None:
    await api.db.execute("ALTER TABLE audit_event DISABLE TRIGGER USER")
    await api.db.execute(statement)
    if rehash_from is not None:
        await api.db.execute(REHASH_FROM.replace("$T", f"'{tenant_id}'::uuid").replace("$S", str(rehash_from)))
    await api.db.execute("ALTER TABLE audit_event ENABLE TRIGGER USER")


async def test_a_rewritten_chain_with_recomputed_hashes_is_found_by_the_signed_checkpoint(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    assert checkpoint_cli(api).stdout.splitlines()[-1] == "1 checkpoints made"
    await api.member(owner, "max")  # events after the checkpoint
    tenant_id = await api.db.fetchval("SELECT id::text FROM tenant")
    seq = await api.db.fetchval(
        "SELECT chain_seq FROM audit_event WHERE action = 'user.created' AND actor_type = 'USER' ORDER BY chain_seq LIMIT 1"
    )
    await _tamper(
        api,
        f"UPDATE audit_event SET changes = jsonb_set(changes, '{{role,new}}', '\"OWNER\"') WHERE chain_seq = {seq}",
        seq,
        tenant_id,
    )
    [plain] = await verify(api.db, "acme")  # the hashes alone are consistent again
    assert plain.ok
    run = verify_cli(api, "--tenant", "acme")
    assert run.returncode == 1 and "the chain was rewritten" in run.stdout, run.stdout


async def test_a_chain_cut_short_below_a_checkpoint_is_found(api: Api) -> None:
    owner = await api.owner("acme")
    await api.member(owner, "mia")
    checkpoint_cli(api)
    last = await api.db.fetchval("SELECT max(chain_seq) FROM audit_event")
    await _tamper(api, f"DELETE FROM audit_event WHERE chain_seq > {last - 3}", None, "")
    run = verify_cli(api, "--tenant", "acme")
    assert run.returncode == 1 and "cut short" in run.stdout and f"names position {last}" in run.stdout, run.stdout


async def test_a_forged_or_unlinked_checkpoint_is_found(api: Api) -> None:
    owner = await api.owner("acme")
    checkpoint_cli(api)
    await api.member(owner, "mia")
    checkpoint_cli(api)
    assert verify_cli(api).returncode == 0
    # Without the key, a checkpoint cannot be made to agree with a rewritten head...
    await api.db.execute(
        "UPDATE audit_checkpoint SET row_hash = sha256('x') WHERE chain_seq = (SELECT max(chain_seq) FROM audit_checkpoint)"
    )
    assert "not signed with this service's key" in verify_cli(api).stdout
    # ...nor can an older one be dropped unseen.
    await api.db.execute("DELETE FROM audit_checkpoint WHERE chain_seq = (SELECT min(chain_seq) FROM audit_checkpoint)")
    assert verify_cli(api).returncode == 1


async def test_checkpoints_are_made_only_when_a_chain_grew_and_say_so_in_the_log(api: Api) -> None:
    await api.owner("acme")
    await api.owner("globex")
    made = checkpoint_cli(api).stdout.splitlines()
    assert made[-1] == "2 checkpoints made"
    logged = [json.loads(line) for line in made[:-1]]
    assert [entry["message"] for entry in logged] == ["audit checkpoint"] * 2 and all(
        len(e["checkpoint_mac"]) == 67 for e in logged
    )
    again = checkpoint_cli(api)
    assert again.stdout.splitlines()[-1] == "0 checkpoints made"
    run = verify_cli(api)
    assert run.returncode == 0 and "1 signed checkpoints" in run.stdout
