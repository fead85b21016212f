"""Input validation at the estimator boundary, and class labels.

Everything here runs once per ``fit`` / ``partial_fit`` call, before the net
changes, so that bad input raises a clear error that names the argument and
loses nothing: finite inputs and targets (:func:`check_fit_inputs`), fit
parameters skorch would misroute (:func:`check_fit_params`), DataFrame
columns the module cannot take (:func:`check_dataframe_columns`), targets
shaped as the module's output, never broadcast (:func:`check_target_shape`),
a column of labels raveled (:func:`ravel_label_column`). Class labels follow
scikit-learn: any labels
:class:`~sklearn.preprocessing.LabelEncoder` accepts (strings, ``[3, 5, 7]``,
``[-1, 1]``) are mapped to output positions and ``predict`` returns them;
labels that already are the positions ``0..K-1`` are left as they are.

**Parameters** are validated once, at the boundary, before anything
changes, through one hook per kind of object:

* skorch nets in ``_validate_params`` (skorch's hook, which MR's estimators
  extend with their own parameters);
* sk_mr's scikit-learn estimators (:class:`~sk_mr.meta.MRMetaClassifier`,
  :class:`~sk_mr.meta.MRMetaRegressor`) also in ``_validate_params``,
  scikit-learn's hook, overridden with its contract (no arguments, returns
  None, called first in ``fit``) as skorch's nets override it;
* components where skorch validates its own: a callback in ``initialize``
  (e.g. :class:`~sk_mr.baselines.BetaMixtureBootstrapping`,
  :class:`~sk_mr.inspection.WeightHistory`), an adversarial strategy in
  ``check_net`` (called from the net's parameter validation, with the net's
  pending ``adversarial__*`` parameters), a torch criterion in ``__init__``,
  a function on entry.

Every check goes through the validators at the end of this module
(:func:`check_int`, :func:`check_real`, :func:`check_option`,
:func:`check_bool`): they raise :class:`~sk_mr.exceptions.MRParameterError`
(a ValueError and a TypeError) naming the parameter, the values it takes,
the value given and, where it helps, the fix. A setting that another one
makes meaningless warns through :func:`warn_ignored`
(:class:`~sk_mr.exceptions.MRParameterWarning`). scikit-learn's
``_parameter_constraints`` is not used: its constraints cannot say "an int,
not a bool" (``Interval(Integral, 1, None, closed="left")`` accepts
``True``), it takes no constraint of one's own, it lives in a private module
(``sklearn.utils._param_validation``), and its messages cannot carry the
fix. :mod:`sk_mr.mw` keeps its own few checks so that it depends on torch
alone.
"""

import inspect
import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import torch
from scipy import sparse
from sklearn.exceptions import DataConversionWarning
from skorch.utils import is_dataset, multi_indexing

from sk_mr.exceptions import MRParameterError, MRParameterWarning

__all__ = ["as_numpy", "check_bool", "check_dataframe_columns", "check_fit_inputs",
           "check_fit_params", "check_int", "check_option", "check_real",
           "check_target_shape", "could_be_output_indices", "encode_labels",
           "infer_binary_labels", "infer_label_classes", "is_elementwise_loss",
           "ravel_label_column", "warn_ignored"]

#: torch's losses that compare each output with the target of the same shape.
ELEMENTWISE_LOSSES = (
    torch.nn.MSELoss, torch.nn.L1Loss, torch.nn.SmoothL1Loss, torch.nn.HuberLoss,
    torch.nn.BCELoss, torch.nn.BCEWithLogitsLoss, torch.nn.SoftMarginLoss,
    torch.nn.MultiLabelSoftMarginLoss, torch.nn.PoissonNLLLoss, torch.nn.KLDivLoss,
    torch.nn.HingeEmbeddingLoss)


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
    if sparse.issparse(X):
        X = X.data  # the stored values; the implicit zeros are finite
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
    if isinstance(X, torch.utils.data.IterableDataset):
        raise TypeError(
            f"X is an IterableDataset ({type(X).__name__}), but MR keeps a weight "
            "and a cumulative loss for each example, so it needs a map-style "
            "dataset with len() and indexing, whose examples stay the same from "
            "epoch to epoch. Load the examples into arrays or tensors, or wrap "
            "them in a torch.utils.data.Dataset with __len__ and __getitem__.")
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
    if torch.is_tensor(y) and y.is_floating_point():
        y_arr = y.detach().cpu().float().numpy()  # bfloat16 has no numpy dtype
    if np.issubdtype(y_arr.dtype, np.floating) and not np.isfinite(y_arr).all():
        raise ValueError(
            f"y contains {int((~np.isfinite(y_arr)).sum())} NaN or infinite "
            "value(s): a target that is not finite cannot be trained on. Drop those "
            "rows or give them a finite target.")
    if y_arr.ndim != 1:
        return
    if y_arr.dtype == object and any(v is None for v in y_arr):
        raise ValueError("y contains None; drop those rows or give them a label.")


def check_fit_params(fit_params, module):
    """Refuse fit parameters that skorch would silently misroute.

    skorch passes every fit parameter to the module's ``forward``. A
    ``sample_weight`` (scikit-learn's name for prior example weights, which
    e.g. ``GridSearchCV.fit(X, y, sample_weight=w)`` routes to the
    estimator) would be ignored by a ``forward(**kwargs)`` or rejected by
    torch, so it is refused unless ``forward`` names it.

    Parameters
    ----------
    fit_params : dict
      The keyword arguments of ``fit`` / ``partial_fit``.

    module : torch.nn.Module class or instance
      The net's ``module`` parameter.

    Raises
    ------
    TypeError
      For a ``sample_weight`` that ``forward`` does not name.
    """
    if "sample_weight" not in fit_params:
        return
    names = _forward_parameters(module)
    if names is not None and "sample_weight" in names:
        return  # the module's own argument
    raise TypeError(
        "fit got sample_weight, but MR estimators take no prior sample weights: "
        "MR computes each example's weight itself (sample_weights_), and skorch "
        "would pass sample_weight to the module's forward, which "
        f"{'ignores' if names is None else 'does not take'} it. Repeat or drop "
        "rows to weight examples, or pass the weights inside X (a dict) and "
        "multiply the per-example losses by them in get_loss, as skorch's FAQ "
        "shows (MR then reweights those losses).")


def _forward_parameters(module):
    """The names ``module.forward`` takes, or None when it takes ``**kwargs``
    (or its signature cannot be read)."""
    forward = getattr(module, "forward", None)
    try:
        parameters = inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return [name for name in parameters if name != "self"]


def check_dataframe_columns(X, module):
    """Refuse a pandas DataFrame whose columns the module's forward cannot take.

    skorch passes each column of a DataFrame to ``forward`` as a keyword
    argument named after it (a dict of ``(n, 1)`` arrays).

    Raises
    ------
    ValueError
      If a column name is not a string, or not an argument of ``forward``.
    """
    if not hasattr(X, "columns") or not hasattr(X, "to_numpy"):
        return
    names = _forward_parameters(module)
    columns = list(X.columns)
    bad = [c for c in columns
           if not isinstance(c, str) or (names is not None and c not in names)]
    if bad:
        raise ValueError(
            f"X is a pandas DataFrame, and skorch passes each column to the "
            "module's forward as a keyword argument named after it, but forward "
            f"cannot take the column(s) {bad[:5]}. For a module that takes one "
            "tensor, pass X.to_numpy(dtype=np.float32); otherwise name the "
            "columns after forward's arguments.")


def ravel_label_column(y):
    """Return a column of labels, shape ``(n, 1)``, as shape ``(n,)``.

    As scikit-learn's classifiers do, with a
    :class:`~sklearn.exceptions.DataConversionWarning`; any other ``y`` is
    returned as it is.

    Examples
    --------
    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ravel_label_column(np.array([[1], [0]]))
    array([1, 0])
    """
    shape = tuple(getattr(y, "shape", ()))
    if len(shape) != 2 or shape[1] != 1:
        return y
    warnings.warn(
        f"A column-vector y was passed when a 1d array was expected (y has shape "
        f"{shape}); it is raveled to shape ({shape[0]},). Pass y.ravel() to "
        "silence this warning.", DataConversionWarning, stacklevel=3)
    return y.reshape(-1)


def is_elementwise_loss(criterion):
    """Whether ``criterion`` (class or instance) needs targets shaped as the output.

    Examples
    --------
    >>> import torch
    >>> is_elementwise_loss(torch.nn.MSELoss), is_elementwise_loss(torch.nn.CrossEntropyLoss())
    (True, False)
    """
    cls = criterion if isinstance(criterion, type) else type(criterion)
    return issubclass(cls, ELEMENTWISE_LOSSES)


def check_target_shape(y, output_shape, criterion=None):
    """Return ``y`` shaped as the module's output, or refuse it; never broadcast.

    An element-wise loss (squared error, binary cross-entropy, ...) of an
    output of shape ``(n, *output_shape)`` needs targets of the same shape:
    torch would otherwise broadcast a ``(n,)`` target against an ``(n, 1)``
    output to an ``(n, n)`` loss. The one unambiguous difference, a single
    target per example as ``(n,)`` against ``(n, 1)`` (or the reverse), is
    reshaped, as a user expects.

    Parameters
    ----------
    y : array-like or torch.Tensor

    output_shape : tuple of int
      The shape of the module's output for one example.

    criterion : str or None (default=None)
      The criterion's name, for the message.

    Returns
    -------
    y : the same kind as given, reshaped if needed

    Raises
    ------
    ValueError
      Naming y's shape and the output's.

    Examples
    --------
    >>> import numpy as np
    >>> check_target_shape(np.zeros(4), (1,)).shape
    (4, 1)
    >>> check_target_shape(np.zeros((4, 2)), (1,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y has shape (4, 2), but the module's output has shape (n, 1) (n=4): ...
    """
    if not hasattr(y, "shape") or hasattr(y, "to_numpy"):
        y = as_numpy(y)
    shape = tuple(y.shape)
    per_example, output_shape = shape[1:], tuple(output_shape)
    if per_example == output_shape:
        return y
    if per_example == () and output_shape == (1,):
        return y.reshape(-1, 1)
    if per_example == (1,) and output_shape == ():
        return y.reshape(-1)
    loss = f" for {criterion}" if criterion else ""
    expected = (shape[0],) + output_shape
    output = "(n, " + ", ".join(str(k) for k in output_shape) + ")" if output_shape \
        else "(n,)"
    raise ValueError(
        f"y has shape {shape}, but the module's output has shape "
        f"{output} (n={shape[0]}): an element-wise loss{loss} "
        f"would broadcast them and compare each output with other examples' "
        f"targets. Give y the shape {expected}, or give the module "
        f"{int(np.prod(per_example)) if per_example else 1} output(s) per example.")


# -- a fit call, checked whole before the net changes (MRMixin's fit and partial_fit) --

def check_fit_call(net, X, y, cold, classes=None, fit_params=None):
    """Validate a fit call of an MR net completely before anything changes.

    Everything a fit call can refuse is checked here, so that a refused
    ``fit`` / ``partial_fit`` leaves a fitted net exactly as it was: the MR
    parameters (the net's ``_check_mr_params``), X and y and the fit parameters
    (the checks above), the task's labels (the net's ``_check_targets``
    hook) and, when the net has been trained, the targets against the
    module's output for X's first example (through a new instance of the
    module for a cold refit, see :func:`module_output_shape`). A net not
    trained yet has nothing to lose: its output is checked in
    ``partial_fit``, right after ``initialize``, before any training.

    Returns
    -------
    checked : dict
      ``y`` (the targets to train on: reshaped to the output's shape where
      that is unambiguous), ``n_features``, the task's ``targets``,
      ``trains`` and ``output_checked``.
    """
    fit_params = fit_params or {}
    trains = n_epochs(fit_params, net.max_epochs) > 0
    fit_params = forward_params(fit_params)
    net._check_mr_params()
    check_fit_inputs(X, y)
    check_fit_params(fit_params, net.module)
    check_dataframe_columns(X, net.module)
    y = net._check_target_layout(y)
    n_features = count_features(X)
    if not cold and n_features is not None and \
            getattr(net, "n_features_in_", n_features) != n_features:
        raise ValueError(
            f"X has {n_features} features, but {type(net).__name__} is expecting "
            f"{net.n_features_in_} features as input.")
    checked = {"n_features": n_features, "y": y, "output_checked": False,
               "trains": trains,
               "targets": net._check_targets(X, y, cold, classes=classes)}
    # A call that trains no epoch (max_epochs=0) never runs the module. A
    # cold refit of a trained net (one with a history) checks a new
    # instance of the module, the fitted one stays as it is; a warm call
    # checks its module where the targets need it; a net with nothing
    # trained yet is checked in partial_fit, once initialized.
    if trains and net.initialized_:
        if cold and len(getattr(net, "history_", None) or []):
            net._check_output(checked, X, fresh=True, **fit_params)
        elif not cold and net._output_needed(checked):
            net._check_output(checked, X, **fit_params)
    return checked


def module_output_shape(net, X, fresh=False, **fit_params):
    """The shape of an MR net's module output for X's first example, or None if unknown.

    The example goes through the net's ``infer`` in eval mode without
    gradients; every submodule's mode is restored. With ``fresh`` it goes
    through a new instance of ``module`` (built as a cold fit would, from a
    forked RNG), so a cold refit is checked without touching the fitted
    module.
    """
    from sk_mr.batching import Dataset, collate

    if is_dataset(X) or not _size(X):
        return None
    fitted = net.__dict__.get("module_")
    if fresh:
        with torch.random.fork_rng(devices=[]):
            module = net.initialized_instance(net.module, net.get_params_for("module"))
        module = module.to(net._mr_device())
    else:
        module = fitted
    if not isinstance(module, torch.nn.Module):
        return None
    first = multi_indexing(X, slice(0, 1))  # cast one example, not all of X
    Xi, _ = collate(Dataset(net._cast_floats(first, floating_dtype(module))
                            ).__getitems__([0]))
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    net.module_ = module
    try:
        with torch.no_grad():
            output = net.infer(Xi, **fit_params)
    except Exception as exc:
        n_features = count_features(X)
        fitted_features = getattr(net, "n_features_in_", None)
        if n_features is not None and fitted_features not in (None, n_features):
            raise ValueError(
                f"X has {n_features} features, but {type(net).__name__} was fitted "
                f"with {fitted_features} and its module fails on X "
                f"({type(exc).__name__}: {exc}). Nothing was changed: pass X with "
                f"{fitted_features} features, or set the module's parameters "
                f"(module__...) for {n_features}.") from exc
        raise
    finally:
        for m, mode in modes:
            m.training = mode
        net.module_ = fitted
    output = output[0] if isinstance(output, (tuple, list)) and output else output
    if not torch.is_tensor(output) or output.dim() < 1:
        return None
    return tuple(output.shape[1:])


class FitChecksMixin:
    """The task hooks of :func:`check_fit_call`, with the defaults of a task
    without labels (:class:`sk_mr.MRClassifier` overrides them)."""

    def _check_target_layout(self, y):
        """Return ``y`` in the layout the task trains on (task hook): as it is."""
        return y

    def _check_targets(self, X, y, cold, classes=None):
        """Validate the targets of a fit call (task hook); return what they imply."""
        return None

    def _output_needed(self, checked):
        """Whether the targets need the module's output checked (task hook): only
        those that depend on the output's shape, so other calls run no extra pass."""
        return checked["y"] is not None and is_elementwise_loss(self.criterion)

    def _check_output(self, checked, X, fresh=False, **fit_params):
        """Check ``checked['y']`` against the module's output; store the result."""
        shape = module_output_shape(self, X, fresh=fresh, **fit_params)
        checked["y"] = self._check_target_shape(checked["y"], shape, checked["targets"])
        checked["output_checked"] = True

    def _check_target_shape(self, y, output_shape, targets):
        """Return ``y`` shaped as the module's output, or refuse it (task hook; see
        :func:`sk_mr.validation.check_target_shape`)."""
        if y is None or output_shape is None or not is_elementwise_loss(self.criterion):
            return y
        name = getattr(self.criterion, "__name__", type(self.criterion).__name__)
        return check_target_shape(y, output_shape, name)

    def _apply_targets(self, targets, X, **fit_params):
        """Adopt what :meth:`_check_targets` found, once the net is initialized."""


def forward_params(fit_params):
    """The fit parameters skorch passes to the module's forward."""
    # skorch's fit_loop takes ``epochs``; ``_routing_method`` is its routing tag
    return {k: v for k, v in fit_params.items() if k not in ("epochs", "_routing_method")}


def n_epochs(fit_params, max_epochs):
    """The number of epochs a fit call trains."""
    epochs = fit_params.get("epochs")
    return max_epochs if epochs is None else epochs


def floating_dtype(module):
    """The dtype of a module's first floating parameter, or None."""
    if not isinstance(module, torch.nn.Module):
        return None
    for param in module.parameters():
        if param.is_floating_point():
            return param.dtype
    return None


def _size(X):
    try:
        return len(X)
    except TypeError:
        return None


def count_features(X):
    """The number of columns of a 2-dimensional X (not a Dataset), else None."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and not is_dataset(X):
        return int(shape[1])
    return None


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


# -- parameters: one set of validators for every module ---------------------------
# Every check names the parameter, the accepted values and the value given,
# and returns the value as the type it promises (so callers can store it).
# ``none_means`` accepts None and says what it stands for; ``hint`` adds a
# sentence on the fix or the meaning of the values.

def _interval(low, high, low_open, high_open):
    lo = "" if low is None else (f" > {low}" if low_open else f" >= {low}")
    hi = "" if high is None else (f" < {high}" if high_open else f" <= {high}")
    return lo + (" and" if lo and hi else "") + hi


def _refuse(name, expected, value, none_means=None, hint=None):
    if none_means is not None:
        expected = f"None ({none_means}) or {expected}"
    message = f"{name} must be {expected}, got {value!r}."
    if hint:
        message += f" {hint}"
    return MRParameterError(message)


def check_int(name, value, low=None, high=None, *, none_means=None, hint=None):
    """Return ``value`` as an int; raise unless it is an integer (not a bool)
    in ``[low, high]``.

    Parameters
    ----------
    name : str
      The parameter's name, for the message.
    value : object
    low, high : int or None (default=None)
      Inclusive bounds; None leaves that side open.
    none_means : str or None (default=None)
      When given, None is accepted (and returned) too; the string says what
      it stands for in the message (``'all rows'``).
    hint : str or None (default=None)
      A sentence added to the message (what the values mean, how to fix).

    Returns
    -------
    value : int or None

    Raises
    ------
    sk_mr.exceptions.MRParameterError
      A ValueError and TypeError naming the parameter, the accepted values
      and the value given.

    Examples
    --------
    >>> check_int("max_epochs", 3, low=1)
    3
    >>> check_int("max_epochs", True, low=1)
    Traceback (most recent call last):
    ...
    sk_mr.exceptions.MRParameterError: max_epochs must be an int >= 1, got True.
    >>> check_int("max_rows", -1, low=0, none_means="all rows")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sk_mr.exceptions.MRParameterError: max_rows must be None (all rows) or an int ...
    """
    if value is None and none_means is not None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or (low is not None and value < low) or (high is not None and value > high):
        raise _refuse(name, f"an int{_interval(low, high, False, False)}", value,
                      none_means, hint)
    return int(value)


def check_real(name, value, low=None, high=None, low_open=False, high_open=False, *,
               none_means=None, hint=None):
    """Return ``value`` as a float; raise unless it is a finite real number
    (not a bool) within the bounds.

    Parameters
    ----------
    name : str
      The parameter's name, for the message.
    value : object
    low, high : float or None (default=None)
      Bounds; None leaves that side open.
    low_open, high_open : bool (default=False)
      Whether the bound itself is excluded.
    none_means : str or None (default=None)
      When given, None is accepted (and returned) too; the string says what
      it stands for in the message.
    hint : str or None (default=None)
      A sentence added to the message.

    Returns
    -------
    value : float or None

    Raises
    ------
    sk_mr.exceptions.MRParameterError
      A ValueError and TypeError naming the parameter, the accepted values
      and the value given.

    Examples
    --------
    >>> check_real("hard_fraction", 0.25, low=0, high=1, low_open=True, high_open=True)
    0.25
    >>> check_real("eps", float("nan"), low=0)
    Traceback (most recent call last):
    ...
    sk_mr.exceptions.MRParameterError: eps must be a finite float >= 0, got nan.
    """
    if value is None and none_means is not None:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and bool(np.isfinite(value))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise _refuse(name, f"a finite float{_interval(low, high, low_open, high_open)}",
                      value, none_means, hint)
    return float(value)


def check_option(name, value, options, *, hint=None):
    """Return ``value``; raise unless it is one of ``options``.

    Examples
    --------
    >>> check_option("loss_pass", "online", ("full", "online"))
    'online'
    >>> check_option("loss_pass", "fast", ("full", "online"))
    Traceback (most recent call last):
    ...
    sk_mr.exceptions.MRParameterError: loss_pass must be one of 'full', 'online'; got 'fast'.
    """
    if isinstance(value, str) or value is None or isinstance(value, (bool, numbers.Number)):
        known = value in options
    else:
        known = any(value is option for option in options)
    if not known:
        message = f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}."
        raise MRParameterError(message + (f" {hint}" if hint else ""))
    return value


def check_bool(name, value, *, hint=None):
    """Return ``value``; raise unless it is ``True`` or ``False``.

    Not 0, 1 or a numpy bool: a flag that takes any truthy value hides a
    parameter given in the wrong place.

    Examples
    --------
    >>> check_bool("random_start", False)
    False
    >>> check_bool("random_start", 1)
    Traceback (most recent call last):
    ...
    sk_mr.exceptions.MRParameterError: random_start must be True or False, got 1.
    """
    if not isinstance(value, bool):
        raise _refuse(name, "True or False", value, hint=hint)
    return value


def warn_ignored(name, value, because, fix=None, stacklevel=3):
    """Warn (:class:`~sk_mr.exceptions.MRParameterWarning`) that a setting has
    no effect because of another one.

    Parameters
    ----------
    name : str
      The ignored parameter.
    value : object
      Its value.
    because : str
      Why it has no effect (the other setting).
    fix : str or None (default=None)
      What to do instead.
    stacklevel : int (default=3)
      As in :func:`warnings.warn`; 3 points at the caller of the function
      that calls this one.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_ignored("mw_losses", "adversarial", "loss_pass='online' records the "
    ...                  "training steps' losses")
    >>> print(caught[0].message)
    mw_losses='adversarial' has no effect: loss_pass='online' records the training steps' losses.
    """
    message = f"{name}={value!r} has no effect: {because}."
    if fix:
        message += f" {fix}"
    warnings.warn(message, MRParameterWarning, stacklevel=stacklevel)
