"""Starting real `python -m api` processes for tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 40,
        "APP_URL": "http://app.test",
        "RUN_WORKER_IN_SERVE": "false",
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": "test-metrics-token",
        **extra,
    }


async def wait_ready(base: str, timeout: float = 30) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(int(timeout * 10)):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{base} did not become ready")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", *args],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if log:
            out.close()  # type: ignore[union-attr]
