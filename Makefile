# make lab: JupyterLab with ainative, opening notebooks/.  make test: every test.  make bench: benchmarks.
# make bench-pymc: time to posterior against PyMC and nutpie.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pip prints what it collects and downloads (a first install takes a few minutes); PIP_FLAGS=--quiet hushes it.
PIP_FLAGS ?= --progress-bar on

.PHONY: install federated-install lab test checks browser lint unit notebooks federated save-notebooks notation \
	binder-check bench bench-pymc clean

SOURCES := pyproject.toml package.json yarn.lock \
	$(shell find ainative -path ainative/labextension -prune -o \( -name '*.py' -o -name '*.lark' \) -print) \
	$(wildcard labextension/src/*.ts labextension/src/*.json labextension/schema/*.json labextension/style/*)

# The package is installed as a wheel would be (its prebuilt lab extension in share/jupyter),
# rebuilt whenever its Python or TypeScript sources change.
$(STAMP): $(SOURCES)
	@printf '\n==> %s\n' "[1/3] $(VENV): a virtual environment for ainative"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@printf '\n==> %s\n' "[2/3] $(VENV): PyTorch, CPU build (before Pyro, so pip does not fetch a CUDA build)"
	$(PY) -m pip install $(PIP_FLAGS) torch==2.13.0
	@printf '\n==> %s\n' "[3/3] $(VENV): ainative with JupyterLab, Pyro, NumPyro, ONNX, MLServer, Kubeflow Pipelines SDK, test tools; jlpm builds the lab extension"
	rm -rf ainative/labextension
	$(PY) -m pip install $(PIP_FLAGS) ".[lab,test,pyro,export,serve,pipelines,parquet]"
	touch $(STAMP)

install: $(STAMP)

# Flower (flwr 1.42) and MLServer 1.7 pin different fastapi versions, so federated learning has
# its own venv, registered in the main one as the Jupyter kernel the federated notebook uses.
FEDERATED ?= .venv-federated
FPY := $(FEDERATED)/bin/python
FSTAMP := $(FEDERATED)/.installed
KERNEL := --name ainative-federated --display-name "Python 3 (ainative, Flower)"
# Tests switch Flower's telemetry and Ray's usage stats off, keep Ray on loopback, and keep Flower's
# and Ray's state in a temporary folder (the shell variable state, set by the recipe that uses this).
FLOWER_ENV := FLWR_TELEMETRY_ENABLED=0 FLWR_DISABLE_UPDATE_CHECK=1 RAY_USAGE_STATS_ENABLED=0 \
	RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 FLWR_HOME=$$state/home RAY_TMPDIR=$$state/ray

$(FSTAMP): $(STAMP)
	@printf '\n==> %s\n' "$(FEDERATED): Flower for federated learning, in its own environment (kernel 'Python 3 (ainative, Flower)')"
	test -x $(FPY) || $(PYTHON) -m venv $(FEDERATED)
	$(FPY) -m pip install --quiet --upgrade pip
	$(FPY) -m pip install $(PIP_FLAGS) ".[federated,export,test]" ipywidgets matplotlib
	$(FPY) -m ipykernel install --prefix $(VENV) $(KERNEL) >/dev/null 2>&1
	touch $(FSTAMP)

federated-install: $(FSTAMP)

# Jupyter refuses to run as root unless told to: containers and CI images run as root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=
lab: install federated-install
	@printf '\n==> %s\n' "JupyterLab with ainative, opening notebooks/ (Ctrl-C to stop)"
	$(VENV)/bin/jupyter lab $(LAB_ROOT) --notebook-dir=notebooks $(LAB_ARGS)

# Every test, then a check that the work tree is as the tests found it (tests write to temporary folders).
test:
	@snapshot=$$(mktemp) && $(PYTHON) tests/worktree.py save $$snapshot && \
	$(MAKE) --no-print-directory checks && $(PYTHON) tests/worktree.py compare $$snapshot; \
	status=$$?; rm -f $$snapshot; exit $$status

checks: browser lint unit notebooks federated

lint: install
	@printf '\n==> %s\n' "lint: ruff"
	$(PY) -m ruff check ainative tests benchmarks

unit: install
	@printf '\n==> %s\n' "unit tests: TypeScript (jest), then Python (pytest, with the browser tests of the lab extension)"
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm install --silent && PATH=$(CURDIR)/$(VENV)/bin:$$PATH jlpm test --silent
	$(PY) -m pytest -q tests --ignore=tests/federated

# Notebooks run under nbval as copies in a temporary folder: what they write (ONNX files, Flower
# apps) stays out of notebooks/. $(1): python, $(2): notebooks, $(3): nbval options, $(4): environment.
run_notebooks = work=$$(mktemp -d) && state=$$work/state && cp $(2) $$work/ && \
	(cd $$work && $(4) $(1) -m pytest -q -p no:cacheprovider --rootdir=. --nbval-lax $(3) $(notdir $(2))); \
	status=$$?; rm -rf $$work; exit $$status
NOTEBOOKS := $(filter-out notebooks/federated_learning.ipynb,$(wildcard notebooks/*.ipynb))

notebooks: install
	@printf '\n==> %s\n' "notebooks under nbval"
	$(call run_notebooks,$(CURDIR)/$(PY),$(NOTEBOOKS),--nbval-current-env)

federated: federated-install
	@printf '\n==> %s\n' "federated learning with Flower, in $(FEDERATED)"
	state=$$(mktemp -d) && $(FLOWER_ENV) $(FPY) -m pytest -q tests/federated; status=$$?; rm -rf $$state; exit $$status
	$(call run_notebooks,$(CURDIR)/$(FPY),notebooks/federated_learning.ipynb,--nbval-current-env,$(FLOWER_ENV))

# Run every notebook top to bottom (as copies in a temporary folder) and save it with its outputs,
# without widget state: how the notebooks in the repository are made. One nbconvert a notebook,
# as nbconvert keeps the first notebook's kernel for the rest.
save-notebooks: install federated-install
	work=$$(mktemp -d) && state=$$work/state && cp notebooks/*.ipynb $$work/ && \
	(cd $$work && for notebook in *.ipynb; do $(FLOWER_ENV) $(CURDIR)/$(VENV)/bin/jupyter nbconvert --to notebook \
		--inplace --execute --ExecutePreprocessor.store_widget_state=False \
		--ExecutePreprocessor.record_timing=False $$notebook || exit 1; done) && \
	cp $$work/*.ipynb notebooks/; status=$$?; rm -rf $$work; exit $$status

# The lab extension's copy of the notation's tables (a test checks it is current).
notation: install
	$(PY) -m ainative.views.notation > labextension/src/notation.json

browser:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# What Binder does, without Docker: a fresh venv from binder/, postBuild, then the notebooks.
BINDER := build/binder-venv
binder-check:
	rm -rf $(BINDER) $(BINDER)-federated && $(PYTHON) -m venv $(BINDER)
	$(BINDER)/bin/python -m pip install --quiet --upgrade pip
	rm -rf ainative/labextension
	$(BINDER)/bin/python -m pip install --quiet -r binder/requirements.txt
	PATH=$(CURDIR)/$(BINDER)/bin:$$PATH FEDERATED_VENV=$(CURDIR)/$(BINDER)-federated bash binder/postBuild
	$(BINDER)/bin/python -m pip install --quiet pytest nbval
	$(call run_notebooks,$(CURDIR)/$(BINDER)/bin/python,$(NOTEBOOKS),--nbval-current-env)
	$(call run_notebooks,$(CURDIR)/$(BINDER)/bin/python,notebooks/federated_learning.ipynb, \
		--nbval-kernel-name ainative-federated,$(FLOWER_ENV))

bench: install federated-install
	$(PY) benchmarks/run.py

# PyMC and nutpie have their own venv: pip would install them beside ours without changing a package (a dry run
# says so), but the main venv stays what `make install` makes. The run takes about 16 minutes on 2 cores.
PYMC_VENV ?= benchmarks/.venv-pymc
PYMC_STAMP := $(PYMC_VENV)/.installed

$(PYMC_STAMP):
	@printf '\n==> %s\n' "$(PYMC_VENV): PyMC and nutpie, for benchmarks/bench_vs_pymc.py"
	test -x $(PYMC_VENV)/bin/python || $(PYTHON) -m venv $(PYMC_VENV)
	$(PYMC_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYMC_VENV)/bin/python -m pip install $(PIP_FLAGS) pymc==5.28.5 nutpie==0.16.8
	touch $(PYMC_STAMP)

bench-pymc: install $(PYMC_STAMP)
	$(PY) benchmarks/bench_vs_pymc.py --pymc-python $(PYMC_VENV)/bin/python

clean:
	rm -rf $(VENV) $(FEDERATED) $(PYMC_VENV) build dist .pytest_cache .ruff_cache node_modules ainative/labextension labextension/lib
