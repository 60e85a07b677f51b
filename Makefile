# Lakegate — the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EXTRAS := dev,azure,spark,oracle,mssql,celery
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: env browser demo test lint format typecheck unit integration bench clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install --compile-bytecode --python $(BIN)/python -e '.[$(EXTRAS)]'
	rm -f $(VENV)/.installed-*
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

demo: env
	$(BIN)/lakegate demo

lint: env
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: env
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: env
	$(BIN)/mypy

# Chromium renders the HTML quality report in one test; optional, installed where we can.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "warning: chromium is not installed; the report screenshot test will be skipped"

test: env node_modules/.installed browser lint typecheck
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" $(BIN)/pytest -n 2 --dist loadgroup --timeout 600 --durations=15 $(PYTEST_ARGS)

unit: env
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: env node_modules/.installed
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" $(BIN)/pytest tests/integration $(PYTEST_ARGS)

# The editable install leaves src/ uncompiled (and PYTHONDONTWRITEBYTECODE may be set):
# compile it once so `lakegate` starts like an installed wheel, whose .pyc pip writes.
bench: env
	$(BIN)/uv pip install --python $(BIN)/python -e '.[$(EXTRAS),bench]'
	$(BIN)/python -m compileall -q src
	$(BIN)/python bench/ingest_postgres.py
	$(BIN)/python bench/quality.py

clean:
	rm -rf $(VENV) node_modules lake metadata lakegate.db .pytest_cache .mypy_cache .ruff_cache
