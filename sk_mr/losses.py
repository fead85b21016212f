"""Per-example criteria: MR's default cross-entropy and the baselines users pick instead.

* :class:`AutoCrossEntropyLoss`: MRClassifier's default, cross-entropy on a
  module's logits, or on the log of its probabilities (skorch's ``NLLLoss``
  convention), decided per batch on the device.
* :class:`AutoSymmetricCrossEntropy`: the same for the symmetric
  cross-entropy (below), with all of cross-entropy's parameters: the
  criterion of "MR + SCE".
* :class:`GeneralizedCrossEntropy`: the L_q loss of Zhang & Sabuncu,
  "Generalized Cross Entropy Loss for Training Deep Neural Networks with
  Noisy Labels" (NeurIPS 2018), ``(1 - p_y ** q) / q``; cross-entropy as
  ``q -> 0``, mean absolute error (up to a factor 2) at ``q = 1``.
* :class:`SymmetricCrossEntropy`: the loss of Wang et al., "Symmetric Cross
  Entropy for Robust Learning with Noisy Labels" (ICCV 2019),
  ``alpha * CE + beta * RCE``, where the reverse cross-entropy
  ``RCE = -sum_k p_k log q_k`` swaps the roles of prediction and label and
  takes ``log 0 = A``.
* :class:`NCEandRCE`: the active-passive loss of Ma et al., "Normalized Loss
  Functions for Deep Learning with Noisy Labels" (ICML 2020),
  ``alpha * NCE + beta * RCE`` with the normalized cross-entropy
  ``NCE = log p_y / sum_k log p_k``.
* :class:`TiltedLoss`: tilted empirical risk of Li et al., "Tilted Empirical
  Risk Minimization" (ICLR 2021), ``(1 / t) log mean_i exp(t l_i)`` over a
  batch; a negative tilt ``t`` down-weights high-loss examples within each
  batch, MR's closest one-fit cousin.

GCE, SCE and NCE+RCE are :class:`torch.nn.Module` criteria that take logits ``(n, K)`` and
either integer class targets ``(n,)`` or class-probability targets
``(n, K)``, and honour ``reduction`` ('none' | 'mean' | 'sum', default
'mean') at call time, like torch's losses. They therefore work as the
``criterion`` of a plain skorch net and of :class:`~sk_mr.MRClassifier`,
which asks for per-example losses (``reduction='none'``) and weights them:
MR composes with either loss.

skorch infers ``predict_proba``'s softmax only for
:class:`torch.nn.CrossEntropyLoss`; with these criteria pass
``predict_nonlinearity=functools.partial(torch.softmax, dim=-1)`` to get
probabilities (``predict`` is the argmax either way).
"""

import torch
from torch import nn
from torch.nn import functional as F

from sk_mr.validation import check_option, check_real, warn_ignored

__all__ = ["AutoCrossEntropyLoss", "AutoSymmetricCrossEntropy", "GeneralizedCrossEntropy",
           "NCEandRCE", "SymmetricCrossEntropy", "TiltedLoss", "log_if_probabilities",
           "outputs_are_probabilities"]

REDUCTIONS = ("none", "mean", "sum")

_LOG_ZERO = -4.0     # A, the value of log 0 in the reverse cross-entropy (the papers')
_DEFAULT_TILT = -0.1


def _check_inputs(input, target):
    if input.dim() != 2:
        raise ValueError(
            f"input must be logits of shape (n, n_classes), got shape {tuple(input.shape)}.")
    if target.dim() == 1:
        if target.is_floating_point():
            raise ValueError(
                "integer class targets are expected for 1-d targets, got dtype "
                f"{target.dtype}; pass class indices (int64) or class probabilities "
                "of shape (n, n_classes).")
        if target.shape[0] != input.shape[0]:
            raise ValueError(
                f"target has {target.shape[0]} entries but input {input.shape[0]} rows.")
    elif target.dim() == 2:
        if target.shape != input.shape:
            raise ValueError(
                f"class-probability targets must have the input's shape "
                f"{tuple(input.shape)}, got {tuple(target.shape)}.")
    else:
        raise ValueError(
            f"target must be class indices (n,) or class probabilities (n, n_classes), "
            f"got shape {tuple(target.shape)}.")


#: The docstring of every logit criterion's ``forward`` below.
_LOGITS_FORWARD_DOC = """Return the loss of logits ``input`` for ``target``.

Parameters
----------
input : torch.Tensor, shape (n, n_classes)
  Logits.
target : torch.Tensor
  Class indices (int64, shape ``(n,)``) or class probabilities
  (float, shape ``(n, n_classes)``).

Returns
-------
loss : torch.Tensor
  Shape ``(n,)`` with ``reduction='none'``, else a scalar.
"""


def _reduce(losses, reduction):
    check_option("reduction", reduction, REDUCTIONS)  # read at call time: MR sets it
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


class GeneralizedCrossEntropy(nn.Module):
    """Generalized Cross Entropy (the L_q loss) of Zhang & Sabuncu (2018).

    For logits ``z`` with softmax ``p`` and class ``y``,

        l(z, y) = (1 - p_y ** q) / q.

    It interpolates between cross-entropy (``q -> 0``) and the
    noise-tolerant mean absolute error (``q = 1``); the paper's default is
    ``q = 0.7``. With class-probability targets ``t`` the loss is
    ``sum_k t_k (1 - p_k ** q) / q`` (linear in the target, like
    cross-entropy). ``p_y ** q`` is computed as ``exp(q * log_softmax(z)_y)``,
    so large logits do not underflow.

    Parameters
    ----------
    q : float in (0, 1] (default=0.7)
      The exponent.

    reduction : {'none', 'mean', 'sum'} (default='mean')
      Read at call time: 'none' returns one loss per example.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.losses import GeneralizedCrossEntropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    >>> GeneralizedCrossEntropy(q=1.0, reduction="none")(logits, torch.tensor([0, 1]))
    tensor([0.1192, 0.5000])

    With a skorch net (or :class:`~sk_mr.MRClassifier`, which composes MR
    with it):

    >>> from skorch import NeuralNetClassifier
    >>> from sk_mr.models import MLP
    >>> net = NeuralNetClassifier(MLP, criterion=GeneralizedCrossEntropy,
    ...                           criterion__q=0.7, module__in_features=64)
    """

    def __init__(self, q=0.7, reduction="mean"):
        super().__init__()
        self.q = check_real("q", q, low=0, high=1, low_open=True, hint=(
            "q -> 0 is cross-entropy, q = 1 mean absolute error; the paper uses 0.7."))
        self.reduction = check_option("reduction", reduction, REDUCTIONS)

    def forward(self, input, target):  # docstring: _LOGITS_FORWARD_DOC
        _check_inputs(input, target)
        log_p = F.log_softmax(input, dim=-1)
        if target.dim() == 1:
            log_p_y = log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
            losses = (1.0 - torch.exp(self.q * log_p_y)) / self.q
        else:
            losses = (target.to(log_p.dtype) * (1.0 - torch.exp(self.q * log_p))).sum(1) / self.q
        return _reduce(losses, self.reduction)

    def extra_repr(self):
        return f"q={self.q}, reduction={self.reduction!r}"


class SymmetricCrossEntropy(nn.Module):
    """Symmetric Cross Entropy of Wang et al. (2019): ``alpha CE + beta RCE``.

    For logits ``z`` with softmax ``p`` and a label distribution ``t`` (one-hot
    for a class index), the reverse cross-entropy is
    ``RCE = -sum_k p_k * log t_k`` with ``log 0`` replaced by the constant
    ``A`` (the paper's ``A = -4``): entries of ``log t`` are clamped to be at
    least ``A``. For a class ``y`` it is ``-A * (1 - p_y)``, so

        l(z, y) = -alpha * log p_y - beta * A * (1 - p_y).

    The paper's ``(alpha, beta)`` are (0.1, 1.0) on CIFAR-10 (the default
    here), (6.0, 0.1) on CIFAR-100 and (0.01, 1.0) on MNIST.

    Parameters
    ----------
    alpha : float >= 0 (default=0.1)
      Weight of the cross-entropy term.

    beta : float >= 0 (default=1.0)
      Weight of the reverse cross-entropy term.

    A : float < 0 (default=-4.0)
      The value taken for ``log 0`` in the reverse cross-entropy.

    reduction : {'none', 'mean', 'sum'} (default='mean')
      Read at call time: 'none' returns one loss per example.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.losses import SymmetricCrossEntropy
    >>> logits = torch.tensor([[0.0, 0.0]])
    >>> # 0.1 * ln 2 + 1.0 * 4 * (1 - 0.5)
    >>> SymmetricCrossEntropy(reduction="none")(logits, torch.tensor([0]))
    tensor([2.0693])
    """

    def __init__(self, alpha=0.1, beta=1.0, A=_LOG_ZERO, reduction="mean"):
        super().__init__()
        self.alpha, self.beta, self.A = _check_reverse_ce_params(alpha, beta, A)
        self.reduction = check_option("reduction", reduction, REDUCTIONS)

    def forward(self, input, target):  # docstring: _LOGITS_FORWARD_DOC
        _check_inputs(input, target)
        log_p = F.log_softmax(input, dim=-1)
        if target.dim() == 1:
            ce = -log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
        else:
            ce = -(target.to(log_p.dtype) * log_p).sum(1)
        rce = _reverse_cross_entropy(log_p, target, self.A)
        return _reduce(self.alpha * ce + self.beta * rce, self.reduction)

    def extra_repr(self):
        return (f"alpha={self.alpha}, beta={self.beta}, A={self.A}, "
                f"reduction={self.reduction!r}")


def _check_reverse_ce_params(alpha, beta, A):
    """``(alpha, beta, A)`` of a loss ``alpha * term + beta * RCE``, as floats.

    Warns when ``beta=0`` leaves a non-default ``A`` without effect.
    """
    alpha = check_real("alpha", alpha, low=0)
    beta = check_real("beta", beta, low=0)
    A = check_real("A", A, high=0, high_open=True,
                   hint="A is the value of log 0 in the reverse cross-entropy; the "
                        "papers use -4.")
    if beta == 0 and A != _LOG_ZERO:
        warn_ignored("A", A, "beta=0 turns off the reverse cross-entropy, the only "
                     "term that reads it", "Set beta > 0, or leave A at its default.",
                     stacklevel=4)  # the caller of the criterion's __init__
    return alpha, beta, A


def _reverse_cross_entropy(log_p, target, A):
    """``-sum_k p_k log t_k`` with ``log 0 = A`` (per example)."""
    p = log_p.exp()
    if target.dim() == 1:
        return -A * (1.0 - p.gather(1, target.long().unsqueeze(1)).squeeze(1))
    # log t with log 0 = A: clamp_min maps -inf (and anything below A) to A
    log_target = torch.log(target.to(log_p.dtype)).clamp_min(A)
    return -(p * log_target).sum(1)


class NCEandRCE(nn.Module):
    """Normalized cross-entropy plus reverse cross-entropy (Ma et al., 2020).

    The active-passive loss "NCE+RCE" of Ma et al., "Normalized Loss
    Functions for Deep Learning with Noisy Labels" (ICML 2020). For logits
    ``z`` with softmax ``p`` and class ``y``,

        NCE = log p_y / sum_k log p_k,     RCE = -A (1 - p_y),

        l(z, y) = alpha * NCE + beta * RCE.

    NCE is cross-entropy divided by the cross-entropy summed over every
    possible label, so it lies in ``[0, 1]`` and is robust to symmetric
    noise but underfits alone; the passive RCE term (as in
    :class:`SymmetricCrossEntropy`) restores the fit. The authors' defaults
    are ``alpha = beta = 1`` (CIFAR-10, the default here) and
    ``alpha = 10, beta = 0.1`` (CIFAR-100). With class-probability targets
    ``t``, NCE is ``sum_k t_k log p_k / sum_k log p_k``.

    Parameters
    ----------
    alpha : float >= 0 (default=1.0)
      Weight of the normalized cross-entropy.

    beta : float >= 0 (default=1.0)
      Weight of the reverse cross-entropy.

    A : float < 0 (default=-4.0)
      The value taken for ``log 0`` in the reverse cross-entropy.

    reduction : {'none', 'mean', 'sum'} (default='mean')
      Read at call time: 'none' returns one loss per example.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.losses import NCEandRCE
    >>> logits = torch.tensor([[0.0, 0.0]])
    >>> # NCE of a uniform prediction is 1 / K = 0.5; RCE is 4 * (1 - 0.5)
    >>> NCEandRCE(reduction="none")(logits, torch.tensor([0]))
    tensor([2.5000])
    """

    def __init__(self, alpha=1.0, beta=1.0, A=_LOG_ZERO, reduction="mean"):
        super().__init__()
        self.alpha, self.beta, self.A = _check_reverse_ce_params(alpha, beta, A)
        self.reduction = check_option("reduction", reduction, REDUCTIONS)

    def forward(self, input, target):  # docstring: _LOGITS_FORWARD_DOC
        _check_inputs(input, target)
        log_p = F.log_softmax(input, dim=-1)
        if target.dim() == 1:
            log_p_y = log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
        else:
            log_p_y = (target.to(log_p.dtype) * log_p).sum(1)
        nce = log_p_y / log_p.sum(1)
        rce = _reverse_cross_entropy(log_p, target, self.A)
        return _reduce(self.alpha * nce + self.beta * rce, self.reduction)

    def extra_repr(self):
        return (f"alpha={self.alpha}, beta={self.beta}, A={self.A}, "
                f"reduction={self.reduction!r}")


class TiltedLoss(nn.Module):
    """Tilted empirical risk over a batch (TERM, Li et al., 2021).

    For per-example losses ``l_i`` of a base criterion over a batch of ``n``
    examples, the tilted risk is

        R_t = (1 / t) * log( (1 / n) * sum_i exp(t * l_i) ),

    the average loss as ``t -> 0``. Its gradient weights each example by
    ``softmax(t * l)_i``: with a negative tilt, high-loss examples (often
    wrong labels) get exponentially less weight *within the batch*, where
    MR's weights remember each example's losses across epochs. Computed
    with ``logsumexp``, so large ``|t| l`` never overflows.

    ``reduction='none'`` returns the base criterion's per-example losses
    (untilted: the tilt is a property of the batch), so
    :class:`~sk_mr.MRClassifier`, which asks for per-example losses, uses
    the base loss.

    A strongly negative tilt applied from the first step can find the
    degenerate optimum where one class is fit perfectly and the rest ignored
    (on digits, ``t=-2`` from the start ended at chance accuracy); the
    authors' robust-classification code therefore uses a small tilt,
    ``t=-0.1`` (the default here), and anneals it in from 0.

    Parameters
    ----------
    t : float (default=-0.1)
      The tilt; negative for robustness to outliers and wrong labels.

    base : torch.nn.Module class or None (default=None)
      Per-example criterion, instantiated with ``reduction='none'``;
      None is :class:`torch.nn.CrossEntropyLoss`.

    reduction : {'mean', 'none'} (default='mean')
      'mean' returns the tilted risk of the batch, 'none' the base losses.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.losses import TiltedLoss
    >>> logits = torch.tensor([[4.0, 0.0], [0.0, 4.0]])
    >>> y = torch.tensor([0, 0])             # the second label looks wrong
    >>> base = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    >>> tilted = TiltedLoss(t=-2.0)(logits, y)
    >>> bool(tilted < base.mean())          # the high loss counts less
    True
    """

    def __init__(self, t=_DEFAULT_TILT, base=None, reduction="mean"):
        super().__init__()
        self.t = check_real("t", t, hint="TERM uses t < 0 against wrong labels.")
        check_option("reduction", reduction, ("mean", "none"))
        if reduction == "none" and self.t != _DEFAULT_TILT:
            warn_ignored("t", t, "reduction='none' returns the base losses, untilted",
                         "Use reduction='mean' for the tilted risk.")
        self.base = base
        self.reduction = reduction
        self.base_ = (base or nn.CrossEntropyLoss)(reduction="none")

    def forward(self, input, target):
        """Return the tilted risk of the batch (or the base losses).

        Parameters
        ----------
        input : torch.Tensor
          What the base criterion takes (logits for cross-entropy).
        target : torch.Tensor

        Returns
        -------
        loss : torch.Tensor
          A scalar, or shape ``(n,)`` with ``reduction='none'``.
        """
        losses = self.base_(input, target)
        if self.reduction == "none":
            return losses
        if self.t == 0.0:
            return losses.mean()
        n = losses.new_tensor(float(losses.numel()))
        return (torch.logsumexp(self.t * losses, dim=0) - torch.log(n)) / self.t

    def extra_repr(self):
        return f"t={self.t}, reduction={self.reduction!r}"


class AutoSymmetricCrossEntropy(torch.nn.CrossEntropyLoss):
    """Symmetric cross-entropy on a module's logits or on the log of its probabilities.

    The loss of Wang et al. (2019), ``alpha * CE + beta * RCE`` with the
    reverse cross-entropy ``RCE = -A (1 - p_y)`` (``A`` standing for
    ``log 0``), at their defaults ``alpha=0.1, beta=1, A=-4``; the same
    numbers as :class:`SymmetricCrossEntropy` for logits and class indices.
    What makes it a drop-in ``criterion`` for :class:`sk_mr.MRClassifier`
    (``criterion=AutoSymmetricCrossEntropy, eta=0.01``: "MR + SCE"):

    * it takes both of skorch's classifier conventions, as
      :class:`AutoCrossEntropyLoss` does: a batch whose outputs are all
      non-negative with rows summing to one (within 1e-3) is taken as
      probabilities ``p`` and scored on ``log p`` (whose softmax is ``p``
      again), any other batch as logits; decided on the device, per batch;
    * it is a :class:`torch.nn.CrossEntropyLoss`, with all of its parameters:
      ``weight`` weighs both terms of an example by its class's weight (and
      ``'mean'`` divides by the weights, as cross-entropy does),
      ``ignore_index`` gives such positions no loss, ``label_smoothing``
      smooths the cross-entropy term; outputs of shape ``(n, K, d1, ...)``
      with targets ``(n, d1, ...)`` (sequences, images) and class-probability
      targets work as they do for cross-entropy. So everything MR's
      estimators do with cross-entropy (labels of any type, class weights,
      mixup's soft targets, sequence outputs, Arazo et al.'s bootstrapping)
      works unchanged;
    * ``alpha=1, beta=0`` is cross-entropy exactly.

    Parameters
    ----------
    alpha : float >= 0 (default=0.1)
      Weight of the cross-entropy term.

    beta : float >= 0 (default=1.0)
      Weight of the reverse cross-entropy term.

    A : float < 0 (default=-4.0)
      The value taken for ``log 0`` in the reverse cross-entropy.

    weight, ignore_index, reduction, label_smoothing
      As in :class:`torch.nn.CrossEntropyLoss`.

    Examples
    --------
    >>> import torch
    >>> criterion = AutoSymmetricCrossEntropy(reduction="none")
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> y = torch.tensor([0, 1])
    >>> torch.allclose(criterion(logits, y), SymmetricCrossEntropy(reduction="none")(logits, y))
    True
    >>> torch.allclose(criterion(logits.softmax(1), y), criterion(logits, y), atol=1e-6)
    True
    """

    #: Rows within this distance of summing to one count as probabilities.
    atol = 1e-3

    def __init__(self, alpha=0.1, beta=1.0, A=_LOG_ZERO, weight=None, ignore_index=-100,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight=weight, ignore_index=ignore_index,
                         reduction=check_option("reduction", reduction, REDUCTIONS),
                         label_smoothing=label_smoothing)
        self.alpha, self.beta, self.A = _check_reverse_ce_params(alpha, beta, A)

    def forward(self, input, target):
        """Return the loss of ``input`` (logits or probabilities) for ``target``.

        Parameters
        ----------
        input : torch.Tensor, shape (n, n_classes, ...)
          Logits, or probabilities (rows summing to one).
        target : torch.Tensor
          Class indices (integers, shape ``(n, ...)``) or class
          probabilities (float, the input's shape).

        Returns
        -------
        loss : torch.Tensor
          The input's shape without the class dimension under
          ``reduction='none'``, else a scalar.
        """
        check_option("reduction", self.reduction, REDUCTIONS)  # MR sets it per call
        return _auto_symmetric_cross_entropy(
            input, target, self.alpha, self.beta, self.A, self.weight, self.ignore_index,
            self.reduction, self.label_smoothing, self.atol)

    def extra_repr(self):
        return (f"alpha={self.alpha}, beta={self.beta}, A={self.A}, "
                f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}")


class AutoCrossEntropyLoss(torch.nn.CrossEntropyLoss):
    """Cross-entropy on a module's logits, or on the log of its probabilities.

    skorch's classifiers come in two conventions: a module that returns
    logits, trained with :class:`torch.nn.CrossEntropyLoss`, and a module
    that returns probabilities (e.g. ending in a softmax), trained with
    skorch's default :class:`torch.nn.NLLLoss` on their log. This criterion,
    the default of :class:`sk_mr.MRClassifier`, serves both: a batch whose
    outputs are all non-negative with rows summing to one (within 1e-3) is
    taken as probabilities and scored as ``cross_entropy(log(p))``, which
    equals ``nll_loss(log(p))`` because ``log_softmax(log p) = log p`` when
    ``p`` sums to one; any other batch is taken as logits. The choice is made
    on the device, per batch, without a host synchronization. So a module
    ending in a softmax never trains on a softmax of a softmax.

    All parameters of :class:`torch.nn.CrossEntropyLoss` apply (``weight``,
    ``ignore_index``, ``reduction``, ``label_smoothing``); for probability
    outputs, label smoothing smooths the cross-entropy of ``log(p)``.

    Examples
    --------
    >>> import torch
    >>> criterion = AutoCrossEntropyLoss(reduction="none")
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> y = torch.tensor([0, 1])
    >>> torch.allclose(criterion(logits, y), torch.nn.functional.cross_entropy(
    ...     logits, y, reduction="none"))
    True
    >>> probs = logits.softmax(1)
    >>> torch.allclose(criterion(probs, y), criterion(logits, y), atol=1e-6)
    True
    """

    #: Rows within this distance of summing to one count as probabilities.
    atol = 1e-3

    def forward(self, input, target):
        return super().forward(log_if_probabilities(input, atol=self.atol), target)


def _auto_symmetric_cross_entropy(input, target, alpha, beta, A, weight, ignore_index,
                                  reduction, label_smoothing, atol):
    """:class:`AutoSymmetricCrossEntropy`'s loss as a function, for a criterion's
    options without a module (``MRClassifier``'s ``fallback_loss='sce'``)."""
    scores = log_if_probabilities(input, atol=atol)
    ce = F.cross_entropy(scores, target, weight=weight,
                         ignore_index=ignore_index, reduction="none",
                         label_smoothing=label_smoothing)
    p = F.softmax(scores, dim=1)
    if target.is_floating_point():  # class probabilities
        log_target = torch.log(target.to(p.dtype)).clamp_min(A)
        rce = -(p * log_target).sum(1)
        if weight is not None:
            # the target's expected class weight: weight[y] for one-hot
            shape = (1, -1) + (1,) * (target.dim() - 2)
            rce = rce * (target.to(p.dtype) * weight.view(shape)).sum(1)
        counted = None
    else:
        keep = target != ignore_index
        safe = torch.where(keep, target, torch.zeros_like(target)).long()
        p_y = p.gather(1, safe.unsqueeze(1)).squeeze(1)
        counted = keep.to(p.dtype) if weight is None \
            else weight.to(p.dtype)[safe] * keep
        rce = -A * (1.0 - p_y) * counted
    losses = alpha * ce + beta * rce
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    # cross-entropy's mean: over the counted (class-weighted) positions
    # for class indices, over the positions for class probabilities
    return losses.sum() / (counted.sum() if counted is not None else losses.numel())


def outputs_are_probabilities(output, atol=1e-3):
    """Return a 0-d bool tensor: are all rows of ``output`` probability vectors?

    Parameters
    ----------
    output : torch.Tensor, shape (batch, n_classes, ...)

    atol : float (default=1e-3)
      Tolerance on each row's sum.

    Returns
    -------
    answer : torch.Tensor of bool, 0-dimensional, on ``output``'s device
      False for fewer than two classes or an empty batch.
    """
    if output.dim() < 2 or output.shape[1] < 2 or output.shape[0] == 0 \
            or not output.is_floating_point():
        return torch.zeros((), dtype=torch.bool, device=output.device)
    detached = output.detach()
    non_negative = detached.amin() >= 0
    sums_to_one = ((detached.sum(1) - 1).abs() <= atol).all()
    return non_negative & sums_to_one


def log_if_probabilities(output, atol=1e-3):
    """Return ``log(output)`` if its rows are probabilities, else ``output``.

    Decided on the device (no host synchronization). The log is taken of the
    output clamped to the smallest normal float, so neither branch produces
    an infinite value or a NaN gradient.

    Parameters
    ----------
    output : torch.Tensor, shape (batch, n_classes, ...)

    atol : float (default=1e-3)

    Returns
    -------
    torch.Tensor, same shape as ``output``

    Examples
    --------
    >>> import torch
    >>> log_if_probabilities(torch.tensor([[0.25, 0.75]]))
    tensor([[-1.3863, -0.2877]])
    >>> log_if_probabilities(torch.tensor([[2.0, -1.0]]))
    tensor([[ 2., -1.]])
    """
    if output.dim() < 2 or not output.is_floating_point():
        return output
    tiny = torch.finfo(output.dtype).tiny
    logged = torch.log(output.clamp_min(tiny))
    return torch.where(outputs_are_probabilities(output, atol), logged, output)


for _criterion in (GeneralizedCrossEntropy, SymmetricCrossEntropy, NCEandRCE):
    _criterion.forward.__doc__ = _LOGITS_FORWARD_DOC
del _criterion
