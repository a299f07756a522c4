# Two commands on a fresh machine (Python 3.10-3.13 and make):
#   make demo    set up a virtual environment and assess a shipped example case
#   make test    set up a virtual environment and run the tests
# PYTHON picks the interpreter (make test PYTHON=python3.13); VENV the environment's folder.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo consult test bench bench-smoke lint clean

$(BIN)/spasm: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

demo: $(BIN)/spasm
	$(BIN)/spasm assess examples/heat-cramps.yaml

consult: $(BIN)/spasm
	$(BIN)/spasm consult

test: $(BIN)/spasm
	$(BIN)/python -m pytest -q

bench: $(BIN)/spasm
	$(BIN)/python -m bench

bench-smoke: $(BIN)/spasm
	$(BIN)/python -m bench --quick

lint: $(BIN)/spasm
	$(BIN)/spasm kb lint --strict

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
