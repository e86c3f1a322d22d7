# Two commands from a fresh clone: `make run` (the platform) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-engine lint schema benchmark builder builder-test builder-types \
	builder-types-check

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The builder island (frontend/builder): `npm ci` when the lockfile changed, the bundle
# (static/builder/, gitignored) rebuilt when a source changed. Without Node.js 20.19+ and npm it
# is skipped with a warning: the platform runs, the builder pages say the bundle is missing.
BUILDER := frontend/builder
BUILDER_MODULES := $(BUILDER)/node_modules/.installed
BUILDER_BUNDLE := static/builder/builder.js
BUILDER_SOURCES := $(shell find $(BUILDER)/src -type f 2>/dev/null) $(BUILDER)/vite.config.ts \
	$(BUILDER)/tsconfig.json $(BUILDER)/package.json
# Vite needs Node.js 20.19+: "yes" when npm and a recent enough node are here.
HAVE_NODE := $(shell command -v npm >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null && echo yes)

$(BUILDER_MODULES): $(BUILDER)/package-lock.json
	cd $(BUILDER) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BUILDER_BUNDLE): $(BUILDER_MODULES) $(BUILDER_SOURCES)
	cd $(BUILDER) && npm run --silent build

ifeq ($(HAVE_NODE),)
builder:
	@echo "make: Node.js 20.19+ with npm not found: the builder bundle is not built" >&2
else
builder: $(BUILDER_BUNDLE)
endif

builder-test: $(BUILDER_MODULES)
	cd $(BUILDER) && npm test --silent

# The API types the builder compiles against, generated from the OpenAPI schema; the check
# fails when the committed ones no longer match the API.
builder-types: schema $(BUILDER_MODULES)
	cd $(BUILDER) && npm run --silent api-types

builder-types-check: schema $(BUILDER_MODULES)
	cd $(BUILDER) && npx --no-install openapi-typescript ../../var/openapi.yaml \
		-o ../../var/builder-schema.d.ts --silent
	cmp -s var/builder-schema.d.ts $(BUILDER)/src/api/schema.d.ts \
		|| { echo "$(BUILDER)/src/api/schema.d.ts is stale: run make builder-types" >&2; exit 1; }

install: $(STAMP) builder

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
