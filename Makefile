# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
DEMO_CUSTOMERS ?= 3000
PORT ?= 8000
# make run is a developer's machine: debug on, SQLite and the embedded broker unless told otherwise.
RUN_ENV := DJANGO_DEBUG=1

.PHONY: install run test lint migrate messages demo clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,dev,bench]'
	touch $@

install: $(VENV)/.installed

var:
	mkdir -p var/celery/queue var/celery/control var/celery/processed var/media var/static

messages: install
	@if command -v msgfmt >/dev/null; then \
	  $(RUN_ENV) $(PY) manage.py compilemessages --ignore '.venv' --ignore 'var' -v 0; \
	else echo "msgfmt not found (apt-get install gettext): using the committed .mo files"; fi

migrate: install var
	$(RUN_ENV) $(PY) manage.py migrate --noinput -v 0

demo: migrate
	$(RUN_ENV) $(PY) manage.py generate_demo_data --customers $(DEMO_CUSTOMERS)
	$(RUN_ENV) $(PY) manage.py seed_programs
	$(RUN_ENV) $(PY) manage.py earn_points
	$(RUN_ENV) $(PY) manage.py seed_sequences
	$(RUN_ENV) $(PY) manage.py seed_feedback --demo
	$(RUN_ENV) $(PY) manage.py seed_tickets --demo
	$(RUN_ENV) $(PY) manage.py refresh_customer_values || echo "lifetime values: too few purchases to fit yet"
	$(RUN_ENV) $(PY) manage.py compute_kpis

run: messages demo
	@echo
	@echo "  Admin:  http://127.0.0.1:$(PORT)/admin/    API docs: http://127.0.0.1:$(PORT)/api/docs/"
	@echo "  Logins (password demo-pass-2026): supervisor, rm1, rm2"
	@echo "  Ctrl-C stops the web server, the Celery worker and Celery beat."
	@echo
	$(RUN_ENV) PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install var messages lint
	$(RUN_ENV) DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

clean:
	rm -rf var $(VENV)
