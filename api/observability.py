"""Logs, metrics and request limits.

- Logs are JSON lines with the request id. Nothing secret or personal is logged on
  purpose; a filter also masks anything that looks like an email address or a token,
  in messages and tracebacks, in case a library puts one there.
- /metrics in Prometheus format: requests and latency by GraphQL operation, login
  outcomes, job queue depth (read from PostgreSQL at scrape time). With several
  worker processes (`serve --workers N`) counters live in PROMETHEUS_MULTIPROC_DIR and
  every worker's scrape answers for all of them.
- Request bodies over the limit are refused before they are read."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import LATENCY, REQUESTS, process_registry

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,}")
_ARGON = re.compile(r"\$argon2[^\s'\"]*")


def redact(text: str) -> str:
    return _TOKEN.sub("<redacted>", _ARGON.sub("<redacted>", _EMAIL.sub("<email>", text)))


class RedactingJsonFormatter(JsonFormatter):
    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        request_id = request_id_var.get()
        if request_id:
            log_record["request_id"] = request_id

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingJsonFormatter("%(asctime)s %(message)s", rename_fields={"asctime": "time"}))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


access_log = logging.getLogger("api.access")


class AccessMiddleware:
    """One log line and the metrics per request. The path only: query strings may
    carry a GraphQL document with its variables."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed = time.perf_counter() - started
            operation = scope.get("state", {}).get("operation") or scope["path"]
            if not operation.startswith("/") or scope["path"] in ("/graphql", "/healthz", "/readyz", "/metrics"):
                label = operation
            else:
                label = "other"  # ids in paths would make unbounded label sets
            REQUESTS.labels(label, str(status)).inc()
            LATENCY.labels(label).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "operation": operation if not operation.startswith("/") else None,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes: by Content-Length at once, or while streaming;
    408 for a body that has not all arrived `timeout` seconds after the request began."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float = 30.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send)
            return
        received = 0
        complete = False
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def limited() -> Message:
            nonlocal received, complete
            if complete:  # after the body, receive waits for a disconnect: no deadline there
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _TooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
                complete = not message.get("more_body", False)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)
        except _TooSlow:
            await _refuse(
                send,
                408,
                b'{"errors":[{"message":"The request body did not arrive in time.","extensions":{"code":"BAD_USER_INPUT"}}]}',
            )


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


async def _too_large(send: Send) -> None:
    await _refuse(
        send, 413, b'{"errors":[{"message":"Request body too large.","extensions":{"code":"BAD_USER_INPUT"}}]}'
    )


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


class _Collected:
    def __init__(self, *metrics: Metric) -> None:
        self.metrics = metrics

    def collect(self) -> tuple[Metric, ...]:
        return self.metrics


def metrics_allowed(request: Request, token: str | None) -> bool:
    """/metrics needs `Authorization: Bearer METRICS_TOKEN`; with no token set it is not served."""
    if not token:
        return False
    presented = request.headers.get("authorization", "")
    return hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


async def metrics(request: Request) -> Response:
    if not metrics_allowed(request, request.state.services.settings.metrics_token):
        return Response('{"error": "not found"}', status_code=404, media_type="application/json")
    depth = GaugeMetricFamily(
        "api_job_queue_depth", "Jobs waiting or running, by queue and status.", labels=["queue", "status"]
    )
    try:
        rows = await request.state.pool.fetch(
            "SELECT queue_name, status::text AS status, count(*) AS n FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing') GROUP BY queue_name, status"
        )
        for row in rows:
            depth.add_metric([row["queue_name"], row["status"]], row["n"])
    except Exception:  # metrics must not fail because the database does
        logging.getLogger("api.metrics").warning("job queue depth unavailable", exc_info=True)
    body = generate_latest(process_registry()) + generate_latest(_Collected(depth))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
