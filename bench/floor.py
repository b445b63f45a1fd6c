"""The floor for the `viewer` benchmark (BENCH_FLOOR=true only): the same session lookup
as the real path, on a bare asyncpg pool, answered as the GraphQL response would be."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response

from api.auth.sessions import LOOKUP_SQL
from api.crypto import hash_token
from api import clock


async def floor(request: Request) -> Response:
    token = request.cookies.get(request.state.services.settings.session_cookie_name, "")
    row = await request.state.pool.fetchrow(LOOKUP_SQL, hash_token(token), clock.now())
    viewer = {"user": {"id": str(row["user_id"]), "username": row["username"]}} if row else None
    return Response(orjson.dumps({"data": {"viewer": viewer}}), media_type="application/json")
