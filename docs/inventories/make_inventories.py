"""Write the intersphinx inventories of scikit-learn, skorch, PyTorch and NumPy.

The documentation is built offline: the ``objects.inv`` files that
intersphinx normally downloads from each project's site cannot be fetched.
This script writes equivalent inventories by introspecting the *installed*
packages and mapping every public name to the page that each project's
documentation gives it. The URL layouts are those of the projects' own
documentation builds:

* scikit-learn: one page per object under ``modules/generated/``, named by
  its public path (``sklearn.model_selection.GridSearchCV``); methods are
  anchors on the class page.
* NumPy: ``reference/generated/numpy.<name>.html``; the random module,
  scalar types and constants live on their own pages (listed in ``NUMPY_PAGES``).
* PyTorch: ``generated/<name>.html`` for functions, modules, optimizers and
  schedulers; ``torch.utils.data`` (``data.html``), ``torch.Tensor``
  (``tensors.html``), AMP (``amp.html``) and a few others are documented on
  module pages (listed in ``TORCH_PAGES``).
* skorch: one page per module (``net.html``, ``callbacks.html``, ...) with
  ``automodule`` anchors (``net.html#skorch.net.NeuralNet.fit``); objects
  re-exported at the top level (``skorch.NeuralNetClassifier``) point to
  their defining module's anchor.

Only names are introspected; nothing is downloaded. Run it after upgrading
one of these packages and commit the ``*.inv`` files it writes next to
itself::

    python docs/inventories/make_inventories.py
"""

import importlib
import inspect
import os
import pkgutil
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


class Inventory:
    """Entries ``name -> (role, uri)`` written in Sphinx's inventory format v2."""

    def __init__(self, project, version):
        self.project = project
        self.version = version
        self.entries = {}

    def add(self, name, role, uri, title="-"):
        self.entries.setdefault((name, role), (uri, title))

    def write(self, path):
        header = ("# Sphinx inventory version 2\n"
                  f"# Project: {self.project}\n"
                  f"# Version: {self.version}\n"
                  "# The remainder of this file is compressed using zlib.\n")
        lines = []
        for (name, role), (uri, title) in sorted(self.entries.items()):
            if uri.endswith("#" + name):
                uri = uri[: -len(name)] + "$"
            priority = -1 if role == "std:doc" else 1
            lines.append(f"{name} {role} {priority} {uri} {title}\n")
        with open(path, "wb") as f:
            f.write(header.encode())
            f.write(zlib.compress("".join(lines).encode()))
        print(f"{path}: {len(lines)} entries ({self.project} {self.version})")


def _public(names):
    return [n for n in names if not n.startswith("_")]


def _module_names(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items()
                 if getattr(v, "__module__", "").startswith(module.__name__.split(".")[0])]
    return _public(names)


def _role(obj):
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if inspect.ismodule(obj):
        return "py:module"
    if callable(obj):
        return "py:function"
    return "py:data"


def _members(cls):
    """Public methods, properties and attributes defined on ``cls`` or a base."""
    for name in _public(dir(cls)):
        try:
            value = inspect.getattr_static(cls, name)
        except AttributeError:
            continue
        if isinstance(value, property):
            yield name, "py:property"
        elif isinstance(value, (staticmethod, classmethod)) or inspect.isfunction(value) \
                or inspect.ismethoddescriptor(value):
            yield name, "py:method"
        else:
            yield name, "py:attribute"


def _get(module, name):
    try:
        return getattr(module, name, None)
    except ImportError:  # e.g. scikit-learn's experimental names
        return None


def _import(name):
    try:
        return importlib.import_module(name)
    except Exception:  # an optional dependency of that submodule is missing
        return None


# -- scikit-learn ----------------------------------------------------------------
def sklearn_inventory():
    import sklearn

    inv = Inventory("scikit-learn", sklearn.__version__)
    base = "modules/generated/"
    modules = ["sklearn." + m for m in sklearn.__all__ if "_" != m[0]]
    modules += ["sklearn.base", "sklearn.utils", "sklearn.utils.validation"]
    for modname in modules:
        module = _import(modname)
        if module is None or not inspect.ismodule(module):
            continue
        inv.add(modname, "py:module", f"api/{modname}.html#module-{modname}")
        for name in _module_names(module):
            obj = _get(module, name)
            if obj is None or inspect.ismodule(obj):
                continue
            full = f"{modname}.{name}"
            page = f"{base}{full}.html"
            inv.add(full, _role(obj), f"{page}#{full}")
            if inspect.isclass(obj):
                for member, role in _members(obj):
                    inv.add(f"{full}.{member}", role, f"{page}#{full}.{member}")
    for name in ("clone", "get_config", "set_config", "config_context"):
        full = f"sklearn.{name}"
        inv.add(full, "py:function", f"{base}{full}.html#{full}")
    return inv


# -- NumPy -------------------------------------------------------------------------
NUMPY_PAGES = {
    # objects documented on a module page rather than one page each
    "numpy.random.Generator": "reference/random/generator.html",
    "numpy.random.default_rng": "reference/random/generator.html",
    "numpy.random.RandomState": "reference/random/legacy.html",
    "numpy.nan": "reference/constants.html",
    "numpy.inf": "reference/constants.html",
    "numpy.newaxis": "reference/constants.html",
}
NUMPY_SCALARS = ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                 "uint8", "bool", "bool_", "complex64", "complex128", "generic",
                 "number", "integer", "floating")


def numpy_inventory():
    import numpy

    inv = Inventory("NumPy", numpy.__version__)
    for name in _public(dir(numpy)):
        obj = _get(numpy, name)
        if obj is None or inspect.ismodule(obj):
            continue
        full = f"numpy.{name}"
        if full in NUMPY_PAGES:
            continue
        if name in NUMPY_SCALARS:
            inv.add(full, "py:class", f"reference/arrays.scalars.html#{full}")
            continue
        page = f"reference/generated/{full}.html"
        inv.add(full, _role(obj), f"{page}#{full}")
        if inspect.isclass(obj) and name == "ndarray":
            for member, role in _members(obj):
                inv.add(f"{full}.{member}", role,
                        f"reference/generated/{full}.{member}.html#{full}.{member}")
    for full, page in NUMPY_PAGES.items():
        obj = eval(full, {"numpy": numpy})  # noqa: S307 (names of this table only)
        inv.add(full, _role(obj) if callable(obj) else "py:data", f"{page}#{full}")
    # numpy.random's legacy functions and the Generator's methods
    for name in _public(dir(numpy.random.Generator)):
        full = f"numpy.random.Generator.{name}"
        inv.add(full, "py:method", f"reference/random/generated/{full}.html#{full}")
    inv.add("numpy.random", "py:module", "reference/random/index.html#module-numpy.random")
    inv.add("numpy", "py:module", "reference/index.html#module-numpy")
    return inv


# -- PyTorch ------------------------------------------------------------------------
TORCH_MODULE_PAGES = {
    # modules whose objects are documented together on one page
    "torch.utils.data": "data.html",
    "torch.amp": "amp.html",
    "torch.random": "random.html",
    "torch.utils.tensorboard.writer": "tensorboard.html",
}
TORCH_PAGES = {
    "torch.Tensor": "tensors.html",
    "torch.autocast": "amp.html",
    "torch.device": "tensor_attributes.html",
    "torch.dtype": "tensor_attributes.html",
    "torch.inference_mode": "generated/torch.autograd.grad_mode.inference_mode.html"
                            "#torch.autograd.grad_mode.inference_mode",
    "torch.no_grad": "generated/torch.no_grad.html",
    "torch.utils.tensorboard.SummaryWriter": "tensorboard.html",
}
TORCH_GENERATED = ("torch", "torch.nn", "torch.nn.functional", "torch.optim",
                   "torch.optim.lr_scheduler", "torch.nn.init", "torch.cuda",
                   "torch.backends.cudnn", "torch.linalg")


def torch_inventory():
    import torch

    inv = Inventory("PyTorch", torch.__version__.split("+")[0])
    for modname in TORCH_GENERATED:
        module = _import(modname)
        if module is None:
            continue
        inv.add(modname, "py:module", f"{modname.replace('torch.', '') or 'torch'}.html"
                f"#module-{modname}")
        for name in _public(dir(module)):
            obj = _get(module, name)
            if obj is None or inspect.ismodule(obj) or not (
                    callable(obj) or inspect.isclass(obj)):
                continue
            full = f"{modname}.{name}"
            if full in TORCH_PAGES:
                continue
            page = f"generated/{full}.html"
            inv.add(full, _role(obj), f"{page}#{full}")
            if inspect.isclass(obj) and modname in ("torch.nn", "torch.optim",
                                                    "torch.optim.lr_scheduler"):
                for member, role in _members(obj):
                    inv.add(f"{full}.{member}", role, f"{page}#{full}.{member}")
    for modname, page in TORCH_MODULE_PAGES.items():
        module = _import(modname)
        if module is None:
            continue
        inv.add(modname, "py:module", f"{page}#module-{modname}")
        for name in _module_names(module):
            obj = _get(module, name)
            if obj is None or inspect.ismodule(obj):
                continue
            full = f"{modname}.{name}"
            inv.add(full, _role(obj), f"{page}#{full}")
    for full, page in TORCH_PAGES.items():
        module, _, name = full.rpartition(".")
        obj = getattr(importlib.import_module(module), name)
        inv.add(full, _role(obj), page if "#" in page else f"{page}#{full}")
    # context managers that docs (ours and PyTorch's) call as functions
    for full in ("torch.autocast", "torch.inference_mode", "torch.no_grad",
                 "torch.enable_grad"):
        uri, _ = inv.entries.get((full, "py:class"), (None, None))
        if uri is not None:
            inv.add(full, "py:function", uri)
    for member, role in _members(torch.Tensor):
        full = f"torch.Tensor.{member}"
        inv.add(full, role, f"generated/{full}.html#{full}")
    return inv


# -- skorch ---------------------------------------------------------------------------
SKORCH_MODULES = ("net", "classifier", "regressor", "callbacks", "dataset", "helper",
                  "history", "utils", "exceptions", "scoring", "setter", "toy",
                  "probabilistic", "hf", "llm")


SKORCH_PAGES = {"index": "skorch documentation", "user/neuralnet": "NeuralNet",
                "user/callbacks": "Callbacks", "user/save_load": "Saving and Loading",
                "user/parallelism": "Parallelism", "user/FAQ": "FAQ"}


def skorch_inventory():
    import skorch

    inv = Inventory("skorch", skorch.__version__)
    defined = {}  # object -> its documented full name
    for short in SKORCH_MODULES:
        modname = f"skorch.{short}"
        module = _import(modname)
        if module is None:
            continue
        page = f"{short}.html"
        inv.add(modname, "py:module", f"{page}#module-{modname}")
        for name in _module_names(module):
            obj = _get(module, name)
            if obj is None or inspect.ismodule(obj):
                continue
            home = getattr(obj, "__module__", "") or ""
            if not home.startswith(modname) and short != "callbacks":
                continue  # imported from elsewhere: documented there
            full = f"{modname}.{name}"
            inv.add(full, _role(obj), f"{page}#{full}")
            defined.setdefault(id(obj), (full, page))
            if inspect.isclass(obj):
                for member, role in _members(obj):
                    owner = next((k for k in obj.__mro__ if member in vars(k)), obj)
                    uri = f"{page}#{full}.{member}"
                    if owner is not obj and owner.__module__.startswith("skorch."):
                        owner_mod = owner.__module__.split(".")[1]
                        public_mod = f"skorch.{owner_mod}"
                        uri = f"{owner_mod}.html#{public_mod}.{owner.__name__}.{member}"
                    elif owner is not obj:
                        continue  # torch's or Python's own member
                    inv.add(f"{full}.{member}", role, uri)
    # top-level re-exports: skorch.NeuralNetClassifier -> classifier.html#...
    for name in _public(dir(skorch)):
        obj = getattr(skorch, name)
        if id(obj) in defined and not inspect.ismodule(obj):
            full, page = defined[id(obj)]
            inv.add(f"skorch.{name}", _role(obj), f"{page}#{full}")
            for (entry, role), (uri, _) in list(inv.entries.items()):
                if entry.startswith(full + "."):
                    inv.add(f"skorch.{name}" + entry[len(full):], role, uri)
    inv.add("skorch", "py:module", "index.html#module-skorch")
    # narrative pages of skorch's documentation that sk_mr's pages link to
    for page, title in SKORCH_PAGES.items():
        inv.add(page, "std:doc", f"{page}.html", title)
    return inv


def main():
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    for name, make in (("sklearn", sklearn_inventory), ("numpy", numpy_inventory),
                       ("torch", torch_inventory), ("skorch", skorch_inventory)):
        make().write(os.path.join(HERE, f"{name}.inv"))


if __name__ == "__main__":
    main()
