"""Free adversarial training (Shafahi et al., NeurIPS 2019)."""

import torch

from sk_mr.adversarial.base import AdversarialTraining, linf_pgd
from sk_mr.validation import check_int

__all__ = ["FreeAdversarialTraining"]


class FreeAdversarialTraining(AdversarialTraining):
    """Free adversarial training ("Adversarial training for free!", Shafahi et al.).

    The paper's robust-training baseline (Tables 4 and 7). One perturbation
    buffer ``delta`` of the batch's shape starts at zero and is carried
    across replays *and* across minibatches. Each minibatch is replayed
    ``m = replays`` times in a row; each replay does one forward/backward
    pass on ``clamp(x + delta, 0, 1)``, which gives both the parameter and
    the input gradient, then

    * ``delta <- clip(delta + eps * sign(grad_delta), -eps, eps)``, and
    * one optimizer step.

    So an "epoch" makes ``m`` optimizer steps per minibatch: Shafahi et al.
    divide the number of epochs by ``m`` to keep the training budget (and an
    ``LRScheduler(step_every='batch')`` steps once per minibatch, not per
    replay). A smaller last minibatch uses the first rows of the buffer.

    With MR, every replay's loss is the net's MR-weighted loss
    ``sum_i p_i l_i(x_i + delta_i) / sum_i p_i``; with mixup, the minibatch is
    mixed once (``net.prepare_batch``) and the mixed input is perturbed.

    Parameters
    ----------
    eps : float (default=8/255)
      l-inf bound of ``delta`` and the size of its sign step, in input units
      (inputs lie in ``[0, 1]``).

    replays : int (default=4)
      ``m``, the number of replays of each minibatch (the paper: 4 on
      CIFAR-10, 6 on CIFAR-100).

    mw_losses : {'clean', 'adversarial'} (default='clean')
      Which losses feed the MW update. ``'clean'``: Algorithm 1's full loss
      pass on the clean training inputs (``loss_pass='full'``). With
      ``'adversarial'`` the loss pass evaluates each example at its FGSM
      perturbation of size ``eps`` (one signed gradient step in eval mode,
      the one-step attack the replays approximate; the running ``delta``
      belongs to minibatch positions, not to examples). With
      ``loss_pass='online'`` the MW losses are always those of each
      example's last replay (perturbed inputs, train mode).

    Attributes
    ----------
    delta_ : torch.Tensor or None
      The perturbation buffer, shape ``(largest batch, *input shape)``, on
      the net's device. None until the first training step of a fit.

    Notes
    -----
    The loss reported as ``train_loss`` is that of each minibatch's first
    replay (skorch's ``FirstStepAccumulator``), on the inputs perturbed by
    the ``delta`` carried over from the previous minibatch.

    Examples
    --------
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.paper.models import ResNet18
    >>> from sk_mr.adversarial import FreeAdversarialTraining
    >>> net = MRClassifier(ResNet18, eta=0.01,
    ...                    adversarial=FreeAdversarialTraining(eps=8/255, replays=4))
    >>> net.fit(X_train, y_train)  # doctest: +SKIP
    """

    def __init__(self, eps=8 / 255, replays=4, mw_losses="clean"):
        self.eps = eps
        self.replays = replays
        self.mw_losses = mw_losses

    def _state_names(self):
        return super()._state_names() + ("delta_",)

    def _check_params(self, params):
        super()._check_params(params)
        check_int("replays", params["replays"], low=1)

    def _delta_buffer(self, X):
        """Return the buffer, (re)allocated to hold ``X``'s batch (host metadata only)."""
        buffer = getattr(self, "delta_", None)
        if buffer is None or buffer.shape[1:] != X.shape[1:] or buffer.dtype != X.dtype:
            buffer = torch.zeros_like(X)
        elif buffer.device != X.device:
            buffer = buffer.to(X.device)
        if buffer.shape[0] < X.shape[0]:
            extra = buffer.new_zeros((X.shape[0] - buffer.shape[0],) + tuple(X.shape[1:]))
            buffer = torch.cat([buffer, extra])
        self.delta_ = buffer
        return buffer

    def optimize_batch(self, net, batch, X, target, params, **fit_params):
        """Replay the batch ``replays`` times, updating ``delta`` and the parameters."""
        eps = params["eps"]
        buffer = self._delta_buffer(X)
        n = X.shape[0]
        net._set_training(True)
        leaf = {}

        def compute_step():
            # A fresh leaf per call: its gradient is this replay's alone.
            delta = leaf["delta"] = buffer[:n].clone().requires_grad_(True)
            X_adv = (X + delta).clamp(0.0, 1.0)
            y_pred = net.infer(X_adv, **fit_params)
            loss = net.training_loss(y_pred, target, X=X_adv)
            return {"loss": loss, "y_pred": y_pred}

        first = None
        for _ in range(params["replays"]):
            step = self.optimizer_step(net, batch, compute_step)
            grad = leaf["delta"].grad
            if grad is not None:  # None only for a module that ignores its input
                with torch.no_grad():
                    buffer[:n] = (leaf["delta"] + eps * grad.sign()).clamp_(-eps, eps)
            if first is None:
                first = step
        return first

    def perturb(self, net, X, y, params, **fit_params):
        """FGSM at ``eps`` (the MW loss pass with ``mw_losses='adversarial'``)."""
        eps = params["eps"]
        return linf_pgd(net, X, y, eps=eps, step_size=eps, steps=1, **fit_params)
