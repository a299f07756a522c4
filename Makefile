# Two commands on a fresh machine (Python 3.10-3.13 and make):
#   make demo    set up a virtual environment and assess a shipped example case
#   make test    set up a virtual environment and run the tests
#   make serve   the HTTP service on loopback, authentication off (trying it out only)
# PYTHON picks the interpreter (make test PYTHON=python3.13); VENV the environment's folder.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo consult serve test typecheck host-test bench bench-smoke lint clean

$(BIN)/spasm: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,service]'
	@touch $@

demo: $(BIN)/spasm
	$(BIN)/spasm assess examples/heat-cramps.yaml

consult: $(BIN)/spasm
	$(BIN)/spasm consult

# The HTTP service on http://127.0.0.1:8080 (docs at /docs) with authentication switched off:
# for trying it on this machine only. README "Calling it over HTTP" sets up keys and tokens.
serve: $(BIN)/spasm
	$(BIN)/spasm serve --insecure-dev

test: $(BIN)/spasm
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

typecheck: $(BIN)/spasm
	$(BIN)/python -m mypy expert cli service --ignore-missing-imports

# Installs into an environment that already has frozendict 2 and schema 0.7 (as a host
# application might), by the README's recipe, and runs the tests there.
HOST_VENV ?= $(VENV)-host
host-test:
	$(PYTHON) -m venv $(HOST_VENV)
	$(HOST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "frozendict==2.5.1" "schema==0.7.8"
	$(HOST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps experta==1.9.4
	$(HOST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "click>=8.1" "PyYAML>=6.0"
	$(HOST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(HOST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "pytest>=7.4" "hypothesis>=6.80" "pexpect>=4.8" "jsonschema>=4.17"
	$(HOST_VENV)/bin/python -c "import frozendict, schema; assert frozendict.__version__.startswith('2.'), frozendict.__version__"
	$(HOST_VENV)/bin/python -m pytest -q -m "not slow"

bench: $(BIN)/spasm
	$(BIN)/python -m bench

bench-smoke: $(BIN)/spasm
	$(BIN)/python -m bench --quick

lint: $(BIN)/spasm
	$(BIN)/spasm kb lint --strict

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
