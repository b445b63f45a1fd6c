"""Start the real server on a throwaway embedded database, for measurements."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
PASSWORD = "lumen-quarry-velvet-7-oboe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    data = tempfile.mkdtemp(prefix="account-api-bench-")
    env = {**os.environ, "DATA_DIR": data, "ENV": "development", "LOG_LEVEL": "WARNING", **(extra_env or {})}
    port = free_port()
    subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=30)


def create_owner(base: str, env: dict[str, str], slug: str = "bench") -> str:
    """A tenant whose owner accepted the invitation; returns the session token."""
    link = subprocess.run(
        [sys.executable, "-m", "api", "create-tenant", "--slug", slug, "--name", "Bench", "--owner-username", "owner",
         "--owner-email", f"owner@{slug}.example"], env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.strip()
    token = link.split("token=", 1)[1]
    accept = "mutation($t: String!, $p: String!) { acceptInvitation(input: {token: $t, password: $p}) { status } }"
    response = httpx.post(f"{base}/graphql", json={"query": accept, "variables": {"t": token, "p": PASSWORD}})
    return response.cookies["session"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
