# Every target is self-sufficient on a fresh machine with Python 3.11: it creates
# .venv and installs the exact tested set (constraints.txt) first when needed.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# JupyterLab refuses to run as root unless told it may (containers, CI).
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)
NBVAL := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg
# Both cores: each test file (so each notebook, and the browser test as a whole) stays on one worker.
JOBS  ?= 2
XDIST := -n $(JOBS) --dist loadfile

.PHONY: help install lab test lint unit nbval test-gpu execute release grade bench clean

help:
	@echo "make lab      create .venv, install, start JupyterLab on the course (ARGS=--no-browser for headless)"
	@echo "make test     create/refresh .venv, install, run the whole suite (lint, unit, nbval, proofs, grading, browser)"
	@echo "make test-gpu run the notebook suite with COURSE_DEVICE=cuda against the committed outputs"
	@echo "make execute  re-execute notebooks/ and solutions/ top to bottom in fresh kernels (NB=path for one)"
	@echo "make release  regenerate exercises/ from solutions/"
	@echo "make grade ASSIGNMENT=week01 SUBMISSIONS=dir [OUT=dir] [GRADE_ARGS=...]   grade a folder of submissions"
	@echo "make bench    run the benchmark scripts and print their numbers"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. --LabApp.default_url=/lab/tree/notebooks $(ROOT_FLAG) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check course_utils tests benchmarks scripts notebooks solutions

unit: $(STAMP)
	$(BIN)/pytest tests -m "not slow"

nbval: $(STAMP)
	$(BIN)/pytest $(XDIST) $(NBVAL) notebooks solutions

test: $(STAMP)
	$(BIN)/ruff check course_utils tests benchmarks scripts notebooks solutions
	$(BIN)/pytest $(XDIST) tests $(NBVAL) notebooks solutions

test-gpu: $(STAMP)
	COURSE_DEVICE=cuda $(BIN)/pytest $(XDIST) $(NBVAL) notebooks solutions

execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py $(if $(NB),$(NB),notebooks solutions)

release: $(STAMP)
	$(BIN)/python -m course_utils release

grade: $(STAMP)
	@[ -n "$(ASSIGNMENT)" ] && [ -n "$(SUBMISSIONS)" ] || { echo "usage: make grade ASSIGNMENT=week01 SUBMISSIONS=dir [OUT=dir] [GRADE_ARGS='--timeout 30 --student anna']"; exit 2; }
	$(BIN)/python -m course_utils grade --assignment $(ASSIGNMENT) --submissions "$(SUBMISSIONS)" $(if $(OUT),--out "$(OUT)") $(GRADE_ARGS)

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) artefacts .pytest_cache .ruff_cache .hypothesis
