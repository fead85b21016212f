"""MRRegressor: skorch's regressor trained with Multiplicative Reweighting."""

import torch
from skorch import NeuralNetRegressor

from sk_mr.mixin import MRMixin, fill_mr_doc

__all__ = ["MRRegressor"]


class MRRegressor(MRMixin, NeuralNetRegressor):
    """Neural network regressor trained with Multiplicative Reweighting (MR).

    :class:`skorch.NeuralNetRegressor` with MR: each example's loss (e.g.
    its squared error) is accumulated after every epoch, ``p =
    softmax(-eta * L)``, and each batch trains on the weighted loss. Targets
    corrupted by outliers or bad measurements keep a high loss and fade
    out, as wrong labels do in classification. This is the setting of the
    paper's theory (its Algorithm 3 is MR for least squares). It is
    :class:`sk_mr.mixin.MRMixin` on skorch's regressor.

    **eta and the loss scale.** The weights depend on ``eta * L``, and the
    scale of a regression loss is the squared scale of the targets: doubling
    y quadruples every squared error, so the same eta reweights four times
    as hard. Standardize the targets (e.g. with
    :class:`~sklearn.compose.TransformedTargetRegressor` and a
    :class:`~sklearn.preprocessing.StandardScaler`, or by hand) so that eta
    means the same thing on every data set; with standardized targets an
    example whose squared error stays 1 above another's for T epochs has
    ``exp(-eta T)`` times its weight.

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
    >>> y = (y - y.mean()) / y.std()  # standardized: eta means the same everywhere
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
    """

    def __init__(self, module, *args, criterion=torch.nn.MSELoss, **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)


MRRegressor.__doc__ = fill_mr_doc(MRRegressor.__doc__)
