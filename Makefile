# IMNM Navigator — two commands to green on a fresh Debian machine with Python 3.11:
#   make run    creates .venv, installs, runs the main job on the bundled examples
#   make test   installs what the tests need; runs ruff, mypy --strict on src/, and every test
#   make serve  the web app, records service and API on the bundled examples (a fresh SQLite file)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
SERVESTAMP := $(VENV)/.installed-server
PORT   ?= 8000
AS_OF  ?= 2026-11-25

.PHONY: run test lint typecheck unit bench clean venv dev serve system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot]"  # plots (imnm activity --plot) work after make run
	$(BIN)/python -m compileall -q src  # bytecode for a fast cold start (even with PYTHONDONTWRITEBYTECODE)
	touch $@

$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m compileall -q src
	touch $@ $(STAMP)

$(SERVESTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[server]"
	$(BIN)/python -m compileall -q src
	touch $@ $(STAMP)

venv: $(STAMP)
dev: $(DEVSTAMP)

run: $(STAMP)
	$(BIN)/imnm validate examples/*.yaml
	@for f in examples/*.yaml; do $(BIN)/imnm facts "$$f" --as-of $(AS_OF) || exit $$?; done
	$(BIN)/imnm screen examples/screener/answers.yaml
	$(BIN)/imnm assess examples/anti-hmgcr.yaml --as-of $(AS_OF)
	$(BIN)/imnm activity examples/anti-hmgcr.yaml
	$(BIN)/imnm response examples/anti-hmgcr.yaml
	$(BIN)/imnm activity examples/anti-srp-grades-haq.yaml
	$(BIN)/imnm response examples/anti-srp-grades-haq.yaml
	$(BIN)/imnm trials examples/anti-hmgcr.yaml --as-of $(AS_OF)
	@echo "What next: .venv/bin/imnm --help (or . .venv/bin/activate, then imnm screen to answer the screener)."

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench scripts

typecheck: $(DEVSTAMP)
	$(BIN)/mypy --strict src

# System packages the tests need: PostgreSQL (the store suite starts a throwaway cluster itself) and
# Chromium (the browser tests drive Debian's chromium through Playwright; never `playwright install`).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then echo "PostgreSQL is missing: sudo apt-get install postgresql"; exit 1; fi; \
	  echo "installing the Debian package postgresql (store tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "Chromium is missing: sudo apt-get install --no-install-recommends chromium"; exit 1; fi; \
	  echo "installing the Debian package chromium (browser tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

unit: $(DEVSTAMP) system-deps
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(DEVSTAMP)
	$(BIN)/python bench/run.py
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 || true; fi
	$(BIN)/python bench/api.py
	$(BIN)/python bench/cds.py
	$(BIN)/python bench/web.py

serve: $(SERVESTAMP)
	BIN=$(BIN) PORT=$(PORT) scripts/serve-demo.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
