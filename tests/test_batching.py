"""Tests of sk_mr.batching: batch positions, one-call fetching, the plain view."""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset as SkorchDataset
from torch.utils.data import (BatchSampler, DataLoader, SequentialSampler, Subset,
                              TensorDataset, default_collate)

from sk_mr.batching import (Dataset, PositionRecorder, collate, data_fingerprint, plain_view,
                            record_batch_positions, subset_positions)


class Augmenting(TensorDataset):
    def __init__(self, *tensors, augment=True):
        super().__init__(*tensors)
        self.augment = augment

    def __getitem__(self, i):
        x, y = super().__getitem__(i)
        return (x + 1 if self.augment else x), y

    def without_augmentation(self):
        return Augmenting(*self.tensors, augment=False)


def identity_dataset(n=10):
    """Item i is (i, i): a batch shows its own positions."""
    return TensorDataset(torch.arange(float(n)).unsqueeze(1), torch.arange(n))


class TestRecordBatchPositions:
    def test_positions_match_the_batches_of_a_shuffling_loader(self):
        loader = DataLoader(identity_dataset(), batch_size=4, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        recorder = record_batch_positions(loader)
        assert len(loader) == 3
        for epoch in range(2):
            seen = []
            for xb, yb in loader:
                positions = recorder.pop()
                assert torch.equal(yb, positions)
                seen.append(positions)
            assert sorted(torch.cat(seen).tolist()) == list(range(10))

    def test_fifo_with_worker_prefetching(self):
        # Workers fetch several batches ahead: the queue holds their
        # positions in order until each batch is consumed.
        loader = DataLoader(identity_dataset(40), batch_size=3, shuffle=True, num_workers=2,
                            prefetch_factor=3, generator=torch.Generator().manual_seed(1))
        recorder = record_batch_positions(loader)
        for xb, yb in loader:
            assert torch.equal(yb, recorder.pop())

    def test_loader_sees_the_dataset_unwrapped(self):
        ds = identity_dataset()
        loader = DataLoader(ds, batch_size=4)
        record_batch_positions(loader)
        assert loader.dataset is ds
        assert record_batch_positions(loader) is loader.batch_sampler  # idempotent

    def test_abandoned_epoch_is_cleared(self):
        loader = DataLoader(identity_dataset(), batch_size=2)
        recorder = record_batch_positions(loader)
        next(iter(loader))  # one batch taken, its positions never popped
        batches = list(loader)
        assert torch.equal(recorder.pop(), batches[0][1])

    def test_forwards_sampler_attributes(self):
        inner = BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)
        recorder = PositionRecorder(inner)
        assert recorder.batch_size == 2 and recorder.drop_last and len(recorder) == 2

    def test_pop_without_a_batch_raises(self):
        with pytest.raises(RuntimeError, match="without recorded positions"):
            PositionRecorder([]).pop()

    @pytest.mark.parametrize("make, exc, match", [
        (lambda: [1, 2], TypeError, "DataLoader"),
        (lambda: DataLoader(identity_dataset(), batch_size=None), ValueError, "batch_size=None"),
        (lambda: DataLoader(identity_dataset(), batch_size=2, in_order=False, num_workers=1),
         ValueError, "in_order"),
    ])
    def test_unknowable_positions_raise(self, make, exc, match):
        with pytest.raises(exc, match=match):
            record_batch_positions(make())


class TestDataset:
    @pytest.mark.parametrize("X", [
        np.arange(24, dtype=np.float32).reshape(6, 4),
        torch.arange(24.0).reshape(6, 2, 2),
        {"a": np.arange(12, dtype=np.float32).reshape(6, 2), "b": torch.arange(6)},
    ])
    @pytest.mark.parametrize("y", [np.array([0, 1, 2, 0, 1, 2]), None,
                                   np.arange(6, dtype=np.float64)])
    def test_one_call_batch_equals_default_collate_of_items(self, X, y):
        ds = Dataset(X, y)
        index = [4, 0, 3]
        fast = collate(ds.__getitems__(index))
        slow = default_collate([ds[i] for i in index])
        for a, b in zip(_flatten(fast), _flatten(slow)):
            assert a.dtype == b.dtype
            assert torch.equal(a, b)

    def test_items_carry_targets_and_y_keeps_labels(self):
        ds = Dataset(np.eye(3, dtype=np.float32), np.array(["b", "a", "b"]),
                     targets=np.array([1, 0, 1]))
        assert ds[1][1] == 0 and ds.y[1] == "a"
        xb, yb = collate(ds.__getitems__([0, 1]))
        assert yb.tolist() == [1, 0]

    def test_other_collate_sees_items(self):
        ds = Dataset(np.eye(3, dtype=np.float32), np.array([0, 1, 2]))
        batch = ds.__getitems__([2, 0])
        assert [int(y) for _, y in batch] == [2, 0]
        assert list(batch[0:1])[0][1] == 2

    def test_subclass_with_transform_fetches_items(self):
        calls = []

        class Doubling(Dataset):
            def transform(self, X, y):
                calls.append(1)
                return X * 2, y

        ds = Doubling(np.ones((4, 2), np.float32), np.zeros(4, np.int64))
        xb, _ = collate(ds.__getitems__([0, 1, 2]))
        assert len(calls) == 3 and torch.equal(xb, torch.full((3, 2), 2.0))

    def test_in_a_loader_with_positions(self):
        X = np.arange(20, dtype=np.float32).reshape(10, 2)
        loader = DataLoader(Dataset(X, np.arange(10)), batch_size=4, shuffle=True,
                            collate_fn=collate, generator=torch.Generator().manual_seed(0))
        recorder = record_batch_positions(loader)
        for xb, yb in loader:
            positions = recorder.pop()
            assert torch.equal(yb, positions)
            assert torch.equal(xb, torch.as_tensor(X)[positions])


def _flatten(batch):
    if isinstance(batch, dict):
        return [t for key in sorted(batch) for t in _flatten(batch[key])]
    if isinstance(batch, (list, tuple)):
        return [t for item in batch for t in _flatten(item)]
    return [batch]


class TestDataFingerprint:
    def test_same_data_same_fingerprint_other_data_differs(self):
        X = np.random.default_rng(0).normal(size=(100, 3))
        y = np.arange(100) % 3
        a = data_fingerprint(SkorchDataset(X, y))
        assert a == data_fingerprint(Dataset(X.copy(), y.copy()))
        assert a != data_fingerprint(Dataset(X[::-1].copy(), y))
        assert a != data_fingerprint(Dataset(X, (y + 1) % 3))
        assert a != data_fingerprint(Dataset(X[:99], y[:99]))
        assert 0 <= a < 2 ** 63

    def test_generic_dataset_ignores_random_augmentation(self):
        class Noisy(TensorDataset):
            def __getitem__(self, i):
                x, y = super().__getitem__(i)
                return x + torch.rand(1), y

        X, y = torch.zeros(8, 1), torch.arange(8)
        noisy = Noisy(X, y)
        assert data_fingerprint(noisy) == data_fingerprint(noisy)
        # deterministic items are hashed: other data, other fingerprint
        assert data_fingerprint(TensorDataset(X, y)) != data_fingerprint(TensorDataset(X + 1, y))


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


class TestLazyData:
    def test_memory_mapped_data_trains_like_arrays(self, tmp_path):
        # A memmap is fetched a batch at a time (one fancy index per batch),
        # never loaded whole; MR trains on it exactly as on the array.
        from sk_mr import MRClassifier
        rng = np.random.default_rng(0)
        X = rng.normal(size=(3000, 5)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.int64)
        mapped = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="w+", shape=X.shape)
        mapped[:] = X
        mapped.flush()
        mapped = np.memmap(tmp_path / "X.f32", dtype=np.float32, mode="r", shape=X.shape)
        ds = Dataset(mapped, y)
        batch = ds.__getitems__([5, 2999, 7])
        assert isinstance(batch.collated[0], torch.Tensor) and batch.collated[0].shape == (3, 5)
        params = dict(module=torch.nn.Linear, module__in_features=5, module__out_features=2,
                      max_epochs=2, batch_size=256, train_split=None, verbose=0,
                      random_state=0, eta=0.5)
        a = MRClassifier(**params).fit(mapped, y)
        b = MRClassifier(**params).fit(X, y)
        np.testing.assert_array_equal(a.cumulative_losses_, b.cumulative_losses_)
