# One command each: make run, make test, make lint. Every target installs what it needs.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint migrate supergraph bench chaos clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m scripts.run

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy common services gateway scripts

migrate: $(STAMP)
	$(PY) -m scripts.migrate

supergraph: $(STAMP)
	$(PY) -m scripts.supergraph

bench: $(STAMP)
	$(PY) -m bench

# The chaos suite for longer than `make test` runs it: crashes NATS and every service, in
# rounds, under load, and prints what happened to every event.
CHAOS_SECONDS ?= 300
chaos: $(STAMP)
	CHAOS_SECONDS=$(CHAOS_SECONDS) $(PY) -m pytest -q -s -p no:cacheprovider tests/chaos

clean:
	rm -rf $(VENV) var
