# IMNM Navigator — two commands to green on a fresh Debian machine with Python 3.11:
#   make run    creates .venv, installs, runs the main job on the bundled examples
#   make test   installs what the tests need; runs ruff, mypy --strict on src/, and every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
AS_OF  ?= 2026-11-25

.PHONY: run test lint typecheck unit bench clean venv dev sysdeps

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
	$(BIN)/ruff check src tests bench

typecheck: $(DEVSTAMP)
	$(BIN)/mypy --strict src

# System packages the tests need (installed only when missing; we run as root on Debian).
sysdeps:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless)

unit: $(DEVSTAMP) sysdeps
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest -q -m "not slow"

test: lint typecheck unit

bench: $(DEVSTAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/cds.py
	$(BIN)/python bench/cohort.py    # OMOP registry screening, 1 M persons (see README for 10 M)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
