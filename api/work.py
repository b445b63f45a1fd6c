"""What a service needs to do one unit of work: the unit's database session, the
settings, the attempt counters, who is asking and from where. Services take one `Work`
instead of a row of positional arguments; the unit of work that made it commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.attempts import Attempts, Limits, StandingWrite
from api.errors import Forbidden, Unauthenticated
from api.request_meta import SYSTEM_META, Actor, ApplicationActor, OperatorActor, RequestMeta
from api.settings import Settings
from db.engine import UnitOfWorkSession, transaction


@dataclass(frozen=True)
class Work:
    db: AsyncSession
    settings: Settings
    attempts: Attempts
    meta: RequestMeta
    actor: Actor | None = None
    # The vendor's operator behind this work (never together with `actor`).
    operator: OperatorActor | None = None
    # A connected application calling with its API key (never together with the others).
    application: ApplicationActor | None = None
    # Writes that stand when the unit of work rolls back (the audit event of a failed
    # attempt, a spent pending session): the unit of work runs them after it ends, in a
    # short transaction of their own (api.attempts).
    standing: list[StandingWrite] = field(default_factory=list)
    # For a request's reads: bare pooled connections, no ORM and no transaction (list
    # pages). None in units of work that write, which read their own writes.
    pool: asyncpg.Pool | None = None

    async def fetch(self, sql: str, *args: object) -> Sequence[Any]:
        """The rows (read by column name) of one read statement (`$1`-style parameters):
        on a bare pooled connection when this is a request's read, else on the unit's own
        connection, in its transaction (jobs, mutations, tests)."""
        if self.pool is not None:
            return await self.pool.fetch(sql, *args)
        connection = await self.db.connection()
        return (await connection.exec_driver_sql(sql, args)).mappings().all()

    async def execute(self, sql: str, *args: object) -> None:
        """One write statement (`$1`-style parameters) on the unit's own connection, in its
        transaction."""
        connection = await self.db.connection()
        await connection.exec_driver_sql(sql, args)

    def acting(self) -> Actor:
        """The authenticated user behind this work; FORBIDDEN for an operator (who never
        acts as a tenant's user), else UNAUTHENTICATED."""
        if self.actor is None:
            raise Forbidden() if self.operator is not None or self.application is not None else Unauthenticated()
        return self.actor

    def admin(self) -> Actor:
        actor = self.acting()
        if not actor.is_admin:
            raise Forbidden()
        return actor

    def operating(self) -> OperatorActor:
        """The operator behind this work; FORBIDDEN for a tenant's user, else UNAUTHENTICATED."""
        if self.operator is None:
            raise Forbidden() if self.actor is not None or self.application is not None else Unauthenticated()
        return self.operator

    def applying(self) -> ApplicationActor:
        """The connected application behind this work; FORBIDDEN for anyone else signed in."""
        if self.application is None:
            raise Forbidden() if self.actor is not None or self.operator is not None else Unauthenticated()
        return self.application

    def stand(self, write: StandingWrite) -> None:
        """Run `write` after the unit of work, whatever its outcome (see api.attempts)."""
        self.standing.append(write)

    def as_actor(self, actor: Actor | None) -> Work:
        return replace(self, actor=actor)

    def as_operator(self, operator: OperatorActor | None) -> Work:
        return replace(self, actor=None, operator=operator)


@asynccontextmanager
async def background_work(
    sessionmaker: async_sessionmaker[UnitOfWorkSession], settings: Settings, meta: RequestMeta = SYSTEM_META
) -> AsyncIterator[Work]:
    """One unit of work outside a request (the CLI, jobs, tests' set-up): committed when the
    block ends, rolled back when it raises; then the writes that must stand."""
    attempts = Attempts(settings.effective_secret_key(), Limits.from_settings(settings), sessionmaker)
    standing: list[StandingWrite] = []
    try:
        async with transaction(sessionmaker) as db:
            work = Work(db=db, settings=settings, attempts=attempts, meta=meta, standing=standing)
            yield work
    finally:
        await attempts.record(standing)
