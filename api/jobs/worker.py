"""The procrastinate app, its tasks, and running a worker (alone, or inside `serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import uuid
from dataclasses import dataclass

import procrastinate
from procrastinate import RetryStrategy
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.audit import checkpoints
from api.auth.service import PASSWORD_RESET_QUEUE, PASSWORD_RESET_TASK, open_reset_request, send_password_reset
from api.jobs import maintenance
from api.jobs.deliveries import run_sender
from api.mail.delivery import deliver
from api.mail.outbox import SEND_EMAIL_TASK, open_sealed
from api.privacy import export, parts
from api.settings import Settings, get_settings
from api.usecases import retention as daily_retention
from api.work import background_work
from db.engine import UnitOfWorkSession, make_engine, make_sessionmaker, transaction

log = logging.getLogger("api.jobs")

QUEUES = ["email", "default"]

# Tasks live on a blueprint; each worker builds its app around it with its own connection.
tasks = procrastinate.Blueprint()
_settings: Settings | None = None  # the settings of the worker running in this process
_sessionmaker: async_sessionmaker[UnitOfWorkSession] | None = None


def worker_settings() -> Settings:
    return _settings or get_settings()


@tasks.task(name=SEND_EMAIL_TASK, queue="email", retry=RetryStrategy(max_attempts=8, exponential_wait=5))
async def send_email(sealed: str, subject: str | None = None) -> None:
    settings = worker_settings()
    await deliver(settings, open_sealed(settings, sealed))


@tasks.task(name=PASSWORD_RESET_TASK, queue=PASSWORD_RESET_QUEUE, retry=RetryStrategy(max_attempts=3, wait=5))
async def password_reset(sealed: str) -> None:
    """A `requestPasswordReset`'s work: the request queues this job whether or not the
    address has an account, so its answer takes the same time either way."""
    assert _sessionmaker is not None
    settings = worker_settings()
    request = open_reset_request(settings, sealed)
    async with background_work(_sessionmaker, settings, request.meta) as work:
        await send_password_reset(work, tenant_slug=request.tenant_slug, address=request.address)


@tasks.periodic(cron="*/10 * * * *", periodic_id="purge")
@tasks.task(name="purge_expired", queue="default", queueing_lock="purge_expired")
async def purge_expired(timestamp: int) -> None:
    assert _sessionmaker is not None, "the worker sets up its database first"
    async with transaction(_sessionmaker) as db:
        counts = await maintenance.purge_expired(db, worker_settings())
    log.info("purged expired data: %s", counts)


@tasks.periodic(cron="*/5 * * * *", periodic_id="audit-checkpoints")
@tasks.task(name="checkpoint_audit", queue="default", queueing_lock="checkpoint_audit")
async def checkpoint_audit(timestamp: int) -> None:
    assert _sessionmaker is not None
    async with transaction(_sessionmaker) as db:
        made = await checkpoints.make(db, checkpoints.CheckpointKeys(worker_settings().secret_keys()))
    log.info("audit checkpoints made: %d", made)


@tasks.task(name="build_export", queue="default", pass_context=True, retry=RetryStrategy(max_attempts=3, wait=5))
async def build_export(context: procrastinate.JobContext, tenant_id: str, request_id: str) -> None:
    assert _sessionmaker is not None
    job = context.job
    final = job.attempts + 1 >= 3
    await export.build(
        _sessionmaker, worker_settings(), uuid.UUID(tenant_id), uuid.UUID(request_id), final_attempt=final
    )


@tasks.periodic(cron="17 3 * * *", periodic_id="retention")
@tasks.task(name="retention", queue="default", queueing_lock="retention")
async def retention(timestamp: int) -> None:
    assert _sessionmaker is not None
    async with background_work(_sessionmaker, worker_settings()) as work:
        totals = await daily_retention.run_daily(work)
    log.info("retention run: %s", totals)


@tasks.periodic(cron="*/5 * * * *", periodic_id="export-parts")
@tasks.task(name="settle_export_parts", queue="default", queueing_lock="settle_export_parts")
async def settle_export_parts(timestamp: int) -> None:
    """Export parts that cannot come any more are missing; exports waiting for nothing start."""
    assert _sessionmaker is not None
    async with background_work(_sessionmaker, worker_settings()) as work:
        started = await parts.settle(work.db, work.settings.export_part_wait_hours)
    if started:
        log.info("exports started after their applications' parts: %d", started)


# Sent (and finally failed) mail leaves the queue after a week: a sealed copy of an email
# is no record anyone needs, and erasure removes an account's mail at once anyway.
SENT_MAIL_KEPT_HOURS = 7 * 24


@tasks.periodic(cron="41 3 * * *", periodic_id="sent-mail")
@tasks.task(name="remove_sent_mail", queue="default", queueing_lock="remove_sent_mail", pass_context=True)
async def remove_sent_mail(context: procrastinate.JobContext, timestamp: int) -> None:
    await context.app.job_manager.delete_old_jobs(nb_hours=SENT_MAIL_KEPT_HOURS, queue="email", include_failed=True)


@tasks.periodic(cron="* * * * *", periodic_id="stalled")
@tasks.task(name="retry_stalled_jobs", queue="default", queueing_lock="retry_stalled_jobs", pass_context=True)
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    await retry_stalled(context.app, worker_settings())


async def retry_stalled(app: procrastinate.App, settings: Settings) -> int:
    """Jobs left `doing` by a worker that died (no heartbeat) go back to the queue."""
    stalled = list(
        await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.worker_stalled_after_seconds)
    )
    for job in stalled:
        log.warning("retrying job %s (%s): its worker stopped", job.id, job.task_name)
        await app.job_manager.retry_job(job)
    return len(stalled)


def connected_app(conninfo: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4))
    app.add_tasks_from(tasks, namespace="")
    return app


@dataclass
class WorkerHealth:
    """What `/readyz` of a `serve` that runs the jobs reports about its worker."""

    state: str = "starting"  # starting, running, restarting, stopped
    restarts: int = 0

    @property
    def ok(self) -> bool:
        return self.state in ("starting", "running")


RESTART_BACKOFF_SECONDS = (1, 2, 5, 10, 30)


async def run_worker(
    conninfo: str,
    settings: Settings,
    *,
    install_signal_handlers: bool = True,
    concurrency: int = 4,
    health: WorkerHealth | None = None,
) -> None:
    """Run the jobs until cancelled (or, standalone, until SIGTERM/SIGINT).

    procrastinate stops its worker when its LISTEN connection dies (a database restart):
    here the worker is started again, with a growing pause, for as long as it takes, so a
    restarted database never leaves emails and exports unsent."""
    global _settings, _sessionmaker
    _settings = settings
    health = health or WorkerHealth()
    # Two connections per concurrent job: a job's unit of work holds one while an attempt
    # counter (api.attempts) takes a second of the same pool. With one each, as many reset
    # requests at once as the worker's concurrency waited on each other until the pool's
    # timeout.
    engine = make_engine(
        settings.model_copy(update={"db_pool_size": concurrency, "db_max_overflow": concurrency}), conninfo
    )
    _sessionmaker = make_sessionmaker(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signal_handlers:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
    failures = 0
    sending = asyncio.create_task(run_sender(conninfo, settings, _sessionmaker, stop), name="webhook-sender")
    try:
        while not stop.is_set():
            started = loop.time()
            try:
                await _run_once(conninfo, settings, concurrency, health, stop)
                if stop.is_set():
                    break
                log.warning("the job worker stopped by itself (its database connection was lost); starting it again")
            except Exception:
                log.warning("the job worker failed; starting it again", exc_info=True)
            health.state, health.restarts = "restarting", health.restarts + 1
            failures = 0 if loop.time() - started > 60 else failures + 1
            pause = RESTART_BACKOFF_SECONDS[min(failures, len(RESTART_BACKOFF_SECONDS) - 1)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sending, settings.webhook_timeout_seconds + 5)
        health.state = "stopped"
        if install_signal_handlers:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        await engine.dispose()


async def _run_once(
    conninfo: str, settings: Settings, concurrency: int, health: WorkerHealth, stop: asyncio.Event
) -> None:
    """One life of the procrastinate worker: until it stops by itself, fails, or `stop` is set."""
    worker_app = connected_app(conninfo)
    if not settings.scheduled_jobs:
        # procrastinate queues a periodic job only for a time it is at most `max_delay`
        # seconds past: for none, then. Its deferrer still runs (without periodic tasks it
        # would end, and with it procrastinate's watch that stops a worker whose heartbeat
        # or LISTEN connection failed, which is how a worker restarts after the database).
        worker_app.periodic_defaults = {"max_delay": -1}
    async with worker_app.open_async():
        await retry_stalled(worker_app, settings)
        run = asyncio.create_task(
            worker_app.run_worker_async(
                queues=QUEUES,
                concurrency=concurrency,
                install_signal_handlers=False,
                wait=True,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_after_seconds,
            ),
            name="procrastinate-worker",
        )
        stopping = asyncio.create_task(stop.wait())
        health.state = "running"
        try:
            await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not run.done():  # asked to stop: procrastinate finishes gracefully when cancelled
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
        if not stop.is_set():
            run.result()  # raises what stopped it, if anything did
