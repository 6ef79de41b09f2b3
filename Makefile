# One-word tasks. Every target creates .venv and installs the hash-locked
# dependencies first, so each works on a fresh clone with Python 3.11, 3.12 or
# 3.13 (3.11.2, Debian 12's own python3, included).
#
#   make serve   live-reloading site on http://127.0.0.1:8000
#   make test    every test (builds the site strictly, checks it, browser checks)
#   make build   strict build into site/ (includes the printable edition, site/print/)
#   make pdf     strict build, then the printable edition as site/ketamine-explained.pdf
#   make links   check every external URL (site + references.bib) with lychee: .lychee.toml, .lycheeignore
#   make readability  reading grade of every page's key points (reports/readability.md; fails over grade 9)
#   make html-check  W3C HTML validity of every built page (vnu)
#   make lighthouse  Lighthouse on three pages; writes reports/lighthouse.{json,md}
#   make a11y    the browser gates alone: axe-core on every page, console, requests, search, drawer
#   make bench   citation-performance benchmark (prints ratios; not a test)
#   make lock    re-resolve and re-hash requirements.txt from requirements.in

PYTHON ?= python3
# Where `make serve` listens (the README's address); override for a second server.
DEV_ADDR ?= 127.0.0.1:8000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Material 9.7 prints an end-of-life banner and MkDocs a "MkDocs 2" notice on every
# command; both are documented in the README, and this one variable silences both.
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test build pdf links readability html-check lighthouse a11y bench lock clean

# First run: check the interpreter, create .venv, then upgrade the venv's own pip
# from its hash-pinned entry in requirements.txt, then install the lock. Why pip
# first: the pip that `python -m venv` bundles (23.0 on Debian 12, 23.2 with
# Python 3.11.7 and 3.12) rejects this lock in --require-hashes mode ("fonttools[woff]
# ... must have their versions pinned with =="; pip-compile --strip-extras drops the
# extra that weasyprint asks for, and only pip >= 23.3 matches it to the pinned
# fonttools). The pip line is taken from the lock itself, so there is one pin.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11, 3.12 or 3.13 is required (found " + sys.version.split()[0] + "); set PYTHON=python3.x")'
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@echo "venv created with $$($(BIN)/python -m pip --version | cut -d' ' -f1-2) (bundled); upgrading pip from requirements.txt"
	@awk '/^pip==/{p=1} p{print} p&&!/\\$$/{exit}' requirements.txt > $(VENV)/pip-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(VENV)/pip-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	@touch $@

serve: $(STAMP)
	$(BIN)/mkdocs serve --strict --dev-addr $(DEV_ADDR)

test: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/mkdocs build --strict --clean

pdf: build
	$(BIN)/python scripts/build_pdf.py --site-dir site

links: build
	$(BIN)/python scripts/check_external_links.py

readability: $(STAMP)
	$(BIN)/python scripts/readability_report.py

html-check: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/python -m pytest -n 0 tests/test_html_valid.py

lighthouse: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/python -m pytest -n 0 tests/test_lighthouse.py

a11y: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/python -m pytest tests/test_browser.py

bench: $(STAMP)
	$(BIN)/python scripts/bench_citations.py

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.txt requirements.in

clean:
	rm -rf site .cache .lycheecache
