"""The HTTP server's own guard against slow clients: uvicorn times out an idle keep-alive
connection, but a new connection that sends nothing, or sends its request line and
headers a byte at a time, would be held for ever. This protocol gives every request
HEADER_TIMEOUT_SECONDS from its connection (or its first byte) to finish its headers;
the body has its own deadline (api.observability.BodyLimitMiddleware)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import get_settings


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0  # set by `serve` from HEADER_TIMEOUT_SECONDS

    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn's own
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def serve(app_factory: str, *, host: str, port: int, workers: int) -> None:
    """Run uvicorn the way production does: uvloop, httptools with the header deadline,
    JSON logs, graceful shutdown, forwarded headers only from TRUSTED_PROXIES (in the app)."""
    settings = get_settings()
    settings.check_production_safety()
    os.environ["API_CONFIGURE_LOGGING"] = "1"
    if not settings.database_url:
        # Start the embedded server once here, so every worker process joins the same one.
        from db.engine import database_url

        database_url(settings)
    if workers > 1:
        _share_metrics_between_workers()
    GuardedHttpToolsProtocol.header_timeout = settings.header_timeout_seconds
    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=GuardedHttpToolsProtocol,
        timeout_keep_alive=5,
        proxy_headers=False,  # the app believes X-Forwarded-For from TRUSTED_PROXIES only
        timeout_graceful_shutdown=20,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON logging set up by the app
        access_log=False,  # api.observability logs each request, without query strings
    )


def _share_metrics_between_workers() -> None:
    """Counters in files that every worker process writes and any one of them reads at
    scrape time (prometheus_client's multiprocess mode). Set before the workers import
    prometheus_client; emptied at start, as counters must not survive a restart."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
