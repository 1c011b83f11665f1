# The two commands a newcomer needs: `make run` (chat with the bot locally) and
# `make test` (every check CI runs). Each creates .venv by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint eval bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/briefbot chat

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

eval: $(VENV)/.installed-run
	$(BIN)/briefbot eval

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_engine.py

# Slack HTTP mode under 1,000 signed commands, the engine under 100,000 questions; takes
# minutes, so it is not part of `bench`. Smaller: make bench-load ARGS="--questions 10000"
bench-load: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_load.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
