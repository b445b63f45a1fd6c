"""Apply Alembic migrations: the only way the schema is created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from db import urls

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sync_url = urls.for_libpq(database_url).replace("postgresql://", "postgresql+psycopg://", 1)
    config.set_main_option("sqlalchemy.url", sync_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def compare_options() -> dict[str, Any]:
    """How autogenerate compares the models with a database (the agreement test and
    `alembic revision --autogenerate` alike)."""
    return {"compare_type": True, "compare_server_default": False, "include_object": _include_object}


def _include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # The job queue's tables belong to procrastinate's own migrations.
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))
