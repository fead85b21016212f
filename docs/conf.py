"""Sphinx configuration of the sk_mr documentation.

The build is offline and strict: ``make docs`` runs ``sphinx -W -n`` (every
warning is an error, every cross-reference must resolve). Intersphinx reads
the inventories shipped in ``docs/inventories/`` (see ``make_inventories.py``
there) and MathJax is served from ``docs/_static/mathjax/``.
"""

import importlib
import inspect
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "_ext"))

import sk_mr  # noqa: E402
import torch  # noqa: E402

# The pages run code (quick start, gallery): tiny networks train fastest, and
# reproducibly, on one intra-op thread.
torch.set_num_threads(1)


project = "sk_mr"
author = "sk_mr developers"
copyright = "2026, sk_mr developers"
release = version = sk_mr.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "viewcode_backlinks",  # docs/_ext: the source pages' [docs] links land on their object
    "data_tables",  # docs/_ext: tables of numbers never wrap (class data-table)
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "results_tables",
    "eta_heldout",  # docs/_ext: the held-out eta benchmark table, from its records
    "executed_code",
    "cli_reference",
]

nitpicky = True
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "**/README.md",
                    "inventories"]
suppress_warnings = ["config.cache"]

# -- API reference ---------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()
numpydoc_xref_param_type = False

# Methods that sk_mr classes inherit from or override on skorch's NeuralNet and
# Callback are skorch's API (documented there), not MR's: the class pages list
# only what sk_mr adds, plus these overrides whose behaviour MR changes.
MR_DOCUMENTED_OVERRIDES = {"fit", "partial_fit", "set_params", "predict", "get_iterator",
                           "get_dataset", "load_params"}


def _skorch_hidden_members():
    import torch
    from skorch.callbacks import Callback
    from skorch.net import NeuralNet

    hidden = {}
    modules = ["sk_mr"] + [f"sk_mr.{m}" for m in (
        "inspection", "baselines", "batching", "models", "datasets", "classifier",
        "paper.models", "paper.datasets")]
    for modname in modules:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not inspect.isclass(obj):
                continue
            for base in (NeuralNet, Callback, torch.nn.Module):
                if issubclass(obj, base):
                    names = {n for n in dir(base) if not n.startswith("_")}
                    if base is not torch.nn.Module:
                        names -= MR_DOCUMENTED_OVERRIDES
                    hidden[f"{modname}.{name}"] = sorted(names)
    return hidden


def _mr_concern_members():
    """MRMixin's public methods defined in its concern mixins (sk_mr.training,
    sk_mr.loss_pass, ...): documented on MRMixin's page as its own."""
    from sk_mr.mixin import MRMixin

    names = set()
    for klass in MRMixin.__mro__[1:]:
        if klass.__module__.startswith("sk_mr."):
            names |= {n for n in vars(klass) if not n.startswith("_")}
    return {"sk_mr.MRMixin": sorted(names)}


autosummary_context = {"skorch_hidden": _skorch_hidden_members(),
                       "mr_concern_members": _mr_concern_members()}

# -- cross-references, offline ----------------------------------------------------------
intersphinx_mapping = {
    "sklearn": ("https://scikit-learn.org/stable/", "inventories/sklearn.inv"),
    "skorch": ("https://skorch.readthedocs.io/en/stable/", "inventories/skorch.inv"),
    "torch": ("https://pytorch.org/docs/stable/", "inventories/torch.inv"),
    "numpy": ("https://numpy.org/doc/stable/", "inventories/numpy.inv"),
}

# -- math, offline: MathJax 3 shipped in _static/mathjax (see its README) ---------------
mathjax_path = "mathjax/tex-svg.js"

# -- gallery ----------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # every example runs in the docs build (each is sized to well under a minute)
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "plot_gallery": os.environ.get("SK_MR_DOCS_RUN_EXAMPLES", "True"),
    "download_all_examples": False,
    # sections by task: the top level of examples/ (noisy labels and outliers),
    # then one folder per task, each with a README.rst that titles it
    "subsection_order": ["../examples/adversarial", "../examples/beyond_networks",
                         "../examples/scaling"],
    "within_subsection_order": "gallery_order.ReadingOrder",  # docs/_ext
    # the examples run two at a time where there are two cores (each on one
    # torch thread, from the same state: _reset_example); the gallery is
    # most of a build's time
    "parallel": min(2, os.cpu_count() or 1),
    # no sg_execution_times pages: they load jQuery and DataTables from CDNs,
    # and the build is offline
    "write_computation_times": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    # reset_modules: set below, with _reset_example
    "reference_url": {"sk_mr": None},
    "show_memory": False,
    "show_signature": False,
}

# -- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sk_mr {version}"
html_static_path = ["_static"]
html_css_files = ["sk_mr.css"]
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # The API pages and the gallery need the width more than an outline.
    # (patterns must not overlap: "*" does not match "generated/x")
    # The results and decision-guide pages' wide tables need the whole width too.
    "secondary_sidebar_items": {"*": ["page-toc"], "guide/*": ["page-toc"],
                                "generated/*": [], "auto_examples/*": [], "results": [],
                                "which_method": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "show_prev_next": False,
}
html_sidebars = {"index": [], "install": [], "citing": [], "changelog": [],
                 "cli": [], "results": [], "which_method": []}
toc_object_entries_show_parents = "hide"  # "fit()", not "MRClassifier.fit()"
html_show_sourcelink = False
html_copy_source = False


def _resolve_sk_mr(app, env, node, contnode):
    """Resolve references that docstrings write relative to where code lives.

    A docstring of ``sk_mr.classifier.MRClassifier`` may say ``MixupTarget``
    while the class is documented as ``sk_mr.MRClassifier``: a short name that
    matches exactly one documented sk_mr object resolves to it, and an
    attribute of a documented class (``sample_weights_``, described in the
    class's Attributes section) resolves to the class.
    """
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    target = node.get("reftarget", "")
    objects = domain.objects
    candidates = []
    if target in objects:
        candidates = [target]
    else:
        # a re-exported object (sk_mr.noise.add_label_noise is documented as
        # sk_mr.add_label_noise) or a name relative to the code's module
        suffix = "." + (target.rpartition(".")[2] if target.startswith("sk_mr.") else target)
        candidates = [name for name in objects if name.startswith("sk_mr")
                      and name.endswith(suffix) and not objects[name].aliased]
    if len(candidates) != 1 and "." in target:
        parent = target.rpartition(".")[0]
        if parent in objects and objects[parent].objtype == "class":
            candidates = [parent]
    if len(candidates) != 1 and node.get("reftype") in ("attr", "obj") and node.get("py:class"):
        # an attribute named in its own class's docstring
        owner = f"{node.get('py:module')}.{node['py:class']}"
        candidates = [name for name in objects if name == owner
                      or (name.startswith("sk_mr.") and name.endswith("." + node["py:class"])
                          and objects[name].objtype == "class")][:1]
    if len(candidates) != 1:
        return _resolve_skorch_hook(app, env, node, contnode, target)
    name = candidates[0]
    entry = objects[name]
    from sphinx.util.nodes import make_refnode
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id,
                        contnode, name)


# Every name these modules export must have a page in the API reference.
PUBLIC_MODULES = ("sk_mr", "sk_mr.mixin", "sk_mr.classifier", "sk_mr.regressor",
                  "sk_mr.callbacks", "sk_mr.mw", "sk_mr.losses", "sk_mr.noise",
                  "sk_mr.exceptions",
                  "sk_mr.inspection", "sk_mr.plotting", "sk_mr.adversarial",
                  "sk_mr.baselines", "sk_mr.meta", "sk_mr.models", "sk_mr.datasets",
                  "sk_mr.batching", "sk_mr.paper.theory", "sk_mr.paper.models",
                  "sk_mr.paper.datasets", "sk_mr.paper.demo")


def _resolve_skorch_hook(app, env, node, contnode, target):
    """A bare hook name (``get_loss``, ``initialize``) in an sk_mr class's docstring
    that sk_mr does not document is skorch's: link to skorch's documentation."""
    if node.get("reftype") not in ("meth", "attr", "obj") or "." in target:
        return None
    from skorch.callbacks import Callback
    from skorch.net import NeuralNet
    from sphinx.ext import intersphinx

    for base, path in ((NeuralNet, "skorch.net.NeuralNet"),
                       (Callback, "skorch.callbacks.Callback")):
        if hasattr(base, target):
            hook = node.deepcopy()
            hook["reftarget"] = f"{path}.{target}"
            resolved = intersphinx.missing_reference(app, env, hook, contnode)
            if resolved is not None:
                return resolved
    return None


# Exported in a module's ``__all__`` for sk_mr's own modules, not for users:
# the API reference leaves them out (their code is on the module's source
# page), and references to them in docstrings render as code, unlinked.
INTERNAL_HELPERS = {
    "sk_mr.mixin.fill_mr_doc",             # builds the estimators' docstrings
    "sk_mr.mw.check_eta",                  # parameter validation behind the estimators
    "sk_mr.mw.resolve_eta",                # eta of an update, for the reweighting callback
    "sk_mr.mw.is_eta_rule",                # 'auto' or a rule object? (reweighting callback)
    "sk_mr.mw.make_eta_rule",              # a fresh rule for a fit (reweighting callback)
    "sk_mr.batching.record_batch_positions",  # the positions of each batch, for the net
    "sk_mr.batching.PositionRecorder",
    "sk_mr.batching.collate",              # the collate function of the net's loaders
    "sk_mr.batching.data_fingerprint",     # identifies the data of a warm start
    "sk_mr.batching.subset_positions",
    "sk_mr.callbacks.find_reweighting",    # the net's search for its reweighting callback
    "sk_mr.callbacks.is_reweighting",
}
nitpick_ignore = [(role, name) for name in INTERNAL_HELPERS
                  for role in ("py:func", "py:class", "py:obj")]
nitpick_ignore += [(role, name.rpartition(".")[2]) for name in INTERNAL_HELPERS
                   for role in ("py:func", "py:class", "py:obj")]


def _check_api_coverage(app, env):
    from sphinx.util import logging

    logger = logging.getLogger("sk_mr.api")
    documented = set(env.get_domain("py").objects)
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        for name in getattr(module, "__all__", []):
            qualified = f"{modname}.{name}"
            if qualified in INTERNAL_HELPERS:
                if qualified in documented:
                    logger.warning(f"{qualified} is an internal helper (INTERNAL_HELPERS in "
                                   "docs/conf.py) but has a page in the API reference")
                continue
            if qualified not in documented and f"sk_mr.{name}" not in documented:
                logger.warning(f"{qualified} is public (in __all__) but has no page "
                               "in the API reference: add it to docs/api.rst, or to "
                               "INTERNAL_HELPERS in docs/conf.py if users never call it")


def _reset_example(gallery_conf, fname):
    """Each gallery example starts from the same torch state, with one
    thread, and with the default way of starting processes: joblib's worker
    that runs it in a parallel build sets its own ('loky'), which a process
    the example starts (Dask's nannies) cannot use."""
    import multiprocessing

    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    multiprocessing.set_start_method(None, force=True)


sphinx_gallery_conf["reset_modules"] = ("matplotlib", _reset_example)


def setup(app):
    app.connect("missing-reference", _resolve_sk_mr)
    app.connect("env-check-consistency", _check_api_coverage)
    # matplotlib's Agg backend under sphinx-gallery; nothing to show on screen
    warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")
