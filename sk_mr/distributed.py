"""MR on several GPUs or machines, with Hugging Face Accelerate.

:class:`MRAccelerateMixin` is skorch's :class:`skorch.hf.AccelerateMixin`
made aware of MR; :class:`AcceleratedMRClassifier` is it on
:class:`sk_mr.MRClassifier`. Under ``accelerate launch`` (or ``torchrun``)
with N processes, data-parallel training runs as Accelerate runs it
(DistributedDataParallel, sharded loaders, mixed precision), and MR's
bookkeeping is made global:

* the full loss pass: each process scores its shard of the training split
  (the validation loader is sharded like any other); the per-example losses
  are summed across processes together with how often each example was
  scored, so the examples Accelerate repeats to even out the shards count
  once, and every process ends each MW update with identical weights;
* ``loss_pass='online'``: the training losses each process recorded are
  gathered the same way;
* the batch loss: each process normalizes its weighted loss by the *global*
  batch's total weight divided by the number of processes, so that the
  gradient DDP averages is exactly that of
  ``sum(p_i l_i) / sum(p_i)`` over the global batch; the examples Accelerate
  repeats to complete the last batches of an epoch get weight 0, so an
  epoch trains on every example once, as on one process;
* checkpoints: the MR state is identical on all processes; skorch's
  AccelerateMixin saves on the main process and loads on all.

Accelerate wraps every module it prepares in DistributedDataParallel, which
raises for a module without trainable parameters, as most criteria are:
those are moved to the device but not prepared.
"""

import torch
from skorch.callbacks import LRScheduler
from skorch.hf import AccelerateMixin

from sk_mr.classifier import MRClassifier
from sk_mr.mixin import MRMixin

__all__ = ["AcceleratedMRClassifier", "MRAccelerateMixin"]


class MRAccelerateMixin(AccelerateMixin):
    """skorch's AccelerateMixin for MR nets: global MW bookkeeping.

    List it first, before an MR estimator (as skorch's
    :class:`~skorch.hf.AccelerateMixin` is listed before a net):
    ``class AcceleratedMRRegressor(MRAccelerateMixin, MRRegressor)``. It takes
    AccelerateMixin's parameters (``accelerator``, ``unwrap_after_train``,
    ...), and ``device`` must be None (Accelerate places the tensors).

    Parameters
    ----------
    accelerator : accelerate.Accelerator
      As in :class:`skorch.hf.AccelerateMixin`. Mixed precision is
      Accelerate's (``Accelerator(mixed_precision='bf16')``); MR's losses
      and weights stay float32/float64.
    """

    def initialize(self):
        """Initialize as AccelerateMixin does, seeded and with MR's generators.

        skorch's AccelerateMixin spells out the initialization instead of
        calling ``super().initialize()``, so MR's additions are made here.
        """
        self._initialize_mr_generators()
        with self._seeded_torch():
            super().initialize()
        self._initialize_strategy()
        return self

    def _mr_device(self):
        return self.accelerator.device

    def _initialize_accelerator(self):
        """Prepare everything for Accelerate, as skorch does, but criteria without
        trainable parameters are only moved to the device.

        DDP refuses modules without trainable parameters, which most criteria
        (CrossEntropyLoss, ...) are.
        """
        # Copied from skorch 1.4.0 (AccelerateMixin._initialize_accelerator),
        # with the parameterless criteria moved instead of prepared.
        if self._wrapped_with_accelerator:
            return self
        with self._current_init_context("criterion"):
            for name in self._criteria:
                criterion = getattr(self, name + "_")
                if not isinstance(criterion, torch.nn.Module):
                    continue
                if any(p.requires_grad for p in criterion.parameters()):
                    setattr(self, name + "_", self.accelerator.prepare(criterion))
                else:
                    setattr(self, name + "_", criterion.to(self.accelerator.device))
        with self._current_init_context("module"):
            for name in self._modules:
                module = getattr(self, name + "_")
                if isinstance(module, torch.nn.Module):
                    setattr(self, name + "_", self.accelerator.prepare(module))
        with self._current_init_context("optimizer"):
            for name in self._optimizers:
                optimizer = getattr(self, name + "_")
                if isinstance(optimizer, torch.optim.Optimizer):
                    setattr(self, name + "_", self.accelerator.prepare(optimizer))
        for _, callback in self.callbacks_:
            if isinstance(callback, LRScheduler):
                callback.policy_ = self.accelerator.prepare(callback.policy_)
        self._wrapped_with_accelerator = True
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Take the batch's positions; mark the examples Accelerate repeated.

        To give every process the same number of full batches, Accelerate
        completes the last batches of an epoch with examples from its start.
        They get weight 0 in the batch loss, so the epoch trains on each
        example once, as on one process.
        """
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        self.batch_padding_ = None
        positions = getattr(self, "batch_positions_", None)
        state = self.accelerator.gradient_state
        if not training or positions is None or self.accelerator.num_processes == 1 \
                or not state.end_of_dataloader or state.remainder <= 0:
            return
        size = len(positions)
        real = min(size, max(0, state.remainder - self.accelerator.process_index * size))
        if real < size:
            padding = torch.zeros(size, dtype=torch.bool)
            padding[real:] = True
            self.batch_padding_ = padding.to(positions.device, non_blocking=True)

    def train_step_single(self, batch, **fit_params):
        # MR's step (mixup, weighted loss), under Accelerate's autocast and
        # with its backward (gradient scaling, accumulation)
        with self.accelerator.autocast():
            return MRMixin.train_step_single(self, batch, **fit_params)

    def _backward(self, loss):
        self.accelerator.backward(loss)

    def _gather_example_losses(self, losses, seen):
        if self.accelerator.num_processes == 1:
            return losses, seen
        counts = seen.to(losses.dtype)
        totals = self.accelerator.reduce(losses * counts, reduction="sum")
        counts = self.accelerator.reduce(counts, reduction="sum")
        seen = counts > 0
        # an example scored by several processes (the padding of uneven
        # shards) counts once, with the mean of its losses
        return torch.where(seen, totals / counts.clamp_min(1), torch.zeros_like(totals)), seen

    def _global_weight_total(self, total):
        n = self.accelerator.num_processes
        if n == 1:
            return total
        # DDP averages the processes' gradients: dividing each process's
        # weighted sum by (global total / n) makes that average the gradient
        # of the global batch's weighted mean
        return self.accelerator.reduce(total.detach().clone(), reduction="sum") / n


class AcceleratedMRClassifier(MRAccelerateMixin, MRClassifier):
    """:class:`sk_mr.MRClassifier` trained with Accelerate (several GPUs or machines).

    Parameters are :class:`~sk_mr.MRClassifier`'s plus ``accelerator`` (an
    ``accelerate.Accelerator``) and ``unwrap_after_train``, as in
    :class:`skorch.hf.AccelerateMixin`; ``device`` must be None. See
    :mod:`sk_mr.distributed` for what MR does across processes, and
    ``examples/scaling/distributed_training.py`` for the launch commands.

    Examples
    --------
    >>> import numpy as np
    >>> from accelerate import Accelerator
    >>> from sklearn.datasets import load_digits
    >>> from sk_mr.distributed import AcceleratedMRClassifier
    >>> from sk_mr.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> net = AcceleratedMRClassifier(MLP, accelerator=Accelerator(cpu=True), device=None,
    ...                               module__in_features=64, module__n_classes=10,
    ...                               max_epochs=2, train_split=None, verbose=0,
    ...                               callbacks__print_log__sink=print)
    >>> net.fit((X / 16).astype(np.float32), y).sample_weights_.shape
    (1797,)
    """
