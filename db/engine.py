"""The async engine, the unit-of-work session, and where the database URL comes from.
Imports nothing of the application: what it needs of the settings is described by
protocols, which `api.settings.Settings` satisfies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

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


class UnitOfWorkSession(AsyncSession):
    """The session a unit of work hands to services. They add and flush; `commit()` is
    refused, so a change and its audit event can only commit together, when the unit of
    work ends (`finish`)."""

    async def commit(self) -> None:
        raise ServiceMustNotCommit("services add and flush; the unit of work commits")

    async def finish(self) -> None:
        await super().commit()


def database_url(settings: DatabaseSettings) -> str:
    """The configured server, or the embedded one under the data directory."""
    if settings.database_url:
        return urls.normalise(settings.database_url)
    return start_embedded(settings.data_dir / "pg")


def make_engine(settings: PoolSettings, url: str) -> AsyncEngine:
    connect_args: dict[str, Any] = {"server_settings": {"timezone": "UTC", "application_name": "account-api"}}
    if settings.db_pgbouncer:
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
    return create_async_engine(
        urls.for_sqlalchemy(url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
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
