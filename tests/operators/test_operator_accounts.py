"""`python -m api create-operator` makes an operator with a password (the users'
policy, argon2id) and, always, a TOTP second factor printed once as an otpauth:// URI;
`--reset-factor` issues a new one. The command runs as an operator of the service would
run it: a process of its own against the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.helpers import Api
from tests.operators.support import ME, OPERATOR_PASSWORD, next_step, operator_log, operator_login

ROOT = Path(__file__).parents[2]


def create_operator_cli(
    api: Api, *args: str, stdin: str = OPERATOR_PASSWORD + "\n"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": api.settings.database_url, "SECRET_KEY": api.settings.secret_key or ""}
    return subprocess.run(
        [sys.executable, "-m", "api", "create-operator", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def secret_of(uri: str) -> str:
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    return parse_qs(parts.query)["secret"][0]


async def test_a_new_operator_enrolls_the_printed_key_and_logs_in_with_it(api: Api) -> None:
    run = create_operator_cli(api, "--username", "Olivia", "--email", "olivia@vendor.example", "--password-stdin")
    assert run.returncode == 0, run.stderr
    uri = run.stdout.strip()
    secret = secret_of(uri)
    assert "Olivia" in uri and "Created operator Olivia" in run.stderr

    row = await api.db.fetchrow("SELECT * FROM operator")
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert secret not in row["totp_secret_ciphertext"] and row["totp_key_id"]
    [created] = await operator_log(api, "action = 'operator.created'")
    assert created["actor_type"] == "SYSTEM" and created["operator_id"] == row["id"]
    assert OPERATOR_PASSWORD not in (created["changes"] or "") and "olivia" not in (created["changes"] or "")

    browser = api.browser()
    operator = (await operator_login(browser, "olivia", secret)).ok("operatorLogin")["operator"]
    assert operator["username"] == "Olivia" and operator["email"] == "olivia@vendor.example"
    assert (await browser.gql(ME)).data["operator"]["id"] == str(row["id"])


async def test_a_username_taken_in_any_case_is_refused(api: Api) -> None:
    assert (
        create_operator_cli(api, "--username", "olivia", "--email", "o@vendor.example", "--password-stdin").returncode
        == 0
    )
    again = create_operator_cli(api, "--username", "OLIVIA", "--email", "o2@vendor.example", "--password-stdin")
    assert again.returncode == 2 and "exists" in again.stderr and again.stdout == ""
    assert await api.count("operator") == 1


async def test_the_password_policy_applies_and_a_password_is_needed(api: Api) -> None:
    weak = create_operator_cli(
        api, "--username", "olivia", "--email", "olivia@vendor.example", "--password-stdin", stdin="olivia123\n"
    )
    assert weak.returncode == 2 and "password" in weak.stderr.lower()
    no_terminal = create_operator_cli(api, "--username", "olivia", "--email", "olivia@vendor.example")
    assert no_terminal.returncode == 2 and "--password-stdin" in no_terminal.stderr
    no_email = create_operator_cli(api, "--username", "olivia", "--password-stdin")
    assert no_email.returncode == 2 and "--email" in no_email.stderr
    bad_name = create_operator_cli(api, "--username", "o", "--email", "olivia@vendor.example", "--password-stdin")
    assert bad_name.returncode == 2
    assert await api.count("operator") == 0 and await api.count("operator_audit_event") == 0


async def test_reset_factor_replaces_the_key_and_ends_the_operators_sessions(api: Api) -> None:
    made = create_operator_cli(api, "--username", "olivia", "--email", "olivia@vendor.example", "--password-stdin")
    old_secret = secret_of(made.stdout.strip())
    browser = api.browser()
    (await operator_login(browser, "olivia", old_secret)).ok("operatorLogin")
    next_step()

    reset = create_operator_cli(api, "--username", "olivia", "--reset-factor", stdin="")
    assert reset.returncode == 0, reset.stderr
    new_secret = secret_of(reset.stdout.strip())
    assert new_secret != old_secret
    assert (await browser.gql(ME)).data["operator"] is None  # the session ended
    assert (await operator_login(api.browser(), "olivia", old_secret)).user_errors("operatorLogin") == [
        (None, "INVALID_CREDENTIALS")
    ]
    (await operator_login(api.browser(), "olivia", new_secret)).ok("operatorLogin")
    [event] = await operator_log(api, "action = 'operator.factor_reset'")
    assert event["actor_type"] == "SYSTEM" and json.loads(event["changes"])["sessions_ended"] == {"new": 1}

    unknown = create_operator_cli(api, "--username", "nobody", "--reset-factor", stdin="")
    assert unknown.returncode == 2 and "No operator" in unknown.stderr
