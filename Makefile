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

.PHONY: run test lint typecheck unit bench fuzz soak clean venv dev serve system-deps report-deps report-test-deps sysdeps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[plot,reports]"  # plots and reports work after make run
	$(BIN)/python -m compileall -q src  # bytecode for a fast cold start (even with PYTHONDONTWRITEBYTECODE)
	touch $@

$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m compileall -q src
	touch $@ $(STAMP)

$(SERVESTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[server,reports,fhir]"  # the web app's PDF reports and FHIR uploads
	$(BIN)/python -m compileall -q src
	touch $@ $(STAMP)

venv: $(STAMP)
dev: $(DEVSTAMP)

run: $(STAMP) report-deps
	$(BIN)/imnm validate examples/*.yaml
	@for f in examples/*.yaml; do $(BIN)/imnm facts "$$f" --as-of $(AS_OF) || exit $$?; done
	$(BIN)/imnm screen examples/screener/answers.yaml
	$(BIN)/imnm assess examples/anti-hmgcr.yaml --as-of $(AS_OF)
	$(BIN)/imnm activity examples/anti-hmgcr.yaml
	$(BIN)/imnm response examples/anti-hmgcr.yaml
	$(BIN)/imnm activity examples/anti-srp-grades-haq.yaml
	$(BIN)/imnm response examples/anti-srp-grades-haq.yaml
	$(BIN)/imnm trials examples/anti-hmgcr.yaml --as-of $(AS_OF)
	@mkdir -p out/reports
	@$(BIN)/imnm report examples/anti-hmgcr.yaml --as-of $(AS_OF) --overwrite -o out/reports/anti-hmgcr-clinician.pdf
	@$(BIN)/imnm report examples/anti-hmgcr.yaml --for patient --as-of $(AS_OF) --overwrite -o out/reports/anti-hmgcr-patient.pdf
	@echo "What next: .venv/bin/imnm --help (or . .venv/bin/activate, then imnm screen to answer the screener)."

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench scripts

typecheck: $(DEVSTAMP)
	$(BIN)/mypy --strict src

# Java for the Spark suite (pyspark local mode), installed only when missing.
sysdeps:
	@command -v java >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless)

# System packages the tests need: PostgreSQL (the store suite starts a throwaway cluster itself).
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then echo "PostgreSQL is missing: sudo apt-get install postgresql"; exit 1; fi; \
	  echo "installing the Debian package postgresql (store tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi

# System packages of the reports (issue 15): Pango and the DejaVu fonts for WeasyPrint (make run and the
# tests), poppler-utils (pdftotext, pdffonts, pdftoppm) and chromium (axe-core in a real browser) for the
# tests. Installed only when missing.
REPORT_PKGS := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
TEST_PKGS := poppler-utils chromium

define apt_missing
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (sudo apt-get install --no-install-recommends$$missing)"; exit 1; fi; \
	  echo "installing the Debian packages$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

report-deps:
	$(call apt_missing,$(REPORT_PKGS))

report-test-deps: report-deps
	$(call apt_missing,$(TEST_PKGS))


unit: $(DEVSTAMP) system-deps report-test-deps sysdeps
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest -q -m "not slow"

test: lint typecheck unit

bench: $(DEVSTAMP)
	$(BIN)/python bench/run.py
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 || true; fi
	$(BIN)/python bench/api.py
	$(BIN)/python bench/cds.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/cohort.py    # OMOP registry screening, 1 M persons (see README for 10 M)
	$(BIN)/python bench/load.py      # load: capacity of the realistic mix, throughput, p50/p99, errors

# Not in CI. The fuzz strategies of `make test` at FUZZ_INPUTS inputs (random, failures collected, the
# smallest input of each crash saved), schemathesis at 50 cases per operation and role, five SIGKILL rounds
# per database. Counts per input kind: out/fuzz/report.json and report.md.
FUZZ_INPUTS ?= 100000
fuzz: $(DEVSTAMP) system-deps
	@mkdir -p out/fuzz
	IMNM_FUZZ_INPUTS=$(FUZZ_INPUTS) IMNM_FUZZ_COLLECT=1 IMNM_FUZZ_DIR=out/fuzz/crashes \
	  IMNM_FUZZ_REPORT=out/fuzz/report.json IMNM_SCHEMATHESIS_EXAMPLES=50 \
	  $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz
	IMNM_DURABILITY_REPORT=out/fuzz/durability.txt $(BIN)/python -m pytest -q -p no:cacheprovider -m slow -s tests/durability

# Not in CI: 10 minutes at 80 % of the measured capacity, RSS sampled every 10 s; fails on an error or growing memory.
soak: $(DEVSTAMP)
	$(BIN)/python bench/load.py --soak 600 --json out/bench/soak.json

serve: $(SERVESTAMP) report-deps
	BIN=$(BIN) PORT=$(PORT) scripts/serve-demo.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
