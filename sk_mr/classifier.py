"""MRClassifier: a skorch ``NeuralNetClassifier`` trained with Multiplicative Reweighting."""

import numbers

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_tensor
from sklearn.exceptions import NotFittedError
from torch.utils.data import DataLoader

from sk_mr.callbacks import MultiplicativeReweighting, SampleReweighting
from sk_mr.dataset import (IndexedDataset, PositionTrackingLoader, _IndexedCollate,
                           plain_view, subset_positions)
from sk_mr.mw import check_eta
from sk_mr.utils import check_classification_inputs

__all__ = ["MRClassifier", "MixupTarget"]

LOSS_PASSES = ("full", "online")


class MRClassifier(NeuralNetClassifier):
    """Neural network classifier trained with Multiplicative Reweighting (MR).

    MR (Bar, Koren and Giryes, Algorithm 1) treats each training example as
    an expert in a multiplicative-weights game. Epoch 1 trains with uniform
    weights; after each epoch every example's loss at the epoch's final
    parameters is added to its cumulative loss ``L_i``, and the next epoch
    trains on the weighted loss ``sum(p_i l_i) / sum(p_i)`` of each batch,
    with ``p = softmax(-eta * L)``. Examples whose loss stays high (usually
    wrong labels) fade out.

    ``MRClassifier`` accepts every parameter of
    :class:`skorch.NeuralNetClassifier`. The weights are maintained by the
    callback :class:`~sk_mr.MultiplicativeReweighting`, present by default
    under the name ``'reweighting'``; replace it with
    ``callbacks__reweighting=RandomReweighting()`` for the random-weighting
    baseline. The module and the prediction path are untouched: only the
    training iterator knows which examples a batch holds.

    Parameters
    ----------
    module : torch module (class or instance)
      The network; it should return logits (the default criterion is
      :class:`torch.nn.CrossEntropyLoss`).

    criterion : torch criterion class (default=torch.nn.CrossEntropyLoss)
      A per-example criterion. Criteria that accept ``reduction`` are built
      with ``reduction='none'``; a criterion that returns a scalar raises a
      ``ValueError``.

    eta : float or callable (default=0.01)
      The MW step size. It multiplies the *whole* cumulative loss
      (``p = softmax(-eta * L)``, the FTRL form of MW), so raising eta later
      sharpens the weights of all past losses at once. ``eta=0`` is plain
      training with uniform weights. A callable is called with the number of
      completed epochs at every update (1 after the first epoch; with
      ``updates_per_epoch > 1`` an update inside epoch t gets t - 1) and
      returns eta; see
      :class:`sk_mr.mw.MultiStepEta` for the paper's milestone schedule.

    loss_pass : {'full', 'online'} (default='full')
      How each example's loss is obtained for the MW update. ``'full'`` is
      Algorithm 1 exactly: an extra pass over the training split in eval
      mode, under inference mode, unshuffled and without training-time
      augmentation. ``'online'`` records each example's loss from that
      epoch's training forward passes instead (no extra pass; an
      approximation, since those losses come from parameters that change
      during the epoch and from augmented, train-mode forward passes).

    loss_pass_batch_size : int or None (default=None)
      Batch size of the full loss pass; None uses ``2 * batch_size``
      (inference stores no activations).

    updates_per_epoch : int (default=1)
      Number of MW updates per epoch, at even fractions of the epoch. The
      paper uses 2 on Clothing1M.

    mixup_alpha : float (default=0.0)
      Mixup (Zhang et al.) with ``lam ~ Beta(alpha, alpha)`` when > 0. Each
      mixed example ``k`` pairs with ``pi(k)``; the batch loss is
      ``sum_k [lam p_k l(k, y_k) + (1 - lam) p_pi(k) l(k, y_pi(k))] / sum_k p_k``:
      every label term carries the MR weight of the example the label came
      from, and since ``pi`` permutes the batch the denominator (the total
      weight of both terms) is exactly ``sum_k p_k``. With uniform weights
      this is ordinary mixup.

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
      Seeds sk_mr's own randomness (mixup, adversarial perturbations). The
      module initialization and batch shuffling remain skorch's and torch's:
      seed them with ``torch.manual_seed`` as usual.

    train_split : callable or None
      As in skorch (default: 20% stratified validation split). Only the
      training subset is weighted; held-out rows never are.

    Attributes
    ----------
    sample_weights_ : numpy.ndarray of float64, shape (n_rows,)
      Current MR weight of each row of the X given to fit; training rows sum
      to one, rows held out by ``train_split`` are NaN.

    cumulative_losses_ : numpy.ndarray of float64, shape (n_rows,)
      Cumulative loss ``L_i`` of each row (NaN for held-out rows).

    mr_ : SampleReweighting
      The weighting callback (also what ``save_params(f_mr=...)`` saves).

    history_ : skorch.History
      In addition to skorch's keys, ``mr_ess`` (effective sample size
      ``1 / sum(p^2)`` after each update) and ``mr_eta``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.models import MLP  # doctest: +SKIP
    >>> X, y = load_digits(return_X_y=True)
    >>> net = MRClassifier(MLP, eta=0.01, max_epochs=5, train_split=None,
    ...                    module__in_features=64, module__n_classes=10)
    ... # doctest: +SKIP
    >>> net.fit(X.astype(np.float32) / 16, y)  # doctest: +SKIP
    """

    # ``adversarial__eps=...`` and the like reach the strategy, as
    # ``callbacks__name__param`` reaches a callback.
    prefixes_ = NeuralNetClassifier.prefixes_ + ["adversarial"]

    def __init__(
            self,
            module,
            *args,
            criterion=torch.nn.CrossEntropyLoss,
            eta=0.01,
            loss_pass="full",
            loss_pass_batch_size=None,
            updates_per_epoch=1,
            mixup_alpha=0.0,
            adversarial=None,
            amp=False,
            random_state=None,
            **kwargs
    ):
        super().__init__(module, *args, criterion=criterion, **kwargs)
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
        user_callbacks = [cb[1] if isinstance(cb, (tuple, list)) else cb
                          for cb in (self.callbacks or [])]
        if not any(_is_reweighting(cb) for cb in user_callbacks):
            # A replacement set with callbacks__reweighting=... stands in for
            # the default here too, so get_params(deep=True) reports it.
            replacement = vars(self).get("callbacks__reweighting", MultiplicativeReweighting())
            callbacks.append(("reweighting", replacement))
        return callbacks

    def _check_mr_params(self):
        check_eta(self.eta)
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
                               or bs < 1):
            raise ValueError(
                f"loss_pass_batch_size must be None or an int >= 1, got {bs!r}.")

    def _check_fit_inputs(self, X, y):
        self._check_mr_params()
        check_classification_inputs(X, y, classes=self.classes)

    def initialize_criterion(self):
        """Initialize the criterion with ``reduction='none'`` where it applies."""
        kwargs = self.get_params_for("criterion")
        criterion = self.criterion
        reduction = kwargs.get("reduction", getattr(criterion, "reduction", "none")
                               if isinstance(criterion, torch.nn.Module) else "none")
        if reduction != "none":
            raise ValueError(
                f"MRClassifier weights per-example losses, but the criterion "
                f"reduces them (reduction={reduction!r}). Pass the criterion "
                "class without criterion__reduction (MRClassifier sets "
                "reduction='none'), or an instance built with reduction='none'.")
        # skorch builds a class, and rebuilds an instance given criterion__*
        # arguments as type(instance)(**kwargs): both need reduction='none'.
        cls = type(criterion) if isinstance(criterion, torch.nn.Module) else criterion
        rebuilt = not isinstance(criterion, torch.nn.Module) or bool(kwargs)
        if rebuilt and _accepts(cls, "reduction"):
            kwargs["reduction"] = "none"
        self.criterion_ = self.initialized_instance(criterion, kwargs)
        return self

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
        """Initialize the net and sk_mr's own random generators.

        ``rng_`` (a numpy Generator) draws host-side values such as mixup's
        lam; ``torch_rng_`` (a torch Generator on the net's device) draws
        on-device values such as mixup's pairing, so the per-batch path copies
        nothing from the host.
        """
        super().initialize()
        self.rng_ = np.random.default_rng(self.random_state)
        self.torch_rng_ = torch.Generator(device=self.device or "cpu")
        self.torch_rng_.manual_seed(int(self.rng_.integers(2 ** 62)))
        if self.adversarial is not None:
            self._apply_adversarial_params()
            if hasattr(self.adversarial, "initialize"):
                self.adversarial.initialize()  # a new fit starts from delta = 0
        return self

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

    def __getstate__(self):
        state = super().__getstate__()
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
            rebuilt = torch.Generator(device=self.device or "cpu")
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

        Parameters are validated before anything is initialized, so a call
        with bad input leaves a fitted net as it was.
        """
        self._check_fit_inputs(X, y)
        self.inputs_checked_ = True
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self.inputs_checked_ = False

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training, accumulating MR state (see ``NeuralNet.partial_fit``)."""
        if not getattr(self, "inputs_checked_", False):
            self._check_fit_inputs(X, y)
        try:
            return super().partial_fit(X, y, classes=classes, **fit_params)
        finally:
            self.batch_positions_ = None
            self.dataset_train_ = None

    # -- hooks: dataset, split, iterator, loss ---------------------------------
    def get_dataset(self, X, y=None):
        """Build the dataset as skorch does, after matching common dtypes.

        float64 arrays (what scikit-learn transformers such as
        ``StandardScaler`` return) are cast to the module's floating dtype,
        and integer labels to int64, so that a Pipeline feeding this net
        needs no casting step.
        """
        dtype = self._module_dtype()
        if dtype is not None and isinstance(X, np.ndarray) and X.dtype == np.float64 \
                and dtype != torch.float64:
            X = X.astype(torch.empty((), dtype=dtype).numpy().dtype)
        if isinstance(y, np.ndarray) and y.dtype != np.int64 and (
                np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
            # fit validated float labels as whole numbers: class indices
            y = y.astype(np.int64)
        return super().get_dataset(X, y)

    def _module_dtype(self):
        module = getattr(self, "module_", None)
        if not isinstance(module, torch.nn.Module):
            return None
        for param in module.parameters():
            if param.is_floating_point():
                return param.dtype
        return None

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split as skorch does, then bind the MR state to the training rows."""
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
            reweighting.bind(self, rows, n_rows)
        self.dataset_train_ = dataset_train
        return dataset_train, dataset_valid

    def _reweighting_or_none(self):
        try:
            return self.mr_
        except AttributeError:
            return None

    def get_iterator(self, dataset, training=False):
        """Training iterators also report the positions of each batch."""
        if not training or self._reweighting_or_none() is None:
            return super().get_iterator(dataset, training=training)
        kwargs = self.get_params_for("iterator_train")
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        kwargs["collate_fn"] = _IndexedCollate(kwargs.get("collate_fn"))
        loader = self.iterator_train(IndexedDataset(dataset), **kwargs)
        self.batches_per_epoch_ = len(loader)
        return PositionTrackingLoader(loader, self._set_batch_positions)

    def _set_batch_positions(self, positions):
        self.batch_positions_ = positions.to(self.device, non_blocking=True)

    def infer(self, x, **fit_params):
        """Forward a batch, under bfloat16 autocast when ``amp=True``."""
        if not self.amp:
            return super().infer(x, **fit_params)
        device_type = torch.device(self.device).type
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            y_pred = super().infer(x, **fit_params)
        return y_pred.float() if torch.is_tensor(y_pred) else y_pred

    def get_example_losses(self, y_pred, y_true, X=None, training=False):
        """Return the per-example losses of a batch, shape ``(batch,)``.

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output.

        y_true : torch.Tensor or array-like
          Targets.

        X : input data (default=None)
          The batch's input, for criteria that need it.

        training : bool (default=False)
          Whether this is a training batch.

        Returns
        -------
        losses : torch.Tensor, shape (batch,)
        """
        y_true = to_tensor(y_true, device=self.device)
        if isinstance(self.criterion_, torch.nn.NLLLoss):
            eps = torch.finfo(y_pred.dtype).eps
            y_pred = torch.log(y_pred + eps)
        try:
            losses = self.criterion_(y_pred, y_true)
        except IndexError as exc:
            raise ValueError(
                f"The criterion rejected the targets ({exc}). y must hold class "
                f"indices 0..n_outputs-1 for a module with {y_pred.shape[-1]} "
                "outputs.") from exc
        if losses.dim() != 1 or losses.shape[0] != y_pred.shape[0]:
            raise ValueError(
                f"MRClassifier needs one loss per example (shape "
                f"({y_pred.shape[0]},)), but the criterion returned shape "
                f"{tuple(losses.shape)}. Use a criterion with reduction='none' "
                "(pass the class, e.g. criterion=torch.nn.CrossEntropyLoss) or "
                "one that returns per-example losses.")
        return losses

    def get_loss(self, y_pred, y_true, X=None, training=False, extra_losses=None):
        """Return ``sum(p_i l_i) / sum(p_i)`` for training batches, else the mean.

        ``y_true`` may be a :class:`MixupTarget`, whose two label terms are
        weighted by the MR weights of the examples they come from (see
        ``mixup_alpha``). The weights are gathered on the module's device from
        the positions of the batch; nothing is copied to the host.

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output for the batch.

        y_true : torch.Tensor, array-like or MixupTarget
          Targets.

        X : input data (default=None)
          The batch's input.

        training : bool (default=False)
          Training batches are MR-weighted; others use the plain mean.

        extra_losses : torch.Tensor of shape (batch,) or None (default=None)
          Additional per-example loss terms (e.g. TRADES' KL term), weighted
          with each example's own MR weight like the criterion's losses.
        """
        if isinstance(y_true, MixupTarget):
            terms = [(y_true.lam, y_true.y_a, None),
                     (1.0 - y_true.lam, y_true.y_b, y_true.permutation)]
        else:
            terms = [(1.0, y_true, None)]
        positions = getattr(self, "batch_positions_", None)
        reweighting = self.mr_ if training and positions is not None else None
        weights = None if reweighting is None else reweighting.batch_weights(positions)

        total = 0.0
        if weights is not None:
            # clamp, not a branch: a batch whose weights all underflowed gives
            # a zero gradient instead of 0/0, and the device is never synced.
            total_weight = weights.sum().clamp_min(torch.finfo(weights.dtype).tiny)
        for i, (coef, target, permutation) in enumerate(terms):
            losses = self.get_example_losses(y_pred, target, X=X, training=training)
            if weights is None:
                total = total + coef * losses.mean()
                continue
            if i == 0:
                reweighting.record_batch_losses(self, positions, losses)
            w = weights if permutation is None else weights[permutation]
            total = total + coef * (w.to(losses.dtype) * losses).sum() / total_weight
        if reweighting is not None:
            regularizer = reweighting.batch_regularizer(self, y_pred)
            if regularizer is not None:
                total = total + regularizer
        if extra_losses is not None:
            if weights is None:
                total = total + extra_losses.mean()
            else:
                total = total + (weights.to(extra_losses.dtype) * extra_losses).sum() \
                    / total_weight
        return total

    # -- the training step: mixup x adversarial x MR compose here --------------
    def prepare_batch(self, Xi, yi):
        """Return ``(inputs, targets)`` to train on for a batch.

        Moves the batch to the device, lets the reweighting callback correct
        the targets (a no-op for MR) and applies mixup. Every training step,
        adversarial ones included, goes through here.
        """
        Xi = to_tensor(Xi, device=self.device)
        yi = to_tensor(yi, device=self.device)
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
        Xi = to_tensor(Xi, device=self.device)
        yi = to_tensor(yi, device=self.device)
        lam = float(self.rng_.beta(self.mixup_alpha, self.mixup_alpha))
        permutation = torch.randperm(Xi.shape[0], device=Xi.device,
                                     generator=self.torch_rng_)
        X_mixed = lam * Xi + (1.0 - lam) * Xi[permutation]
        return X_mixed, MixupTarget(yi, yi[permutation], lam, permutation)

    def train_step_single(self, batch, **fit_params):
        """Forward, weighted loss and backward for one batch (with mixup)."""
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, target = self.prepare_batch(Xi, yi)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, target, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        """One optimization step, or the adversarial strategy's steps."""
        if self.adversarial is None:
            return super().train_step(batch, **fit_params)
        return self.adversarial.train_step(self, batch, **fit_params)

    # -- Algorithm 1's loss pass ----------------------------------------------
    def example_losses(self, dataset):
        """Return each example's loss at the current parameters.

        Runs in eval mode under :func:`torch.inference_mode`, unshuffled,
        on the un-augmented view of ``dataset`` (see
        :func:`sk_mr.dataset.plain_view`), without touching the global RNG.

        Parameters
        ----------
        dataset : torch.utils.data.Dataset
          Typically the training split.

        Returns
        -------
        losses : torch.Tensor of float64, shape (len(dataset),)
          On the module's device.
        """
        kwargs = self.get_params_for("iterator_valid")
        kwargs.pop("shuffle", None)
        kwargs.pop("sampler", None)
        kwargs.pop("batch_sampler", None)
        kwargs["batch_size"] = self.loss_pass_batch_size or 2 * self.batch_size
        # A private generator: creating a DataLoader iterator draws a seed,
        # which must not come from (and advance) the global torch RNG.
        loader = DataLoader(plain_view(dataset), shuffle=False,
                            generator=torch.Generator(), **kwargs)
        # An adversarial strategy may evaluate the MW losses on perturbed
        # inputs; crafting them needs gradients, so it runs outside
        # inference mode.
        perturb = getattr(self.adversarial, "loss_pass_inputs", None)
        self._set_training(False)
        chunks = []
        for batch in loader:
            Xi, yi = unpack_data(batch)
            if perturb is not None:
                Xi = perturb(self, Xi, yi)
                self._set_training(False)
            with torch.inference_mode():
                y_pred = self.infer(Xi)
                chunks.append(self.get_example_losses(
                    y_pred, yi, X=Xi, training=False).to(torch.float64))
        return torch.cat(chunks)


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


def _is_reweighting(cb):
    return isinstance(cb, SampleReweighting) or (
        isinstance(cb, type) and issubclass(cb, SampleReweighting))


def _accepts(cls, name):
    import inspect
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params
