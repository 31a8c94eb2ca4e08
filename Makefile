# The two set-up commands of the README: `make demo` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Node tooling of the tests (graphql-http audit, graphql-ws client, federation composition),
# installed when node and npm are on PATH; without them those tests skip and say why.
NODE_STAMP := tests/node/node_modules/.installed
NPM := $(and $(shell command -v node 2>/dev/null),$(shell command -v npm 2>/dev/null))

.PHONY: demo test check test-postgres serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,otel]'
	touch $(STAMP)

## Install everything, load the demo catalogue and serve http://127.0.0.1:8000/graphql
demo: $(STAMP)
	$(BIN)/entraide-hub demo

$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	cd tests/node && npm ci --no-audit --no-fund
	touch $@

# The suite on one worker per core (at most 4; PostgreSQL: one database per worker, beside
# HUB_TEST_DATABASE_URL's). TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --maxprocesses=4 --dist loadgroup

## Install everything and run the test suite (SQLite; PostgreSQL when HUB_TEST_DATABASE_URL is set)
test: $(STAMP) $(if $(NPM),$(NODE_STAMP))
	$(BIN)/python -m pytest $(PYTEST_PARALLEL)

## Format check, lint and strict type check
check: $(STAMP)
	scripts/check

serve: $(STAMP)
	$(BIN)/entraide-hub serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache entraide-hub.db*
