"""The multiplicative-weights (MW) update behind Multiplicative Reweighting.

This module is the whole of the paper's MW step and depends on torch alone.
With ``L_i`` the cumulative loss of example ``i`` (the sum of its losses after
every completed update), Algorithm 1 sets

    w_i = exp(-eta * L_i),        p_i = w_i / sum_j w_j,

that is ``p = softmax(-eta * L)``. ``eta`` multiplies the *whole* cumulative
loss (the follow-the-regularized-leader form of MW), so an eta schedule
rescales all past losses at once rather than only the newest one; this is what
the paper's Clothing1M recipe (eta x1.5 after epochs 2 and 6) does.

The weights are computed in float64 after subtracting the largest logit, so
they never overflow to NaN and never become all zero for finite ``eta * L``:
the smallest-loss example always keeps ``exp(0) = 1`` before normalization.
"""

import math
import numbers

import torch

__all__ = [
    "MultiStepEta",
    "MultiplicativeWeights",
    "check_eta",
    "effective_sample_size",
    "is_eta_rule",
    "make_eta_rule",
    "mw_probabilities",
    "resolve_eta",
]


def mw_probabilities(cumulative_losses, eta):
    """Return ``softmax(-eta * cumulative_losses)``, computed stably.

    Parameters
    ----------
    cumulative_losses : torch.Tensor, shape (n,)
      Cumulative loss ``L_i`` of each example. Any float dtype; the
      computation runs in float64.

    eta : float
      Non-negative MW step size.

    Returns
    -------
    probabilities : torch.Tensor of float64, shape (n,)
      Non-negative weights that sum to one. At least one entry equals the
      largest weight ``1 / (number of minimal-loss examples)`` or more, so the
      vector is never all zero.

    Examples
    --------
    >>> import torch
    >>> mw_probabilities(torch.tensor([0.0, 1e6]), eta=1.0)
    tensor([1., 0.], dtype=torch.float64)
    """
    losses = cumulative_losses.to(torch.float64)
    # Shift by the smallest loss *before* multiplying by eta: every exponent
    # is then -eta * (L_i - min L) <= 0, so exp() stays in [0, 1] even where
    # eta * L itself would overflow (eta=1e308), and the minimal-loss
    # examples contribute exactly 1 to the normalizer, so it cannot vanish.
    # An overflowing product is -inf, whose exp is exactly 0: the result is
    # the exact limit, never NaN.
    shifted = losses - losses.min()
    eta = float(eta)
    logits = shifted * (-eta) if eta else torch.zeros_like(shifted)
    weights = torch.exp(logits)
    return weights / weights.sum()


def effective_sample_size(probabilities):
    """Return the effective sample size ``1 / sum(p_i ** 2)`` of a distribution.

    It is ``n`` for uniform weights over ``n`` examples and 1 when all weight
    sits on one example.

    Parameters
    ----------
    probabilities : torch.Tensor, shape (n,)
      Weights that sum to one.

    Returns
    -------
    ess : float
    """
    p = probabilities.to(torch.float64)
    return float(1.0 / torch.sum(p * p))


class MultiStepEta:
    """An eta schedule multiplied by ``gamma`` at each milestone epoch.

    The schedule is called with the number ``t`` of completed epochs (1-based)
    when the weights for the following epoch are computed, and returns
    ``eta * gamma ** (number of milestones <= t)``, mirroring
    :class:`torch.optim.lr_scheduler.MultiStepLR`. The paper's Clothing1M
    recipe is ``MultiStepEta(0.01, milestones=(2, 6), gamma=1.5)``: epochs 1-2
    are weighted with eta 0.01, epochs 3-6 with 0.015, later ones with 0.0225.

    Parameters
    ----------
    eta : float
      Initial MW step size.

    milestones : sequence of int
      Epochs after which eta is multiplied by ``gamma``.

    gamma : float (default=1.5)
      Multiplicative factor.

    Examples
    --------
    >>> schedule = MultiStepEta(0.01, milestones=(2, 6), gamma=1.5)
    >>> [round(schedule(t), 5) for t in (1, 2, 5, 6)]
    [0.01, 0.015, 0.015, 0.0225]
    """

    def __init__(self, eta, milestones, gamma=1.5):
        self.eta = eta
        self.milestones = milestones
        self.gamma = gamma

    def __call__(self, epoch):
        n_passed = sum(1 for m in self.milestones if m <= epoch)
        return self.eta * self.gamma ** n_passed

    def __repr__(self):
        return (f"{type(self).__name__}(eta={self.eta!r}, "
                f"milestones={tuple(self.milestones)!r}, gamma={self.gamma!r})")

    def __eq__(self, other):
        return (type(self) is type(other)
                and (self.eta, tuple(self.milestones), self.gamma)
                == (other.eta, tuple(other.milestones), other.gamma))

    def __hash__(self):
        return hash((self.eta, tuple(self.milestones), self.gamma))


def _check_eta_value(eta, name="eta", epoch=None):
    where = "" if epoch is None else f" at epoch {epoch}"
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real):
        raise TypeError(f"{name} must be a non-negative float, got {eta!r}{where}.")
    if not math.isfinite(eta) or eta < 0:
        raise ValueError(
            f"{name} must be a finite, non-negative float, got {eta!r}{where}. "
            "eta=0 keeps uniform weights (plain training); the paper uses 0.01.")
    return float(eta)


def is_eta_rule(eta):
    """Whether ``eta`` asks for an automatic step size (``'auto'`` or a rule object).

    A rule is an object with ``reset()`` and ``step(...)`` such as
    :class:`sk_mr.auto_eta.AutoEta`; see
    :class:`~sk_mr.MultiplicativeReweighting` for how it is called.

    Examples
    --------
    >>> is_eta_rule("auto"), is_eta_rule(0.01)
    (True, False)
    """
    if isinstance(eta, str):
        return eta == "auto"
    return hasattr(eta, "step") and hasattr(eta, "reset") and not callable(eta)


def make_eta_rule(eta):
    """A fresh, reset rule object for ``eta='auto'`` (AutoEta) or a copy of a rule."""
    import copy

    from sk_mr.auto_eta import AutoEta
    rule = AutoEta() if isinstance(eta, str) else copy.deepcopy(eta)
    return rule.reset()


def check_eta(eta, name="eta", allow_auto=False):
    """Validate an eta specification: a non-negative float or a schedule.

    Parameters
    ----------
    eta : float, callable, 'auto' or rule
      A finite, non-negative float, or a callable mapping the number of
      completed epochs to such a float (e.g. :class:`MultiStepEta`); with
      ``allow_auto``, also ``'auto'`` or a rule object (see
      :func:`is_eta_rule`).

    name : str (default='eta')
      Parameter name used in error messages.

    allow_auto : bool (default=False)
      Whether an automatic step size is accepted.

    Returns
    -------
    eta : float or callable
      The validated value (floats are converted to ``float``).

    Raises
    ------
    TypeError, ValueError
      If ``eta`` is neither a valid float nor callable.
    """
    if is_eta_rule(eta):
        if not allow_auto:
            raise ValueError(f"{name}={eta!r} (an automatic step size) is not supported here.")
        if hasattr(eta, "_check_params"):
            eta._check_params()
        return eta
    if isinstance(eta, str):
        raise TypeError(
            f"{name} must be a non-negative float, a schedule or 'auto', got {eta!r}.")
    if callable(eta):
        if isinstance(eta, MultiStepEta):
            _check_eta_value(eta.eta, name=f"{name}.eta")
            _check_eta_value(eta.gamma, name=f"{name}.gamma")
        return eta
    return _check_eta_value(eta, name=name)


def resolve_eta(eta, epoch, name="eta"):
    """Return the float step size that ``eta`` gives at ``epoch``.

    Parameters
    ----------
    eta : float or callable
      A float, or a schedule called with ``epoch``.

    epoch : int
      Number of completed epochs (1-based).

    name : str (default='eta')
      Parameter name used in error messages.

    Returns
    -------
    eta_value : float
    """
    value = eta(epoch) if callable(eta) else eta
    return _check_eta_value(value, name=name, epoch=epoch)


class MultiplicativeWeights:
    """Cumulative losses and the MW distribution over ``n`` experts.

    This is Algorithm 1's MW step as a small stateful object: ``update`` adds
    one loss vector to the cumulative losses and returns the new distribution
    ``softmax(-eta * L)``. Full-batch training (Algorithm 2), the skorch
    callback and the meta-estimator all use it.

    Parameters
    ----------
    n : int
      Number of experts (training examples).

    device : str or torch.device (default='cpu')
      Where the state lives.

    Attributes
    ----------
    cumulative_losses_ : torch.Tensor of float64, shape (n,)
      Sum of all losses given to :meth:`update`.

    probabilities_ : torch.Tensor of float64, shape (n,)
      Current distribution; uniform before the first update.

    n_updates_ : int
      Number of updates so far.

    Examples
    --------
    >>> import torch
    >>> mw = MultiplicativeWeights(3)
    >>> mw.update(torch.tensor([0.0, 1.0, 2.0]), eta=1.0)
    tensor([0.6652, 0.2447, 0.0900], dtype=torch.float64)
    """

    def __init__(self, n, device="cpu"):
        self.n = n
        self.device = device
        self.cumulative_losses_ = torch.zeros(n, dtype=torch.float64, device=device)
        self.probabilities_ = torch.full(
            (n,), 1.0 / n, dtype=torch.float64, device=device)
        self.n_updates_ = 0

    def update(self, losses, eta):
        """Add ``losses`` to the cumulative losses and recompute the weights.

        Parameters
        ----------
        losses : torch.Tensor, shape (n,)
          One (finite) loss per expert.

        eta : float
          Step size applied to the whole cumulative loss.

        Returns
        -------
        probabilities : torch.Tensor of float64, shape (n,)
        """
        if losses.shape != self.cumulative_losses_.shape:
            raise ValueError(
                f"losses must have shape {tuple(self.cumulative_losses_.shape)}, "
                f"got {tuple(losses.shape)}.")
        self.cumulative_losses_ += losses.to(self.cumulative_losses_)
        self.probabilities_ = mw_probabilities(self.cumulative_losses_, eta)
        self.n_updates_ += 1
        return self.probabilities_
