"""Every operator action is recorded twice: in the tenant's own chain (actor type
OPERATOR, which the tenant's administrators see) and in the operators' log, which is
append-only, hash-chained, readable by operators and verified by `verify-audit`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.helpers import Api, login
from tests.operators.support import (
    EVENTS,
    REACTIVATE,
    SET_SEATS,
    SUSPEND,
    operator_log,
    operator_login,
    signed_in_operator,
    tenant_id,
)

ROOT = Path(__file__).parents[2]


def verify_cli(api: Api) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": api.settings.database_url, "SECRET_KEY": api.settings.secret_key or ""}
    return subprocess.run(
        [sys.executable, "-m", "api", "verify-audit"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_operators_actions_are_in_the_tenants_chain_as_operator(api: Api) -> None:
    await api.owner("acme", seats=5)
    staff = await signed_in_operator(api)
    acme = await tenant_id(api, "acme")
    (await staff.gql(SET_SEATS, {"id": acme, "seats": 9})).ok("setTenantSeatLimit")
    (await staff.gql(SUSPEND, {"id": acme, "reason": "Unpaid"})).ok("suspendTenant")
    (await staff.gql(REACTIVATE, {"id": acme})).ok("reactivateTenant")

    admin = api.browser()
    (await login(admin)).ok("login")
    seen = await admin.gql(
        '{ auditEvents(first: 10, filter: {action: "tenant.suspended"}) { edges { node { action actorType actorId targetType targetId } } } }'
    )
    [node] = [edge["node"] for edge in seen.data["auditEvents"]["edges"]]
    assert node == {
        "action": "tenant.suspended",
        "actorType": "OPERATOR",
        "actorId": staff.id,
        "targetType": "tenant",
        "targetId": acme,
    }
    rows = await api.db.fetch(
        "SELECT action FROM audit_event WHERE actor_type = 'OPERATOR' AND actor_id = $1::uuid ORDER BY chain_seq",
        staff.id,
    )
    assert [r["action"] for r in rows] == ["tenant.seat_limit_changed", "tenant.suspended", "tenant.reactivated"]


async def test_operators_read_their_log_newest_first_and_by_tenant(api: Api) -> None:
    await api.create_tenant("acme")
    await api.create_tenant("globex")
    staff = await signed_in_operator(api)
    acme, globex = await tenant_id(api, "acme"), await tenant_id(api, "globex")
    (await staff.gql(SET_SEATS, {"id": acme, "seats": 9})).ok("setTenantSeatLimit")
    (await staff.gql(SUSPEND, {"id": globex})).ok("suspendTenant")
    (await staff.gql(REACTIVATE, {"id": globex})).ok("reactivateTenant")

    everything = (await staff.gql(EVENTS)).data["operatorAuditEvents"]
    actions = [edge["node"]["action"] for edge in everything["edges"]]
    assert actions == [
        "tenant.reactivated",
        "tenant.suspended",
        "tenant.seat_limit_changed",
        "operator.login_succeeded",
        "operator.created",
    ]
    newest = everything["edges"][0]["node"]
    assert (newest["actorType"], newest["operatorId"], newest["tenantId"]) == ("OPERATOR", staff.id, globex)
    assert newest["ipAddress"] == "127.0.0.1"
    assert newest["changes"] == {"state": {"old": "SUSPENDED", "new": "ACTIVE"}}
    created = everything["edges"][-1]["node"]
    assert (created["actorType"], created["operatorId"], created["tenantId"]) == ("SYSTEM", staff.id, None)

    only_globex = (await staff.gql(EVENTS, {"tenantId": globex})).data["operatorAuditEvents"]
    assert [edge["node"]["action"] for edge in only_globex["edges"]] == ["tenant.reactivated", "tenant.suspended"]

    first = (await staff.gql(EVENTS, {"first": 2})).data["operatorAuditEvents"]
    assert first["pageInfo"]["hasNextPage"]
    rest = (await staff.gql(EVENTS, {"first": 10, "after": first["pageInfo"]["endCursor"]})).data["operatorAuditEvents"]
    assert [edge["node"]["action"] for edge in first["edges"] + rest["edges"]] == actions
    assert not rest["pageInfo"]["hasNextPage"]
    assert (await staff.gql(EVENTS, {"tenantId": "nope"})).codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE operator_audit_event SET action = 'operator.created'",
        "UPDATE operator_audit_event SET changes = '{}'",
        "DELETE FROM operator_audit_event",
        "TRUNCATE operator_audit_event",
    ],
)
async def test_the_operators_log_cannot_be_rewritten_or_removed(api: Api, statement: str) -> None:
    await signed_in_operator(api)
    before = await api.count("operator_audit_event")
    assert before == 2
    with pytest.raises(DBAPIError, match="append-only"):
        async with api.transaction() as db:
            await db.execute(text(statement))
    assert await api.count("operator_audit_event") == before


async def test_verify_audit_checks_the_operators_log_and_names_a_changed_event(api: Api) -> None:
    await api.owner("acme")
    staff = await signed_in_operator(api)
    assert staff.browser is not None
    (await staff.gql(SUSPEND, {"id": await tenant_id(api, "acme")})).ok("suspendTenant")
    await operator_login(api.browser(), staff.username, staff.secret, password="wrong-password")  # a standing write
    events = await api.count("operator_audit_event")
    run = verify_cli(api)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("acme: ok,")
    assert run.stdout.splitlines()[-1] == f"operators: ok, {events} events"

    [suspended] = await operator_log(api, "action = 'tenant.suspended'")
    await api.db.execute("ALTER TABLE operator_audit_event DISABLE TRIGGER USER")
    await api.db.execute(
        'UPDATE operator_audit_event SET changes = \'{"state": {"new": "ACTIVE"}}\' WHERE id = $1',
        suspended["id"],
    )
    await api.db.execute("ALTER TABLE operator_audit_event ENABLE TRIGGER USER")
    run = verify_cli(api)
    assert run.returncode == 1
    assert (
        f"operators: BROKEN at event {suspended['id']} (chain position {suspended['chain_seq']}): "
        "its content does not match its hash" in run.stdout
    )


async def test_verify_audit_finds_an_event_removed_from_the_operators_log(api: Api) -> None:
    await signed_in_operator(api)
    await signed_in_operator(api, "oscar")
    [first, gone, *_] = await operator_log(api)
    await api.db.execute("ALTER TABLE operator_audit_event DISABLE TRIGGER USER")
    await api.db.execute("DELETE FROM operator_audit_event WHERE id = $1", gone["id"])
    await api.db.execute("ALTER TABLE operator_audit_event ENABLE TRIGGER USER")
    run = verify_cli(api)
    assert run.returncode == 1 and f"(chain position {gone['chain_seq'] + 1}): chain position " in run.stdout
    assert first["chain_seq"] == 1
