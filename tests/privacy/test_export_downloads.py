"""Export downloads hold no database connection while a client reads, are limited per
person, and end when the client stops reading."""

from __future__ import annotations

import asyncio
import socket
import uuid

import pytest

from tests.helpers import VIEWER, Api, Member

CHUNK = 256 * 1024
CHUNKS = 64  # 16 MiB: more than the sockets can buffer, so a reader that stops stalls the sender


# A small pool: downloads that held a connection each would exhaust it at once. A stalled
# download stays open far longer than any of these tests takes (but where the timeout is tested).
SETTINGS: dict[str, object] = {
    "db_pool_size": 4,
    "db_max_overflow": 0,
    "export_send_timeout_seconds": 30,
    "export_downloads_per_user": 2,
}


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return SETTINGS


async def _finished_export(api: Api, member: Member) -> str:
    """A completed export of CHUNKS chunks, as the builder leaves it."""
    row = await api.db.fetchrow("SELECT tenant_id, id FROM app_user WHERE id = $1::uuid", member.id)
    request_id = uuid.uuid4()
    await api.db.execute(
        "INSERT INTO data_request (tenant_id, id, kind, status, subject_id, requested_by, requested_at, due_at, completed_at, download_expires_at) "
        "VALUES ($1, $2, 'EXPORT', 'COMPLETED', $3, $3, now(), now() + interval '1 month', now(), now() + interval '1 day')",
        row["tenant_id"],
        request_id,
        row["id"],
    )
    await api.db.execute(
        "INSERT INTO export_chunk (tenant_id, request_id, seq, data) "
        "SELECT $1, $2, s, decode(repeat(lpad(to_hex(s % 256), 2, '0'), $3), 'hex') FROM generate_series(0, $4 - 1) s",
        row["tenant_id"],
        request_id,
        CHUNK,
        CHUNKS,
    )
    return str(request_id)


def _stalled_reader(api: Api, member: Member, request_id: str) -> socket.socket:
    """A client that asks for the archive, reads the headers and then stops reading."""
    host, port = api.base_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET /exports/{request_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {member.browser.session_cookie}\r\n\r\n".encode()
    )
    sock.settimeout(10)
    head = sock.recv(1024)
    assert head.startswith(b"HTTP/1.1 200"), head
    return sock


async def test_stalled_downloads_hold_no_connection_and_others_go_on(api: Api) -> None:
    owner = await api.owner("acme")
    readers = []
    members = [await api.member(owner, f"user{i}") for i in range(4)]
    for member in members:
        request_id = await _finished_export(api, member)
        readers += [await asyncio.to_thread(_stalled_reader, api, member, request_id) for _ in range(2)]
    try:
        # Eight stalled downloads on a pool of four: everyone else is still served.
        results = await asyncio.gather(*(m.browser.gql(VIEWER) for m in [owner, *members] for _ in range(3)))
        assert all(r.data["viewer"] for r in results)
    finally:
        for reader in readers:
            reader.close()


async def test_one_person_has_at_most_two_downloads_open(api: Api) -> None:
    owner = await api.owner("acme")
    request_id = await _finished_export(api, owner)
    readers = [await asyncio.to_thread(_stalled_reader, api, owner, request_id) for _ in range(2)]
    try:
        third = await owner.browser.http.get(f"/exports/{request_id}")
        assert third.status_code == 429 and third.headers["retry-after"]
    finally:
        for reader in readers:
            reader.close()


@pytest.mark.parametrize("settings_overrides", [{**SETTINGS, "export_send_timeout_seconds": 2}])
async def test_a_download_the_client_stops_reading_is_closed_and_frees_its_place(api: Api) -> None:
    owner = await api.owner("acme")
    request_id = await _finished_export(api, owner)
    readers = [await asyncio.to_thread(_stalled_reader, api, owner, request_id) for _ in range(2)]
    try:
        for _ in range(200):  # the send timeout is 2 s in this test
            # A whole download, read to its end (a probe left unread would hold a place
            # until the server noticed, and race the download after it).
            complete = await owner.browser.http.get(f"/exports/{request_id}")
            if complete.status_code != 429:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("stalled downloads were not closed")
        assert complete.status_code == 200 and len(complete.content) == CHUNK * CHUNKS
        assert complete.content[CHUNK * 5 : CHUNK * 5 + 1] == b"\x05"
    finally:
        for reader in readers:
            reader.close()
