"""Who the client is: the peer's address, unless TRUSTED_PROXIES names the peer, and then
what that proxy says in X-Forwarded-For. Tested with real `serve` processes, as deployed."""

from __future__ import annotations

import httpx

from tests.helpers import ACCEPT, LOGIN, PASSWORD, Api
from tests.platform.processes import env_for, free_port, process, wait_ready


async def _failed_login_ips(api: Api, base: str, forwarded: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base) as client:
        variables = {"tenant": "acme", "identifier": "owner", "password": "wrong"}
        await client.post(
            "/graphql", json={"query": LOGIN, "variables": variables}, headers={"x-forwarded-for": forwarded}
        )
    rows = await api.db.fetch(
        "SELECT host(ip_address) AS ip FROM audit_event WHERE action = 'login.failed' ORDER BY chain_seq"
    )
    return [r["ip"] for r in rows]


async def test_without_trusted_proxies_a_forwarded_address_is_ignored(api: Api) -> None:
    await api.owner("acme")
    port = free_port()
    with process(["serve", "--port", str(port)], env_for(api.settings.database_url)):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        assert await _failed_login_ips(api, base, "203.0.113.9") == ["127.0.0.1"]


async def test_behind_a_trusted_proxy_each_client_keeps_its_own_address_and_budget(api: Api) -> None:
    await api.owner("acme")
    port = free_port()
    env = env_for(
        api.settings.database_url,
        TRUSTED_PROXIES="127.0.0.1",
        LOGIN_FAILURES_PER_IP="3",
        LOGIN_FAILURES_PER_ACCOUNT="100",
    )
    with process(["serve", "--port", str(port)], env):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        assert await _failed_login_ips(api, base, "203.0.113.9") == ["203.0.113.9"]
        # The proxy appends the address it saw: only the last (trusted hop's) entry counts.
        assert (await _failed_login_ips(api, base, "10.9.9.9, 198.51.100.7"))[-1] == "198.51.100.7"
        async with httpx.AsyncClient(base_url=base) as client:
            variables = {"tenant": "acme", "identifier": "owner", "password": "wrong"}

            async def attempt(address: str) -> list[str]:
                response = await client.post(
                    "/graphql", json={"query": LOGIN, "variables": variables}, headers={"x-forwarded-for": address}
                )
                return [e["extensions"]["code"] for e in response.json().get("errors") or []]

            for _ in range(2):
                assert await attempt("203.0.113.9") == []
            assert await attempt("203.0.113.9") == ["RATE_LIMITED"]  # this client's fourth failure
            assert await attempt("192.0.2.44") == []  # another customer behind the same proxy is not locked out
            good = await client.post(
                "/graphql",
                json={"query": LOGIN, "variables": {**variables, "password": PASSWORD}},
                headers={"x-forwarded-for": "192.0.2.45"},
            )
            assert good.json()["data"]["login"]["status"] == "SUCCESS"


async def test_a_forged_address_that_is_not_an_ip_is_not_stored(api: Api) -> None:
    token = await api.create_tenant("acme")
    port = free_port()
    with process(["serve", "--port", str(port)], env_for(api.settings.database_url, TRUSTED_PROXIES="127.0.0.1")):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        async with httpx.AsyncClient(base_url=base) as client:
            accepted = await client.post(
                "/graphql",
                json={"query": ACCEPT, "variables": {"token": token, "password": PASSWORD}},
                headers={"x-forwarded-for": "not-an-address"},
            )
            assert accepted.json()["data"]["acceptInvitation"]["status"] == "SUCCESS"
    assert await api.count("user_session", "ip_address IS NULL") == 1
