# The two set-up commands are `make bench` and `make test`; both start from a fresh clone
# with only python3 and pip on the machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not network" -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# resolvent is installed editable: its bytecode is written here, once per change, so
# that a shell with PYTHONDONTWRITEBYTECODE set does not time recompiling every module.
# Not the harness's work folders: they hold the other tools' environments and caches.
COMPILE := $(BIN)/python -m compileall -q -x '[/\\]\.(work|mirror)([/\\]|$$)' resolvent bench

bench: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
