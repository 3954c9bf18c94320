# Two commands for a new user: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo messages clean install

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(VENV)/.installed-local: $(VENV)/bin/python requirements/base.txt requirements/local.txt
	$(PY) -m pip install -r requirements/local.txt
	touch $@

install: $(VENV)/.installed-local

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

## Set up everything and serve the demo on the embedded default (SQLite, local memory),
## with one fulfilment agent beside the web server; Ctrl-C stops both.
run: demo
	@$(PY) manage.py run_agent & agent=$$!; \
	trap 'kill -TERM $$agent 2>/dev/null; wait $$agent' EXIT; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## Set up and run every test: lint, then the whole pytest suite.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Compile the .po translation catalogues to .mo (pure Python, no GNU gettext needed).
messages: install
	$(PY) -m core.compilemessages

clean:
	rm -rf $(VENV) var staticfiles
