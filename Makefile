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

.PHONY: help install system-deps pdf-deps book book-student pdf test lint grade autograder exercises notebooks lab lock clean

help:
	@echo "make book       build the website into _build/html (warnings are errors)"
	@echo "make book-student  the website without solutions, into _build/student/html"
	@echo "make pdf        build the whole book as one PDF: _build/latex/book.pdf"
	@echo "make test       run every test: unit, notebooks (nbval), grader, site, browser"
	@echo "make grade      grade every notebook in exercises/ (GRADE_ARGS=\"--format csv --jobs 2\" ...)"
	@echo "make autograder write _build/autograder.zip for Gradescope (CHAPTER=N to fix the chapter)"
	@echo "make exercises  regenerate exercises/ from solutions/ and execute them"
	@echo "make notebooks  re-execute chapters/ and solutions/, storing outputs"
	@echo "make lab        open JupyterLab on the book"
	@echo "make lint       ruff over the package, tests and notebooks"

NODE_STAMP := node_modules/.installed

install: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# The website's build-time tools from the npm registry (package.json, package-lock.json):
# MathJax renders the formulas to SVG while the site is built; axe-core checks its pages.
$(NODE_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Node.js and npm (Debian packages) for the website build"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
		else echo "Node.js and npm are needed to build the website (https://nodejs.org)"; exit 1; fi; \
	fi
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

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

# The same site without solutions (no solutions/ pages, no solution blocks), for a course.
book-student: install
	$(PY) -m book.site.student _build/student

# Debian packages `make pdf` and tests/test_pdf.py need: TeX Live for Jupyter Book's
# LaTeX class (XeLaTeX, FreeSerif fonts; 32 packages, about 350 MB installed) and poppler-utils.
PDF_DEBS := latexmk texlive-xetex texlive-fonts-recommended fonts-freefont-otf poppler-utils

pdf-deps:
	@if command -v latexmk >/dev/null 2>&1 && command -v xelatex >/dev/null 2>&1 \
		&& command -v pdftotext >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q FreeSerif; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing TeX Live (Debian packages) for the PDF"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PDF_DEBS) >/dev/null; \
	else \
		echo "note: TeX Live not found (Debian: apt-get install --no-install-recommends $(PDF_DEBS)); the PDF test will be skipped outside CI"; \
	fi

# The PDF through Jupyter Book's LaTeX builder; the website links it once built after it.
pdf: install pdf-deps
	LATEXMKOPTS=-silent LATEXOPTS="-interaction=nonstopmode -halt-on-error" \
		$(BIN)/jupyter-book build . --builder pdflatex --warningiserror --keep-going --quiet
	@echo "The PDF is in _build/latex/book.pdf"
	@# A website built before is rebuilt (all pages) to gain the PDF's link in every download menu.
	@if [ -d _build/html ]; then $(BIN)/jupyter-book build . --all --warningiserror --keep-going --quiet; fi

test: install system-deps pdf-deps
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check .

grade: install
	$(PY) -m book.grade exercises/*.ipynb $(GRADE_ARGS)

# Gradescope's autograder: setup.sh, run_autograder, the package and a secret for the hidden cases.
autograder: install
	$(PY) -m book.grading.autograder --out _build/autograder.zip $(if $(CHAPTER),--chapter $(CHAPTER))

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
