# `make run` and `make test` work from a fresh clone with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test migrate worker schema check-contract clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m api migrate
	$(PY) -m api serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(PY) -m pytest -q

migrate: $(STAMP)
	$(PY) -m api migrate

worker: $(STAMP)
	$(PY) -m api worker

# Re-export schema.graphql from the code (a test fails when it is stale).
schema: $(STAMP)
	$(PY) -m api export-schema > schema.graphql

check-contract: $(STAMP)
	$(PY) ../shared/contract/check.py schema.graphql

clean:
	rm -rf $(VENV) .data *.egg-info
