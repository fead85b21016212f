"""MRMixin: Multiplicative Reweighting for any skorch net.

The mixin is MR's wiring into skorch, in skorch's idiom for cross-cutting
behaviour (like :class:`skorch.hf.AccelerateMixin`): list it before a skorch
net class, ``class MyNet(MRMixin, NeuralNet)``, and the net trains with MR.
It overrides skorch's hooks and calls ``super()``:

* ``get_split_datasets`` binds the reweighting callback to the training
  rows (the callback contract: :mod:`sk_mr.callbacks`);
* ``get_dataset`` / ``get_iterator`` / ``run_single_epoch`` /
  ``on_batch_begin`` tell which examples each training batch holds (the
  positions come from the loader's batch sampler, see :mod:`sk_mr.batching`);
* ``train_step_single`` trains on :meth:`MRMixin.training_loss`, the
  weighted objective of :mod:`sk_mr.objective` over the per-example losses
  of the net's own ``get_loss``;
* :meth:`MRMixin.example_losses` is the loss pass (:mod:`sk_mr.loss_pass`);
  the MW update is :class:`sk_mr.callbacks.MultiplicativeReweighting`'s and
  its math :mod:`sk_mr.mw`'s;
* ``_validate_params`` checks the MR parameters; a fit call is checked whole
  before anything changes (:func:`sk_mr.validation.check_fit_call`);
* ``load_params`` and skorch's private ``_get_module`` save and load the MR
  state with the criterion's (:mod:`sk_mr.persistence`); skorch's private
  ``_default_callbacks`` adds the reweighting callback (skorch 1.4.0 has no
  public hook for either).

Seeded generators come from :mod:`sk_mr.seeding`, the shared docstring
sections from :mod:`sk_mr._docs`. :class:`sk_mr.MRClassifier`,
:class:`sk_mr.MRBinaryClassifier` and :class:`sk_mr.MRRegressor` are this
mixin on skorch's three nets, each with only what its task needs.
"""

import contextlib

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import Dataset as SkorchDataset
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_tensor
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader

from sk_mr import loss_pass, objective, persistence, seeding
from sk_mr._docs import fill_mr_doc
from sk_mr.batching import (Dataset, collate, data_fingerprint, record_batch_positions,
                            subset_positions)
from sk_mr.callbacks import MultiplicativeReweighting, ReweightingSettings, find_reweighting
from sk_mr.objective import MixupTarget
from sk_mr._params import check_mr_params, warn_few_batches
from sk_mr.validation import (check_fit_call, check_target_shape, floating_dtype,
                              forward_params, is_elementwise_loss, module_output_shape)

__all__ = ["MRMixin", "MixupTarget", "fill_mr_doc"]


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

    def _check_target_layout(self, y):
        """Return ``y`` in the layout the task trains on (task hook): as it is."""
        return y

    def _check_targets(self, X, y, cold, classes=None):
        """Validate the targets of a fit call (task hook); return what they imply."""
        return None

    def _output_needed(self, checked):
        """Whether the targets need the module's output checked (task hook): only
        those that depend on the output's shape, so other calls run no extra pass."""
        return checked["y"] is not None and is_elementwise_loss(self.criterion)

    def _check_output(self, checked, X, fresh=False, **fit_params):
        """Check ``checked['y']`` against the module's output; store the result."""
        shape = module_output_shape(self, X, fresh=fresh, **fit_params)
        checked["y"] = self._check_target_shape(checked["y"], shape, checked["targets"])
        checked["output_checked"] = True

    def _check_target_shape(self, y, output_shape, targets):
        """Return ``y`` shaped as the module's output, or refuse it (task hook; see
        :func:`sk_mr.validation.check_target_shape`)."""
        if y is None or output_shape is None or not is_elementwise_loss(self.criterion):
            return y
        name = getattr(self.criterion, "__name__", type(self.criterion).__name__)
        return check_target_shape(y, output_shape, name)

    def _apply_targets(self, targets, X, **fit_params):
        """Adopt what :meth:`_check_targets` found, once the net is initialized."""

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

    def _initialize_mr_generators(self):
        self.rng_ = np.random.default_rng(self.random_state)
        self.torch_rng_ = None

    def _initialize_strategy(self):
        if self.adversarial is not None:
            self._apply_adversarial_params()
            if hasattr(self.adversarial, "initialize"):
                self.adversarial.initialize()  # a new fit starts from delta = 0

    def _seeded_torch(self):
        """Fork torch's RNG, seeded from ``rng_``, when ``random_state`` is set."""
        seed = None if self.random_state is None else seeding.draw_seed(self.rng_)
        return seeding.forked_torch_rng(seed, self._mr_device())

    def _mixup_generator(self):
        if getattr(self, "torch_rng_", None) is None:
            self.torch_rng_ = seeding.seeded_generator(self._mr_device(),
                                                       seeding.draw_seed(self.rng_))
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
        if isinstance(state.get("torch_rng_"), torch.Generator):
            # A CUDA generator does not unpickle on a CPU-only machine.
            state["torch_rng_"] = seeding.generator_state(state["torch_rng_"])
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        saved = self.__dict__.get("torch_rng_")
        if isinstance(saved, tuple):
            self.torch_rng_ = seeding.restore_generator(
                saved, self._mr_device(), lambda: seeding.draw_seed(self.rng_))

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
            return Dataset(X, y, targets=targets, **self.get_params_for("dataset"))
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
        return floating_dtype(getattr(self, "module_", None))

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
                updates_per_epoch=self.updates_per_epoch)
            reweighting.bind(self, rows, n_rows, fingerprint=data_fingerprint(dataset),
                             settings=settings)
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
        # Copied from skorch 1.4.0 (NeuralNet.get_iterator), which takes no
        # overrides, with sk_mr's collate for DataLoaders.
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
        net takes them in ``on_batch_begin``. ``batches_per_epoch_`` is the
        number of batches of the training epoch (mid-epoch MW updates fall
        at even fractions of it).
        """
        tracked = training and iterator is not None and self._reweighting() is not None
        if tracked:
            self._position_recorder = record_batch_positions(iterator)
            self.batches_per_epoch_ = len(iterator)
            if self.updates_per_epoch > self.batches_per_epoch_:
                warn_few_batches(self.updates_per_epoch, self.batches_per_epoch_)
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

    # -- forward and the weighted objective ------------------------------------
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
        weights of the examples they come from (see ``mixup_alpha``). The
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
        return self._weighted_loss(y_pred, y_true, X, extra_losses)[0]

    def training_loss(self, y_pred, y_true, X=None, extra_losses=None):
        """Return the weighted loss a training step trains on, recording its losses.

        :meth:`get_weighted_loss`, plus the reweighting callback's batch
        regularizer, after handing the batch's per-example losses (of each
        example's own label) to the callback, which keeps them for
        ``loss_pass='online'``. Every training step, adversarial ones
        included, computes its loss here. Parameters as in
        :meth:`get_weighted_loss`.
        """
        self._check_outputs(y_pred)
        loss, own = self._weighted_loss(y_pred, y_true, X, extra_losses)
        positions = getattr(self, "batch_positions_", None)
        reweighting = self._reweighting() if positions is not None else None
        if reweighting is not None:
            reweighting.record_batch_losses(self, positions, objective.mw_losses(*own),
                                            padding=getattr(self, "batch_padding_", None))
            regularizer = reweighting.batch_regularizer(self, y_pred)
            if regularizer is not None:
                loss = loss + regularizer
        return loss

    def _weighted_loss(self, y_pred, y_true, X, extra_losses):
        positions = getattr(self, "batch_positions_", None)
        reweighting = self._reweighting() if positions is not None else None
        weights = None if reweighting is None else reweighting.batch_weights(positions)
        padding = getattr(self, "batch_padding_", None)
        if weights is not None and padding is not None:
            # examples a data-parallel loader repeated to even out its shards
            weights = weights.masked_fill(padding, 0.0)

        def example_terms(labels):
            labels = to_tensor(labels, device=self._mr_device())
            return self._example_loss_terms(y_pred, labels, X=X, training=True)[:2]

        return objective.weighted_loss(
            example_terms, y_true, weights,
            objective.weighted_reduction(getattr(self, "criterion_", None)),
            self._global_weight_total, extra_losses)

    # -- the training step: mixup x adversarial x MR compose here --------------
    def prepare_batch(self, Xi, yi):
        """Return ``(inputs, targets)`` to train on for a batch.

        Moves the batch to the device, lets the reweighting callback correct
        the targets (a no-op for MR) and applies mixup. Every training step,
        adversarial ones included, goes through here.
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

    # -- hooks for data-parallel training (see sk_mr.distributed) ----------------
    def _mr_device(self):
        """Where MR's tensors live: the net's device (CPU when it is None)."""
        return self.device if self.device is not None else "cpu"

    def _backward(self, loss):
        """Backpropagate the training loss (every training step comes here)."""
        loss.backward()

    def _gather_example_losses(self, losses, seen):
        """Combine the per-example losses (float64, 0 where not ``seen``) of all
        processes; return ``(losses, seen)`` for all together (one process: as is)."""
        return losses, seen

    def _global_weight_total(self, total):
        """The weight total that normalizes this process's batch loss."""
        return total

    # -- the loss pass ------------------------------------------------------------
    def example_losses(self, dataset, *, recorded=None, **fit_params):
        """Return each training example's loss for the MW update (the loss pass).

        Without ``recorded``, Algorithm 1's full pass
        (:func:`sk_mr.loss_pass.full_pass`): every example of ``dataset`` at
        the current parameters, in eval mode, un-augmented, with the
        validation iterator (``loss_pass_batch_size`` if set), the fit
        call's forward parameters updated by ``fit_params``, and
        :meth:`get_example_losses`' path. With ``recorded=(losses, seen)``,
        the online pass: the losses the training steps recorded, the
        examples not seen yet given the mean of the others. Either way the
        losses of all processes are combined (data-parallel training), the
        net's modules are left in the mode they were in, and a non-finite
        loss is refused before anything is updated from it.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.
        recorded : tuple of torch.Tensor or None (default=None)
          The online pass's ``(losses, seen)``, one entry per example.
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
          If the full pass did not yield every example of ``dataset``, or a
          loss is not finite (the model diverged).
        """
        if recorded is not None:
            losses, seen = recorded
            losses = torch.where(seen, losses, torch.zeros_like(losses)).to(torch.float64)
            losses = loss_pass.fill_unseen(*self._gather_example_losses(losses, seen))
        else:
            fit_params = {**(getattr(self, "_mr_forward_params", None) or {}), **fit_params}
            with self._modes_kept():
                losses, seen = loss_pass.full_pass(
                    self, dataset, self._example_loss_terms, lambda: self._set_training(False),
                    self._mr_device(), batch_size=self.loss_pass_batch_size, **fit_params)
            losses, seen = self._gather_example_losses(losses, seen)
            loss_pass.check_all_seen(seen)
        return loss_pass.check_finite(losses, epoch=len(self.history))

    @contextlib.contextmanager
    def _modes_kept(self):
        """Restore the training mode of every module and criterion on exit."""
        modules = [getattr(self, name + "_", None) for name in self._modules + self._criteria]
        modes = [(m, m.training) for module in modules if isinstance(module, torch.nn.Module)
                 for m in module.modules()]
        try:
            yield
        finally:
            for m, mode in modes:
                m.training = mode

    # -- persistence: MR's state goes with the criterion's -----------------------
    def _get_module(self, name, msg):
        # Overrides skorch's private hook (skorch 1.4.0): save_params and
        # load_params (and so Checkpoint and LoadInitState) reach the MR
        # state through it, see sk_mr.persistence.
        found = persistence.state_module(self, name, self._reweighting(), msg)
        return found if found is not None else super()._get_module(name, msg)

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
        with persistence.checked_load(self, args, kwargs) as (args, kwargs):
            super().load_params(*args, **kwargs)


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


MRMixin.__doc__ = fill_mr_doc(MRMixin.__doc__)
