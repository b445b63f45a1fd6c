"""The procrastinate app, its tasks, and running a worker (alone, or inside `serve`)."""

from __future__ import annotations

import logging

import procrastinate
from procrastinate import RetryStrategy

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.jobs import maintenance
from api.mail.delivery import deliver
from api.mail.outbox import SEND_EMAIL_TASK, open_sealed
from api.settings import Settings, get_settings

log = logging.getLogger("api.jobs")

QUEUES = ["email", "default"]

# Tasks live on a blueprint; each worker builds its app around it with its own connection.
tasks = procrastinate.Blueprint()
_settings: Settings | None = None  # the settings of the worker running in this process
_sessionmaker: async_sessionmaker[AsyncSession] | None = None


def worker_settings() -> Settings:
    return _settings or get_settings()


@tasks.task(name=SEND_EMAIL_TASK, queue="email", retry=RetryStrategy(max_attempts=8, exponential_wait=5))
async def send_email(sealed: str, subject: str | None = None) -> None:
    settings = worker_settings()
    await deliver(settings, open_sealed(settings, sealed))


@tasks.periodic(cron="*/10 * * * *", periodic_id="purge")
@tasks.task(name="purge_expired", queue="default", queueing_lock="purge_expired")
async def purge_expired(timestamp: int) -> None:
    from db.engine import transaction

    assert _sessionmaker is not None, "the worker sets up its database first"
    async with transaction(_sessionmaker) as db:
        counts = await maintenance.purge_expired(db)
    log.info("purged expired data: %s", counts)


@tasks.periodic(cron="*/5 * * * *", periodic_id="audit-checkpoints")
@tasks.task(name="checkpoint_audit", queue="default", queueing_lock="checkpoint_audit")
async def checkpoint_audit(timestamp: int) -> None:
    from api.audit import checkpoints
    from db.engine import transaction

    assert _sessionmaker is not None
    async with transaction(_sessionmaker) as db:
        made = await checkpoints.make(db, checkpoints.CheckpointKeys(worker_settings().secret_keys()))
    log.info("audit checkpoints made: %d", made)


@tasks.task(name="build_export", queue="default", pass_context=True, retry=RetryStrategy(max_attempts=3, wait=5))
async def build_export(context: procrastinate.JobContext, tenant_id: str, request_id: str) -> None:
    import uuid

    from api.privacy import export

    assert _sessionmaker is not None
    job = context.job
    final = job.attempts + 1 >= 3
    await export.build(_sessionmaker, worker_settings(), uuid.UUID(tenant_id), uuid.UUID(request_id), final_attempt=final)


@tasks.periodic(cron="17 3 * * *", periodic_id="retention")
@tasks.task(name="retention", queue="default", queueing_lock="retention")
async def retention(timestamp: int) -> None:
    from api.privacy import retention as privacy_retention
    from db.engine import transaction

    assert _sessionmaker is not None
    async with transaction(_sessionmaker) as db:
        totals = await privacy_retention.run(db, worker_settings())
    log.info("retention run: %s", totals)


@tasks.periodic(cron="* * * * *", periodic_id="stalled")
@tasks.task(name="retry_stalled_jobs", queue="default", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    await retry_stalled(context.app, worker_settings())


async def retry_stalled(app: procrastinate.App, settings: Settings) -> int:
    """Jobs left `doing` by a worker that died (no heartbeat) go back to the queue."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.worker_stalled_after_seconds))
    for job in stalled:
        log.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


def connected_app(conninfo: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4))
    app.add_tasks_from(tasks, namespace="")
    return app


async def run_worker(
    conninfo: str, settings: Settings, *, install_signal_handlers: bool = True, concurrency: int = 4
) -> None:
    """Run until cancelled (or, standalone, until SIGTERM/SIGINT)."""
    from db.engine import make_engine, make_sessionmaker

    global _settings, _sessionmaker
    _settings = settings
    engine = make_engine(settings.model_copy(update={"db_pool_size": concurrency, "db_max_overflow": 0}), conninfo)
    _sessionmaker = make_sessionmaker(engine)
    worker_app = connected_app(conninfo)
    try:
        async with worker_app.open_async():
            await retry_stalled(worker_app, settings)
            await worker_app.run_worker_async(
                queues=QUEUES,
                concurrency=concurrency,
                install_signal_handlers=install_signal_handlers,
                wait=True,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_after_seconds,
            )
    finally:
        await engine.dispose()
