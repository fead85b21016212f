"""MR's weighted training objective, as tensor functions (no net needed).

A training batch's loss under MR is built in three steps, each a function
here:

1. per-example losses: the criterion's output with ``reduction='none'``
   (:func:`per_example_reduction`) is split into each example's summed loss
   ``s_i`` and its weight ``n_i`` in the criterion's own mean
   (:func:`split_example_losses`, :func:`loss_normalizers`);
2. the batch loss: ``sum(p_i s_i) / sum(p_i n_i)`` with the MR weights
   ``p_i`` (:func:`reduce_weighted`), summed over the label terms of the
   targets (one term, or a :class:`MixupTarget`'s two, each weighted by the
   MR weight of the example its label came from: :func:`weighted_loss`);
3. the loss MR accumulates for each example: ``s_i / n_i``, without the
   criterion's class weight (:func:`mw_losses`).

:class:`sk_mr.mixin.MRMixin` calls these with its criterion and the batch's
weights; see ``criterion`` in :class:`sk_mr.MRClassifier` for what they mean
for each criterion. Nothing here copies to the host or syncs the device.
"""

import contextlib

import torch

__all__ = ["MixupTarget", "loss_normalizers", "mw_losses", "per_example_reduction",
           "reduce_weighted", "split_example_losses", "target_terms", "weighted_loss",
           "weighted_reduction"]


class MixupTarget:
    """Targets of a mixup batch: ``lam * y_a + (1 - lam) * y_b``.

    Parameters
    ----------
    y_a : torch.Tensor
      Labels of the batch's own examples.

    y_b : torch.Tensor
      Labels of the partners, ``y_a[permutation]``.

    lam : float
      Mixing coefficient of ``y_a``.

    permutation : torch.Tensor of int64
      Partner of each example.

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([0, 1, 2])
    >>> target = MixupTarget(y, y[[2, 0, 1]], 0.25, torch.tensor([2, 0, 1]))
    >>> [(coef, labels.tolist()) for coef, labels, _ in target.terms()]
    [(0.25, [0, 1, 2]), (0.75, [2, 0, 1])]
    """

    def __init__(self, y_a, y_b, lam, permutation):
        self.y_a = y_a
        self.y_b = y_b
        self.lam = lam
        self.permutation = permutation

    def __len__(self):
        return len(self.y_a)

    def terms(self):
        """Return the label terms ``[(coef, labels, permutation)]`` of the batch.

        The first term is the examples' own labels (``permutation`` None),
        the second their partners' (each example ``k`` takes the label of
        ``permutation[k]``).
        """
        return [(self.lam, self.y_a, None), (1.0 - self.lam, self.y_b, self.permutation)]


def target_terms(y_true):
    """The label terms of a batch's targets: a :class:`MixupTarget`'s two, else one."""
    if isinstance(y_true, MixupTarget):
        return y_true.terms()
    return [(1.0, y_true, None)]


@contextlib.contextmanager
def per_example_reduction(criteria):
    """Set the ``reduction`` of each criterion to ``'none'`` for the duration.

    Parameters
    ----------
    criteria : iterable of criterion objects
      Objects without a string ``reduction`` attribute are left alone; a
      :func:`torch.compile` wrapper's original module is changed.
    """
    changed = []
    for criterion in criteria:
        criterion = getattr(criterion, "_orig_mod", criterion)  # torch.compile
        reduction = getattr(criterion, "reduction", None)
        if isinstance(reduction, str) and reduction != "none":
            changed.append((criterion, reduction))
            criterion.reduction = "none"
    try:
        yield
    finally:
        for criterion, reduction in changed:
            criterion.reduction = reduction


def split_example_losses(losses, n_examples, criterion, y_true):
    """Return ``(totals, normalizers, n_positions)`` from per-position losses.

    Parameters
    ----------
    losses : torch.Tensor
      The criterion's output with ``reduction='none'``: shape ``(n,)``, or
      ``(n, ...)`` with several outputs or positions per example.
    n_examples : int or None
      The batch's number of examples, if known.
    criterion : object
      The criterion (for :func:`loss_normalizers`).
    y_true : torch.Tensor or other
      The targets (for :func:`loss_normalizers`).

    Returns
    -------
    totals : torch.Tensor, shape (n,)
      Each example's summed loss over its positions.
    normalizers : torch.Tensor, shape (n,), or None
      Each example's weight in the criterion's own mean (None: one each).
    n_positions : int

    Raises
    ------
    ValueError
      Unless ``losses`` holds one loss (or one row of losses) per example.

    Examples
    --------
    >>> import torch
    >>> totals, normalizers, k = split_example_losses(
    ...     torch.tensor([[1.0, 3.0], [2.0, 2.0]]), 2, torch.nn.MSELoss(), None)
    >>> totals.tolist(), normalizers.tolist(), k
    ([4.0, 4.0], [2.0, 2.0], 2)
    """
    n_positions = 1
    if torch.is_tensor(losses) and losses.dim() > 1 and losses.shape[0] == n_examples:
        # several outputs or steps per example: summed here, divided by the
        # positions counted (normalizers), so that both the criterion's
        # 'mean' and its 'sum' come out exactly
        n_positions = losses[0].numel()
        losses = losses.flatten(1).sum(1)
    if not torch.is_tensor(losses) or losses.dim() != 1 or (
            n_examples is not None and losses.shape[0] != n_examples):
        shape = tuple(losses.shape) if torch.is_tensor(losses) else type(losses).__name__
        raise ValueError(
            f"MR needs one loss per example (shape ({n_examples},)), but get_loss returned "
            f"{shape} with the criterion's reduction set to 'none'. A criterion "
            "that only returns one number for the batch cannot be reweighted: "
            "use one with a `reduction` attribute (all torch losses have it) or "
            "one that returns a loss per example.")
    return losses, loss_normalizers(criterion, y_true, n_positions, losses), n_positions


def loss_normalizers(criterion, y_true, n_positions=1, totals=None):
    """Each example's weight in the criterion's own mean, or None for all ones.

    For cross-entropy / NLL with class indices, the sum over the example's
    positions of their class weights (``weight``, else 1) and 0 for
    ``ignore_index``; for other criteria the number of positions per
    example; None under ``reduction='batchmean'`` (KL divergence, a mean
    over examples). So the weighted mean with uniform MR weights equals the
    criterion's mean.

    Examples
    --------
    >>> import torch
    >>> ce = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 3.0]), ignore_index=-1)
    >>> loss_normalizers(ce, torch.tensor([0, 1, -1])).tolist()
    [1.0, 3.0, 0.0]
    """
    criterion = getattr(criterion, "_orig_mod", criterion)
    if getattr(criterion, "reduction", None) == "batchmean":
        return None
    if isinstance(criterion, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)) \
            and torch.is_tensor(y_true) and y_true.dim() >= 1 \
            and not y_true.is_floating_point():
        keep = y_true != criterion.ignore_index
        if criterion.weight is None:
            counted = keep.to(torch.float32)
        else:
            counted = criterion.weight[torch.where(keep, y_true, 0)] * keep
        return counted.flatten(1).sum(1) if counted.dim() > 1 else counted
    if n_positions > 1 and totals is not None:
        return torch.full_like(totals, float(n_positions))
    return None  # e.g. class-probability targets: the mean is over examples


def mw_losses(totals, normalizers, detach=True):
    """The loss MR accumulates: per example, the mean over the positions it
    counts (``totals / normalizers``, 0 where it counts none), without the
    criterion's class weight.

    Examples
    --------
    >>> import torch
    >>> mw_losses(torch.tensor([6.0, 1.0]), torch.tensor([3.0, 0.0])).tolist()
    [2.0, 0.0]
    """
    if detach:
        totals = totals.detach()
    if normalizers is None:
        return totals
    normalizers = normalizers.to(totals.dtype)
    return torch.where(normalizers > 0, totals / normalizers.clamp_min(
        torch.finfo(totals.dtype).tiny), torch.zeros_like(totals))


def weighted_reduction(criterion):
    """How a batch's weighted losses are reduced: ``'sum'`` or ``'mean'``.

    ``'sum'`` only for a criterion with ``reduction='sum'``; ``'mean'``
    otherwise (``'batchmean'`` included).
    """
    reduction = getattr(criterion, "reduction", "mean")
    return "sum" if reduction == "sum" else "mean"


def _same(total):
    return total


def reduce_weighted(losses, weights, normalizers, reduction, global_total=_same):
    """Reduce per-example losses with MR weights (None: uniform).

    ``'mean'``: ``sum(p_i l_i) / sum(p_i n_i)`` (``n_i`` the normalizers,
    1 when None); ``'sum'``: the batch size times ``sum(p_i l_i) /
    sum(p_i)``. With uniform weights these are the criterion's own.

    Parameters
    ----------
    losses : torch.Tensor, shape (n,)
    weights : torch.Tensor, shape (n,), or None
    normalizers : torch.Tensor, shape (n,), or None
    reduction : {'mean', 'sum'}
    global_total : callable (default: identity)
      Maps the batch's weight total to the one that normalizes it (across
      processes, see :mod:`sk_mr.distributed`).

    Returns
    -------
    loss : torch.Tensor (scalar)

    Examples
    --------
    >>> import torch
    >>> losses, p = torch.tensor([1.0, 3.0]), torch.tensor([3.0, 1.0])
    >>> float(reduce_weighted(losses, p, None, "mean"))  # (3 * 1 + 1 * 3) / 4
    1.5
    >>> float(reduce_weighted(losses, p, None, "sum"))
    3.0
    """
    if weights is None:
        if reduction == "sum":
            return losses.sum()
        if normalizers is None:
            return losses.mean()
        return losses.sum() / normalizers.sum()
    weights = weights.to(losses.dtype)
    weighted = (weights * losses).sum()
    # clamp, not a branch: a batch whose weights all underflowed gives a zero
    # gradient instead of 0/0, and the device is never synced.
    tiny = torch.finfo(weights.dtype).tiny
    if reduction == "sum":
        return losses.shape[0] * weighted / global_total(weights.sum()).clamp_min(tiny)
    if normalizers is None:
        return weighted / global_total(weights.sum()).clamp_min(tiny)
    return weighted / global_total(
        (weights * normalizers.to(weights.dtype)).sum()).clamp_min(tiny)


def weighted_loss(example_terms, y_true, weights, reduction, global_total=_same,
                  extra_losses=None):
    """The MR-weighted loss of a batch, over the label terms of its targets.

    Each label term (see :meth:`MixupTarget.terms`) adds ``coef`` times its
    weighted reduction, every label weighted by the MR weight of the example
    it came from (``weights[permutation]`` for a partner's label); since a
    permutation keeps the batch's total weight, the mixup loss is
    ``sum_k [lam p_k l(k, y_k) + (1 - lam) p_pi(k) l(k, y_pi(k))] / sum_k p_k``.

    Parameters
    ----------
    example_terms : callable
      ``example_terms(labels) -> (totals, normalizers)`` for one label term.
    y_true : torch.Tensor, array-like or MixupTarget
    weights : torch.Tensor, shape (n,), or None
    reduction : {'mean', 'sum'}
    global_total : callable (default: identity)
      See :func:`reduce_weighted`.
    extra_losses : torch.Tensor of shape (n,) or None (default=None)
      Further per-example terms (e.g. TRADES' KL), each with its example's
      own weight.

    Returns
    -------
    loss : torch.Tensor (scalar)
    own : tuple
      ``(totals, normalizers)`` of the examples' own labels, the losses the
      online pass records (see :func:`mw_losses`).

    Examples
    --------
    >>> import torch
    >>> losses = {0: torch.tensor([1.0, 2.0]), 1: torch.tensor([3.0, 4.0])}
    >>> target = MixupTarget(0, 1, 0.5, torch.tensor([1, 0]))
    >>> loss, _ = weighted_loss(lambda labels: (losses[labels], None), target,
    ...                         torch.tensor([1.0, 3.0]), "mean")
    >>> float(loss)  # 0.5 (1*1 + 3*2) / 4 + 0.5 (3*3 + 1*4) / 4
    2.5
    """
    total = 0.0
    own = None
    for coef, labels, permutation in target_terms(y_true):
        totals, normalizers = example_terms(labels)
        if permutation is None:  # the examples' own labels
            own = (totals, normalizers)
        w = weights if weights is None or permutation is None else weights[permutation]
        total = total + coef * reduce_weighted(totals, w, normalizers, reduction,
                                               global_total)
    if extra_losses is not None:
        total = total + reduce_weighted(extra_losses, weights, None, reduction, global_total)
    return total, own
