"""Alembic environment: migrations run over psycopg (sync); the URL comes from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from db.migrate import compare_options
from db.models import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, **compare_options())
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
