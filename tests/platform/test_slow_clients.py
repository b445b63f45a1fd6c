"""Slow or idle clients do not hold connections: headers and body have deadlines.
Tested against a real `serve` process (the header deadline lives in its HTTP protocol)."""

from __future__ import annotations

import asyncio
import socket
import time

from tests.helpers import Api
from tests.platform.processes import env_for, free_port, process, wait_ready


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None when it kept the connection open."""
    sock.settimeout(0.2)
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            return received
        received += chunk
    return None


async def test_idle_slow_and_dribbling_clients_are_cut_off(api: Api) -> None:
    port = free_port()
    env = env_for(api.settings.database_url, HEADER_TIMEOUT_SECONDS="1", BODY_TIMEOUT_SECONDS="1")
    with process(["serve", "--port", str(port)], env):
        await wait_ready(f"http://127.0.0.1:{port}")

        def connect() -> socket.socket:
            return socket.create_connection(("127.0.0.1", port))

        def idle() -> bytes | None:
            with connect() as sock:  # connects and sends nothing
                return _closed_within(sock, 10)

        def slow_headers() -> bytes | None:
            with connect() as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                for _ in range(8):  # one header line every half second, never the blank line
                    time.sleep(0.5)
                    try:
                        sock.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        return b""
                return _closed_within(sock, 10)

        def slow_body() -> bytes | None:
            with connect() as sock:
                sock.sendall(
                    b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
                )
                return _closed_within(sock, 10)

        assert await asyncio.to_thread(idle) == b""
        assert await asyncio.to_thread(slow_headers) is not None
        answer = await asyncio.to_thread(slow_body)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408")
