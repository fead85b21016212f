"""Input validation at the estimator boundary, and class labels.

Everything here runs once per ``fit`` / ``partial_fit`` call, before the net
changes, so that bad input raises a clear error that names the argument and
loses nothing. Class labels follow scikit-learn: any labels
:class:`~sklearn.preprocessing.LabelEncoder` accepts (strings, ``[3, 5, 7]``,
``[-1, 1]``) are mapped to output positions and ``predict`` returns them;
labels that already are the positions ``0..K-1`` are left as they are.
"""

from collections.abc import Mapping

import numpy as np
import torch
from skorch.utils import is_dataset

__all__ = ["as_numpy", "check_fit_inputs", "could_be_output_indices",
           "encode_labels", "infer_binary_labels", "infer_label_classes"]


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


def _is_whole_number_array(arr):
    if arr.dtype == bool:
        return False
    if np.issubdtype(arr.dtype, np.integer):
        return True
    if np.issubdtype(arr.dtype, np.floating):
        return bool(np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))
    return False


def check_fit_inputs(X, y):
    """Validate ``X`` and ``y`` of a fit call, raising clear errors.

    Checks that X (arrays, tensors or dicts of them) is finite, that X and y
    have the same length, that ``y`` is non-empty and that a 1-dimensional
    ``y`` has no missing labels (NaN or None) and floating targets no NaN.
    Datasets are passed through (their items are checked during training),
    as is a ``y`` of another kind (e.g. sequences), which the net's
    criterion interprets.

    Parameters
    ----------
    X : array-like, torch.Tensor, dict or Dataset
    y : array-like, torch.Tensor or None

    Raises
    ------
    ValueError
      Naming the offending argument and value.

    Examples
    --------
    >>> import numpy as np
    >>> check_fit_inputs(np.zeros((2, 3)), ["cat", "dog"])
    >>> check_fit_inputs(np.zeros((2, 3)), [0])
    Traceback (most recent call last):
    ...
    ValueError: X and y have inconsistent lengths: len(X)=2, len(y)=1.
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
    if n_y == 0:
        raise ValueError("y is empty; fit needs at least one example.")
    y_arr = as_numpy(y)
    if np.issubdtype(y_arr.dtype, np.floating) and np.isnan(y_arr).any():
        raise ValueError(
            f"y contains {int(np.isnan(y_arr).sum())} NaN value(s); drop "
            "those rows or give them a target.")
    if y_arr.ndim != 1:
        return
    if y_arr.dtype == object and any(v is None for v in y_arr):
        raise ValueError("y contains None; drop those rows or give them a label.")


def _unique(y_arr, name="y"):
    try:
        return np.unique(y_arr)
    except TypeError as exc:
        raise ValueError(
            f"{name} mixes label types that cannot be sorted ({exc}); use labels "
            "of one type (all strings or all numbers), as "
            "sklearn.preprocessing.LabelEncoder requires.") from exc


def infer_label_classes(y, classes=None, n_outputs=None):
    """Decide how the labels ``y`` map to the outputs of a classifier.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
      The labels given to fit.

    classes : array-like or None (default=None)
      The ``classes`` parameter of the net: the label of each output, in
      output order.

    n_outputs : int or None (default=None)
      The number of outputs of the module, if known.

    Returns
    -------
    label_classes : numpy.ndarray or None
      The label of each output when ``y`` must be encoded (``y[i]`` is
      trained as output ``label_classes.tolist().index(y[i])``); None when
      ``y`` already holds output indices. Without ``classes``, labels that
      are exactly ``0..K-1``, or non-negative integers all below
      ``n_outputs`` (output indices with some classes absent, e.g. in a
      cross-validation fold), are indices; any other labels are encoded in
      sorted order (scikit-learn's :class:`~sklearn.preprocessing.LabelEncoder`).
      With ``classes``, labels found in ``classes`` are encoded by their
      position in it; non-negative integers below ``len(classes)`` that are
      not labels of ``classes`` are indices (skorch's convention, where
      ``classes`` only names the outputs).

    Raises
    ------
    ValueError
      If ``y`` has labels outside a given ``classes`` that are not indices
      of it, or labels of mixed, unsortable types.

    Examples
    --------
    >>> infer_label_classes([0, 1, 2, 1]) is None
    True
    >>> infer_label_classes(["dog", "cat", "dog"])
    array(['cat', 'dog'], dtype='<U3')
    >>> infer_label_classes([3, 7, 5])
    array([3, 5, 7])
    >>> infer_label_classes([3, 7, 5], n_outputs=10) is None
    True
    >>> infer_label_classes(["b", "a"], classes=["b", "a", "c"])
    array(['b', 'a', 'c'], dtype='<U1')
    """
    y_arr = as_numpy(y)
    uniques = _unique(y_arr)
    if classes is not None and len(classes):
        labels = np.asarray(as_numpy(classes))
        if len(_unique(labels, name="classes")) != len(labels):
            raise ValueError(f"classes must not repeat a label, got {list(labels)}.")
        if np.isin(uniques, labels).all():
            if _is_whole_number_array(labels) and np.array_equal(
                    labels, np.arange(len(labels))):
                return None
            return labels
        if _is_whole_number_array(uniques) and uniques.min() >= 0 \
                and uniques.max() < len(labels):
            return None
        unknown = uniques[~np.isin(uniques, labels)]
        raise ValueError(
            f"y contains label(s) {unknown[:5].tolist()} outside "
            f"classes={labels.tolist()}; y must hold labels from classes (or the "
            f"output indices 0..{len(labels) - 1}).")
    if _is_whole_number_array(uniques) and (
            np.array_equal(uniques, np.arange(len(uniques)))
            or (n_outputs is not None and uniques.min() >= 0 and uniques.max() < n_outputs)):
        return None
    return uniques


def could_be_output_indices(label_classes):
    """Whether encoded labels are non-negative integers (indices of a wider module).

    Examples
    --------
    >>> could_be_output_indices(np.array([1, 3])), could_be_output_indices(np.array(["a"]))
    (True, False)
    """
    return bool(label_classes is not None and _is_whole_number_array(label_classes)
                and label_classes.min() >= 0)


def encode_labels(y, label_classes):
    """Return the output index of each label, as int64.

    Parameters
    ----------
    y : array-like of shape (n_samples,)

    label_classes : numpy.ndarray
      The label of each output (from :func:`infer_label_classes`).

    Returns
    -------
    indices : numpy.ndarray of int64

    Raises
    ------
    ValueError
      If a label of ``y`` is not in ``label_classes``.

    Examples
    --------
    >>> import numpy as np
    >>> encode_labels(["dog", "cat"], np.array(["cat", "dog"]))
    array([1, 0])
    """
    y_arr = as_numpy(y)
    order = np.argsort(label_classes, kind="stable")
    sorted_labels = label_classes[order]
    pos = np.searchsorted(sorted_labels, y_arr)
    pos = np.clip(pos, 0, len(sorted_labels) - 1)
    found = sorted_labels[pos] == y_arr
    if not np.all(found):
        unknown = _unique(np.asarray(y_arr)[~found])
        raise ValueError(
            f"y contains label(s) {unknown[:5].tolist()} that this net was not "
            f"fitted on (classes_={label_classes.tolist()}). A new class needs a "
            "new fit, or pass all labels as classes=[...] from the first fit.")
    return order[pos].astype(np.int64)


def infer_binary_labels(y, require_01=False):
    """Decide how the labels of a binary classifier map to its logit.

    Parameters
    ----------
    y : array-like of shape (n_samples,)

    require_01 : bool (default=False)
      Refuse labels other than 0/1 (a net fitted on 0/1 gets more 0/1).

    Returns
    -------
    label_classes : numpy.ndarray of shape (2,) or None
      The labels of outputs 0 and 1, sorted, when they must be encoded; None
      for labels 0/1 (ints, floats or bools), used as they are.

    Raises
    ------
    ValueError
      For more than two labels, or one label other than 0 or 1.

    Examples
    --------
    >>> infer_binary_labels([0, 1, 1]) is None
    True
    >>> infer_binary_labels(["spam", "ham", "spam"])
    array(['ham', 'spam'], dtype='<U4')
    """
    y_arr = as_numpy(y)
    uniques = _unique(y_arr)
    numeric = np.issubdtype(uniques.dtype, np.number) or uniques.dtype == bool
    if numeric and np.isin(uniques.astype(np.float64), [0.0, 1.0]).all():
        return None
    if require_01:
        raise ValueError(
            f"y contains label(s) {uniques[:5].tolist()}, but this net was fitted on "
            "labels 0/1.")
    if len(uniques) != 2:
        raise ValueError(
            f"A binary classifier needs two labels, but y has {len(uniques)}: "
            f"{uniques[:5].tolist()}. For more classes use MRClassifier.")
    return uniques
