"""A tenant's own endpoints: only its own events; URLs that could reach inside the
vendor's network refused (and checked again at every connection); the audit stream a
customer verifies with the verifier the README gives; retry and replay by hand."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpcore
import pytest

from api import events
from api.webhooks.targets import GuardedBackend
from tests.helpers import ADD_USER, Api
from tests.queries import SET_CONSENTS
from tests.webhooks.support import CREATE_ENDPOINT, ENDPOINT_DELIVERIES, Received, endpoint, receiver

VERIFIER = Path(__file__).parents[2] / "docs" / "verify_audit_stream.py"


async def test_an_endpoint_only_ever_receives_its_own_tenants_events(api: Api) -> None:
    acme = await api.owner("acme")
    globex = await api.owner("globex")
    async with receiver() as acme_hooks, receiver() as globex_hooks:
        await endpoint(acme.browser, acme_hooks, list(events.TENANT_TYPES))
        await endpoint(globex.browser, globex_hooks, list(events.TENANT_TYPES))
        await acme.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        await acme.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})
        await globex.browser.gql(ADD_USER, {"input": {"username": "gus", "email": "gus@globex.example"}})
        await acme_hooks.wait_for_type("consent.granted")
        await globex_hooks.wait_for_type("user.created")
        ids = {
            slug: await api.db.fetchval("SELECT id::text FROM tenant WHERE slug = $1", slug)
            for slug in ("acme", "globex")
        }
        for hooks, slug in ((acme_hooks, "acme"), (globex_hooks, "globex")):
            assert {e["data"]["tenantId"] for e in hooks.verified()} == {ids[slug]}
        # And an administrator sees, and acts on, only their own endpoints.
        [theirs] = (await globex.browser.gql("{ webhookEndpoints { id } }")).data["webhookEndpoints"]
        delete = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ok errors { field code } } }"
        assert (await acme.browser.gql(delete, {"id": theirs["id"]})).user_errors("deleteWebhookEndpoint") == [
            ("input.id", "NOT_FOUND")
        ]


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_loopback": False}])
async def test_urls_that_could_reach_inside_are_refused(api: Api) -> None:
    owner = await api.owner("acme")
    refused = [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://user:pw@example.com/hook",
        "https://example.com/hook#x",
        "ftp://example.com/hook",
        "https:///nohost",
        "https://" + "a" * 2100 + ".example/",
        "https://exa mple.com/",
        "https://no-such-host.invalid/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 to the metadata address
        "https://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "https://[::a9fe:a9fe]/hook",  # IPv4-compatible
        "https://[fec0::1]/hook",  # site-local
        "https://bücher.example/hook",  # must be given in punycode
    ]
    for url in refused:
        result = await owner.browser.gql(CREATE_ENDPOINT, {"input": {"url": url, "eventTypes": ["user.created"]}})
        assert result.user_errors("createWebhookEndpoint") == [("input.url", "INVALID_INPUT")], url
    wrong_type = await owner.browser.gql(
        CREATE_ENDPOINT, {"input": {"url": "https://example.com/", "eventTypes": ["export.requested"]}}
    )
    assert wrong_type.user_errors("createWebhookEndpoint") == [("input.eventTypes", "INVALID_INPUT")]
    assert await api.count("webhook_endpoint") == 0


async def test_every_connection_checks_where_the_name_leads_now() -> None:
    """The check at registration is not enough (the name's answer can change): the
    connection itself refuses a non-public address, whatever the URL said."""
    guarded = httpcore.AsyncConnectionPool(network_backend=GuardedBackend(allow_loopback=False))
    for url in ("http://localhost:9/", "http://127.0.0.1:9/", "http://[::1]:9/"):
        with pytest.raises(httpcore.ConnectError, match="non-public"):
            await guarded.request("POST", url, content=b"{}")
    await guarded.aclose()


async def test_a_customer_verifies_the_streamed_audit_chain(api: Api, tmp_path: Path) -> None:
    owner = await api.owner("acme")
    async with receiver() as hooks:
        await endpoint(owner.browser, hooks, ["audit.event"])
        for name in ("mia", "max", "ida"):
            await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})
        await owner.browser.gql(SET_CONSENTS, {"i": [{"purposeKey": "newsletter", "granted": True}]})
        expected = await api.count(
            "audit_event",
            "chain_seq > (SELECT min(chain_seq) FROM audit_event WHERE action = 'webhook_endpoint.created')",
        )
        await hooks.wait_for(lambda r: len(r.of_type("audit.event")) >= expected + 1)
        bodies = [r.body.decode() for r in hooks.accepted]
        streamed = tmp_path / "events.jsonl"
        streamed.write_text("\n".join(bodies + bodies[:2]) + "\n")  # repeats, as at-least-once brings
        run = subprocess.run([sys.executable, str(VERIFIER), str(streamed)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.startswith("ok")
        # Change one event's content: the verifier names it.
        tampered = [json.loads(b) for b in bodies]
        tampered[2]["data"]["changesText"] = '{"role": {"new": "OWNER"}}'
        streamed.write_text("\n".join(json.dumps(t) for t in tampered) + "\n")
        run = subprocess.run([sys.executable, str(VERIFIER), str(streamed)], capture_output=True, text=True)
        assert run.returncode == 1 and "does not match its hash" in run.stdout
        # Two different events at one position (a fork): refused, though each is consistent.
        forked = json.loads(bodies[3])
        forked["data"]["requestId"] = "forged"
        streamed.write_text("\n".join([*bodies, json.dumps(forked)]) + "\n")
        run = subprocess.run([sys.executable, str(VERIFIER), str(streamed)], capture_output=True, text=True)
        assert run.returncode == 1 and "two different events" in run.stdout
        # Leave out one between others in the chain: the gap is named.
        position = {b: int(json.loads(b)["data"]["chainSeq"]) for b in bodies}
        in_order = sorted(set(position.values()))
        left_out = in_order[len(in_order) // 2]
        gap = [b for b in bodies if position[b] != left_out]
        streamed.write_text("\n".join(gap) + "\n")
        run = subprocess.run([sys.executable, str(VERIFIER), str(streamed)], capture_output=True, text=True)
        assert run.returncode == 1 and f"positions {left_out} to {left_out} are missing" in run.stdout, run.stdout
    # The stream carries no who-from details (erasure blanks them; the hash leaves them out).
    assert all("ipAddress" not in b and "userAgent" not in b for b in bodies)


@pytest.mark.parametrize("settings_overrides", [{"webhook_retry_schedule": []}])
async def test_a_failed_delivery_is_retried_by_hand_and_missed_events_replayed(api: Api) -> None:
    owner = await api.owner("acme")
    async with receiver() as hooks:
        up = False

        async def flaky(_: Received) -> int:
            return 200 if up else 500

        hooks.respond = flaky
        endpoint_id = await endpoint(owner.browser, hooks, ["user.created"])
        started = datetime.now(UTC)
        for name in ("mia", "max"):
            await owner.browser.gql(ADD_USER, {"input": {"username": name, "email": f"{name}@acme.example"}})
        for _ in range(200):
            edges = (await owner.browser.gql(ENDPOINT_DELIVERIES, {"status": "FAILED"})).data["webhookEndpoints"][0][
                "deliveries"
            ]["edges"]
            if len(edges) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(edges) == 2
        up = True
        retry = "mutation($id: ID!) { retryWebhookDelivery(id: $id) { deliveryId status errors { field code } } }"
        retried = (await owner.browser.gql(retry, {"id": edges[0]["node"]["id"]})).ok("retryWebhookDelivery")
        assert retried["status"] == "PENDING"
        await hooks.wait_for(lambda r: len(r.accepted) == 1)
        replay = "mutation($i: ReplayInput!) { replayWebhookEndpoint(input: $i) { queued errors { field code } } }"
        queued = await owner.browser.gql(replay, {"i": {"id": endpoint_id, "since": started.isoformat()}})
        assert queued.ok("replayWebhookEndpoint")["queued"] == 1  # the one not yet received
        await hooks.wait_for(lambda r: len({x.id for x in r.accepted}) == 2)
        assert sorted(e["data"]["username"] for e in hooks.of_type("user.created")) == ["max", "mia"]
        globex = await api.owner("globex")
        assert (await globex.browser.gql(retry, {"id": edges[0]["node"]["id"]})).user_errors(
            "retryWebhookDelivery"
        ) == [("input.id", "NOT_FOUND")]
        old = await owner.browser.gql(replay, {"i": {"id": endpoint_id, "since": "2020-01-01T00:00:00Z"}})
        assert old.user_errors("replayWebhookEndpoint") == [("input.since", "INVALID_INPUT")]


async def test_deleting_an_endpoint_while_its_deliveries_are_retried_ends_one_way_or_the_other(api: Api) -> None:
    """A retry's audit event is streamed to the endpoint being deleted (a new delivery
    referencing it): the two lock endpoint and deliveries in one order, never deadlock."""
    owner = await api.owner("acme", seats=10)
    for round_ in range(3):
        made = await owner.browser.gql(
            CREATE_ENDPOINT, {"input": {"url": f"https://127.0.0.1:9/down{round_}", "eventTypes": ["audit.event"]}}
        )
        endpoint_id = made.ok("createWebhookEndpoint")["endpoint"]["id"]
        for i in range(3):
            address = f"r{round_}u{i}@acme.example"
            await owner.browser.gql(ADD_USER, {"input": {"username": f"r{round_}u{i}", "email": address}})
        ids = [
            str(row["id"])
            for row in await api.db.fetch("SELECT id FROM webhook_delivery WHERE endpoint_id = $1::uuid", endpoint_id)
        ]
        assert ids
        retry = "mutation($id: ID!) { retryWebhookDelivery(id: $id) { errors { field code } } }"
        delete = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { ok errors { field code } } }"
        results = await asyncio.gather(
            *(owner.browser.gql(retry, {"id": i}) for i in ids * 2),
            owner.browser.gql(delete, {"id": endpoint_id}),
        )
        assert all(not r.errors for r in results), [r.body for r in results if r.errors]
        results[-1].ok("deleteWebhookEndpoint")
        assert await api.count("webhook_delivery", "endpoint_id = $1::uuid", endpoint_id) == 0


async def test_a_replay_never_reaches_back_before_the_endpoint_existed(api: Api) -> None:
    """Events another receiver kept are not a new endpoint's to backfill (they hold the
    people's addresses as they were then)."""
    owner = await api.owner("acme")
    replay = "mutation($i: ReplayInput!) { replayWebhookEndpoint(input: $i) { queued errors { field code } } }"
    first = await owner.browser.gql(
        CREATE_ENDPOINT, {"input": {"url": "https://127.0.0.1:9/first", "eventTypes": ["user.created"]}}
    )
    first_id = first.ok("createWebhookEndpoint")["endpoint"]["id"]
    switch = "mutation($id: ID!, $on: Boolean!) { updateWebhookEndpoint(input: {id: $id, enabled: $on}) { errors { code } } }"
    (await owner.browser.gql(switch, {"id": first_id, "on": False})).ok("updateWebhookEndpoint")
    started = datetime.now(UTC)
    await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
    (await owner.browser.gql(switch, {"id": first_id, "on": True})).ok("updateWebhookEndpoint")
    later = await owner.browser.gql(
        CREATE_ENDPOINT, {"input": {"url": "https://127.0.0.1:9/later", "eventTypes": ["user.created"]}}
    )
    later_id = later.ok("createWebhookEndpoint")["endpoint"]["id"]
    since = {"since": started.isoformat()}
    assert (await owner.browser.gql(replay, {"i": {"id": later_id, **since}})).ok("replayWebhookEndpoint")[
        "queued"
    ] == 0
    assert (await owner.browser.gql(replay, {"i": {"id": first_id, **since}})).ok("replayWebhookEndpoint")[
        "queued"
    ] == 1
