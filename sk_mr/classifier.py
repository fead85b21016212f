"""MRClassifier and MRBinaryClassifier: skorch's classifiers trained with MR.

Each is :class:`sk_mr.mixin.MRMixin` on the skorch net of its task, plus what
the task needs: how labels become targets and predictions become labels.
"""

import inspect
import math
import numbers

import numpy as np
import torch
from skorch import NeuralNetBinaryClassifier, NeuralNetClassifier
from skorch.utils import is_dataset, to_tensor

from sk_mr.losses import (AutoCrossEntropyLoss, AutoSymmetricCrossEntropy,
                          _auto_symmetric_cross_entropy,
                          GeneralizedCrossEntropy, NCEandRCE, SymmetricCrossEntropy,
                          outputs_are_probabilities)
from sk_mr.mixin import MRMixin, fill_mr_doc, unit_ratio
from sk_mr.mw import is_eta_rule
from sk_mr.validation import (as_numpy, could_be_output_indices, encode_labels,
                              infer_binary_labels, infer_label_classes, ravel_label_column)

__all__ = ["MRBinaryClassifier", "MRClassifier"]

#: The values ``MRClassifier``'s ``relabel`` takes.
RELABEL_OPTIONS = ("auto", None)
#: The values ``MRClassifier``'s ``fallback_loss`` takes.
FALLBACK_LOSS_OPTIONS = ("sce", None)
#: ``(alpha, beta, A)`` of ``fallback_loss='sce'``: AutoSymmetricCrossEntropy's
#: defaults, Wang et al.'s.
_SCE_DEFAULTS = tuple(inspect.signature(AutoSymmetricCrossEntropy).parameters[name].default
                      for name in ("alpha", "beta", "A"))



def _loss_unit(chance_loss, reference):
    """``chance_loss / reference``; exactly 1 where they agree to 1e-6.

    Cross-entropy's know-nothing loss is ``ln K`` up to the rounding of the
    dtype it is computed in; snapping keeps ``eta`` exactly the paper's there.
    """
    return unit_ratio(chance_loss, reference, (
        f"The criterion's loss of a know-nothing prediction is {chance_loss!r}, so "
        "it gives eta no scale; MR needs a criterion whose loss grows when the "
        "prediction is wrong (pass a criterion with a positive loss at uniform "
        "outputs)."))

class _LabelClasses:
    """What both classifiers share: labels encoded by fit, ``classes_`` from them."""

    def initialize(self):
        """Initialize the net (see :meth:`sk_mr.mixin.MRMixin.initialize`)."""
        self.label_classes_ = None
        return super().initialize()

    @property
    def classes_(self):
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is not None:
            return label_classes
        return super().classes_

    def notify(self, method_name, **cb_kwargs):
        """Notify the callbacks as skorch does; batches carry the labels given to fit.

        The items of a batch carry encoded targets (what the criterion
        takes), but ``predict`` returns the labels given to fit. skorch's
        scoring callbacks compare the two: ``EpochScoring`` with caching
        (the default ``valid_acc``) and ``BatchScoring`` take ``y_true``
        from the batches of ``on_batch_end``. So that they compare labels
        with labels, ``on_batch_end`` receives the batch with its targets
        decoded back to the labels (only when fit encoded them).
        """
        batch = cb_kwargs.get("batch")
        label_classes = getattr(self, "label_classes_", None)
        if method_name == "on_batch_end" and label_classes is not None \
                and isinstance(batch, (tuple, list)) and len(batch) == 2 \
                and torch.is_tensor(batch[1]):
            indices = batch[1].detach().to("cpu", torch.int64).numpy()
            cb_kwargs["batch"] = type(batch)((batch[0], label_classes[indices]))
        return super().notify(method_name, **cb_kwargs)


class MRClassifier(_LabelClasses, MRMixin, NeuralNetClassifier):
    """Neural network classifier trained with Multiplicative Reweighting (MR).

    MR (Bar, Koren and Giryes, Algorithm 1) treats each training example as
    an expert in a multiplicative-weights game. Epoch 1 trains with uniform
    weights; after each epoch every example's loss at the epoch's final
    parameters is added to its cumulative loss ``L_i``, and the next epoch
    trains on the weighted loss ``sum(p_i l_i) / sum(p_i)`` of each batch,
    with ``p = softmax(-eta * L)``. Examples whose loss stays high (usually
    wrong labels) fade out.

    ``MRClassifier`` is a drop-in replacement for
    :class:`skorch.NeuralNetClassifier` and accepts all of its parameters:
    the module, the criterion, ``get_loss`` overrides, fit parameters,
    custom loaders and skorch's callbacks see what they see under skorch.
    The weights are kept by the callback
    :class:`~sk_mr.MultiplicativeReweighting`, present by default under the
    name ``'reweighting'``; replace it with
    ``callbacks__reweighting=RandomReweighting()`` for the random-weighting
    baseline. The compatibility page of the user guide lists the few
    intended differences (e.g. a criterion that returns one number for the
    whole batch cannot be reweighted). It is :class:`sk_mr.mixin.MRMixin` on
    skorch's classifier.

    Parameters
    ----------
    module : torch module (class or instance)
      The network. It may return logits or, as skorch's default criterion
      expects, probabilities (e.g. a final softmax); see ``criterion``.

    criterion : torch criterion class or instance (default=AutoCrossEntropyLoss)
      The default, :class:`sk_mr.losses.AutoCrossEntropyLoss`, is
      cross-entropy on the module's output: on logits, or, for a module whose
      outputs are probabilities (non-negative rows summing to one: skorch's
      ``NLLLoss`` convention, e.g. a final softmax), on their log, so such a
      module never trains on a softmax of a softmax; ``predict_proba``
      applies a softmax to logits and returns probabilities as they are.
      ``criterion__*`` parameters (``weight``, ``label_smoothing``, ...) are
      those of :class:`torch.nn.CrossEntropyLoss`.
      :class:`sk_mr.losses.AutoSymmetricCrossEntropy` is the same for the
      symmetric cross-entropy (MR on top of it, at ``eta=0.01``, is the
      user guide's "MR + SCE"). Any other criterion is used as in skorch.
%(criterion)s
    classes : array-like or None (default=None)
      The label of each output, as in skorch. Without it, labels that are
      output indices (``0..K-1``, or non-negative integers below the
      module's number of outputs, e.g. a fold missing a class) are used as
      they are, and any other labels (strings, ``[3, 5, 7]``, ``[-1, 1]``)
      are sorted and mapped to outputs ``0..K-1`` as scikit-learn's
      LabelEncoder does; ``predict`` returns the labels and
      ``predict_proba``'s columns follow ``classes_``.

    train_split : callable or None
      As in skorch (default: 20% stratified validation split). Only the
      training subset is weighted; held-out rows never are.

    relabel : {'auto', None} (default='auto')
      Label correction on top of MR, where the network can make it. With
      ``'auto'``, at the first batch after ``eta='auto'`` has set aside a
      fraction ``M`` of the examples (or up to three updates later, in the
      first half of the schedule, while its pairflip count has begun and
      not settled), one eval-mode pass over the training split measures
      the fraction ``a`` whose predicted class is their label. Where ``a / (1 - M)`` reaches 0.62 (the network fits the
      labels MR keeps), the rest of the training run corrects labels: each
      example trains on ``t onehot(y) + (1 - t) onehot(z)``, with ``t =
      min(1, N p_i)`` its MR weight relative to uniform (below 1 for every
      example MR weighs below uniform) and ``z`` the network's eval-mode
      prediction, every example counts once, mixup runs (``alpha=1``, or
      32 while ``eta='auto'``'s pairflip latch stands, and none where the
      gate opened at or past half the planned updates, off that latch,
      unless ``mixup_alpha`` is set), ``M`` stays where it stood, and MR
      keeps accumulating the losses of the given labels. Elsewhere (a
      network that cannot fit even the kept labels, e.g. a small 1-d CNN on
      MNIST-1D) the rest of the run follows ``fallback_loss``, and on clean
      data (the weights stay uniform, so the gate is never reached) the fit
      is MR's alone, bit for bit. The decision is
      taken once per training run: a warm start or ``partial_fit``
      continues it, ``initialize`` (a cold ``fit``) resets it, and it is
      saved with the MR state. It applies with ``eta='auto'`` (or an
      :class:`~sk_mr.mw.AutoEta`), criteria of the cross-entropy family
      (``torch.nn.CrossEntropyLoss`` and its subclasses, which take class
      probabilities), the net's own ``get_loss`` and no ``adversarial``
      strategy (not measured); elsewhere, and with a float eta as in the
      paper, it does nothing. Under ``criterion__weight`` the corrected
      batches are averaged over their examples, as cross-entropy averages
      class-probability targets. None trains on the given labels only (set
      later, it stops a correction under way; ``M`` stays where the gate
      froze it until a cold ``fit``). The callback's
      ``relabel_ratio_`` and ``relabeling_`` say what the gate read and
      decided. Chosen on ``benchmarks/auto_eta_leads.py`` (the user guide's
      "Label correction") and checked on settings it never saw.

    fallback_loss : {'sce', None} (default='sce')
      What the rest of the training run trains on where the gate of
      ``relabel='auto'`` closes (``a / (1 - M)`` below 0.62: the network
      does not fit even the labels MR keeps, so MR cannot tell its hard
      examples from its noisy ones). With ``'sce'``, from that batch on
      every example counts once, the loss of each training batch is the
      symmetric cross-entropy of Wang et al. (2019) at their defaults
      (``alpha=0.1, beta=1, A=-4``;
      :class:`~sk_mr.losses.AutoSymmetricCrossEntropy`, with the
      criterion's ``weight``, ``ignore_index`` and ``label_smoothing``; an
      SCE criterion is used as it is), and MR steps back: its weights and
      cumulative losses stay where the gate found them. Validation and the
      loss pass stay on the criterion (``train_loss`` is SCE's from the
      gate on). None keeps MR on the criterion. It applies where
      ``relabel='auto'`` does (it follows that gate; ``relabel=None`` never
      falls back), is decided, saved and resumed with the gate, and set to
      None later it stops and MR resumes. The callback's ``falling_back_``
      says whether a fit fell back. Chosen on the closed-gate fits of
      ``benchmarks/auto_eta_leads.py`` (the user guide's "Where the gate
      closes") and checked on settings it never saw.

    average_weights : float in (0, 1] or None (default=0.1)
      Weight averaging at the end of the fit, where MR acted. With a
      fraction ``f``, the fitted modules keep the mean of their parameters
      (and floating-point buffers) after each of the last ``round(f *
      max_epochs * batches per epoch)`` training steps of each ``fit`` or
      ``partial_fit`` call (the last tenth of training, by default), as
      stochastic weight averaging does (Izmailov et al., 2018), instead of
      the last step's. It applies on any schedule whose window holds two
      steps or more, where the gate of ``relabel`` applies (``eta='auto'``, criteria of
      the cross-entropy family, the net's own ``get_loss``, no
      ``adversarial``), and only where MR's weights left uniform in that
      call: on clean data, and with a float eta as in the paper, the fit
      keeps its last step's parameters.
      Training itself is unchanged (a running sum of the parameters on
      their device, one copy of the parameters, one addition per step of
      the window); the mean replaces the parameters in ``on_train_end``,
      before the callbacks' (a :class:`~skorch.callbacks.EarlyStopping`
      with ``load_best=True`` still restores its best epoch).
      ``averaged_steps_`` says how many steps the fit averaged (0: none).
      None keeps the last step's parameters.
%(mr_params)s
    Attributes
    ----------
    classes_ : numpy.ndarray
      The class labels, in output order.

    label_classes_ : numpy.ndarray or None
      The labels when fit encoded them (``predict`` maps output ``k`` to
      ``label_classes_[k]``), None when y held output indices.

    averaged_steps_ : int
      The number of training steps after which the last ``fit`` or
      ``partial_fit`` call summed the parameters it averaged
      (``average_weights``); 0 where it kept the last step's.
%(mr_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_mr import MRClassifier, add_label_noise
    >>> from sk_mr.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
    >>> net = MRClassifier(MLP, module__in_features=64, module__n_classes=10,
    ...                    eta=0.1, max_epochs=10, lr=0.1, train_split=None,
    ...                    random_state=0, verbose=0).fit(X, y_noisy)
    >>> weights = net.sample_weights_
    >>> bool(weights[is_noisy].mean() < weights[~is_noisy].mean())
    True
    """

    def __init__(self, module, *args, criterion=AutoCrossEntropyLoss, eta="auto",
                 relabel="auto", fallback_loss="sce", average_weights=0.1, **kwargs):
        super().__init__(module, *args, criterion=criterion, eta=eta, **kwargs)
        self.relabel = relabel
        self.fallback_loss = fallback_loss
        self.average_weights = average_weights

    def _check_mr_params(self):
        super()._check_mr_params()
        if self.relabel not in RELABEL_OPTIONS:
            raise ValueError(
                f"relabel must be 'auto' or None, got {self.relabel!r}. None trains on the "
                "given labels only (the paper's MR).")
        if self.fallback_loss not in FALLBACK_LOSS_OPTIONS:
            raise ValueError(
                f"fallback_loss must be 'sce' or None, got {self.fallback_loss!r}. None keeps "
                "MR on the criterion where the label-correction gate closes.")
        average = self.average_weights
        if average is not None and (isinstance(average, bool) or not isinstance(
                average, numbers.Real) or not 0 < average <= 1):
            raise ValueError(
                f"average_weights must be a fraction of the training steps in (0, 1] or "
                f"None, got {average!r}. None keeps the parameters of the last step.")

    def _gate_applies(self):
        # The gate and what follows it train on class probabilities (label
        # correction) or on SCE of the criterion's kind (the fallback), so
        # every criterion must be of cross-entropy's family (NLLLoss is not)
        # and the loss must be the net's own (a get_loss override may not
        # be); the gate needs eta='auto''s set-aside fraction; and neither
        # was ever measured with adversarial training (AttackTraining
        # refuses mixup).
        criteria = [getattr(self, name + "_", None) for name in self._criteria]
        # a torch.compile'd criterion is judged by the module it wraps
        criteria = [getattr(c, "_orig_mod", c) for c in criteria]
        return (is_eta_rule(self.eta) and self.adversarial is None
                and type(self).get_loss is MRClassifier.get_loss
                and all(isinstance(c, torch.nn.CrossEntropyLoss) for c in criteria))

    def _relabel_setting(self):
        return self.relabel if self.relabel is not None and self._gate_applies() else None

    def _fallback_setting(self):
        # what follows a closed gate: only where the gate is read
        return self.fallback_loss if self._relabel_setting() is not None else None

    # -- weight averaging (average_weights) ---------------------------------------
    def initialize(self):
        """Initialize the net (see :meth:`sk_mr.mixin.MRMixin.initialize`)."""
        self.averaged_steps_ = 0
        self._reset_average()
        return super().initialize()

    #: Where weight averaging takes the parameters it averages: True (the
    #: default since the ``average_steps@0.1/long`` lead of
    #: benchmarks/auto_eta_leads.py), after each of the last
    #: ``round(average_weights * max_epochs * batches per epoch)`` training
    #: steps; False (the ``average@0.1`` lead, the default before it), at the
    #: ends of the last ``round(average_weights * max_epochs)`` epochs.
    _average_every_step = True
    #: The fewest epochs ``round(average_weights * max_epochs)`` the window
    #: must span: 0, any schedule (the default since the
    #: ``average_steps@0.1`` lead held its third bar, on round E); 2, as the
    #: window of epoch ends needs (``average_steps@0.1/long``, the default
    #: before it).
    _average_min_epochs = 0

    def _reset_average(self, start=None):
        # where averaging applies in this call, the history's length at its
        # start (else None); the running sum of each module's state,
        # snapshots summed, training steps of the call so far
        self._average_start, self._weight_sum, self._weight_count = start, None, 0
        self._average_step = 0

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # averaging applies to this call where the gate does and its window
        # spans round(average_weights * max_epochs) >= _average_min_epochs
        self.averaged_steps_ = 0
        applies = (self.average_weights is not None and self._gate_applies()
                   and round(self.average_weights * self.max_epochs)
                   >= self._average_min_epochs)
        self._reset_average(len(self.history) if applies else None)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        super().on_batch_end(net, batch=batch, training=training, **kwargs)
        n_batches = getattr(self, "batches_per_epoch_", 0)  # set before each epoch
        if not training or getattr(self, "_average_start", None) is None or not n_batches:
            return
        # the window: the last round(average_weights * max_epochs * n_batches)
        # training steps of this call, every step of it; or (the earlier
        # default) the ends of its last round(average_weights * max_epochs)
        # epochs, at least two
        self._average_step += 1
        total = self.max_epochs * n_batches
        if self._average_every_step:
            window, taken = round(self.average_weights * total), True
        else:
            n_epochs = round(self.average_weights * self.max_epochs)
            window = n_epochs * n_batches if n_epochs >= 2 else 0
            taken = self._average_step % n_batches == 0
        if window >= 2 and taken and self._average_step > total - window:
            self._add_to_average()

    def _add_to_average(self):
        # a running sum of every floating-point entry of each module's state,
        # on its device (no copy to the host)
        with torch.no_grad():
            if self._weight_sum is None:
                self._weight_sum = {
                    name: {key: value.detach().to(
                        torch.promote_types(value.dtype, torch.float32), copy=True)
                           for key, value in self._averaged_state(name).items()}
                    for name in self._modules}
            else:
                for name, sums in self._weight_sum.items():
                    for key, value in self._averaged_state(name).items():
                        sums[key].add_(value.detach())
        self._weight_count += 1

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        start = getattr(self, "_average_start", None)
        sums, n_averaged = getattr(self, "_weight_sum", None), getattr(self, "_weight_count", 0)
        self._reset_average()
        if start is None or n_averaged < 2:
            return
        # only where MR acted: its weights left uniform in this call
        etas = [row.get("mr_eta", 0) for row in self.history[start:]]
        if not any(eta > 0 for eta in etas):
            return
        with torch.no_grad():
            for name, module_sums in sums.items():
                state = self._averaged_state(name)
                for key, total in module_sums.items():
                    state[key].copy_(total / n_averaged)
        self.averaged_steps_ = n_averaged

    def _averaged_state(self, name):
        """The floating-point entries of module ``name``'s state (parameters
        and buffers such as batch norm's running statistics), as tensors
        that share the module's storage."""
        module = getattr(self, name + "_")
        return {key: value for key, value in module.state_dict(keep_vars=True).items()
                if torch.is_floating_point(value)}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Return the loss of a batch, as skorch's ``get_loss``, except while
        the reweighting falls back on ``fallback_loss`` (a training batch
        after a closed gate): then the loss is SCE with the criterion's
        ``weight``, ``ignore_index``, ``label_smoothing`` and ``reduction``
        (the criterion itself if it is an
        :class:`~sk_mr.losses.AutoSymmetricCrossEntropy` already).

        Parameters
        ----------
        y_pred : torch.Tensor
          Module output.
        y_true : torch.Tensor or array-like
          Targets.
        X : input data (default=None)
          The batch's input.
        training : bool (default=False)
          Whether this is a training batch.

        Returns
        -------
        loss : torch.Tensor
        """
        reweighting = self._batch_reweighting() if training else None
        if reweighting is None or reweighting.batch_loss(self) is None:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        y_true = to_tensor(y_true, device=self.device)
        criterion = getattr(self.criterion_, "_orig_mod", self.criterion_)  # torch.compile
        if isinstance(criterion, AutoSymmetricCrossEntropy):
            return self.criterion_(y_pred, y_true)
        # SCE at its authors' defaults with the criterion's own options (its
        # reduction is the one MR set for this call): no module per batch
        return _auto_symmetric_cross_entropy(
            y_pred, y_true, *_SCE_DEFAULTS, criterion.weight, criterion.ignore_index,
            criterion.reduction, criterion.label_smoothing, AutoSymmetricCrossEntropy.atol)

    def _takes_class_indices(self):
        """Whether the criterion trains on class indices (cross-entropy)."""
        criterion = self.criterion
        cls = criterion if isinstance(criterion, type) else type(criterion)
        return issubclass(cls, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss))

    # -- labels -----------------------------------------------------------------
    def _check_targets(self, X, y, cold, classes=None):
        label_classes = None if cold else getattr(self, "label_classes_", None)
        probe = False
        if y is not None and not is_dataset(X) and self._takes_class_indices():
            y_arr = as_numpy(y)
            if _holds_labels(y_arr):
                if cold or not hasattr(self, "label_classes_"):
                    given = self.classes if classes is None else classes
                    label_classes = infer_label_classes(y_arr, given)
                    if classes is not None and label_classes is None and len(classes):
                        # partial_fit(classes=[0, 1, 2]): all of them, present or not
                        label_classes = np.asarray(as_numpy(classes))
                    # e.g. y = [1, 3] could be indices of a 4-output module
                    probe = (given is None or not len(given)) and \
                        could_be_output_indices(label_classes)
                elif label_classes is not None:
                    encode_labels(y_arr, label_classes)  # refuses unknown labels
        return {"label_classes": label_classes, "probe": probe}

    def _check_target_layout(self, y):
        # a column of labels, as scikit-learn's classifiers take it
        return ravel_label_column(y) if self._takes_class_indices() else y

    def _output_needed(self, checked):
        return checked["targets"]["probe"] or super()._output_needed(checked)

    def _check_target_shape(self, y, output_shape, targets):
        label_classes = targets["label_classes"]
        if output_shape and label_classes is not None and self._takes_class_indices():
            n_outputs = output_shape[0]
            if targets["probe"] and label_classes.max() < n_outputs:
                targets["label_classes"] = None  # output indices, some classes absent
            elif len(label_classes) != n_outputs:
                raise ValueError(_labels_outputs_message(label_classes, n_outputs))
        return super()._check_target_shape(y, output_shape, targets)

    def _apply_targets(self, targets, X, **fit_params):
        self.label_classes_ = targets["label_classes"]

    def _targets(self, y):
        if not self._takes_class_indices():
            return self._cast_floats(y, self._target_dtype())
        y_arr = y if isinstance(y, (np.ndarray, torch.Tensor)) else as_numpy(y)
        if not _holds_labels(y_arr):
            return y
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is not None:
            return encode_labels(y_arr, label_classes)
        if isinstance(y_arr, torch.Tensor):
            return y_arr if y_arr.dtype == torch.int64 else y_arr.long()
        if y_arr.dtype != np.int64 and (np.issubdtype(y_arr.dtype, np.integer)
                                        or np.issubdtype(y_arr.dtype, np.floating)):
            return y_arr.astype(np.int64)  # output indices, possibly as floats
        return y_arr

    def chance_loss(self):
        """The criterion's loss of a uniform prediction (all-zero logits).

        ``ln K`` for cross-entropy over the module's ``K`` outputs; evaluated
        through the net's own loss, so label smoothing and custom criteria
        count.

        Returns
        -------
        loss : float or None
          None when the module's outputs are not rows of class scores and
          the net knows no classes (a sequence model with a custom loss):
          there is no know-nothing prediction to compare with.
        """
        # the module's output width, recorded from its first training batch
        # when that batch is one row of class scores per example
        n_outputs = getattr(self, "n_outputs_", None)
        if not n_outputs:
            return None
        logits = torch.zeros(1, n_outputs, device=self._mr_device())
        target = torch.zeros(1, dtype=torch.int64, device=self._mr_device())
        with torch.no_grad():
            return float(self.get_example_losses(logits, target)[0])

    def loss_unit(self):
        """:meth:`chance_loss` over ``ln K``: the criterion's unit for ``eta``.

        Exactly 1 for cross-entropy (with or without label smoothing), so
        ``eta`` is the paper's; about 0.50 for GCE (q=0.7) and 1.66 for SCE
        (alpha=0.1, beta=1, A=-4) over 10 classes. A ``get_loss`` that
        scales the loss scales the unit with it. Modules whose outputs are
        not one row of class scores per example (sequences, a single logit
        with float targets) have no know-nothing prediction here: the unit
        is 1, eta per unit of the criterion's own loss.

        Returns
        -------
        unit : float
        """
        n_outputs = getattr(self, "n_outputs_", None)
        if not n_outputs or n_outputs < 2:
            return 1.0
        return _loss_unit(self.chance_loss(), math.log(n_outputs))

    def _check_outputs(self, y_pred):
        output = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        if torch.is_tensor(output) and output.dim() == 2:
            self.n_outputs_ = int(output.shape[1])
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is not None and torch.is_tensor(output) and output.dim() == 2 \
                and output.shape[1] != len(label_classes):
            raise ValueError(_labels_outputs_message(label_classes, output.shape[1]))

    # -- prediction -----------------------------------------------------------
    def _get_predict_nonlinearity(self):
        nonlinearity = super()._get_predict_nonlinearity()
        if self.predict_nonlinearity == "auto" and len(self._criteria) == 1 and isinstance(
                getattr(self, self._criteria[0] + "_", None), _LOGIT_CRITERIA):
            # probabilities as they are, a softmax of logits
            return _softmax_unless_probabilities
        return nonlinearity

    def predict(self, X):
        """Return the class label of each example.

        The labels are those given to fit (``classes_``): output ``k`` is
        ``classes_[k]`` when labels were encoded, and the index ``k`` itself
        when y held output indices, as in skorch.

        Parameters
        ----------
        X : input data, compatible with skorch.dataset.Dataset

        Returns
        -------
        y_pred : numpy.ndarray of shape (n_samples,)
        """
        indices = self.predict_proba(X).argmax(axis=1)
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is None:
            return indices
        return label_classes[indices]


class MRBinaryClassifier(_LabelClasses, MRMixin, NeuralNetBinaryClassifier):
    """Binary classifier (one logit per example) trained with MR.

    :class:`skorch.NeuralNetBinaryClassifier` with Multiplicative
    Reweighting: the module returns one logit per example (shape ``(n,)``
    or ``(n, 1)``), trained with :class:`torch.nn.BCEWithLogitsLoss` on
    per-example losses weighted as in :class:`MRClassifier`. Flipped labels,
    as weak supervision produces them, get high losses and fade out. It is
    :class:`sk_mr.mixin.MRMixin` on skorch's binary classifier.

    Labels: 0/1 (ints, floats or bools) are used as they are, as in skorch;
    any other two labels (``['ham', 'spam']``, ``[-1, 1]``) are sorted and
    mapped to 0 and 1, and ``predict`` returns them. ``predict_proba``
    returns two columns, for ``classes_[0]`` and ``classes_[1]``.

    Parameters
    ----------
    module : torch module (class or instance)
      The network, returning one logit per example.

    criterion : torch criterion class or instance (default=torch.nn.BCEWithLogitsLoss)
      Binary cross-entropy on the logit; ``criterion__pos_weight`` applies.
%(criterion)s
    threshold : float (default=0.5)
      Probabilities above it are predicted as ``classes_[1]``.

    train_split : callable or None
      As in skorch (default: 20% stratified validation split).
%(mr_params)s
    Attributes
    ----------
    classes_ : numpy.ndarray of shape (2,)
      The two labels, for outputs 0 and 1.

    label_classes_ : numpy.ndarray or None
      The two labels when fit encoded them, None when y held 0/1.
%(mr_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_mr import MRBinaryClassifier, add_label_noise
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X).astype(np.float32)
    >>> y_noisy, is_noisy = add_label_noise(y, 0.3, kind="symmetric", random_state=0)
    >>> net = MRBinaryClassifier(torch.nn.Linear, module__in_features=30,
    ...                          module__out_features=1, eta=0.5, max_epochs=20,
    ...                          lr=0.05, train_split=None, random_state=0,
    ...                          verbose=0).fit(X, np.array(["benign", "malignant"])[y_noisy])
    >>> net.classes_
    array(['benign', 'malignant'], dtype='<U9')
    >>> w = net.sample_weights_
    >>> bool(w[is_noisy].mean() < w[~is_noisy].mean())
    True
    """

    def __init__(self, module, *args, criterion=torch.nn.BCEWithLogitsLoss, **kwargs):
        super().__init__(module, *args, criterion=criterion, **kwargs)

    def _check_targets(self, X, y, cold, classes=None):
        label_classes = None if cold else getattr(self, "label_classes_", None)
        if y is not None and not is_dataset(X):
            y_arr = as_numpy(y)
            if _holds_labels(y_arr):
                if cold or not hasattr(self, "label_classes_"):
                    label_classes = infer_binary_labels(y_arr)
                elif label_classes is not None:
                    encode_labels(y_arr, label_classes)
                else:
                    infer_binary_labels(y_arr, require_01=True)
        return {"label_classes": label_classes}

    def _apply_targets(self, targets, X, **fit_params):
        self.label_classes_ = targets["label_classes"]

    def _check_target_layout(self, y):
        return ravel_label_column(y)  # skorch's binary classifier takes y of shape (n,)

    def _targets(self, y):
        y_arr = y if isinstance(y, (np.ndarray, torch.Tensor)) else as_numpy(y)
        if not _holds_labels(y_arr):
            return y
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is not None:
            y_arr = encode_labels(y_arr, label_classes)
        dtype = self._target_dtype()
        if isinstance(y_arr, torch.Tensor):
            return y_arr.to(dtype)
        # BCE takes float targets of the outputs' dtype
        return np.asarray(y_arr).astype(torch.empty((), dtype=dtype).numpy().dtype)

    def chance_loss(self):
        """The criterion's loss of a logit of 0 (probability 1/2): ``ln 2``.

        Returns
        -------
        loss : float
        """
        logit = torch.zeros(1, device=self._mr_device())
        target = torch.zeros(1, device=self._mr_device())
        with torch.no_grad():
            return float(self.get_example_losses(logit, target)[0])

    def loss_unit(self):
        """:meth:`chance_loss` over ``ln 2``: exactly 1 for the default BCE.

        Returns
        -------
        unit : float
        """
        return _loss_unit(self.chance_loss(), math.log(2.0))

    def predict(self, X):
        """Return ``classes_[1]`` where ``predict_proba(X)[:, 1] > threshold``.

        Parameters
        ----------
        X : input data, compatible with skorch.dataset.Dataset

        Returns
        -------
        y_pred : numpy.ndarray of shape (n_samples,)
          The labels given to fit; 0/1 (uint8, as in skorch) when y held 0/1.
        """
        positive = self.predict_proba(X)[:, 1] > self.threshold
        label_classes = getattr(self, "label_classes_", None)
        if label_classes is None:
            return positive.astype("uint8")
        return label_classes[positive.astype(np.int64)]


def _labels_outputs_message(label_classes, n_outputs):
    return (f"y holds {len(label_classes)} distinct labels "
            f"{label_classes[:10].tolist()}, mapped to outputs "
            f"0..{len(label_classes) - 1} as scikit-learn's LabelEncoder does, but "
            f"the module returns {n_outputs} outputs. Give the module "
            f"{len(label_classes)} outputs, or pass classes=[...] with the "
            "label of each output.")


#: sk_mr's criteria on logits: predict_proba gives their softmax (skorch
#: infers it only for torch's CrossEntropyLoss).
_LOGIT_CRITERIA = (AutoCrossEntropyLoss, AutoSymmetricCrossEntropy, GeneralizedCrossEntropy,
                   SymmetricCrossEntropy, NCEandRCE)


def _softmax_unless_probabilities(output):
    return torch.where(outputs_are_probabilities(output), output,
                       torch.softmax(output, dim=-1))


def _holds_labels(y):
    """Whether ``y`` is one label per example (not sequences or multi-output)."""
    if y.ndim != 1:
        return False
    if isinstance(y, np.ndarray) and y.dtype == object:
        return all(np.ndim(v) == 0 for v in y)
    return True


MRClassifier.__doc__ = fill_mr_doc(MRClassifier.__doc__)
MRBinaryClassifier.__doc__ = fill_mr_doc(MRBinaryClassifier.__doc__)
