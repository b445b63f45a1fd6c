"""The project itself: exported schema, configuration, database URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from api.graphql.schema import schema
from api.settings import ConfigurationError, Settings
from db import urls

ROOT = Path(__file__).parents[2]


def test_schema_graphql_is_exported_from_the_code() -> None:
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == schema.as_str() + "\n", "schema.graphql is stale: run `make schema`"


def test_contract_checker_runs_against_the_exported_schema() -> None:
    checker = ROOT.parent / "shared" / "contract" / "check.py"
    if not checker.exists():
        pytest.skip("the shared contract is not beside this checkout")
    run = subprocess.run([sys.executable, str(checker), str(ROOT / "schema.graphql")], capture_output=True, text=True)
    breaches = [line for line in run.stdout.splitlines() if not line.startswith("contract:")]
    # What exists must have the contract's types; only parts not built yet may be missing.
    assert all(b.startswith(("TYPE_REMOVED:", "FIELD_REMOVED:")) for b in breaches), breaches
    built = (
        "Tenant",
        "User",
        "UserError",
        "UserConnection",
        "UserEdge",
        "PageInfo",
        "UserPayload",
        "TenantPayload",
        "AddUserInput",
        "UpdateUserInput",
        "UpdateTenantSettingsInput",
        "AcceptInvitationInput",
        "OkPayload",
    )
    for name in built:
        assert not [b for b in breaches if f" {name} " in b or f" {name}." in b], (name, breaches)


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Settings(
            env="production", app_url="https://x.example", database_url="postgresql://db/x"
        ).check_production_safety()


def test_production_refuses_insecure_cookies() -> None:
    settings = Settings(
        env="production",
        secret_key="k" * 40,
        cookie_secure=False,
        app_url="https://x.example",
        database_url="postgresql://db/x",
    )
    with pytest.raises(ConfigurationError, match="COOKIE_SECURE"):
        settings.check_production_safety()


def test_production_defaults_are_safe() -> None:
    settings = Settings(
        env="production", secret_key="k" * 40, app_url="https://x.example", database_url="postgresql://db/x"
    )
    settings.check_production_safety()
    assert settings.cookie_secure and settings.session_cookie_name == "__Host-session"
    assert settings.run_worker_in_serve is False
    assert settings.cors_origins == []


def test_the_serve_command_refuses_unsafe_production_settings() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "api", "serve"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={
            "ENV": "production",
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": "postgresql://db/x",
            "APP_URL": "https://x.example",
        },
    )
    assert run.returncode == 2 and "SECRET_KEY" in run.stderr


@pytest.mark.parametrize(
    ("given", "sqlalchemy"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgresql://u:p@h/db?sslmode=require", "postgresql+asyncpg://u:p@h/db?ssl=require"),
        ("postgresql://postgres:@/postgres?host=/tmp/x", "postgresql+asyncpg://postgres:@/postgres?host=%2Ftmp%2Fx"),
    ],
)
def test_database_urls_in_the_usual_libpq_forms_are_adapted(given: str, sqlalchemy: str) -> None:
    assert urls.for_sqlalchemy(given) == sqlalchemy
    assert urls.for_libpq(given).startswith("postgresql://")


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(ValueError):
        urls.normalise("mysql://u@h/db")
