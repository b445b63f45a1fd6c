"""Faults: a worker killed in the middle of a delivery loses nothing (another worker
delivers it once the lease has run out), and two workers never send one attempt at the
same moment."""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.helpers import ADD_USER, Api
from tests.platform.processes import env_for, process
from tests.webhooks.support import Received, endpoint, receiver


@pytest.mark.parametrize("settings_overrides", [{"run_worker_in_serve": False}])
async def test_a_worker_killed_mid_delivery_loses_nothing(api: Api, db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    owner = await api.owner("acme")
    async with receiver() as hooks:
        calls = 0

        async def first_hangs(_: Received) -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                await asyncio.sleep(30)  # the worker sending it dies meanwhile
            return 200

        hooks.respond = first_hangs
        await endpoint(owner.browser, hooks, ["user.created"])
        await owner.browser.gql(ADD_USER, {"input": {"username": "mia", "email": "mia@acme.example"}})
        env = env_for(db_url, WEBHOOK_TIMEOUT_SECONDS="2", WEBHOOK_ALLOW_LOOPBACK="true")
        with process(["worker"], env, tmp_path / "first.log") as first:
            await hooks.wait_for(lambda r: len(r.requests) == 1, timeout=30)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        status = await api.db.fetchval("SELECT status FROM webhook_delivery")
        assert status == "PENDING"  # claimed, never recorded
        with process(["worker"], env, tmp_path / "second.log"):
            await hooks.wait_for(lambda r: len(r.accepted) == 1, timeout=40)
            for _ in range(100):
                if await api.db.fetchval("SELECT status FROM webhook_delivery") == "SUCCEEDED":
                    break
                await asyncio.sleep(0.1)
        assert await api.db.fetchval("SELECT status FROM webhook_delivery") == "SUCCEEDED"
        assert len({r.id for r in hooks.requests}) == 1  # the same event, delivered at least once
        assert hooks.of_type("user.created")


@pytest.mark.parametrize("settings_overrides", [{"run_worker_in_serve": False}])
async def test_two_workers_share_the_deliveries_and_never_send_one_twice_at_once(
    api: Api,
    db_url: str,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    owner = await api.owner("acme", seats=200)
    async with receiver() as hooks:
        in_flight: dict[str, int] = {}
        overlaps = 0

        async def slow(received: Received) -> int:
            nonlocal overlaps
            in_flight[received.id] = in_flight.get(received.id, 0) + 1
            overlaps += in_flight[received.id] > 1
            await asyncio.sleep(0.05)
            in_flight[received.id] -= 1
            return 200

        hooks.respond = slow
        await endpoint(owner.browser, hooks, ["user.created"])
        rows = [{"username": f"user{i:03d}", "email": f"user{i:03d}@acme.example"} for i in range(150)]
        add = "mutation($u: [AddUserInput!]!) { addUsers(input: {users: $u}) { errors { code } } }"
        (await owner.browser.gql(add, {"u": rows})).ok("addUsers")
        env = env_for(db_url, WEBHOOK_ALLOW_LOOPBACK="true")
        with process(["worker"], env, tmp_path / "a.log"), process(["worker"], env, tmp_path / "b.log"):
            await hooks.wait_for(lambda r: len({x.id for x in r.accepted}) == 150, timeout=60)
        assert overlaps == 0
        assert len(hooks.requests) == 150  # none sent twice
        assert await api.count("webhook_delivery", "status = 'SUCCEEDED'") == 150
