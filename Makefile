# The whole set-up is two commands: `make run` and `make test`. Both create the virtualenv when needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
# The suite runs in one process per core (pytest-xdist); PYTEST_WORKERS=0 runs it in this process alone.
# --dist worksteal: the browser tests, collected last (conftest.py), are what an idle process takes from the other.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=

.PHONY: run test install messages testtools migrate demo lint format check worker beat clean audit

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# French and Dutch catalogues, compiled on every run so a fresh clone shows translations. GNU gettext's msgfmt
# when the machine has it; otherwise polib (a dev dependency) writes the same .mo files in pure Python.
messages: install
	@if command -v msgfmt >/dev/null 2>&1; then \
		$(BIN)/python manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules; \
	else \
		$(BIN)/python -c 'import glob, polib; [polib.pofile(p).save_as_mofile(p[:-3] + ".mo") for p in glob.glob("locale/*/LC_MESSAGES/*.po")]'; \
	fi

# Test-only tools from npm (axe-core for the accessibility test), when npm is there to install them.
testtools:
	@if command -v npm >/dev/null 2>&1 && [ ! -f node_modules/axe-core/axe.min.js ]; then \
		npm ci --no-audit --no-fund --loglevel=error; \
	fi

migrate: messages
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

# Starts the site with demo data. With no REDIS_URL, Celery runs embedded (tasks run in the web
# process right after each commit); with REDIS_URL set, a worker and beat start beside the site.
run: demo
	@if [ -n "$$REDIS_URL$$CELERY_BROKER_URL" ]; then \
		echo "Starting Celery worker and beat against $${CELERY_BROKER_URL:-$$REDIS_URL}"; \
		$(BIN)/celery -A closegap worker --beat --loglevel=info --concurrency=2 & \
		trap 'kill %1' EXIT INT TERM; \
	else \
		echo "Celery runs embedded (no broker configured): counters update right after each change."; \
	fi; \
	echo "Open http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/, log in as admin/admin)"; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: messages testtools
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: lint test

worker: install
	$(BIN)/celery -A closegap worker --loglevel=info

beat: install
	$(BIN)/celery -A closegap beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache

# Known vulnerabilities in the installed dependencies (pip-audit): fails on one that has a fixed release.
audit: install
	$(BIN)/pip-audit --local --skip-editable --progress-spinner off -f json | $(BIN)/python .ci/audit_dependencies.py
