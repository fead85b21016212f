"""What MR learned: label-issue ranking, noise detection and weight history.

MR's weights say which training labels the optimization distrusts: an
example whose loss stays high accumulates a large cumulative loss ``L_i``
and its weight ``p_i = softmax(-eta * L)_i`` fades. Tools such as cleanlab
obtain a similar ranking from out-of-sample predictions at the cost of
K-fold retraining; MR yields it from the one run that trains the model.

* :func:`rank_label_issues` and :func:`label_issue_scores` rank the rows of
  the ``X`` given to fit, most suspect first.
* :func:`noise_detection_report` scores that ranking against a known noise
  mask (AUROC, average precision, precision and recall of the flagged rows).
* :func:`noise_fraction_by_weight_percentile` is the data of the paper's
  Figure 4.
* :class:`WeightHistory` is a skorch callback that records the weights
  every epoch (all rows, a seeded random subset, and summary statistics),
  and the total weight on given masks in ``net.history``;
  :func:`weight_on_mask` reads the total weight on a mask per epoch back.

All functions take a fitted :class:`~sk_mr.MRClassifier` (or a fitted
scikit-learn ``Pipeline`` ending in one). Rows are indices into the ``X``
given to fit; rows held out by ``train_split`` are never weighted and get
NaN scores.

Examples
--------
The examples of this module (and of :mod:`sk_mr.plotting`) use this net: an
MLP trained with MR for ten epochs on digits whose labels are 40% noisy,
recording its weights with :class:`WeightHistory`.

>>> import numpy as np
>>> from sklearn.datasets import load_digits
>>> from sk_mr import MRClassifier, add_label_noise
>>> from sk_mr.inspection import WeightHistory
>>> from sk_mr.models import MLP
>>> X, y = load_digits(return_X_y=True)
>>> X = (X / 16).astype(np.float32)
>>> y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
>>> net = MRClassifier(MLP, module__in_features=64, module__n_classes=10,
...                    eta=0.1, lr=0.05, optimizer__momentum=0.9, max_epochs=10,
...                    train_split=None, random_state=0, verbose=0,
...                    callbacks=[WeightHistory(masks={"noisy": is_noisy})])
>>> _ = net.fit(X, y_noisy)
"""

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score, roc_auc_score
from skorch.callbacks import Callback
from skorch.dataset import get_len

from sk_mr.callbacks import find_reweighting
from sk_mr.validation import check_bool, check_int, check_real, warn_ignored

__all__ = [
    "WeightHistory",
    "label_issue_scores",
    "noise_detection_report",
    "noise_fraction_by_weight_percentile",
    "rank_label_issues",
    "weight_on_mask",
]


# -- access to a fitted net's MR state -----------------------------------------
def _final_estimator(net):
    # A fitted Pipeline(..., MRClassifier): its last step holds the weights.
    steps = getattr(net, "steps", None)
    if isinstance(steps, list) and steps and hasattr(net, "_final_estimator"):
        return net._final_estimator
    return net


def _fitted_reweighting(net, need_losses=False):
    """Return the net's fitted reweighting callback or raise a clear error."""
    net = _final_estimator(net)
    if getattr(type(net), "mr_", None) is None and not hasattr(net, "callbacks_"):
        raise TypeError(
            "Expected a net trained with MR (sk_mr.MRClassifier, or a Pipeline "
            f"ending in one), got {type(net).__name__}.")
    callbacks = getattr(net, "callbacks_", None)
    if callbacks is None:
        raise NotFittedError(
            f"This {type(net).__name__} is not fitted yet; call fit(X, y) before "
            "inspecting its MR weights.")
    reweighting = [cb for _, cb in find_reweighting(callbacks)]
    if not reweighting:
        raise TypeError(
            f"{type(net).__name__} has no sample-reweighting callback, so it has "
            "no MR weights to inspect. Train with sk_mr.MRClassifier and keep its "
            "'reweighting' callback (a plain skorch NeuralNetClassifier keeps no "
            "per-example weights).")
    mr = reweighting[0]
    if getattr(mr, "train_rows_", None) is None:
        raise NotFittedError(
            f"This {type(net).__name__} has no MR weights yet; call fit(X, y) "
            "first.")
    if need_losses and getattr(mr, "cumulative_losses_", None) is None:
        raise TypeError(
            f"{type(mr).__name__} keeps no cumulative losses, so its weights say "
            "nothing about the labels. Label-issue ranking needs "
            "MultiplicativeReweighting, MRClassifier's default reweighting "
            "callback (do not replace it with callbacks__reweighting=...).")
    return mr


def _training_state(net):
    """Weights, cumulative losses (numpy, training order) and training rows."""
    mr = _fitted_reweighting(net, need_losses=True)
    weights = mr.probabilities_.detach().to("cpu", torch.float64).numpy()
    losses = mr.cumulative_losses_.detach().to("cpu", torch.float64).numpy()
    return mr, weights, losses


def _check_n_rows(value, n_rows, name):
    """Check that ``value`` (X or y) has the fitted number of rows."""
    if value is None:
        return
    try:
        length = get_len(value)  # arrays, tensors, dicts and lists of them
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be array-like with one entry per row of the X given "
            f"to fit, got {type(value).__name__}.") from None
    if length != n_rows:
        raise ValueError(
            f"{name} has {length} rows, but the net's MR weights were fitted on "
            f"an X with {n_rows} rows. Pass the same X and y that were given to "
            "fit (not a train/test subset of them).")


def _check_mask(mask, n_rows, name):
    """Return ``mask`` as a bool array of length ``n_rows`` or raise."""
    if isinstance(mask, torch.Tensor):
        mask = mask.detach().cpu().numpy()
    mask = np.asarray(mask)
    if mask.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-d boolean array with one entry per row of the "
            f"X given to fit, got shape {mask.shape}.")
    if mask.dtype != bool:
        if mask.size and not (np.issubdtype(mask.dtype, np.number)
                              and np.isin(mask, (0, 1)).all()):
            raise ValueError(
                f"{name} must be boolean (True = noisy / in the group), got "
                f"dtype {mask.dtype} with values other than 0 and 1.")
        mask = mask.astype(bool)
    if mask.shape[0] != n_rows:
        raise ValueError(
            f"{name} has {mask.shape[0]} entries, but the net's MR weights were "
            f"fitted on an X with {n_rows} rows; pass one entry per row of "
            "that X (held-out rows are ignored).")
    return mask


# -- label issues ----------------------------------------------------------------
def label_issue_scores(net):
    """Return a label-issue score per row of the fitted X; higher = more suspect.

    The score of a training row is its cumulative loss ``L_i`` divided by the
    number of MW updates: its average loss over the loss passes of training.
    MR's weights are ``softmax(-eta * L)``, a decreasing function of ``L``,
    so ordering rows by score is ordering them by weight (lowest first), but
    unlike the weights the scores never underflow to ties.

    Parameters
    ----------
    net : MRClassifier
      A net fitted with the default :class:`~sk_mr.MultiplicativeReweighting`
      (or a fitted Pipeline ending in one).

    Returns
    -------
    scores : numpy.ndarray of float64, shape (n_rows,)
      One score per row of the ``X`` given to fit; NaN for rows held out by
      ``train_split``.

    Raises
    ------
    NotFittedError
      If the net is not fitted.

    TypeError
      If the net keeps no MR cumulative losses (a plain skorch net, or
      :class:`~sk_mr.RandomReweighting`).

    Examples
    --------
    With ``net`` and ``is_noisy`` of the module's example:

    >>> scores = label_issue_scores(net)
    >>> scores.shape
    (1797,)
    >>> suspects = np.argsort(-np.nan_to_num(scores, nan=-np.inf))[:20]
    >>> bool(is_noisy[suspects].mean() >= 0.9)  # the highest scores: wrong labels
    True
    """
    mr = _fitted_reweighting(net, need_losses=True)
    return mr.full_length(mr.cumulative_losses_) / max(mr.n_updates_, 1)


def rank_label_issues(net, *, X=None, y=None, n_issues=None):
    """Return the training rows ordered most suspect first.

    Rows are sorted by MR weight, lowest first; ties (e.g. weights that
    underflowed to zero) are broken by higher cumulative loss, then by row
    index. Rows held out by ``train_split`` are not ranked.

    Parameters
    ----------
    net : MRClassifier
      A net fitted with the default :class:`~sk_mr.MultiplicativeReweighting`
      (or a fitted Pipeline ending in one).

    X : array-like or None (default=None)
      Optional: the ``X`` given to fit. It is used only to check that its
      number of rows matches the data the weights were fitted on, which
      catches the easy mistake of indexing a train/test split or a
      reshuffled copy with the returned rows.

    y : array-like or None (default=None)
      Optional: the labels given to fit, checked like ``X``. Then
      ``y[rank_label_issues(net, X=X, y=y)]`` are the suspect labels.

    n_issues : int or None (default=None)
      Return only the ``n_issues`` most suspect rows; None returns all
      training rows.

    Returns
    -------
    rows : numpy.ndarray of int64
      Rows of the ``X`` given to fit, most suspect first.

    Raises
    ------
    NotFittedError
      If the net is not fitted.

    TypeError
      If the net keeps no MR cumulative losses.

    ValueError
      If ``X`` or ``y`` do not have the fitted number of rows, or
      ``n_issues`` is not a non-negative int.

    Examples
    --------
    With ``net``, ``X``, ``y_noisy`` and ``is_noisy`` of the module's example:

    >>> rows = rank_label_issues(net, X=X, y=y_noisy, n_issues=50)
    >>> rows.shape  # the 50 labels MR trusts least, most suspect first
    (50,)
    >>> bool(is_noisy[rows].mean() > 0.9)
    True
    """
    mr, weights, losses = _training_state(net)
    _check_n_rows(X, mr.n_rows_, "X")
    _check_n_rows(y, mr.n_rows_, "y")
    check_int("n_issues", n_issues, low=0, none_means="rank every training row")
    rows = mr.train_rows_
    # lexsort: the last key is the primary one; equal keys keep row order.
    order = np.lexsort((rows, -losses, weights))
    ranked = rows[order].astype(np.int64)
    return ranked if n_issues is None else ranked[:n_issues]


def noise_detection_report(net, is_noisy, *, flag_fraction=None):
    """Score MR's weights as a detector of known noisy labels.

    Computed on the training rows only (held-out rows have no weight).

    Parameters
    ----------
    net : MRClassifier
      A net fitted with the default :class:`~sk_mr.MultiplicativeReweighting`.

    is_noisy : array-like of bool, shape (n_rows,)
      True where the label given to fit is wrong, one entry per row of the
      ``X`` given to fit (e.g. the second output of
      :func:`sk_mr.add_label_noise`).

    flag_fraction : float in [0, 1] or None (default=None)
      Fraction of the training rows flagged as noisy (the lowest-weighted
      ones, in :func:`rank_label_issues` order). None flags the noise rate,
      so that precision and recall are equal and read as "the fraction of
      the ``n_noisy`` lowest-weighted rows that really are noisy".

    Returns
    -------
    report : dict
      * ``'auroc'``: area under the ROC curve of :func:`label_issue_scores`
        (0.5 = chance, 1 = every noisy row is weighted below every clean one).
      * ``'average_precision'``: average precision of the same scores
        (chance level is the noise rate).
      * ``'precision'``, ``'recall'``: of the flagged rows.
      * ``'flag_fraction'``, ``'n_flagged'``: how many rows were flagged.
      * ``'noise_rate'``: fraction of noisy training rows.
      * ``'noisy_weight'``: total MR weight on the noisy training rows (the
        end point of the paper's Figure 2; the noise rate under uniform
        weights).
      * ``'n_train'``, ``'n_noisy'``: numbers of training and noisy
        training rows.

    Raises
    ------
    ValueError
      If ``is_noisy`` does not have one boolean entry per fitted row, or the
      training rows are all noisy or all clean.

    Examples
    --------
    With ``net`` and ``is_noisy`` of the module's example:

    >>> report = noise_detection_report(net, is_noisy)
    >>> sorted(report)
    ['auroc', 'average_precision', 'flag_fraction', 'n_flagged', 'n_noisy', 'n_train', 'noise_rate', 'noisy_weight', 'precision', 'recall']
    >>> bool(report["auroc"] > 0.95)
    True
    """
    mr, weights, losses = _training_state(net)
    noisy = _check_mask(is_noisy, mr.n_rows_, "is_noisy")[mr.train_rows_]
    n_train = noisy.shape[0]
    n_noisy = int(noisy.sum())
    if n_noisy in (0, n_train):
        kind = "noisy" if n_noisy else "clean"
        raise ValueError(
            f"is_noisy marks all {n_train} training rows as {kind}; detection "
            "scores need both noisy and clean training rows.")
    if flag_fraction is None:
        n_flagged = n_noisy
    else:
        check_real("flag_fraction", flag_fraction, low=0, high=1,
                   none_means="flag the noise rate")
        n_flagged = int(round(flag_fraction * n_train))
    scores = losses / max(mr.n_updates_, 1)
    order = np.lexsort((mr.train_rows_, -losses, weights))
    hits = int(noisy[order[:n_flagged]].sum())
    return {
        "auroc": float(roc_auc_score(noisy, scores)),
        "average_precision": float(average_precision_score(noisy, scores)),
        "precision": hits / n_flagged if n_flagged else float("nan"),
        "recall": hits / n_noisy,
        "flag_fraction": n_flagged / n_train,
        "n_flagged": n_flagged,
        "noise_rate": n_noisy / n_train,
        "noisy_weight": float(weights[noisy].sum()),
        "n_train": n_train,
        "n_noisy": n_noisy,
    }


def noise_fraction_by_weight_percentile(net, is_noisy, *, n_bins=100):
    """Return the fraction of noisy labels in each weight percentile.

    The training rows are sorted by weight, lowest first (ties as in
    :func:`rank_label_issues`), and split into ``n_bins`` groups of (nearly)
    equal size; this is the data of the paper's Figure 4. With MR, the bins
    below the noise rate should be almost all noisy.

    Parameters
    ----------
    net : MRClassifier
      A net fitted with the default :class:`~sk_mr.MultiplicativeReweighting`.

    is_noisy : array-like of bool, shape (n_rows,)
      True where the label given to fit is wrong.

    n_bins : int (default=100)
      Number of percentile bins; at most the number of training rows.

    Returns
    -------
    fractions : numpy.ndarray of float64, shape (n_bins,)
      Fraction of noisy rows per bin, from the lowest weights to the highest.

    Examples
    --------
    With ``net`` and ``is_noisy`` of the module's example (36% of the labels
    wrong), in tenths of the weight distribution:

    >>> fractions = noise_fraction_by_weight_percentile(net, is_noisy, n_bins=10)
    >>> bool(fractions[:3].min() > 0.9)   # the lowest weights: wrong labels
    True
    >>> bool(fractions[5:].max() < 0.1)   # the highest: right ones
    True
    """
    mr, weights, losses = _training_state(net)
    noisy = _check_mask(is_noisy, mr.n_rows_, "is_noisy")[mr.train_rows_]
    n_train = noisy.shape[0]
    check_int("n_bins", n_bins, low=1, high=n_train,
              hint=f"There are {n_train} training rows to split into bins.")
    order = np.lexsort((mr.train_rows_, -losses, weights))
    return np.array([chunk.mean() for chunk in np.array_split(noisy[order], n_bins)])


# -- weight history ----------------------------------------------------------------
class WeightHistory(Callback):
    """Record MR's weights after every epoch (a skorch callback).

    Add it to the ``callbacks`` of an :class:`~sk_mr.MRClassifier`. User
    callbacks run after the default ones, and the MW update is the default
    callback ``'reweighting'``, so at each ``on_epoch_end`` this callback sees
    the weights the update has just computed (the weights of the next
    epoch). It also takes a snapshot of the initial (uniform) weights when
    the first epoch begins, so snapshot ``k`` holds the weights after
    ``epochs_[k]`` epochs, starting at 0.

    Memory is bounded by ``max_rows``: all training rows are recorded when
    there are at most ``max_rows`` of them, otherwise a fixed random subset
    drawn with ``random_state``. Summary statistics of all rows (weight
    quantiles, and the total weight on each mask) are recorded either way.
    For each mask ``name`` the total weight on the mask's training rows is
    also written to ``net.history`` under ``'mr_weight_<name>'``, so that
    ``PrintLog``, :class:`skorch.callbacks.TensorBoard` and
    :class:`skorch.callbacks.MlflowLogger` (placed after this callback) show
    it like any other key.

    Per-example losses cost nothing extra: the cumulative losses of the
    recorded rows are stored too, and their differences between snapshots
    (:meth:`epoch_losses`) are the losses of each epoch's MW update.

    Parameters
    ----------
    max_rows : int or None (default=10000)
      Largest number of rows whose weights are stored every epoch; None
      stores all. 0 stores only the summary statistics.

    masks : dict of str to array-like of bool, or None (default=None)
      Named groups of rows of the ``X`` given to fit (e.g.
      ``{'noisy': is_noisy}``), one entry per row; held-out rows are
      ignored. Their total weight is recorded each epoch.

    record_losses : bool (default=True)
      Also store the recorded rows' cumulative losses (only with a
      reweighting callback that keeps them, i.e. MultiplicativeReweighting).

    random_state : int, numpy.random.Generator or None (default=None)
      Seed of the subset drawn when there are more than ``max_rows``
      training rows; global RNG state is never used.

    Attributes
    ----------
    rows_ : numpy.ndarray of int64, shape (n_stored,)
      Rows of the ``X`` given to fit whose weights are stored (the columns
      of ``weights_``): all training rows, or ``max_rows`` of them.

    n_train_ : int
      Number of training rows.

    epochs_ : numpy.ndarray of int64, shape (n_snapshots,)
      Number of completed epochs at each snapshot (0 for the initial one).

    weights_ : numpy.ndarray of float64, shape (n_snapshots, n_stored)
      MR weight of each stored row at each snapshot (all training rows sum
      to one, so a subset sums to less).

    cumulative_losses_ : numpy.ndarray of float64 or None
      Cumulative loss of each stored row at each snapshot; None when not
      recorded.

    mask_weights_ : dict of str to numpy.ndarray, shape (n_snapshots,)
      Total weight on each mask's training rows at each snapshot.

    weight_quantiles_ : numpy.ndarray of float64, shape (n_snapshots, 7)
      Quantiles ``QUANTILE_LEVELS`` of ``n_train * p`` over all training
      rows (1 is the uniform weight) at each snapshot.

    Examples
    --------
    The net of the module's example was fitted for 10 epochs with
    ``callbacks=[WeightHistory(masks={'noisy': is_noisy})]``:

    >>> len(net.history[:, 'mr_weight_noisy'])  # total weight on the mask, per epoch
    10
    >>> from sk_mr.inspection import weight_on_mask
    >>> epochs, noisy_weight = weight_on_mask(net, 'noisy')
    >>> epochs  # snapshot 0: the uniform weights before the first update
    array([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10])
    """

    #: Quantile levels of ``weight_quantiles_``.
    QUANTILE_LEVELS = (0.0, 0.01, 0.1, 0.5, 0.9, 0.99, 1.0)

    def __init__(self, max_rows=10000, masks=None, record_losses=True,
                 random_state=None):
        self.max_rows = max_rows
        self.masks = masks
        self.record_losses = record_losses
        self.random_state = random_state

    # -- state ------------------------------------------------------------------
    def initialize(self):
        self._check_params()
        self.rng_ = np.random.default_rng(self.random_state)
        self.rows_ = None
        self.n_train_ = None
        self._positions_ = None          # positions in the training split (numpy)
        self._train_masks_ = {}          # name -> bool over the training split
        self._device_cache_ = None       # (device, positions, masks) tensors
        self._epochs_ = []
        self._weights_ = []
        self._cumulative_losses_ = []
        self._mask_weights_ = {}
        self._quantiles_ = []
        return self

    def _check_params(self):
        check_int("max_rows", self.max_rows, low=0, none_means="all rows")
        check_bool("record_losses", self.record_losses)
        if self.max_rows is None and self.random_state is not None:
            warn_ignored("random_state", self.random_state,
                         "max_rows=None records every training row, so no subset is "
                         "drawn", "Leave random_state=None, or set max_rows.")
        masks = self.masks
        if masks is None:
            return
        if not isinstance(masks, dict):
            raise TypeError(
                "masks must be None or a dict mapping names to boolean arrays, "
                f"e.g. masks={{'noisy': is_noisy}}; got {type(masks).__name__}.")
        for name in masks:
            if not isinstance(name, str) or not name:
                raise ValueError(
                    f"mask names must be non-empty strings (they become history "
                    f"keys 'mr_weight_<name>'), got {name!r}.")

    @property
    def epochs_(self):
        return np.asarray(self._epochs_, dtype=np.int64)

    @property
    def weights_(self):
        return self._stack(self._weights_)

    @property
    def cumulative_losses_(self):
        if not self._cumulative_losses_:
            return None
        return self._stack(self._cumulative_losses_)

    @property
    def mask_weights_(self):
        return {name: np.asarray(v, dtype=np.float64)
                for name, v in self._mask_weights_.items()}

    @property
    def weight_quantiles_(self):
        return np.asarray(self._quantiles_, dtype=np.float64).reshape(
            -1, len(self.QUANTILE_LEVELS))

    def _stack(self, snapshots):
        n = 0 if self.rows_ is None else len(self.rows_)
        if not snapshots:
            return np.empty((0, n), dtype=np.float64)
        return np.stack(snapshots)

    def __getstate__(self):
        # Device tensors are a cache, rebuilt on first use (pickles anywhere).
        state = self.__dict__.copy()
        state["_device_cache_"] = None
        return state

    # -- binding to the training split -------------------------------------------
    def _reweighting(self, net):
        for _, cb in find_reweighting(getattr(net, "callbacks_", [])):
            return cb
        raise TypeError(
            f"WeightHistory needs a net trained with MR (sk_mr.MRClassifier); "
            f"{type(net).__name__} has no sample-reweighting callback.")

    def _bind(self, mr):
        train_rows = mr.train_rows_
        n_train = len(train_rows)
        self.n_train_ = n_train
        if self.max_rows is None or n_train <= self.max_rows:
            positions = np.arange(n_train)
        else:
            positions = np.sort(self.rng_.choice(n_train, self.max_rows, replace=False))
        self._positions_ = positions
        self.rows_ = train_rows[positions].astype(np.int64)
        for name, mask in (self.masks or {}).items():
            mask = _check_mask(mask, mr.n_rows_, f"masks[{name!r}]")
            self._train_masks_[name] = mask[train_rows]
            self._mask_weights_[name] = []

    def _device_state(self, device):
        if self._device_cache_ is None or self._device_cache_[0] != device:
            positions = torch.as_tensor(self._positions_, device=device)
            masks = {name: torch.as_tensor(m, device=device)
                     for name, m in self._train_masks_.items()}
            self._device_cache_ = (device, positions, masks)
        return self._device_cache_[1:]

    def on_train_begin(self, net, **kwargs):
        mr = self._reweighting(net)
        names = [name for name, _ in net.callbacks_]
        mine = [i for i, (_, cb) in enumerate(net.callbacks_) if cb is self]
        theirs = [i for i, (_, cb) in enumerate(net.callbacks_) if cb is mr]
        if mine and theirs and mine[0] < theirs[0]:
            raise ValueError(
                f"WeightHistory runs before the reweighting callback "
                f"{names[theirs[0]]!r} (callback order {names}), so it would "
                "record the weights before each epoch's update. Put "
                "WeightHistory after the reweighting callback in callbacks=[...].")

    def on_epoch_begin(self, net, **kwargs):
        mr = self._reweighting(net)
        if self.rows_ is None:
            self._bind(mr)
        elif len(mr.train_rows_) != self.n_train_:
            raise ValueError(
                "WeightHistory is bound to a training split of "
                f"{self.n_train_} rows, but this call trains on "
                f"{len(mr.train_rows_)}; fit with warm_start=False to start over.")
        if not self._epochs_ and mr.n_updates_ == 0:
            # The weights epoch 1 trains with (uniform for MR).
            self._snapshot(net, mr, epoch=len(net.history) - 1, to_history=False)

    def on_epoch_end(self, net, **kwargs):
        mr = self._reweighting(net)
        self._snapshot(net, mr, epoch=len(net.history), to_history=True)

    def _snapshot(self, net, mr, epoch, to_history):
        p = mr.probabilities_
        positions, masks = self._device_state(p.device)
        self._epochs_.append(int(epoch))
        self._weights_.append(p[positions].to("cpu", torch.float64).numpy())
        losses = getattr(mr, "cumulative_losses_", None)
        if self.record_losses and losses is not None:
            self._cumulative_losses_.append(
                losses[positions].to("cpu", torch.float64).numpy())
        # Sorted on the device; only the quantiles travel to the host.
        n = p.shape[0]
        index = torch.tensor([round(q * (n - 1)) for q in self.QUANTILE_LEVELS],
                             device=p.device)
        quantiles = torch.sort(p.detach()).values[index] * n
        self._quantiles_.append(quantiles.to("cpu", torch.float64).numpy())
        for name, mask in masks.items():
            total = float(p[mask].sum())
            self._mask_weights_[name].append(total)
            if to_history:
                net.history.record(f"mr_weight_{name}", total)

    # -- reading it back ---------------------------------------------------------
    def epoch_losses(self):
        """Return each stored row's loss in the MW update(s) of each epoch.

        The differences of the stored cumulative losses between consecutive
        snapshots: with ``loss_pass='full'`` and one update per epoch, the
        loss of each example at the end of each epoch (with
        ``updates_per_epoch=k``, the sum of that epoch's ``k`` losses).

        Returns
        -------
        epochs : numpy.ndarray of int64, shape (n_snapshots - 1,)
          The epoch each row of ``losses`` belongs to.

        losses : numpy.ndarray of float64, shape (n_snapshots - 1, n_stored)
          Column ``j`` belongs to row ``rows_[j]`` of the ``X`` given to fit.

        Raises
        ------
        ValueError
          If no cumulative losses were recorded.
        """
        cumulative = self.cumulative_losses_
        if cumulative is None:
            raise ValueError(
                "WeightHistory recorded no losses: use record_losses=True with "
                "MultiplicativeReweighting, MRClassifier's default reweighting.")
        return self.epochs_[1:], np.diff(cumulative, axis=0)


def _weight_history(net):
    net = _final_estimator(net)
    _fitted_reweighting(net)
    found = [cb for _, cb in net.callbacks_ if isinstance(cb, WeightHistory)]
    if not found or not found[0]._epochs_:
        raise ValueError(
            "The net recorded no weight history: add "
            "sk_mr.inspection.WeightHistory() to MRClassifier(callbacks=[...]) "
            "and fit again.")
    return found[0]


def weight_on_mask(net, mask):
    """Return the total MR weight on a group of rows after each epoch.

    The data of the paper's Figure 2 (``mask=is_noisy``): the weight on the
    noisy labels starts at the noise rate and decays as MR learns to
    distrust them.

    Parameters
    ----------
    net : MRClassifier
      A net fitted with a :class:`WeightHistory` callback.

    mask : str or array-like of bool, shape (n_rows,)
      The name of a mask given to ``WeightHistory(masks=...)`` (recorded
      over all training rows), or a boolean array over the rows of the ``X``
      given to fit (requires that all training rows were recorded, i.e.
      ``max_rows`` at least the number of training rows).

    Returns
    -------
    epochs : numpy.ndarray of int64
      Completed epochs at each snapshot, starting at 0 (the initial weights).

    total_weight : numpy.ndarray of float64
      Total weight on the mask's training rows at each snapshot.

    Raises
    ------
    ValueError
      If the net has no weight history, the name is unknown, the mask has
      the wrong length, or only a subset of the rows was recorded.

    Examples
    --------
    With ``net`` and ``is_noisy`` of the module's example:

    >>> epochs, noisy_weight = weight_on_mask(net, 'noisy')
    >>> bool(np.isclose(noisy_weight[0], is_noisy.mean()))  # uniform weights
    True
    >>> bool(noisy_weight[-1] < noisy_weight[0] / 3)
    True
    """
    history = _weight_history(net)
    if isinstance(mask, str):
        totals = history.mask_weights_
        if mask not in totals:
            raise ValueError(
                f"Unknown mask {mask!r}; WeightHistory recorded masks "
                f"{sorted(totals)}. Pass WeightHistory(masks={{{mask!r}: ...}}) "
                "or a boolean array.")
        return history.epochs_, totals[mask]
    mr = _fitted_reweighting(net)
    mask = _check_mask(mask, mr.n_rows_, "mask")
    if len(history.rows_) != history.n_train_:
        raise ValueError(
            f"WeightHistory stored the weights of {len(history.rows_)} of the "
            f"{history.n_train_} training rows (max_rows={history.max_rows}), so "
            "the total weight on an arbitrary mask is unknown. Name the mask in "
            "WeightHistory(masks={...}) to record its total over all rows, or "
            "raise max_rows.")
    return history.epochs_, history.weights_[:, mask[history.rows_]].sum(axis=1)
