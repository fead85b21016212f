"""The per-batch training path of an MR net: mixup x adversarial x MR compose here.

:class:`TrainingStepMixin` is the part of :class:`sk_mr.mixin.MRMixin` that
trains one batch: ``train_step`` (or the adversarial strategy's steps)
prepares the batch (device, the reweighting callback's target correction,
mixup), runs ``infer`` and backpropagates :meth:`~TrainingStepMixin.training_loss`,
the MR-weighted objective of :mod:`sk_mr.objective` over the per-example losses
of the net's own ``get_loss``. The batch's MR weights are gathered on the
device by position; nothing in this path copies to the host or syncs.
"""

import torch
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from sk_mr import objective
from sk_mr.objective import MixupTarget

__all__ = ["TrainingStepMixin"]


class TrainingStepMixin:
    """The training step of :class:`sk_mr.mixin.MRMixin` (see the module's docstring)."""

    def infer(self, x, **fit_params):
        """Forward a batch, under bfloat16 autocast when ``amp=True``.

        bfloat16 outputs (under ``amp``, or of a bfloat16 module) are
        returned in float32: losses are computed in float32, and
        ``predict_proba`` returns numpy arrays (numpy has no bfloat16).
        """
        if not self.amp:
            return _float32_if_bfloat16(super().infer(x, **fit_params))
        device_type = torch.device(self._mr_device()).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            y_pred = super().infer(x, **fit_params)
        return y_pred.float() if torch.is_tensor(y_pred) else y_pred

    def evaluate_batch(self, X, **fit_params):
        """Return the module's output for a batch in eval mode, without gradients.

        What label correction predicts with (``relabel='auto'``, Arazo et
        al.'s bootstrapping): :meth:`infer` on the un-mixed batch with every
        module in eval mode (no dropout, batch norm's running statistics),
        under :func:`torch.no_grad`, with the fit call's forward parameters
        (updated by ``fit_params``); every module's mode is restored after.

        Parameters
        ----------
        X : torch.Tensor
          The batch, on the net's device.
        **fit_params : dict
          Passed to the module's forward.

        Returns
        -------
        y_pred : torch.Tensor
        """
        # the fit call's forward parameters, as training and the loss pass use them
        fit_params = {**(getattr(self, "_mr_forward_params", None) or {}), **fit_params}
        with self._modes_kept(), torch.no_grad():
            self._set_training(False)
            return self.infer(X, **fit_params)

    def get_example_losses(self, y_pred, y_true, X=None, training=False):
        """Return the per-example losses of a batch, shape ``(batch,)``.

        Calls :meth:`get_loss` (the net's own, including any subclass's) with
        the ``reduction`` of every criterion set to ``'none'``, so that
        training, the loss pass and custom losses go through one path.

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output.
        y_true : torch.Tensor or array-like
          Targets.
        X : input data (default=None)
          The batch's input, for losses that need it.
        training : bool (default=False)
          Whether this is a training batch.

        Returns
        -------
        losses : torch.Tensor, shape (batch,)
          With one loss per example, the criterion's. With several outputs
          or positions per example (multi-output regression, multilabel,
          sequences), their mean over the positions the criterion counts
          (``ignore_index`` padding excluded, class-weighted under
          cross-entropy's ``weight``); see ``criterion``.

        Raises
        ------
        ValueError
          If ``get_loss`` does not return one loss per example (e.g. a
          criterion that only returns the batch's mean): such a loss cannot
          be reweighted.
        """
        totals, normalizers, n_positions = self._example_loss_terms(
            y_pred, y_true, X=X, training=training)
        if n_positions == 1:
            return totals
        return objective.mw_losses(totals, normalizers, detach=False)

    def mw_example_losses(self, y_pred, y_true, X=None, training=False):
        """Return the per-example losses MR accumulates for a batch, shape ``(batch,)``.

        :meth:`get_example_losses` without the criterion's class weight
        (:func:`sk_mr.objective.mw_losses`), detached: what the online loss
        pass records for each example and the full pass computes. Label
        correction records these for the given labels. Parameters and
        return as in :meth:`get_example_losses`.
        """
        return objective.mw_losses(*self._example_loss_terms(
            y_pred, y_true, X=X, training=training)[:2])

    def _example_loss_terms(self, y_pred, y_true, X=None, training=False):
        """``(totals, normalizers, n_positions)`` of a batch (see
        :func:`sk_mr.objective.split_example_losses`)."""
        criteria = [getattr(self, name + "_", None) for name in self._criteria]
        try:
            with objective.per_example_reduction(criteria):
                losses = self.get_loss(y_pred, y_true, X=X, training=training)
        except IndexError as exc:
            raise ValueError(
                f"The criterion rejected the targets ({exc}). For "
                "cross-entropy, y must hold labels the net maps to the module's "
                "outputs (see the classes parameter).") from exc
        return objective.split_example_losses(
            losses, _batch_length(y_pred, y_true), getattr(self, "criterion_", None), y_true)

    def get_weighted_loss(self, y_pred, y_true, X=None, extra_losses=None):
        """Return the MR-weighted loss of a training batch (no side effects).

        With ``criterion__reduction='mean'`` (the default),
        ``sum_i p_i l_i / sum_i p_i n_i`` over the batch, where ``p_i`` are
        the MR weights of the batch's examples and ``n_i`` their weights in
        the criterion's own mean (see ``criterion``); with ``'sum'``, the
        batch size times ``sum_i p_i l_i / sum_i p_i``. ``y_true`` may be a
        :class:`MixupTarget`, whose two label terms are weighted by the MR
        weights of the examples they come from (see ``mixup_alpha``); the
        reweighting callback's batch regularizer, if any, is added. The
        weights are gathered on the module's device from the positions of the
        batch; nothing is copied to the host. A training step trains on
        :meth:`training_loss`, which also records the losses.

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output for the batch.
        y_true : torch.Tensor, array-like or MixupTarget
          Targets.
        X : input data (default=None)
          The batch's input.
        extra_losses : torch.Tensor of shape (batch,) or None (default=None)
          Additional per-example loss terms (e.g. TRADES' KL), weighted
          with each example's own MR weight like the criterion's losses.

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        return self._weighted_loss(y_pred, y_true, X, extra_losses, self._batch_reweighting())[0]

    def training_loss(self, y_pred, y_true, X=None, extra_losses=None):
        """Return the weighted loss a training step trains on, recording its losses.

        :meth:`get_weighted_loss`, after the task has checked the batch's
        output, and with the batch's per-example losses (of each example's
        own label) handed to the reweighting callback, which keeps them for
        ``loss_pass='online'``. Every training step, adversarial ones
        included, computes its loss here. Parameters and return as in
        :meth:`get_weighted_loss`.
        """
        self._check_outputs(y_pred)
        reweighting = self._batch_reweighting()
        loss, own = self._weighted_loss(y_pred, y_true, X, extra_losses, reweighting)
        if reweighting is not None:
            reweighting.record_batch_losses(self, self.batch_positions_,
                                            objective.mw_losses(*own),
                                            padding=getattr(self, "batch_padding_", None))
        return loss

    def _batch_reweighting(self):
        """The reweighting callback, when the batch's positions are known (else None)."""
        if getattr(self, "batch_positions_", None) is None:
            return None
        return self._reweighting()

    def _weighted_loss(self, y_pred, y_true, X, extra_losses, reweighting):
        weights = None if reweighting is None else reweighting.batch_weights(
            self.batch_positions_)
        padding = getattr(self, "batch_padding_", None)
        if weights is not None and padding is not None:
            # examples a data-parallel loader repeated to even out its shards
            weights = weights.masked_fill(padding, 0.0)

        def example_terms(labels):
            labels = to_tensor(labels, device=self._mr_device())
            return self._example_loss_terms(y_pred, labels, X=X, training=True)[:2]

        loss, own = objective.weighted_loss(
            example_terms, y_true, weights,
            objective.weighted_reduction(getattr(self, "criterion_", None)),
            self._global_weight_total, extra_losses)
        regularizer = None if reweighting is None else reweighting.batch_regularizer(self, y_pred)
        return (loss if regularizer is None else loss + regularizer), own

    # -- the training step: mixup x adversarial x MR compose here --------------
    def prepare_batch(self, Xi, yi):
        """Return ``(inputs, targets)`` to train on for a batch.

        Moves the batch to the device, lets the reweighting callback correct
        the targets (the labels as they are, except while MR's
        ``relabel='auto'`` corrects them) and applies mixup. Every training
        step, adversarial ones included, goes through here.
        """
        Xi = to_tensor(Xi, device=self._mr_device())
        yi = to_tensor(yi, device=self._mr_device())
        reweighting = self._reweighting()
        if reweighting is not None:
            yi = reweighting.correct_targets(self, Xi, yi)
        return self.mixup_batch(Xi, yi)

    def mixup_batch(self, Xi, yi):
        """Return ``(X_mixed, MixupTarget)``, or ``(Xi, yi)`` when mixup is off.

        ``Xi`` is moved to the net's device first; lam is a host scalar drawn
        from ``rng_``, the pairing permutation is drawn on the device from
        ``torch_rng_``.
        """
        reweighting = self._reweighting()
        alpha = self.mixup_alpha if reweighting is None else \
            reweighting.batch_mixup_alpha(self)
        if not alpha:
            return Xi, yi
        Xi = to_tensor(Xi, device=self._mr_device())
        yi = to_tensor(yi, device=self._mr_device())
        lam = float(self.rng_.beta(alpha, alpha))
        permutation = torch.randperm(Xi.shape[0], device=Xi.device,
                                     generator=self._mixup_generator())
        X_mixed = lam * Xi + (1.0 - lam) * Xi[permutation]
        return X_mixed, MixupTarget(yi, yi[permutation], lam, permutation)

    def train_step_single(self, batch, **fit_params):
        """Forward, weighted loss (:meth:`training_loss`) and backward for one batch."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, target = self.prepare_batch(Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.training_loss(y_pred, target, X=Xi)
        self._backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimization step, or the adversarial strategy's steps."""
        if self.adversarial is None:
            return super().train_step(batch, **fit_params)
        return self.adversarial.train_step(self, batch, **fit_params)

    def _backward(self, loss):
        """Backpropagate the training loss (every training step comes here)."""
        loss.backward()

    def _global_weight_total(self, total):
        """The weight total that normalizes this process's batch loss."""
        return total


def _batch_length(y_pred, y_true):
    output = y_pred[0] if isinstance(y_pred, (tuple, list)) and y_pred else y_pred
    if torch.is_tensor(output) and output.dim() >= 1:
        return output.shape[0]
    try:
        return len(y_true)
    except TypeError:
        return None


def _float32_if_bfloat16(output):
    if torch.is_tensor(output) and output.dtype == torch.bfloat16:
        return output.float()
    if isinstance(output, tuple) and any(torch.is_tensor(o) and o.dtype == torch.bfloat16
                                         for o in output):
        return tuple(_float32_if_bfloat16(o) for o in output)
    return output
