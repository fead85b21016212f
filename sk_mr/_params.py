"""The checks of MRMixin's own parameters (run by its ``_validate_params``).

Errors name the parameter, the accepted values and the value given (the
validators of :mod:`sk_mr.validation`); settings that another setting makes
meaningless are accepted with an :class:`~sk_mr.exceptions.MRParameterWarning`
(:func:`sk_mr.validation.warn_ignored`).
"""

import inspect
import numbers
import warnings

from sk_mr.callbacks import MultiplicativeReweighting, find_reweighting
from sk_mr.exceptions import MRParameterWarning
from sk_mr.mw import check_eta, is_eta_rule
from sk_mr.seeding import check_random_state
from sk_mr.validation import check_int, check_option, check_real, warn_ignored

#: The values ``loss_pass`` takes.
LOSS_PASSES = ("full", "online")


def check_mr_params(net):
    """Validate an MR net's own parameters; warn about those that have no effect.

    Raises
    ------
    ValueError, TypeError
      Naming the parameter and its bad value.
    """
    from sk_mr.mixin import MRMixin

    check_eta(net.eta, allow_auto=True)
    if is_eta_rule(net.eta) and type(net).chance_loss is MRMixin.chance_loss:
        net.chance_loss()  # refuses: this task has no know-nothing loss
    check_real("mixup_alpha", net.mixup_alpha, low=0)
    if not isinstance(net.amp, bool):
        raise TypeError(f"amp must be True or False, got {net.amp!r}.")
    if net.adversarial is not None and not hasattr(net.adversarial, "train_step"):
        raise TypeError(
            "adversarial must be None or a training strategy with a train_step "
            f"method (see sk_mr.adversarial), got {net.adversarial!r}.")
    check_option("loss_pass", net.loss_pass, LOSS_PASSES)
    check_random_state(net.random_state)
    check_int("updates_per_epoch", net.updates_per_epoch, low=1)
    size = net.loss_pass_batch_size
    if size is not None and size != -1:
        try:
            check_int("loss_pass_batch_size", size, low=1)
        except ValueError:
            raise ValueError(
                "loss_pass_batch_size must be None, -1 (the whole training split) "
                f"or an int >= 1, got {size!r}.") from None
    if net.adversarial is not None and hasattr(net.adversarial, "check_net"):
        # with the net's pending adversarial__* parameters, before they apply
        net.adversarial.check_net(net, {**net.adversarial.get_params(deep=False),
                                        **net.get_params_for("adversarial")})
    _warn_unused(net)


def _declared_reweighting(net):
    """The reweighting callback a fit will use, as declared (before initialize)."""
    given = net.callbacks if isinstance(net.callbacks, (list, tuple)) else []
    found = find_reweighting(list(given) + list(net._default_callbacks))
    return found[0][1] if found else None


def _warn_unused(net):
    """Warn about MW parameters that are set but that nothing reads."""
    reweighting = _declared_reweighting(net)
    if isinstance(reweighting, MultiplicativeReweighting) or (
            isinstance(reweighting, type)
            and issubclass(reweighting, MultiplicativeReweighting)):
        if net.loss_pass == "online" and net.loss_pass_batch_size is not None:
            warn_ignored(
                "loss_pass_batch_size", net.loss_pass_batch_size,
                "loss_pass='online' makes no loss pass (the MW losses are those of the "
                "training batches)", "Set loss_pass='full' for Algorithm 1's pass, or "
                "leave loss_pass_batch_size=None.", stacklevel=4)
        return
    if reweighting is None:
        because = "there is no reweighting callback (callbacks__reweighting=None)"
    else:
        name = reweighting.__name__ if isinstance(reweighting, type) \
            else type(reweighting).__name__
        because = f"the reweighting callback is {name}, which does not use MW weights"
    because += "; only MultiplicativeReweighting reads it"
    eta, default_eta = net.eta, default_of(type(net), "eta")
    if eta is default_eta or (isinstance(eta, str) and eta == default_eta):
        pass  # the estimator's own default: nothing was set
    elif callable(eta) or is_eta_rule(eta) or (
            isinstance(eta, numbers.Real) and eta not in (0, default_eta)):
        warn_ignored("eta", eta, because, "Leave it at its default (or eta=0) with this "
                     "callback.", stacklevel=4)
    if net.updates_per_epoch != default_of(type(net), "updates_per_epoch"):
        warn_ignored("updates_per_epoch", net.updates_per_epoch, because,
                     "Leave it at its default with this callback.", stacklevel=4)


def default_of(cls, name):
    """The default of ``cls``'s parameter ``name`` (its own ``__init__``'s, or a base's)."""
    for klass in cls.__mro__:
        parameter = inspect.signature(klass.__init__).parameters.get(name) \
            if "__init__" in vars(klass) else None
        if parameter is not None and parameter.default is not parameter.empty:
            return parameter.default
    return None


def warn_few_batches(updates_per_epoch, n_batches):
    """Warn that an epoch of ``n_batches`` batches makes fewer updates than asked."""
    warnings.warn(
        f"updates_per_epoch={updates_per_epoch}, but an epoch has only "
        f"{n_batches} batches and MR updates at the end of a "
        f"batch: each epoch makes {n_batches} updates. Set "
        f"updates_per_epoch <= {n_batches}, or a smaller "
        "batch_size.", MRParameterWarning, stacklevel=3)
