# Two commands do everything on a fresh machine: `make book` and `make test`.
# Each creates .venv (if needed) and installs requirements.txt first.

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

# The venv's tools first (the Jupyter kernel runs this Python); TensorFlow quiet.
export PATH := $(BIN):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS_DIRS := chapters solutions

.PHONY: help install system-deps book test lint grade exercises notebooks lab lock clean

help:
	@echo "make book       build the website into _build/html (warnings are errors)"
	@echo "make test       run every test: unit, notebooks (nbval), grader, site, browser"
	@echo "make grade      grade every notebook in exercises/"
	@echo "make exercises  regenerate exercises/ from solutions/ and execute them"
	@echo "make notebooks  re-execute chapters/ and solutions/, storing outputs"
	@echo "make lab        open JupyterLab on the book"
	@echo "make lint       ruff over the package, tests and notebooks"

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Debian packages the browser test needs (Chromium and its WebDriver).
system-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium and chromium-driver (Debian packages) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "note: chromium/chromedriver not found; the browser test will be skipped outside CI"; \
	fi

book: install
	$(BIN)/jupyter-book build . --warningiserror --keep-going --quiet
	@echo "The website is in _build/html/index.html"

test: install system-deps
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check .

grade: install
	$(PY) -m book.grade exercises/*.ipynb

exercises: install
	$(PY) -m book.exercises

notebooks: install
	$(PY) -m book.notebooks $(foreach d,$(NOTEBOOKS_DIRS),$(wildcard $(d)/*.ipynb))
	$(PY) -m book.exercises

lab: install
	$(BIN)/jupyter lab

# Re-resolve constraints.txt from requirements.txt (needs the package registry).
lock:
	rm -rf /tmp/rnn-book-lock && $(PYTHON) -m venv /tmp/rnn-book-lock
	grep -v '^-c ' requirements.txt > /tmp/rnn-book-lock/requirements.txt
	/tmp/rnn-book-lock/bin/pip install --quiet -r /tmp/rnn-book-lock/requirements.txt
	/tmp/rnn-book-lock/bin/pip freeze --exclude-editable | grep -v '^rnn-course-book' > constraints.txt

clean:
	rm -rf _build .pytest_cache
