# ETL-Express. Two commands matter: `make up` runs the service, `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.etlx-installed
PYTEST_ARGS ?=
ROWS ?= 1000000

.PHONY: help venv up down status test test-unit lint typecheck lock system-deps bench eval-privacy clean

help:
	@echo "make up          start ETL-Express (Airflow + plugin + demo) in the background"
	@echo "make down        stop everything 'make up' started"
	@echo "make test        install what the tests need and run the whole suite"
	@echo "make lint        ruff + mypy"
	@echo "make lock        regenerate requirements*.txt from requirements*.in"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	@# Bytecode now, once: this environment never writes .pyc files (PYTHONDONTWRITEBYTECODE),
	@# so without it every Airflow task process compiles its imports again (5.5 s vs 2.2 s).
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt -r requirements-dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

up: venv
	@$(BIN)/etlx up

down:
	@if [ -x $(BIN)/etlx ]; then $(BIN)/etlx down; else echo "nothing to stop (no $(VENV))"; fi

status: venv
	@$(BIN)/etlx status

test: venv system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check etl_express tests dags plugins bench
	$(BIN)/ruff format --check etl_express tests dags plugins bench
	$(BIN)/mypy

# Throughput and peak RSS of five paths (ROWS=N rows; BENCH_ARGS: --peer-rows, --paths,
# --regenerate); writes bench/results/latest.json (+ latest-details.json).
bench: venv
	OPENBLAS_NUM_THREADS=1 TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS= $(BIN)/python bench/run.py --rows $(ROWS) $(BENCH_ARGS)

# Detection quality and speed on ../shared/privacy-corpus (EVAL_ARGS: --corpus DIR, --no-presidio,
# --modes full,patterns, --output FILE); writes bench/results/privacy.json.
eval-privacy: venv
	OPENBLAS_NUM_THREADS=1 TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS= $(BIN)/python -m etl_express.evaluation.privacy $(EVAL_ARGS)

lock:
	$(BIN)/uv pip compile requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/uv pip compile requirements-dev.in -o requirements-dev.txt --python-version 3.11

clean: down
	rm -rf .etlx test-output
