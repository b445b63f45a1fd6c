"""GET /exports/{id}: the subject downloads their own export with their own session,
while the download window lasts. Anyone else, or later, gets 404."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api.auth import sessions
from api.credentials import AmbiguousCredentials, presented
from api.graphql.context import Services
from api.privacy import export, requests
from db.models import DataRequest


async def download_export(request: Request) -> Response:
    services: Services = request.state.services
    not_found = JSONResponse({"error": "not found"}, status_code=404, headers={"cache-control": "no-store"})
    try:
        request_id = uuid.UUID(request.path_params["request_id"])
    except ValueError:
        return not_found
    try:
        token = presented(request.headers, services.settings.session_cookie_name).token
    except AmbiguousCredentials:
        return JSONResponse({"error": "ambiguous credentials"}, status_code=400, headers={"cache-control": "no-store"})
    info = await sessions.resolve(services.pool, token) if token else None
    db = services.sessionmaker()
    try:
        if info is None or info.stage != "full":
            await db.close()
            return JSONResponse({"error": "authentication required"}, status_code=401, headers={"cache-control": "no-store"})
        found = await db.get(DataRequest, (info.tenant_id, request_id))
        if found is None or found.subject_id != info.user_id or not requests.download_available(found):
            await db.close()
            return not_found
    except BaseException:
        await db.close()
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in export.chunks(db, info.tenant_id, request_id):
                yield chunk
        finally:
            await db.close()

    filename = f"account-export-{found.completed_at:%Y-%m-%d}.json" if found.completed_at else "account-export.json"
    return StreamingResponse(body(), media_type="application/json", headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store", "x-content-type-options": "nosniff",
    })
