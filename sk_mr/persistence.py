"""Saving and loading MR's state with skorch's ``save_params`` / ``load_params``.

MR's state (the reweighting callback's :meth:`~sk_mr.callbacks.SampleReweighting.state_dict`)
is the state of the training objective, so it goes with the criterion: the
criterion's file (``f_criterion``, which skorch's ``Checkpoint`` and
``LoadInitState`` save by default) holds it under keys prefixed with
:data:`MR_STATE_PREFIX`, and ``f_mr=...`` saves it alone. skorch finds the
objects it saves and loads with the net's ``_get_module(name)``;
:func:`state_module` answers for ``criterion_`` and ``mr_``.

:func:`checked_load` is what :meth:`sk_mr.mixin.MRMixin.load_params` runs:
every MR state among the files is validated whole before skorch loads any
file (a refused load leaves the net as it was), and a load that restores a
history of MR updates but no MR state warns.
"""

import contextlib
import inspect
import io
import os
import warnings

import torch
from skorch import NeuralNet
from skorch.history import History

from sk_mr.exceptions import MRStateWarning

__all__ = ["MR_STATE_PREFIX", "PersistenceMixin", "check_state_files", "checked_load", "read_state_file",
           "state_module"]

#: Prefix of MR's keys in the criterion's saved state dict.
MR_STATE_PREFIX = "_sk_mr."


class _Loads:
    """Whether a load_params call restored an MR state (set by the wrappers below)."""

    def __init__(self):
        self.restored = False

    def note(self, state):
        if "train_rows" in state:  # an empty state (an unfitted net's) restores nothing
            self.restored = True


class _MRState:
    """The reweighting callback's state as ``f_mr`` saves and loads it."""

    def __init__(self, reweighting, loads):
        self.reweighting = reweighting
        self.loads = loads

    def state_dict(self):
        return self.reweighting.state_dict()

    def load_state_dict(self, state_dict):
        self.reweighting.load_state_dict(state_dict)
        self.loads.note(state_dict)


class _CriterionWithMRState:
    """The criterion's state dict, extended with the reweighting callback's."""

    def __init__(self, criterion, reweighting, loads, msg):
        self.criterion = criterion if hasattr(criterion, "state_dict") else None
        self.reweighting = reweighting
        self.loads = loads
        self.msg = msg

    def state_dict(self):
        state = dict(self.criterion.state_dict()) if self.criterion is not None else {}
        for key, value in self.reweighting.state_dict().items():
            state[MR_STATE_PREFIX + key] = value
        return state

    def load_state_dict(self, state_dict):
        own = {k[len(MR_STATE_PREFIX):]: v for k, v in state_dict.items()
               if k.startswith(MR_STATE_PREFIX)}
        rest = {k: v for k, v in state_dict.items() if not k.startswith(MR_STATE_PREFIX)}
        if own:  # validated before the criterion changes
            self.reweighting.check_state_dict(own)
        if self.criterion is not None:
            self.criterion.load_state_dict(rest)
        elif rest:
            raise AttributeError(self.msg.format(name="criterion"))
        if own:
            self.reweighting.load_state_dict(own)
            self.loads.note(own)


def state_module(net, name, reweighting, msg):
    """What skorch saves and loads for ``name``: MR's wrappers, or None.

    ``criterion_`` is the criterion with the MR state, ``mr_`` the MR state
    alone; for other names (or without a reweighting callback) None, and the
    net answers as skorch does.
    """
    if reweighting is None or name not in ("criterion_", "mr_"):
        return None
    loads = net.__dict__.get("_mr_loads") or _Loads()
    if name == "mr_":
        return _MRState(reweighting, loads)
    return _CriterionWithMRState(getattr(net, "criterion_", None), reweighting, loads, msg)


@contextlib.contextmanager
def checked_load(net, args, kwargs):
    """Validate the MR state of a ``load_params`` call, then let it load.

    Yields the call's ``(args, kwargs)`` to pass on to skorch's
    ``load_params`` (file objects already read are handed on as in-memory
    copies). After the load, warns if a history of MR updates came back
    without an MR state. See :meth:`sk_mr.mixin.MRMixin.load_params`.
    """
    bound = inspect.signature(NeuralNet.load_params).bind(net, *args, **kwargs)
    if bound.arguments.get("checkpoint") is not None and not net.initialized_:
        net.initialize()  # as skorch does, before the files are read
    reweighting = getattr(net, "mr_", None)
    if reweighting is not None:
        check_state_files(net, reweighting, bound.arguments)
        args, kwargs = bound.args[1:], bound.kwargs
    history_before = getattr(net, "history_", None)
    net._mr_loads = loads = _Loads()
    try:
        yield args, kwargs
    finally:
        del net._mr_loads  # lives for this call only
    reweighting = getattr(net, "mr_", None)
    if reweighting is None or loads.restored:
        return
    history = getattr(net, "history_", None)
    # an epoch of the fallback (mr_fallback) records mr_ess without an update
    n_updates = sum(1 for row in (history or [])
                    if "mr_ess" in row and not row.get("mr_fallback"))
    if history is not history_before and n_updates and reweighting.n_updates_ < n_updates:
        warnings.warn(
            f"load_params restored a history of {len(history)} epoch(s) with "
            f"{n_updates} MR update(s), but no MR state: training would resume "
            "with uniform weights. Save the MR state with the criterion file "
            "(Checkpoint's default f_criterion='criterion.pt') or with "
            "f_mr=..., and load it the same way.", MRStateWarning, stacklevel=4)


def check_state_files(net, reweighting, arguments):
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
        history = net.history
        if arguments.get("f_history") is None and checkpoint.f_history is not None:
            net.history = History.from_file(checkpoint.f_history_)
        try:
            files = dict(checkpoint.get_formatted_files(net))
        finally:
            net.history = history
    files.update({key: value for key, value in named.items() if value})
    use_safetensors = arguments.get("use_safetensors", False)
    for key, prefix in (("f_mr", ""), ("f_criterion", MR_STATE_PREFIX)):
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
        state = read_state_file(f, use_safetensors, net.torch_load_kwargs)
        if prefix:
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if not state:
                continue  # a criterion file without MR state
        reweighting.check_state_dict(state)


def read_state_file(f, use_safetensors=False, torch_load_kwargs=None):
    """Read a saved state dict onto the CPU (torch or safetensors)."""
    if use_safetensors:
        from safetensors.torch import load, load_file
        if isinstance(f, (str, os.PathLike)):
            return load_file(f, device="cpu")
        return load(f.getvalue())
    if torch_load_kwargs is None:
        torch_load_kwargs = {"weights_only": True}
    return torch.load(f, map_location="cpu", **torch_load_kwargs)


class PersistenceMixin:
    """Saving and loading of :class:`sk_mr.mixin.MRMixin`: the MR state with the criterion's."""

    def _get_module(self, name, msg):
        # Overrides skorch's private hook (skorch 1.4.0): save_params and
        # load_params (and so Checkpoint and LoadInitState) reach the MR
        # state through it (state_module above).
        found = state_module(self, name, self._reweighting(), msg)
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
        with checked_load(self, args, kwargs) as (args, kwargs):
            super().load_params(*args, **kwargs)
