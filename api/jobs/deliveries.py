"""The webhook sender as part of a worker: it runs for the worker's whole life beside the
job queue, restarting by itself when the database goes away, and acts on what delivery
outcomes mean elsewhere (a receiver disabled: tell its owner; an export request that
could not reach its application: the part is missing)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker

from api import events
from api.privacy import parts
from api.settings import Settings
from api.webhooks import deliveries
from api.webhooks.sender import Claimed, Sender
from api.work import background_work
from db import urls
from db.engine import UnitOfWorkSession

log = logging.getLogger("api.webhooks")


def make_sender(pool: asyncpg.Pool, settings: Settings, sessionmaker: async_sessionmaker[UnitOfWorkSession]) -> Sender:
    async def on_disabled(delivery: Claimed) -> None:
        async with background_work(sessionmaker, settings) as work:
            await deliveries.receiver_disabled(
                work,
                application_id=delivery.application_id,
                tenant_id=delivery.tenant_id,
                endpoint_id=delivery.endpoint_id,
            )

    async def on_failed(delivery: Claimed) -> None:
        if delivery.type == events.EXPORT_REQUESTED:
            async with background_work(sessionmaker, settings) as work:
                await parts.settle(work.db, settings.export_part_wait_hours)

    return Sender(pool, settings, on_disabled=on_disabled, on_failed=on_failed)


async def run_sender(
    conninfo: str, settings: Settings, sessionmaker: async_sessionmaker[UnitOfWorkSession], stop: asyncio.Event
) -> None:
    """Until `stop`: (re)connect, then deliver."""
    dsn = urls.for_libpq(conninfo)
    while not stop.is_set():
        try:
            pool = await asyncpg.create_pool(
                dsn, min_size=1, max_size=settings.webhook_concurrency + 2, server_settings={"timezone": "UTC"}
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            log.warning("the webhook sender cannot reach the database; retrying in 2 s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
            continue
        try:
            await make_sender(pool, settings, sessionmaker).run(dsn, stop)
        except Exception:
            log.warning("the webhook sender failed; starting it again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)
