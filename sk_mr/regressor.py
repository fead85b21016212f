"""MRRegressor: skorch's regressor trained with Multiplicative Reweighting."""

import math

import numpy as np
import torch
from skorch import NeuralNetRegressor

from sk_mr.mixin import MRMixin, fill_mr_doc
from sk_mr.validation import as_numpy

__all__ = ["MRRegressor", "robust_target_scale"]

#: A standard normal's median absolute deviation from its median: the
#: median absolute deviation over it estimates a standard deviation.
_NORMAL_MAD = 0.6744897501960817


def robust_target_scale(y):
    """Each output's standard deviation, estimated robustly.

    ``1.4826`` times the median absolute deviation from the median (the
    standard deviation for normal targets, and unmoved by up to half of the
    rows being outliers); where over half a column is one value, its
    standard deviation; where the column is constant, 1.

    Parameters
    ----------
    y : array-like of float, shape (n_samples,) or (n_samples, ...)

    Returns
    -------
    scale : numpy.ndarray of float64, shape ``y.shape[1:]``

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
    scale = np.median(np.abs(y - np.median(y, axis=0)), axis=0) / _NORMAL_MAD
    scale = np.where(scale > 0, scale, y.std(axis=0))
    return np.where(scale > 0, scale, 1.0)


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
    Standardized targets have a unit of about 1: there, an example whose
    squared error stays 1 above another's for T epochs has ``exp(-eta T)``
    times its weight.

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
      estimated robustly (:func:`robust_target_scale`); it sets
      :meth:`loss_unit`.
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
    >>> net.target_scale_.round(1).tolist(), round(float(y_bad.std()), 1)  # robust, and not
    ([1.2], 2.3)
    """

    def __init__(self, module, *args, criterion=torch.nn.MSELoss, eta=0.03, **kwargs):
        super().__init__(module, *args, criterion=criterion, eta=eta, **kwargs)

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split as skorch does and bind MR's weights (see
        :meth:`sk_mr.mixin.MRMixin.get_split_datasets`), then set
        ``target_scale_`` from the training split's targets."""
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        reweighting = self._reweighting()
        if reweighting is not None:
            if y is not None:
                targets = as_numpy(y)[reweighting.train_rows_]
            else:  # the dataset holds the targets: one pass to read them
                targets = np.concatenate([
                    as_numpy(yb) for _, yb in self.get_iterator(dataset_train)])
            self.target_scale_ = robust_target_scale(targets)
        return dataset_train, dataset_valid

    def loss_unit(self):
        """The criterion's loss of an error of one standard deviation of the
        targets, over its loss of an error of 1: the unit of ``eta``.

        The deviation is ``target_scale_``, each output's, from the training
        split's targets. For :class:`torch.nn.MSELoss` the unit is the
        targets' variance, for :class:`torch.nn.L1Loss` their standard
        deviation, for :class:`torch.nn.HuberLoss` in between; about 1 on
        standardized targets (exactly 1 where they agree to 1e-6), and 1
        before the first fit.

        Returns
        -------
        unit : float
          Positive.

        Raises
        ------
        ValueError
          If the criterion's loss of an error of 1 is not positive and
          finite: it gives eta no scale.
        """
        scale = getattr(self, "target_scale_", None)
        if scale is None:
            return 1.0
        shape = (1,) + scale.shape
        device = self._mr_device()
        prediction = torch.zeros(shape, device=device)
        with torch.no_grad():
            at_scale, at_one = (float(self.get_example_losses(
                prediction, torch.as_tensor(target, dtype=prediction.dtype,
                                            device=device).reshape(shape))[0])
                for target in (scale, np.ones_like(scale)))
        unit = at_scale / at_one if math.isfinite(at_one) and at_one > 0 else math.nan
        if not (math.isfinite(unit) and unit > 0):
            raise ValueError(
                f"The criterion's losses of errors of 1 and of the targets' scale are "
                f"{at_one!r} and {at_scale!r}, so they give eta no scale; MR needs a "
                "criterion whose loss grows with the error.")
        return 1.0 if abs(unit - 1.0) <= 1e-6 else unit


MRRegressor.__doc__ = fill_mr_doc(MRRegressor.__doc__)
