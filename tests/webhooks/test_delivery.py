"""Events reach receivers signed per Standard Webhooks, at least once, in the order of
nothing but commit: a rolled-back change sends nothing; failures are retried on the
schedule, every attempt recorded; a receiver down past the schedule ends FAILED and
visible; one that stays down for days is disabled and its owner told."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
from standardwebhooks import Webhook

from api import events
from tests.helpers import ADD_USER, Api
from tests.webhooks.support import ENDPOINT_DELIVERIES, Received, deliveries_in, endpoint, receiver

ALL_TENANT_TYPES = list(events.TENANT_TYPES)


async def test_a_change_reaches_the_endpoint_signed_with_what_it_is_about(api: Api) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:
        await endpoint(owner.browser, got, ["user.created", "user.updated", "user.disabled"])
        added = await owner.browser.gql(
            ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example", "displayName": "Mia"}}
        )
        user_id = added.ok("addUser")["user"]["id"]
        [created] = await got.wait_for_type("user.created")
        assert created["data"] == {
            "tenantId": await api.db.fetchval("SELECT id::text FROM tenant WHERE slug = 'acme'"),
            "userId": user_id,
            "username": "mia",
            "email": "mia@acme.example",
            "displayName": "Mia",
            "role": "MEMBER",
            "status": "INVITED",
        }
        request = got.accepted[0]
        assert request.headers["content-type"] == "application/json"
        # The library's own check: a changed body or another secret fails.
        with pytest.raises(Exception):  # noqa: B017
            Webhook(got.secret or "").verify(request.body + b" ", request.headers)
        other_secret = "whsec_" + "A" * 43 + "="
        with pytest.raises(Exception):  # noqa: B017
            Webhook(other_secret).verify(request.body, request.headers)

        disable = "mutation($id: ID!) { updateUser(input: {id: $id, status: DISABLED}) { errors { code } } }"
        (await owner.browser.gql(disable, {"id": user_id})).ok("updateUser")
        [updated] = await got.wait_for_type("user.updated")
        assert updated["data"]["changed"] == ["status"] and updated["data"]["status"] == "DISABLED"
        await got.wait_for_type("user.disabled")
    # Nothing secret in any body.
    for r in got.accepted:
        assert b"password" not in r.body and b"token" not in r.body


async def test_a_rolled_back_change_sends_nothing(api: Api) -> None:
    owner = await api.owner("acme", seats=1)
    async with receiver() as got:
        await endpoint(owner.browser, got, ALL_TENANT_TYPES)
        full = await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        assert full.user_errors("addUser") == [(None, "SEAT_LIMIT_REACHED")]
        # An event emitted in a unit of work that then fails is gone with it.
        tenant_id = await api.db.fetchval("SELECT id FROM tenant WHERE slug = 'acme'")
        with pytest.raises(RuntimeError):
            async with api.unit() as work:
                await events.emit(work.db, events.USER_CREATED, tenant_id, {"userId": uuid.uuid4()})
                raise RuntimeError("the change fails after its event")
        assert await api.count("webhook_event", "type <> 'audit.event'") == 0
        # The audit events of what did commit still stream; nothing else came.
        assert {r.event["type"] for r in got.accepted} <= {"audit.event"}


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": [0, 0, 0, 0, 0]}])
async def test_a_receiver_failing_three_times_then_answering_gets_the_event_accepted_once(api: Api) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:
        answers = iter([500, 503, 502])

        async def respond(_: Received) -> int:
            return next(answers, 200)

        got.respond = respond
        await endpoint(owner.browser, got, ["user.created"])
        await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        await got.wait_for(lambda r: len(r.accepted) == 1)
        await deliveries_in(owner.browser, "SUCCEEDED")  # recorded once the sender has read the answer
        [delivery] = (await owner.browser.gql(ENDPOINT_DELIVERIES)).data["webhookEndpoints"][0]["deliveries"]["edges"]
        node = delivery["node"]
        assert node["status"] == "SUCCEEDED" and node["attemptCount"] == 4
        assert [a["statusCode"] for a in node["attempts"]] == [500, 503, 502, 200]
        assert all(a["latencyMs"] >= 0 for a in node["attempts"])
        # Every try carried the same webhook-id, so a receiver can drop repeats.
        assert len({r.id for r in got.requests}) == 1 and len(got.requests) == 4
        assert got.of_type("user.created")


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": [0, 0]}])
async def test_a_receiver_down_past_the_schedule_ends_failed_and_visible(api: Api) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:

        async def down(_: Received) -> int:
            return 503

        got.respond = down
        await endpoint(owner.browser, got, ["user.created"])
        await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        await got.wait_for(lambda r: len(r.requests) == 3)
        [node] = await deliveries_in(owner.browser, "FAILED")
        assert node["attemptCount"] == 3 and node["lastStatusCode"] == 503 and node["lastError"] == "HTTP 503"
        await asyncio.sleep(0.5)
        assert len(got.requests) == 3  # nothing more after the schedule


@pytest.mark.parametrize(
    "settings_overrides", [{"webhook_retry_schedule": [0, 0, 0], "webhook_disable_after_hours": 0}]
)
async def test_a_receiver_failing_for_the_whole_period_is_disabled_and_its_owner_told(api: Api) -> None:
    owner = await api.owner("acme")
    async with receiver() as got:

        async def down(_: Received) -> int:
            return 500

        got.respond = down
        await endpoint(owner.browser, got, ["user.created"])
        await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        await got.wait_for(lambda r: len(r.requests) >= 2)
        for _ in range(200):
            [state] = (await owner.browser.gql(ENDPOINT_DELIVERIES)).data["webhookEndpoints"]
            if not state["enabled"]:
                break
            await asyncio.sleep(0.05)
        assert state["enabled"] is False and state["disabledReason"].startswith("failing since")
        [notice] = [m for m in await api.queued_to("owner@acme.example") if "paused" in m.subject]
        assert "disabled" in notice.body
        assert await api.count("audit_event", "action = 'webhook_endpoint.disabled'") == 1


@pytest.mark.parametrize("settings_overrides", [{"webhook_timeout_seconds": 10}])
async def test_a_tenant_whose_receivers_hang_does_not_hold_up_another_tenants_events(api: Api) -> None:
    slow_tenant = await api.owner("slow")
    quick_tenant = await api.owner("quick")
    released = asyncio.Event()  # at the end, so that the test does not wait out the hanging

    async def hang(_: Received) -> int:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), 20)  # past the sender's 10 s timeout
        return 200

    async with receiver() as hanging, receiver() as quick:
        hanging.respond = hang
        try:
            for _ in range(5):
                await endpoint(slow_tenant.browser, hanging, ["user.created", "user.updated"])
            profile = "mutation($n: String!) { updateProfile(input: {displayName: $n}) { errors { code } } }"
            for i in range(8):
                await slow_tenant.browser.gql(profile, {"n": f"Name {i}"})
            await hanging.wait_for(lambda r: len(r.requests) >= 8)  # its deliveries are hanging now
            await endpoint(quick_tenant.browser, quick, ["user.created"])
            started = asyncio.get_running_loop().time()
            await quick_tenant.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@quick.example"}})
            await quick.wait_for_type("user.created", timeout=15)
            assert asyncio.get_running_loop().time() - started < 5  # not behind the other tenant's timeouts
        finally:
            released.set()
