"""Per-example criteria for MR and plain skorch nets.

Every criterion here is a torch module that honours a ``reduction``
attribute (``'none'``, ``'mean'`` or ``'sum'``) at call time, like torch's own
losses, so MRClassifier can ask it for one loss per example.
"""

import torch

__all__ = ["AutoCrossEntropyLoss", "log_if_probabilities", "outputs_are_probabilities"]


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
