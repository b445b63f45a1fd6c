"""The tables the models describe are the tables the migrations make: Alembic's
autogenerate comparison of the models against a database migrated to head finds nothing."""

from __future__ import annotations

import pprint

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from db import urls
from db.migrate import compare_options
from db.models import metadata


def test_the_models_and_the_migrations_agree(pg_url: str) -> None:
    engine = create_engine(
        urls.with_database(pg_url, "app_template").replace("postgresql://", "postgresql+psycopg://", 1)
    )
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=compare_options())
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], pprint.pformat(differences)


def test_the_check_constraints_hold_exactly_the_enum_values(pg_url: str) -> None:
    """Autogenerate does not compare CHECK constraints: every value list the models
    declare (from the enums) is the list the database enforces."""
    import re

    from sqlalchemy import CheckConstraint, text

    engine = create_engine(
        urls.with_database(pg_url, "app_template").replace("postgresql://", "postgresql+psycopg://", 1)
    )
    try:
        with engine.connect() as connection:
            enforced = dict(
                connection.execute(
                    text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'")
                ).all()
            )
    finally:
        engine.dispose()
    checked = 0
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and " IN (" in str(constraint.sqltext):
                declared = set(re.findall(r"'([^']*)'", str(constraint.sqltext)))
                assert set(re.findall(r"'([^']*)'", enforced[str(constraint.name)])) == declared, constraint.name
                checked += 1
    assert checked >= 9
