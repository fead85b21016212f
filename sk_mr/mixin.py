"""MRMixin: Multiplicative Reweighting for any skorch net.

The mixin is MR's wiring into skorch, in skorch's idiom for cross-cutting
behaviour (like :class:`skorch.hf.AccelerateMixin`): list it before a skorch
net class, ``class MyNet(MRMixin, NeuralNet)``, and the net trains with MR.
It overrides skorch's hooks and calls ``super()``. :class:`MRMixin` itself
holds the MR parameters, their validation (skorch's ``_validate_params``,
with ``sk_mr._params``), the fit entry points (a fit call is checked whole
before anything changes: ``sk_mr.validation.check_fit_call``), the binding of
the reweighting callback to the training rows in ``get_split_datasets`` (the
contract: :mod:`sk_mr.callbacks`) and the fitted attributes. Each other
concern is a mixin in the module of that concern, which :class:`MRMixin`
derives from:

* ``sk_mr.training.TrainingStepMixin``: the per-batch path (``train_step``,
  mixup, :meth:`MRMixin.training_loss`, the weighted objective of
  :mod:`sk_mr.objective` over the per-example losses of the net's own
  ``get_loss``);
* ``sk_mr.loss_pass.LossPassMixin``: :meth:`MRMixin.example_losses`, the
  loss pass (the MW update is :class:`sk_mr.callbacks.MultiplicativeReweighting`'s
  and its math :mod:`sk_mr.mw`'s);
* ``sk_mr.batching.BatchingMixin``: ``get_dataset`` / ``get_iterator`` /
  ``run_single_epoch`` / ``on_batch_begin``, which tell which examples each
  training batch holds;
* ``sk_mr.persistence.PersistenceMixin``: ``load_params`` and skorch's
  private ``_get_module``, which save and load the MR state with the
  criterion's;
* ``sk_mr.seeding.SeedingMixin``: the generators seeded from
  ``random_state``;
* ``sk_mr.validation.FitChecksMixin``: the task hooks of the fit checks.

skorch's private ``_default_callbacks`` adds the reweighting callback
(skorch 1.4.0 has no public hook for it). The shared docstring sections come
from ``sk_mr._docs``. :class:`sk_mr.MRClassifier`,
:class:`sk_mr.MRBinaryClassifier` and :class:`sk_mr.MRRegressor` are this
mixin on skorch's three nets, each with only what its task needs.
"""

import math

from skorch import NeuralNet
from sklearn.exceptions import NotFittedError

from sk_mr._docs import fill_mr_doc
from sk_mr._params import check_mr_params
from sk_mr.batching import BatchingMixin, data_fingerprint, subset_positions
from sk_mr.callbacks import MultiplicativeReweighting, ReweightingSettings, find_reweighting
from sk_mr.loss_pass import LossPassMixin
from sk_mr.objective import MixupTarget
from sk_mr.persistence import PersistenceMixin
from sk_mr.seeding import SeedingMixin
from sk_mr.training import TrainingStepMixin
from sk_mr.validation import FitChecksMixin, check_fit_call, forward_params

__all__ = ["MRMixin", "MixupTarget", "fill_mr_doc"]


class MRMixin(TrainingStepMixin, LossPassMixin, BatchingMixin, PersistenceMixin,
              SeedingMixin, FitChecksMixin):
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

    def __init__(self, *args, eta=0.01, loss_pass="online", loss_pass_batch_size=None,
                 updates_per_epoch=1, mixup_alpha=0.0, adversarial=None, amp=False,
                 random_state=None, **kwargs):
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
        # Overrides skorch's private property (skorch 1.4.0 reads it in
        # get_params as well as in get_default_callbacks).
        callbacks = list(super()._default_callbacks)
        if not find_reweighting(self.callbacks if isinstance(self.callbacks, (list, tuple))
                                else []):
            # A replacement set with callbacks__reweighting=... stands in for
            # the default here too, so get_params(deep=True) reports it.
            replacement = vars(self).get("callbacks__reweighting", MultiplicativeReweighting())
            callbacks.append(("reweighting", replacement))
        return callbacks

    def _validate_params(self):
        """Validate skorch's parameters, then MR's (``sk_mr._params.check_mr_params``)."""
        super()._validate_params()
        if getattr(self, "_checked_inputs", None) is None:  # a fit call checked them already
            self._check_mr_params()

    def _check_mr_params(self):
        check_mr_params(self)

    def _relabel_setting(self):
        """The label correction the reweighting callback may apply: none here
        (:class:`~sk_mr.MRClassifier` has ``relabel``)."""
        return None

    def _fallback_setting(self):
        """The loss the reweighting callback may fall back on: none here
        (:class:`~sk_mr.MRClassifier` has ``fallback_loss``)."""
        return None

    # -- initialization and randomness ------------------------------------------
    def initialize_callbacks(self):
        """Initialize callbacks; at most one reweighting callback is allowed."""
        super().initialize_callbacks()
        names = [name for name, _ in find_reweighting(self.callbacks_)]
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

    def _initialize_strategy(self):
        if self.adversarial is not None:
            self._apply_adversarial_params()
            if hasattr(self.adversarial, "initialize"):
                self.adversarial.initialize()  # a new fit starts from delta = 0

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
        return state

    # -- task hooks and the device
    def _check_outputs(self, y_pred):
        """Check, once per fit call, the module's first training output (task hook)."""

    def chance_loss(self):
        """The criterion's loss of a know-nothing prediction (task hook).

        ``eta='auto'`` compares each example's loss with it. Defined for
        classifiers (``ln K`` for cross-entropy over ``K`` outputs).

        Raises
        ------
        ValueError
          For a task without a know-nothing prediction (regression: what
          counts as a target fitted worse than knowing nothing was never
          measured, so the rule is not offered there).
        """
        raise ValueError(
            f"eta='auto' needs the loss of a know-nothing prediction, which "
            f"{type(self).__name__} does not define: the rule counts examples fitted "
            "worse than chance, a classifier's notion; pass a float eta (in the units "
            "of loss_unit).")

    def loss_unit(self):
        """The criterion's unit of loss for ``eta`` (task hook).

        MR's weights are ``softmax(-(eta / loss_unit()) * L)``, so that
        ``eta`` means the same strength for any criterion. Classifiers
        return the criterion's loss of a know-nothing prediction over that
        of cross-entropy (:meth:`chance_loss` / ``ln K``): exactly 1 for
        cross-entropy, where ``eta`` is the paper's. :class:`MRRegressor`
        returns the criterion's loss of an error of one (robust) standard
        deviation of the targets over its loss of an error of 1 (a robust
        stand-in for the targets' variance under squared error). A net of
        the mixin alone returns 1: there ``eta`` is per unit of the
        criterion's own loss.

        Returns
        -------
        unit : float
          Positive.
        """
        return 1.0

    def _mr_device(self):
        """Where MR's tensors live: the net's device (CPU when it is None)."""
        return self.device if self.device is not None else "cpu"

    # -- fitted attributes ---------------------------------------------------
    def _reweighting(self):
        """The reweighting callback of the initialized net, or None."""
        found = find_reweighting(getattr(self, "callbacks_", []))
        return found[0][1] if found else None

    @property
    def mr_(self):
        reweighting = self._reweighting()
        if reweighting is None:
            raise AttributeError(
                f"{type(self).__name__} has no reweighting callback; it is created by "
                "initialize() or fit() (and removed only by callbacks__reweighting=None).")
        return reweighting

    def _fitted(self, values):
        if values is None:
            raise NotFittedError(
                f"This {type(self).__name__} has no MR weights yet; call fit first.")
        return values

    @property
    def sample_weights_(self):
        try:
            mr = self.mr_
        except AttributeError as exc:
            raise NotFittedError(str(exc)) from exc
        return self._fitted(mr.row_weights())

    @property
    def cumulative_losses_(self):
        self.sample_weights_  # noqa: B018 (refuses an unfitted net first)
        if not hasattr(self.mr_, "row_cumulative_losses"):
            raise AttributeError(
                f"{type(self.mr_).__name__} keeps no cumulative losses; only "
                "MultiplicativeReweighting does.")
        return self._fitted(self.mr_.row_cumulative_losses())

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
        self._checked_inputs = check_fit_call(self, X, y, cold=cold, fit_params=fit_params)
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
        own_check = checked is None
        if own_check:
            checked = self._checked_inputs = check_fit_call(
                self, X, y, cold=not self.initialized_, classes=classes, fit_params=fit_params)
        try:
            if not self.initialized_:
                self.initialize()
            self._mr_forward_params = forward_params(fit_params)
            if checked["trains"] and not checked["output_checked"] and \
                    self._output_needed(checked):
                self._check_output(checked, X, **self._mr_forward_params)  # a new net
            if checked["n_features"] is not None:
                self.n_features_in_ = checked["n_features"]
            self._apply_targets(checked["targets"], X, **self._mr_forward_params)
            self._outputs_checked = False
            with self._seeded_torch():
                return super().partial_fit(X, checked["y"], classes=classes, **fit_params)
        finally:
            if own_check:
                self._checked_inputs = None
            self._mr_forward_params = None
            self._position_recorder = None
            self.batch_positions_ = None

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split as skorch does, then bind the reweighting callback to the training rows.

        The binding hands the callback the training rows, a cheap
        fingerprint of the data (see :func:`sk_mr.batching.data_fingerprint`,
        so that a later ``partial_fit`` on other data is refused instead of
        silently treated as the same examples) and the net's MW settings
        (:class:`sk_mr.callbacks.ReweightingSettings`).
        """
        # Copied from skorch 1.4.0 (NeuralNet.get_split_datasets): MR needs the
        # dataset it builds, to map the training split to rows of X.
        dataset = self.get_dataset(X, y)
        if not self.train_split:
            dataset_train, dataset_valid = dataset, None
        elif y is None:
            dataset_train, dataset_valid = self.train_split(dataset, **fit_params)
        else:
            dataset_train, dataset_valid = self.train_split(dataset, y, **fit_params)

        reweighting = self._reweighting()
        if reweighting is not None:
            rows, n_rows = subset_positions(dataset_train, root=dataset)
            settings = ReweightingSettings(
                device=self._mr_device(), eta=self.eta, loss_pass=self.loss_pass,
                updates_per_epoch=self.updates_per_epoch, relabel=self._relabel_setting(),
                fallback_loss=self._fallback_setting())
            reweighting.bind(self, rows, n_rows, fingerprint=data_fingerprint(dataset),
                             settings=settings)
        return dataset_train, dataset_valid



def unit_ratio(loss, reference, message):
    """``loss / reference``, the unit of eta: exactly 1 where they agree to
    1e-6; ``ValueError(message)`` where the ratio is not positive and finite."""
    unit = loss / reference if math.isfinite(reference) and reference > 0 else math.nan
    if not (math.isfinite(unit) and unit > 0):
        raise ValueError(message)
    return 1.0 if abs(unit - 1.0) <= 1e-6 else unit


MRMixin.__doc__ = fill_mr_doc(MRMixin.__doc__)
