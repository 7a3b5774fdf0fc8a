# Promise Desk: the two commands that matter are `make run` and `make test`.
# Both create the virtualenv and install what they need first, on a fresh machine.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

# make test runs against the real services on loopback; override any of these to point elsewhere.
TEST_ENV := ENVIRONMENT=test \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/promisedesk} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/1} \
	CELERY_BROKER_URL=$${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/2}

.PHONY: run test lint prepare-test clean help

help:
	@echo "make run    set up and run the whole system (web, Celery worker and beat) on embedded defaults"
	@echo "make test   set up and run the whole test suite against PostgreSQL and Redis on loopback"
	@echo "make lint   ruff and Django's system checks"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps: reinstall only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python scripts/run.py

# Installs Chromium and faketime and starts PostgreSQL and Redis on loopback when missing (as root), or stops
# with the command that fixes it: scripts/prepare_test.py says how.
prepare-test: $(VENV)/.dev
	@$(TEST_ENV) $(BIN)/python scripts/prepare_test.py

test: $(VENV)/.dev prepare-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py check

clean:
	rm -rf $(VENV) var
