"""The vendor's connected applications: registered by operators with a signing secret and
API keys shown once; they check users' sessions, confirm erasures and send export parts
with their keys. An erasure stays open until every application taking part confirmed; an
export holds every application's part, or names the one that could not be had."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from api import clock
from api.crypto import hash_token
from tests.helpers import PASSWORD, Api, login
from tests.privacy.test_export_and_erasure import completed_export
from tests.queries import REQUEST_EXPORT
from tests.tenancy.common import operator_browser
from tests.webhooks.support import (
    CONFIRM_ERASURE,
    CREATE_KEY,
    DELIVER_PART,
    Received,
    application,
    receiver,
)

SESSION_INFO = "query($t: String!) { sessionInfo(token: $t) { userId tenantId tenantSlug role mfaVerified expiresAt } }"
REQUESTS = """{ dataRequests { edges { node { id kind status subjectId overdue dueAt
  applications { application status reason } } } } }"""
DELETE = "mutation($p: String!) { deleteAccount(input: {password: $p}) { ok errors { code } } }"
REMOVE = "mutation($id: ID!) { removeUser(id: $id) { ok errors { field code } } }"


async def test_an_application_checks_a_users_session_with_its_key_and_nobody_else_can(api: Api) -> None:
    owner = await api.owner("acme")
    operator, _ = await operator_browser(api)
    async with receiver() as got:
        crm = await application(api, operator, got, "crm")
        token = owner.browser.session_cookie
        assert token
        found = (await api.browser().gql(SESSION_INFO, {"t": token}, **crm.headers())).data["sessionInfo"]
        assert found["tenantSlug"] == "acme" and found["userId"] == owner.id and found["role"] == "OWNER"
        assert found["mfaVerified"] is False and found["expiresAt"]
        assert set(found) == {"userId", "tenantId", "tenantSlug", "role", "mfaVerified", "expiresAt"}
        for bad in ("x" * 40, "", "op_" + token):
            assert (await api.browser().gql(SESSION_INFO, {"t": bad}, **crm.headers())).data == {"sessionInfo": None}
        # Users, operators and nobody cannot ask.
        assert (await owner.browser.gql(SESSION_INFO, {"t": token})).codes == ["FORBIDDEN"]
        assert (await operator.gql(SESSION_INFO, {"t": token})).codes == ["FORBIDDEN"]
        assert (await api.browser().gql(SESSION_INFO, {"t": token})).codes == ["UNAUTHENTICATED"]
        # An application key is not a user: it gets nothing of a user's surface.
        assert (await api.browser().gql("{ viewer { user { id } } }", **crm.headers())).data == {"viewer": None}
        assert (await api.browser().gql("{ users { totalCount } }", **crm.headers())).codes == ["FORBIDDEN"]
        # The key is kept only as its hash, and its use is noted.
        assert await api.count("application_api_key", "key_hash = $1", hash_token(crm.key)) == 1
        assert await api.count("application_api_key", "last_used_at IS NOT NULL") == 1
        # Revoked: it stops working at once.
        [key] = (await operator.gql("{ applications { apiKeys { id revokedAt } } }")).data["applications"][0]["apiKeys"]
        revoke = "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } errors { code } } }"
        assert (await operator.gql(revoke, {"id": key["id"]})).ok("revokeApiKey")["apiKey"]["revokedAt"]
        assert (await api.browser().gql(SESSION_INFO, {"t": token}, **crm.headers())).codes == ["UNAUTHENTICATED"]
    logged = [r["action"] for r in await api.db.fetch("SELECT action FROM operator_audit_event ORDER BY chain_seq")]
    assert {"application.created", "api_key.created", "api_key.revoked"} <= set(logged)


async def test_only_operators_manage_applications(api: Api) -> None:
    owner = await api.owner("acme")
    create = (
        'mutation { createApplication(input: {name: "x", webhookUrl: "https://example.com/"}) { errors { code } } }'
    )
    assert (await owner.browser.gql(create)).codes == ["FORBIDDEN"]
    assert (await api.browser().gql(create)).codes == ["UNAUTHENTICATED"]
    assert (await owner.browser.gql("{ applications { id } }")).codes == ["FORBIDDEN"]
    operator, _ = await operator_browser(api)
    key = await operator.gql(
        CREATE_KEY, {"input": {"applicationId": "00000000-0000-0000-0000-000000000000", "name": "k"}}
    )
    assert key.user_errors("createApiKey") == [("input.applicationId", "NOT_FOUND")]


async def test_an_erasure_stays_open_until_both_applications_confirmed(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    operator, _ = await operator_browser(api)
    async with receiver() as crm_hooks, receiver() as billing_hooks, receiver() as bystander_hooks:
        crm = await application(api, operator, crm_hooks, "crm", erasure=True)
        billing = await application(api, operator, billing_hooks, "billing", erasure=True)
        bystander = await application(api, operator, bystander_hooks, "analytics", types=["user.created"])

        (await member.browser.gql(DELETE, {"p": PASSWORD})).ok("deleteAccount")
        [erased] = await crm_hooks.wait_for_type("user.erased")
        [also] = await billing_hooks.wait_for_type("user.erased")
        request_id = erased["data"]["dataRequestId"]
        assert erased["data"] == also["data"]
        assert erased["data"]["userId"] == member.id and erased["data"]["confirmationRequired"] is True

        def state() -> object:
            return None

        async def requests() -> dict[str, object]:
            edges = (await owner.browser.gql(REQUESTS)).data["dataRequests"]["edges"]
            [node] = [e["node"] for e in edges if e["node"]["id"] == request_id]
            return node

        node = await requests()
        assert node["kind"] == "ERASURE" and node["status"] == "PROCESSING" and node["subjectId"] is None
        assert {(p["application"], p["status"]) for p in node["applications"]} == {
            ("billing", "PENDING"),
            ("crm", "PENDING"),
        }
        # Someone else's key, or no part in it: nothing to confirm.
        assert (await api.browser().gql(CONFIRM_ERASURE, {"id": request_id}, **bystander.headers())).user_errors(
            "confirmErasure"
        ) == [("input.dataRequestId", "NOT_FOUND")]
        assert (await owner.browser.gql(CONFIRM_ERASURE, {"id": request_id})).codes == ["FORBIDDEN"]

        first = (await api.browser().gql(CONFIRM_ERASURE, {"id": request_id}, **crm.headers())).ok("confirmErasure")
        assert first["status"] == "PROCESSING"
        again = (await api.browser().gql(CONFIRM_ERASURE, {"id": request_id}, **crm.headers())).ok("confirmErasure")
        assert again["status"] == "PROCESSING"  # idempotent
        node = await requests()
        assert {(p["application"], p["status"]) for p in node["applications"]} == {
            ("billing", "PENDING"),
            ("crm", "CONFIRMED"),
        }
        last = (await api.browser().gql(CONFIRM_ERASURE, {"id": request_id}, **billing.headers())).ok("confirmErasure")
        assert last["status"] == "COMPLETED"
        assert (await requests())["status"] == "COMPLETED"
        confirmations = await api.db.fetch(
            "SELECT actor_type, changes FROM audit_event WHERE action = 'data_request.part_confirmed'"
        )
        assert sorted(json.loads(c["changes"])["application"]["new"] for c in confirmations) == ["billing", "crm"]
        assert {c["actor_type"] for c in confirmations} == {"APPLICATION"}
        # The application that does not take part in erasure was not asked.
        assert bystander_hooks.of_type("user.erased") == []


async def test_an_overdue_erasure_is_flagged_to_the_administrators(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    operator, _ = await operator_browser(api)
    async with receiver() as hooks:
        await application(api, operator, hooks, "crm", erasure=True)
        remove = await owner.browser.gql(REMOVE, {"id": member.id})
        remove.ok("removeUser")
        clock.advance(timedelta(days=32))
        from api.usecases import retention

        async with api.unit() as work:
            assert (await retention.run_daily(work))["requests_overdue"] == 1
        async with api.unit() as work:
            assert (await retention.run_daily(work))["requests_overdue"] == 0  # told once
        again = api.browser()
        (await login(again)).ok("login")  # a month on, the old session has long ended
        [node] = [e["node"] for e in (await again.gql(REQUESTS)).data["dataRequests"]["edges"]]
        assert node["overdue"] is True and node["status"] == "PROCESSING"
        [notice] = [m for m in await api.queued_to("owner@acme.example") if "past the legal deadline" in m.subject]
        assert "/admin/requests" in notice.body


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": [0, 0]}])
async def test_an_export_holds_both_applications_parts_or_names_the_missing_one(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    operator, _ = await operator_browser(api)
    async with receiver() as crm_hooks, receiver() as shop_hooks, receiver() as billing_hooks:
        crm = await application(api, operator, crm_hooks, "crm", export=True)
        shop = await application(api, operator, shop_hooks, "shop", export=True)

        # First export: both applications answer with their parts.
        request_id = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
        for hooks, app, part in (
            (crm_hooks, crm, {"notes": ["called about the invoice"]}),
            (shop_hooks, shop, [{"order": 1}]),
        ):
            [asked] = await hooks.wait_for_type("export.requested")
            assert asked["data"]["dataRequestId"] == request_id and asked["data"]["subjectId"] == member.id
            sent = await api.browser().gql(DELIVER_PART, {"id": request_id, "data": part}, **app.headers())
            sent.ok("deliverExportPart")
        done = await completed_export(member.browser, request_id)
        archive = (await member.browser.http.get(f"/exports/{done['id']}")).json()
        assert archive["applications"] == {"crm": {"notes": ["called about the invoice"]}, "shop": [{"order": 1}]}

        # Second export: a third application is down; the archive names its part as missing.
        async def down(_: Received) -> int:
            return 503

        billing_hooks.respond = down
        await application(api, operator, billing_hooks, "billing", export=True)
        second = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
        for hooks, app in ((crm_hooks, crm), (shop_hooks, shop)):
            await hooks.wait_for(
                lambda r: any(e["data"]["dataRequestId"] == second for e in r.of_type("export.requested"))
            )
            (await api.browser().gql(DELIVER_PART, {"id": second, "data": {"again": True}}, **app.headers())).ok(
                "deliverExportPart"
            )
        done = await completed_export(member.browser, second, timeout=30)
        archive = (await member.browser.http.get(f"/exports/{second}")).json()
        assert archive["applications"]["crm"] == {"again": True}
        assert archive["applications"]["billing"] == {
            "missing": True,
            "reason": "the request for the part could not be delivered",
        }
        parts = (
            await member.browser.gql("{ viewer { dataRequests { id applications { application status } } } }")
        ).data
        [mine] = [r for r in parts["viewer"]["dataRequests"] if r["id"] == second]
        assert {(p["application"], p["status"]) for p in mine["applications"]} == {
            ("billing", "MISSING"),
            ("crm", "DELIVERED"),
            ("shop", "DELIVERED"),
        }


async def test_an_export_part_is_bounded_and_only_for_its_own_request(api: Api) -> None:
    owner = await api.owner("acme")
    operator, _ = await operator_browser(api)
    async with receiver() as hooks, receiver() as other_hooks:
        crm = await application(api, operator, hooks, "crm", export=True)
        other = await application(api, operator, other_hooks, "other", types=["user.created"])
        asked = (
            "mutation { requestDataExport { dataRequest { id applications { application status } } errors { code } } }"
        )
        made = (await owner.browser.gql(asked)).ok("requestDataExport")["dataRequest"]
        # The answer already names the parts it waits for.
        assert made["applications"] == [{"application": "crm", "status": "PENDING"}]
        request_id = made["id"]
        big = {"blob": "x" * (api.settings.export_part_max_bytes + 1)}
        for data, field in ((big, "input.data"), ("just text", "input.data"), (42, "input.data")):
            result = await api.browser().gql(DELIVER_PART, {"id": request_id, "data": data}, **crm.headers())
            assert result.user_errors("deliverExportPart") == [(field, "INVALID_INPUT")]
        # A float literal past the double range is Infinity, which JSON cannot hold.
        infinite = (
            "mutation($id: ID!) { deliverExportPart(input: {dataRequestId: $id, data: {big: 1e400, low: -1e400}}) "
            "{ ok errors { field code } } }"
        )
        result = await api.browser().gql(infinite, {"id": request_id}, **crm.headers())
        assert result.user_errors("deliverExportPart") == [("input.data", "INVALID_INPUT")], result.body
        stranger = await api.browser().gql(DELIVER_PART, {"id": request_id, "data": {}}, **other.headers())
        assert stranger.user_errors("deliverExportPart") == [("input.dataRequestId", "NOT_FOUND")]
        assert (await owner.browser.gql(DELIVER_PART, {"id": request_id, "data": {}})).codes == ["FORBIDDEN"]
        # Erasing the subject takes the parts already sent along.
        (
            await api.browser().gql(
                DELIVER_PART, {"id": request_id, "data": {"secret-ish": "mia's notes"}}, **crm.headers()
            )
        ).ok("deliverExportPart")
        await asyncio.sleep(0)


async def test_a_disabled_application_still_owes_its_erasure_and_is_named_missing_in_an_export(api: Api) -> None:
    owner = await api.owner("acme")
    member = await api.member(owner, "mia")
    operator, _ = await operator_browser(api)
    async with receiver() as hooks:
        both = await application(api, operator, hooks, "crm", erasure=True, export=True)
        disable = "mutation($id: ID!) { updateApplication(input: {id: $id, enabled: false}) { errors { code } } }"
        (await operator.gql(disable, {"id": both.id})).ok("updateApplication")
        request_id = (await member.browser.gql(REQUEST_EXPORT)).ok("requestDataExport")["dataRequest"]["id"]
        await completed_export(member.browser, request_id)
        archive = (await member.browser.http.get(f"/exports/{request_id}")).json()
        assert archive["applications"] == {"crm": {"missing": True, "reason": "the application is disabled"}}
        (await member.browser.gql(DELETE, {"p": PASSWORD})).ok("deleteAccount")
        [node] = [
            e["node"]
            for e in (await owner.browser.gql(REQUESTS)).data["dataRequests"]["edges"]
            if e["node"]["kind"] == "ERASURE"
        ]
        assert node["status"] == "PROCESSING" and node["applications"] == [
            {"application": "crm", "status": "PENDING", "reason": None}
        ]
        # Removing the application lets the erasure complete: nothing waits on it any more.
        remove = "mutation($id: ID!) { deleteApplication(id: $id) { ok errors { code } } }"
        (await operator.gql(remove, {"id": both.id})).ok("deleteApplication")
        [node] = [
            e["node"]
            for e in (await owner.browser.gql(REQUESTS)).data["dataRequests"]["edges"]
            if e["node"]["kind"] == "ERASURE"
        ]
        assert node["status"] == "COMPLETED" and node["applications"] == []


async def test_an_application_key_counts_only_in_the_authorization_header(api: Api) -> None:
    owner = await api.owner("acme")
    operator, _ = await operator_browser(api)
    async with receiver() as hooks:
        crm = await application(api, operator, hooks, "crm")
        browser = api.browser()
        browser.http.cookies.set(api.settings.session_cookie_name, crm.key)
        token = owner.browser.session_cookie
        assert (await browser.gql(SESSION_INFO, {"t": token}, **{"content-type": "application/json"})).codes == [
            "UNAUTHENTICATED"
        ]
