# make lab: JupyterLab with ainative, opening notebooks/.  make test: every test.  make bench: benchmarks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install federated-install lab test browser lint unit notebooks federated binder-check bench clean

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

# Flower (flwr 1.42) and MLServer 1.7 pin different fastapi versions, so federated learning has
# its own venv, registered in the main one as the Jupyter kernel the federated notebook uses.
FEDERATED ?= .venv-federated
FPY := $(FEDERATED)/bin/python
FSTAMP := $(FEDERATED)/.installed
KERNEL := --name ainative-federated --display-name "Python 3 (ainative, Flower)"
# Tests switch Flower's telemetry and Ray's usage stats off, keep Ray on loopback, and state in a temp folder.
FLOWER_STATE := $(CURDIR)/build/flower
FLOWER_ENV := FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1 RAY_USAGE_STATS_ENABLED=0 \
	RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 \
	FLWR_HOME=$(FLOWER_STATE)/home RAY_TMPDIR=$(FLOWER_STATE)/ray

$(FSTAMP): $(STAMP)
	test -x $(FPY) || $(PYTHON) -m venv $(FEDERATED)
	$(FPY) -m pip install --quiet --upgrade pip
	$(FPY) -m pip install --quiet ".[federated,export,test]" ipywidgets matplotlib
	$(FPY) -m ipykernel install --prefix $(VENV) $(KERNEL) >/dev/null 2>&1
	touch $(FSTAMP)

federated-install: $(FSTAMP)

lab: install federated-install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

lint: install
	$(PY) -m ruff check ainative tests benchmarks

unit: install
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm install --silent && PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm test --silent
	$(PY) -m pytest -q tests --ignore=tests/federated

notebooks: install
	$(PY) -m pytest -q --nbval-lax --nbval-current-env notebooks --ignore=notebooks/federated_learning.ipynb

federated: federated-install
	rm -rf $(FLOWER_STATE) && mkdir -p $(FLOWER_STATE)
	$(FLOWER_ENV) $(FPY) -m pytest -q tests/federated
	$(FLOWER_ENV) $(FPY) -m pytest -q --nbval-lax --nbval-current-env notebooks/federated_learning.ipynb
	rm -rf $(FLOWER_STATE)

browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: browser lint unit notebooks federated

# What Binder does, without Docker: a fresh venv from binder/, postBuild, then the notebooks.
BINDER := build/binder-venv
binder-check:
	rm -rf $(BINDER) $(BINDER)-federated && $(PYTHON) -m venv $(BINDER)
	$(BINDER)/bin/python -m pip install --quiet --upgrade pip
	rm -rf ainative/labextension
	$(BINDER)/bin/python -m pip install --quiet -r binder/requirements.txt
	PATH=$(CURDIR)/$(BINDER)/bin:$$PATH FEDERATED_VENV=$(CURDIR)/$(BINDER)-federated bash binder/postBuild
	$(BINDER)/bin/python -m pip install --quiet pytest nbval
	cd build && ../$(BINDER)/bin/python -m pytest -q -p no:cacheprovider --rootdir=. --nbval-lax --nbval-current-env \
		../notebooks --ignore=../notebooks/federated_learning.ipynb
	rm -rf $(FLOWER_STATE) && mkdir -p $(FLOWER_STATE)
	cd build && $(FLOWER_ENV) ../$(BINDER)/bin/python -m pytest -q -p no:cacheprovider --rootdir=. --nbval-lax \
		--nbval-kernel-name ainative-federated ../notebooks/federated_learning.ipynb
	rm -rf $(FLOWER_STATE)

bench: install federated-install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(FEDERATED) build dist .pytest_cache .ruff_cache node_modules ainative/labextension labextension/lib
