"""Adversarial training against any torchattacks attack."""

import difflib
import inspect
import math

import torch
import torchattacks
from sklearn.base import is_regressor
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from sk_mr.adversarial.base import AdversarialTraining
from sk_mr.adversarial.evaluation import _batch_seed, _Logits, _seeded_rng
from sk_mr.objective import MixupTarget
from sk_mr.validation import check_int, check_real

__all__ = ["AttackTraining"]


class AttackTraining(AdversarialTraining):
    """Adversarial training on the examples crafted by a torchattacks attack.

    For every minibatch the attack, built on the net's module from the class
    ``attack`` and its parameters, crafts ``x_adv`` for a ``fraction`` of the
    batch (a random subset; all of it by default, as in Madry et al.); then
    one optimizer step on the net's weighted loss at the batch with those
    rows replaced by ``x_adv``. With MR that loss is
    ``sum_i p_i l_i(x_train_i) / sum_i p_i``; label smoothing and any other
    criterion option apply as in natural training. The attack maximizes its
    own loss (cross-entropy with the labels, for most attacks) without MR
    weights.

    ``AttackTraining(torchattacks.PGD, eps=8/255, alpha=2/255, steps=7)`` is
    Madry et al.'s PGD training (as :class:`PGDAdversarialTraining`);
    ``AttackTraining(torchattacks.FFGSM, eps=8/255, alpha=10/255)`` is Wong
    et al.'s "fast is better than free" FGSM training. Any torchattacks
    attack built from the model that returns the adversarial inputs works,
    in its default (untargeted) mode: l-2 attacks, MIFGSM, TPGD, APGD, ...,
    or a subclass of ``torchattacks.attack.Attack`` of your own.

    Inputs must lie in ``[0, 1]`` with normalization inside the model, as
    torchattacks expects. The attack sees the module as a function of the
    inputs through ``net.infer`` (so ``amp=True`` applies to the attack's
    forward passes too) and runs on the inputs' device.

    Mixup is refused: a torchattacks attack takes one class label per input,
    and a mixup input has two (weighted ``lam`` and ``1 - lam``). Use
    :class:`PGDAdversarialTraining`, :class:`FreeAdversarialTraining` or
    :class:`TRADES` with mixup: they attack the mixed input with both labels.
    A reweighting callback's soft targets (e.g. bootstrapping) are trained
    on; the attack targets the labels.

    Parameters
    ----------
    attack : torchattacks attack class
      E.g. ``torchattacks.FFGSM``: the class, not an instance (the strategy
      builds the attack on the net's module for every batch, so that the
      estimator stays clonable and the attack always reads the current
      parameters).

    fraction : float (default=1.0)
      Fraction of each minibatch replaced by its adversarial examples, in
      ``(0, 1]``: ``round(fraction * batch_size)`` rows (halves rounded up)
      drawn at random. ``1.0`` is Madry et al.'s training; ``0.5`` trains on
      half clean, half adversarial examples (Goodfellow et al.; Kurakin et
      al.).

    attack_mode : {'train', 'eval'} (default='train')
      Module mode while crafting. ``'train'`` as Madry et al.'s and Wong et
      al.'s code (batch-norm uses batch statistics and its running
      statistics are updated by the attack's forward passes; dropout is
      active); ``'eval'`` crafts against the running statistics, as
      torchattacks does by default.

    mw_losses : {'clean', 'adversarial'} (default='clean')
      Which losses feed the MW update: the clean inputs (Algorithm 1's full
      loss pass) or every example's adversarial input from this attack,
      crafted in eval mode (the loss pass's mode; ``fraction`` does not
      apply). With ``loss_pass='online'`` the MW losses are those of the
      training forward passes (adversarial for the attacked rows).

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the attack's random starts and the choice of the attacked rows.
      torchattacks draws its random starts from the global generators, so
      each batch's attack runs inside :func:`torch.random.fork_rng` seeded
      from this (the caller's RNG state is untouched); an attack that takes
      a ``seed`` (APGD, AutoAttack, Square, ...) and is not given one gets
      the batch's seed. None draws the seed from the net's ``rng_`` (its
      ``random_state``).

    **attack_params
      The attack's parameters (``eps``, ``alpha``, ``steps``, ...), as
      parameters of this strategy: reachable as ``adversarial__eps`` in
      ``set_params`` and grid searches. Defaults are the attack's.

    Attributes
    ----------
    n_attacks_ : int or None
      Number of batches attacked in this fit (training and MW loss-pass
      batches); with ``random_state`` it determines the next batch's seed.

    generator_ : torch.Generator or None
      Draws the attacked rows when ``fraction < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> import torchattacks
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.adversarial import AttackTraining
    >>> from sk_mr.models import SmallCNN
    >>> X = np.random.default_rng(0).uniform(size=(64, 1, 8, 8)).astype(np.float32)
    >>> y = np.arange(64) % 10
    >>> strategy = AttackTraining(torchattacks.FFGSM, eps=0.1, alpha=0.125,
    ...                           random_state=0)
    >>> strategy
    AttackTraining(alpha=0.125, attack=<class 'torchattacks.attacks.ffgsm.FFGSM'>,
                   eps=0.1, random_state=0)
    >>> net = MRClassifier(SmallCNN, eta=0.1, adversarial=strategy, max_epochs=2,
    ...                    train_split=None, verbose=0, random_state=0)
    >>> net.set_params(adversarial__eps=0.05).fit(X, y).adversarial.n_attacks_
    2
    """

    def __init__(self, attack, fraction=1.0, attack_mode="train", mw_losses="clean",
                 random_state=None, **attack_params):
        self.attack = attack
        self.fraction = fraction
        self.attack_mode = attack_mode
        self.mw_losses = mw_losses
        self.random_state = random_state
        self._attack_param_names = ()
        for name, value in attack_params.items():
            self._set_attack_param(name, value)

    # -- the attack's parameters are this strategy's -----------------------------
    def _set_attack_param(self, name, value):
        if name.startswith("_") or name.endswith("_") or hasattr(type(self), name):
            raise TypeError(
                f"AttackTraining cannot take an attack parameter named {name!r}: it "
                "clashes with the strategy's own attributes (names of attack "
                "parameters must not start or end with '_').")
        setattr(self, name, value)
        if name not in self._attack_param_names:
            self._attack_param_names += (name,)

    def get_params(self, deep=True):
        """Return the parameters: the strategy's and the attack's.

        Parameters
        ----------
        deep : bool (default=True)
          Unused (no parameter is an estimator); kept for scikit-learn.

        Returns
        -------
        params : dict
        """
        params = super().get_params(deep=deep)
        params.update((name, getattr(self, name)) for name in self._attack_param_names)
        return params

    def set_params(self, **params):
        """Set parameters; names that are not the strategy's go to the attack.

        An attack parameter not set before is added (e.g. ``steps`` after
        ``AttackTraining(torchattacks.PGD)``); names are checked against the
        attack's signature when training starts.

        Returns
        -------
        self
        """
        own = set(self._get_param_names())
        attack_params = {name: params.pop(name) for name in list(params)
                         if name not in own}
        super().set_params(**params)
        for name, value in attack_params.items():
            self._set_attack_param(name, value)
        return self

    def _check_params(self, params):
        attack_names = set(self._attack_param_names)
        super()._check_params({name: value for name, value in params.items()
                               if name not in attack_names})
        check_real("fraction", params["fraction"], low=0.0, high=1.0, low_open=True)
        signature = _attack_signature(params["attack"])
        accepted = list(signature.parameters)[1:]  # after the model
        takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        for name in self._attack_param_names:
            if name not in accepted and not takes_any:
                close = difflib.get_close_matches(
                    name, accepted + sorted(self._get_param_names()), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"AttackTraining got the parameter {name!r}, which "
                    f"{_attack_name(params['attack'])} does not take (its parameters: "
                    f"{', '.join(accepted) or 'none'}; the strategy's: "
                    f"{', '.join(sorted(self._get_param_names()))}).{hint}")
        # torchattacks does not check these: a negative eps or step size
        # trains on inputs that *decrease* the loss, and steps=0 on clean ones
        for name, low, low_open in (("eps", 0.0, False), ("alpha", 0.0, True)):
            if name in params:
                check_real(name, params[name], low=low, low_open=low_open)
        if "steps" in params:
            check_int("steps", params["steps"], low=1)
        missing = [name for name, p in list(signature.parameters.items())[1:]
                   if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                          p.KEYWORD_ONLY)
                   and name not in attack_names]
        if missing:
            raise ValueError(
                f"{_attack_name(params['attack'])} needs the parameter(s) {missing}; "
                f"pass them to AttackTraining, e.g. AttackTraining("
                f"{_attack_name(params['attack'])}, {missing[0]}=...).")

    def check_net(self, net, params=None):
        """Refuse what a torchattacks attack cannot train.

        See :meth:`sk_mr.adversarial.AdversarialTraining.check_net`.
        A regressor is refused: torchattacks attacks maximize cross-entropy
        with class labels, which over a regressor's outputs is constant, so
        the attack would not move the inputs. Mixup is refused (one label
        per input).
        """
        super().check_net(net, params)
        if is_regressor(net):
            raise ValueError(
                f"AttackTraining cannot train {type(net).__name__}: torchattacks "
                "attacks maximize the cross-entropy of class labels, which is constant "
                "over a regressor's outputs, so the inputs would not be perturbed and "
                "training would be plain training. Use PGDAdversarialTraining or "
                "FreeAdversarialTraining, which attack the net's own criterion.")
        if getattr(net, "mixup_alpha", 0):
            raise ValueError(_MIXUP_REFUSED.format(alpha=net.mixup_alpha))

    # -- crafting -----------------------------------------------------------------
    def build_attack(self, net, params, device, seed=None, **fit_params):
        """Return the attack on the net's module, crafting in the module's current mode.

        Parameters
        ----------
        net : MRClassifier
        params : dict
          :meth:`resolved_params`.
        device : torch.device
          Where the inputs live.
        seed : int or None (default=None)
          Passed as the attack's ``seed`` when it takes one and none was set.
        **fit_params
          Passed to the module's forward.

        Returns
        -------
        attack : torchattacks.attack.Attack
        """
        training = net.module_.training  # before _Logits sets eval mode
        kwargs = {name: params[name] for name in self._attack_param_names}
        if seed is not None and "seed" in _attack_signature(params["attack"]).parameters:
            kwargs.setdefault("seed", seed)
        attack = params["attack"](_Logits(net, **fit_params), **kwargs)
        # torchattacks reads the device off the parameters (none for a
        # parameter-free module) and attacks in eval mode unless told otherwise.
        attack.set_device(device)
        attack.set_model_training_mode(model_training=training,
                                       batchnorm_training=training,
                                       dropout_training=training)
        return attack

    def perturb(self, net, X, y, params, **fit_params):
        """Return the attack's inputs for a batch, crafted in the module's current mode.

        The attack runs inside :func:`torch.random.fork_rng` seeded from
        this fit's seed and the number of batches attacked so far, so its
        random draws are reproducible and the global RNG state is left
        unchanged.

        Parameters
        ----------
        net : MRClassifier
        X : torch.Tensor
          Inputs in ``[0, 1]`` on the net's device.
        y : torch.Tensor of int64
          Class indices.
        params : dict
          :meth:`resolved_params`.
        **fit_params
          Passed to the module's forward.

        Returns
        -------
        X_adv : torch.Tensor
          Detached, same shape and device as ``X``.
        """
        count = getattr(self, "n_attacks_", None) or 0
        seed = _batch_seed(self._fit_seed(net), 0, count)
        self.n_attacks_ = count + 1
        was_training = net.module_.training
        attack = self.build_attack(net, params, X.device, seed=seed, **fit_params)
        with _seeded_rng(X.device, seed):
            X_adv = attack(X, y)
        net._set_training(was_training)
        return X_adv.detach()

    # -- the training step ----------------------------------------------------------
    def _state_names(self):
        return super()._state_names() + ("n_attacks_",)

    def optimize_batch(self, net, batch, X, target, params, **fit_params):
        """Craft ``x_adv`` for a fraction of the batch, then one optimizer step."""
        if isinstance(target, MixupTarget):
            raise ValueError(_MIXUP_REFUSED.format(alpha=getattr(net, "mixup_alpha", "?")))
        if torch.is_tensor(target) and not target.is_floating_point():
            labels = target
        else:  # soft targets from the reweighting callback: attack the labels
            labels = to_tensor(unpack_data(batch)[1], device=X.device)
        n = X.shape[0]
        k = math.floor(params["fraction"] * n + 0.5)
        net._set_training(params["attack_mode"] == "train")
        if k == n:
            X_train = self.perturb(net, X, labels, params, **fit_params)
        elif k > 0:
            generator = self._generator(net, X.device)
            chosen = torch.randperm(n, device=X.device, generator=generator)[:k].sort().values
            X_adv = self.perturb(net, X[chosen], labels[chosen], params, **fit_params)
            X_train = X.detach().index_copy(0, chosen, X_adv)
        else:  # a batch too small for one adversarial row
            X_train = X
        net._set_training(True)

        def compute_step():
            y_pred = net.infer(X_train, **fit_params)
            loss = net.training_loss(y_pred, target, X=X_train)
            return {"loss": loss, "y_pred": y_pred}

        return self.optimizer_step(net, batch, compute_step)


_MIXUP_REFUSED = (
    "AttackTraining cannot train with mixup (mixup_alpha={alpha!r}): a torchattacks "
    "attack takes one class label per input, but a mixup input has two (weighted lam "
    "and 1 - lam), so the attack has no label to attack. Set mixup_alpha=0, or use "
    "PGDAdversarialTraining, FreeAdversarialTraining or TRADES, which attack the mixed "
    "input with both of its labels.")


def _attack_name(attack):
    if not inspect.isclass(attack):
        return repr(attack)
    if getattr(torchattacks, attack.__name__, None) is attack:
        return f"torchattacks.{attack.__name__}"
    return f"{attack.__module__}.{attack.__qualname__}"


def _attack_signature(attack):
    """Return an attack class's signature; raise a clear error if it is not one."""
    if isinstance(attack, str):
        hint = (f"; did you mean torchattacks.{attack}?" if inspect.isclass(
            getattr(torchattacks, attack, None)) else "")
        raise TypeError(
            f"attack must be a torchattacks attack class (e.g. torchattacks.FFGSM), "
            f"got the string {attack!r}{hint}")
    if isinstance(attack, torchattacks.attack.Attack):
        raise TypeError(
            f"attack must be a torchattacks attack class, got the instance {attack!r}. "
            "The strategy builds the attack on the net's module for each batch: pass "
            f"the class and its parameters, e.g. AttackTraining("
            f"torchattacks.{type(attack).__name__}, eps=...).")
    if not (inspect.isclass(attack) and issubclass(attack, torchattacks.attack.Attack)):
        raise TypeError(
            "attack must be a torchattacks attack class (a subclass of "
            f"torchattacks.attack.Attack, e.g. torchattacks.FFGSM), got {attack!r}.")
    signature = inspect.signature(attack)
    first = next(iter(signature.parameters), None)
    if first != "model":
        raise TypeError(
            f"{_attack_name(attack)} does not take a model as its first argument "
            f"(it takes {list(signature.parameters)}), so it cannot be built on the "
            "net's module; pass an attack such as torchattacks.PGD or FFGSM.")
    return signature
