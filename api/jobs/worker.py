"""The procrastinate app, its tasks, and running a worker (alone, or inside `serve`)."""

from __future__ import annotations

import logging

import procrastinate
from procrastinate import RetryStrategy

from api.mail.delivery import deliver
from api.mail.outbox import SEND_EMAIL_TASK, open_sealed
from api.settings import Settings, get_settings

log = logging.getLogger("api.jobs")

QUEUES = ["email", "default"]

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
_settings: Settings | None = None  # the settings of the worker running in this process


def worker_settings() -> Settings:
    return _settings or get_settings()


@app.task(name=SEND_EMAIL_TASK, queue="email", retry=RetryStrategy(max_attempts=8, exponential_wait=5))
async def send_email(sealed: str) -> None:
    settings = worker_settings()
    await deliver(settings, open_sealed(settings, sealed))


def connected_app(conninfo: str) -> procrastinate.App:
    return app.with_connector(procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4))


async def run_worker(
    conninfo: str, settings: Settings, *, install_signal_handlers: bool = True, concurrency: int = 4
) -> None:
    """Run until cancelled (or, standalone, until SIGTERM/SIGINT)."""
    global _settings
    _settings = settings
    worker_app = connected_app(conninfo)
    async with worker_app.open_async():
        await worker_app.run_worker_async(
            queues=QUEUES,
            concurrency=concurrency,
            install_signal_handlers=install_signal_handlers,
            wait=True,
        )
