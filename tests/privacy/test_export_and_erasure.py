"""Access and portability (export), erasure, and retention."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest

from api import clock
from api.audit.chain import verify
from api.jobs import worker
from api.privacy import retention
from tests.helpers import PASSWORD, Api, Browser, Member, login, search_everywhere
from tests.queries import MY_DATA_REQUESTS, REQUEST_EXPORT, SET_CONSENTS

ADMIN_LIST = "query($s: DataRequestStatus) { dataRequests(status: $s) { edges { node { id kind status subjectId dueAt requestedAt downloadUrl } } } }"
DELETE = "mutation($p: String!) { deleteAccount(input: {password: $p}) { ok errors { field code } } }"
REMOVE = "mutation($id: ID!) { removeUser(id: $id) { ok errors { field code } } }"


async def completed_export(browser: Browser, request_id: str, timeout: float = 20) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in (await browser.gql(MY_DATA_REQUESTS)).data["viewer"]["dataRequests"]:
            if r["id"] == request_id and r["status"] == "COMPLETED":
                return r
        await asyncio.sleep(0.1)
    raise AssertionError("the export did not complete")


# Long enough that no sealed (encrypted, base64) job payload contains it by chance when
# the erasure test searches every column for it, case-insensitively.
MIA = "mia-marsh-dpo"


async def richly_used_member(api: Api, owner: Member) -> Member:
    member = await api.member(owner, MIA)
    await member.browser.gql('mutation { updateProfile(input: {displayName: "Mia Marsh"}) { errors { code } } }')
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})).ok("setConsents")
    (await member.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": False}]})).ok("setConsents")
    await login(api.browser(), "wrong", identifier=MIA)
    return member


async def test_an_export_holds_every_category_and_nothing_of_others(api: Api) -> None:
    owner = await api.owner("acme")
    member = await richly_used_member(api, owner)
    other = await api.member(owner, "otto")
    requested = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]
    assert requested["kind"] == "EXPORT" and requested["status"] == "PENDING" and requested["downloadUrl"] is None
    assert requested["dueAt"][:10] > requested["requestedAt"][:10]
    done = await completed_export(member.browser, requested["id"])
    assert done["downloadUrl"] == f"http://app.test/exports/{requested['id']}"
    response = await member.browser.http.get(f"/exports/{requested['id']}")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    archive = json.loads(response.content)
    assert archive["format"] == "account-export/1"
    assert set(archive) == {
        "format",
        "generatedAt",
        "tenant",
        "profile",
        "security",
        "sessions",
        "consents",
        "consentHistory",
        "dataRequests",
        "applications",
        "auditEvents",
    }
    assert archive["profile"]["username"] == MIA and archive["profile"]["displayName"] == "Mia Marsh"
    assert archive["security"] == {"mfaEnabled": False, "recoveryCodesRemaining": 0, "passkeys": []}
    assert len(archive["sessions"]) >= 1
    assert [c["granted"] for c in archive["consents"] if c["purposeKey"] == "newsletter"] == [False]
    assert [e["granted"] for e in archive["consentHistory"]] == [False, True]
    assert [r["id"] for r in archive["dataRequests"]] == [requested["id"]]
    actions = {e["action"] for e in archive["auditEvents"]}
    assert {
        "user.created",
        "invitation.accepted",
        "login.failed",
        "consent.granted",
        "consent.withdrawn",
        "profile.updated",
    } <= actions
    text = response.text
    assert (
        other.id not in text
        and "otto" not in text
        and owner.id not in {e["actorId"] for e in archive["auditEvents"] if e["action"] == "login.succeeded"}
    )
    assert "secret" not in text.lower() and "password_hash" not in text and "$argon2" not in text


async def test_the_download_is_for_its_subject_only_and_only_for_a_while(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    request_id = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    await completed_export(member.browser, request_id)
    assert (await owner.browser.http.get(f"/exports/{request_id}")).status_code == 404
    assert (await api.browser().http.get(f"/exports/{request_id}")).status_code == 401
    admin_view = (await owner.browser.gql(ADMIN_LIST)).data["dataRequests"]["edges"][0]["node"]
    assert admin_view["downloadUrl"] is None and admin_view["subjectId"] == member.id
    clock.advance(timedelta(hours=24, seconds=1))
    await login(member.browser, identifier="mia")  # a fresh session after a day
    assert (await member.browser.http.get(f"/exports/{request_id}")).status_code == 404
    assert (await member.browser.gql(MY_DATA_REQUESTS)).data["viewer"]["dataRequests"][0]["downloadUrl"] is None


async def test_administrators_list_requests_and_file_them_for_users(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    create = "mutation($id: ID!, $k: DataRequestKind!) { createDataRequest(userId: $id, kind: $k) { dataRequest { id kind status subjectId } errors { field code } } }"
    filed = (await owner.browser.gql(create, {"id": member.id, "k": "EXPORT"})).ok("createDataRequest")["dataRequest"]
    assert filed["subjectId"] == member.id
    done = await completed_export(member.browser, filed["id"])
    assert done["downloadUrl"]  # the subject downloads it, not the administrator
    listed = (await owner.browser.gql(ADMIN_LIST, {"s": "COMPLETED"})).data["dataRequests"]["edges"]
    assert [e["node"]["id"] for e in listed] == [filed["id"]]
    assert (await member.browser.gql(ADMIN_LIST)).codes == ["FORBIDDEN"]
    assert (await owner.browser.gql(create, {"id": "00000000-0000-0000-0000-000000000000", "k": "EXPORT"})).user_errors(
        "createDataRequest"
    ) == [("userId", "NOT_FOUND")]


@pytest.mark.parametrize("settings_overrides", [{"exports_per_day": 1}])
async def test_exports_filed_by_others_never_use_up_the_persons_own(api: Api) -> None:
    """Neither an administrator of another organisation (with this person's id) nor one
    of their own can spend the budget of exports a person has for their own request."""
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    create = "mutation($id: ID!) { createDataRequest(userId: $id, kind: EXPORT) { dataRequest { id } errors { field code } } }"
    stranger = await api.owner("globex")
    for _ in range(3):
        outside = await stranger.browser.gql(create, {"id": member.id})
        assert outside.user_errors("createDataRequest") == [("userId", "NOT_FOUND")], outside.body
    filed = (await owner.browser.gql(create, {"id": member.id})).ok("createDataRequest")["dataRequest"]
    await completed_export(member.browser, filed["id"])
    assert (await owner.browser.gql(create, {"id": member.id})).codes == ["RATE_LIMITED"]
    (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")


async def test_deleting_an_account_erases_it_everywhere_and_the_chain_verifies(api: Api) -> None:
    owner = await api.owner("acme", seats=3)
    member = await richly_used_member(api, owner)
    request_id = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    await completed_export(member.browser, request_id)
    wrong = await member.browser.gql(DELETE, {"p": "not it"})
    assert wrong.user_errors("deleteAccount") == [("input.password", "INVALID_CREDENTIALS")]
    (await member.browser.gql(DELETE, {"p": PASSWORD})).ok("deleteAccount")
    assert (await member.browser.gql("{ viewer { user { id } } }")).data == {"viewer": None}
    assert await search_everywhere(api, [f"{MIA}@acme.example", "Mia Marsh", MIA]) == []
    assert await api.count("app_user", "id = $1::uuid", member.id) == 0
    assert (
        await api.count("audit_event", "actor_id = $1::uuid OR target_id = $1::uuid", member.id) > 0
    )  # bare ids remain
    assert await api.count("audit_event", "actor_id = $1::uuid AND ip_address IS NOT NULL", member.id) == 0
    proof = await api.db.fetchrow("SELECT kind, status, subject_id FROM data_request WHERE kind = 'ERASURE'")
    assert tuple(proof) == ("ERASURE", "COMPLETED", None)
    assert await api.count("data_request", "id = $1::uuid AND subject_id IS NULL", request_id) == 1
    assert await api.count("export_chunk") == 0
    [report] = await verify(api.db, "acme")
    assert report.ok, report
    # The seat is free again.
    seats = (await owner.browser.gql("{ viewer { tenant { seatsUsed seatLimit } } }")).data["viewer"]["tenant"]
    assert seats == {"seatsUsed": 1, "seatLimit": 3}


async def test_an_administrator_removes_a_user_within_the_rules(api: Api) -> None:
    owner = await api.owner("acme")
    admin = await api.member(owner, "ada", role="ADMIN")
    member = await api.member(owner, "mia")
    assert (await member.browser.gql(REMOVE, {"id": admin.id})).codes == ["FORBIDDEN"]
    assert (await admin.browser.gql(REMOVE, {"id": owner.id})).codes == ["FORBIDDEN"]
    assert (await owner.browser.gql(REMOVE, {"id": owner.id})).user_errors("removeUser") == [(None, "LAST_OWNER")]
    assert (await owner.browser.gql(DELETE, {"p": PASSWORD})).user_errors("deleteAccount") == [(None, "LAST_OWNER")]
    globex = await api.owner("globex")
    assert (await globex.browser.gql(REMOVE, {"id": member.id})).user_errors("removeUser") == [("id", "NOT_FOUND")]
    (await admin.browser.gql(REMOVE, {"id": member.id})).ok("removeUser")
    assert (await member.browser.gql("{ viewer { user { id } } }")).data == {"viewer": None}
    assert await api.count("app_user", "id = $1::uuid", member.id) == 0


async def test_retention_erases_exactly_the_idle_accounts(api: Api) -> None:
    owner = await api.owner("acme")
    (
        await owner.browser.gql(
            "mutation { updateTenantSettings(input: {inactiveAccountRetentionDays: 90}) { errors { code } } }"
        )
    ).ok("updateTenantSettings")
    idle = await api.member(owner, "idle")
    recent = await api.member(owner, "recent")
    never = (
        await owner.browser.gql(
            'mutation { addUser(input: {username: "never", email: "never@acme.example"}) { user { id } } }'
        )
    ).data["addUser"]["user"]["id"]
    await api.db.execute(
        "UPDATE app_user SET last_login_at = now() - interval '91 days', created_at = now() - interval '200 days' WHERE id = $1::uuid",
        idle.id,
    )
    await api.db.execute(
        "UPDATE app_user SET last_login_at = now() - interval '89 days', created_at = now() - interval '200 days' WHERE id = $1::uuid",
        recent.id,
    )
    await api.db.execute("UPDATE app_user SET created_at = now() - interval '95 days' WHERE id = $1::uuid", never)
    await api.db.execute(
        "UPDATE app_user SET last_login_at = now() - interval '120 days' WHERE id = $1::uuid", owner.id
    )  # the last owner stays
    async with api.unit() as work:
        first = await retention.run(work)
    # First a warning to everyone the policy will reach (not the last owner, who stays).
    assert (first["erased_accounts"], first["warned_accounts"]) == (0, 3)
    for address in ("idle@acme.example", "recent@acme.example", "never@acme.example"):
        received = await api.mailbox.wait_for(address, count=2)  # the invitation, then the warning
        assert "will be deleted" in received[-1].subject and "/login" in received[-1].body
    assert not api.mailbox.to("owner@acme.example")[1:]
    (await login(api.browser(), identifier="recent")).ok("login")  # signing in keeps the account
    clock.advance(timedelta(days=14, minutes=1))
    async with api.unit() as work:
        totals = await retention.run(work)
    assert totals["erased_accounts"] == 2
    remaining = {r["username"] for r in await api.db.fetch("SELECT username FROM app_user")}
    assert remaining == {"owner", "recent"}
    event = await api.db.fetchrow(
        "SELECT actor_type, changes FROM audit_event WHERE action = 'retention.completed' ORDER BY chain_seq DESC LIMIT 1"
    )
    assert event["actor_type"] == "SYSTEM" and json.loads(event["changes"])["erased_accounts"] == {"new": 2}
    erasures = await api.db.fetch(
        "SELECT changes FROM audit_event WHERE action = 'user.erased' AND actor_type = 'SYSTEM'"
    )
    assert len(erasures) == 2
    for erasure in erasures:  # each names the policy that erased it
        changes = json.loads(erasure["changes"])
        assert changes["reason"] == {"new": "inactive_retention"}
        assert (
            changes["policy"]["new"]["inactive_account_retention_days"] == 90
            and changes["policy"]["new"]["warning_days"] == 14
        )
    [report] = await verify(api.db, "acme")
    assert report.ok


async def test_retention_drops_expired_export_archives(api: Api) -> None:
    owner = await api.owner("acme")
    request_id = (await owner.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    await completed_export(owner.browser, request_id)
    assert await api.count("export_chunk") > 0
    clock.advance(timedelta(hours=25))
    async with api.unit() as work:
        assert (await retention.run(work))["expired_exports"] == 1
    assert await api.count("export_chunk") == 0
    assert worker.QUEUES


async def test_a_member_sees_their_own_network_data_and_not_the_administrators(api: Api) -> None:
    """Events an administrator (or an anonymous caller) made about a member show in the
    member's export and activity without the administrator's IP address and browser."""
    from tests.helpers import enroll

    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    await enroll(member.browser)
    admin_agent = {"user-agent": "AdminBrowser/9.9 (secret build)"}
    (
        await owner.browser.gql("mutation($id: ID!) { resetUserMfa(id: $id) { ok } }", {"id": member.id}, **admin_agent)
    ).payload("resetUserMfa")
    await owner.browser.gql(
        'mutation($id: ID!) { updateUser(input: {id: $id, displayName: "Mia"}) { errors { code } } }',
        {"id": member.id},
        **admin_agent,
    )
    await login(api.browser(), "wrong", identifier="mia")
    relogged = api.browser()
    (await login(relogged, identifier="mia")).ok("login")
    activity = (
        await relogged.gql("{ viewer { activity(first: 50) { edges { node { action actorId ipAddress } } } } }")
    ).data
    nodes = [e["node"] for e in activity["viewer"]["activity"]["edges"]]
    assert any(n["actorId"] == owner.id for n in nodes) and any(n["actorId"] is None for n in nodes)
    assert all(n["ipAddress"] is None for n in nodes if n["actorId"] != member.id)
    assert any(n["ipAddress"] for n in nodes if n["actorId"] == member.id)  # their own stay
    request_id = (await relogged.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
    await completed_export(relogged, request_id)
    archive = json.loads((await relogged.http.get(f"/exports/{request_id}")).content)
    others = [e for e in archive["auditEvents"] if e["actorId"] != member.id]
    assert others and all(e["ipAddress"] is None and e["userAgent"] is None for e in others)
    assert "AdminBrowser" not in json.dumps(archive)
    own = [e for e in archive["auditEvents"] if e["actorId"] == member.id and e["actorType"] == "USER"]
    assert any(e["userAgent"] == "pytest-browser/1.0" for e in own)
