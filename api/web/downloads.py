"""GET /exports/{id}: the subject downloads their own export with their own session,
while the download window lasts. Anyone else, or later, gets 404.

A download holds no database connection while the client reads: each chunk is fetched
with its own short statement on the bare pool, then sent. A send the client does not
take within EXPORT_SEND_TIMEOUT_SECONDS ends the download, and one person has at most
EXPORT_DOWNLOADS_PER_USER downloads open at once in a process."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from api.credentials import AmbiguousCredentials, presented
from api.privacy import requests
from api.security import sessions
from api.services import Services
from db.enums import SessionStage

log = logging.getLogger("api.export")
NO_STORE = {"cache-control": "no-store"}

_REQUEST = """
SELECT r.kind, r.status, r.subject_id, r.completed_at, r.download_expires_at,
       (SELECT count(*) FROM export_chunk c WHERE c.tenant_id = r.tenant_id AND c.request_id = r.id) AS chunks,
       (SELECT coalesce(sum(length(c.data)), 0) FROM export_chunk c WHERE c.tenant_id = r.tenant_id AND c.request_id = r.id) AS size
FROM data_request r WHERE r.tenant_id = $1 AND r.id = $2
"""
_CHUNK = "SELECT data FROM export_chunk WHERE tenant_id = $1 AND request_id = $2 AND seq = $3"

_open: Counter[uuid.UUID] = Counter()  # downloads in progress in this process, by user


def _error(message: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**NO_STORE, **headers})


class ArchiveResponse(Response):
    """The archive's chunks, each read when it is about to be sent."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        tenant_id: uuid.UUID,
        request_id: uuid.UUID,
        chunks: int,
        size: int,
        filename: str,
        user_id: uuid.UUID,
        send_timeout: float,
    ) -> None:
        super().__init__(
            media_type="application/json",
            headers={
                "content-disposition": f'attachment; filename="{filename}"',
                "content-length": str(size),
                "x-content-type-options": "nosniff",
                **NO_STORE,
            },
        )
        self.pool, self.tenant_id, self.request_id = pool, tenant_id, request_id
        self.chunks, self.user_id, self.send_timeout = chunks, user_id, send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._send_with_timeout(
                send, {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            for seq in range(self.chunks):
                data = await self.pool.fetchval(_CHUNK, self.tenant_id, self.request_id, seq)
                if data is None:  # erased or expired meanwhile: the client sees a short body
                    log.info("export %s went away during its download", self.request_id)
                    return
                await self._send_with_timeout(
                    send, {"type": "http.response.body", "body": bytes(data), "more_body": True}
                )
            await self._send_with_timeout(send, {"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.info("export download of %s stalled; closed", self.request_id)
        finally:
            _open[self.user_id] -= 1
            if _open[self.user_id] <= 0:
                del _open[self.user_id]

    async def _send_with_timeout(self, send: Send, message: dict[str, object]) -> None:
        async with asyncio.timeout(self.send_timeout):
            await send(message)


async def download_export(request: Request) -> Response:
    services: Services = request.state.services
    settings = services.settings
    not_found = _error("not found", 404)
    try:
        request_id = uuid.UUID(request.path_params["request_id"])
    except ValueError:
        return not_found
    try:
        token = presented(request.headers, settings.session_cookie_name).token
    except AmbiguousCredentials:
        return _error("ambiguous credentials", 400)
    info = await sessions.resolve(services.pool, token) if token else None
    if info is None or info.stage != SessionStage.FULL:
        return _error("authentication required", 401)
    found = await services.pool.fetchrow(_REQUEST, info.tenant_id, request_id)
    if (
        found is None
        or found["subject_id"] != info.user_id
        or not requests.download_available(found["kind"], found["status"], found["download_expires_at"])
    ):
        return not_found
    if request.method == "HEAD":
        return Response(headers={**NO_STORE, "content-length": str(found["size"]), "content-type": "application/json"})
    if _open[info.user_id] >= settings.export_downloads_per_user:
        return _error("too many downloads at once", 429, **{"retry-after": "30"})
    _open[info.user_id] += 1
    completed = found["completed_at"]
    filename = f"account-export-{completed:%Y-%m-%d}.json" if completed else "account-export.json"
    return ArchiveResponse(
        services.pool,
        info.tenant_id,
        request_id,
        int(found["chunks"]),
        int(found["size"]),
        filename,
        info.user_id,
        settings.export_send_timeout_seconds,
    )
