"""What the application builds once at start-up and every request shares."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.attempts import Attempts
from api.settings import Settings
from db.engine import UnitOfWorkSession


@dataclass
class Services:
    settings: Settings
    sessionmaker: async_sessionmaker[UnitOfWorkSession]
    attempts: Attempts
    pool: asyncpg.Pool  # bare connections for the per-request session lookup and downloads
