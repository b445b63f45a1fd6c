"""The async engine, the session factory, and where the database URL comes from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from api.settings import Settings
from db import urls
from db.embedded import start_embedded


def database_url(settings: Settings) -> str:
    """The configured server, or the embedded one under the data directory."""
    if settings.database_url:
        return urls.normalise(settings.database_url)
    return start_embedded(settings.data_dir / "pg")


def make_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    url = url or database_url(settings)
    connect_args: dict[str, object] = {"server_settings": {"timezone": "UTC", "application_name": "account-api"}}
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


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work outside a request (CLI, jobs): commit on success, roll back on error."""
    async with sessionmaker() as session, session.begin():
        yield session
