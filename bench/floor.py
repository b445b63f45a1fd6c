"""What each operation of bench.throughput is compared with, served by the application
itself (`python -m bench.floor` serves it as `python -m api serve` does, with these
routes plugged in through `create_app(extra_routes=...)`, behind the same middleware):

- /_bench/floor/<operation>: the floor. Bare Starlette + asyncpg on the application's
  lookup pool, issuing the statements the product issues for that operation (checked
  with `python -m bench.statements`: same statements, same rows, the audit insert with
  its chain trigger for writes, one transaction where the product has one) and
  encoding the same JSON answer with orjson. What is left between the product and this
  is the product's own work in Python (and any round-trip the floor does not need).
- /_bench/floor/verify: the hashing limit of login: one argon2id verification with the
  product's parameters (api.security.passwords.HASHER) on the product's own hashing
  pool, nothing else.
- /_bench/stock: the same schema (api.graphql.schema) served by strawberry's own ASGI
  app (`strawberry.asgi.GraphQL`) with the context the product builds (the session
  looked up by `Context.authenticate`), but none of the product's execution path
  (parse/validation cache, execution plans, orjson): what a team would pick instead.
- /_bench/floor: the viewer floor under its old name."""

from __future__ import annotations

import argparse
import os
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Uuid, bindparam, insert, select
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlmodel import col
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from api import clock, events
from api.accounts import users as users_service
from api.attempts import _STEPS, Step
from api.audit import query as audit_query
from api.credentials import presented
from api.crypto import hash_token
from api.events import envelope
from api.graphql.context import Context
from api.graphql.endpoint import client_meta
from api.graphql.schema import schema
from api.pagination import encode_cursor
from api.privacy import consents
from api.security import passwords
from api.security.sessions import LOOKUP_SQL
from db.models import AuditEvent, ConsentEvent, Purpose

JSON = "application/json"


def _json(data: Any) -> Response:
    return Response(orjson.dumps({"data": data}), media_type=JSON, headers={"cache-control": "no-store"})


async def _session(request: Request) -> asyncpg.Record | None:
    token = request.cookies.get(request.state.services.settings.session_cookie_name, "")
    row: asyncpg.Record | None = await request.state.pool.fetchrow(LOOKUP_SQL, hash_token(token), clock.now())
    return row


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


def _sql(statement: Any, **kwargs: Any) -> str:
    """A statement as SQLAlchemy's asyncpg dialect renders it for the product."""
    return str(statement.compile(dialect=_DIALECT, **kwargs))


# --- viewer ---------------------------------------------------------------------------


async def viewer(request: Request) -> Response:
    row = await _session(request)
    return _json({"viewer": {"user": {"id": str(row["user_id"]), "username": row["username"]}} if row else None})


# --- users(first: 50) -----------------------------------------------------------------
# api.accounts.users.list_page's statement (the page and the count of all that match in
# one; no search, role or status filter, no cursor), the product's own text.
USERS_PAGE = users_service._PAGE_SQL


async def users(request: Request) -> Response:
    session = await _session(request)
    assert session is not None and session["role"] in ("ADMIN", "OWNER"), "an administrator's session"
    first = 50
    rows = await request.state.pool.fetch(USERS_PAGE, session["tenant_id"], None, None, None, None, None, first + 1)
    total = rows[0]["total"]
    page = rows[:first]
    edges = [
        {
            "cursor": encode_cursor(r["username"].lower(), str(r["id"])),
            "node": {
                "id": str(r["id"]),
                "username": r["username"],
                "email": r["email"],
                "displayName": r["display_name"],
                "role": r["role"],
                "status": r["status"],
                "mfaEnabled": r["mfa_enabled"],
                "lastLoginAt": _iso(r["last_login_at"]),
            },
        }
        for r in page
    ]
    page_info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    return _json({"users": {"totalCount": total, "pageInfo": page_info, "edges": edges}})


# --- auditEvents(first: 50) -----------------------------------------------------------
# api.audit.query.search's statement with no filter and no cursor, the product's columns.
AUDIT_PAGE = f"SELECT {audit_query._COLUMNS} FROM audit_event WHERE tenant_id = $1 ORDER BY chain_seq DESC LIMIT $2"


async def audit_events(request: Request) -> Response:
    session = await _session(request)
    assert session is not None and session["role"] in ("ADMIN", "OWNER"), "an administrator's session"
    first = 50
    rows = await request.state.pool.fetch(AUDIT_PAGE, session["tenant_id"], first + 1)
    page = rows[:first]
    edges = [
        {
            "cursor": encode_cursor(r["chain_seq"]),
            "node": {
                "id": str(r["id"]),
                "occurredAt": r["occurred_at"].isoformat(),
                "action": r["action"],
                "actorType": r["actor_type"],
                "actorId": str(r["actor_id"]) if r["actor_id"] else None,
                "targetType": r["target_type"],
                "targetId": str(r["target_id"]) if r["target_id"] else None,
                "ipAddress": str(r["ip_address"]) if r["ip_address"] else None,
                "changes": orjson.loads(r["changes"]) if r["changes"] is not None else None,
            },
        }
        for r in page
    ]
    page_info = {"hasNextPage": len(rows) > first, "endCursor": edges[-1]["cursor"] if edges else None}
    return _json({"auditEvents": {"pageInfo": page_info, "edges": edges}})


# --- setConsents (one decision) -------------------------------------------------------
# As api.privacy.consents.decide issues them: the rate-limit counter (autocommitted on
# the lookup pool), then one transaction: the tenant's active purposes, the webhook
# outbox statement, the consent event (its trigger keeps consent_current), the consent
# state the payload is made of, and last, right before COMMIT, the audit event (its chain
# trigger takes the tenant's lock, held to the end).
PURPOSES = _sql(
    select(Purpose)
    .where(col(Purpose.tenant_id) == bindparam("tenant", type_=Uuid), col(Purpose.active).is_(True))
    .order_by(col(Purpose.created_at), col(Purpose.key))
    .with_for_update(read=True, key_share=True)  # as the product decides: FOR KEY SHARE
)
CONSENT_COLUMNS = [c.name for c in ConsentEvent.__table__.columns]  # type: ignore[attr-defined]
INSERT_CONSENT = _sql(insert(ConsentEvent), column_keys=CONSENT_COLUMNS)
AUDIT_COLUMNS = [c.name for c in AuditEvent.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
INSERT_AUDIT = _sql(insert(AuditEvent).returning(col(AuditEvent.id)), column_keys=AUDIT_COLUMNS)
LATEST = _sql(consents._LATEST)  # $1 tenant_id, $2 user_id
EMIT = _sql(events._EMIT)  # $1 ids, $2 tenants, $3 types, $4 payloads, $5 subjects, $6 now


async def set_consents(request: Request) -> Response:
    body = orjson.loads(await request.body())
    key, granted = (
        body.get("variables", {}).get("purpose", "newsletter"),
        body.get("variables", {}).get("granted", True),
    )
    session = await _session(request)
    assert session is not None
    tenant_id, user_id = session["tenant_id"], session["user_id"]
    attempts = request.state.services.attempts
    limit = attempts.limits.consent_decisions
    now = clock.now()
    counted = await request.state.pool.fetchrow(_STEPS, *attempts.step_arguments([Step.take(limit, str(user_id))]), now)
    assert counted[0] == 0, "raise CONSENT_DECISIONS_PER_HOUR for the benchmark"
    meta = client_meta(request)
    event_type = "consent.granted" if granted else "consent.withdrawn"
    async with request.state.pool.acquire() as conn, conn.transaction():
        purposes = {p["key"]: p for p in await conn.fetch(PURPOSES, tenant_id)}
        purpose = purposes[key]
        # In the product's order: the outbox statement, the consent, the state, the audit event.
        data = {"userId": user_id, "purposeKey": key, "purposeVersion": purpose["version"], "source": "web"}
        payload = envelope(event_type, now, {"tenantId": tenant_id, **data, "recordedAt": now})
        await conn.execute(EMIT, [uuid.uuid4()], [tenant_id], [event_type], [payload], [user_id], now)
        await conn.execute(
            INSERT_CONSENT,
            *(tenant_id, uuid.uuid4(), user_id, purpose["id"], key, purpose["version"], granted, "web"),
            *(meta.ip_address, now),
        )
        await conn.fetch(LATEST, tenant_id, user_id)  # the state (the purposes are those read above)
        changes = {
            "purpose": {"new": key},
            "version": {"new": purpose["version"]},
            "granted": {"new": granted},
            "source": {"new": "web"},
        }
        await conn.fetchval(
            INSERT_AUDIT,
            *(tenant_id, now, event_type, "USER", user_id, "user", user_id, meta.ip_address, meta.user_agent),
            *(meta.request_id, orjson.dumps(changes).decode(), None, None, None),
        )
    return _json({"setConsents": {"errors": []}})


# --- login's hashing limit ------------------------------------------------------------

_stored_hash: list[str] = []


async def verify(request: Request) -> Response:
    """One argon2id verification of the benchmark's password, on the product's pool."""
    from bench.common import PASSWORD

    if not _stored_hash:
        _stored_hash.append(await passwords.hash_password(PASSWORD))
    assert await passwords.verify_password(_stored_hash[0], PASSWORD)
    return _json({"login": {"status": "SUCCESS"}})


# --- the stock path -------------------------------------------------------------------


class StockGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI app with the product's context; the context's database session
    is closed when the response has been sent, as the product's endpoint does."""

    async def get_context(self, request: Any, response: Any) -> Context:
        services = request.state.services
        context = Context(
            request=request,
            services=services,
            meta=client_meta(request),
            credentials=presented(request.headers, services.settings.session_cookie_name),
        )
        request.state.bench_context = context
        await context.authenticate()
        return context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            context = scope.get("state", {}).get("bench_context")
            if context is not None:
                await context.close()


Endpoint = Callable[[Request], Awaitable[Response]]
FLOORS: dict[str, Endpoint] = {
    "viewer": viewer,
    "users": users,
    "audit-events": audit_events,
    "set-consents": set_consents,
    "verify": verify,
}


def routes() -> list[BaseRoute]:
    stock = StockGraphQL(schema, graphql_ide=None)
    return [
        Route("/_bench/floor", viewer, methods=["GET", "POST"]),
        *(Route(f"/_bench/floor/{name}", endpoint, methods=["POST"]) for name, endpoint in FLOORS.items()),
        Route("/_bench/stock", stock, methods=["GET", "POST"]),
    ]


def _nice_hashing(nice: int) -> None:
    """An experiment (BENCH_HASH_NICE=N): the argon2 pool's threads at nice N, so that
    under load the event loop's thread is scheduled before the hashing threads (Linux
    applies nice per thread). Same pool size; nothing else changes."""

    def lower() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)

    workers = passwords._pool._max_workers
    passwords._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2", initializer=lower)


def app() -> Starlette:
    from api.app import create_app

    if os.environ.get("BENCH_HASH_NICE"):
        _nice_hashing(int(os.environ["BENCH_HASH_NICE"]))
    return create_app(extra_routes=routes())


if __name__ == "__main__":
    from api.server import serve

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    serve("bench.floor:app", host=arguments.host, port=arguments.port, workers=1)
