"""PGD adversarial training (Madry et al., ICLR 2018)."""

from sk_mr.adversarial.base import AdversarialTraining, linf_pgd
from sk_mr.validation import check_bool

__all__ = ["PGDAdversarialTraining"]


class PGDAdversarialTraining(AdversarialTraining):
    """PGD adversarial training (Madry et al.): train on l-inf PGD examples.

    For every minibatch, ``steps`` signed-gradient steps of size
    ``step_size`` from a uniform random start in the ``eps``-ball craft
    ``x_adv`` (each example maximizing its own loss, projected to the ball
    and to ``[0, 1]``); then one optimizer step on the net's weighted loss at
    ``x_adv``. With MR that loss is ``sum_i p_i l_i(x_adv_i) / sum_i p_i``;
    with mixup the mixed input is attacked with its mixed targets.

    Parameters
    ----------
    eps : float (default=8/255)
      l-inf radius, in input units.

    step_size : float (default=2/255)
      Size of each signed step.

    steps : int (default=7)
      Number of attack steps (Madry et al. use 7 on CIFAR-10).

    random_start : bool (default=True)
      Start from a uniform draw in the ball.

    attack_mode : {'train', 'eval'} (default='train')
      Module mode while crafting. ``'train'`` as in Madry et al.'s and the
      ``robustness`` library's implementations (batch-norm uses batch
      statistics; its running statistics are updated by the attack's forward
      passes too); ``'eval'`` crafts against the running statistics.

    mw_losses : {'clean', 'adversarial'} (default='clean')
      Which losses feed the MW update: the clean inputs (Algorithm 1's full
      loss pass) or this PGD attack's inputs, crafted in eval mode.

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the random starts (a torch Generator on the net's device). None
      draws the seed from the net's ``rng_`` (its ``random_state``); global
      RNG state is never used.

    Attributes
    ----------
    generator_ : torch.Generator or None
      The random-start generator of the current fit.

    Examples
    --------
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.paper.models import ResNet18
    >>> from sk_mr.adversarial import PGDAdversarialTraining
    >>> net = MRClassifier(ResNet18, adversarial=PGDAdversarialTraining(steps=7))
    >>> net.fit(X_train, y_train)  # doctest: +SKIP
    """

    def __init__(self, eps=8 / 255, step_size=2 / 255, steps=7, random_start=True,
                 attack_mode="train", mw_losses="clean", random_state=None):
        self.eps = eps
        self.step_size = step_size
        self.steps = steps
        self.random_start = random_start
        self.attack_mode = attack_mode
        self.mw_losses = mw_losses
        self.random_state = random_state

    def _check_params(self, params):
        super()._check_params(params)
        check_bool("random_start", params["random_start"])

    def perturb(self, net, X, y, params, **fit_params):
        """Return the PGD inputs of a batch, in the module's current mode."""
        return linf_pgd(
            net, X, y, eps=params["eps"], step_size=params["step_size"],
            steps=params["steps"], random_start=params["random_start"],
            generator=self._generator(net, X.device), **fit_params)

    def optimize_batch(self, net, batch, X, target, params, **fit_params):
        """Craft PGD inputs, then take one optimizer step on them."""
        net._set_training(params["attack_mode"] == "train")
        X_adv = self.perturb(net, X, target, params, **fit_params)
        net._set_training(True)

        def compute_step():
            y_pred = net.infer(X_adv, **fit_params)
            loss = net.training_loss(y_pred, target, X=X_adv)
            return {"loss": loss, "y_pred": y_pred}

        return self.optimizer_step(net, batch, compute_step)
