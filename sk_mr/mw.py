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
    "AutoEta",
    "MultiStepEta",
    "MultiplicativeWeights",
    "check_eta",
    "confident_misfit_fraction",
    "effective_sample_size",
    "eta_for_kl",
    "is_eta_rule",
    "kl_from_uniform",
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
    :class:`AutoEta`; see
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
    """Return a fresh, reset rule object for ``eta``.

    Parameters
    ----------
    eta : 'auto' or rule object
      ``'auto'`` gives a new :class:`AutoEta` with its default constants; a
      rule object is deep-copied, so the estimator parameter itself never
      carries fitted state.

    Returns
    -------
    rule : object
      With ``reset()`` already called.

    Examples
    --------
    >>> make_eta_rule("auto")  # doctest: +NORMALIZE_WHITESPACE
    AutoEta(ramp_fraction=0.15, kl_scale=1.5, hard_fraction=0.1, window=3, stability=0.25,
            confident_ratio=2.0, confident_gate=0.5, confident_stability=0.1)
    >>> template = AutoEta(kl_scale=1.0)
    >>> rule = make_eta_rule(template)
    >>> rule is template, rule.kl_scale
    (False, 1.0)
    """
    import copy

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
    callback (:class:`sk_mr.callbacks.MultiplicativeReweighting`) and the
    meta-estimator all use it.

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

    eta_ : float
      The step size of the last update (0 before the first).

    probabilities_ : torch.Tensor of float64, shape (n,)
      Current distribution ``softmax(-eta_ * cumulative_losses_)``, computed
      on access; uniform before the first update.

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
        self.eta_ = 0.0
        self.n_updates_ = 0

    @classmethod
    def from_state(cls, cumulative_losses, eta, n_updates=0):
        """Continue from saved cumulative losses and step size.

        Examples
        --------
        >>> import torch
        >>> mw = MultiplicativeWeights.from_state(torch.tensor([0.0, 1.0]), eta=0.0)
        >>> mw.update(torch.tensor([1.0, 0.0]), eta=1.0)
        tensor([0.5000, 0.5000], dtype=torch.float64)
        """
        mw = cls(cumulative_losses.shape[0], device=cumulative_losses.device)
        mw.cumulative_losses_ = cumulative_losses.to(torch.float64)
        mw.eta_ = float(eta)
        mw.n_updates_ = n_updates
        return mw

    @property
    def probabilities_(self):
        return mw_probabilities(self.cumulative_losses_, self.eta_)

    def update(self, losses, eta):
        """Add ``losses`` to the cumulative losses and recompute the weights.

        Parameters
        ----------
        losses : torch.Tensor, shape (n,)
          One (finite) loss per expert.

        eta : float or callable
          Step size applied to the whole cumulative loss, or a rule
          ``eta(losses, cumulative_losses) -> float`` that chooses it from
          this update's losses and the new cumulative losses (as
          :meth:`AutoEta.step` does). If it raises, nothing has changed.

        Returns
        -------
        probabilities : torch.Tensor of float64, shape (n,)
        """
        if losses.shape != self.cumulative_losses_.shape:
            raise ValueError(
                f"losses must have shape {tuple(self.cumulative_losses_.shape)}, "
                f"got {tuple(losses.shape)}.")
        cumulative = self.cumulative_losses_ + losses.to(self.cumulative_losses_)
        if callable(eta):
            eta = eta(losses, cumulative)
        self.cumulative_losses_ = cumulative
        self.eta_ = float(eta)
        self.n_updates_ += 1
        return self.probabilities_


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


def confident_misfit_fraction(label_probabilities, predicted, predicted_probabilities,
                              labels, n_classes):
    """Fraction of examples that a network confidently puts in another class.

    The confident joint of Northcutt et al. (2021), "Confident learning",
    taken by each example's most probable class: the threshold ``t_j`` of a
    class is the mean probability the network gives it over the examples
    labeled ``j``, and an example counts when its most probable class is not
    its label and gets at least that class's threshold. Unlike a loss above
    ``ln K``, this counts a pairflip label, which a network fitted to noisy
    labels gives about the flip rate (more than ``1 / K``).

    Parameters
    ----------
    label_probabilities : torch.Tensor of float, shape (n,)
      Each example's predicted probability of its label.
    predicted : torch.Tensor of int, shape (n,)
      Each example's most probable class.
    predicted_probabilities : torch.Tensor of float, shape (n,)
      Its probability.
    labels : torch.Tensor of int, shape (n,)
      The (possibly noisy) labels, in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    fraction : float

    Examples
    --------
    Class 0's examples get 0.8 on their label on average, class 1's 0.5:
    the third example (labeled 1) puts 0.9 on class 0, above 0.8, and
    counts; the fourth puts 0.6 on class 0, below 0.8, and does not.

    >>> import torch
    >>> labels = torch.tensor([0, 0, 1, 1, 1])
    >>> label_p = torch.tensor([0.8, 0.8, 0.1, 0.4, 1.0])
    >>> predicted = torch.tensor([0, 0, 0, 0, 1])
    >>> top = torch.tensor([0.8, 0.8, 0.9, 0.6, 1.0])
    >>> confident_misfit_fraction(label_p, predicted, top, labels, n_classes=2)
    0.2
    """
    counted = _confident_misfits(label_probabilities, predicted, predicted_probabilities,
                                 labels, n_classes)
    return float(counted.to(torch.float64).mean())


def _confident_misfits(label_probabilities, predicted, predicted_probabilities, labels,
                       n_classes):
    """The examples :func:`confident_misfit_fraction` counts (bool, shape (n,))."""
    labels = labels.long()
    counts = torch.bincount(labels, minlength=n_classes)
    totals = torch.zeros(n_classes, dtype=torch.float64, device=labels.device).index_add_(
        0, labels, label_probabilities.to(torch.float64))
    thresholds = totals / counts.clamp_min(1)
    predicted = predicted.long()
    # a class no example is labeled with has no threshold, and never counts
    return (predicted != labels) & (counts[predicted] > 0) & (
        predicted_probabilities.to(torch.float64) >= thresholds[predicted])


class AutoEta:
    """MR's step size from the KL budget of the misfit examples (``eta='auto'``).

    At every MW update :meth:`step` receives the per-example losses and
    returns the eta for ``p = softmax(-eta * L)``:

    * ``m`` = fraction of examples whose loss exceeds ``chance_loss``;
    * ``M`` = running maximum, over the *settled* windows, of the window's
      smallest ``m``: a window is the last ``window`` updates, settled when
      its values are within ``stability`` (relative) of its largest and, at
      each of its updates, a tenth of the examples had a loss below half
      of ``chance_loss`` (the model has learned something); ``M`` is 0 until
      a window settles;
    * ``C`` = the same for ``c``, the fraction of examples the network
      confidently puts in another class (:func:`confident_misfit_fraction`,
      from the net's class probabilities), counted only once half the
      examples are fitted to better than half of ``chance_loss`` and
      settled within ``confident_stability``; once ``C`` exceeds
      ``confident_ratio * M`` (pairflip noise), ``M`` becomes
      ``max(M, C)`` for the rest of the fit; where the caller passes a
      ``probation`` band (label correction will test the latch), ``c`` may
      also settle within it, on probation (see :meth:`step`);
    * ``B = kl_scale * ln((1 - hard_fraction) / (1 - M))`` if
      ``M > hard_fraction``, else 0;
    * ``eta = eta_KL(min(1, progress / ramp_fraction) * B)``, where
      ``eta_KL(b)`` solves ``KL(softmax(-eta L) || uniform) = b`` and
      ``progress = updates so far / (n_epochs * updates_per_epoch)``.

    See the Notes for the reasoning. The rule keeps state across calls (the
    update count, ``M`` and the last window), so a warm-started fit or
    ``partial_fit`` continues it; :meth:`reset` starts over.

    Parameters
    ----------
    ramp_fraction : float in (0, 1] (default=0.15)
      Fraction of the planned updates over which the KL budget ramps up
      linearly.

    kl_scale : float > 0 (default=1.5)
      Multiplies the KL budget.

    hard_fraction : float in [0, 1) (default=0.1)
      Fraction of the training set presumed hard but valid: a misfit
      fraction up to it leaves the weights uniform.

    window : int >= 2 (default=3)
      Number of consecutive updates whose misfit fractions must agree.

    stability : float in [0, 1) (default=0.25)
      A window has settled when ``max - min <= stability * max`` over it.

    confident_ratio : float > 0 or None (default=2.0)
      ``C`` counts once it exceeds this multiple of ``M``. None never
      counts it (the rule before the confident count was added; no class
      probabilities are needed).

    confident_gate : float in (0, 1) (default=0.5)
      ``c`` is read only once this fraction of the examples are fitted to
      better than half of ``chance_loss``.

    confident_stability : float in [0, 1) (default=0.1)
      ``stability`` for the windows of ``c``.

    Attributes
    ----------
    n_updates_ : int
      Number of :meth:`step` calls since the last :meth:`reset`.

    max_misfit_ : float
      ``M``.

    recent_misfits_ : list of float or None
      The last ``window`` values of ``m`` (None where the model had not
      learned anything yet).

    misfit_fractions_, kl_targets_, etas_ : list of float
      ``m``, ``B`` (before the ramp) and eta of every update.

    max_confident_ : float
      ``C``.

    confident_fractions_ : list of float or None
      ``c`` at every update (None where it was not read).

    pairflip_ : bool
      Whether ``C`` has exceeded ``confident_ratio * M``, so that ``M``
      counts it (the test, not a diagnosis: on clean data both counts can
      be a few hundredths, the test pass, and the budget stay 0).

    frozen_misfit_ : float or None
      The fraction :meth:`freeze` fixed for the KL budget; None while the
      rule is free.

    max_loose_ : float
      ``C`` settled within the ``probation`` band (0 without one).

    provisional_ : bool
      Whether the pairflip latch stands on ``max_loose_`` alone, on
      probation until the first confident reading after :meth:`freeze`.

    retracted_ : bool
      Whether that reading retracted it (see :meth:`step`).

    follows_confident_ : bool
      Whether the frozen fraction still rises to ``C`` where the pairflip
      latch stands (see :meth:`freeze`'s ``follow_confident``).

    Notes
    -----
    MR's weights are ``p = softmax(-eta * L)`` over the cumulative losses ``L``.
    Their Kullback-Leibler divergence from uniform, ``KL(p || u) = ln N - H(p)``,
    measures how much of the training set they set aside: weights spread
    uniformly over a fraction ``f`` of the examples (and zero elsewhere) have
    ``KL = ln(1 / f)``. In every setting we measured, the eta of a grid that
    gave the best clean test accuracy ended training with ``KL`` close to
    ``ln(1 / (1 - r))`` for a noise rate ``r``: the best eta drops about the
    noisy fraction, and no more. :class:`AutoEta` therefore steers the KL, not
    eta, which also makes it indifferent to the scale of the criterion, and
    estimates the fraction to drop from the losses themselves:

    1. *Misfit fraction.* ``m`` is the fraction of training examples whose
       current loss exceeds ``chance_loss``, the loss of a know-nothing uniform
       prediction (``ln K`` for cross-entropy): examples the model predicts
       worse than chance.
    2. *Settled value.* Early in training ``m`` falls as the model learns
       (on clean data down to about 0); with wrong labels it falls to a
       plateau near the noisy fraction and stays there until the model
       memorizes them. ``M`` keeps the smallest ``m`` of each window of
       ``window`` updates that agree within ``stability``, and the largest
       such value so far: the plateau, remembered against memorization. A
       rule that latched ``m`` itself from the first updates set aside the
       examples a clean fit had not learned yet (a clean CNN lost 13
       points). A model still at chance misfits about half the examples,
       steadily, whatever the noise: windows count only once a tenth of
       the examples are fitted to better than half the know-nothing loss.
    3. *Pairflip labels.* A network fitted to labels of which a fraction
       ``r`` is flipped to one other class gives the flipped labels about
       ``r``, more than ``1 / K``: their losses stay below ``ln K`` and ``m``
       misses them (``M`` was 0.03-0.16 for 25-36% pairflip noise). The
       confident joint counts them: the network puts them in their true
       class with about ``1 - r``, above that class's threshold. While a
       network still learns, it also counts the examples it has not fitted
       yet, so ``c`` is read only once half the examples are fitted, and
       settles only within 10%, not 25%. Noise that ``m`` sees, ``c`` sees
       too, plus the examples MR itself sets aside (which stay unfitted):
       only ``C > confident_ratio * M``, the signature of labels ``m``
       misses, lets it count, and from then on ``M`` is the larger of the
       two (without this latch, ``M`` rose as MR set the flipped labels
       aside and the test failed again a few updates later).
    4. *KL budget.* ``B = kl_scale * ln((1 - hard_fraction) / (1 - M))`` when
       ``M > hard_fraction``, else 0: the first ``hard_fraction`` of misfit
       examples are presumed hard but valid (clean data has a few), the rest
       are set aside.
    5. *Step size.* ``eta`` is the eta at which ``KL(softmax(-eta L) || u)``
       equals the budget ramped linearly over the first ``ramp_fraction`` of
       the planned updates (the KL grows with eta, so bisection finds it).
       Ramping the KL, not eta, keeps the first updates' near-equal losses
       from concentrating the weights.

    Everything the rule sees is the per-example training losses, the
    fraction ``c``, the number of updates planned and the loss of a uniform
    prediction: no clean labels, no held-out split and no extra fit. Its
    cost is one bisection (about 60 softmaxes over the training set) per MW
    update, and, once half the examples are fitted, one pass of the network
    over the training set in eval mode per update for ``c``
    (:class:`~sk_mr.MultiplicativeReweighting` runs it).

    The constants of ``m`` were chosen on thirteen settings
    (``benchmarks/eta.py``, S1-S6 and H1-H7) and checked on three rounds of
    seven held-out ones (F1-F7, G1-G7, J1-J7); those of ``c`` on all 34 of
    them, and checked on a fourth round (K1-K7).

    Examples
    --------
    30% of the examples keep a loss above chance (ln 10): once three
    updates agree, the budget drops them.

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

    #: An example counts as fitted where its loss is below this fraction of
    #: ``chance_loss``: in the test of a model that has learned something
    #: (for ``m``) and of half the examples fitted (for ``c``). A hook for
    #: experiments (``benchmarks/auto_eta_leads.py``'s ``fitted``); not a
    #: public option.
    _fitted_loss = 0.5

    def __init__(self, ramp_fraction=0.15, kl_scale=1.5, hard_fraction=0.1, window=3,
                 stability=0.25, confident_ratio=2.0, confident_gate=0.5,
                 confident_stability=0.1):
        self.ramp_fraction = ramp_fraction
        self.kl_scale = kl_scale
        self.hard_fraction = hard_fraction
        self.window = window
        self.stability = stability
        self.confident_ratio = confident_ratio
        self.confident_gate = confident_gate
        self.confident_stability = confident_stability
        self.reset()

    def get_params(self):
        """The rule's constants, as a dict."""
        return dict(ramp_fraction=self.ramp_fraction, kl_scale=self.kl_scale,
                    hard_fraction=self.hard_fraction, window=self.window,
                    stability=self.stability, confident_ratio=self.confident_ratio,
                    confident_gate=self.confident_gate,
                    confident_stability=self.confident_stability)

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def reset(self):
        """Forget all updates (a new, cold fit)."""
        self.n_updates_ = 0
        self.max_misfit_ = 0.0
        self.recent_misfits_ = []
        self.misfit_fractions_ = []
        self.kl_targets_ = []
        self.etas_ = []
        self.max_confident_ = 0.0
        self.recent_confident_ = []
        self.confident_fractions_ = []
        self.pairflip_ = False
        self.frozen_misfit_ = None
        self.max_loose_ = 0.0
        self.recent_loose_ = []
        self.provisional_ = False
        self.retracted_ = False
        self.follows_confident_ = False
        # M and C when freeze() was called, for a retraction
        self.misfit_at_freeze_ = None
        self.confident_at_freeze_ = None
        return self

    def freeze(self, follow_confident=False):
        """Stop the set-aside fraction where it stands, for the rest of the fit.

        From now on the KL budget sets aside the fraction counted now
        (``M``, or ``max(M, C)`` after the pairflip signature), whatever
        later updates see. :class:`~sk_mr.MultiplicativeReweighting` freezes
        the rule when it starts correcting labels (``relabel='auto'``): the
        network then trains partly on its own predictions, so its losses
        on the given labels no longer estimate the noise (with the fraction
        free, it ran away: relabeled examples the network gets wrong count
        as misfit, which sets more aside). :meth:`reset` unfreezes.

        Parameters
        ----------
        follow_confident : bool (default=False)
          Where the pairflip latch stands (:attr:`pairflip_`, not
          provisional), the fraction still rises to the confident count
          ``C`` as that settles higher, and never falls: the set-aside
          fraction is ``max(frozen, C)``. Pairflip labels freeze low (the
          fraction is counted before the network is sure of their true
          class: 0.14-0.30 of 25-40% flipped labels in
          ``benchmarks/eta.py``), and the confident count of a network
          trained on the corrected labels keeps counting them; it counts
          wrong labels, not misfit ones, so it does not run away as ``m``
          did. Elsewhere the fraction stays frozen: on symmetric noise ``C``
          rose past the noise rate once correction started (to 1.0-1.1
          times it), and setting that many aside cost accuracy.

        Returns
        -------
        self : AutoEta

        Examples
        --------
        >>> import torch
        >>> rule = AutoEta()
        >>> rule.max_misfit_, rule.max_confident_, rule.pairflip_ = 0.1, 0.25, True
        >>> rule.freeze(follow_confident=True).counted_misfit()
        0.25
        >>> rule.max_confident_ = 0.35  # the confident count settles higher
        >>> rule.counted_misfit()
        0.35
        >>> rule.reset().freeze().counted_misfit()  # nothing counted, and frozen
        0.0
        """
        if not isinstance(follow_confident, bool):
            raise ValueError(
                f"follow_confident must be a bool, got {follow_confident!r}.")
        self.misfit_at_freeze_ = self.max_misfit_
        self.confident_at_freeze_ = self.max_confident_
        self.frozen_misfit_ = float(self._counted_misfit())
        self.follows_confident_ = bool(follow_confident)
        return self

    def _check_params(self):
        _check_fraction("ramp_fraction", self.ramp_fraction, low_open=True, high_open=False)
        _check_fraction("hard_fraction", self.hard_fraction, low_open=False, high_open=True)
        _check_fraction("stability", self.stability, low_open=False, high_open=True)
        _check_fraction("confident_gate", self.confident_gate, low_open=True, high_open=True)
        _check_fraction("confident_stability", self.confident_stability, low_open=False,
                        high_open=True)
        ratio = self.confident_ratio
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(
                ratio, numbers.Real) or not (ratio > 0 and math.isfinite(ratio))):
            raise ValueError(
                f"confident_ratio must be a finite float > 0 or None, got {ratio!r}.")
        if isinstance(self.kl_scale, bool) or not isinstance(self.kl_scale, numbers.Real) \
                or not (self.kl_scale > 0 and math.isfinite(self.kl_scale)):
            raise ValueError(f"kl_scale must be a finite float > 0, got {self.kl_scale!r}.")
        if isinstance(self.window, bool) or not isinstance(self.window, numbers.Integral) \
                or self.window < 2:
            raise ValueError(f"window must be an int >= 2, got {self.window!r}.")

    def wants_confident_misfit(self, losses, *, chance_loss):
        """Whether :meth:`step` will read ``confident_misfit`` at these losses.

        True once ``confident_gate`` of the examples are fitted to better
        than half of ``chance_loss`` (and ``confident_ratio`` is not None):
        the caller computes the fraction, which needs a pass over the
        training set, only then.

        Parameters
        ----------
        losses : torch.Tensor, shape (n,)
          Every training example's loss at this update.
        chance_loss : float

        Returns
        -------
        bool
        """
        if self.confident_ratio is None:
            return False
        quantile = torch.quantile(losses.to(torch.float64), float(self.confident_gate))
        return float(quantile) < chance_loss * self._fitted_loss

    def step(self, losses, cumulative_losses, completed_epochs=None, n_epochs=None,
             updates_per_epoch=1, *, chance_loss, confident_misfit=None, probation=None,
             probation_hold=None, probation_deadline=None):
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
        confident_misfit : float or None (default=None)
          ``c`` (:func:`confident_misfit_fraction` at this update), where
          :meth:`wants_confident_misfit` said so; None where the net has no
          class probabilities (``M`` is then ``m``'s alone).
        probation : float in (0, 1) or None (default=None)
          Passed by a caller that corrects labels once the weights leave
          uniform (:class:`~sk_mr.MultiplicativeReweighting` with
          ``relabel='auto'`` passes its ``relabel_probation``), which tests
          a pairflip latch. ``c`` may then also settle within this band
          (``max_loose_``); where that alone exceeds ``confident_ratio * M``
          and ``hard_fraction``, the latch is *provisional*. At the first
          confident reading after :meth:`freeze` (once correction has
          started), a reading below ``probation_hold`` times the frozen
          fraction retracts it: the rule unfreezes, ``M`` and ``C`` go back
          to where they stood at the freeze (their windows start again from
          that reading), no loose latch is taken again, and
          :attr:`retracted_` tells the caller to stop correcting. Wrong labels set aside stay
          confidently contradicted under correction; clean examples a
          still-learning network got wrong are learned. None: ``c``
          settles within ``confident_stability`` only, as without it.
        probation_hold : float in (0, 1] or None (default=None)
          With ``probation``: the fraction of the frozen fraction that the
          first reading after :meth:`freeze` must reach for a provisional
          latch to stand (it is retracted below ``probation_hold`` times
          the frozen fraction). None: ``1 - probation``, the band's own
          complement.
        probation_deadline : float in (0, 1] or None (default=None)
          With ``probation``: the fraction of the planned updates after
          which ``c`` no longer settles on probation, so that no
          provisional latch is taken that correction has no time left to
          test (a latch taken before is still tested). None: it settles
          until the end.

        Returns
        -------
        eta : float
          Non-negative, for the cumulative losses as given (their scale).
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
        losses64 = losses.to(torch.float64)
        confident = confident_misfit if self.wants_confident_misfit(
            losses64, chance_loss=chance_loss) else None
        if probation is not None:
            _check_fraction("probation", probation, low_open=True, high_open=True)
            if probation_hold is None:
                probation_hold = 1 - probation
            else:
                _check_fraction("probation_hold", probation_hold, low_open=True,
                                high_open=False)
            if probation_deadline is not None:
                _check_fraction("probation_deadline", probation_deadline, low_open=True,
                                high_open=False)
            settles = probation_deadline is None or \
                self.n_updates_ <= probation_deadline * n_epochs * updates_per_epoch
            self._probation(confident, probation, probation_hold, settles)
        self.confident_fractions_.append(confident)
        self.recent_confident_, self.max_confident_ = _settle(
            self.recent_confident_, confident, self.max_confident_, self.window,
            self.confident_stability)
        misfit = self._misfit_fraction(losses64, chance_loss)
        # the model has learned something once a tenth of the examples are
        # fitted to better than half the know-nothing loss; before that, a
        # steady misfit fraction is that of a model still at chance (about
        # half the examples), not the noise
        learned = float(torch.quantile(losses64, 0.1)) < chance_loss * self._fitted_loss
        self.recent_misfits_, self.max_misfit_ = _settle(
            self.recent_misfits_, misfit if learned else None, self.max_misfit_,
            self.window, self.stability)
        # keep the log finite: at most 99% of the examples are set aside
        counted = min(self._counted_misfit(), 0.99)
        if counted > self.hard_fraction:
            target = self.kl_scale * math.log((1 - self.hard_fraction) / (1 - counted))
        else:
            target = 0.0
        eta = eta_for_kl(cumulative_losses, min(1.0, progress / self.ramp_fraction) * target)
        self.misfit_fractions_.append(misfit)
        self.kl_targets_.append(target)
        self.etas_.append(eta)
        return eta

    def _probation(self, confident, probation, hold, settles=True):
        """Decide a provisional latch at the first reading after the
        freeze (it stands from ``hold`` times the frozen fraction), then
        settle ``c`` within the ``probation`` band (where ``settles``: up
        to the probation deadline)."""
        if self.provisional_ and self.frozen_misfit_ is not None and confident is not None:
            self.provisional_ = False
            if confident < hold * self.frozen_misfit_:
                self.retracted_ = True
                self.pairflip_ = False
                self.frozen_misfit_ = None
                # M and C as they stood at the freeze; their windows start again
                self.max_misfit_ = self.misfit_at_freeze_
                self.max_confident_ = self.confident_at_freeze_
                self.recent_misfits_, self.recent_confident_ = [], []
        if not self.retracted_ and settles:
            self.recent_loose_, self.max_loose_ = _settle(
                self.recent_loose_, confident, self.max_loose_, self.window, probation)

    def counted_misfit(self):
        """The fraction the KL budget sets aside now.

        ``M``, or ``max(M, C)`` once ``C`` has exceeded ``confident_ratio *
        M`` (with ``max_loose_`` too while that latch is provisional; see
        :meth:`step`'s ``probation``), or the fraction :meth:`freeze` fixed.

        Returns
        -------
        fraction : float
        """
        return float(self._counted_misfit())

    def _counted_misfit(self):
        """The fraction the KL budget sets aside: ``M``, or ``max(M, C)``
        once ``C`` has exceeded ``confident_ratio * M`` (and ``max_loose_``
        while that latch is provisional), or the frozen one.

        A hook for experiments (``benchmarks/auto_eta_leads.py``); not a
        public option.
        """
        ratio = self.confident_ratio
        if ratio is not None and self.frozen_misfit_ is None and not self.retracted_:
            if self.max_confident_ > ratio * self.max_misfit_:
                self.provisional_ = False  # C latches on its own
            elif not self.pairflip_ and self.max_loose_ > max(
                    ratio * self.max_misfit_, self.hard_fraction):
                self.pairflip_ = self.provisional_ = True  # see step(probation=...)
        if ratio is not None and not self.pairflip_:
            self.pairflip_ = self.max_confident_ > ratio * self.max_misfit_
        if self.frozen_misfit_ is not None:  # see freeze()
            if self.follows_confident_ and self.pairflip_ and not self.provisional_:
                return max(self.frozen_misfit_, self.max_confident_)
            return self.frozen_misfit_
        counted = max(self.max_misfit_, self.max_confident_) if self.pairflip_ \
            else self.max_misfit_
        return max(counted, self.max_loose_) if self.provisional_ else counted

    def _misfit_fraction(self, losses, chance_loss):
        """``m``: the fraction of ``losses`` (float64) above :meth:`_misfit_loss`.

        A hook for experiments (``benchmarks/auto_eta_leads.py``); not a
        public option.
        """
        return float((losses > self._misfit_loss(chance_loss)).to(torch.float64).mean())

    def _misfit_loss(self, chance_loss):
        """The loss above which an example counts as misfit: ``chance_loss``.

        A hook for experiments (``benchmarks/auto_eta_leads.py`` tries a lower
        threshold); not a public option.
        """
        return chance_loss

    def diagnostics(self):
        """Per-update record: misfit fractions, KL targets and etas (lists)."""
        return dict(misfit_fractions=list(self.misfit_fractions_),
                    kl_targets=list(self.kl_targets_), auto_etas=list(self.etas_),
                    max_misfit=self.max_misfit_, max_confident=self.max_confident_,
                    confident_fractions=list(self.confident_fractions_),
                    pairflip=bool(self.pairflip_), frozen_misfit=self.frozen_misfit_,
                    max_loose=self.max_loose_, retracted=bool(self.retracted_))


def _settle(recent, value, settled, window, stability):
    """Push ``value`` (None: not read) into the window ``recent``; return the
    window and the running maximum ``settled`` of the smallest value of each
    full window whose values agree within ``stability`` (relative)."""
    recent = (list(recent) + [value])[-window:]
    if len(recent) == window and None not in recent and \
            max(recent) - min(recent) <= stability * max(recent):
        settled = max(settled, min(recent))
    return recent, settled
