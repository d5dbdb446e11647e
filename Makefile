# Every target is self-sufficient on a fresh machine with Python 3.11, 3.12 or 3.13: it creates
# .venv and installs the exact tested set (constraints.txt) first when needed. The interpreter is the
# first of python3.11, python3.12, python3.13 that runs, or PYTHON=... (scripts/find_python.sh).
PYTHON ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# JupyterLab refuses to run as root unless told it may (containers, CI).
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg
# Both cores: a test file (a notebook's cells, a module's fixtures) stays whole on one worker, the longest
# first; the browser test runs in two halves and per-week files per week (conftest.py).
JOBS  ?= 2
XDIST := -n $(JOBS) --dist loadscope --no-loadscope-reorder

.PHONY: help install lab lab-instructor test lint unit nbval test-gpu execute release grade bench clean site site-test portability smoke figures nbgrader test-torch check hub-env hub hub-test bench-hub

help:
	@echo "make lab      create .venv, install, start JupyterLab on the course (ARGS=--no-browser for headless)"
	@echo "make lab-instructor  the same with nbgrader's instructor tools (Create Assignment, Formgrader, courses)"
	@echo "make hub      (root) JupyterHub for a class on this machine: users, roles, nbgrader exchange (README: Run it for a class)"
	@echo "make hub-test (root) start a real hub on loopback and test log-in, roles, isolation, the exchange round trip, nbgitpuller"
	@echo "make test     create/refresh .venv, install, run the whole suite (lint, unit, nbval, proofs, grading, browser)"
	@echo "make test-gpu run the notebook suite with COURSE_DEVICE=cuda against the committed outputs"
	@echo "make check WEEK=01  after editing a week: lint, its nbval, its exercise proofs, the up-to-date test"
	@echo "make portability  strict nbval under capped CPU kernels and 1 and 4 threads (VARIANTS=... for some)"
	@echo "make smoke PYTHON=/usr/bin/python3.11  a clean install from another Python, then a smoke run"
	@echo "make test-torch TORCH=2.14.1  unit tests and nbval against another torch, in .venv-torch-VERSION/"
	@echo "make figures NB=notebook  write the notebook's figures to PNG files in artefacts/figures/"
	@echo "make nbgrader ARGS='autograde week01'  nbgrader's own command line (runs student code unsandboxed)"
	@echo "make execute  re-execute notebooks/ and solutions/ top to bottom in fresh kernels (NB=path for one)"
	@echo "make release  regenerate exercises/ from solutions/"
	@echo "make grade ASSIGNMENT=week01 SUBMISSIONS=dir [OUT=dir] [GRADE_ARGS=...]   grade a folder of submissions"
	@echo "make bench    run the benchmark scripts and print their numbers"
	@echo "make site     build the static course site into site/ (open site/index.html; SITE_ARGS=--no-cache)"
	@echo "make site-test  build the site, then check every page in headless Chromium with networking off"

$(STAMP): pyproject.toml constraints.txt
	@if [ -x $(BIN)/python ]; then echo "using $(VENV) ($$($(BIN)/python -V)); 'make clean' to rebuild it from another Python"; \
	else py=$$(scripts/find_python.sh $(PYTHON)) && $$py -m venv $(VENV) || exit 1; fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The static site: Sphinx and friends (the [site] extra) and MathJax 3 from npm, locked in package-lock.json.
SITE_STAMP := $(VENV)/.installed-site
MATHJAX    := node_modules/mathjax/package.json
SITE_ARGS  ?=

$(SITE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,site]"
	touch $(SITE_STAMP)

$(MATHJAX): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js and npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(MATHJAX)

site: $(SITE_STAMP) $(MATHJAX)
	$(BIN)/python scripts/build_site.py $(SITE_ARGS)

site-test: site
	COURSE_SITE_DIR=site $(BIN)/pytest tests/site

# Student and instructor JupyterLab (course_utils/jupyter_roles.py): the role's folder goes first on
# JUPYTER_CONFIG_PATH. `make lab` is the student's view; `make lab-instructor` shows nbgrader's tools too.
ROLES_DIR := $(VENV)/etc/course-roles
lab-instructor: ROLE = instructor
lab: ROLE = student
lab lab-instructor: $(STAMP)
	$(BIN)/python -m course_utils.jupyter_roles $(ROLE) $(ROLES_DIR)/$(ROLE) >/dev/null
	JUPYTER_CONFIG_PATH="$(CURDIR)/$(ROLES_DIR)/$(ROLE)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(BIN)/jupyter lab --notebook-dir=. --LabApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check course_utils tests benchmarks scripts notebooks solutions

unit: $(STAMP)
	$(BIN)/pytest tests -m "not slow"

nbval: $(STAMP)
	$(BIN)/pytest $(XDIST) $(NBVAL) notebooks solutions

test: $(STAMP) $(MATHJAX)
	$(BIN)/ruff check course_utils tests benchmarks scripts notebooks solutions
	$(BIN)/pytest $(XDIST) tests $(NBVAL) notebooks solutions

# After editing one week: is it safe? Lint, that week's strict nbval (lecture and solutions), its exercise
# proofs and the up-to-date test. make check WEEK=01
check: $(STAMP)
	@[ -n "$(WEEK)" ] || { echo "usage: make check WEEK=01"; exit 2; }
	@ls notebooks/week$(WEEK)_*.ipynb solutions/week$(WEEK)/*.ipynb >/dev/null || { echo "no week $(WEEK) in notebooks/ and solutions/"; exit 2; }
	$(BIN)/ruff check course_utils tests notebooks/week$(WEEK)_*.ipynb solutions/week$(WEEK)
	$(BIN)/pytest $(XDIST) -q $(NBVAL) notebooks/week$(WEEK)_*.ipynb solutions/week$(WEEK) \
		tests/test_exercises.py -k "week$(WEEK) or not week"

# Strict nbval of the committed outputs under emulated other hardware (capped kernels, 1 and 4 threads);
# VARIANTS=aten-default,1-thread runs some of them (scripts/portability.py --help).
portability: $(STAMP)
	$(BIN)/python scripts/portability.py $(if $(VARIANTS),--variants $(VARIANTS))

# A second, clean install from another interpreter (e.g. Debian's own /usr/bin/python3.11), smoke-tested.
smoke:
	@[ -n "$(PYTHON)" ] || { echo "usage: make smoke PYTHON=/usr/bin/python3.11 [PREFIX=/opt/loss-course-smoke]"; exit 2; }
	scripts/smoke_install.sh $(PYTHON) $(PREFIX)

# The course against another torch release, in an environment of its own (.venv-torch-VERSION/), the
# rest of the tested set unchanged: the unit tests and strict nbval. make test-torch TORCH=2.14.1
TORCH_VENV = .venv-torch-$(TORCH)
test-torch:
	@[ -n "$(TORCH)" ] || { echo "usage: make test-torch TORCH=2.14.1"; exit 2; }
	[ -x $(TORCH_VENV)/bin/python ] || $$(scripts/find_python.sh $(PYTHON)) -m venv $(TORCH_VENV)
	sed 's/^torch==.*/torch==$(TORCH)/' constraints.txt > $(TORCH_VENV)/constraints.txt
	$(TORCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TORCH_VENV)/bin/python -m pip install --quiet -c $(TORCH_VENV)/constraints.txt -e ".[dev]"
	$(TORCH_VENV)/bin/python -c "import torch; print('torch', torch.__version__)"
	$(TORCH_VENV)/bin/pytest $(XDIST) tests -m "not slow and not browser"
	$(TORCH_VENV)/bin/pytest $(XDIST) $(NBVAL) notebooks solutions

test-gpu: $(STAMP)
	COURSE_DEVICE=cuda $(BIN)/pytest $(XDIST) $(NBVAL) notebooks solutions

# Every figure of one committed notebook as a PNG file in artefacts/figures/, to look at one by one.
figures: $(STAMP)
	@[ -n "$(NB)" ] || { echo "usage: make figures NB=notebooks/week01_network_outputs.ipynb"; exit 2; }
	$(BIN)/python scripts/figures.py $(NB)

execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(if $(NB),$(NB),notebooks solutions)

release: $(STAMP)
	$(BIN)/python -m course_utils release

grade: $(STAMP) $(MATHJAX)
	@[ -n "$(ASSIGNMENT)" ] && [ -n "$(SUBMISSIONS)" ] || { echo "usage: make grade ASSIGNMENT=week01 SUBMISSIONS=dir [OUT=dir] [GRADE_ARGS='--timeout 30 --student anna']"; exit 2; }
	$(BIN)/python -m course_utils grade --assignment $(ASSIGNMENT) --submissions "$(SUBMISSIONS)" $(if $(OUT),--out "$(OUT)") $(GRADE_ARGS)

# nbgrader's own command line, with this environment's tools on the PATH (nbgrader runs `alembic` from it):
# make nbgrader ARGS="generate_assignment week01 --force". Its autograde runs student code without the sandbox.
nbgrader: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader $(ARGS)

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) artefacts .pytest_cache .ruff_cache .hypothesis site build/site node_modules

# A class on a JupyterHub (hub/; README "Run it for a class"). hub-env builds the course environment
# from a system Python into a world-readable prefix (scripts/build_env.sh) and installs the proxy from
# hub/package-lock.json; `make hub` (as root) starts the hub; hub-test runs the hub tests (root: they
# make Unix users; `make test` leaves them out).
HUB_PYTHON ?= /usr/bin/python3.11
HUB_ENV    ?= /opt/loss-course
HUB_PROXY  := hub/node_modules/configurable-http-proxy/package.json
HUB_STAMP  := $(VENV)/.installed-hub

$(HUB_PROXY): hub/package.json hub/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js and npm (Debian: apt-get install npm)"; exit 1; }
	cd hub && npm ci --ignore-scripts --no-audit --no-fund
	touch $(HUB_PROXY)

$(HUB_ENV)/.installed-hub: pyproject.toml constraints.txt $(wildcard course_utils/*.py course_utils/*/*.py)
	scripts/build_env.sh $(HUB_PYTHON) $(HUB_ENV) hub
	touch $@

$(HUB_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,hub]"
	touch $(HUB_STAMP)

hub-env: $(HUB_PROXY) $(HUB_ENV)/.installed-hub

hub: hub-env
	@[ "$$(id -u)" = 0 ] || { echo "error: make hub runs as root: it creates the users' accounts and starts their servers"; exit 1; }
	COURSE_HUB_ENV=$(HUB_ENV) $(HUB_ENV)/bin/jupyterhub -f hub/jupyterhub_config.py $(ARGS)

hub-test: hub-env $(HUB_STAMP)
	COURSE_HUB_TESTS=1 COURSE_HUB_ENV=$(HUB_ENV) $(BIN)/pytest -p no:cacheprovider tests/hub

bench-hub: hub-env $(HUB_STAMP)
	COURSE_HUB_ENV=$(HUB_ENV) $(BIN)/python benchmarks/bench_hub.py $(ARGS)
