# make lab: JupyterLab with ainative, opening notebooks/.  make test: every test.  make bench: benchmarks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lab test lint unit notebooks bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[lab,test,pyro,export,serve]"
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: install
	$(PY) -m ruff check ainative tests benchmarks

unit: install
	$(PY) -m pytest -q tests

notebooks: install
	$(PY) -m pytest -q --nbval-lax --nbval-current-env notebooks

test: lint unit notebooks

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
