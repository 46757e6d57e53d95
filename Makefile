# Two entry points for a fresh machine: `make run` (dashboard on the demo database) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := data/wpmi.sqlite

.PHONY: run test demo install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(DEMO_DB): | $(VENV)/.installed
	$(BIN)/wpmi demo --scale small --db sqlite:///$(DEMO_DB)

demo: $(VENV)/.installed
	$(BIN)/wpmi demo --scale small --db sqlite:///$(DEMO_DB) --replace

run: $(VENV)/.installed $(DEMO_DB)
	$(BIN)/streamlit run streamlit_app.py --server.port 8501 --server.headless true --server.address 127.0.0.1

# The layers (import-linter), lint and format (ruff), types (mypy), then the tests.
test: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The programme-scale benchmark (docs/performance.md): builds and caches the 1.8M-journey demo in bench/.cache/.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
