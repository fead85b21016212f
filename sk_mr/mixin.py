"""MRMixin: Multiplicative Reweighting for any skorch net.

The mixin holds the whole MR machinery, in skorch's idiom for cross-cutting
behaviour (like :class:`skorch.hf.AccelerateMixin`): list it before a skorch
net class, ``class MyNet(MRMixin, NeuralNet)``, and the net trains with MR.
It overrides only skorch's documented hooks and calls ``super()``:

* ``get_split_datasets`` binds the MR state to the training rows;
* ``get_dataset`` / ``get_iterator`` / ``run_single_epoch`` /
  ``on_batch_begin`` tell which examples each training batch holds (the
  positions come from the loader's batch sampler, see :mod:`sk_mr.batching`);
* ``train_step_single`` trains on :meth:`MRMixin.get_weighted_loss`, which
  weights the per-example losses of the net's own ``get_loss``;
* :meth:`MRMixin.example_losses` is Algorithm 1's loss pass; the MW update
  itself is :class:`sk_mr.callbacks.MultiplicativeReweighting`'s, and the
  MW math is :mod:`sk_mr.mw`'s.

:class:`sk_mr.MRClassifier`, :class:`sk_mr.MRBinaryClassifier` and
:class:`sk_mr.MRRegressor` are this mixin on skorch's three nets, each with
only what its task needs (labels, thresholds, target dtypes).
"""

import contextlib
import inspect
import io
import numbers
import os
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import Dataset as SkorchDataset
from skorch.dataset import unpack_data
from skorch.history import History
from skorch.utils import is_dataset, multi_indexing, to_tensor
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader

from sk_mr.batching import (Dataset, collate, data_fingerprint, plain_view,
                            record_batch_positions, subset_positions)
from sk_mr.callbacks import MultiplicativeReweighting, SampleReweighting
from sk_mr.exceptions import MRParameterWarning, MRStateWarning
from sk_mr.mw import check_eta, is_eta_rule
from sk_mr.validation import (check_dataframe_columns, check_fit_inputs, check_fit_params,
                              check_target_shape, is_elementwise_loss)

__all__ = ["MRMixin", "MixupTarget", "fill_mr_doc"]

LOSS_PASSES = ("full", "online")
_MR_STATE_PREFIX = "_sk_mr."

#: The MR parameters, shared by the docstrings of the MR estimators.
MR_PARAMETERS_DOC = """
    eta : float, callable or 'auto' (default='auto' for MRClassifier, 0.01 otherwise)
      The MW step size, in units of cross-entropy (see
      :meth:`~sk_mr.MRClassifier.loss_unit`). ``'auto'``, MRClassifier's
      default, chooses it during the fit from the training losses
      (:class:`sk_mr.mw.AutoEta`: once the fraction of examples fitted
      worse than chance has settled, the weights set aside about that
      fraction, and stay uniform on clean data; the eta of each update is
      recorded in ``history[:, 'mr_eta']``); for classifiers.
      ``criterion=torch.nn.CrossEntropyLoss, eta=0.01`` is the paper's MR. A float multiplies the *whole* cumulative loss
      (``p = softmax(-eta * L)``, the FTRL form of MW), so raising eta later
      sharpens the weights of all past losses at once. ``eta=0`` is plain
      training with uniform weights. A callable is called with the number of
      completed epochs at every update (1 after the first epoch; with
      ``updates_per_epoch > 1`` an update inside epoch t gets t - 1) and
      returns eta; see :class:`sk_mr.mw.MultiStepEta` for the paper's
      milestone schedule. eta's scale is that of the loss: it is the inverse
      of the cumulative-loss gap at which one example's weight is ``e``
      times another's.

    loss_pass : {'online', 'full'} (default='online')
      How each example's loss is obtained for the MW update. ``'online'``
      records each example's loss from that epoch's training forward passes
      (no extra pass; the losses come from parameters that change during
      the epoch and from augmented, train-mode forward passes). ``'full'``
      is the paper's Algorithm 1 exactly: an extra pass over the training
      split in eval mode, under inference mode, without training-time
      augmentation, with the validation iterator (``iterator_valid``) and
      the fit parameters. The default is ``'online'`` because it measured
      as accurate and faster: over the 13 settings of ``benchmarks/eta.py``
      (3 seeds each) its best-eta accuracy was 0.9 points higher on average
      than the full pass's (worst -0.25), and a fit took 0.75x the time
      (``benchmarks/overhead.py``).

    loss_pass_batch_size : int or None (default=None)
      Batch size of the full loss pass; None uses the validation iterator's
      (``iterator_valid__batch_size``, else ``batch_size``).

    updates_per_epoch : int (default=1)
      Number of MW updates per epoch, at even fractions of the epoch. The
      paper uses 2 on Clothing1M. An update falls at the end of a batch, so
      an epoch of fewer batches than ``updates_per_epoch`` updates after
      each of its batches, and an ``MRParameterWarning`` names both
      numbers (the number of batches is known only once ``train_split``
      has split the data, so this is a warning, not an error).

    mixup_alpha : float (default=0.0)
      Mixup (Zhang et al.) with ``lam ~ Beta(alpha, alpha)`` when > 0. Each
      mixed example ``k`` pairs with ``pi(k)``; the batch loss is
      ``sum_k [lam p_k l(k, y_k) + (1 - lam) p_pi(k) l(k, y_pi(k))] / sum_k p_k``:
      every target term carries the MR weight of the example the target
      came from, and since ``pi`` permutes the batch the denominator (the
      total weight of both terms) is exactly ``sum_k p_k``. With uniform
      weights this is ordinary mixup.

    adversarial : training strategy or None (default=None)
      An adversarial-training strategy from :mod:`sk_mr.adversarial` (e.g.
      ``FreeAdversarialTraining(eps=8/255, replays=4)``). It owns the
      optimizer steps of each batch and reuses this net's mixup and weighted
      loss, so MR, mixup, label smoothing and adversarial training compose.
      Its parameters are reachable as ``adversarial__eps`` etc. (in
      ``set_params`` and grid searches).

    amp : bool (default=False)
      Automatic mixed precision: forward passes run under
      :func:`torch.autocast` with bfloat16 (no gradient scaler needed) on the
      net's device type; losses are computed in float32. Meant for CUDA.

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds everything random in a fit: the module's initialization, the
      shuffling of batches, dropout, mixup and adversarial perturbations.
      The global torch RNG is forked, never advanced, so a seeded fit is
      reproducible whatever ran before it. None uses torch's global RNG, as
      skorch does.
"""

#: The MR fitted attributes, shared by the docstrings of the MR estimators.
MR_ATTRIBUTES_DOC = """
    sample_weights_ : numpy.ndarray of float64, shape (n_rows,)
      Current MR weight of each row of the X given to fit; training rows sum
      to one, rows held out by ``train_split`` are NaN.

    cumulative_losses_ : numpy.ndarray of float64, shape (n_rows,)
      Cumulative loss ``L_i`` of each row (NaN for held-out rows).

    mr_ : SampleReweighting
      The weighting callback (also what ``save_params(f_mr=...)`` saves).

    n_features_in_ : int
      Number of features of a 2-dimensional X given to fit.

    history_ : skorch.History
      In addition to skorch's keys, ``mr_ess`` (effective sample size
      ``1 / sum(p^2)`` after each update) and ``mr_eta``.
"""

#: How the criterion is used, shared by the docstrings of the MR estimators.
MR_CRITERION_DOC = """
      To get one loss per example MR calls ``get_loss`` (the net's own,
      including any override) with the ``reduction`` of every criterion
      temporarily set to ``'none'``, so a criterion must either honour a
      ``reduction`` attribute (all torch losses do) or return one loss per
      example. With several outputs or positions per example (multi-output
      regression, multilabel, sequences) an example's summed loss ``s_i`` and
      the number ``n_i`` of positions it counts in the criterion's own mean
      (its class weights for cross-entropy's ``weight``, 0 for
      ``ignore_index`` padding; ``n_i = 1`` with one position, and for
      ``KLDivLoss(reduction='batchmean')``) define its MR loss, the mean
      ``s_i / n_i`` over the positions it counts. ``criterion__reduction``
      says how the *weighted* losses of a training batch are reduced:
      ``'mean'`` (default) and ``'batchmean'`` give
      ``sum(p_i s_i) / sum(p_i n_i)``, ``'sum'`` gives the batch size times
      ``sum(p_i s_i) / sum(p_i)``, so that with uniform weights (``eta=0``)
      the batch loss and its gradient are exactly the criterion's. Outside
      training (validation, ``skorch.scoring.loss_scoring``), ``get_loss``
      is skorch's.
"""


class MRMixin:
    """Train any skorch net with Multiplicative Reweighting (MR).

    MR (Bar, Koren and Giryes, Algorithm 1) treats each training example as
    an expert in a multiplicative-weights game. Epoch 1 trains with uniform
    weights; after each epoch every example's loss at the epoch's final
    parameters is added to its cumulative loss ``L_i``, and the next epoch
    trains on the weighted loss ``sum(p_i l_i) / sum(p_i)`` of each batch,
    with ``p = softmax(-eta * L)``. Examples whose loss stays high (wrong
    labels, outlying targets) fade out.

    List the mixin before the net class, as skorch's own mixins are::

        class MRNet(MRMixin, NeuralNet):
            pass

    It adds the parameters below to the net's and accepts all of the net's.
    The weights are kept by the callback
    :class:`~sk_mr.MultiplicativeReweighting`, present by default under the
    name ``'reweighting'``; replace it with
    ``callbacks__reweighting=RandomReweighting()`` for the random-weighting
    baseline.

    Parameters
    ----------
%(mr_params)s
    Attributes
    ----------
%(mr_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skorch import NeuralNet
    >>> from sk_mr.mixin import MRMixin
    >>> class MRNet(MRMixin, NeuralNet):
    ...     pass
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(1, keepdims=True)
    >>> net = MRNet(torch.nn.Linear, module__in_features=3, module__out_features=1,
    ...             criterion=torch.nn.MSELoss, eta=0.1, max_epochs=3,
    ...             train_split=None, verbose=0).fit(X, y)
    >>> net.sample_weights_.shape
    (64,)
    """

    # ``adversarial__eps=...`` and the like reach the strategy, as
    # ``callbacks__name__param`` reaches a callback.
    prefixes_ = NeuralNet.prefixes_ + ["adversarial"]

    def __init__(
            self,
            *args,
            eta=0.01,
            loss_pass="online",
            loss_pass_batch_size=None,
            updates_per_epoch=1,
            mixup_alpha=0.0,
            adversarial=None,
            amp=False,
            random_state=None,
            **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.eta = eta
        self.loss_pass = loss_pass
        self.loss_pass_batch_size = loss_pass_batch_size
        self.updates_per_epoch = updates_per_epoch
        self.mixup_alpha = mixup_alpha
        self.adversarial = adversarial
        self.amp = amp
        self.random_state = random_state

    # -- defaults and validation ---------------------------------------------
    @property
    def _default_callbacks(self):
        callbacks = list(super()._default_callbacks)
        given = self.callbacks if isinstance(self.callbacks, (list, tuple)) else []
        user_callbacks = [cb[1] if isinstance(cb, (tuple, list)) else cb for cb in given]
        if not any(_is_reweighting(cb) for cb in user_callbacks):
            # A replacement set with callbacks__reweighting=... stands in for
            # the default here too, so get_params(deep=True) reports it.
            replacement = vars(self).get("callbacks__reweighting", MultiplicativeReweighting())
            callbacks.append(("reweighting", replacement))
        return callbacks

    def _check_mr_params(self):
        check_eta(self.eta, allow_auto=True)
        if is_eta_rule(self.eta) and type(self).chance_loss is MRMixin.chance_loss:
            self.chance_loss()  # refuses: this task has no know-nothing loss
        alpha = self.mixup_alpha
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (
                alpha >= 0 and np.isfinite(alpha)):
            raise ValueError(
                f"mixup_alpha must be a finite float >= 0 (0 disables mixup), got {alpha!r}.")
        if not isinstance(self.amp, bool):
            raise TypeError(f"amp must be True or False, got {self.amp!r}.")
        if self.adversarial is not None and not hasattr(self.adversarial, "train_step"):
            raise TypeError(
                "adversarial must be None or a training strategy with a train_step "
                f"method (see sk_mr.adversarial), got {self.adversarial!r}.")
        if self.loss_pass not in LOSS_PASSES:
            raise ValueError(
                f"loss_pass must be one of {LOSS_PASSES}, got {self.loss_pass!r}.")
        k = self.updates_per_epoch
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(
                f"updates_per_epoch must be an int >= 1, got {k!r}.")
        bs = self.loss_pass_batch_size
        if bs is not None and (isinstance(bs, bool) or not isinstance(bs, numbers.Integral)
                               or not (bs >= 1 or bs == -1)):
            raise ValueError(
                "loss_pass_batch_size must be None, -1 (the whole training split) "
                f"or an int >= 1, got {bs!r}.")
        if self.adversarial is not None and hasattr(self.adversarial, "check_net"):
            # with the net's pending adversarial__* parameters, before they apply
            self.adversarial.check_net(self, {**self.adversarial.get_params(deep=False),
                                              **self.get_params_for("adversarial")})
        self._check_mw_params_used()

    def _check_mw_params_used(self):
        """Warn when MW parameters are set but nothing reads them."""
        reweighting = self._declared_reweighting()
        if isinstance(reweighting, MultiplicativeReweighting) or (
                isinstance(reweighting, type)
                and issubclass(reweighting, MultiplicativeReweighting)):
            if self.loss_pass == "online" and self.loss_pass_batch_size is not None:
                warnings.warn(
                    f"loss_pass_batch_size={self.loss_pass_batch_size!r} has no effect "
                    "with loss_pass='online', which makes no loss pass (the MW losses "
                    "are those of the training batches). Set loss_pass='full' for "
                    "Algorithm 1's pass, or leave loss_pass_batch_size=None.",
                    MRParameterWarning, stacklevel=2)
            return
        eta, default_eta = self.eta, _default_eta(type(self))
        ignored = []
        if eta is default_eta or (isinstance(eta, str) and eta == default_eta):
            pass  # the estimator's own default: nothing was set
        elif callable(eta) or is_eta_rule(eta) or (
                isinstance(eta, numbers.Real) and eta not in (0, default_eta)):
            ignored.append(f"eta={eta!r}")
        if self.updates_per_epoch != _MR_DEFAULTS["updates_per_epoch"]:
            ignored.append(f"updates_per_epoch={self.updates_per_epoch!r}")
        if not ignored:
            return
        if reweighting is None:
            who = "there is no reweighting callback (callbacks__reweighting=None)"
        else:
            name = reweighting.__name__ if isinstance(reweighting, type) \
                else type(reweighting).__name__
            who = f"the reweighting callback is {name}, which does not use MW weights"
        warnings.warn(
            f"{' and '.join(ignored)} {'has' if len(ignored) == 1 else 'have'} no effect: "
            f"{who}; only MultiplicativeReweighting reads them. Leave them at their "
            "defaults (or eta=0) with this callback.", MRParameterWarning, stacklevel=2)

    def _declared_reweighting(self):
        """The reweighting callback a fit will use, as declared (before initialize)."""
        given = self.callbacks if isinstance(self.callbacks, (list, tuple)) else []
        for item in list(given) + list(self._default_callbacks):
            cb = item[1] if isinstance(item, (tuple, list)) else item
            if _is_reweighting(cb):
                return cb
        return None

    def _check_fit_inputs(self, X, y, cold, classes=None, fit_params=None):
        """Validate a fit call completely before anything changes; return what it implies.

        Everything a fit call can refuse is checked here, so that a refused
        ``fit`` / ``partial_fit`` leaves a fitted net exactly as it was: the
        parameters, X and y and the fit parameters (:mod:`sk_mr.validation`),
        the task's labels and, when the net has been trained, the targets
        against the module's output for X's first example (through a new
        instance of the module for a cold refit, see :meth:`_output_shape`).
        A net not trained yet has nothing to lose: its output is checked in
        ``partial_fit``, right after ``initialize``, before any training.

        Returns
        -------
        checked : dict
          ``y`` (the targets to train on: reshaped to the output's shape
          where that is unambiguous), ``n_features``, the task's ``targets``
          and ``output_checked``.
        """
        fit_params = fit_params or {}
        trains = _n_epochs(fit_params, self.max_epochs) > 0
        fit_params = _forward_params(fit_params)
        self._check_mr_params()
        check_fit_inputs(X, y)
        check_fit_params(fit_params, self.module)
        check_dataframe_columns(X, self.module)
        y = self._check_target_layout(y)
        n_features = _n_features(X)
        if not cold and n_features is not None and \
                getattr(self, "n_features_in_", n_features) != n_features:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input.")
        checked = {"n_features": n_features, "y": y, "output_checked": False,
                   "trains": trains,
                   "targets": self._check_targets(X, y, cold, classes=classes)}
        # A call that trains no epoch (max_epochs=0) never runs the module. A
        # cold refit of a trained net (one with a history) checks a new
        # instance of the module, the fitted one stays as it is; a warm call
        # checks its module where the targets need it; a net with nothing
        # trained yet is checked in partial_fit, once initialized.
        if trains and self.initialized_:
            if cold and len(getattr(self, "history_", None) or []):
                self._check_output(checked, X, fresh=True, **fit_params)
            elif not cold and self._output_needed(checked):
                self._check_output(checked, X, **fit_params)
        return checked

    def _check_targets(self, X, y, cold, classes=None):
        """Validate the targets of a fit call (task hook); return what they imply."""
        return None

    def _check_target_layout(self, y):
        """Return ``y`` in the layout the task trains on (task hook): as it is."""
        return y

    def _output_needed(self, checked):
        """Whether the targets need the module's output to be checked (task hook).

        A cold refit of a trained net is always checked (a refused call must
        keep the fitted module); otherwise only targets that depend on the
        output's shape are, so other calls run no extra forward pass.
        """
        return checked["y"] is not None and is_elementwise_loss(self.criterion)

    def _check_output(self, checked, X, fresh=False, **fit_params):
        """Check ``checked['y']`` against the module's output; store the result."""
        shape = self._output_shape(X, fresh=fresh, **fit_params)
        checked["y"] = self._check_target_shape(checked["y"], shape, checked["targets"])
        checked["output_checked"] = True

    def _check_target_shape(self, y, output_shape, targets):
        """Return ``y`` shaped as the module's output, or refuse it (task hook).

        For an element-wise criterion (squared error, binary cross-entropy,
        ...) the targets of an example must have the shape of its output:
        see :func:`sk_mr.validation.check_target_shape`.
        """
        if y is None or output_shape is None or not is_elementwise_loss(self.criterion):
            return y
        name = getattr(self.criterion, "__name__", type(self.criterion).__name__)
        return check_target_shape(y, output_shape, name)

    def _output_shape(self, X, fresh=False, **fit_params):
        """The shape of the module's output for X's first example, or None if unknown.

        The example goes through :meth:`infer` in eval mode without
        gradients; every submodule's mode is restored. With ``fresh`` it goes
        through a new instance of ``module`` (built as a cold fit would,
        from a forked RNG), so a cold refit is checked without touching the
        fitted module.
        """
        if is_dataset(X) or not _length(X):
            return None
        fitted = self.__dict__.get("module_")
        if fresh:
            with torch.random.fork_rng(devices=[]):
                module = self.initialized_instance(self.module, self.get_params_for("module"))
            module = module.to(self._mr_device())
        else:
            module = fitted
        if not isinstance(module, torch.nn.Module):
            return None
        first = multi_indexing(X, slice(0, 1))  # cast one example, not all of X
        Xi, _ = collate(Dataset(self._cast_floats(first, _floating_dtype(module))
                                ).__getitems__([0]))
        modes = [(m, m.training) for m in module.modules()]
        module.eval()
        self.module_ = module
        try:
            with torch.no_grad():
                output = self.infer(Xi, **fit_params)
        except Exception as exc:
            n_features = _n_features(X)
            fitted_features = getattr(self, "n_features_in_", None)
            if n_features is not None and fitted_features not in (None, n_features):
                raise ValueError(
                    f"X has {n_features} features, but {type(self).__name__} was fitted "
                    f"with {fitted_features} and its module fails on X "
                    f"({type(exc).__name__}: {exc}). Nothing was changed: pass X with "
                    f"{fitted_features} features, or set the module's parameters "
                    f"(module__...) for {n_features}.") from exc
            raise
        finally:
            for m, mode in modes:
                m.training = mode
            self.module_ = fitted
        output = output[0] if isinstance(output, (tuple, list)) and output else output
        if not torch.is_tensor(output) or output.dim() < 1:
            return None
        return tuple(output.shape[1:])

    def _apply_fit_inputs(self, checked, X, **fit_params):
        if checked["n_features"] is not None:
            self.n_features_in_ = checked["n_features"]
        self._apply_targets(checked["targets"], X, **fit_params)

    def _apply_targets(self, targets, X, **fit_params):
        """Adopt what :meth:`_check_targets` found, once the net is initialized."""


    # -- initialization -------------------------------------------------------
    def initialize_callbacks(self):
        """Initialize callbacks; at most one reweighting callback is allowed."""
        super().initialize_callbacks()
        names = [name for name, cb in self.callbacks_ if _is_reweighting(cb)]
        if len(names) > 1:
            raise ValueError(
                f"Only one sample-reweighting callback may be used, got {names}. "
                "Replace the default with callbacks__reweighting=... instead of "
                "adding a second one.")
        return self

    def initialize(self):
        """Initialize the net, seeding it from ``random_state``.

        ``rng_`` (a numpy Generator) draws sk_mr's host-side random values
        (mixup's lam, the seeds of the module's initialization and of each
        fit call); ``torch_rng_`` (a torch Generator on the net's device,
        created when first needed) draws on-device values such as mixup's
        pairing, so the per-batch path copies nothing from the host.
        """
        self._initialize_mr_generators()
        with self._seeded_torch():
            super().initialize()
        self._initialize_strategy()
        return self

    def _initialize_mr_generators(self):
        self.rng_ = np.random.default_rng(self.random_state)
        self.torch_rng_ = None

    def _initialize_strategy(self):
        if self.adversarial is not None:
            self._apply_adversarial_params()
            if hasattr(self.adversarial, "initialize"):
                self.adversarial.initialize()  # a new fit starts from delta = 0

    @contextlib.contextmanager
    def _seeded_torch(self):
        """Fork torch's RNG and seed it from ``rng_`` when ``random_state`` is set."""
        if self.random_state is None:
            yield
            return
        seed = int(self.rng_.integers(2 ** 62))
        devices = []
        device = _torch_device(self._mr_device())
        if device is not None and device.type == "cuda" and torch.cuda.is_available():
            devices = [device.index if device.index is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices):
            torch.default_generator.manual_seed(seed)
            for index in devices:
                torch.cuda.default_generators[index].manual_seed(seed)
            yield

    def _mixup_generator(self):
        if getattr(self, "torch_rng_", None) is None:
            generator = torch.Generator(device=self._mr_device())
            generator.manual_seed(int(self.rng_.integers(2 ** 62)))
            self.torch_rng_ = generator
        return self.torch_rng_

    def _apply_adversarial_params(self):
        params = self.get_params_for("adversarial")
        if not params:
            return
        if self.adversarial is None:
            raise ValueError(
                f"Cannot set {sorted('adversarial__' + k for k in params)}: "
                "adversarial is None. Pass a strategy, e.g. "
                "adversarial=FreeAdversarialTraining().")
        self.adversarial.set_params(**params)

    def set_params(self, **kwargs):
        """Set parameters; ``adversarial__*`` ones go to the strategy."""
        # skorch would treat these as component parameters and try to
        # re-initialize something; they only concern the strategy.
        strategy_params = {key: kwargs.pop(key) for key in list(kwargs)
                           if key == "adversarial" or key.startswith("adversarial__")}
        super().set_params(**kwargs)
        for key, value in strategy_params.items():
            setattr(self, key, value)
        if any(key != "adversarial" for key in strategy_params):
            self._apply_adversarial_params()
        return self

    # Attributes that live for one fit call only: never pickled.
    _transient_attributes = ("_mr_forward_params", "_position_recorder", "batch_positions_",
                             "batch_padding_", "_checked_inputs", "_outputs_checked")

    def __getstate__(self):
        state = super().__getstate__()
        for name in self._transient_attributes:
            state.pop(name, None)
        generator = state.get("torch_rng_")
        if isinstance(generator, torch.Generator):
            # A CUDA generator does not unpickle on a CPU-only machine: keep
            # its state as a CPU tensor and rebuild it on the net's device.
            state["torch_rng_"] = ("torch.Generator", generator.get_state())
        return state

    def __setstate__(self, state):
        generator = state.get("torch_rng_")
        super().__setstate__(state)
        if isinstance(generator, tuple) and generator[0] == "torch.Generator":
            rebuilt = torch.Generator(device=self._mr_device())
            try:
                rebuilt.set_state(generator[1])
            except RuntimeError:  # a state of another device type
                rebuilt.manual_seed(int(self.rng_.integers(2 ** 62)))
            self.torch_rng_ = rebuilt

    # -- fitted attributes ---------------------------------------------------
    @property
    def mr_(self):
        for _, cb in getattr(self, "callbacks_", []):
            if _is_reweighting(cb):
                return cb
        raise AttributeError(
            f"{type(self).__name__} has no reweighting callback; it is created by "
            "initialize() or fit() (and removed only by callbacks__reweighting=None).")

    def _reweighting_or_none(self):
        try:
            return self.mr_
        except AttributeError:
            return None

    def _fitted_mr(self):
        try:
            mr = self.mr_
        except AttributeError as exc:
            raise NotFittedError(str(exc)) from exc
        if getattr(mr, "train_rows_", None) is None:
            raise NotFittedError(
                f"This {type(self).__name__} has no MR weights yet; call fit first.")
        return mr

    @property
    def sample_weights_(self):
        mr = self._fitted_mr()
        return mr.full_length(mr.probabilities_)

    @property
    def cumulative_losses_(self):
        mr = self._fitted_mr()
        if not hasattr(mr, "cumulative_losses_"):
            raise AttributeError(
                f"{type(mr).__name__} keeps no cumulative losses; only "
                "MultiplicativeReweighting does.")
        return mr.full_length(mr.cumulative_losses_)

    # -- fit entry points: validate before anything changes -------------------
    def fit(self, X, y, **fit_params):
        """Initialize and fit the module with MR (see ``NeuralNet.fit``).

        Parameters and data are validated before anything is initialized, so
        a call with bad input leaves a fitted net as it was.

        Parameters
        ----------
        X : input data, compatible with skorch.dataset.Dataset
          Arrays, tensors, scipy sparse matrices, dicts of them, pandas
          DataFrames (each column goes to ``forward`` as a keyword argument,
          as in skorch) or a map-style Dataset.

        y : target data
          Labels for classifiers (a column ``(n, 1)`` is raveled with a
          ``DataConversionWarning``), targets for regressors (a 1-D ``y`` for
          a module with one output per example is taken as a column).

        **fit_params : dict
          Passed to the module's ``forward``, as in skorch. ``sample_weight``
          is refused (``TypeError``) unless ``forward`` takes an argument of
          that name: MR computes the weight of each example itself
          (``sample_weights_``) and takes no prior weights. To weight
          examples, repeat or drop rows, or pass the weights inside X (a
          dict) and multiply the per-example losses by them in ``get_loss``
          (MR then reweights those losses).

        Returns
        -------
        self
        """
        cold = not self.warm_start or not self.initialized_
        self._checked_inputs = self._check_fit_inputs(X, y, cold=cold, fit_params=fit_params)
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self._checked_inputs = None

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training, accumulating MR state (see ``NeuralNet.partial_fit``).

        For classifiers, ``classes`` (all labels, as scikit-learn's
        ``partial_fit`` takes them) is used on the first call when the net
        has no ``classes``.
        """
        checked = getattr(self, "_checked_inputs", None)
        if checked is None:
            checked = self._check_fit_inputs(X, y, cold=not self.initialized_,
                                             classes=classes, fit_params=fit_params)
        if not self.initialized_:
            self.initialize()
        forward_params = _forward_params(fit_params)
        if checked["trains"] and not checked["output_checked"] and \
                self._output_needed(checked):
            self._check_output(checked, X, **forward_params)  # a new net, before training
        y = checked["y"]
        self._apply_fit_inputs(checked, X, **forward_params)
        self._outputs_checked = False
        try:
            with self._seeded_torch():
                return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self._mr_forward_params = None
            self._position_recorder = None
            self.batch_positions_ = None

    # -- data: datasets, splits and iterators --------------------------------
    def get_dataset(self, X, y=None):
        """Build the dataset as skorch does, with the task's targets.

        float64 arrays (what scikit-learn transformers such as
        ``StandardScaler`` return) are cast to the module's floating dtype,
        so that a Pipeline feeding this net needs no casting step. The items'
        targets are what the criterion takes (for classifiers, labels become
        output indices). skorch's default dataset class is replaced by
        :class:`sk_mr.batching.Dataset`, which fetches in-memory batches with
        one indexing call and keeps the ``y`` given to fit as ``dataset.y``.
        """
        if is_dataset(X):
            return X
        X = self._cast_floats(X)
        targets = None if y is None else self._targets(y)
        if self.dataset is SkorchDataset:
            kwargs = self.get_params_for("dataset")
            return Dataset(X, y, targets=targets, **kwargs)
        return super().get_dataset(X, targets)

    def _cast_floats(self, data, dtype=None):
        dtype = self._module_dtype() if dtype is None else dtype
        if dtype is not None and isinstance(data, np.ndarray) and data.dtype == np.float64 \
                and dtype != torch.float64:
            if dtype == torch.bfloat16:  # numpy has no bfloat16: a tensor
                return torch.from_numpy(data).to(dtype)
            return data.astype(torch.empty((), dtype=dtype).numpy().dtype)
        return data

    def _targets(self, y):
        """What the dataset's items carry as targets (task hook): float64 cast."""
        return self._cast_floats(y, self._target_dtype())

    def _target_dtype(self):
        """The float dtype of targets: the module's, float32 for a bfloat16 module
        (whose outputs :meth:`infer` returns in float32)."""
        dtype = self._module_dtype()
        return torch.float32 if dtype in (None, torch.bfloat16) else dtype


    def _module_dtype(self):
        return _floating_dtype(getattr(self, "module_", None))

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split as skorch does, then bind the MR state to the training rows.

        The binding records which rows of ``X`` are trained on and a cheap
        fingerprint of the data (see :func:`sk_mr.batching.data_fingerprint`),
        so that a later ``partial_fit`` on other data is refused instead of
        silently treated as the same examples.
        """
        dataset = self.get_dataset(X, y)
        if not self.train_split:
            dataset_train, dataset_valid = dataset, None
        elif y is None:
            dataset_train, dataset_valid = self.train_split(dataset, **fit_params)
        else:
            dataset_train, dataset_valid = self.train_split(dataset, y, **fit_params)

        reweighting = self._reweighting_or_none()
        if reweighting is not None:
            rows, n_rows = subset_positions(dataset_train, root=dataset)
            reweighting.bind(self, rows, n_rows, fingerprint=data_fingerprint(dataset))
        return dataset_train, dataset_valid

    def get_iterator(self, dataset, training=False, **kwargs):
        """Return skorch's iterator; ``kwargs`` override its parameters.

        As in skorch, ``iterator_train`` / ``iterator_valid`` receive the
        dataset and their ``iterator_*__`` parameters, with ``batch_size=-1``
        meaning the whole dataset. When the iterator is torch's
        :class:`~torch.utils.data.DataLoader` and no ``collate_fn`` is given,
        :func:`sk_mr.batching.collate` is used: it collates like
        ``default_collate`` and takes batches that :class:`sk_mr.batching.Dataset`
        fetched with one indexing call as they are.
        """
        if training:
            params = self.get_params_for("iterator_train")
            iterator = self.iterator_train
        else:
            params = self.get_params_for("iterator_valid")
            iterator = self.iterator_valid
        params.update(kwargs)
        params.setdefault("batch_size", self.batch_size)
        if params["batch_size"] == -1:
            params["batch_size"] = len(dataset)
        if iterator is DataLoader and params.get("collate_fn") is None:
            params["collate_fn"] = collate
        return iterator(dataset, **params)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run an epoch as skorch does, knowing the positions of training batches.

        For a training epoch the iterator's batch sampler records the positions
        of each batch (see :func:`sk_mr.batching.record_batch_positions`); the
        net takes them in ``on_batch_begin``. The fit parameters are kept for
        the loss pass, which runs the module as training does.
        """
        tracked = training and iterator is not None and self._reweighting_or_none() is not None
        if tracked:
            self._position_recorder = record_batch_positions(iterator)
            self.batches_per_epoch_ = len(iterator)
            self._mr_forward_params = fit_params
            if self.updates_per_epoch > self.batches_per_epoch_:
                warnings.warn(
                    f"updates_per_epoch={self.updates_per_epoch}, but an epoch has only "
                    f"{self.batches_per_epoch_} batches and MR updates at the end of a "
                    f"batch: each epoch makes {self.batches_per_epoch_} updates. Set "
                    f"updates_per_epoch <= {self.batches_per_epoch_}, or a smaller "
                    "batch_size.", MRParameterWarning, stacklevel=2)
        try:
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        finally:
            if tracked:
                self._position_recorder = None
                self.batch_positions_ = None

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        """Take the positions of the training batch about to be trained on."""
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        recorder = getattr(self, "_position_recorder", None)
        if training and recorder is not None:
            self.batch_positions_ = recorder.pop().to(self._mr_device(), non_blocking=True)

    # -- forward and losses -------------------------------------------------------
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

    def _check_outputs(self, y_pred):
        """Check, once per fit call, the module's first training output (task hook)."""

    def chance_loss(self):
        """The criterion's loss of a know-nothing prediction (task hook).

        ``eta='auto'`` compares each example's loss with it. Defined for
        classifiers (``ln K`` for cross-entropy over ``K`` outputs).

        Raises
        ------
        ValueError
          For a task without a know-nothing prediction (regression: the
          loss scale is the targets').
        """
        raise ValueError(
            f"eta='auto' needs the loss of a know-nothing prediction, which "
            f"{type(self).__name__} does not define (for regression it depends on "
            "the scale of the targets); pass a float eta.")

    def loss_unit(self):
        """The criterion's unit of loss for ``eta`` (task hook).

        MR's weights are ``softmax(-(eta / loss_unit()) * L)``, so that
        ``eta`` means the same strength for any criterion. Classifiers
        return the criterion's loss of a know-nothing prediction over that
        of cross-entropy (:meth:`chance_loss` / ``ln K``): exactly 1 for
        cross-entropy, where ``eta`` is the paper's. Tasks without a
        know-nothing prediction (regression) return 1: there ``eta`` is per
        unit of the criterion's own loss.

        Returns
        -------
        unit : float
          Positive.
        """
        return 1.0


    @contextlib.contextmanager
    def _per_example_criteria(self):
        """Set every criterion's ``reduction`` to ``'none'`` for the duration."""
        changed = []
        for name in self._criteria:
            criterion = getattr(self, name + "_", None)
            criterion = getattr(criterion, "_orig_mod", criterion)  # torch.compile
            reduction = getattr(criterion, "reduction", None)
            if isinstance(reduction, str) and reduction != "none":
                changed.append((criterion, reduction))
                criterion.reduction = "none"
        try:
            yield
        finally:
            for criterion, reduction in changed:
                criterion.reduction = reduction

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
        return _mw_losses(totals, normalizers, detach=False)

    def _example_loss_terms(self, y_pred, y_true, X=None, training=False):
        """Return ``(totals, normalizers, n_positions)`` of a batch.

        ``totals[i]`` is example i's summed loss over its outputs or
        positions, ``normalizers[i]`` the weight of those positions in the
        criterion's own mean (None: one each), ``n_positions`` the number of
        positions per example. ``sum(totals) / sum(normalizers)`` is the
        criterion's ``'mean'`` and ``sum(totals)`` its ``'sum'``; see
        :meth:`get_example_losses`.
        """
        try:
            with self._per_example_criteria():
                losses = self.get_loss(y_pred, y_true, X=X, training=training)
        except IndexError as exc:
            raise ValueError(
                f"The criterion rejected the targets ({exc}). For "
                "cross-entropy, y must hold labels the net maps to the module's "
                "outputs (see the classes parameter).") from exc
        n = _batch_length(y_pred, y_true)
        n_positions = 1
        if torch.is_tensor(losses) and losses.dim() > 1 and losses.shape[0] == n:
            # several outputs or steps per example: summed here, divided by
            # the positions counted (normalizers), so that both the
            # criterion's 'mean' and its 'sum' come out exactly
            n_positions = losses[0].numel()
            losses = losses.flatten(1).sum(1)
        if not torch.is_tensor(losses) or losses.dim() != 1 or (
                n is not None and losses.shape[0] != n):
            shape = tuple(losses.shape) if torch.is_tensor(losses) else type(losses).__name__
            raise ValueError(
                f"MR needs one loss per example (shape ({n},)), but get_loss returned "
                f"{shape} with the criterion's reduction set to 'none'. A criterion "
                "that only returns one number for the batch cannot be reweighted: "
                "use one with a `reduction` attribute (all torch losses have it) or "
                "one that returns a loss per example.")
        return losses, self._loss_normalizers(y_true, n_positions, losses), n_positions

    def _loss_normalizers(self, y_true, n_positions=1, totals=None):
        """Each example's weight in the criterion's own mean, or None for all ones.

        For cross-entropy / NLL with class indices, the sum over the
        example's positions of their class weights (``criterion__weight``,
        else 1) and 0 for ``ignore_index``; for other criteria the number of
        positions per example; 1 under ``reduction='batchmean'`` (KL
        divergence, a mean over examples). So the weighted mean with uniform
        MR weights equals the criterion's mean.
        """
        criterion = getattr(self, "criterion_", None)
        criterion = getattr(criterion, "_orig_mod", criterion)
        if getattr(criterion, "reduction", None) == "batchmean":
            return None
        if isinstance(criterion, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)) \
                and torch.is_tensor(y_true) and y_true.dim() >= 1 \
                and not y_true.is_floating_point():
            keep = y_true != criterion.ignore_index
            if criterion.weight is None:
                counted = keep.to(torch.float32)
            else:
                counted = criterion.weight[torch.where(keep, y_true, 0)] * keep
            return counted.flatten(1).sum(1) if counted.dim() > 1 else counted
        if n_positions > 1 and totals is not None:
            return torch.full_like(totals, float(n_positions))
        return None  # e.g. class-probability targets: the mean is over examples

    def _weighted_reduction(self):
        reduction = getattr(getattr(self, "criterion_", None), "reduction", "mean")
        return "sum" if reduction == "sum" else "mean"

    def get_weighted_loss(self, y_pred, y_true, X=None, extra_losses=None):
        """Return the MR-weighted loss of a training batch.

        With ``criterion__reduction='mean'`` (the default),
        ``sum_i p_i l_i / sum_i p_i n_i`` over the batch, where ``p_i`` are
        the MR weights of the batch's examples and ``n_i`` their weights in
        the criterion's own mean (see ``criterion``); with ``'sum'``, the
        batch size times ``sum_i p_i l_i / sum_i p_i``. ``y_true`` may be a
        :class:`MixupTarget`, whose two label terms are weighted by the MR
        weights of the examples they come from (see ``mixup_alpha``). The
        weights are gathered on the module's device from the positions of the
        batch; nothing is copied to the host. The per-example losses are also
        handed to the reweighting callback (``loss_pass='online'``).

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output for the batch.

        y_true : torch.Tensor, array-like or MixupTarget
          Targets.

        X : input data (default=None)
          The batch's input.

        extra_losses : torch.Tensor of shape (batch,) or None (default=None)
          Additional per-example loss terms (e.g. TRADES' KL term), weighted
          with each example's own MR weight like the criterion's losses.

        Returns
        -------
        loss : torch.Tensor (scalar)
        """
        self._check_outputs(y_pred)
        if isinstance(y_true, MixupTarget):
            terms = [(y_true.lam, y_true.y_a, None),
                     (1.0 - y_true.lam, y_true.y_b, y_true.permutation)]
        else:
            terms = [(1.0, y_true, None)]
        positions = getattr(self, "batch_positions_", None)
        reweighting = self._reweighting_or_none() if positions is not None else None
        weights = None if reweighting is None else reweighting.batch_weights(positions)
        padding = getattr(self, "batch_padding_", None)
        if weights is not None and padding is not None:
            # examples a data-parallel loader repeated to even out its shards
            weights = weights.masked_fill(padding, 0.0)
        reduction = self._weighted_reduction()

        total = 0.0
        for i, (coef, target, permutation) in enumerate(terms):
            target = to_tensor(target, device=self._mr_device())
            losses, normalizers, _ = self._example_loss_terms(
                y_pred, target, X=X, training=True)
            if i == 0 and reweighting is not None:
                reweighting.record_batch_losses(
                    self, positions, _mw_losses(losses, normalizers), padding=padding)
            w = weights if weights is None or permutation is None else weights[permutation]
            total = total + coef * _reduce(losses, w, normalizers, reduction,
                                           self._global_weight_total)
        if extra_losses is not None:
            total = total + _reduce(extra_losses, weights, None, reduction,
                                    self._global_weight_total)
        if reweighting is not None:
            regularizer = reweighting.batch_regularizer(self, y_pred)
            if regularizer is not None:
                total = total + regularizer
        return total

    # -- the training step: mixup x adversarial x MR compose here --------------
    def prepare_batch(self, Xi, yi):
        """Return ``(inputs, targets)`` to train on for a batch.

        Moves the batch to the device, lets the reweighting callback correct
        the targets (a no-op for MR) and applies mixup. Every training step,
        adversarial ones included, goes through here.
        """
        Xi = to_tensor(Xi, device=self._mr_device())
        yi = to_tensor(yi, device=self._mr_device())
        reweighting = self._reweighting_or_none()
        if reweighting is not None:
            yi = reweighting.correct_targets(self, Xi, yi)
        return self.mixup_batch(Xi, yi)

    def mixup_batch(self, Xi, yi):
        """Return ``(X_mixed, MixupTarget)``, or ``(Xi, yi)`` when mixup is off.

        ``Xi`` is moved to the net's device first; lam is a host scalar drawn
        from ``rng_``, the pairing permutation is drawn on the device from
        ``torch_rng_``.
        """
        if not self.mixup_alpha:
            return Xi, yi
        Xi = to_tensor(Xi, device=self._mr_device())
        yi = to_tensor(yi, device=self._mr_device())
        lam = float(self.rng_.beta(self.mixup_alpha, self.mixup_alpha))
        permutation = torch.randperm(Xi.shape[0], device=Xi.device,
                                     generator=self._mixup_generator())
        X_mixed = lam * Xi + (1.0 - lam) * Xi[permutation]
        return X_mixed, MixupTarget(yi, yi[permutation], lam, permutation)

    def train_step_single(self, batch, **fit_params):
        """Forward, weighted loss and backward for one batch (with mixup)."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, target = self.prepare_batch(Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_weighted_loss(y_pred, target, X=Xi)
        self._backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    # -- hooks for data-parallel training (see sk_mr.distributed) ----------------
    def _mr_device(self):
        """Where MR's tensors live: the net's device (CPU when it is None)."""
        return self.device if self.device is not None else "cpu"

    def _backward(self, loss):
        """Backpropagate the training loss (every training step comes here)."""
        loss.backward()

    def _gather_example_losses(self, losses, seen):
        """Combine the per-example losses of all processes (one process: as is).

        Parameters
        ----------
        losses : torch.Tensor of float64, shape (n,)
          This process's losses, 0 where not ``seen``.
        seen : torch.Tensor of bool, shape (n,)

        Returns
        -------
        losses, seen : the same for all processes together
        """
        return losses, seen

    def _global_weight_total(self, total):
        """The weight total that normalizes this process's batch loss."""
        return total

    def train_step(self, batch, **fit_params):
        """One optimization step, or the adversarial strategy's steps."""
        if self.adversarial is None:
            return super().train_step(batch, **fit_params)
        return self.adversarial.train_step(self, batch, **fit_params)

    # -- Algorithm 1's loss pass ----------------------------------------------
    def example_losses(self, dataset, **fit_params):
        """Return each example's loss at the current parameters.

        Runs in eval mode under :func:`torch.inference_mode` over the
        un-augmented view of ``dataset`` (see
        :func:`sk_mr.batching.plain_view`), with the validation iterator
        (``iterator_valid`` and its parameters, ``loss_pass_batch_size`` if
        set), ``infer`` with ``fit_params`` and :meth:`get_example_losses`,
        the path training takes. Each batch's losses are placed by the
        positions its batch sampler produced, so a shuffling or sharded
        loader gives the same result. The loader draws its seed from a
        private generator, so the pass leaves the global RNG alone.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.

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
          If the loader did not yield every example of ``dataset``.
        """
        dataset = plain_view(dataset)
        overrides = {}
        if self.loss_pass_batch_size is not None:
            overrides["batch_size"] = self.loss_pass_batch_size
        if isinstance(self.iterator_valid, type) and issubclass(self.iterator_valid, DataLoader):
            # Creating a loader's iterator draws a seed, which must not come
            # from (and advance) the global torch RNG.
            overrides["generator"] = torch.Generator()
        iterator = self.get_iterator(dataset, training=False, **overrides)
        recorder = record_batch_positions(iterator)
        # An adversarial strategy may evaluate the MW losses on perturbed
        # inputs; crafting them needs gradients, so it runs outside
        # inference mode.
        perturb = getattr(self.adversarial, "loss_pass_inputs", None)
        device = self._mr_device()
        losses = torch.zeros(len(dataset), dtype=torch.float64, device=device)
        seen = torch.zeros(len(dataset), dtype=torch.bool, device=device)
        self._set_training(False)
        for batch in iterator:
            positions = recorder.pop().to(device, non_blocking=True)
            Xi, yi = unpack_data(batch)
            if perturb is not None:
                Xi = perturb(self, Xi, yi)
                self._set_training(False)
            yi = to_tensor(yi, device=device)
            with torch.inference_mode():
                y_pred = self.infer(Xi, **fit_params)
                batch_losses, normalizers, _ = self._example_loss_terms(
                    y_pred, yi, X=Xi, training=False)
                batch_losses = _mw_losses(batch_losses, normalizers)
                losses.index_copy_(0, positions, batch_losses.to(torch.float64))
                seen[positions] = True
        losses, seen = self._gather_example_losses(losses, seen)
        if not bool(seen.all()):
            raise ValueError(
                f"The loss pass skipped {int((~seen).sum())} of {len(seen)} examples: "
                "MR needs the loss of every training example, but iterator_valid did "
                "not yield them all (drop_last=True, or a sampler that skips "
                "examples?).")
        return losses

    # -- persistence: MR's state goes with the criterion's -----------------------
    def _get_module(self, name, msg):
        # save_params / load_params (and so skorch's Checkpoint and
        # LoadInitState, which save f_criterion by default) store MR's state
        # in the criterion's file: it is the state of the training objective.
        if name == "criterion_" and self._reweighting_or_none() is not None:
            return _CriterionWithMRState(self, msg)
        return super()._get_module(name, msg)

    def load_params(self, *args, **kwargs):
        """Load parameters as skorch does; warn if MR's state is missing.

        The MR state comes back with the criterion's file (``f_criterion``,
        saved by default by skorch's ``Checkpoint``) or ``f_mr``. It is
        validated whole before anything is loaded (see
        :meth:`sk_mr.callbacks.SampleReweighting.check_state_dict`): a state
        of another reweighting callback, of other training examples, or the
        empty state of an unfitted net over a fitted one is refused with a
        ValueError, and the net (parameters, history, weights) is left as it
        was. A load that restores a training history of several epochs but
        no MR state warns (:class:`sk_mr.exceptions.MRStateWarning`):
        training would resume with uniform weights while the history says MR
        has been running.
        """
        bound = inspect.signature(NeuralNet.load_params).bind(self, *args, **kwargs)
        if bound.arguments.get("checkpoint") is not None and not self.initialized_:
            self.initialize()  # as skorch does, before the files are read
        reweighting = self._reweighting_or_none()
        if reweighting is not None:
            self._check_mr_state_files(reweighting, bound.arguments)
            args, kwargs = bound.args[1:], bound.kwargs
            reweighting.state_restored_ = False
        history_before = getattr(self, "history_", None)
        super().load_params(*args, **kwargs)
        reweighting = self._reweighting_or_none()
        if reweighting is None or getattr(reweighting, "state_restored_", False):
            return
        history = getattr(self, "history_", None)
        n_updates = sum(1 for row in (history or []) if "mr_ess" in row)
        if history is not history_before and n_updates and \
                getattr(reweighting, "n_updates_", 0) < n_updates:
            warnings.warn(
                f"load_params restored a history of {len(history)} epoch(s) with "
                f"{n_updates} MR update(s), but no MR state: training would resume "
                "with uniform weights. Save the MR state with the criterion file "
                "(Checkpoint's default f_criterion='criterion.pt') or with "
                "f_mr=..., and load it the same way.", MRStateWarning, stacklevel=2)

    def _check_mr_state_files(self, reweighting, arguments):
        """Validate the MR state in the files load_params is given, before it loads any.

        A file object is read here once and handed on as an in-memory copy;
        a path is read again when loaded.
        """
        named = dict(arguments.get("kwargs") or {})
        for key in ("f_criterion",):
            if arguments.get(key):
                named[key] = arguments[key]
        checkpoint = arguments.get("checkpoint")
        files = {}
        if checkpoint is not None:
            # the file names are formatted with the history skorch loads first
            history = self.history
            if arguments.get("f_history") is None and checkpoint.f_history is not None:
                self.history = History.from_file(checkpoint.f_history_)
            try:
                files = dict(checkpoint.get_formatted_files(self))
            finally:
                self.history = history
        files.update({key: value for key, value in named.items() if value})
        use_safetensors = arguments.get("use_safetensors", False)
        for key, prefix in (("f_mr", ""), ("f_criterion", _MR_STATE_PREFIX)):
            f = files.get(key)
            if not f:
                continue
            if not isinstance(f, (str, os.PathLike)):
                if key not in named:
                    continue  # checked when loaded
                f = io.BytesIO(f.read())
                target = arguments["kwargs"] if key in arguments.get("kwargs", {}) \
                    else arguments
                target[key] = io.BytesIO(f.getvalue())
            state = self._read_state_file(f, use_safetensors)
            if prefix:
                state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
                if not state:
                    continue  # a criterion file without MR state
            reweighting.check_state_dict(state)

    def _read_state_file(self, f, use_safetensors):
        if use_safetensors:
            from safetensors.torch import load, load_file
            if isinstance(f, (str, os.PathLike)):
                return load_file(f, device="cpu")
            return load(f.getvalue())
        load_kwargs = self.torch_load_kwargs
        if load_kwargs is None:
            load_kwargs = {"weights_only": True}
        return torch.load(f, map_location="cpu", **load_kwargs)


class _CriterionWithMRState:
    """The criterion's state dict, extended with the reweighting callback's."""

    def __init__(self, net, msg):
        self.net = net
        self.msg = msg

    def _criterion(self):
        criterion = getattr(self.net, "criterion_", None)
        return criterion if hasattr(criterion, "state_dict") else None

    def state_dict(self):
        criterion = self._criterion()
        state = dict(criterion.state_dict()) if criterion is not None else {}
        for key, value in self.net.mr_.state_dict().items():
            state[_MR_STATE_PREFIX + key] = value
        return state

    def load_state_dict(self, state_dict):
        own = {k[len(_MR_STATE_PREFIX):]: v for k, v in state_dict.items()
               if k.startswith(_MR_STATE_PREFIX)}
        rest = {k: v for k, v in state_dict.items() if not k.startswith(_MR_STATE_PREFIX)}
        if own:  # validated before the criterion changes
            self.net.mr_.check_state_dict(own)
        criterion = self._criterion()
        if criterion is not None:
            criterion.load_state_dict(rest)
        elif rest:
            raise AttributeError(self.msg.format(name="criterion"))
        if own:
            self.net.mr_.load_state_dict(own)


class MixupTarget:
    """Targets of a mixup batch: ``lam * y_a + (1 - lam) * y_b``.

    Parameters
    ----------
    y_a : torch.Tensor
      Labels of the batch's own examples.

    y_b : torch.Tensor
      Labels of the partners, ``y_a[permutation]``.

    lam : float
      Mixing coefficient of ``y_a``.

    permutation : torch.Tensor of int64
      Partner of each example.
    """

    def __init__(self, y_a, y_b, lam, permutation):
        self.y_a = y_a
        self.y_b = y_b
        self.lam = lam
        self.permutation = permutation

    def __len__(self):
        return len(self.y_a)


def _reduce(losses, weights, normalizers, reduction, global_total=lambda total: total):
    """Reduce per-example losses with MR weights (None: uniform).

    ``global_total`` maps the batch's weight total to the one that
    normalizes it (across processes, see :mod:`sk_mr.distributed`).
    """
    if weights is None:
        if reduction == "sum":
            return losses.sum()
        if normalizers is None:
            return losses.mean()
        return losses.sum() / normalizers.sum()
    weights = weights.to(losses.dtype)
    weighted = (weights * losses).sum()
    # clamp, not a branch: a batch whose weights all underflowed gives a zero
    # gradient instead of 0/0, and the device is never synced.
    tiny = torch.finfo(weights.dtype).tiny
    if reduction == "sum":
        return losses.shape[0] * weighted / global_total(weights.sum()).clamp_min(tiny)
    if normalizers is None:
        return weighted / global_total(weights.sum()).clamp_min(tiny)
    return weighted / global_total(
        (weights * normalizers.to(weights.dtype)).sum()).clamp_min(tiny)


def _mw_losses(losses, normalizers, detach=True):
    """The loss MR accumulates: per example, the mean over the positions it
    counts, without the criterion's class weight."""
    if detach:
        losses = losses.detach()
    if normalizers is None:
        return losses
    normalizers = normalizers.to(losses.dtype)
    return torch.where(normalizers > 0, losses / normalizers.clamp_min(
        torch.finfo(losses.dtype).tiny), torch.zeros_like(losses))


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


def _forward_params(fit_params):
    """The fit parameters skorch passes to the module's forward."""
    # skorch's fit_loop takes ``epochs``; ``_routing_method`` is its routing tag
    return {k: v for k, v in fit_params.items() if k not in ("epochs", "_routing_method")}


def _n_epochs(fit_params, max_epochs):
    epochs = fit_params.get("epochs")
    return max_epochs if epochs is None else epochs


def _floating_dtype(module):
    """The dtype of a module's first floating parameter, or None."""
    if not isinstance(module, torch.nn.Module):
        return None
    for param in module.parameters():
        if param.is_floating_point():
            return param.dtype
    return None


def _length(X):
    try:
        return len(X)
    except TypeError:
        return None


def _n_features(X):
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2 and not is_dataset(X):
        return int(shape[1])
    return None


def _torch_device(device):
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        return None


#: The defaults of MRMixin's own parameters.
_MR_DEFAULTS = {name: p.default for name, p in inspect.signature(
    MRMixin.__init__).parameters.items() if p.default is not p.empty}


def _default_eta(cls):
    """The default eta of an MR estimator class (its own, or MRMixin's)."""
    for klass in cls.__mro__:
        parameter = inspect.signature(klass.__init__).parameters.get("eta") \
            if "__init__" in vars(klass) else None
        if parameter is not None and parameter.default is not parameter.empty:
            return parameter.default
    return _MR_DEFAULTS["eta"]


def _is_reweighting(cb):
    return isinstance(cb, SampleReweighting) or (
        isinstance(cb, type) and issubclass(cb, SampleReweighting))



def fill_mr_doc(doc):
    """Fill the ``%(criterion)s``, ``%(mr_params)s`` and ``%(mr_attributes)s``
    placeholders of an MR estimator's docstring with the shared sections."""
    parts = {"criterion": MR_CRITERION_DOC, "mr_params": MR_PARAMETERS_DOC,
             "mr_attributes": MR_ATTRIBUTES_DOC}
    for key, text in parts.items():
        doc = doc.replace(f"%({key})s\n", "\n" + text.strip("\n") + "\n\n")
    return doc


MRMixin.__doc__ = fill_mr_doc(MRMixin.__doc__)
