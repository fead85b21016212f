# Quick start: `make demo` and `make test` each set everything up on a fresh
# machine (a virtualenv in .venv with the package and what it needs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sk_mr-installed
EXTRAS ?= test,adversarial,plot,docs,distributed,benchmark

.PHONY: install demo test compat docs docs-check bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m sk_mr demo

test: $(STAMP)
	$(PY) -m pytest -q -n auto

# skorch's own test suite against MRClassifier (see tests/skorch_compat/):
# MRClassifier with eta=0 and with its default eta; skorch's own class reruns
# the tests that do not pass on them (--baseline full: the whole suite).
compat: $(STAMP)
	$(PY) tests/skorch_compat/run.py --baseline targeted

# Strict and offline: -W (warnings are errors), -n (every reference resolves).
docs: $(STAMP)
	$(PY) -m sphinx -W -n --keep-going -j 1 -b html docs docs/_build/html

# The built pages as a reader sees them, in headless Chromium (screenshots in
# docs/_build/screenshots).
docs-check: docs
	$(PY) docs/check_pages.py

bench: $(STAMP)
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/scale.py --lazy
	$(PY) benchmarks/gpu_epoch.py

clean:
	rm -rf $(VENV) docs/_build docs/generated docs/auto_examples *.egg-info .pytest_cache build
