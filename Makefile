# Two entry points (see README): `make book` and `make test`. Both set up .venv from the lock file first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: setup book test test-fast smoke status lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml requirements/lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

setup: $(STAMP)  ## create .venv with the locked versions

book: $(STAMP)  ## run stale chapters (smoke profile) and build the book into _build/html
	$(PY) -m reprobook book --jobs $(JOBS)

test: $(STAMP)  ## the whole test suite: unit tests, chapter smoke runs, result regression, book build
	$(PY) -m pytest

test-fast: $(STAMP)  ## unit tests only (no notebooks, no book)
	$(PY) -m pytest -m "not notebook and not book"

smoke: $(STAMP)  ## run every chapter in the smoke profile
	$(PY) -m reprobook run --profile smoke --jobs $(JOBS)

status: $(STAMP)  ## table of chapters, last runs and verdicts
	$(PY) -m reprobook status

lock:  ## rewrite requirements/lock.txt from .venv (after pip-installing a new dependency into it)
	@test -x $(PY) || { echo "no .venv: run make setup first"; exit 1; }
	{ echo "# Exact versions every set-up installs (make setup). Regenerate with: make lock"; \
	  $(PY) -m pip freeze --exclude-editable | grep -iv '^reprobook'; } > requirements/lock.txt
	$(PY) -m pip check
	touch $(STAMP)

clean:  ## remove build products (keeps .venv)
	rm -rf _build book/dashboard.md
