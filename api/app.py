"""The Starlette application: lifespan (database, in-process worker), middleware, routes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.attempts import Attempts, Limits
from api.graphql.endpoint import GraphQLEndpoint
from api.graphql.errors import internal_error
from api.graphql.executor import Executor
from api.graphql.schema import schema
from api.jobs.worker import WorkerHealth, run_worker
from api.middleware import RequestIdMiddleware
from api.observability import AccessMiddleware, BodyLimitMiddleware, metrics, setup_logging
from api.services import Services
from api.settings import Settings, get_settings
from api.web import console
from api.web.downloads import download_export
from db import urls
from db.engine import database_url, make_engine, make_sessionmaker

log = logging.getLogger("api.app")


class LookupConnection(asyncpg.Connection):
    """The lookup pool only runs single read statements and the lastSeenAt update; it
    never changes session state, so the pool's reset query on release is skipped."""

    def get_reset_query(self) -> str:
        return ""


def create_app(
    settings: Settings | None = None,
    db_url: str | None = None,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    extra_middleware: Sequence[Middleware] = (),
    pool_init: Callable[[asyncpg.Connection], Awaitable[Any]] | None = None,
) -> Starlette:
    """The application. Benchmarks and tests plug their instrumentation in through
    `extra_routes` (outermost routes), `extra_middleware` (outermost middleware) and
    `pool_init` (for each connection of the session-lookup pool)."""
    settings = settings or get_settings()
    settings.check_production_safety()
    if os.environ.get("API_CONFIGURE_LOGGING") == "1":  # set by `serve`, also for each worker process
        setup_logging(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        url = db_url or database_url(settings)
        engine = make_engine(settings, url, pre_ping=False)
        sessionmaker = make_sessionmaker(engine)
        pool = await asyncpg.create_pool(
            urls.for_libpq(url),
            min_size=0,
            max_size=settings.db_pool_size,
            connection_class=LookupConnection,
            statement_cache_size=0 if settings.db_pgbouncer else 100,
            server_settings={"timezone": "UTC"},
            init=pool_init,  # type: ignore[arg-type]  # asyncpg-stubs name a private callback type
        )
        attempts = Attempts(settings.effective_secret_key(), Limits.from_settings(settings), sessionmaker, pool)
        services = Services(settings=settings, sessionmaker=sessionmaker, attempts=attempts, pool=pool)
        worker: asyncio.Task[None] | None = None
        worker_health: WorkerHealth | None = None
        if settings.run_worker_in_serve:
            worker_health = WorkerHealth()
            worker = asyncio.create_task(
                run_worker(url, settings, install_signal_handlers=False, health=worker_health), name="in-process-worker"
            )
        # Everything built so far lives as long as the process: keep the cyclic garbage
        # collector from walking it on every collection.
        gc.collect()
        gc.freeze()
        try:
            yield {
                "services": services,
                "engine": engine,
                "pool": pool,
                "worker": worker,
                "worker_health": worker_health,
            }
        finally:
            await pool.close()
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await worker
            await engine.dispose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            async with asyncio.timeout(2):
                async with request.state.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:  # any failure means not ready; the reason goes to the log only
            log.warning("readiness check failed", exc_info=True)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        # A serve that runs the jobs is ready only while its worker runs.
        worker, health = request.state.worker, request.state.worker_health
        if worker is not None and (worker.done() or not health.ok):
            return JSONResponse(
                {"status": "unavailable", "worker": "down" if worker.done() else health.state}, status_code=503
            )
        return JSONResponse({"status": "ready"})

    graphql = GraphQLEndpoint(
        Executor(schema._schema, introspection=settings.is_development, plans=settings.graphql_plans),
        graphiql=settings.is_development,
        suggestions=settings.is_development,
    )
    middleware = [
        *extra_middleware,
        # Only the configured proxies may say who the client is (X-Forwarded-For).
        *(
            [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)]
            if settings.trusted_proxies
            else []
        ),
        Middleware(RequestIdMiddleware),
        Middleware(AccessMiddleware),
        Middleware(BodyLimitMiddleware, limit=settings.max_body_bytes, timeout=settings.body_timeout_seconds),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "authorization", "x-requested-with", "x-request-id"],
            expose_headers=["x-request-id"],
            max_age=600,
        ),
    ]
    routes = [
        *extra_routes,
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        Route("/exports/{request_id}", download_export, methods=["GET"]),
        *(console.routes() if settings.serve_console else []),
    ]
    return Starlette(
        routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers={Exception: masked_internal_error}
    )


async def masked_internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Whatever escapes a route: JSON without details, the request id to quote (never
    starlette's plain-text 500)."""
    request_id = request.scope.get("state", {}).get("request_id") or ""
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"data": None, "errors": [internal_error(request_id)]}, status_code=500, headers={"cache-control": "no-store"}
    )
