# Two commands from a fresh clone: `make run` (the platform) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install islands run test test-engine test-js lint schema benchmark chaos builder-types \
	builder-types-check

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# JavaScript islands, one folder each under frontend/ with its own package.json and lockfile:
# `npm ci` when the lockfile changed, the bundle (static/<island>/, gitignored) rebuilt when a
# source changed. Without Node.js 20.19+ and npm (Vite needs it) they are skipped with a warning:
# the platform runs, the charts are not drawn and the builder pages say the bundle is missing.
ISLANDS := $(notdir $(wildcard frontend/*))
HAVE_NODE := $(shell command -v npm >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null && echo yes)
island_sources = $(shell find frontend/$(1)/src -type f 2>/dev/null) \
	$(wildcard frontend/$(1)/vite.config.ts frontend/$(1)/tsconfig.json frontend/$(1)/package.json)

.SECONDEXPANSION:
frontend/%/node_modules/.installed: frontend/%/package-lock.json
	cd frontend/$* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/%/node_modules/.built: frontend/%/node_modules/.installed $$(call island_sources,$$*)
	cd frontend/$* && npm run --silent build
	touch $@

ifeq ($(HAVE_NODE),)
islands:
	@echo "make: Node.js 20.19+ with npm not found: the JavaScript islands ($(ISLANDS)) are not built" >&2
else
islands: $(ISLANDS:%=frontend/%/node_modules/.built)
endif

# The islands' own unit tests (Vitest).
test-js: $(ISLANDS:%=frontend/%/node_modules/.installed)
	for island in $(ISLANDS); do (cd frontend/$$island && npm test --silent) || exit 1; done

install: $(STAMP) islands

# The API types the builder compiles against, generated from the OpenAPI schema; the check
# fails when the committed ones no longer match the API.
BUILDER := frontend/builder
builder-types: schema $(BUILDER)/node_modules/.installed
	cd $(BUILDER) && npm run --silent api-types

builder-types-check: schema $(BUILDER)/node_modules/.installed
	cd $(BUILDER) && npx --no-install openapi-typescript ../../var/openapi.yaml \
		-o ../../var/builder-schema.d.ts --silent
	cmp -s var/builder-schema.d.ts $(BUILDER)/src/api/schema.d.ts \
		|| { echo "$(BUILDER)/src/api/schema.d.ts is stale: run make builder-types" >&2; exit 1; }

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py demo_user
	$(PY) manage.py runplatform

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The engine's tests without Django at all: proves apps/executions/engine stands alone.
test-engine: install
	$(PY) -m pytest -p no:django -o addopts="" -W ignore::pytest.PytestConfigWarning \
		--confcutdir=tests/executions/engine tests/executions/engine

# The chaos suite (tests/chaos): web, workers, beat and a Redis of its own under CHAOS_RUNS runs
# per fault; kills a worker, the Redis, the test database's PostgreSQL backends (it needs
# DATABASE_URL on PostgreSQL) and prints the counts. CHAOS_BROKER_URL=amqp://… puts the broker
# on RabbitMQ instead of that Redis.
CHAOS_RUNS ?= 100
chaos: install
	CHAOS_RUNS=$(CHAOS_RUNS) $(PY) -m pytest tests/chaos -s -p no:logging $(PYTEST_ARGS)

# Measure a running platform (start it with `make run` first).
benchmark: install
	$(PY) manage.py benchmark $(BENCHMARK_ARGS)

# mypy's Django plugin imports the settings: a REDIS_URL given (nothing connects to it) keeps
# them from starting the embedded Redis just to type-check.
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(VENV)/bin/mypy

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
