"""How training data become batches: positions, one-call fetching, the plain view.

MR needs to know which examples each training batch holds, to look up their
weights. The positions come from the loader's *batch sampler*:
:func:`record_batch_positions` wraps it in a :class:`PositionRecorder`,
which appends the positions of every batch it produces to a FIFO queue, and
the net takes one entry off the queue per batch it trains on. The dataset,
the collated batch, ``iterator_train`` and the module see exactly what plain
skorch gives them. A DataLoader yields batches in the order its batch
sampler produced them, also with worker processes that prefetch several
batches ahead, so the queue stays aligned; a loader that is re-wrapped (e.g.
prepared by Accelerate, whose sharded batch sampler picks this process's
batches) is recorded at its outermost batch sampler, so each process records
its own shard.

:class:`Dataset` is skorch's :class:`skorch.dataset.Dataset` with two
additions: a DataLoader fetches a whole batch of in-memory arrays with one
indexing call (``__getitems__``, collated by :func:`collate`) instead of one
call per example, and the items carry encoded *targets* while ``.y`` keeps
the labels given to fit (what skorch's scoring callbacks compare predictions
with).

Augmentation protocol: a dataset that augments its training items may define
``without_augmentation()`` returning a dataset with the same items in the same
order, un-augmented. The MR loss pass uses that view (Algorithm 1 evaluates
``l_i(theta)`` on example ``i`` itself, not on a random augmentation of it).
:func:`plain_view` follows it through :class:`torch.utils.data.Subset`.
"""

import collections
import hashlib
from collections.abc import Mapping

import numpy as np
import torch
from scipy import sparse
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import check_indexing, is_dataset, multi_indexing
from torch.utils.data import DataLoader, IterableDataset, Subset, default_collate

from sk_mr._params import warn_few_batches
from sk_mr.validation import floating_dtype

__all__ = ["Dataset", "PositionRecorder", "collate", "data_fingerprint", "plain_view",
           "record_batch_positions", "subset_positions"]


# -- positions of the batches ---------------------------------------------------
class PositionRecorder:
    """A batch sampler that records the positions of every batch it yields.

    Iterating it iterates the wrapped batch sampler unchanged; each batch of
    indices is also appended, as an int64 tensor, to :attr:`positions`, a
    FIFO queue that the consumer empties with :meth:`pop`, one entry per
    batch it receives. Starting a new iteration clears the queue (batches of
    an abandoned epoch are never consumed).

    Attributes not defined here (``batch_size``, ``drop_last``, a sharded
    sampler's ``set_epoch``, ...) are those of the wrapped sampler.

    Parameters
    ----------
    batch_sampler : iterable of sequences of int
      The loader's batch sampler.

    Examples
    --------
    >>> from torch.utils.data import BatchSampler, SequentialSampler
    >>> recorder = PositionRecorder(BatchSampler(SequentialSampler(range(5)), 2, False))
    >>> [batch for batch in recorder]
    [[0, 1], [2, 3], [4]]
    >>> recorder.pop(), recorder.pop()
    (tensor([0, 1]), tensor([2, 3]))
    """

    def __init__(self, batch_sampler):
        self.batch_sampler = batch_sampler
        self.positions = collections.deque()

    def __iter__(self):
        self.positions.clear()
        for batch in self.batch_sampler:
            self.positions.append(torch.as_tensor(batch, dtype=torch.int64))
            yield batch

    def __len__(self):
        return len(self.batch_sampler)

    def __getattr__(self, name):
        # Only called for attributes not found normally; guard the wrapped
        # sampler itself against recursion while unpickling.
        if name in ("batch_sampler", "positions"):
            raise AttributeError(name)
        return getattr(self.batch_sampler, name)

    def pop(self):
        """Return the positions of the oldest batch not consumed yet."""
        try:
            return self.positions.popleft()
        except IndexError:
            raise RuntimeError(
                "A training batch arrived without recorded positions: the loader "
                "yielded a batch its batch sampler did not produce. MR needs every "
                "batch to come from the loader's batch_sampler, in order.") from None


def record_batch_positions(loader):
    """Make ``loader`` record the positions of its batches; return the recorder.

    Installs a :class:`PositionRecorder` around ``loader.batch_sampler`` (once;
    a loader that already records returns its recorder).

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
      A map-style loader with automatic batching, yielding batches in order.

    Returns
    -------
    recorder : PositionRecorder

    Raises
    ------
    TypeError, ValueError
      If the positions of the loader's batches cannot be known: not a
      DataLoader, an iterable-style dataset, ``batch_size=None`` or
      ``in_order=False``.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> loader = DataLoader(TensorDataset(torch.arange(4.0)), batch_size=3)
    >>> recorder = record_batch_positions(loader)
    >>> [(xb.tolist(), recorder.pop().tolist()) for xb, in loader]
    [([0.0, 1.0, 2.0], [0, 1, 2]), ([3.0], [3])]
    """
    if getattr(loader, "skip_batches", 0):
        raise ValueError(
            "MR cannot follow a loader that skips the first batches of an epoch "
            "(Accelerate's skip_first_batches): their positions would be recorded "
            "but never trained on. Resume at an epoch boundary instead.")
    # Accelerate's prepared loaders (DataLoaderShard, ...) iterate an inner
    # DataLoader, whose batch sampler is this process's shard.
    while hasattr(loader, "base_dataloader"):
        loader = loader.base_dataloader
    batch_sampler = getattr(loader, "batch_sampler", None)
    if isinstance(batch_sampler, PositionRecorder):
        return batch_sampler
    if not isinstance(loader, DataLoader):
        raise TypeError(
            "MR looks up the weight of each training example from the positions "
            "its loader's batch sampler produces, so iterator_train must build a "
            f"torch.utils.data.DataLoader (or a subclass), got {type(loader).__name__}.")
    if isinstance(loader.dataset, IterableDataset):
        raise ValueError(
            "MR needs a map-style dataset (with __len__ and __getitem__): the "
            "examples of an IterableDataset have no positions to weight.")
    if batch_sampler is None:
        raise ValueError(
            "MR needs batches from a batch sampler, but the loader was built with "
            "batch_size=None; use a positive batch size.")
    if not getattr(loader, "in_order", True):
        raise ValueError(
            "MR needs the loader to yield batches in the order its batch sampler "
            "produced them; remove in_order=False (iterator_train__in_order).")
    recorder = PositionRecorder(batch_sampler)
    # DataLoader refuses to reassign batch_sampler after __init__ (its
    # __setattr__ guards it); it only reads the attribute when an iterator
    # is created, so the replacement is safe before the first iteration.
    object.__setattr__(loader, "batch_sampler", recorder)
    iterator = getattr(loader, "_iterator", None)  # persistent workers
    if iterator is not None:
        iterator._index_sampler = recorder
    return recorder


# -- one-call batch fetching ----------------------------------------------------
class _Batch(collections.abc.Sequence):
    """The items of a batch; :func:`collate` takes the pre-collated value.

    Any other collate function sees an ordinary sequence of items.
    """

    def __init__(self, dataset, indices, collated):
        self.dataset = dataset
        self.indices = indices
        self.collated = collated

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self.dataset[i] for i in self.indices[k]]
        return self.dataset[self.indices[k]]


def collate(batch):
    """Collate a batch as :func:`torch.utils.data.default_collate` does.

    A batch fetched with one call by :class:`Dataset` is already collated and
    is passed through; anything else goes to ``default_collate``.

    Parameters
    ----------
    batch : sequence of items

    Returns
    -------
    collated : the collated batch
    """
    if isinstance(batch, _Batch):
        return batch.collated
    return default_collate(batch)


def _fast_indexable(data):
    if isinstance(data, Mapping):
        return bool(data) and all(_fast_indexable(v) for v in data.values())
    if isinstance(data, torch.Tensor):
        return True
    return isinstance(data, np.ndarray) and data.dtype != object and not sparse.issparse(data)


def _take(data, index):
    """Rows ``index`` (int64 array) of a ``_fast_indexable`` container.

    Indexes directly: skorch's ``multi_indexing`` turns an index array into a
    Python list, which scikit-learn's ``_safe_indexing`` then checks element by
    element (about a quarter of a millisecond per batch of 128, the whole of
    MR's per-batch overhead on a small model).
    """
    if isinstance(data, Mapping):
        return {key: _take(value, index) for key, value in data.items()}
    if isinstance(data, torch.Tensor):
        return data[torch.from_numpy(index).to(data.device)]
    return data[index]


def _as_batch_tensor(values):
    if isinstance(values, Mapping):
        return {key: _as_batch_tensor(v) for key, v in values.items()}
    return torch.as_tensor(values)


class Dataset(SkorchDataset):
    """skorch's Dataset with one-call batch fetching and encoded targets.

    Items are ``(X[i], targets[i])``, as :class:`skorch.dataset.Dataset`
    yields ``(X[i], y[i])``. ``y`` keeps the labels given to fit, so that
    skorch's scoring callbacks (which read ``dataset.y``) compare predictions
    with labels, while the criterion receives ``targets`` (the output indices
    of the labels).

    When ``X`` is a numpy array or tensor (or a dict of them) and the targets
    are too, ``__getitems__`` fetches a whole batch with one indexing call;
    :func:`collate` (the collate function MRClassifier's loaders use unless
    one is given) passes it through. The result equals what
    ``default_collate`` makes of the items one by one.

    Parameters
    ----------
    X : see :class:`skorch.dataset.Dataset`

    y : see :class:`skorch.dataset.Dataset` (default=None)
      The labels.

    length : int or None (default=None)

    targets : array-like or None (default=None)
      What the items carry as their target; None uses ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> ds = Dataset(np.eye(3, dtype=np.float32), np.array(["b", "a", "b"]),
    ...              targets=np.array([1, 0, 1]))
    >>> ds[1]
    (array([0., 1., 0.], dtype=float32), np.int64(0))
    >>> ds.y[1]
    np.str_('a')
    """

    def __init__(self, X, y=None, length=None, targets=None):
        super().__init__(X, y, length=length)
        self.targets = y if targets is None else targets
        self.targets_indexing = check_indexing(self.targets)

    def __getitem__(self, i):
        X = self.X
        if self.X_is_ndframe:
            X = {k: X[k].values.reshape(-1, 1) for k in X}
        Xi = multi_indexing(X, i, self.X_indexing)
        yi = multi_indexing(self.targets, i, self.targets_indexing)
        return self.transform(Xi, yi)

    def _fetches_batches(self):
        return (type(self).transform is SkorchDataset.transform
                and type(self).__getitem__ is Dataset.__getitem__
                and not self.X_is_ndframe and _fast_indexable(self.X)
                and (self.targets is None or _fast_indexable(self.targets)))

    def __getitems__(self, indices):
        if not self._fetches_batches():
            return [self[i] for i in indices]
        index = np.asarray(indices, dtype=np.int64)
        Xb = _as_batch_tensor(_take(self.X, index))
        if self.targets is None:
            # default_collate of transform's per-item placeholder Tensor([0])
            yb = torch.zeros((len(index), 1))
        else:
            yb = _as_batch_tensor(_take(self.targets, index))
        return _Batch(self, index, [Xb, yb])


# -- the un-augmented view and root rows -------------------------------------------
def plain_view(dataset):
    """Return ``dataset`` without training-time augmentation.

    Follows :class:`torch.utils.data.Subset` chains and calls
    ``without_augmentation()`` on the innermost dataset that defines it. A
    dataset that defines none is returned unchanged.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset

    Returns
    -------
    dataset : torch.utils.data.Dataset
      Same length and item order as ``dataset``.
    """
    if hasattr(dataset, "without_augmentation"):
        return dataset.without_augmentation()
    if isinstance(dataset, Subset):
        inner = plain_view(dataset.dataset)
        if inner is dataset.dataset:
            return dataset
        return Subset(inner, dataset.indices)
    return dataset


def subset_positions(dataset, root=None):
    """Map the items of a (possibly nested) Subset to rows of its root dataset.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset

    root : torch.utils.data.Dataset or None (default=None)
      Stop descending at this dataset (the one built from the X given to
      fit), even if it is itself a Subset.

    Returns
    -------
    rows : numpy.ndarray of int64
      ``rows[j]`` is the row of the root dataset that item ``j`` is.

    n_rows : int
      Length of the root dataset.
    """
    if isinstance(dataset, Subset) and dataset is not root:
        rows, n_rows = subset_positions(dataset.dataset, root=root)
        return rows[np.asarray(dataset.indices, dtype=np.int64)], n_rows
    n = len(dataset)
    return np.arange(n, dtype=np.int64), n


# -- which examples the weights belong to ---------------------------------------------
_FINGERPRINT_ROWS = 64


def _hash_into(h, value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:  # numpy has no bfloat16: hash its bits
            value = value.view(torch.int16)
        value = value.numpy()
    if sparse.issparse(value):
        value = value.toarray()
    if hasattr(value, "to_numpy"):  # pandas
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            h.update(repr(value.tolist()).encode())
        else:
            h.update(str((value.dtype.str, value.shape)).encode())
            h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, Mapping):
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _hash_into(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update(b"seq%d" % len(value))
        for item in value:
            _hash_into(h, item)
    elif isinstance(value, (str, bytes, int, float, bool, np.generic)) or value is None:
        h.update(repr(value).encode())
    else:
        h.update(type(value).__qualname__.encode())


def data_fingerprint(dataset):
    """Return a cheap 63-bit fingerprint of the examples of ``dataset``.

    MR's weights belong to fixed examples. The fingerprint lets a later
    ``partial_fit`` (or warm-started ``fit``) detect that it was given other
    data than the weights were built on. It hashes the length and up to 64
    evenly spaced examples (for a skorch dataset, those rows of ``X`` and
    ``y``; for another dataset, those items of its :func:`plain_view` that
    read the same twice, so random augmentation does not change it), so its
    cost does not grow with the data.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset

    Returns
    -------
    fingerprint : int
      In ``[0, 2**63)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_mr.batching import Dataset
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> a = data_fingerprint(Dataset(X, np.zeros(6)))
    >>> a == data_fingerprint(Dataset(X.copy(), np.zeros(6)))
    True
    >>> a == data_fingerprint(Dataset(X + 1, np.zeros(6)))
    False
    """
    h = hashlib.blake2b(digest_size=8)
    n = len(dataset)
    h.update(b"n%d" % n)
    rows = np.unique(np.linspace(0, n - 1, num=min(n, _FINGERPRINT_ROWS)).astype(np.int64))
    if isinstance(dataset, SkorchDataset) and hasattr(dataset, "X"):
        X = dataset.X
        if dataset.X_is_ndframe:
            X = {k: X[k].values for k in X}
        _hash_into(h, multi_indexing(X, rows, dataset.X_indexing))
        if dataset.y is not None:
            _hash_into(h, multi_indexing(dataset.y, rows, dataset.y_indexing))
    else:
        h.update(type(dataset).__qualname__.encode())
        plain = plain_view(dataset)
        for i in rows.tolist():
            first, second = hashlib.blake2b(digest_size=8), hashlib.blake2b(digest_size=8)
            _hash_into(first, plain[i])
            _hash_into(second, plain[i])
            if first.digest() == second.digest():
                h.update(first.digest())
    return int.from_bytes(h.digest(), "little") >> 1


class BatchingMixin:
    """The data hooks of :class:`sk_mr.mixin.MRMixin`: datasets, loaders, positions.

    ``get_dataset`` builds :class:`Dataset` with the task's targets (float64
    arrays cast to the module's dtype), ``get_iterator`` uses :func:`collate`,
    and during a training epoch ``run_single_epoch`` records the positions of
    each batch (:func:`record_batch_positions`), which ``on_batch_begin``
    takes as the net's ``batch_positions_``.
    """

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
