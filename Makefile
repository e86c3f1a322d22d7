# Two commands from a fresh clone: `make run` (the platform) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install islands run test test-engine test-js lint schema benchmark

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# JavaScript islands, one folder each under frontend/ with its own package.json and lockfile:
# `npm ci` when the lockfile changed, the bundle (static/<island>/, gitignored) rebuilt when a
# source changed. Without npm they are skipped with a warning: pages work without them.
ISLANDS := $(notdir $(wildcard frontend/*))
HAVE_NPM := $(shell command -v npm 2>/dev/null)
island_sources = $(shell find frontend/$(1)/src -type f 2>/dev/null) \
	$(wildcard frontend/$(1)/vite.config.ts frontend/$(1)/tsconfig.json frontend/$(1)/package.json)

.SECONDEXPANSION:
frontend/%/node_modules/.installed: frontend/%/package-lock.json
	cd frontend/$* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/%/node_modules/.built: frontend/%/node_modules/.installed $$(call island_sources,$$*)
	cd frontend/$* && npm run --silent build
	touch $@

ifeq ($(HAVE_NPM),)
islands:
	@echo "make: npm not found: the JavaScript islands ($(ISLANDS)) are not built; install Node.js 20" >&2
else
islands: $(ISLANDS:%=frontend/%/node_modules/.built)
endif

# The islands' own unit tests (Vitest).
test-js: $(ISLANDS:%=frontend/%/node_modules/.installed)
	for island in $(ISLANDS); do (cd frontend/$$island && npm test --silent) || exit 1; done

install: $(STAMP) islands

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

# Measure a running platform (start it with `make run` first).
benchmark: install
	$(PY) manage.py benchmark $(BENCHMARK_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
