"""A long consent history costs nothing to the requests that do not show it: setConsents,
viewer.consents, the consent report and renewal requests read each person's current
decision (kept by a trigger in the deciding transaction), and viewer.consentHistory reads
one page by index. No timing here: the statements are looked at, and the plans."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from starlette.middleware import Middleware

from tests.helpers import Api, Member
from tests.sqlcount import LAST_REQUEST, SqlCountMiddleware, init_asyncpg_connection

HISTORY = 20_000
SET = """mutation($i: [ConsentDecisionInput!]!) { setConsents(input: $i) {
  consents { purpose { key } granted version } errors { code } } }"""
CONSENTS = "{ viewer { consents { purpose { key } granted version updatedAt } } }"
PAGE = "query($f: Int, $a: String) { viewer { consentHistory(first: $f, after: $a) { purposeKey granted recordedAt cursor } } }"
REPORT = "{ consentReport { purpose { key } granted withdrawn undecided } }"


@pytest.fixture
def app_instrumentation() -> dict[str, object]:
    return {"extra_middleware": [Middleware(SqlCountMiddleware)], "pool_init": init_asyncpg_connection}


async def _fill(api: Api, member: Member, count: int) -> None:
    """`count` old decisions on the newsletter, alternating, the newest a withdrawal."""
    await api.db.execute(
        """
        INSERT INTO consent_event (tenant_id, id, user_id, purpose_id, purpose_key, purpose_version, granted, source, recorded_at)
        SELECT p.tenant_id, gen_random_uuid(), $1::uuid, p.id, p.key, p.version, g % 2 = 1, 'web',
               now() - interval '1 year' + g * interval '1 second'
        FROM purpose p, generate_series(1, $2::int) g
        WHERE p.key = 'newsletter' AND p.tenant_id = (SELECT tenant_id FROM app_user WHERE id = $1::uuid)
        """,
        member.id,
        count,
    )


def _reads_history(statements: list[str]) -> list[str]:
    """Statements that read consent_event (writing to it is the point of a decision)."""
    return [s for s in statements if re.search(r"\bconsent_event\b", s) and not s.lstrip().upper().startswith("INSERT")]


async def test_deciding_and_reading_decisions_never_read_the_history(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await _fill(api, member, HISTORY)
    # The current decision is the newest of the filled ones (g = HISTORY, even: withdrawn).
    consents = (await member.browser.gql(CONSENTS)).data["viewer"]["consents"]
    assert next(c for c in consents if c["purpose"]["key"] == "newsletter")["granted"] is False
    assert _reads_history(LAST_REQUEST) == []

    decided = await member.browser.gql(SET, {"i": [{"purposeKey": "newsletter", "granted": True}]})
    newsletter = next(c for c in decided.ok("setConsents")["consents"] if c["purpose"]["key"] == "newsletter")
    assert newsletter["granted"] is True
    assert _reads_history(LAST_REQUEST) == [], LAST_REQUEST

    report = {r["purpose"]["key"]: r for r in (await owner.browser.gql(REPORT)).data["consentReport"]}
    assert report["newsletter"]["granted"] == 1 and report["newsletter"]["undecided"] == 1  # mia; the owner
    assert _reads_history(LAST_REQUEST) == []


async def test_the_history_is_read_a_page_at_a_time_by_index(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await _fill(api, member, HISTORY)
    first = (await member.browser.gql(PAGE, {"f": 50})).data["viewer"]["consentHistory"]
    second = (await member.browser.gql(PAGE, {"f": 50, "a": first[-1]["cursor"]})).data["viewer"]["consentHistory"]
    assert len(first) == len(second) == 50
    assert first[-1]["recordedAt"] > second[0]["recordedAt"]
    [statement] = _reads_history(LAST_REQUEST)
    # The plan of that statement, with the same values, reads about a page of rows.
    params = await api.db.fetchrow("SELECT tenant_id, id FROM app_user WHERE id = $1::uuid", member.id)
    assert params is not None
    plan = await api.db.fetchval(
        "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM consent_event WHERE tenant_id = $1 AND user_id = $2 "
        "AND (recorded_at, id) < (now(), gen_random_uuid()) ORDER BY recorded_at DESC, id DESC LIMIT 50",
        params["tenant_id"],
        params["id"],
    )
    assert "LIMIT" in statement.upper()
    assert _rows_read(json.loads(plan)[0]["Plan"], "consent_event") <= 51


def _rows_read(node: dict[str, object], relation: str) -> int:
    own = int(node.get("Actual Rows", 0)) if node.get("Relation Name") == relation else 0  # type: ignore[call-overload]
    return own + sum(_rows_read(child, relation) for child in node.get("Plans", []))  # type: ignore[union-attr]


async def test_concurrent_decisions_leave_the_newest_as_the_current_one(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await asyncio.gather(
        *(member.browser.gql(SET, {"i": [{"purposeKey": "newsletter", "granted": i % 2 == 0}]}) for i in range(12))
    )
    current = await api.db.fetchrow(
        "SELECT granted, event_id FROM consent_current c JOIN purpose p ON p.id = c.purpose_id "
        "WHERE c.user_id = $1::uuid AND p.key = 'newsletter'",
        member.id,
    )
    newest = await api.db.fetchrow(
        "SELECT granted, id FROM consent_event WHERE user_id = $1::uuid AND purpose_key = 'newsletter' "
        "ORDER BY recorded_at DESC, id DESC LIMIT 1",
        member.id,
    )
    assert current is not None and newest is not None
    assert (current["granted"], current["event_id"]) == (newest["granted"], newest["id"])


async def test_a_decision_and_its_audit_event_commit_or_roll_back_together(api: Api) -> None:
    """The decision is written with plain statements beside the ORM: still in the unit's
    one transaction, so a failure after it leaves nothing."""
    import uuid

    from api.privacy import consents
    from api.request_meta import Actor
    from db.enums import ConsentSource, Role

    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    tenant_id = await api.db.fetchval("SELECT tenant_id FROM app_user WHERE id = $1::uuid", member.id)
    actor = Actor(tenant_id=tenant_id, user_id=uuid.UUID(member.id), role=Role.MEMBER)
    with pytest.raises(RuntimeError):
        async with api.unit() as work:
            await consents.decide(work.as_actor(actor), [("newsletter", True)], source=ConsentSource.WEB)
            raise RuntimeError("something after the decision fails")
    assert await api.count("consent_event") == 0
    assert await api.count("consent_current") == 0
    assert await api.count("audit_event", "action = 'consent.granted'") == 0
    async with api.unit() as work:
        await consents.decide(work.as_actor(actor), [("newsletter", True)], source=ConsentSource.WEB)
    assert await api.count("consent_event") == 1
    assert await api.count("consent_current") == 1
    assert await api.count("audit_event", "action = 'consent.granted'") == 1
