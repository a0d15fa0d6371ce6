# The two commands: `make run` (set up, demo data, serve) and `make test` (set up, run the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
PORT ?= 8000
export REGISTRY_INSTANCE_PATH ?= $(abspath $(INSTANCE))

.PHONY: run test bench setup lint clean

$(BIN)/registry: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $@

setup: $(BIN)/registry

run: setup
	$(BIN)/registry init
	$(BIN)/registry demo
	$(BIN)/registry serve --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/pytest -n 2 -q

lint: setup
	$(BIN)/lint-imports --no-logo
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/import.py
	$(BIN)/python bench/feed.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/http_api.py
	$(BIN)/python bench/stix_export.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/taxii.py
	$(BIN)/python bench/audit.py

clean:
	rm -rf $(VENV) $(INSTANCE) .pytest_cache
