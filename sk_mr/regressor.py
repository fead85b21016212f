"""MRRegressor: skorch's regressor trained with Multiplicative Reweighting."""

import numpy as np
import torch
from skorch import NeuralNetRegressor

from sk_mr import objective
from sk_mr.batching import plain_view
from sk_mr.mixin import MRMixin, fill_mr_doc, unit_ratio
from sk_mr.validation import as_numpy

__all__ = ["MRRegressor", "robust_target_scale"]

#: A standard normal's median absolute deviation from its median: the
#: median absolute deviation over it estimates a standard deviation.
_NORMAL_MAD = 0.6744897501960817


def robust_target_scale(y):
    """Each output's standard deviation, estimated robustly.

    ``1.4826`` times the median absolute deviation from the median: the
    standard deviation for normal targets; outliers move it far less than
    they move the standard deviation, and it stays bounded until half the
    rows are outliers. Where over half a column is one value, the column's
    standard deviation; where the column is constant, 1.

    Parameters
    ----------
    y : array-like of float, shape (n_samples,) or (n_samples, ...)
      Targets, one row per example; finite.

    Returns
    -------
    scale : numpy.ndarray of float64, shape ``y.shape[1:]``
      Positive, one per output.

    Raises
    ------
    ValueError
      If y has no rows or holds NaN or infinite values.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [100.0, 5.0]])
    >>> robust_target_scale(y).round(3).tolist()  # the outlier 100 does not count
    [1.483, 1.0]
    """
    y = np.asarray(as_numpy(y), dtype=np.float64)
    if y.ndim == 0 or len(y) == 0:
        raise ValueError(f"y must have at least one row, got shape {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values: its scale is undefined.")
    scale = np.median(np.abs(y - np.median(y, axis=0)), axis=0) / _NORMAL_MAD
    scale = np.where(scale > 0, scale, y.std(axis=0))
    return np.where(scale > 0, scale, 1.0)


def _dataset_targets(dataset):
    """Every target of ``dataset`` (items ``(X, y)``), read in order by one
    plain loader: not the net's (a data-parallel one would shard them)."""
    loader = torch.utils.data.DataLoader(plain_view(dataset), batch_size=1024)
    return np.concatenate([as_numpy(yb) for _, yb in loader])


class MRRegressor(MRMixin, NeuralNetRegressor):
    """Neural network regressor trained with Multiplicative Reweighting (MR).

    :class:`skorch.NeuralNetRegressor` with MR: each example's loss (e.g.
    its squared error) is accumulated after every epoch, ``p =
    softmax(-eta * L)``, and each batch trains on the weighted loss. Targets
    corrupted by outliers or bad measurements keep a high loss and fade
    out, as wrong labels do in classification. This is the setting of the
    paper's theory (its Algorithm 3 is MR for least squares). It is
    :class:`sk_mr.mixin.MRMixin` on skorch's regressor.

    **eta and the targets' scale.** The scale of a regression loss is the
    targets': doubling y quadruples every squared error. So that one eta
    means one strength on any data, MR counts the losses in units of the
    criterion's loss of an error of one standard deviation of the targets
    (:meth:`loss_unit`; the standard deviation estimated robustly, per
    output, from the training split's targets, ``target_scale_``): for
    squared error the targets' variance, for L1 their standard deviation.
    Standardized normal targets have a unit of about 1: there, an example
    whose squared error stays 1 above another's for T epochs has
    ``exp(-eta T)`` times its weight. Skewed targets and outliers move the
    robust scale (it was 1.16 times the standard deviation on diabetes'
    targets, 0.40 times on Friedman #3's, and 20-40% outliers widened it
    1.2-1.7 times).

    Parameters
    ----------
    module : torch module (class or instance)
      The network; its output has the shape of y's rows. A 1-D ``y`` (shape
      ``(n,)``) for a module with one output per example (``(n, 1)``) is
      taken as a column; for an element-wise criterion any other difference
      between y's rows and the output is refused before training (torch
      would broadcast them and compare each output with other examples'
      targets).

    criterion : torch criterion class or instance (default=torch.nn.MSELoss)
      Any per-example criterion: :class:`torch.nn.MSELoss`,
      :class:`torch.nn.L1Loss`, :class:`torch.nn.HuberLoss`, ...
%(criterion)s
    train_split : callable or None
      As in skorch (default: 20% validation split).
%(mr_params)s
    Attributes
    ----------
    target_scale_ : numpy.ndarray of float64, shape of one row of y
      Each output's standard deviation over the training split's targets,
      estimated robustly (:func:`robust_target_scale`) on the first fit
      call after :meth:`initialize`; it sets :meth:`loss_unit`.
%(mr_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sk_mr import MRRegressor
    >>> from sk_mr.noise import add_target_outliers
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)).astype(np.float32)
    >>> y = X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    >>> y = (y - y.mean()) / y.std()  # standardized: plain SGD trains a linear model on it
    >>> y_bad, is_outlier = add_target_outliers(y, 0.2, random_state=0)
    >>> net = MRRegressor(torch.nn.Linear, module__in_features=3, module__out_features=1,
    ...                   eta=0.05, max_epochs=20, lr=0.05, train_split=None,
    ...                   random_state=0, verbose=0).fit(X, y_bad)
    >>> w = net.sample_weights_
    >>> bool(w[is_outlier].mean() < 0.5 * w[~is_outlier].mean())
    True
    >>> rmse = np.sqrt(np.mean((net.predict(X) - y) ** 2))  # against the clean targets
    >>> bool(rmse < 0.1)
    True
    >>> # the outliers widen the robust scale by a fifth, the standard deviation 2.3 times
    >>> net.target_scale_.round(1).tolist(), round(float(y_bad.std()), 1)
    ([1.2], 2.3)
    """

    def __init__(self, module, *args, criterion=torch.nn.MSELoss, eta=0.03, **kwargs):
        super().__init__(module, *args, criterion=criterion, eta=eta, **kwargs)

    def initialize(self):
        """Initialize the net (see :meth:`sk_mr.mixin.MRMixin.initialize`);
        the targets' scale is set again by the next fit."""
        self.target_scale_ = None
        self._target_unit = 1.0
        return super().initialize()

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split and bind MR's weights as the mixin does, then set the targets' scale.

        ``target_scale_`` and the unit of eta (:meth:`loss_unit`) come from
        the training split's targets on the first fit call after
        :meth:`initialize`, before any training step; continued fits
        (``partial_fit``, ``warm_start``) keep them, so eta keeps its
        meaning over the whole training.
        """
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        reweighting = self._reweighting()
        if reweighting is not None and getattr(self, "target_scale_", None) is None:
            if y is not None:
                targets = as_numpy(y)[reweighting.train_rows_]
            else:  # the dataset holds the targets
                targets = _dataset_targets(dataset_train)
            scale = robust_target_scale(targets)
            unit = self._unit_of(scale)  # refuses a criterion without scale, untouched
            self.target_scale_, self._target_unit = scale, unit
        return dataset_train, dataset_valid

    def _unit_of(self, scale):
        """The criterion's loss of an error of ``scale`` over that of 1.

        The criterion's own per-example loss (the mean over a row's
        outputs), not a ``get_loss`` override's, which may need the batch's
        X: the unit is the criterion's scale.
        """
        shape = (1,) + scale.shape
        device = self._mr_device()
        prediction = torch.zeros(shape, device=device)
        criterion = self.criterion_
        losses = []
        with torch.no_grad(), objective.per_example_reduction([criterion]):
            for error in (scale, np.ones_like(scale)):
                target = torch.as_tensor(error, dtype=prediction.dtype,
                                         device=device).reshape(shape)
                totals, normalizers, _ = objective.split_example_losses(
                    criterion(prediction, target), 1, criterion, target)
                losses.append(float(objective.mw_losses(totals, normalizers)[0]))
        at_scale, at_one = losses
        return unit_ratio(at_scale, at_one, (
            f"The criterion's losses of an error of the targets' scale ({at_scale!r}) and "
            f"of an error of 1 ({at_one!r}) give eta no unit; MR needs a criterion whose "
            "loss is positive, finite and grows with the error."))

    def loss_unit(self):
        """The criterion's loss of an error of one standard deviation of the
        targets, over its loss of an error of 1: the unit of ``eta``.

        The deviation is ``target_scale_`` (robust, per output, from the
        training split's targets; with several outputs the losses are their
        mean over the outputs). For :class:`torch.nn.MSELoss` the unit is
        the targets' variance, for :class:`torch.nn.L1Loss` their standard
        deviation (robust stand-ins for both, equal to them for normal
        targets), for :class:`torch.nn.HuberLoss` in between. Exactly 1
        where the two losses agree to 1e-6, and 1 before the first fit.
        Computed once per fit, before training.

        Returns
        -------
        unit : float
          Positive.
        """
        return getattr(self, "_target_unit", 1.0)


MRRegressor.__doc__ = fill_mr_doc(MRRegressor.__doc__)
