# make lab: JupyterLab with ainative, opening notebooks/.  make test: every test.  make bench: benchmarks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install lab test browser lint unit notebooks binder-check bench clean

SOURCES := pyproject.toml package.json yarn.lock $(wildcard ainative/*.py ainative/*/*.py ainative/*.lark) \
	$(wildcard labextension/src/*.ts labextension/schema/*.json labextension/style/*)

# The package is installed as a wheel would be (its prebuilt lab extension in share/jupyter),
# rebuilt whenever its Python or TypeScript sources change.
$(STAMP): $(SOURCES)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	rm -rf ainative/labextension
	$(PY) -m pip install --quiet ".[lab,test,pyro,export,serve]"
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: install
	$(PY) -m ruff check ainative tests benchmarks

unit: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm install --silent && PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm test --silent
	$(PY) -m pytest -q tests

notebooks: install
	$(PY) -m pytest -q --nbval-lax --nbval-current-env notebooks

browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: browser lint unit notebooks

# What Binder does, without Docker: a fresh venv from binder/, postBuild, then the notebooks.
BINDER := build/binder-venv
binder-check:
	rm -rf $(BINDER) && $(PYTHON) -m venv $(BINDER)
	$(BINDER)/bin/python -m pip install --quiet --upgrade pip
	rm -rf ainative/labextension
	$(BINDER)/bin/python -m pip install --quiet -r binder/requirements.txt
	PATH=$(CURDIR)/$(BINDER)/bin:$$PATH bash binder/postBuild
	$(BINDER)/bin/python -m pip install --quiet pytest nbval
	cd build && ../$(BINDER)/bin/python -m pytest -q -p no:cacheprovider --rootdir=. --nbval-lax --nbval-current-env ../notebooks

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache node_modules ainative/labextension labextension/lib
