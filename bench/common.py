"""Start the real server on a throwaway embedded database, for measurements."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).parents[1]
PASSWORD = "lumen-quarry-velvet-7-oboe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """A real SMTP server on loopback that keeps what it receives (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], str]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        import email

        parsed = email.message_from_bytes(envelope.content)
        body = parsed.get_payload(decode=True)
        self.messages.append((list(envelope.rcpt_tos), body.decode() if isinstance(body, bytes) else str(body)))
        return "250 OK"

    def token_for(self, address: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for to, body in reversed(self.messages):
                if address in to and "token=" in body:
                    return body.split("token=", 1)[1].split()[0]
            time.sleep(0.05)
        raise TimeoutError(f"no email with a link to {address}")

    def stop(self) -> None:
        self._controller.stop()


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL a benchmark started, and delete its data: a benchmark
    leaves nothing running behind it."""
    if (data_dir / "pg" / "postmaster.pid").exists():
        from pgserver.postgres_server import get_server

        with contextlib.suppress(Exception):
            get_server(data_dir / "pg", cleanup_mode="delete").cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, *, module: str = "api"
) -> Iterator[tuple[str, dict[str, str]]]:
    """`python -m api serve` (or `module`, e.g. bench.floor, which serves the same app with
    more routes) on a throwaway embedded database; stopped and removed afterwards."""
    data = tempfile.mkdtemp(prefix="account-api-bench-")
    env = {**os.environ, "DATA_DIR": data, "ENV": "development", "LOG_LEVEL": "WARNING", **(extra_env or {})}
    port = free_port()
    subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    command = ["-m", "api", "serve"] if module == "api" else ["-m", module]
    server = subprocess.Popen(
        [sys.executable, *command, "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
        stop_embedded(Path(data))


def create_owner(base: str, env: dict[str, str], slug: str = "bench") -> str:
    """A tenant whose owner accepted the invitation; returns the session token."""
    link = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "create-tenant",
            "--slug",
            slug,
            "--name",
            "Bench",
            "--owner-username",
            "owner",
            "--owner-email",
            f"owner@{slug}.example",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    token = link.split("token=", 1)[1]
    accept = "mutation($t: String!, $p: String!) { acceptInvitation(input: {token: $t, password: $p}) { status } }"
    response = httpx.post(f"{base}/graphql", json={"query": accept, "variables": {"t": token, "p": PASSWORD}})
    return response.cookies["session"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
