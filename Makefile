# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck i18n pytest e2e bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: export YIWANG_DEBUG ?= true
run: $(VENV)/.installed
	$(BIN)/yiwang migrate --noinput
	$(BIN)/yiwang demo
	@echo ""
	@echo "  Yiwang is running at http://$(HOST):$(PORT)/  (English: http://$(HOST):$(PORT)/en/)"
	@echo ""
	$(BIN)/yiwang runserver $(HOST):$(PORT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

i18n: $(VENV)/.installed-dev
	$(BIN)/yiwang i18n_check

pytest: $(VENV)/.installed-dev
	scripts/ensure-browser
	$(BIN)/pytest -p no:cacheprovider

test: lint typecheck i18n pytest

bench: $(VENV)/.installed-dev
	bench/run

clean:
	rm -rf $(VENV) var
