"""Dataset plumbing that lets MR know which examples a training batch holds.

The training iterator of :class:`sk_mr.MRClassifier` wraps its dataset in
:class:`IndexedDataset`, whose items carry their position. The wrapping
loader strips the positions off again before skorch sees the batch and hands
them to the net, so the batch that callbacks, ``infer`` and the module see is
exactly what plain skorch would produce. Validation and prediction iterators
are never wrapped.

Augmentation protocol: a dataset that augments its training items may define
``without_augmentation()`` returning a dataset with the same items in the same
order, un-augmented. The MR loss pass uses that view (Algorithm 1 evaluates
``l_i(theta)`` on example ``i`` itself, not on a random augmentation of it).
:func:`plain_view` follows it through :class:`torch.utils.data.Subset`.
"""

import numpy as np
import torch
from torch.utils.data import Dataset, Subset, default_collate

__all__ = ["IndexedDataset", "PositionTrackingLoader", "plain_view",
           "subset_positions"]


class IndexedDataset(Dataset):
    """Wrap a map-style dataset so that item ``i`` is ``(dataset[i], i)``.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
      A map-style dataset with ``__len__``.
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i], i


class _IndexedCollate:
    """Collate ``(item, position)`` pairs with the user's ``collate_fn``."""

    def __init__(self, collate_fn=None):
        self.collate_fn = collate_fn or default_collate

    def __call__(self, samples):
        items = [item for item, _ in samples]
        positions = torch.as_tensor([i for _, i in samples], dtype=torch.int64)
        return self.collate_fn(items), positions


class PositionTrackingLoader:
    """Iterate a loader over an :class:`IndexedDataset`, yielding plain batches.

    Before yielding each batch, the positions of its examples (an int64 tensor
    on the CPU) are passed to ``on_positions``; run_single_epoch consumes the
    batch immediately after, so the net always holds the positions of the
    batch being trained on.

    Parameters
    ----------
    loader : iterable
      A loader over an :class:`IndexedDataset` using ``_IndexedCollate``.

    on_positions : callable
      Called with the positions of every batch before it is yielded.
    """

    def __init__(self, loader, on_positions):
        self.loader = loader
        self.on_positions = on_positions

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch, positions in self.loader:
            self.on_positions(positions)
            yield batch


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
