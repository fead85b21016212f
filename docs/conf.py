"""Sphinx configuration of the sk_mr documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "sk_mr"
author = "sk_mr developers"
copyright = "2026, sk_mr developers"

import sk_mr  # noqa: E402

release = version = sk_mr.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": os.environ.get("SK_MR_DOCS_RUN_EXAMPLES", "True"),
    "download_all_examples": False,
}

intersphinx_mapping = {}  # no network at build time

templates_path = []
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5"]
html_theme = "alabaster"
html_static_path = []
suppress_warnings = ["config.cache"]
