"""While 20 logins per second hash passwords, how fast do `viewer` queries stay?

    .venv/bin/python bench/login_storm.py [--seconds 15] [--login-rate 20] [--readers 4]

Starts the real server (one process, embedded PostgreSQL), then measures the latency
of `{ viewer { user { id username } } }` with a session cookie from a few concurrent
readers, first alone, then while a paced stream of logins runs beside them."""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.common import PASSWORD, create_owner, percentile, running_server

VIEWER = {"query": "{ viewer { user { id username } } }"}
LOGIN = {
    "query": 'mutation($p: String!) { login(input: {tenant: "bench", identifier: "owner", password: $p}) { status } }',
    "variables": {"p": PASSWORD},
}


async def readers(base: str, token: str, count: int, stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []

    async def one() -> None:
        async with httpx.AsyncClient(base_url=base, cookies={"session": token}) as client:
            while not stop.is_set():
                started = time.perf_counter()
                response = await client.post("/graphql", json=VIEWER)
                latencies.append(time.perf_counter() - started)
                assert response.json()["data"]["viewer"], response.text

    await asyncio.gather(*(one() for _ in range(count)))
    return latencies


async def logins(base: str, rate: float, stop: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one() -> None:
            started = time.perf_counter()
            response = await client.post("/graphql", json=LOGIN)
            latencies.append(time.perf_counter() - started)
            assert response.json()["data"]["login"]["status"] == "SUCCESS", response.text

        tasks = []
        next_at = time.perf_counter()
        while not stop.is_set():
            tasks.append(asyncio.create_task(one()))
            next_at += 1 / rate
            await asyncio.sleep(max(0, next_at - time.perf_counter()))
        await asyncio.gather(*tasks)
    return latencies


async def phase(base: str, token: str, seconds: float, reader_count: int, login_rate: float | None) -> dict[str, float]:
    stop = asyncio.Event()
    reading = asyncio.create_task(readers(base, token, reader_count, stop))
    logging_in = asyncio.create_task(logins(base, login_rate, stop)) if login_rate else None
    await asyncio.sleep(seconds)
    stop.set()
    latencies = await reading
    login_latencies = await logging_in if logging_in else []
    result = {
        "viewer_requests": len(latencies),
        "viewer_rps": len(latencies) / seconds,
        "viewer_p50_ms": percentile(latencies, 0.50) * 1000,
        "viewer_p99_ms": percentile(latencies, 0.99) * 1000,
    }
    if login_latencies:
        result |= {
            "logins": len(login_latencies),
            "login_per_s": len(login_latencies) / seconds,
            "login_p50_ms": percentile(login_latencies, 0.5) * 1000,
            "login_p99_ms": percentile(login_latencies, 0.99) * 1000,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--login-rate", type=float, default=20)
    parser.add_argument("--readers", type=int, default=4)
    args = parser.parse_args()
    with running_server({"LOGIN_FAILURES_PER_IP": "1000"}) as (base, env):
        token = create_owner(base, env)

        async def run() -> None:
            await phase(base, token, 2, args.readers, None)  # warm-up
            quiet = await phase(base, token, args.seconds, args.readers, None)
            storm = await phase(base, token, args.seconds, args.readers, args.login_rate)
            print(f"{'':28}{'viewer p50':>12}{'viewer p99':>12}{'viewer req/s':>14}")
            for name, r in (("viewer alone", quiet), (f"viewer + {args.login_rate:g} logins/s", storm)):
                print(f"{name:28}{r['viewer_p50_ms']:>10.1f}ms{r['viewer_p99_ms']:>10.1f}ms{r['viewer_rps']:>14.0f}")
            print(
                f"logins: {storm['logins']} in {args.seconds:g}s ({storm['login_per_s']:.1f}/s), "
                f"p50 {storm['login_p50_ms']:.0f}ms, p99 {storm['login_p99_ms']:.0f}ms"
            )

        asyncio.run(run())


if __name__ == "__main__":
    main()
