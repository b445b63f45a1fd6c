# `make run` and `make test` work from a fresh clone with only Python 3.11+.
# Dependencies come from uv.lock (made by uv from pyproject.toml); uv itself is
# bootstrapped with pip into its own small venv, pinned to UV_VERSION.
PYTHON     ?= python3
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
UV_VERSION := 0.13.9
UV_VENV    := .venv-uv
UV         := $(UV_VENV)/bin/uv
UV_STAMP   := $(UV_VENV)/.uv-$(UV_VERSION)

# uv installs into the project's .venv, with the interpreter named by PYTHON, and never
# downloads a Python of its own.
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON              := $(PYTHON)
export UV_PYTHON_DOWNLOADS    := never

LOCK_HINT := uv.lock does not match pyproject.toml: run 'make relock' (or 'make lock' to also upgrade) and commit uv.lock

.PHONY: run test lint migrate worker schema messages check-contract clean lock relock check-lock

# The tests that run a second time with execution plans off (GRAPHQL_PLANS=false): those
# that read through GraphQL queries, so graphql-core alone is known to answer them too.
PLANS_OFF_TESTS := tests/accounts tests/privacy tests/audit/test_audit_query.py tests/auth/test_sessions.py \
	tests/platform/test_sql_budget.py tests/platform/test_hostile_input.py tests/platform/test_http.py \
	tests/operators/test_tenant_list.py tests/operators/test_operator_audit.py

# uv in a venv of its own (`uv sync` keeps .venv exactly as locked, so it cannot live there).
# A new UV_VERSION means a new stamp name, so a bump re-installs uv.
$(UV_STAMP):
	test -x $(UV_VENV)/bin/python || $(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	rm -f $(UV_VENV)/.uv-*
	touch $@

# Re-install when the lock or pyproject.toml changes: exactly what uv.lock says (runtime +
# dev extra), the project itself editable. --frozen: never re-resolve here.
$(STAMP): pyproject.toml uv.lock | $(UV_STAMP)
	@$(UV) lock --check || { echo "error: $(LOCK_HINT)" >&2; exit 1; }
	$(UV) sync --frozen --extra dev
	touch $@

# Fails fast (before installing anything) when pyproject.toml and uv.lock disagree.
check-lock: | $(UV_STAMP)
	@$(UV) lock --check || { echo "error: $(LOCK_HINT)" >&2; exit 1; }

# Upgrade every locked version within the ranges in pyproject.toml.
lock: | $(UV_STAMP)
	$(UV) lock --upgrade

# Re-resolve after editing pyproject.toml, keeping the locked versions where they still fit.
relock: | $(UV_STAMP)
	$(UV) lock

run: $(STAMP)
	$(PY) -m api migrate
	$(PY) -m api serve --host 127.0.0.1 --port 8000

test: check-lock lint
	$(PY) -m pytest -q -n 2
	GRAPHQL_PLANS=false $(PY) -m pytest -q -n 2 $(PLANS_OFF_TESTS)

# Lint, formatting, types and the import layering (pyproject.toml holds their settings).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

migrate: $(STAMP)
	$(PY) -m api migrate

worker: $(STAMP)
	$(PY) -m api worker

# Re-export schema.graphql from the code (a test fails when it is stale).
schema: $(STAMP)
	$(PY) -m api export-schema > schema.graphql

# Extract the marked messages into templates and merge them into every language's .po
# (tests/i18n fails while a message has no translation). Translate, then commit the .po.
BABEL = $(VENV)/bin/pybabel
messages: $(STAMP)
	$(BABEL) extract -F babel.cfg -k _ -k ngettext:1,2 --no-default-keywords --no-location --omit-header --sort-output -o api/locales/messages.pot .
	$(BABEL) extract -F babel-console.cfg -k t -k tn:1,2 --no-default-keywords --no-location --omit-header --sort-output -o api/locales/console.pot .
	$(BABEL) update -i api/locales/messages.pot -d api/locales -D messages --no-fuzzy-matching --ignore-obsolete
	$(BABEL) update -i api/locales/console.pot -d api/locales -D console --no-fuzzy-matching --ignore-obsolete

check-contract: $(STAMP)
	$(PY) ../shared/contract/check.py schema.graphql

clean:
	rm -rf $(VENV) $(UV_VENV) .data *.egg-info
