"""The base of the adversarial-training strategies: params, device, [0, 1] inputs.

A strategy is a small scikit-learn style object passed to
``MRClassifier(..., adversarial=strategy)``. The net delegates each training
batch to ``strategy.train_step(net, batch, **fit_params)``; the strategy owns
the optimizer steps of that batch and takes everything else from the net:

* ``net.prepare_batch(Xi, yi)`` moves the batch to the net's device, lets the
  reweighting callback correct the targets and applies mixup, once per batch;
* ``net.training_loss(y_pred, target, X=...)`` applies the MR weights
  (and mixup's two label terms) to every loss the strategy trains on, and
  records the per-example losses for ``loss_pass='online'``;
* ``net.infer`` runs the module (under autocast when ``amp=True``).

So MR x mixup x adversarial training compose: each strategy is one step
function, and neither MR nor mixup know about it.

This module needs torch only (no torchattacks).
"""

import weakref

import numpy as np
import torch
from sklearn.base import BaseEstimator
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator, to_tensor

from sk_mr.objective import target_terms
from sk_mr.seeding import draw_seed, generator_state, restore_generator, seeded_generator
from sk_mr.validation import check_int, check_option, check_real, warn_ignored

__all__ = ["AdversarialTraining", "check_unit_interval", "linf_pgd"]

MW_LOSSES = ("clean", "adversarial")
ATTACK_MODES = ("train", "eval")


def check_unit_interval(X, name="X"):
    """Raise a ValueError unless every value of ``X`` lies in ``[0, 1]``.

    Adversarial training and attacks measure ``eps`` in input units and clip
    perturbed inputs to ``[0, 1]``, so inputs must be raw intensities in
    ``[0, 1]`` with any normalization done inside the model.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
      The inputs. A CUDA tensor is copied to the host for the check (one
      synchronization).

    name : str (default='X')
      Name used in the error message.

    Raises
    ------
    TypeError
      If ``X`` is not an array or a tensor (e.g. a dict of inputs).
    ValueError
      If a value lies outside ``[0, 1]`` or is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_mr.adversarial import check_unit_interval
    >>> check_unit_interval(np.array([0.0, 0.5, 1.0]))
    >>> check_unit_interval(np.array([0.0, 255.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X must lie in [0, 1] ...
    """
    if isinstance(X, torch.Tensor):
        if X.numel() == 0:
            return
        lo, hi = torch.aminmax(X.detach())
        lo, hi = float(lo), float(hi)
    elif isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        arr = np.asarray(X)
        if arr.size == 0:
            return
        if not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}.")
        lo, hi = float(np.min(arr)), float(np.max(arr))
    else:
        raise TypeError(
            f"Adversarial training and attacks perturb one input array, but {name} "
            f"is a {type(X).__name__}. Pass a numpy array or a torch tensor of "
            "inputs in [0, 1].")
    if not (lo >= 0.0 and hi <= 1.0):
        raise ValueError(
            f"{name} must lie in [0, 1] for adversarial training and attacks (eps is "
            "measured in input units and perturbed inputs are clipped to [0, 1]), "
            f"but its values range over [{lo:.4g}, {hi:.4g}]. Scale the inputs to "
            "[0, 1] (e.g. images / 255) and put the normalization inside the model "
            "(e.g. sk_mr.models.Normalize(mean, std) as its first layer).")


def example_losses(net, y_pred, target):
    """Per-example training losses of a batch, mixup targets included.

    The attacks maximize each example's own loss, so no MR weight enters
    here (a positive weight would not change the sign of the gradient, a zero
    one would stop the attack).
    """
    return sum(coef * net.get_example_losses(y_pred, labels, training=True)
               for coef, labels, _ in target_terms(target))


def project(X, X_adv, eps):
    """Clip ``X_adv`` to the l-inf ball of radius ``eps`` around ``X`` and to [0, 1]."""
    return torch.min(torch.max(X_adv, X - eps), X + eps).clamp_(0.0, 1.0)


def linf_pgd(net, X, target, *, eps, step_size, steps, random_start=False,
             generator=None, **fit_params):
    """Return l-inf PGD adversarial inputs for a batch (FGSM when ``steps=1``).

    ``X_{k+1} = clip_{X, eps}(X_k + step_size * sign(grad_X loss(X_k)))``
    clipped to ``[0, 1]``, where ``loss`` is the sum of the net's per-example
    training losses (the criterion, with mixup targets). The module's mode is
    left as the caller set it; parameter gradients are not touched (only the
    input's gradient is computed).

    Parameters
    ----------
    net : MRClassifier
      An initialized net.

    X : torch.Tensor
      Inputs in ``[0, 1]`` on the net's device.

    target : torch.Tensor or MixupTarget
      The batch's targets.

    eps, step_size : float
      Radius of the l-inf ball and step size, in input units.

    steps : int
      Number of steps; ``steps=1``, ``step_size=eps`` and no random start is
      FGSM.

    random_start : bool (default=False)
      Start from a uniform draw in the ball (Madry et al.).

    generator : torch.Generator or None (default=None)
      Generator on ``X``'s device for the random start; required when
      ``random_start`` is True (global RNG state is never used).

    **fit_params
      Passed to the module's forward.

    Returns
    -------
    X_adv : torch.Tensor
      Detached, same shape and device as ``X``.
    """
    X = X.detach()
    if random_start:
        if generator is None:
            raise ValueError("linf_pgd needs a torch.Generator for random_start=True.")
        noise = torch.rand(X.shape, generator=generator, device=X.device, dtype=X.dtype)
        X_adv = (X + (2.0 * noise - 1.0) * eps).clamp_(0.0, 1.0)
    else:
        X_adv = X.clone()
    with torch.enable_grad():
        for _ in range(steps):
            X_adv.requires_grad_(True)
            y_pred = net.infer(X_adv, **fit_params)
            loss = example_losses(net, y_pred, target).sum()
            (grad,) = torch.autograd.grad(loss, X_adv)
            X_adv = project(X, X_adv.detach() + step_size * grad.sign(), eps)
    return X_adv.detach()


class AdversarialTraining(BaseEstimator):
    """Base class of the adversarial-training strategies.

    Owns what every strategy shares, so that a subclass reads as its
    algorithm alone: the parameters (sklearn's ``get_params`` /
    ``set_params``), the ``[0, 1]`` input check, the device and random
    generator, the reset of per-fit state, and the optimizer step in skorch's
    form (zero the gradients, forward, weighted loss, backward,
    ``on_grad_computed``, ``optimizer.step(closure)``).

    Subclasses implement :meth:`optimize_batch` (the training step of one
    prepared batch) and :meth:`perturb` (the adversarial inputs the MW loss
    pass uses when ``mw_losses='adversarial'``).

    **Parameters** are stored verbatim in ``__init__`` and validated at every
    training step (host-side checks only). ``sklearn.base.clone`` copies a
    strategy without its state, so a grid search can search over strategies:
    ``param_grid={'adversarial': [FreeAdversarialTraining(eps=e) for e in
    (2/255, 8/255)]}``.

    **State** (attributes ending in ``_``) is reset by :meth:`initialize`
    (or :meth:`reset`) and automatically when the net's optimizer changes,
    which skorch re-creates on every ``initialize()``, i.e. every cold
    ``fit``; ``partial_fit`` and warm-started fits keep it.

    **Inputs** must lie in ``[0, 1]``. A batch still on the host (the usual
    case: the data loader yields CPU tensors) is checked before it is moved to
    the device; a batch that already lives on an accelerator is checked once
    per fit, so the per-batch path never synchronizes with the device.

    Requires an :class:`sk_mr.MRClassifier` (it reuses its ``prepare_batch``,
    ``training_loss`` and ``get_example_losses``). For plain (unweighted)
    adversarial training use ``MRClassifier(..., callbacks__reweighting=None)``
    (no MW at all) or ``eta=0`` (uniform weights, MW bookkeeping kept).
    """

    def _state_names(self):
        return ("generator_", "range_checked_")

    # -- state ----------------------------------------------------------------
    def initialize(self):
        """Reset the per-fit state; return self.

        The net should call this from its own ``initialize()``; without that,
        the state is reset when the net's optimizer changes.
        """
        self.reset()
        return self

    def reset(self):
        """Forget all per-fit state (perturbation buffers, generators)."""
        for name in self._state_names():
            setattr(self, name, None)
        self._seed = None
        self._generator_state = None
        self._optimizer_ref = None
        self._restored = False

    def _bind(self, net):
        """Reset the state when ``net`` starts a new fit (a new optimizer).

        A strategy restored from a pickle keeps its saved state and binds to
        the optimizer it finds.
        """
        optimizer = getattr(net, "optimizer_", None)
        ref = getattr(self, "_optimizer_ref", None)
        if ref is None and getattr(self, "_restored", False):
            self._restored = False
        elif ref is None or ref() is not optimizer:
            self.reset()
        self._optimizer_ref = None if optimizer is None else weakref.ref(optimizer)

    # -- parameters -------------------------------------------------------------
    def resolved_params(self):
        """Return the parameters (``get_params()``), validated.

        Raises
        ------
        ValueError
          Naming the parameter and its bad value.
        """
        params = self.get_params(deep=False)
        self._check_params(params)
        return params

    def _check_params(self, params):
        # the parameters several strategies share, where a strategy has them;
        # subclasses check their own after calling this
        if "eps" in params:
            check_real("eps", params["eps"], low=0.0, high=1.0)
        if "step_size" in params:
            check_real("step_size", params["step_size"], low=0.0, low_open=True)
        if "steps" in params:
            check_int("steps", params["steps"], low=1)
        if "attack_mode" in params:
            check_option("attack_mode", params["attack_mode"], ATTACK_MODES)
        if "mw_losses" in params:
            check_option("mw_losses", params["mw_losses"], MW_LOSSES)

    def check_net(self, net, params=None):
        """Check this strategy against the net it is to train, before the fit starts.

        Called by the net's parameter validation at every ``fit`` /
        ``partial_fit``, before anything is initialized, so that a refused
        combination leaves a fitted net as it was. Subclasses add the
        combinations they cannot train.

        Parameters
        ----------
        net : MRClassifier (or another MR estimator)

        params : dict or None (default=None)
          The strategy's parameters as the fit will see them (the net's
          pending ``adversarial__*`` included); None uses ``get_params()``.

        Raises
        ------
        ValueError
          For a bad parameter, or a net this strategy cannot train.

        Warns
        -----
        sk_mr.exceptions.MRParameterWarning
          For ``mw_losses='adversarial'`` under ``loss_pass='online'``, where
          it has no effect.
        """
        params = self.get_params(deep=False) if params is None else params
        self._check_params(params)
        if params.get("mw_losses", "clean") == "adversarial" and \
                getattr(net, "loss_pass", None) == "online":
            warn_ignored(
                "mw_losses", "adversarial",
                f"with loss_pass='online' (no loss pass) the MW losses of "
                f"{type(self).__name__} are those of its training steps, on the "
                "adversarial inputs it trains on",
                "Set loss_pass='full' to have the loss pass evaluate each example at "
                "its adversarial input.")

    # -- device, inputs and randomness -------------------------------------------
    def _check_batch(self, Xi):
        """Check a raw batch for [0, 1] without syncing with an accelerator."""
        if isinstance(Xi, torch.Tensor) and Xi.device.type != "cpu":
            if getattr(self, "range_checked_", None):
                return
            self.range_checked_ = True
        check_unit_interval(Xi)

    def _fit_seed(self, net):
        """Return this fit's seed (a host int), drawn once per fit.

        From ``random_state`` or, when that is None, from the net's ``rng_``
        (so that seeding the net seeds everything).
        """
        if getattr(self, "_seed", None) is None:
            random_state = getattr(self, "random_state", None)
            if random_state is not None or getattr(net, "rng_", None) is None:
                rng = np.random.default_rng(random_state)
            else:
                rng = net.rng_
            self._seed = draw_seed(rng)
        return self._seed

    def _generator(self, net, device):
        """Return this fit's torch Generator on ``device``.

        Seeded from :meth:`_fit_seed`.
        """
        generator = getattr(self, "generator_", None)
        device = torch.device(device)
        if generator is not None and generator.device == device:
            return generator
        seed = self._fit_seed(net)
        saved = getattr(self, "_generator_state", None)
        if saved is not None:  # pickled: continue where it was, on this device
            generator = restore_generator(saved, device, lambda: seed)
            self._generator_state = None
        else:
            generator = seeded_generator(device, seed)
        self.generator_ = generator
        return generator

    def __getstate__(self):
        # A copy: object.__getstate__ hands out the live __dict__, and pickling
        # (Checkpoint(f_pickle=...), deepcopy) must not disturb training.
        state = dict(super().__getstate__())
        state["_optimizer_ref"] = None
        state["_restored"] = True
        generator = state.get("generator_")
        if isinstance(generator, torch.Generator):
            state["_generator_state"] = generator_state(generator)
            state["generator_"] = None
        for key, value in list(state.items()):
            if isinstance(value, torch.Tensor):
                state[key] = value.detach().cpu()
        return state

    # -- the training step ------------------------------------------------------
    def train_step(self, net, batch, **fit_params):
        """Train on one batch; called by ``MRClassifier.train_step``.

        Parameters
        ----------
        net : MRClassifier
          The net being trained.

        batch : tuple
          ``(Xi, yi)`` as yielded by the training iterator.

        **fit_params
          Passed to the module's forward.

        Returns
        -------
        step : dict
          ``{'loss': loss, 'y_pred': y_pred}`` as skorch's ``train_step``.
        """
        if not hasattr(net, "prepare_batch"):
            raise TypeError(
                f"{type(self).__name__} needs an sk_mr.MRClassifier (it reuses its "
                f"prepare_batch, mixup and training_loss), got "
                f"{type(net).__name__}. For plain adversarial training use "
                "MRClassifier(..., adversarial=..., callbacks__reweighting=None).")
        params = self.resolved_params()
        self._bind(net)
        Xi, yi = unpack_data(batch)
        self._check_batch(Xi)
        X, target = net.prepare_batch(Xi, yi)
        return self.optimize_batch(net, batch, X, target, params, **fit_params)

    def optimize_batch(self, net, batch, X, target, params, **fit_params):
        """Run the optimizer steps of one prepared batch (subclasses).

        Parameters
        ----------
        net : MRClassifier
        batch : tuple
          The raw batch (passed on to ``on_grad_computed``).
        X : torch.Tensor
          Inputs on the device, mixed when mixup is on.
        target : torch.Tensor or MixupTarget
        params : dict
          :meth:`resolved_params`.

        Returns
        -------
        step : dict
        """
        raise NotImplementedError

    def optimizer_step(self, net, batch, compute_step):
        """One optimizer step in skorch's form; return the step dict.

        ``compute_step()`` runs the forward pass and returns
        ``{'loss': weighted_loss, 'y_pred': y_pred}``; it is called inside the
        optimizer's closure (once for SGD/Adam), after the gradients are
        zeroed, and followed by the net's backward (``net._backward``) and the
        ``on_grad_computed`` notification (so gradient clipping applies).
        """
        accumulator = net.get_train_step_accumulator()

        def closure():
            net._zero_grad_optimizer()
            step = compute_step()
            net._backward(step["loss"])
            accumulator.store_step(step)
            net.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(net.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
            return step["loss"]

        net._step_optimizer(closure)
        return accumulator.get_step()

    # -- the MW loss pass -------------------------------------------------------
    def loss_pass_inputs(self, net, Xi, yi):
        """Inputs on which Algorithm 1's loss pass evaluates each example.

        Called by ``MRClassifier.example_losses`` for every batch of the full
        loss pass (``loss_pass='full'``). With ``mw_losses='clean'`` (the
        default) the clean inputs are returned unchanged; with
        ``'adversarial'`` the inputs of :meth:`perturb`, crafted in eval mode
        (the loss pass's mode).

        Parameters
        ----------
        net : MRClassifier
        Xi, yi : batch inputs and labels (host or device)

        Returns
        -------
        X : array or torch.Tensor
        """
        params = self.resolved_params()
        if params.get("mw_losses", "clean") == "clean":
            return Xi
        self._check_batch(Xi)
        X = to_tensor(Xi, device=net.device)
        y = to_tensor(yi, device=net.device)
        net._set_training(False)
        return self.perturb(net, X, y, params)

    def perturb(self, net, X, y, params, **fit_params):
        """Adversarial version of a batch for the MW loss pass (subclasses)."""
        raise NotImplementedError
