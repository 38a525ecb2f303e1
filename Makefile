# django-graceful-cancel: `make demo` serves the example site, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Django 6 needs Python 3.12+: prefer pyenv's 3.12/3.13, then the system's.
PYTHON ?= $(shell for p in $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3 \
	$$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3 python3.12 python3.13 python3; do \
	command -v "$$p" >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/graceful_cancel
PYTEST_ARGS ?=
# The PostgreSQL pass runs on CI, or whenever DATABASE_URL is set.
RUN_PG := $(if $(filter true 1,$(CI)),1,$(if $(DATABASE_URL),1,))

.PHONY: help venv sysdeps demo test test-sqlite test-postgres lint format messages clean

help:
	@echo "make demo   - install, migrate, load demo data, serve http://127.0.0.1:8000 (log in as alice/demo, admin/admin)"
	@echo "make test   - install, lint, run the whole suite (SQLite; PostgreSQL too on CI or with DATABASE_URL)"
	@echo "make docs / typecheck / build - strict docs site, mypy, wheel + sdist with a smoke test"
	@echo "make matrix / corners - the Django x Python x database matrix with nox / its two corners"
	@echo "make reliability - the reliability tests with a longer, randomised Hypothesis run"

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.12+ found"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# System packages the suite needs: Debian's Chromium for the browser tests, gettext for messages.
sysdeps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: venv
	cd example_project && DEMO=1 ../$(PY) manage.py migrate --noinput
	cd example_project && DEMO=1 ../$(PY) manage.py load_demo_data
	@echo "Serving http://127.0.0.1:8000 : log in as alice / demo (bruno: Spanish; greta: Germany, jeanne: France, mia: Minnesota); staff: admin / admin"
	cd example_project && DEMO=1 ../$(PY) manage.py runserver 127.0.0.1:8000

# Next to `make demo`: sends follow-ups as they fall due (a demo "day" lasts half a second, so a
# cancellation's whole sequence plays in the console in about 15 seconds; docs/followups.md).
.PHONY: demo-followups
demo-followups: venv
	cd example_project && DEMO=1 ../$(PY) manage.py graceful_cancel_send_followups --forever --interval 0.5

# The same demo on the Stripe backend, against localstripe on 127.0.0.1:8420 (docs/stripe.md).
STRIPE_DEMO_ENV := DEMO=1 GRACEFUL_CANCEL_BACKEND=stripe STRIPE_API_BASE=http://127.0.0.1:8420
.PHONY: stripe-server demo-stripe

stripe-server: venv
	$(PY) tests/localstripe_server.py 8420

demo-stripe: venv
	@$(PY) tests/localstripe_server.py 8420 & LS=$$!; trap "kill $$LS" EXIT; \
	until (exec 3<>/dev/tcp/127.0.0.1/8420) 2>/dev/null; do sleep 0.2; done; \
	cd example_project && $(STRIPE_DEMO_ENV) ../$(PY) manage.py migrate --noinput && \
	$(STRIPE_DEMO_ENV) ../$(PY) manage.py load_demo_data && \
	$(STRIPE_DEMO_ENV) ../$(PY) manage.py seed_stripe --webhook-url http://127.0.0.1:8000/billing/stripe/webhook/ && \
	echo "Serving http://127.0.0.1:8000 on Stripe (localstripe): log in as alice / demo" && \
	$(STRIPE_DEMO_ENV) ../$(PY) manage.py runserver --noreload 127.0.0.1:8000

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: venv sysdeps
	cd django_graceful_cancel && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(PY) -m django makemessages -l es --no-obsolete --add-location file
	cd django_graceful_cancel && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(PY) -m django compilemessages

# Each pass runs the package's suite (tests/: its own test project), then the example site's smoke
# tests (example_project/tests/: its own pytest.ini and settings; the browser tests that take the
# docs' screenshots are there). Every non-zero exit fails make, pytest's 5 (nothing collected)
# included. PYTEST_ARGS go to the suite, EXAMPLE_PYTEST_ARGS to the smoke tests.
EXAMPLE_TESTS := example_project/tests
EXAMPLE_PYTEST_ARGS ?=

test-sqlite: venv sysdeps
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS)
	env -u DATABASE_URL $(PY) -m pytest $(EXAMPLE_TESTS) $(EXAMPLE_PYTEST_ARGS)

test-postgres: venv
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) -m pytest -m "not browser" $(PYTEST_ARGS)
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) -m pytest $(EXAMPLE_TESTS) -m "not browser" \
		$(EXAMPLE_PYTEST_ARGS)

# The docs build in ~3 s: a broken link fails `make test` like a failing test.
# The whole suite: lint, docs, types, SQLite (browser tests included), then on CI or with
# DATABASE_URL the PostgreSQL pass (real Celery workers), the oldest and newest corners of the
# support matrix, and the release build with its wheel smoke test.
test: lint docs typecheck test-sqlite
ifeq ($(RUN_PG),1)
	$(MAKE) test-postgres
	$(MAKE) corners
	$(MAKE) build
endif

clean:
	rm -rf $(VENV) example_project/db.sqlite3 .pytest_cache

# --- Release gates (issue 9): docs, types, package, support matrix ---------------------------
.PHONY: docs typecheck build matrix corners
NOX := $(VENV)/bin/nox

docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

typecheck: venv
	PYTHONPATH=. $(VENV)/bin/mypy django_graceful_cancel

build: venv
	rm -rf dist
	$(PY) -m build --outdir dist
	$(VENV)/bin/twine check --strict dist/*
	$(PY) scripts/check_dist.py dist
	$(PY) scripts/smoke_wheel.py dist

# The whole support matrix (Django x Python x SQLite/PostgreSQL), one nox session per cell.
matrix: venv
	$(NOX) -s tests $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS),)

# The oldest and newest corners (Django 5.2 on Python 3.11, Django 6.1 on Python 3.13), SQLite,
# without the browser and real-worker tests.
corners: venv
	$(NOX) -t corners $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS),)

# --- Benchmarks (issue 8): not part of `make test` ------------------------------------------
# One table, each figure next to a baseline measured in the same run (docs/performance.md).
# Sizes: BENCH_CASES (1,000,000), BENCH_FLOWS (300), BENCH_SWEEP_ROWS (100,000), BENCH_WORKERS,
# BENCH_ROLLUP_CASES (1,000,000); it ends with each goal of issue 19, met or missed.
.PHONY: bench
bench: venv
	$(PY) benchmarks/run.py

# The private classifier (issue 20): held-out accuracy per language against the most frequent
# root cause, and training time and memory on 10,000 cases (docs/insights.md).
.PHONY: bench-insights
bench-insights: venv
	$(PY) benchmarks/classifier.py --json benchmarks/results/classifier.json

# --- Reliability (issue 14): not part of `make test` -------------------------------------------
# The reliability-marked tests with Hypothesis's "long" profile (tests/conftest.py): the service
# layer's state machine randomised, with ten times the examples of the derandomised "ci" profile
# `make test` uses. A failure prints the @reproduce_failure blob that replays it.
.PHONY: reliability
reliability: venv
	$(PY) -m pytest -m reliability --hypothesis-profile=long $(PYTEST_ARGS)
