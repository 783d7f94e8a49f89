# One command per job. `make dev` and `make test` create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The console (frontend/): npm ci when the lock file changed, a build when a source changed.
NPM_STAMP := frontend/node_modules/.installed
CONSOLE := frontend/dist/index.html
CONSOLE_SRC := $(shell find frontend/src -type f) $(wildcard frontend/*.json frontend/*.ts frontend/index.html)

.PHONY: dev test lint bench install lock console console-client

# Dependencies come from the hash-pinned lock; the project itself installs without them.
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

$(NPM_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

$(CONSOLE): $(NPM_STAMP) $(CONSOLE_SRC)
	cd frontend && npm run build --silent
	touch $(CONSOLE)

console: $(CONSOLE)

# Regenerate the console's API client from the app's OpenAPI document.
console-client: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m tgflows.openapi > frontend/openapi.json
	cd frontend && npx openapi-ts --silent

dev: $(STAMP) $(CONSOLE)
	$(BIN)/tgflows dev

# pytest includes the browser tests (tests/e2e) against the built console; then Vitest.
test: $(STAMP) $(CONSOLE)
	$(BIN)/pytest -q
	cd frontend && npm test --silent

lint: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	cd frontend && npm run lint --silent
	@tmp=$$(mktemp -d) && $(BIN)/python -m tgflows.openapi > $$tmp/openapi.json && \
	  (cd frontend && OPENAPI_INPUT=$$tmp/openapi.json OPENAPI_OUTPUT=$$tmp/client npx openapi-ts --silent) && \
	  diff -r $$tmp/client frontend/src/client > /dev/null || \
	  { echo "frontend/src/client is stale: run make console-client"; rm -rf $$tmp; exit 1; }; rm -rf $$tmp

bench: $(STAMP)
	TGFLOWS_TEST_TEMPORAL_LOG_LEVEL=never $(BIN)/pytest -q -s -m slow bench tests

# Re-resolve both lock files from pyproject.toml (after editing its dependencies).
LOCK_ARGS := --universal --python-version 3.11 --generate-hashes -q
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o requirements-dev.lock
