"""TRADES (Zhang et al., ICML 2019)."""

import torch
from sklearn.base import is_regressor
from torch.nn import functional as F

from sk_mr.adversarial.base import AdversarialTraining, project
from sk_mr.validation import check_real

__all__ = ["TRADES", "trades_kl"]


def trades_kl(logits_clean, logits_adv):
    """Per-example ``KL(softmax(logits_clean) || softmax(logits_adv))``.

    The robust term of TRADES, as its reference code computes it
    (``nn.KLDivLoss(sum)(log_softmax(f(x_adv)), softmax(f(x)))``) but kept
    per example.

    Parameters
    ----------
    logits_clean, logits_adv : torch.Tensor, shape (batch, n_classes)

    Returns
    -------
    kl : torch.Tensor, shape (batch,)

    Examples
    --------
    >>> import torch
    >>> from sk_mr.adversarial import trades_kl
    >>> trades_kl(torch.zeros(2, 3), torch.zeros(2, 3))
    tensor([0., 0.])
    """
    return F.kl_div(F.log_softmax(logits_adv, dim=1), F.log_softmax(logits_clean, dim=1),
                    reduction="none", log_target=True).sum(dim=1)


class TRADES(AdversarialTraining):
    """TRADES (Zhang et al.): clean loss plus ``beta`` times a robustness KL term.

    Each example's loss is ``CE(f(x), y) + beta * KL(f(x) || f(x_adv))``
    (see :func:`trades_kl`), trained on as the net's weighted loss
    ``net.training_loss(f(x), y, extra_losses=beta * kl)``, so each
    example's MR weight multiplies both of its terms (Table 8's TRADES + MR).
    With mixup, ``x`` is the mixed input and the CE term uses mixed targets.

    ``x_adv`` maximizes the KL term: it starts at ``x + 0.001 * N(0, I)``
    and takes ``steps`` signed steps of ``step_size``, projected to the
    ``eps``-ball and ``[0, 1]``. As in the reference code the module is in
    eval mode while crafting and in train mode for the loss (two forward
    passes, clean and adversarial).

    Parameters
    ----------
    eps : float (default=0.031)
      l-inf radius, in input units.

    step_size : float (default=0.007)
      Size of each signed step.

    steps : int (default=10)
      Number of attack steps.

    beta : float (default=6.0)
      Weight of the KL term (``1 / lambda`` in the paper; 6 in Table 8).

    mw_losses : {'clean', 'adversarial'} (default='clean')
      Which inputs the MW loss pass evaluates (the criterion's loss, CE by
      default): the clean ones (Algorithm 1's full loss pass) or this KL
      attack's ``x_adv``. With ``loss_pass='online'`` the MW losses are the
      clean CE terms of the training batches (not the KL terms).

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the Gaussian start (a torch Generator on the net's device). None
      draws the seed from the net's ``rng_``; global RNG state is never used.

    Attributes
    ----------
    generator_ : torch.Generator or None
      The generator of the current fit.

    Examples
    --------
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.paper.models import ResNet34
    >>> from sk_mr.adversarial import TRADES
    >>> net = MRClassifier(ResNet34, eta=0.01, adversarial=TRADES(beta=6.0))
    >>> net.fit(X_train, y_train)  # doctest: +SKIP
    """

    def __init__(self, eps=0.031, step_size=0.007, steps=10, beta=6.0,
                 mw_losses="clean", random_state=None):
        self.eps = eps
        self.step_size = step_size
        self.steps = steps
        self.beta = beta
        self.mw_losses = mw_losses
        self.random_state = random_state

    def _check_params(self, params):
        super()._check_params(params)
        check_real("beta", params["beta"], low=0.0)

    def check_net(self, net, params=None):
        """Refuse a regressor (see :meth:`sk_mr.adversarial.AdversarialTraining.check_net`).

        TRADES' term is the KL divergence between the softmax of the clean
        and the adversarial outputs: over a regressor's outputs it means
        nothing (and is zero for one output).
        """
        super().check_net(net, params)
        if is_regressor(net):
            raise ValueError(
                f"TRADES cannot train {type(net).__name__}: its robustness term is "
                "the KL divergence between the class probabilities (softmax) of the "
                "clean and the adversarial outputs, which a regressor does not have. "
                "Use PGDAdversarialTraining or FreeAdversarialTraining, which attack "
                "the net's own criterion.")

    def perturb(self, net, X, y, params, **fit_params):
        """Return ``x_adv`` maximizing the KL term, in the module's current mode."""
        eps = params["eps"]
        X = X.detach()
        with torch.no_grad():
            logits_clean = net.infer(X, **fit_params)
        generator = self._generator(net, X.device)
        noise = torch.randn(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        X_adv = X + 0.001 * noise
        with torch.enable_grad():
            for _ in range(params["steps"]):
                X_adv.requires_grad_(True)
                kl = trades_kl(logits_clean, net.infer(X_adv, **fit_params)).sum()
                (grad,) = torch.autograd.grad(kl, X_adv)
                X_adv = project(X, X_adv.detach() + params["step_size"] * grad.sign(), eps)
        return X_adv.detach()

    def optimize_batch(self, net, batch, X, target, params, **fit_params):
        """Craft ``x_adv`` in eval mode, then one step on the TRADES loss in train mode."""
        net._set_training(False)
        X_adv = self.perturb(net, X, target, params, **fit_params)
        net._set_training(True)
        beta = params["beta"]

        def compute_step():
            y_pred = net.infer(X, **fit_params)
            kl = trades_kl(y_pred, net.infer(X_adv, **fit_params))
            loss = net.training_loss(y_pred, target, X=X, extra_losses=beta * kl)
            return {"loss": loss, "y_pred": y_pred}

        return self.optimizer_step(net, batch, compute_step)
