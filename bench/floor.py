"""The floor for the `viewer` benchmark: the same session lookup as the real path, on a
bare asyncpg pool, answered as the GraphQL response would be. `python -m bench.floor`
serves the application with it at /_bench/floor, as `python -m api serve` serves it."""

from __future__ import annotations

import argparse

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import clock
from api.crypto import hash_token
from api.security.sessions import LOOKUP_SQL


async def floor(request: Request) -> Response:
    token = request.cookies.get(request.state.services.settings.session_cookie_name, "")
    row = await request.state.pool.fetchrow(LOOKUP_SQL, hash_token(token), clock.now())
    viewer = {"user": {"id": str(row["user_id"]), "username": row["username"]}} if row else None
    return Response(orjson.dumps({"data": {"viewer": viewer}}), media_type="application/json")


def app() -> Starlette:
    from api.app import create_app

    return create_app(extra_routes=[Route("/_bench/floor", floor, methods=["GET", "POST"])])


if __name__ == "__main__":
    from api.server import serve

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    serve("bench.floor:app", host=arguments.host, port=arguments.port, workers=1)
