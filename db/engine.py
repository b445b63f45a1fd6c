"""The async engine, the unit-of-work session, and where the database URL comes from.
Imports nothing of the application: what it needs of the settings is described by
protocols, which `api.settings.Settings` satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from db import urls
from db.embedded import start_embedded


class DatabaseSettings(Protocol):
    @property
    def database_url(self) -> str | None: ...
    @property
    def data_dir(self) -> Path: ...


class PoolSettings(Protocol):
    @property
    def db_pool_size(self) -> int: ...
    @property
    def db_max_overflow(self) -> int: ...
    @property
    def db_pgbouncer(self) -> bool: ...


class ServiceMustNotCommit(RuntimeError):
    """A service called commit(): only the unit of work that owns the session commits."""


_LAST = "written_last"


class _UnitSession(Session):
    """The synchronous session under a UnitOfWorkSession (see `add_last`)."""


@event.listens_for(_UnitSession, "before_commit")
def _write_last(session: Session) -> None:
    # Whatever commits (a unit of work's finish, a standing write's own transaction, a
    # job), the rows held for the end go in last, right before COMMIT.
    last = session.info.pop(_LAST, None)
    if last:
        session.flush()
        session.add_all(last)


@event.listens_for(_UnitSession, "after_rollback")
def _forget_last(session: Session) -> None:
    session.info.pop(_LAST, None)


class UnitOfWorkSession(AsyncSession):
    """The session a unit of work hands to services. They add and flush; `commit()` is
    refused, so a change and its audit event can only commit together, when the unit of
    work ends (`finish`).

    Rows given to `add_last` (audit events) are inserted at commit, after everything else
    and right before COMMIT: the audit chain's per-tenant lock, taken by their insert
    trigger and held to the end of the transaction, is then held for that insert and the
    commit only, not for the rest of the work. A rollback forgets them."""

    sync_session_class = _UnitSession

    async def commit(self) -> None:
        raise ServiceMustNotCommit("services add and flush; the unit of work commits")

    def add_last(self, instance: object) -> None:
        self.info.setdefault(_LAST, []).append(instance)

    def written_last(self) -> list[object]:
        """What `add_last` holds, not yet inserted."""
        return list(self.info.get(_LAST, ()))

    async def write_last_now(self) -> None:
        """Insert what `add_last` holds now (before a statement that must see it)."""
        last = self.info.pop(_LAST, None)
        if last:
            self.add_all(last)
            await self.flush()

    async def finish(self) -> None:
        await super().commit()

    async def close(self) -> None:
        self.info.pop(_LAST, None)
        await super().close()


def database_url(settings: DatabaseSettings) -> str:
    """The configured server, or the embedded one under the data directory."""
    if settings.database_url:
        return urls.normalise(settings.database_url)
    return start_embedded(settings.data_dir / "pg")


def make_engine(settings: PoolSettings, url: str, *, pre_ping: bool = True) -> AsyncEngine:
    """`pre_ping` tests each connection as it is checked out (three round trips with
    asyncpg). Requests go without: a connection found dead fails its statement, SQLAlchemy
    then invalidates the whole pool, and the request's unit of work retries once
    (api.graphql.mutations.is_transient, Context.read)."""
    connect_args: dict[str, Any] = {"server_settings": {"timezone": "UTC", "application_name": "account-api"}}
    if settings.db_pgbouncer:
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
    return create_async_engine(
        urls.for_sqlalchemy(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=pre_ping,
        hide_parameters=True,  # errors in the log never show row values
        pool_recycle=1800,
        connect_args=connect_args,
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[UnitOfWorkSession]:
    return async_sessionmaker(engine, class_=UnitOfWorkSession, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[UnitOfWorkSession]) -> AsyncIterator[UnitOfWorkSession]:
    """One unit of work outside a request (CLI, jobs): commit on success, roll back on error."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.finish()
