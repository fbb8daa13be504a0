# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATABASE_URL_PG ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test lint test-postgres test-browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/sustain run --demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest -n 2 -m "not browser"

test-postgres: $(VENV)/.installed-test
	DATABASE_URL=$(DATABASE_URL_PG) $(BIN)/pytest -n 2 -m "not browser"

test-browser: $(VENV)/.installed-test
	$(BIN)/pytest -m browser

clean:
	rm -rf $(VENV) var
