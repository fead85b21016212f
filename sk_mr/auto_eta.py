"""An automatic MW step size: eta chosen during the fit from what training sees.

MR's weights are ``p = softmax(-eta * L)`` over the cumulative losses ``L``.
Their Kullback-Leibler divergence from uniform, ``KL(p || u) = ln N - H(p)``,
measures how much of the training set they set aside: weights spread
uniformly over a fraction ``f`` of the examples (and zero elsewhere) have
``KL = ln(1 / f)``. In every setting we measured, the eta of a grid that
gave the best clean test accuracy ended training with ``KL`` close to
``ln(1 / (1 - r))`` for a noise rate ``r``: the best eta drops about the
noisy fraction, and no more. :class:`AutoEta` therefore steers the KL, not
eta, and estimates the fraction to drop from the losses themselves:

1. *Misfit fraction.* ``m`` is the fraction of training examples whose
   current loss exceeds ``chance_loss``, the loss of a know-nothing uniform
   prediction (``ln K`` for cross-entropy): examples the model predicts
   worse than chance. Its running maximum ``M`` (counted from half-way
   through the ramp, when the model has learned something) remembers it
   against memorization, which would otherwise shrink ``m`` again.
2. *KL budget.* ``B = kl_scale * ln((1 - hard_fraction) / (1 - M))`` when
   ``M > hard_fraction``, else 0: the first ``hard_fraction`` of misfit
   examples are presumed hard but valid (clean data has a few), the rest
   are set aside.
3. *Step size.* ``eta_KL`` is the eta at which ``KL(softmax(-eta L) || u)``
   equals ``B`` (the KL grows with eta, so bisection finds it), and
   ``eta = min(1, progress / ramp_fraction) * eta_KL``, with ``progress``
   the fraction of the planned MW updates done. The linear ramp keeps the
   first epochs, whose losses say little, from concentrating the weights.

Everything the rule sees is the per-example training losses, the number of
updates planned and the loss of a uniform prediction: no clean labels, no
held-out split and no extra fit. Its cost is one bisection (about 60
softmaxes over the training set) per MW update.

The constants were chosen on six settings (``benchmarks/eta.py``, S1-S6)
and checked on seven held-out ones (H1-H7).
"""

import math
import numbers

import torch

__all__ = ["AutoEta", "eta_for_kl", "kl_from_uniform"]


def kl_from_uniform(cumulative_losses, eta):
    """Return ``KL(softmax(-eta * L) || uniform)``, computed stably in float64.

    Parameters
    ----------
    cumulative_losses : torch.Tensor, shape (n,)
    eta : float

    Returns
    -------
    kl : float
      Between 0 (uniform weights) and ``ln n``.

    Examples
    --------
    >>> import torch
    >>> round(kl_from_uniform(torch.tensor([0.0, 0.0, 1e9, 1e9]), eta=1.0), 4)  # ln 2
    0.6931
    """
    log_p = torch.log_softmax(-float(eta) * cumulative_losses.to(torch.float64), dim=0)
    return float(math.log(cumulative_losses.numel()) + (log_p.exp() * log_p).sum())


def eta_for_kl(cumulative_losses, target, tol=1e-4, max_iter=100):
    """Return the eta at which ``KL(softmax(-eta * L) || uniform) = target``.

    The KL is non-decreasing in eta (its derivative is ``eta * Var_p(L)``),
    so a bisection on ``log(eta)`` finds the crossing. The search spans
    ``eta * (max L - min L)`` from ``1e-8`` to ``1e3``; a target above the
    largest reachable KL gets the upper end.

    Parameters
    ----------
    cumulative_losses : torch.Tensor, shape (n,)
    target : float
      Non-negative KL budget.
    tol : float (default=1e-4)
      Relative precision of eta.
    max_iter : int (default=100)

    Returns
    -------
    eta : float
      0 when ``target <= 0`` or all losses are equal.

    Examples
    --------
    >>> import math, torch
    >>> L = torch.tensor([0.0, 1.0, 2.0, 3.0])
    >>> eta = eta_for_kl(L, 0.1)
    >>> round(kl_from_uniform(L, eta), 4)
    0.1
    """
    losses = cumulative_losses.to(torch.float64)
    spread = float(losses.max() - losses.min())
    if target <= 0 or spread == 0.0:
        return 0.0
    low, high = 1e-8 / spread, 1e3 / spread
    if kl_from_uniform(losses, high) <= target:
        return high
    for _ in range(max_iter):
        middle = math.sqrt(low * high)
        if kl_from_uniform(losses, middle) < target:
            low = middle
        else:
            high = middle
        if high / low - 1.0 < tol:
            break
    return math.sqrt(low * high)


def _check_fraction(name, value, low_open, high_open):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)):
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise ValueError(f"{name} must be a float in {interval}, got {value!r}.")
    return float(value)


class AutoEta:
    """MR's step size from the KL budget of the misfit examples (``eta='auto'``).

    At every MW update :meth:`step` receives the per-example losses and
    returns the eta for ``p = softmax(-eta * L)``:

    * ``m`` = fraction of examples whose loss exceeds ``chance_loss``;
    * ``M`` = running maximum of ``m`` over the updates from half-way
      through the ramp on (``m`` itself before);
    * ``B = kl_scale * ln((1 - hard_fraction) / (1 - M))`` if
      ``M > hard_fraction``, else 0;
    * ``eta = min(1, progress / ramp_fraction) * eta_KL(B)``, where
      ``eta_KL(B)`` solves ``KL(softmax(-eta L) || uniform) = B`` and
      ``progress = updates so far / (n_epochs * updates_per_epoch)``.

    See :mod:`sk_mr.auto_eta` for the reasoning. The rule keeps state across
    calls (the update count and ``M``), so a warm-started fit or
    ``partial_fit`` continues it; :meth:`reset` starts over.

    Parameters
    ----------
    ramp_fraction : float in (0, 1] (default=0.15)
      Fraction of the planned updates over which eta ramps up linearly.

    kl_scale : float > 0 (default=1.5)
      Multiplies the KL budget.

    hard_fraction : float in [0, 1) (default=0.1)
      Fraction of the training set presumed hard but valid: a misfit
      fraction up to it leaves the weights uniform.

    Attributes
    ----------
    n_updates_ : int
      Number of :meth:`step` calls since the last :meth:`reset`.

    max_misfit_ : float
      ``M``, the running maximum of the counted misfit fractions.

    misfit_fractions_, kl_targets_, etas_ : list of float
      ``m``, ``B`` and eta of every update.

    Examples
    --------
    Two clusters of cumulative losses: 30% of the examples keep a loss
    above chance (ln 10) and are set aside once the ramp is over.

    >>> import torch
    >>> rule = AutoEta()
    >>> losses = torch.cat([torch.full((70,), 0.1), torch.full((30,), 4.0)])
    >>> for t in range(1, 11):
    ...     eta = rule.step(losses, t * losses, t, n_epochs=10, chance_loss=2.3026)
    >>> round(rule.max_misfit_, 2), round(rule.kl_targets_[-1], 3)
    (0.3, 0.377)
    >>> p = torch.softmax(-eta * 10 * losses, 0)
    >>> # The budget exceeds ln(1 / 0.7), the KL of dropping all 30 misfit
    >>> # examples, so all their weight goes:
    >>> round(float(p[70:].sum()), 6)
    0.0
    """

    def __init__(self, ramp_fraction=0.15, kl_scale=1.5, hard_fraction=0.1):
        self.ramp_fraction = ramp_fraction
        self.kl_scale = kl_scale
        self.hard_fraction = hard_fraction
        self.reset()

    def get_params(self):
        """The rule's constants, as a dict."""
        return dict(ramp_fraction=self.ramp_fraction, kl_scale=self.kl_scale,
                    hard_fraction=self.hard_fraction)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def reset(self):
        """Forget all updates (a new, cold fit)."""
        self.n_updates_ = 0
        self.max_misfit_ = 0.0
        self.misfit_fractions_ = []
        self.kl_targets_ = []
        self.etas_ = []
        return self

    def _check_params(self):
        _check_fraction("ramp_fraction", self.ramp_fraction, low_open=True, high_open=False)
        _check_fraction("hard_fraction", self.hard_fraction, low_open=False, high_open=True)
        if isinstance(self.kl_scale, bool) or not isinstance(self.kl_scale, numbers.Real) \
                or not (self.kl_scale > 0 and math.isfinite(self.kl_scale)):
            raise ValueError(f"kl_scale must be a finite float > 0, got {self.kl_scale!r}.")

    def step(self, losses, cumulative_losses, completed_epochs=None, n_epochs=None,
             updates_per_epoch=1, *, chance_loss):
        """Record one MW update and return its eta.

        Parameters
        ----------
        losses : torch.Tensor, shape (n,)
          Every training example's loss at this update.
        cumulative_losses : torch.Tensor, shape (n,)
          ``L``, including ``losses``: the weights will be
          ``softmax(-eta * L)``.
        completed_epochs : int or None
          Epochs completed so far (informative only; progress is counted in
          updates).
        n_epochs : int
          Planned number of epochs of the whole fit (for a warm start or
          ``partial_fit``: the epochs so far plus those planned now).
        updates_per_epoch : int (default=1)
          MW updates per epoch.
        chance_loss : float
          The criterion's loss of a uniform prediction (``ln K`` for
          cross-entropy over ``K`` classes).

        Returns
        -------
        eta : float
          Non-negative.
        """
        self._check_params()
        if isinstance(n_epochs, bool) or not isinstance(n_epochs, numbers.Integral) \
                or n_epochs < 1:
            raise ValueError(f"n_epochs must be an int >= 1, got {n_epochs!r}.")
        if isinstance(updates_per_epoch, bool) or not isinstance(
                updates_per_epoch, numbers.Integral) or updates_per_epoch < 1:
            raise ValueError(
                f"updates_per_epoch must be an int >= 1, got {updates_per_epoch!r}.")
        if not (isinstance(chance_loss, numbers.Real) and math.isfinite(chance_loss)):
            raise ValueError(f"chance_loss must be a finite float, got {chance_loss!r}.")
        if losses.shape != cumulative_losses.shape or losses.dim() != 1:
            raise ValueError(
                "losses and cumulative_losses must be 1-d tensors of the same shape, got "
                f"{tuple(losses.shape)} and {tuple(cumulative_losses.shape)}.")

        self.n_updates_ += 1
        progress = self.n_updates_ / (n_epochs * updates_per_epoch)
        misfit = float((losses.to(torch.float64) > chance_loss).to(torch.float64).mean())
        if progress >= self.ramp_fraction / 2:
            self.max_misfit_ = max(self.max_misfit_, misfit)
            counted = self.max_misfit_
        else:
            counted = misfit
        # keep the log finite: at most 99% of the examples are set aside
        counted = min(counted, 0.99)
        if counted > self.hard_fraction:
            target = self.kl_scale * math.log((1 - self.hard_fraction) / (1 - counted))
        else:
            target = 0.0
        ramp = min(1.0, progress / self.ramp_fraction)
        eta = ramp * eta_for_kl(cumulative_losses, target)
        self.misfit_fractions_.append(misfit)
        self.kl_targets_.append(target)
        self.etas_.append(eta)
        return eta

    def diagnostics(self):
        """Per-update record: misfit fractions, KL targets and etas (lists)."""
        return dict(misfit_fractions=list(self.misfit_fractions_),
                    kl_targets=list(self.kl_targets_), auto_etas=list(self.etas_),
                    max_misfit=self.max_misfit_)
