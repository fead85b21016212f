"""Internal helpers: input validation at the estimator boundary."""

from collections.abc import Mapping

import numpy as np
import torch
from skorch.utils import is_dataset

__all__ = ["check_classification_inputs", "as_numpy"]


def as_numpy(a):
    """Return ``a`` as a numpy array (tensors are detached and moved to the CPU)."""
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    if hasattr(a, "to_numpy"):  # pandas
        return a.to_numpy()
    return np.asarray(a)


def _length(a):
    if isinstance(a, Mapping):
        lengths = {len(v) for v in a.values()}
        return lengths.pop() if len(lengths) == 1 else None
    try:
        return len(a)
    except TypeError:
        return None


def _check_finite_X(X, name="X"):
    if isinstance(X, Mapping):
        for key, value in X.items():
            _check_finite_X(value, name=f"{name}[{key!r}]")
        return
    if isinstance(X, torch.Tensor):
        if X.is_floating_point() and not bool(torch.isfinite(X).all()):
            n_bad = int((~torch.isfinite(X)).sum())
            raise ValueError(
                f"{name} contains {n_bad} NaN or infinite value(s); impute or "
                "drop them before fit (e.g. sklearn.impute.SimpleImputer).")
        return
    if isinstance(X, np.ndarray) or hasattr(X, "to_numpy"):
        arr = as_numpy(X)
        if np.issubdtype(arr.dtype, np.floating) or np.issubdtype(
                arr.dtype, np.complexfloating):
            finite = np.isfinite(arr)
            if not finite.all():
                raise ValueError(
                    f"{name} contains {int((~finite).sum())} NaN or infinite "
                    "value(s); impute or drop them before fit (e.g. "
                    "sklearn.impute.SimpleImputer).")


def check_classification_inputs(X, y, classes=None):
    """Validate ``X`` and ``y`` of a classifier's fit, raising clear errors.

    Checks that X (arrays, tensors or dicts of them) is finite, that X and y
    have the same length, and that y holds non-negative integer class
    indices, all of them in ``classes`` when that is given. Datasets are
    passed through (their items are checked during training).

    Parameters
    ----------
    X : array-like, torch.Tensor, dict or Dataset
    y : array-like, torch.Tensor or None
    classes : array-like or None (default=None)

    Raises
    ------
    ValueError
      Naming the offending argument and value.
    """
    if is_dataset(X):
        return
    _check_finite_X(X)
    if y is None:
        return
    n_X, n_y = _length(X), _length(y)
    if n_X is not None and n_y is not None and n_X != n_y:
        raise ValueError(
            f"X and y have inconsistent lengths: len(X)={n_X}, len(y)={n_y}.")
    y_arr = as_numpy(y)
    if y_arr.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional (class indices), got shape {y_arr.shape}.")
    if y_arr.size == 0:
        raise ValueError("y is empty; fit needs at least one example.")
    if np.issubdtype(y_arr.dtype, np.floating):
        if np.isnan(y_arr).any():
            raise ValueError(
                f"y contains {int(np.isnan(y_arr).sum())} NaN value(s); drop "
                "those rows or give them a label.")
        if not np.all(y_arr == np.round(y_arr)):
            raise ValueError(
                "y must hold integer class indices, got non-integer values "
                f"such as {y_arr[y_arr != np.round(y_arr)][0]!r}.")
    elif not np.issubdtype(y_arr.dtype, np.integer):
        raise ValueError(
            f"y must hold integer class indices, got dtype {y_arr.dtype}; "
            "encode labels with sklearn.preprocessing.LabelEncoder.")
    if classes is not None and len(classes):
        unknown = np.setdiff1d(np.unique(y_arr), as_numpy(classes))
        if unknown.size:
            raise ValueError(
                f"y contains label(s) {unknown[:5].tolist()} outside "
                f"classes={list(as_numpy(classes))}.")
    if y_arr.min() < 0:
        raise ValueError(
            f"y must hold class indices >= 0, got {y_arr.min()!r}.")
