"""Aliases that keep the old import paths of moved names working, with a warning.

The paper's companion moved from the top of the package into
:mod:`sk_mr.paper` (see its docstring). Each old path keeps working until
:data:`REMOVED_IN`: a module at the old path defines its ``__getattr__``
with :func:`moved_names` (PEP 562), so ``sk_mr.theory.mr_least_squares``,
``from sk_mr.models import ResNet18`` and unpickling an object saved under
the old path all return the object at the new path, after a
:class:`FutureWarning` that names the new path and the version of removal
(scikit-learn's practice: ``FutureWarning``, which users see by default,
deprecated in one version and removed two minor versions later).

The warning comes on access, not on ``import sk_mr.theory`` alone: a module
import happens once per process, an attribute access every time, so each
use of an old path is reported.
"""

import importlib
import warnings

__all__ = ["DEPRECATED_IN", "REMOVED_IN", "moved_names"]

#: The version whose layout moved the names.
DEPRECATED_IN = "0.1.0"
#: The version that removes the old paths.
REMOVED_IN = "0.3.0"


def moved_names(old_module, new_module, names=None):
    """Return a module ``__getattr__`` that forwards moved names with a warning.

    Parameters
    ----------
    old_module : str
      The old module's name (its ``__name__``).

    new_module : str
      The module that holds the names now.

    names : collection of str or None (default=None)
      The names that moved. None: every name of ``new_module`` (and its
      ``__all__``, for ``from old_module import *``), for a module that
      moved as a whole.

    Returns
    -------
    __getattr__ : callable
      Assign it to the old module's ``__getattr__``.

    Examples
    --------
    >>> import warnings
    >>> getattr_ = moved_names("old.place", "sk_mr.mw", {"MultiStepEta"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     cls = getattr_("MultiStepEta")
    >>> from sk_mr.mw import MultiStepEta
    >>> cls is MultiStepEta, caught[0].category.__name__
    (True, 'FutureWarning')
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    old.place.MultiStepEta moved to sk_mr.mw.MultiStepEta in sk_mr 0.1.0; the old
    path will be removed in 0.3.0. Import it from sk_mr.mw instead.
    """
    names = None if names is None else frozenset(names)

    def __getattr__(name):
        # Dunders (``__wrapped__``, ``__test__``, ...) are probed by inspect,
        # doctest and pickle; only ``__all__`` of a whole module moves.
        if name.startswith("__") and name.endswith("__"):
            moved = names is None and name == "__all__"
        else:
            moved = names is None or name in names
        missing = AttributeError(f"module {old_module!r} has no attribute {name!r}")
        if not moved:
            raise missing
        try:
            value = getattr(importlib.import_module(new_module), name)
        except AttributeError:
            raise missing from None
        warnings.warn(
            f"{old_module}.{name} moved to {new_module}.{name} in sk_mr {DEPRECATED_IN}; "
            f"the old path will be removed in {REMOVED_IN}. Import it from "
            f"{new_module} instead.", FutureWarning, stacklevel=2)
        return value

    return __getattr__
