# Two commands from a fresh clone: `make run` (the platform) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-engine lint schema benchmark chaos

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

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

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml
