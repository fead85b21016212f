"""Tests of sk_mr.dataset: positions of training batches and the plain view."""

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset

from sk_mr.dataset import (IndexedDataset, PositionTrackingLoader, _IndexedCollate,
                           plain_view, subset_positions)


class Augmenting(TensorDataset):
    def __init__(self, *tensors, augment=True):
        super().__init__(*tensors)
        self.augment = augment

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return (x + 1 if self.augment else x), y

    def without_augmentation(self):
        return Augmenting(*self.tensors, augment=False)


class TestPositions:
    def test_loader_yields_plain_batches_and_reports_positions(self):
        X = torch.arange(10.0).unsqueeze(1)
        y = torch.arange(10)
        seen = []
        loader = DataLoader(IndexedDataset(TensorDataset(X, y)), batch_size=4, shuffle=True,
                            collate_fn=_IndexedCollate(), generator=torch.Generator().manual_seed(0))
        tracking = PositionTrackingLoader(loader, seen.append)
        assert len(tracking) == 3
        for xb, yb in tracking:
            positions = seen[-1]  # reported just before the batch is yielded
            # the batch is what plain skorch would see, and positions index it
            assert torch.equal(xb[:, 0].long(), positions)
            assert torch.equal(yb, positions)
        assert sorted(torch.cat(seen).tolist()) == list(range(10))

    def test_user_collate_is_kept(self):
        calls = []

        def collate(items):
            calls.append(len(items))
            return torch.stack([x for x, _ in items]), torch.stack([t for _, t in items])

        ds = IndexedDataset(TensorDataset(torch.zeros(5, 2), torch.zeros(5)))
        batch, positions = _IndexedCollate(collate)([ds[i] for i in (4, 2)])
        assert calls == [2] and positions.tolist() == [4, 2] and batch[0].shape == (2, 2)


class TestPlainView:
    def test_through_subsets(self):
        ds = Augmenting(torch.zeros(6, 1), torch.zeros(6))
        sub = Subset(Subset(ds, [5, 4, 3, 2]), [1, 2])
        plain = plain_view(sub)
        assert [plain[i][0].item() for i in range(2)] == [0.0, 0.0]
        assert [sub[i][0].item() for i in range(2)] == [1.0, 1.0]

    def test_dataset_without_protocol_is_unchanged(self):
        ds = TensorDataset(torch.zeros(3, 1))
        assert plain_view(ds) is ds
        sub = Subset(ds, [0, 1])
        assert plain_view(sub) is sub


class TestSubsetPositions:
    def test_nested_subsets_map_to_root_rows(self):
        ds = TensorDataset(torch.zeros(10, 1))
        rows, n = subset_positions(Subset(Subset(ds, [9, 7, 5, 3]), [3, 0]))
        np.testing.assert_array_equal(rows, [3, 9])
        assert n == 10

    def test_stops_at_root(self):
        ds = TensorDataset(torch.zeros(10, 1))
        root = Subset(ds, [2, 4, 6])
        rows, n = subset_positions(Subset(root, [2]), root=root)
        np.testing.assert_array_equal(rows, [2])
        assert n == 3
