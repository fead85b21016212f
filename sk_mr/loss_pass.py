"""The loss pass: each training example's loss for the MW update.

:meth:`sk_mr.mixin.MRMixin.example_losses` is the one entry point; the
functions here are its parts. With ``loss_pass='full'`` (Algorithm 1),
:func:`full_pass` scores every example of the training split at the current
parameters; with ``loss_pass='online'`` the losses recorded during the
epoch's training steps are completed by :func:`fill_unseen`. Either way the
result is gathered across processes by the net (one process: as is) and
checked by :func:`check_finite` before any weight changes.
"""

import contextlib

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch.utils.data import DataLoader

from sk_mr.batching import plain_view, record_batch_positions
from sk_mr.objective import mw_losses

__all__ = ["LossPassMixin", "check_all_seen", "check_finite", "fill_unseen", "full_pass",
           "prediction_pass", "probability_pass"]


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
    def score(y_pred, yi, Xi):
        return mw_losses(*example_terms(y_pred, yi, X=Xi, training=False)[:2])[:, None]

    values, seen = _scored_pass(net, dataset, score, 1, set_eval, device, batch_size,
                                fit_params)
    return values[:, 0], seen


def prediction_pass(net, dataset, set_eval, device, batch_size=None, **fit_params):
    """Each example's predicted class, its probability and its label's, in eval mode.

    The pass of :func:`full_pass` (the same iterator, inputs and modes), for
    :meth:`LossPassMixin.confident_misfit_fraction`. Probabilities are the
    net's ``predict_proba`` transform of the module's output.

    Returns
    -------
    columns : torch.Tensor of float64, shape (len(dataset), 4), or None
      Per example: the label's probability, the most probable class, its
      probability and the label; on ``device``, 0 where not ``seen``. None
      when the module's outputs are not one row of at least two class
      probabilities per example, or the targets not class indices.
    seen : torch.Tensor of bool, shape (len(dataset),), or None
    """
    to_probabilities = net._get_predict_nonlinearity()

    def score(y_pred, yi, Xi):
        probabilities = _class_probabilities(to_probabilities, y_pred, yi)
        if probabilities is None:
            return None
        top, predicted = probabilities.max(dim=1)
        labels = yi.long()
        label_probabilities = probabilities.gather(1, labels[:, None])[:, 0]
        return torch.stack([label_probabilities, predicted.to(torch.float64), top,
                            labels.to(torch.float64)], dim=1)

    return _scored_pass(net, dataset, score, 4, set_eval, device, batch_size, fit_params)


def probability_pass(net, dataset, set_eval, device, batch_size=None, **fit_params):
    """Each example's class probabilities and its label, in eval mode.

    The pass of :func:`full_pass` (the same iterator, inputs and modes), for
    :meth:`LossPassMixin.class_frequencies`. Probabilities are the net's
    ``predict_proba`` transform of the module's output.

    Returns
    -------
    columns : torch.Tensor of float64, shape (len(dataset), n_classes + 1), or None
      Per example: the probability of each class, then the label; on
      ``device``, 0 where not ``seen``. None as in :func:`prediction_pass`.
    seen : torch.Tensor of bool, shape (len(dataset),), or None
    """
    to_probabilities = net._get_predict_nonlinearity()

    def score(y_pred, yi, Xi):
        probabilities = _class_probabilities(to_probabilities, y_pred, yi)
        if probabilities is None:
            return None
        return torch.cat([probabilities, yi.to(torch.float64)[:, None]], dim=1)

    return _scored_pass(net, dataset, score, None, set_eval, device, batch_size, fit_params)


def _class_probabilities(to_probabilities, y_pred, yi):
    """The batch's class probabilities in float64, or None where the
    module's outputs are not one row of at least two class probabilities
    per example, or the targets not class indices."""
    probabilities = to_probabilities(y_pred)
    if not (torch.is_tensor(probabilities) and probabilities.dim() == 2
            and probabilities.shape[1] >= 2 and yi.dim() == 1
            and not yi.is_floating_point() and len(yi) == len(probabilities)):
        return None
    return probabilities.to(torch.float64)


def _scored_pass(net, dataset, score, n_columns, set_eval, device, batch_size, fit_params):
    """The loop of :func:`full_pass`: ``score(y_pred, y, X)`` of every batch,
    shape ``(batch, n_columns)`` (None: the first batch's), placed by
    position; ``(None, None)`` as soon as ``score`` returns None."""
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
    values = None if n_columns is None else torch.zeros(
        len(dataset), n_columns, dtype=torch.float64, device=device)
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
            batch_values = score(y_pred, yi, Xi)
            if batch_values is None:
                return None, None
            if values is None:
                values = torch.zeros(len(dataset), batch_values.shape[1], dtype=torch.float64,
                                     device=device)
            values.index_copy_(0, positions, batch_values.to(torch.float64))
            seen[positions] = True
    return values, seen


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


class LossPassMixin:
    """The loss pass of :class:`sk_mr.mixin.MRMixin`: :meth:`example_losses`."""

    def example_losses(self, dataset, *, recorded=None, **fit_params):
        """Return each training example's loss for the MW update (the loss pass).

        Without ``recorded``, Algorithm 1's full pass
        (``sk_mr.loss_pass.full_pass``): every example of ``dataset`` at
        the current parameters, in eval mode, un-augmented, with the
        validation iterator (``loss_pass_batch_size`` if set), the fit
        call's forward parameters updated by ``fit_params``, and
        :meth:`get_example_losses`' path. With ``recorded=(losses, seen)``,
        the online pass: the losses the training steps recorded, the
        examples not seen yet given the mean of the others. Either way the
        losses of all processes are combined (data-parallel training), the
        net's modules are left in the mode they were in, and a non-finite
        loss is refused before anything is updated from it.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.
        recorded : tuple of torch.Tensor or None (default=None)
          The online pass's ``(losses, seen)``, one entry per example.
        **fit_params : dict
          Passed to the module's forward, as in training.

        Returns
        -------
        losses : torch.Tensor of float64, shape (len(dataset),)
          On the module's device; the loss MR accumulates (divided by the
          class weight under ``criterion__weight``).

        Raises
        ------
        ValueError
          If the full pass did not yield every example of ``dataset``, or a
          loss is not finite (the model diverged).
        """
        if recorded is not None:
            losses, seen = recorded
            losses = torch.where(seen, losses, torch.zeros_like(losses)).to(torch.float64)
            losses = fill_unseen(*self._gather_example_losses(losses, seen))
        else:
            losses, seen = self._eval_pass(full_pass, dataset, fit_params,
                                           self._example_loss_terms)
            losses, seen = self._gather_example_losses(losses, seen)
            check_all_seen(seen)
        return check_finite(losses, epoch=len(self.history))

    def confident_misfit_fraction(self, dataset, **fit_params):
        """Fraction of ``dataset``'s examples the net confidently puts in another class.

        :func:`sk_mr.mw.confident_misfit_fraction` of the predictions of a
        pass over ``dataset`` as :meth:`example_losses`' full pass makes it
        (eval mode, un-augmented, the modules' modes restored, all
        processes combined). ``eta='auto'`` reads it (see
        :class:`sk_mr.mw.AutoEta`) to count pairflip labels.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.
        **fit_params : dict
          Passed to the module's forward, as in training.

        Returns
        -------
        fraction : float or None
          None when the module's outputs are not one row of class
          probabilities per example or the targets are not class indices.
        """
        from sk_mr.mw import confident_misfit_fraction

        columns = self._prediction_columns(dataset, fit_params, range(4))
        if columns is None:
            return None
        label_p, predicted, top, labels = columns
        # the thresholds' length only: classes no example has or predicts never count
        n_classes = int(torch.maximum(predicted.max(), labels.max()).item()) + 1
        return confident_misfit_fraction(label_p, predicted.round().long(), top,
                                         labels.round().long(), n_classes)

    def label_agreement_fraction(self, dataset, **fit_params):
        """Fraction of ``dataset``'s examples whose most probable class is their label.

        From the pass :meth:`confident_misfit_fraction` makes (eval mode,
        un-augmented, the modules' modes restored, all processes combined).
        ``relabel='auto'`` reads it once per training run, to decide whether
        the network's predictions are good enough to correct labels with.
        Parameters and return (None without class probabilities) as in
        :meth:`confident_misfit_fraction`.
        """
        columns = self._prediction_columns(dataset, fit_params, (1, 3))
        if columns is None:
            return None
        predicted, labels = columns
        return float((predicted.round() == labels.round()).to(torch.float64).mean())

    def class_frequencies(self, dataset, **fit_params):
        """The class frequencies of ``dataset``'s labels and of the net's predictions.

        From one pass as :meth:`confident_misfit_fraction` makes it (eval
        mode, un-augmented, the modules' modes restored, all processes
        combined). With ``MultiplicativeReweighting.relabel_alignment`` on
        (the default), ``relabel='auto'`` reads it where its gate opens,
        to align the classes it corrects labels towards with the given
        labels' (see the user guide's "Correction aligned with the labels'
        class frequencies"); on any data set it shows a class the network
        rarely predicts.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.
        **fit_params : dict
          Passed to the module's forward, as in training.

        Returns
        -------
        frequencies : tuple of two torch.Tensor of float64, shape (n_classes,), or None
          The fraction of the examples labelled with each class, and the
          mean predicted probability of each class; on the net's device.
          None as in :meth:`confident_misfit_fraction`.
        """
        columns = self._prediction_columns(dataset, fit_params, None, probability_pass)
        if columns is None:
            return None
        *probabilities, labels = columns
        given = torch.bincount(labels.round().long(), minlength=len(probabilities))
        return (given.to(torch.float64) / len(labels),
                torch.stack(probabilities, dim=1).mean(dim=0))

    def _prediction_columns(self, dataset, fit_params, indices, run_pass=prediction_pass):
        """The columns ``indices`` (None: all) of ``run_pass``
        (:func:`prediction_pass`, :func:`probability_pass`) over ``dataset``,
        all processes combined and every example checked seen; None without
        class probabilities."""
        columns, seen = self._eval_pass(run_pass, dataset, fit_params)
        if columns is None:
            return None
        if indices is None:
            indices = range(columns.shape[1])
        gathered = [self._gather_example_losses(columns[:, j], seen) for j in indices]
        check_all_seen(gathered[0][1])
        return [values for values, _ in gathered]

    def _eval_pass(self, run_pass, dataset, fit_params, *args):
        """``run_pass`` (:func:`full_pass`, :func:`prediction_pass`) over
        ``dataset`` in eval mode, with ``args`` after the dataset, the fit
        call's forward parameters updated by ``fit_params``,
        ``loss_pass_batch_size``, and every module's mode restored after."""
        fit_params = {**(getattr(self, "_mr_forward_params", None) or {}), **fit_params}
        with self._modes_kept():
            return run_pass(self, dataset, *args, lambda: self._set_training(False),
                            self._mr_device(), batch_size=self.loss_pass_batch_size,
                            **fit_params)

    @contextlib.contextmanager
    def _modes_kept(self):
        """Restore the training mode of every module and criterion on exit."""
        modules = [getattr(self, name + "_", None) for name in self._modules + self._criteria]
        modes = [(m, m.training) for module in modules if isinstance(module, torch.nn.Module)
                 for m in module.modules()]
        try:
            yield
        finally:
            for m, mode in modes:
                m.training = mode

    def _gather_example_losses(self, losses, seen):
        """Combine the per-example losses (float64, 0 where not ``seen``) of all
        processes; return ``(losses, seen)`` for all together (one process: as is)."""
        return losses, seen
