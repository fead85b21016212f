# Quick start: `make demo` and `make test` each set everything up on a fresh
# machine (a virtualenv in .venv with the package and what it needs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sk_mr-installed
EXTRAS ?= test,adversarial,plot,docs,distributed,benchmark,release

.PHONY: install demo test mutation compat docs docs-check dist-check bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m sk_mr demo

test: $(STAMP)
	$(PY) -m pytest -q -n auto

# Deliberate bugs in a copy of sk_mr, each of which a test must catch
# (tests/mutation/run.py; under three minutes on two cores).
mutation: $(STAMP)
	$(PY) tests/mutation/run.py --jobs 2

# skorch's own test suite against MRClassifier (see tests/skorch_compat/):
# MRClassifier with eta=0 and with its default eta; skorch's own class reruns
# the tests that do not pass on them (--baseline full: the whole suite).
compat: $(STAMP)
	$(PY) tests/skorch_compat/run.py --baseline targeted

# Strict and offline: -W (warnings are errors), -n (every reference resolves).
docs: $(STAMP)
	$(PY) -m sphinx -W -n --keep-going -j 1 -b html docs docs/_build/html

# The built pages as a reader sees them: every page read as HTML (no other
# host, no internal wording, gallery figures, source links), a few rendered in
# headless Chromium (screenshots in docs/_build/screenshots).
docs-check: docs
	$(PY) docs/check_pages.py

# The package as a release would ship it: build the sdist and the wheel (the
# wheel from the sdist, in isolated build environments), check their metadata
# and README with twine, install the wheel alone in a fresh virtualenv and run
# the quick start there from an empty directory, so the source tree cannot be
# imported instead of the installed package. The fresh virtualenv borrows its
# dependencies from $(VENV) (resolved from the same pyproject.toml; reinstalling
# torch's CUDA wheels there took most of the check's time): the wheel goes in
# with --no-deps (by $(VENV)'s pip), and pip check verifies that what it
# requires is installed.
DIST := build/dist
WHEEL_VENV := build/wheel-venv
dist-check: $(STAMP)
	rm -rf $(DIST) $(WHEEL_VENV)
	$(PY) -m build --outdir $(DIST) .
	$(PY) -m twine check --strict $(DIST)/*
	$(PY) -c "import sys, tarfile, zipfile; \
	    w = zipfile.ZipFile(sys.argv[1]).namelist(); s = tarfile.open(sys.argv[2]).getnames(); \
	    assert any(n.endswith('.dist-info/licenses/LICENSE') for n in w), 'no LICENSE in the wheel'; \
	    assert any(n.endswith('/CITATION.cff') for n in s), 'no CITATION.cff in the sdist'" \
	    $(DIST)/*.whl $(DIST)/*.tar.gz
	$(PYTHON) -m venv --without-pip $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -c "import pathlib, sys, sysconfig; \
	    pathlib.Path(sysconfig.get_paths()['purelib'], 'sk_mr_dependencies.pth').write_text(sys.argv[1] + '\n')" \
	    "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
	$(PY) -m pip --python $(WHEEL_VENV)/bin/python install --quiet --disable-pip-version-check \
	    --no-deps $(DIST)/*.whl
	$(PY) -m pip --python $(WHEEL_VENV)/bin/python check
	cd "$$(mktemp -d)" && \
	    $(CURDIR)/$(WHEEL_VENV)/bin/python -c "import sk_mr; assert '$(CURDIR)/$(WHEEL_VENV)/' in sk_mr.__file__, sk_mr.__file__; print('sk_mr', sk_mr.__version__, 'from', sk_mr.__file__)" && \
	    $(CURDIR)/$(WHEEL_VENV)/bin/sk-mr demo --noise-rates 0.4 --seeds 1 --epochs 30
	rm -rf $(WHEEL_VENV)

bench: $(STAMP)
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/scale.py --lazy
	$(PY) benchmarks/gpu_epoch.py

clean:
	rm -rf $(VENV) docs/_build docs/generated docs/auto_examples *.egg-info .pytest_cache build
