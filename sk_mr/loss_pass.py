"""The loss pass: each training example's loss for the MW update.

:meth:`sk_mr.mixin.MRMixin.example_losses` is the one entry point; the
functions here are its parts. With ``loss_pass='full'`` (Algorithm 1),
:func:`full_pass` scores every example of the training split at the current
parameters; with ``loss_pass='online'`` the losses recorded during the
epoch's training steps are completed by :func:`fill_unseen`. Either way the
result is gathered across processes by the net (one process: as is) and
checked by :func:`check_finite` before any weight changes.
"""

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from sk_mr.batching import plain_view, record_batch_positions
from sk_mr.objective import mw_losses

__all__ = ["check_all_seen", "check_finite", "fill_unseen", "full_pass"]


def full_pass(net, dataset, example_terms, set_eval, device, batch_size=None, **fit_params):
    """Score every example of ``dataset`` in eval mode; return ``(losses, seen)``.

    Runs under :func:`torch.inference_mode` over the un-augmented view of
    ``dataset`` (:func:`sk_mr.batching.plain_view`) with the net's
    validation iterator (``batch_size`` overriding its batch size), the
    net's ``infer`` with ``fit_params`` and ``example_terms`` (the net's
    per-example loss terms, as training computes them). Each batch's losses
    are placed by the positions its batch sampler produced, so a shuffling
    or sharded loader gives the same result. The loader draws its seed from
    a private generator, so the pass leaves the global RNG alone. An
    adversarial strategy with ``loss_pass_inputs`` may replace each batch's
    inputs; ``set_eval()`` puts the net back in eval mode after it.

    Returns
    -------
    losses : torch.Tensor of float64, shape (len(dataset),)
      On ``device`` (the net's); 0 where not ``seen``.
    seen : torch.Tensor of bool, shape (len(dataset),)
    """
    dataset = plain_view(dataset)
    overrides = {}
    if batch_size is not None:
        overrides["batch_size"] = batch_size
    if isinstance(net.iterator_valid, type) and issubclass(net.iterator_valid, DataLoader):
        # Creating a loader's iterator draws a seed, which must not come
        # from (and advance) the global torch RNG.
        overrides["generator"] = torch.Generator()
    iterator = net.get_iterator(dataset, training=False, **overrides)
    recorder = record_batch_positions(iterator)
    # An adversarial strategy may evaluate the MW losses on perturbed
    # inputs; crafting them needs gradients, so it runs outside
    # inference mode.
    perturb = getattr(net.adversarial, "loss_pass_inputs", None)
    losses = torch.zeros(len(dataset), dtype=torch.float64, device=device)
    seen = torch.zeros(len(dataset), dtype=torch.bool, device=device)
    set_eval()
    for batch in iterator:
        positions = recorder.pop().to(device, non_blocking=True)
        Xi, yi = unpack_data(batch)
        if perturb is not None:
            Xi = perturb(net, Xi, yi)
            set_eval()
        yi = to_tensor(yi, device=device)
        with torch.inference_mode():
            y_pred = net.infer(Xi, **fit_params)
            batch_losses = mw_losses(*example_terms(y_pred, yi, X=Xi, training=False)[:2])
            losses.index_copy_(0, positions, batch_losses.to(torch.float64))
            seen[positions] = True
    return losses, seen


def check_all_seen(seen):
    """Refuse a full pass that skipped examples (one host sync)."""
    if not bool(seen.all()):
        raise ValueError(
            f"The loss pass skipped {int((~seen).sum())} of {len(seen)} examples: "
            "MR needs the loss of every training example, but iterator_valid did "
            "not yield them all (drop_last=True, or a sampler that skips "
            "examples?).")


def fill_unseen(losses, seen):
    """Give the examples no training batch has visited yet the mean loss of the others.

    (e.g. with ``drop_last=True``): neither a free pass nor a penalty.

    Examples
    --------
    >>> import torch
    >>> fill_unseen(torch.tensor([1.0, 0.0, 3.0]), torch.tensor([True, False, True])).tolist()
    [1.0, 2.0, 3.0]
    """
    if not bool(seen.all()):
        losses = torch.where(seen, losses, losses[seen].mean())
    return losses


def check_finite(losses, epoch):
    """Return ``losses``; raise a ValueError if one is not finite (the model diverged).

    Parameters
    ----------
    losses : torch.Tensor
    epoch : int
      The epoch, for the message.
    """
    if not bool(torch.isfinite(losses).all()):
        n_bad = int((~torch.isfinite(losses)).sum())
        raise ValueError(
            f"Non-finite per-example loss for {n_bad} training example(s) at "
            f"epoch {epoch}: the model diverged (try a smaller learning rate "
            "or gradient clipping). Nothing was updated from these losses: the "
            "MR weights (and a reweighting callback's noise model) were left "
            "unchanged.")
    return losses
