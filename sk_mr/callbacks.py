"""Callbacks that keep per-example training weights for :class:`~sk_mr.MRClassifier`.

:class:`MultiplicativeReweighting` is Algorithm 1's MW step (present by
default); :class:`RandomReweighting` is the paper's random-weighting baseline.
Both derive from :class:`SampleReweighting`, the contract between the net and
its reweighting.

The contract, one way
---------------------
The net computes, the reweighting decides; neither reads the other's private
state.

* **Binding.** Once per ``fit`` / ``partial_fit``, after ``train_split`` and
  before the first epoch, the net calls :meth:`SampleReweighting.bind` with
  the training rows and a :class:`ReweightingSettings`: its device, ``eta``
  (a float, a schedule or a rule), ``loss_pass`` and ``updates_per_epoch``.
  That is everything the reweighting takes from the net's parameters.
* **Per batch** (the net calls, the reweighting answers on the device,
  without a host sync): :meth:`~SampleReweighting.batch_weights` (the
  weights of the batch's positions), :meth:`~SampleReweighting.correct_targets`,
  :meth:`~SampleReweighting.batch_mixup_alpha`,
  :meth:`~SampleReweighting.batch_loss`,
  :meth:`~SampleReweighting.batch_regularizer`, and, from the training step
  (``MRMixin.training_loss``), :meth:`~SampleReweighting.record_batch_losses`
  with the batch's per-example losses. Label correction
  (``relabel='auto'``) is the one answer that asks the net back: while it
  corrects, ``correct_targets`` predicts with ``net.evaluate_batch``, and
  once per training run, to decide whether to, it reads
  ``net.label_agreement_fraction(dataset_train)``, a pass over the
  training split that synchronizes once (the same reading decides
  ``fallback_loss``).
* **Per update** the reweighting asks the net for the losses through one
  public method, ``net.example_losses(dataset_train)`` (the full pass) or
  ``net.example_losses(dataset_train, recorded=(losses, seen))`` (the
  online pass: the losses it recorded). The net gathers them across
  processes, checks that they are finite and leaves its modules in the mode
  it found them. The MW step itself is :class:`sk_mr.mw.MultiplicativeWeights`'s.
* **Reading the weights** the net goes through public methods:
  :meth:`~SampleReweighting.row_weights`, :meth:`~MultiplicativeReweighting.row_cumulative_losses`,
  :meth:`~SampleReweighting.state_dict` and :meth:`~SampleReweighting.load_state_dict`.

The one value a reweighting reads from the net during an epoch is the net's
public fitted attribute ``batches_per_epoch_``, set before each training
epoch: skorch builds the training iterator after the split that binding
follows, so the number of batches is not known at binding time. Mid-epoch
updates (``updates_per_epoch > 1``) need it.

Why a callback and not a component
----------------------------------
skorch's rule is that the net never calls into a callback for a result;
something the net asks for a result is a component (``criterion=``,
``optimizer=``). The per-batch weights are such a result, so a
``reweighting=`` component parameter would be the skorch way. It is not done
(yet) because the public API is the callback: ``callbacks__reweighting=
RandomReweighting()``, ``callbacks__reweighting__*`` in grid searches,
``callbacks=[...]`` lists holding a reweighting, and ``net.mr_``; a component
would need all of these as aliases with the same behaviour, and the weights'
updates are epoch events (``on_epoch_end``, ``on_batch_end``), which callbacks
observe. The contract above keeps the calls one way and public, so the move
remains a change of wiring only.
"""

import inspect
import math
import warnings
from typing import NamedTuple

import numpy as np
import torch
from skorch.callbacks import Callback

from sk_mr.exceptions import MRParameterWarning
from sk_mr.mw import (AutoEta, MultiplicativeWeights, effective_sample_size, is_eta_rule,
                      make_eta_rule, mw_probabilities, resolve_eta)

__all__ = ["MultiplicativeReweighting", "RandomReweighting", "ReweightingSettings",
           "SampleReweighting", "find_reweighting", "is_reweighting"]

#: Layout version of a saved state (``state_dict()['version']``); 1 added
#: ``kind`` and ``version``. A state without them is an earlier one (version
#: 0), whose kind is told by its keys.
STATE_VERSION = 1


class ReweightingSettings(NamedTuple):
    """What the net tells its reweighting callback when it binds it.

    Parameters
    ----------
    device : str or torch.device (default='cpu')
      Where the weights live (the net's device).
    eta : float, callable, 'auto' or rule (default=0.0)
      The net's ``eta``.
    loss_pass : {'online', 'full'} (default='online')
      The net's ``loss_pass``.
    updates_per_epoch : int (default=1)
      The net's ``updates_per_epoch``.
    relabel : {'auto', None} (default=None)
      The net's ``relabel`` where it applies (an eta rule, every criterion
      of the cross-entropy family, the net's own ``get_loss``, no
      adversarial strategy), else None.
    fallback_loss : {'sce', None} (default=None)
      The net's ``fallback_loss`` where ``relabel`` applies, else None.

    Examples
    --------
    >>> ReweightingSettings(eta=0.01, loss_pass="full")  # doctest: +NORMALIZE_WHITESPACE
    ReweightingSettings(device='cpu', eta=0.01, loss_pass='full', updates_per_epoch=1,
                        relabel=None, fallback_loss=None)
    """

    device: object = "cpu"
    eta: object = 0.0
    loss_pass: str = "online"
    updates_per_epoch: int = 1
    relabel: object = None
    fallback_loss: object = None


def is_reweighting(callback):
    """Whether ``callback`` (an instance or a class) is a :class:`SampleReweighting`."""
    return isinstance(callback, SampleReweighting) or (
        isinstance(callback, type) and issubclass(callback, SampleReweighting))


def find_reweighting(callbacks):
    """Return the ``(name, callback)`` pairs of the reweighting callbacks in ``callbacks``.

    Parameters
    ----------
    callbacks : iterable
      Callbacks or ``(name, callback)`` pairs, as skorch takes them (a
      callback without a name gets None).

    Returns
    -------
    found : list of (str or None, callback)

    Examples
    --------
    >>> from skorch.callbacks import EpochTimer
    >>> find_reweighting([EpochTimer(), ("reweighting", RandomReweighting)])
    [('reweighting', <class 'sk_mr.callbacks.RandomReweighting'>)]
    """
    found = []
    for item in callbacks or []:
        name, callback = item if isinstance(item, (tuple, list)) else (None, item)
        if is_reweighting(callback):
            found.append((name, callback))
    return found


class SampleReweighting(Callback):
    """Base class of callbacks that weight the training examples.

    A subclass sets the weights (float64, one per training example, summing
    to one) through ``_set_probabilities``; they are kept as
    :attr:`batch_weights_`, ``p_i * n`` in float32, which the net reads per
    batch with :meth:`batch_weights`, a pure on-device gather.

    Parameters are stored verbatim in ``__init__``; all state is created in
    :meth:`initialize` (so ``clone`` and a cold ``fit`` reset it) and bound to
    the training split in :meth:`bind`, which the net calls once per ``fit``
    / ``partial_fit`` before the first epoch (see the module's docstring for
    the whole contract).

    Attributes
    ----------
    train_rows_ : numpy.ndarray of int32 (int64 beyond 2**31 rows) or None
      Rows of the ``X`` given to fit that are trained on (and weighted).

    n_rows_ : int or None
      Number of rows of that ``X``.

    batch_weights_ : torch.Tensor of float32 or None
      ``p_i * n``: the weights scaled to mean one (what batches use).

    probabilities_ : torch.Tensor of float64 or None
      Current weights of the training examples, summing to one (computed
      from the state on access).

    n_updates_ : int
      Number of weight updates so far.

    settings_ : ReweightingSettings or None
      What the net said at the last :meth:`bind`.
    """

    # Tensor attributes moved to the net's device in ``bind`` and to the CPU
    # when pickled.
    _tensor_attributes = ("batch_weights_",)

    def initialize(self):
        self.train_rows_ = None
        self.n_rows_ = None
        self.data_fingerprint_ = None
        self.batch_weights_ = None
        self.n_updates_ = 0
        self.settings_ = None
        return self

    @property
    def probabilities_(self):
        if self.batch_weights_ is None:
            return None
        weights = self.batch_weights_.to(torch.float64)
        return weights / weights.sum()

    # -- binding to the training split -------------------------------------
    def bind(self, net, train_rows, n_rows, fingerprint=None, settings=None):
        """Attach the state to the training split of the current fit call.

        Parameters
        ----------
        net : MRClassifier
          The net being trained (not read here: what the callback needs
          from it comes in ``settings``).

        train_rows : numpy.ndarray of int64
          Rows of ``X`` in the training split, in training-dataset order.

        n_rows : int
          Number of rows of ``X``.

        fingerprint : int or None (default=None)
          :func:`sk_mr.batching.data_fingerprint` of the dataset built from
          ``X``; compared with the one the weights were built on.

        settings : ReweightingSettings or None (default=None)
          The net's device and MW parameters; None: the defaults (CPU).

        Raises
        ------
        ValueError
          If weights from an earlier call exist for other examples (another
          split, or other data of the same size); nothing is changed.
        """
        if self.train_rows_ is not None:
            same = (self.n_rows_ == n_rows
                    and np.array_equal(self.train_rows_, train_rows))
            if not same:
                raise ValueError(
                    f"{type(self).__name__} holds weights for a training split of "
                    f"{len(self.train_rows_)} of {self.n_rows_} rows, but this call "
                    f"trains on {len(train_rows)} of {n_rows} rows. Weights belong "
                    "to fixed examples: pass the same X and a deterministic "
                    "train_split (ValidSplit(5), ValidSplit(0.2, random_state=0) "
                    "or None) to "
                    "partial_fit / warm-started fit, or call fit with "
                    "warm_start=False to start over.")
            known = self.data_fingerprint_
            if known is not None and fingerprint is not None and known != fingerprint:
                raise ValueError(
                    f"{type(self).__name__} holds weights for {self.n_rows_} examples, "
                    f"and this call passes {n_rows} examples that differ from them "
                    "(another chunk of data of the same size?). Weights belong to "
                    "fixed examples: new examples are new experts of the MW game, "
                    "with no cumulative loss yet. Pass the same X to partial_fit / "
                    "a warm-started fit, or call fit with warm_start=False to start "
                    "over on the new data (or on old and new data together).")
        else:
            dtype = np.int32 if n_rows < 2 ** 31 else np.int64  # 4 bytes per example
            self.train_rows_ = np.asarray(train_rows, dtype=dtype)
            self.n_rows_ = int(n_rows)
            self.data_fingerprint_ = fingerprint
            self._init_state(len(self.train_rows_))
        self.settings_ = ReweightingSettings() if settings is None else settings
        self._to_device(self.settings_.device)

    def _init_state(self, n_train):
        self._set_probabilities(
            torch.full((n_train,), 1.0 / n_train, dtype=torch.float64))

    def _to_device(self, device):
        for name in self._tensor_attributes:
            value = getattr(self, name, None)
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(device))

    def _set_probabilities(self, probabilities):
        # Batches use p_i * n (mean one) in float32: the per-batch ratio
        # sum(p l) / sum(p) is unchanged, and float32 keeps more of the
        # small weights than p_i itself would.
        self.batch_weights_ = (probabilities * probabilities.shape[0]).to(torch.float32)

    def state_nbytes(self):
        """Bytes of per-example state this callback keeps (MR's memory cost).

        Returns
        -------
        nbytes : int
        """
        total = 0 if self.train_rows_ is None else self.train_rows_.nbytes
        for name in self._tensor_attributes:
            value = getattr(self, name, None)
            if isinstance(value, torch.Tensor):
                total += value.element_size() * value.numel()
        return total

    # -- the per-batch contract ---------------------------------------------
    def batch_weights(self, positions):
        """Return the weights of the examples at ``positions`` (on device).

        Parameters
        ----------
        positions : torch.Tensor of int64
          Positions in the training dataset, on the weights' device.

        Returns
        -------
        weights : torch.Tensor of float32
          Proportional to the examples' probabilities (scaled to mean one).
        """
        return self.batch_weights_[positions]

    def record_batch_losses(self, net, positions, losses, padding=None):
        """Receive the per-example training losses of a batch (no-op here)."""

    def correct_targets(self, net, X, y):
        """Return the targets to train on for a batch (the labels, here).

        Loss-correction baselines (e.g. bootstrapping) override this to
        return soft targets; mixup and MR weights then apply to them as to
        labels. ``X`` is the un-mixed, un-perturbed batch on the device.
        """
        return y

    def batch_regularizer(self, net, y_pred):
        """Return a scalar added to each training batch's loss, or None."""
        return None

    def batch_mixup_alpha(self, net):
        """Return the mixup ``alpha`` of the next training batch (the net's, here)."""
        return net.mixup_alpha

    def batch_loss(self, net):
        """Return the loss the next training batch trains on in place of the
        net's criterion, by name (``'sce'``), or None: the criterion (here)."""
        return None

    # -- what the net exposes -------------------------------------------------
    def row_weights(self):
        """Return the current weight of each row of the X given to fit.

        Returns
        -------
        weights : numpy.ndarray of float64, shape (n_rows,), or None
          Training rows sum to one, rows held out by ``train_split`` are
          NaN; None before the callback is bound (no fit yet).
        """
        if self.train_rows_ is None:
            return None
        return self.full_length(self.probabilities_)

    def full_length(self, values):
        """Scatter per-training-example ``values`` to one entry per row of X.

        Rows held out by ``train_split`` get NaN.
        """
        out = np.full(self.n_rows_, np.nan, dtype=np.float64)
        out[self.train_rows_] = values.detach().to("cpu", torch.float64).numpy()
        return out

    def _record_history(self, net, eta=None):
        net.history.record("mr_ess", effective_sample_size(self.probabilities_))
        if eta is not None:
            net.history.record("mr_eta", eta)

    # -- persistence ----------------------------------------------------------
    #: What a saved state says it is (``state_dict()['kind']``): a state is
    #: loaded only into a callback of the same kind. Subclasses that keep
    #: other state set their own.
    _state_kind = "SampleReweighting"

    def state_dict(self):
        """Return the weighting state as a dict of CPU tensors.

        Loadable with ``torch.load(..., weights_only=True)`` and safetensors;
        used by ``net.save_params(f_mr=...)`` and skorch's ``Checkpoint``. It
        always holds ``kind`` (the callback's kind, as bytes) and
        ``version`` (of the layout); the weights only once the callback is
        bound to training examples.
        """
        state = {"kind": torch.tensor(list(self._state_kind.encode("ascii")),
                                      dtype=torch.uint8),
                 "version": torch.tensor(STATE_VERSION, dtype=torch.int64)}
        if self.train_rows_ is None:
            return state
        state.update({
            "train_rows": torch.from_numpy(self.train_rows_.copy()),
            "n_rows": torch.tensor(self.n_rows_, dtype=torch.int64),
            "n_updates": torch.tensor(self.n_updates_, dtype=torch.int64),
            "probabilities": self.probabilities_.detach().cpu(),
        })
        if self.data_fingerprint_ is not None:
            state["data_fingerprint"] = torch.tensor(self.data_fingerprint_, dtype=torch.int64)
        return state

    def check_state_dict(self, state_dict):
        """Validate a saved state as a whole, before any of it is assigned.

        Checks its kind (a state of another reweighting callback is
        refused), its layout version, every tensor's dtype and shape and the
        weights' values, and, when this callback already holds weights, that
        the state belongs to the same training examples and is not the empty
        state of an unfitted net. :meth:`load_state_dict` and
        ``net.load_params`` call it first, so a refused load changes nothing.

        Parameters
        ----------
        state_dict : dict of str to torch.Tensor

        Raises
        ------
        ValueError
          Naming what is wrong and how to load the state instead.
        """
        _StateCheck(self, state_dict).run()

    def load_state_dict(self, state_dict):
        """Restore the state saved by :meth:`state_dict` (validated first).

        A state without weights (saved before the first fit) leaves an
        unbound callback unbound; loading it over weights is refused (call
        ``initialize()`` to start over).
        """
        self.check_state_dict(state_dict)
        if "train_rows" not in state_dict:
            self.initialize()
            return
        self._load_state(state_dict)

    def _load_state(self, state_dict):
        """Assign a validated, non-empty state (subclasses extend this)."""
        rows = state_dict["train_rows"].cpu().numpy()
        self.train_rows_ = rows.astype(np.int32 if rows.size == 0 or rows.max() < 2 ** 31
                                       else np.int64)
        self.n_rows_ = int(state_dict["n_rows"])
        self.n_updates_ = int(state_dict["n_updates"])
        fingerprint = state_dict.get("data_fingerprint")
        self.data_fingerprint_ = None if fingerprint is None else int(fingerprint)
        self._set_probabilities(state_dict["probabilities"].to(torch.float64))

    def __getstate__(self):
        # Fitted tensors are pickled on the CPU so that a net trained on CUDA
        # unpickles anywhere; bind() moves them back to the net's device.
        # The training data held during an epoch is never pickled (a
        # Checkpoint(f_pickle=...) would otherwise store the whole data set).
        state = self.__dict__.copy()
        state.pop("dataset_train_", None)
        if "given_losses_" in state:  # one batch's, not the fit's
            state["given_losses_"] = None
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                state[key] = value.detach().cpu()
        return state


class MultiplicativeReweighting(SampleReweighting):
    """Keep the MW weights of Algorithm 1 (present in MRClassifier by default).

    Epoch 1 trains with uniform weights. After each epoch (or each
    ``1 / updates_per_epoch`` of an epoch) the callback obtains every training
    example's loss ``l_i`` at the current parameters, adds it to the
    cumulative loss ``L_i`` and sets ``p = softmax(-eta * L)`` with
    :class:`sk_mr.mw.MultiplicativeWeights`. The hyperparameters ``eta``,
    ``loss_pass``, ``loss_pass_batch_size`` and ``updates_per_epoch`` are
    the net's, so that grid searches set them on the estimator; the net
    hands them over when it binds the callback (:class:`ReweightingSettings`).

    ``eta`` is measured in units of cross-entropy: the weights are
    ``softmax(-(eta / u) * L)`` with ``u = net.loss_unit()``, the criterion's
    loss of a know-nothing prediction divided by that of cross-entropy
    (``ln K``). For cross-entropy (with or without label smoothing) ``u`` is
    exactly 1 and this is the paper's Algorithm 1; for GCE, SCE, NCE+RCE or
    any other criterion the same eta sets aside examples with the same
    strength, relative to the criterion's own scale.

    Each update records in the net's history the effective sample size
    ``1 / sum(p_i^2)`` (``mr_ess``) and the eta used, in cross-entropy
    units (``mr_eta``).

    With ``eta='auto'`` (or a rule object such as
    :class:`sk_mr.mw.AutoEta`) the eta of each update comes from the
    rule, called as ``rule.step(losses, cumulative_losses, completed_epochs,
    planned_epochs, updates_per_epoch, chance_loss=net.chance_loss())``
    (plus, for a rule with ``wants_confident_misfit`` such as
    :class:`~sk_mr.mw.AutoEta`,
    ``confident_misfit=net.confident_misfit_fraction(dataset_train)`` at the
    updates where it asks for it: one pass over the training split in eval
    mode; None at the others; and, where the net corrects labels
    (``relabel='auto'``), the gate has not closed and the rule's ``step``
    takes it, ``probation=relabel_probation`` and, where the step takes them
    too, ``probation_hold=relabel_probation_hold`` and
    ``probation_deadline=relabel_probation_deadline``), where ``planned_epochs`` is
    the history's length at the start of the fit call plus ``max_epochs``.
    The rule (``eta_rule_``) lives with the weights: a warm-started fit or
    ``partial_fit`` continues it, and its counters are saved with them.

    Attributes
    ----------
    cumulative_losses_ : torch.Tensor of float64
      ``L_i`` of each training example, on the net's device.

    probabilities_ : torch.Tensor of float64
      ``p = softmax(-eta_ * L)``.

    eta_ : float
      The multiplier of the cumulative losses at the last update:
      ``eta / loss_unit_``.

    loss_unit_ : float
      The criterion's loss unit at the last update (``net.loss_unit()``):
      1 for cross-entropy, where ``eta_`` is the paper's eta.

    n_updates_ : int
      Number of MW updates so far.

    relabel_ratio_ : float or None
      With the net's ``relabel='auto'``: the gate's reading, the fraction
      of training examples predicted as labelled over the fraction ``1 -
      M`` MR keeps, taken once per training run (a warm start or
      ``partial_fit`` keeps it, a cold ``fit`` takes it again) at the first
      batch after the weights left uniform, or up to ``relabel_gate_wait``
      (3) updates later while ``eta='auto'``'s confident count has begun
      and not settled, before ``relabel_gate_deadline`` (half) of the
      planned updates; None before (or without) it, NaN where the
      module gives no class probabilities.

    relabeling_ : bool
      Whether the gate opened in this training run (``relabel_ratio_ >=
      relabel_gate``, 0.62): labels are corrected while it is True and the
      net's ``relabel`` is ``'auto'`` (see :class:`~sk_mr.MRClassifier`).
      Switched off later (``relabel=None``), MR goes on with the set-aside
      fraction the gate froze, until a cold ``fit``. It turns False, for
      the rest of the training run, where the rule retracts the
      provisional pairflip latch the correction rested on
      (``eta_rule_.retracted_``; see :meth:`sk_mr.mw.AutoEta.step`'s
      ``probation``): MR alone from that update on.

    late_gate_ : bool
      Whether the gate was read at or past ``relabel_gate_deadline`` (half)
      of the planned updates in this training run (correction, if it
      opened, has less than half the schedule left), where
      ``relabel_late_mixup_alpha`` replaces ``relabel_mixup_alpha``; saved
      with the MR state.

    falling_back_ : bool
      Whether the gate, closing in this training run (``relabel_ratio_ <
      relabel_gate``), handed the rest of it to the net's ``fallback_loss``
      (see :class:`~sk_mr.MRClassifier`): decided at the gate with the
      net's ``fallback_loss`` then, and saved with the MR state. While it
      holds and the net still asks for the fallback, every example counts
      once and MR's weights and cumulative losses stay where the gate found
      them: each epoch records ``mr_ess`` and ``mr_eta`` as they stood, and
      ``mr_fallback`` (True), and is not an MR update. ``fallback_loss=None``
      set later resumes MR.

    label_frequencies_, predicted_frequencies_ : torch.Tensor of float32 or None
      With ``relabel_alignment`` (a class attribute, 0.9 by default: see
      the user guide's "Correction aligned with the labels' class
      frequencies"), read where the gate opens: the training split's label
      frequencies, and the running mean of the predicted class
      probabilities that the corrected classes are aligned with; saved
      with the MR state. None before the gate opens, or with
      ``relabel_alignment=None``.

    Examples
    --------
    Replace the default to change nothing but make it explicit:

    >>> from sk_mr import MRClassifier, MultiplicativeReweighting
    >>> from sk_mr.models import MLP
    >>> net = MRClassifier(MLP, module__in_features=64, module__n_classes=10,
    ...                    callbacks__reweighting=MultiplicativeReweighting())
    >>> type(net.initialize().mr_).__name__
    'MultiplicativeReweighting'
    """

    _tensor_attributes = SampleReweighting._tensor_attributes + (
        "cumulative_losses_", "online_losses_", "online_seen_", "label_frequencies_",
        "predicted_frequencies_")

    def initialize(self):
        super().initialize()
        self.cumulative_losses_ = None
        self.eta_ = 0.0
        self.loss_unit_ = 1.0
        self.auto_warned_ = False
        self.eta_rule_ = None
        self.planned_epochs_ = None
        self.online_losses_ = None
        self.online_seen_ = None
        self.batches_seen_ = 0
        self.dataset_train_ = None
        self.relabel_ratio_ = None
        self.relabeling_ = False
        self.late_gate_ = False
        self.falling_back_ = False
        self.given_losses_ = None
        self.label_frequencies_ = None
        self.predicted_frequencies_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        # eta='auto': the rule's horizon is the whole training so far plus
        # this call's epochs (a warm start or partial_fit continues it)
        self.planned_epochs_ = len(net.history) + net.max_epochs
        self.auto_warned_ = False

    def _rule(self):
        """The eta rule of ``eta='auto'`` (None for a float eta or a schedule).

        Made on first use, from a restored checkpoint's counters if there
        are any: a state loaded after ``on_train_begin`` (``LoadInitState``)
        drops the rule, and the next update makes it again.
        """
        eta = self.settings_.eta
        if not is_eta_rule(eta):
            return None
        if self.eta_rule_ is None:
            self.eta_rule_ = make_eta_rule(eta)
            restored = getattr(self, "eta_rule_state_", None)
            if restored:  # a checkpoint of an eta='auto' fit
                for name, value in restored.items():
                    setattr(self.eta_rule_, name, value)
        return self.eta_rule_

    def _init_state(self, n_train):
        super()._init_state(n_train)
        self.cumulative_losses_ = torch.zeros(n_train, dtype=torch.float64)
        self.eta_ = 0.0
        self.online_losses_ = None
        self.online_seen_ = None

    @property
    def probabilities_(self):
        """``softmax(-eta_ * cumulative_losses_)`` in float64, computed on access."""
        if self.cumulative_losses_ is None:
            return None
        return mw_probabilities(self.cumulative_losses_, self.eta_)

    def row_cumulative_losses(self):
        """Return the cumulative loss ``L_i`` of each row of the X given to fit.

        Returns
        -------
        cumulative_losses : numpy.ndarray of float64, shape (n_rows,), or None
          NaN for rows held out by ``train_split``; None before the
          callback is bound (no fit yet).
        """
        if self.train_rows_ is None:
            return None
        return self.full_length(self.cumulative_losses_)

    # -- collecting losses ------------------------------------------------------
    def record_batch_losses(self, net, positions, losses, padding=None):
        """Store the batch's training losses for ``loss_pass='online'``.

        ``padding`` (bool, per example) marks repeated examples a
        data-parallel loader added to the batch: they are not recorded.
        """
        if self.settings_.loss_pass != "online" or self._falling_back():
            return  # (MR stepped back: nothing to count)
        if self.given_losses_ is not None:
            # labels corrected: MR keeps counting the given labels' losses
            losses = self.given_losses_
        if self.online_losses_ is None:
            # float32: the losses of one epoch; accumulated in float64
            self.online_losses_ = torch.zeros_like(self.cumulative_losses_, dtype=torch.float32)
            self.online_seen_ = torch.zeros(self.cumulative_losses_.shape, dtype=torch.bool,
                                            device=self.cumulative_losses_.device)
        losses = losses.to(self.online_losses_.dtype)
        seen = torch.ones_like(positions, dtype=torch.bool)
        if padding is not None:
            # keep what is there: a where, not a boolean index, so no sync
            losses = torch.where(padding, self.online_losses_[positions], losses)
            seen = self.online_seen_[positions] | ~padding
        # index ops on the device: no host sync in the per-batch path. A
        # non-finite loss is stored as it is and refused at the update.
        self.online_losses_.index_copy_(0, positions, losses)
        self.online_seen_.index_copy_(0, positions, seen)

    # -- label correction (relabel='auto') ---------------------------------------
    #: The gate of ``relabel='auto'``: the network's agreement with the given
    #: labels over the fraction MR keeps must reach it (chosen on
    #: ``benchmarks/auto_eta_leads.py``'s ``gate_probe``; see the user guide).
    relabel_gate = 0.62
    #: mixup's ``alpha`` while labels are corrected, where the net's is 0.
    relabel_mixup_alpha = 1.0
    #: mixup's ``alpha`` while labels are corrected on pairflip labels: while
    #: ``eta='auto'``'s pairflip latch stands and is not provisional, where
    #: the net's is 0 (Arazo et al.'s M-DYR-H constant; checked on
    #: ``benchmarks/auto_eta_leads.py``'s ``relabel_mixup``; see the user
    #: guide). None: ``relabel_mixup_alpha`` there too (the default before it).
    relabel_pairflip_mixup_alpha = 32.0
    #: mixup's ``alpha`` while labels are corrected off the pairflip latch
    #: where the gate opened at or past ``relabel_gate_deadline`` (half) of
    #: the planned updates (``late_gate_``: correction has less than half
    #: the schedule left), where the net's is 0. 0 (the default) turns
    #: mixup off there: ``mixup_deadline@0.5`` of
    #: ``benchmarks/auto_eta_leads.py``, which held its bar on a round
    #: frozen for it (see the user guide's "Which method should I use?",
    #: round AA). None: ``relabel_mixup_alpha`` there too (the default
    #: before it).
    relabel_late_mixup_alpha = 0.0
    #: The band within which ``eta='auto'``'s confident count may settle on
    #: probation where labels are corrected (``AutoEta.step``'s
    #: ``probation``): a pairflip latch correction then tests, and retracts
    #: if the count falls once correction starts (0.3 chosen on
    #: ``benchmarks/auto_eta_leads.py``'s ``probation``, widened to 0.4 by
    #: ``probation@0.4/hold@0.85``; see the user guide). None: no probation
    #: (the default before it).
    relabel_probation = 0.4
    #: The fraction of the frozen count that ``eta='auto'``'s first
    #: confident reading under correction must reach for a provisional
    #: pairflip latch to stand (``AutoEta.step``'s ``probation_hold``;
    #: ``benchmarks/auto_eta_leads.py``'s ``probation@0.4/hold@0.85``; see
    #: the user guide). None: ``1 - relabel_probation`` (the test before it).
    relabel_probation_hold = 0.85
    #: The fraction of the planned updates after which ``eta='auto'``'s
    #: confident count no longer settles on probation
    #: (``AutoEta.step``'s ``probation_deadline``): a loose latch taken
    #: late has no time left to be tested by correction (checked on
    #: ``benchmarks/auto_eta_leads.py``'s ``probation_deadline@0.5``, chosen
    #: on round C's clean C7 and held on round A; see the user guide).
    #: None: it settles until the end (the default before it).
    relabel_probation_deadline = 0.5
    #: The most MW updates the gate waits, after the weights first left
    #: uniform, while ``eta='auto'``'s confident count has begun (read at
    #: the last update) and has not settled, so that the pairflip test is
    #: decided before the gate freezes the set-aside fraction (checked on
    #: ``benchmarks/auto_eta_leads.py``'s ``gate_delay@c3/0.5``; see the
    #: user guide). None or 0: the gate decides at the first batch after
    #: (the default before it).
    relabel_gate_wait = 3
    #: The fraction of the planned updates from which the gate no longer
    #: waits (correction needs the rest of the schedule).
    relabel_gate_deadline = 0.5
    #: The momentum of the running mean of the predicted class
    #: probabilities over the corrected batches, which aligns the classes
    #: labels are corrected towards with the given labels' class
    #: frequencies (distribution alignment; checked on
    #: ``benchmarks/auto_eta_leads.py``'s ``align``, ``align@0.9/shipped``;
    #: see the user guide). None: the prediction's argmax (the default
    #: before it).
    relabel_alignment = 0.9
    #: Whether ``eta='auto'``'s set-aside fraction, frozen where correction
    #: starts, still follows the confident count up where the pairflip
    #: latch stands (``AutoEta.freeze``'s ``follow_confident``; checked on
    #: ``benchmarks/auto_eta_leads.py``'s ``follow@pairflip``; see the user
    #: guide). False: frozen for the rest of the fit (the default before it).
    relabel_follow_confident = True

    def _probation_applies(self, rule):
        """Whether the rule gets ``relabel_probation``: the net corrects
        labels (``relabel='auto'``), the gate has not closed (after a closed
        gate nothing would test a loose latch), and the rule's ``step``
        takes ``probation`` (an :class:`~sk_mr.mw.AutoEta`, or a subclass
        whose ``step`` passes it on)."""
        if self.relabel_probation is None or self.settings_.relabel != "auto" or not (
                self.relabel_ratio_ is None or self.relabeling_):
            return False
        return isinstance(rule, AutoEta) and _step_takes(rule, "probation")

    def _correcting(self, net=None):
        """Whether this batch is a corrected one: the gate opened in this
        training run and the net still asks for correction (a later
        ``set_params(relabel=None)`` or a float eta stops it), and, with
        ``net``, the batch's positions are known (not a ``train_step``
        called outside ``fit``)."""
        return (self.relabeling_ and self.settings_ is not None
                and self.settings_.relabel == "auto"
                and (net is None or getattr(net, "batch_positions_", None) is not None))

    def _falling_back(self, net=None):
        """Whether this batch trains on the net's ``fallback_loss``: the gate
        closed into the fallback in this training run, the net still asks
        for it, and, with ``net``, the batch's positions are known (not a
        ``train_step`` called outside ``fit``)."""
        return (self.falling_back_ and self.settings_ is not None
                and self.settings_.fallback_loss is not None
                and (net is None or getattr(net, "batch_positions_", None) is not None))

    def _gate_due(self):
        """Whether the gate decides at this batch: not decided yet, the
        weights have left uniform, the rule can freeze, and it does not
        wait for the rule's confident count (:meth:`_gate_waits`)."""
        if self.settings_ is None or self.settings_.relabel != "auto" \
                or self.relabel_ratio_ is not None:
            return False
        if not (self.eta_ > 0 and self.batch_weights_ is not None
                and self.dataset_train_ is not None):
            return False
        rule = self._rule()  # after a load: the restored rule, not None
        # a rule that has counted nothing yet (eta was a float until now)
        # has no M to read the gate with
        return (hasattr(rule, "freeze") and hasattr(rule, "counted_misfit")
                and getattr(rule, "n_updates_", 0) > 0 and not self._gate_waits(rule))

    def _gate_waits(self, rule):
        """Whether the gate waits for the rule's confident count: read at
        its last update and not settled yet (neither ``max_confident_`` nor
        ``max_loose_``), fewer than ``relabel_gate_wait`` updates after the
        weights first left uniform, and before ``relabel_gate_deadline`` of
        the planned updates. Read from the rule's own record (after a
        checkpoint load, which keeps none of it, the gate does not wait)."""
        wait = self.relabel_gate_wait
        readings = getattr(rule, "confident_fractions_", None)
        etas = getattr(rule, "etas_", None)
        if not wait or not readings or readings[-1] is None or not etas \
                or getattr(rule, "max_confident_", 0) > 0 or getattr(rule, "max_loose_", 0) > 0:
            return False
        left = next((i for i, eta in enumerate(etas) if eta > 0), None)
        if left is None or len(etas) - (left + 1) >= wait:
            return False
        return not self._reached(self.relabel_gate_deadline)

    def _reached(self, fraction):
        """Whether the MW updates so far reach ``fraction`` of the planned
        updates of this training run."""
        planned = (self.planned_epochs_ or 1) * self.settings_.updates_per_epoch
        return self.n_updates_ >= fraction * planned

    def _decide_relabel(self, net):
        """Open or close the gate, once per training run: one eval-mode pass
        over the training split; the agreement of the predicted classes with
        the given labels over the fraction ``1 - M`` MR keeps."""
        agreement = net.label_agreement_fraction(self.dataset_train_)
        if agreement is None:  # no class probabilities: nothing to correct with
            self.relabel_ratio_ = float("nan")
            return
        rule = self._rule()
        kept = 1.0 - rule.counted_misfit()
        self.relabel_ratio_ = agreement / max(kept, 1e-12)
        self.relabeling_ = self.relabel_ratio_ >= self.relabel_gate
        self.late_gate_ = self.relabel_gate_deadline is not None \
            and self._reached(self.relabel_gate_deadline)
        # decided here, with the net's fallback_loss of now, and saved
        self.falling_back_ = not self.relabeling_ and self.settings_.fallback_loss is not None
        if self.relabeling_:
            # the network trains partly on its own predictions from now on:
            # the losses of the given labels no longer estimate the noise
            follow = {"follow_confident": True} if self.relabel_follow_confident and _takes(
                rule.freeze, "follow_confident") else {}
            rule.freeze(**follow)
            if self.relabel_alignment is not None:
                # what correction aligns with, and where the predictions stand
                self.label_frequencies_, self.predicted_frequencies_ = (
                    f.to(torch.float32) for f in net.class_frequencies(self.dataset_train_))

    def correct_targets(self, net, X, y):
        """Return the labels, or, while correcting them, ``t onehot(y) + (1 -
        t) onehot(z)``.

        With ``relabel='auto'``, at the first batch after MR's weights leave
        uniform (or a few updates later, see ``relabel_ratio_``) the gate
        decides, once per training run, whether to correct labels (see the user guide's "Label correction"). While it does, ``t =
        min(1, N p_i)`` is each example's MR weight relative to uniform and
        ``z`` the eval-mode prediction of the un-mixed batch; the given
        labels' losses of that prediction are what MR records for the batch.

        Parameters
        ----------
        net : MRClassifier
        X : torch.Tensor
          The un-mixed batch, on the net's device.
        y : torch.Tensor of int64, shape (batch,)
          Its labels.

        Returns
        -------
        targets : torch.Tensor
          ``y`` itself, or class probabilities of shape ``(batch, n_classes)``.
        """
        self.given_losses_ = None
        if getattr(net, "batch_positions_", None) is None:
            return y  # a train_step outside fit (or unpickled): no positions, no weights
        if self._gate_due():
            self._decide_relabel(net)
        if not self._correcting():
            return y
        logits = net.evaluate_batch(X)
        labels = y.long()
        self.given_losses_ = net.mw_example_losses(logits, labels, X=X, training=False)
        n_classes = logits.shape[-1]
        trust = self.batch_weights_[net.batch_positions_].clamp(max=1.0)[:, None]
        given = torch.nn.functional.one_hot(labels, n_classes).to(logits.dtype)
        predicted = torch.nn.functional.one_hot(
            self._corrected_classes(logits, labels), n_classes).to(logits.dtype)
        return trust * given + (1 - trust) * predicted

    def _corrected_classes(self, logits, labels):
        """The class ``z`` each example of the batch is corrected towards.

        The argmax of the eval-mode class probabilities times
        ``label_frequencies_ / predicted_frequencies_`` (distribution
        alignment): the training split's label frequencies over the running
        mean (momentum ``relabel_alignment``) of the predicted
        probabilities, which starts from the split's where the gate opens
        and takes in each corrected batch's, on the device. A class the
        network predicts less often than it is labelled is corrected
        towards more often, so correction does not erase a class the
        network confuses with another. The argmax itself without
        ``relabel_alignment`` (or frequencies), and while ``eta='auto'``'s
        pairflip latch is provisional: its probation test reads the
        correction it was calibrated on. A hook for experiments
        (``benchmarks/auto_eta_leads.py``); not a public option.
        """
        momentum = self.relabel_alignment
        if momentum is None or self.label_frequencies_ is None \
                or getattr(self.eta_rule_, "provisional_", False):
            return logits.argmax(-1)
        probabilities = torch.softmax(logits.detach().float(), -1)
        self.predicted_frequencies_ = (momentum * self.predicted_frequencies_
                                       + (1 - momentum) * probabilities.mean(0))
        ratio = self.label_frequencies_ / self.predicted_frequencies_.clamp(min=1e-6)
        return (probabilities * ratio).argmax(-1)

    def batch_weights(self, positions):
        """MR's weights, or one for every example while labels are corrected
        (the weights went into the targets instead) or the fallback loss
        trains (MR stepped back)."""
        if self._correcting() or self._falling_back():
            return torch.ones(positions.shape[0], device=positions.device)
        return super().batch_weights(positions)

    def batch_loss(self, net):
        """The net's ``fallback_loss`` where the gate closed, else None (the
        net's criterion)."""
        return self.settings_.fallback_loss if self._falling_back(net) else None

    def batch_mixup_alpha(self, net):
        """The net's ``mixup_alpha``, or, where that is 0 while labels are
        corrected, ``relabel_pairflip_mixup_alpha`` while ``eta='auto'``'s
        pairflip latch stands (not provisional), ``relabel_late_mixup_alpha``
        (where not None) after a late gate (``late_gate_``) and
        ``relabel_mixup_alpha`` otherwise."""
        if self._correcting(net) and not net.mixup_alpha:
            rule = self.eta_rule_
            if self.relabel_pairflip_mixup_alpha is not None \
                    and getattr(rule, "pairflip_", False) \
                    and not getattr(rule, "provisional_", False):
                return self.relabel_pairflip_mixup_alpha
            if self.late_gate_ and self.relabel_late_mixup_alpha is not None:
                return self.relabel_late_mixup_alpha
            return self.relabel_mixup_alpha
        return net.mixup_alpha

    def _losses(self, net, dataset_train):
        """Every training example's loss, from the net's loss pass (see the contract)."""
        if self.settings_.loss_pass == "full":
            return net.example_losses(dataset_train)
        if self.online_losses_ is None:
            raise RuntimeError(
                "loss_pass='online' recorded no training losses this epoch.")
        return net.example_losses(dataset_train,
                                  recorded=(self.online_losses_, self.online_seen_))

    # -- the MW step ----------------------------------------------------------
    def update(self, net, dataset_train, completed_epochs=None):
        """Run one MW update: collect losses, accumulate, recompute weights.

        Parameters
        ----------
        net : MRClassifier
        dataset_train : torch Dataset
          The training split (for the full loss pass).
        completed_epochs : int or None (default=None)
          Number of completed epochs, which an eta schedule receives; None
          means the current epoch is complete (an end-of-epoch update).

        Raises
        ------
        ValueError
          If a per-example loss is not finite (the model diverged); the
          weights and cumulative losses are left as they were.
        """
        if self._falling_back():
            # MR stepped back: the weights stay where the gate found them;
            # the epoch is marked, so that it is not counted as an update
            self._record_history(net, eta=self.eta_ * net.loss_unit())
            net.history.record("mr_fallback", True)
            return
        epoch = len(net.history)
        if completed_epochs is None:
            completed_epochs = epoch
        rule = self._rule()
        eta = None if rule is not None else resolve_eta(self.settings_.eta, completed_epochs)
        # finite, gathered across processes (or the net refuses)
        losses = self._losses(net, dataset_train)
        # eta is in units of cross-entropy: the criterion's losses count in
        # units of its know-nothing loss over ln K (exactly 1 for
        # cross-entropy), so one eta means one strength for any criterion.
        unit = net.loss_unit()
        chance = net.chance_loss() if rule is not None else None
        if rule is not None and chance is None:
            # no know-nothing prediction to compare the losses with
            if not self.auto_warned_:
                warnings.warn(
                    "eta='auto' keeps uniform weights in this fit: the module's outputs "
                    "are not one row of class scores per example, so no loss of a "
                    "know-nothing prediction tells wrong labels apart. Pass a float eta.",
                    MRParameterWarning, stacklevel=2)
                self.auto_warned_ = True
            raw_eta = eta = 0.0
        elif rule is not None:
            wants_confident = getattr(rule, "wants_confident_misfit", None)

            def raw_eta(losses, cumulative):
                losses = losses.to(torch.float64)
                extra = {}
                if wants_confident is not None:
                    # the confident count needs a pass over the training
                    # set: only at the updates where the rule reads it
                    extra["confident_misfit"] = net.confident_misfit_fraction(
                        dataset_train) if wants_confident(losses, chance_loss=chance) else None
                if self._probation_applies(rule):
                    # correction will test a looser pairflip latch
                    extra["probation"] = self.relabel_probation
                    if self.relabel_probation_hold is not None and _step_takes(
                            rule, "probation_hold"):
                        extra["probation_hold"] = self.relabel_probation_hold
                    if self.relabel_probation_deadline is not None and _step_takes(
                            rule, "probation_deadline"):
                        extra["probation_deadline"] = self.relabel_probation_deadline
                # the rule steers the weights' KL, whatever the losses' scale
                return rule.step(losses, cumulative, completed_epochs,
                                 self.planned_epochs_ or epoch,
                                 self.settings_.updates_per_epoch, chance_loss=chance, **extra)
        else:
            raw_eta = eta / unit
        weights = MultiplicativeWeights.from_state(self.cumulative_losses_, self.eta_)
        self._set_probabilities(weights.update(losses, raw_eta))
        self.cumulative_losses_, self.eta_ = weights.cumulative_losses_, weights.eta_
        self.loss_unit_ = unit
        self.n_updates_ += 1
        if self.relabeling_ and getattr(rule, "retracted_", False):
            # the latch correction rested on did not hold: MR alone from here
            self.relabeling_ = False
        # online_losses_ keeps each example's most recent training loss
        # across updates, so an update in the middle of an epoch (or one
        # after an epoch that skipped some examples) still has a real loss
        # for every example seen so far.
        self._record_history(net, eta=self.eta_ * unit if eta is None else eta)

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.batches_seen_ = 0
        # held for updates in the middle of the epoch (on_batch_end does not
        # receive it); dropped at the end of the epoch and never pickled
        self.dataset_train_ = dataset_train

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        k = self.settings_.updates_per_epoch if self.settings_ is not None else 1
        if not training or k == 1:
            return
        self.batches_seen_ += 1
        n_batches = net.batches_per_epoch_  # public: see the contract
        # Updates 1..k-1 fall at even fractions of the epoch; the last one is
        # on_epoch_end's.
        boundaries = {math.ceil(j * n_batches / k) for j in range(1, k)}
        if self.batches_seen_ in boundaries - {n_batches}:
            # the current epoch is not complete yet
            self.update(net, self.dataset_train_, completed_epochs=len(net.history) - 1)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        self.dataset_train_ = None
        self.update(net, dataset_train)

    def on_train_end(self, net, **kwargs):
        self.dataset_train_ = None

    # -- persistence ----------------------------------------------------------
    _state_kind = "MultiplicativeReweighting"

    def state_dict(self):
        state = super().state_dict()
        if self.train_rows_ is not None:
            state["cumulative_losses"] = self.cumulative_losses_.detach().cpu()
            state["eta"] = torch.tensor(self.eta_, dtype=torch.float64)
            rule = self.eta_rule_
            # after a load the rule is made again at the next update; until
            # then its state is the one restored
            values = ({name: getattr(rule, name) for name in _RULE_STATE if hasattr(rule, name)}
                      if rule is not None else dict(getattr(self, "eta_rule_state_", None) or {}))
            for name, value in values.items():
                state["eta_rule." + name] = torch.tensor(
                    math.nan if value is None else value, dtype=_RULE_STATE[name])
            if self.relabel_ratio_ is not None:
                state["relabel_ratio"] = torch.tensor(self.relabel_ratio_, dtype=torch.float64)
                state["fallback"] = torch.tensor(int(self.falling_back_), dtype=torch.int64)
                state["late_gate"] = torch.tensor(int(self.late_gate_), dtype=torch.int64)
            if self.label_frequencies_ is not None:
                state["label_frequencies"] = self.label_frequencies_.detach().cpu()
                state["predicted_frequencies"] = self.predicted_frequencies_.detach().cpu()
        return state

    def _load_state(self, state_dict):
        super()._load_state(state_dict)
        self.cumulative_losses_ = state_dict["cumulative_losses"].to(torch.float64)
        eta = state_dict.get("eta")
        if eta is not None:
            self.eta_ = float(eta)
        else:
            # a state saved before eta_ was kept: the saved weights are
            # softmax(-eta L); recover eta from two of them
            self.eta_ = _eta_from(self.cumulative_losses_, state_dict["probabilities"])
        self.online_losses_ = None
        self.online_seen_ = None
        self.eta_rule_ = None
        self.eta_rule_state_ = {
            name: (int if dtype == torch.int64 else float)(state_dict["eta_rule." + name])
            for name, dtype in _RULE_STATE.items() if "eta_rule." + name in state_dict}
        for name in ("frozen_misfit_", "misfit_at_freeze_", "confident_at_freeze_"):
            if math.isnan(self.eta_rule_state_.get(name, 0.0)):
                self.eta_rule_state_[name] = None  # a free rule
        ratio = state_dict.get("relabel_ratio")
        self.relabel_ratio_ = None if ratio is None else float(ratio)
        self.relabeling_ = self.relabel_ratio_ is not None and \
            self.relabel_ratio_ >= self.relabel_gate and \
            not self.eta_rule_state_.get("retracted_", 0)
        # a state saved before fallback_loss existed never fell back
        self.falling_back_ = bool(state_dict.get("fallback", 0))
        # nor was a gate read as late before late_gate_ existed
        self.late_gate_ = bool(state_dict.get("late_gate", 0))
        # the aligned correction's frequencies (none before the gate opened,
        # nor in a state saved before them: correction then uses the argmax)
        frequencies = [state_dict.get(key) for key in ("label_frequencies",
                                                        "predicted_frequencies")]
        self.label_frequencies_, self.predicted_frequencies_ = (
            None if f is None else f.to(torch.float32) for f in frequencies)


#: The state of an eta rule (AutoEta) that a checkpoint keeps.
_RULE_STATE = {"n_updates_": torch.int64, "max_misfit_": torch.float64,
               "max_confident_": torch.float64, "pairflip_": torch.int64,
               "frozen_misfit_": torch.float64,  # NaN: not frozen
               "max_loose_": torch.float64, "provisional_": torch.int64,
               "retracted_": torch.int64, "follows_confident_": torch.int64,
               "misfit_at_freeze_": torch.float64,  # NaN: never frozen
               "confident_at_freeze_": torch.float64}


class RandomReweighting(SampleReweighting):
    """The paper's random-weighting baseline: rectified-Gaussian weights.

    At the start of every epoch each training example draws
    ``z_i ~ N(0, 1)`` and gets weight ``max(0, z_i) / sum_j max(0, z_j)``.
    Use it in place of the default MW callback:

    ``MRClassifier(..., callbacks__reweighting=RandomReweighting(random_state=0))``

    or pass it in ``callbacks``; either way it replaces
    :class:`MultiplicativeReweighting`.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None (default=None)
      Seed of the weights' own generator; global RNG state is never used.

    Attributes
    ----------
    probabilities_ : torch.Tensor of float64
      The weights drawn for the current epoch.

    n_updates_ : int
      Number of epochs drawn so far.
    """

    _state_kind = "RandomReweighting"

    def __init__(self, random_state=None):
        self.random_state = random_state

    def initialize(self):
        super().initialize()
        self.rng_ = np.random.default_rng(self.random_state)
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        n = self.probabilities_.shape[0]
        z = np.maximum(self.rng_.standard_normal(n), 0.0)
        total = z.sum()
        p = z / total if total > 0 else np.full(n, 1.0 / n)
        self._set_probabilities(torch.from_numpy(p).to(self.settings_.device))
        self.n_updates_ += 1

    def on_epoch_end(self, net, **kwargs):
        self._record_history(net)


def _step_takes(rule, name):
    """Whether the eta rule's ``step`` takes the keyword ``name`` (by name,
    or through ``**kwargs``)."""
    return _takes(rule.step, name)


def _takes(method, name):
    """Whether ``method`` takes the keyword ``name`` (by name, or through
    ``**kwargs``)."""
    parameters = inspect.signature(method).parameters
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _eta_from(cumulative_losses, probabilities):
    """The eta with ``probabilities == softmax(-eta * cumulative_losses)``."""
    L = cumulative_losses.to(torch.float64)
    logp = torch.log(probabilities.to(torch.float64))
    i, j = int(torch.argmin(L)), int(torch.argmax(L))
    if not torch.isfinite(logp[j]) or L[j] == L[i]:
        return 0.0
    return float((logp[i] - logp[j]) / (L[j] - L[i]))


def _saved_kind(state_dict):
    """The kind a saved state says it is; for an earlier layout, told by its keys."""
    kind = state_dict.get("kind")
    if kind is None:
        # version 0: only MultiplicativeReweighting kept cumulative losses
        return "MultiplicativeReweighting" if "cumulative_losses" in state_dict else None
    if not (torch.is_tensor(kind) and kind.dtype == torch.uint8 and kind.dim() == 1):
        return repr(kind)
    return bytes(kind.tolist()).decode("ascii", "replace")


class _StateCheck:
    """The checks of :meth:`SampleReweighting.check_state_dict`, in one place."""

    #: key: (dtype family, shape, required); shape 'scalar', 'example'
    #: (one value per training example) or 'class' (one value per class)
    SPECS = {
        "SampleReweighting": {
            "train_rows": ("int", "example", True), "n_rows": ("int", "scalar", True),
            "n_updates": ("int", "scalar", True),
            "probabilities": ("float", "example", True),
            "data_fingerprint": ("int", "scalar", False)},
        "MultiplicativeReweighting": {
            "cumulative_losses": ("float", "example", True),
            "eta": ("float", "scalar", False),
            "relabel_ratio": ("float", "scalar", False),
            "fallback": ("int", "scalar", False),
            "label_frequencies": ("float", "class", False),
            "predicted_frequencies": ("float", "class", False),
            **{"eta_rule." + name: ("int" if dtype == torch.int64 else "float", "scalar", False)
               for name, dtype in _RULE_STATE.items()}},
    }

    def __init__(self, callback, state_dict):
        self.callback = callback
        self.state = state_dict
        self.name = type(callback).__name__

    def fail(self, problem, fix):
        raise ValueError(f"Cannot load this MR state into {self.name}: {problem}. {fix} "
                         "Nothing was changed.")

    def specs(self):
        specs = dict(self.SPECS["SampleReweighting"])
        if isinstance(self.callback, MultiplicativeReweighting):
            specs.update(self.SPECS["MultiplicativeReweighting"])
        return specs

    def run(self):
        state, cb = self.state, self.callback
        if not isinstance(state, dict):
            self.fail(f"a state is a dict of tensors, got {type(state).__name__}",
                      "Pass what state_dict() or save_params(f_mr=...) saved.")
        version = state.get("version")
        if version is not None:
            if not (torch.is_tensor(version) and version.dim() == 0
                    and not version.is_floating_point()):
                self.fail(f"its 'version' is {version!r}, not an integer tensor",
                          "The file is not an sk_mr MR state.")
            if int(version) > STATE_VERSION:
                self.fail(f"it has layout version {int(version)}, newer than this "
                          f"sk_mr's ({STATE_VERSION})", "Load it with the sk_mr that saved it.")
        kind = _saved_kind(state)
        if kind is not None and kind != cb._state_kind:
            self.fail(f"it is the state of a {kind}, and this net's reweighting callback "
                      f"is a {self.name} (its weights mean something else)",
                      f"Load it into a net with callbacks__reweighting={kind}(), or "
                      "save the state of this callback's kind.")
        bound = getattr(cb, "train_rows_", None) is not None
        if "train_rows" not in state:
            if bound:
                self.fail(
                    "it holds no weights (it was saved before the first fit), and "
                    f"loading it would discard this net's weights of {len(cb.train_rows_)} "
                    "training examples",
                    "To start over, call net.initialize() (or fit with warm_start=False) "
                    "instead; to load a fitted state, save it after fit.")
            return
        specs = self.specs()
        missing = [key for key, (_, _, required) in specs.items()
                   if required and key not in state]
        if missing:
            self.fail(f"it lacks {missing}" + (f" (it is the state of a {kind})" if kind else ""),
                      f"Load a state saved from a {self.name}.")
        rows = state["train_rows"]
        for key, (family, shape, _) in specs.items():
            value = state.get(key)
            if value is None:
                continue
            if not torch.is_tensor(value):
                self.fail(f"its {key!r} is a {type(value).__name__}, not a tensor",
                          "The file is not an sk_mr MR state.")
            ok_dtype = value.is_floating_point() if family == "float" else (
                not value.is_floating_point() and not value.is_complex()
                and value.dtype != torch.bool)
            if not ok_dtype:
                self.fail(f"its {key!r} has dtype {value.dtype}, not {family}",
                          "The file is not an sk_mr MR state (or it was altered).")
            if shape == "scalar" and value.dim() != 0:
                self.fail(f"its {key!r} has shape {tuple(value.shape)}, not a scalar",
                          "The file is not an sk_mr MR state (or it was altered).")
            if shape == "class" and (value.dim() != 1 or value.shape[0] < 2):
                self.fail(f"its {key!r} has shape {tuple(value.shape)}, not one value per "
                          "class", "The file is not an sk_mr MR state (or it was altered).")
            if shape == "example" and (value.dim() != 1 or value.shape != rows.shape):
                self.fail(f"its {key!r} has shape {tuple(value.shape)}, but it holds "
                          f"{tuple(rows.shape)[0] if rows.dim() == 1 else '?'} training "
                          "rows (one value per example)",
                          "The file is not an sk_mr MR state (or it was altered).")
        n_rows, n_train = int(state["n_rows"]), rows.shape[0]
        rows_np = rows.cpu().numpy()
        if n_train == 0 or rows_np.min() < 0 or rows_np.max() >= n_rows \
                or len(np.unique(rows_np)) != n_train:
            self.fail(f"its training rows are not {n_train} distinct rows of 0..{n_rows - 1}",
                      "The file is not an sk_mr MR state (or it was altered).")
        if int(state["n_updates"]) < 0:
            self.fail("its number of updates is negative", "The file was altered.")
        p = state["probabilities"].to(torch.float64)
        if not bool(torch.isfinite(p).all()) or bool((p < 0).any()) \
                or abs(float(p.sum()) - 1.0) > 1e-6:
            self.fail("its weights are not finite, non-negative and summing to one",
                      "The file was altered or saved from a diverged fit.")
        if "cumulative_losses" in specs and not bool(
                torch.isfinite(state["cumulative_losses"]).all()):
            self.fail("its cumulative losses are not all finite",
                      "The file was altered or saved from a diverged fit.")
        eta = state.get("eta")
        if "eta" in specs and eta is not None and not (math.isfinite(float(eta))
                                                       and float(eta) >= 0):
            self.fail(f"its eta is {float(eta)!r}, not a finite float >= 0",
                      "The file was altered.")
        frequencies = [state.get(key) for key in ("label_frequencies", "predicted_frequencies")]
        if "label_frequencies" in specs and any(f is not None for f in frequencies):
            if any(f is None for f in frequencies) or \
                    frequencies[0].shape != frequencies[1].shape:
                self.fail("its label and predicted class frequencies are not a pair of one "
                          "value per class each", "The file was altered.")
            if not all(bool(torch.isfinite(f).all()) and not bool((f < 0).any())
                       for f in frequencies):
                self.fail("its class frequencies are not finite and non-negative",
                          "The file was altered.")
        if bound:
            same = (n_rows == cb.n_rows_ and np.array_equal(rows_np, cb.train_rows_))
            if not same:
                self.fail(
                    f"it holds weights for a training split of {n_train} of {n_rows} rows, "
                    f"and this net's weights are for {len(cb.train_rows_)} of {cb.n_rows_} "
                    "rows (weights belong to fixed examples)",
                    "To load the state of other examples, call net.initialize() first "
                    "(it forgets this net's weights), then load_params.")
            saved = state.get("data_fingerprint")
            known = cb.data_fingerprint_
            if saved is not None and known is not None and int(saved) != known:
                self.fail(f"it holds weights for {n_rows} examples that differ from the "
                          f"{cb.n_rows_} this net was fitted on (another data set of the "
                          "same size)",
                          "To load the state of other examples, call net.initialize() "
                          "first (it forgets this net's weights), then load_params.")
