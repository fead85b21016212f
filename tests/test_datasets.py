"""Tests of sk_mr.datasets: the embedded data sets and augmentation."""

import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Subset

from sk_mr import MRClassifier
from sk_mr.batching import plain_view
from sk_mr.datasets import AugmentedDataset, RandomCropFlip, load_digits_images, load_mnist1d
from sk_mr.models import SmallCNN


@pytest.fixture(scope="module")
def digits_images():
    return load_digits_images(random_state=0)


class _Shift:
    """An 'augmentation' that adds 0.5 and counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return x + 0.5


# -- transforms -------------------------------------------------------------------------

def replay_from(state):
    """A generator at a saved bit-generator state: it redraws what followed."""
    replay = np.random.default_rng()
    replay.bit_generator.state = state
    return replay


class TestRandomCropFlip:
    def test_matches_pad_then_crop(self):
        x = torch.rand(3, 8, 8)
        transform = RandomCropFlip(padding=3, flip=False)
        rng = np.random.default_rng(0)
        for _ in range(50):
            state = rng.bit_generator.state
            out = transform(x, rng=rng)
            i, j = replay_from(state).integers(0, 7, size=2)
            torch.testing.assert_close(out, F.pad(x, (3, 3, 3, 3))[:, i:i + 8, j:j + 8])

    def test_flip_about_half_the_time(self):
        x = torch.arange(4.0).repeat(1, 4, 1)
        rng = np.random.default_rng(0)
        flipped = [bool(torch.equal(RandomCropFlip(0)(x, rng=rng), x.flip(-1)))
                   for _ in range(400)]
        assert 0.4 < np.mean(flipped) < 0.6

    def test_identity_without_padding_and_flip(self):
        x = torch.rand(3, 5, 5)
        assert torch.equal(RandomCropFlip(padding=0, flip=False)(x), x)

    def test_padding_larger_than_image(self):
        # Shifts up to 10 on a 4x4 image: the crop of the zero-padded image,
        # whole, partial or all zeros, then the flip, replayed from the rng.
        x = torch.arange(1.0, 17.0).reshape(1, 4, 4)
        transform = RandomCropFlip(padding=10)
        rng = np.random.default_rng(1)
        sums = set()
        for _ in range(200):
            state = rng.bit_generator.state
            out = transform(x, rng=rng)
            replay = replay_from(state)
            i, j = replay.integers(0, 21, size=2)
            expected = F.pad(x, (10, 10, 10, 10))[:, i:i + 4, j:j + 4]
            if replay.random() < 0.5:
                expected = expected.flip(-1)
            torch.testing.assert_close(out, expected, rtol=0, atol=0)
            sums.add(float(out.sum()))
        # all-zero crops, the whole image (sum 136) and partial overlaps occur
        assert {0.0, 136.0} < sums


# -- AugmentedDataset -----------------------------------------------------------------------

class TestAugmentedDataset:
    @pytest.fixture
    def data(self):
        rng = np.random.default_rng(0)
        return rng.random((20, 3, 8, 8), dtype=np.float32), rng.integers(0, 3, 20)

    def test_items_differ_across_draws(self, data):
        X, y = data
        ds = AugmentedDataset(X, y, transform=RandomCropFlip(2), random_state=0)
        draws = [ds[0][0] for _ in range(10)]
        assert any(not torch.equal(draws[0], d) for d in draws[1:])
        assert all(d.shape == (3, 8, 8) for d in draws)

    def test_without_augmentation_is_raw_data(self, data):
        X, y = data
        ds = AugmentedDataset(X, y, transform=RandomCropFlip(2), random_state=0)
        plain = ds.without_augmentation()
        assert len(plain) == len(ds)
        for i in range(len(X)):
            x, yi = plain[i]
            assert torch.equal(x, torch.from_numpy(X[i])) and int(yi) == y[i]
        assert ds.transform is not None  # the original keeps augmenting
        assert plain_view(Subset(ds, [3, 1])).dataset.transform is None

    def test_seeded_reproducibility(self, data):
        X, y = data

        def draws(seed):
            ds = AugmentedDataset(X, y, transform=RandomCropFlip(2), random_state=seed)
            return torch.stack([ds[i][0] for i in range(len(ds))])

        assert torch.equal(draws(0), draws(0))
        assert not torch.equal(draws(0), draws(1))

    def test_uint8_scaled_and_labels_int64(self):
        X = np.full((2, 1, 2, 2), 255, dtype=np.uint8)
        x, y = AugmentedDataset(X, [1, 2])[1]
        assert x.dtype == torch.float32 and torch.equal(x, torch.ones(1, 2, 2))
        assert y.dtype == torch.int64 and int(y) == 2

    def test_placeholder_label_and_plain_callable(self, data):
        X, _ = data
        ds = AugmentedDataset(X, transform=lambda x: x * 0)
        x, y = ds[0]
        assert torch.equal(x, torch.zeros(3, 8, 8)) and int(y) == 0

    def test_bad_inputs(self, data):
        X, y = data
        with pytest.raises(ValueError, match="one label per row"):
            AugmentedDataset(X, y[:-1])
        with pytest.raises(TypeError, match="transform must be callable"):
            AugmentedDataset(X, y, transform="crop")

    def test_dataloader_workers_draw_independently(self):
        # Identical rows: workers with the same random stream would produce
        # identical batches.
        X = np.repeat(np.random.default_rng(0).random((1, 3, 8, 8), dtype=np.float32), 16, 0)
        ds = AugmentedDataset(X, np.zeros(16, int), transform=RandomCropFlip(3),
                              random_state=0)

        def run():
            loader = DataLoader(ds, batch_size=8, num_workers=2,
                                generator=torch.Generator().manual_seed(0))
            return [xb for xb, _ in loader]

        first, second = run()
        assert not torch.equal(first, second)
        torch.testing.assert_close(torch.cat(run()), torch.cat([first, second]))


# -- embedded data -----------------------------------------------------------------------------

class TestDigitsImages:
    def test_shapes_and_range(self, digits_images):
        d = digits_images
        assert d.X_train.shape == (1257, 1, 8, 8) and d.X_test.shape == (540, 1, 8, 8)
        assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
        assert d.X_train.min() == 0.0 and d.X_train.max() == 1.0
        assert set(np.unique(d.y_test)) == set(range(10)) and d.n_classes == 10

    def test_rows_are_the_scaled_digits_of_a_stratified_split(self, digits_images):
        # The same 70/30 stratified split of the row indices: every image is
        # scikit-learn's 8 x 8 digit / 16, with its own label.
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        train, test = train_test_split(np.arange(1797), test_size=0.3,
                                       stratify=digits.target, random_state=0)
        for rows, X, y in ((train, digits_images.X_train, digits_images.y_train),
                           (test, digits_images.X_test, digits_images.y_test)):
            np.testing.assert_array_equal(X[:, 0], digits.images[rows] / 16)
            np.testing.assert_array_equal(y, digits.target[rows])
        # stratified: each class's share of the test split is its share overall
        counts = np.bincount(digits_images.y_test) / np.bincount(digits.target)
        assert np.all(np.abs(counts - 0.3) < 0.01)

    def test_deterministic_split(self, digits_images):
        again = load_digits_images(random_state=0)
        assert np.array_equal(again.X_train, digits_images.X_train)
        other = load_digits_images(random_state=1)
        assert not np.array_equal(other.y_train, digits_images.y_train)
        assert len(load_digits_images(test_size=0.5).X_test) == 899

    def test_bad_test_size(self):
        with pytest.raises(ValueError, match="test_size"):
            load_digits_images(test_size=2)


class TestMnist1d:
    def test_shapes_and_determinism(self):
        a = load_mnist1d(n_samples=200, random_state=3)
        assert a.X_train.shape == (160, 40) and a.X_test.shape == (40, 40)
        assert a.X_train.dtype == np.float32 and a.y_train.dtype == np.int64
        assert np.isfinite(a.X_train).all() and set(np.unique(a.y_train)) <= set(range(10))
        b = load_mnist1d(n_samples=200, random_state=3)
        assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_test, b.y_test)
        c = load_mnist1d(n_samples=200, random_state=4)
        assert not np.array_equal(a.X_train, c.X_train)

    def test_global_rng_untouched(self):
        np.random.seed(123)
        random.seed(123)
        expected = (np.random.rand(), random.random())
        np.random.seed(123)
        random.seed(123)
        load_mnist1d(n_samples=100, random_state=0)
        assert (np.random.rand(), random.random()) == expected

    @pytest.mark.parametrize("kwargs, match", [
        ({"n_samples": 105}, "multiple of 10"),
        ({"random_state": None}, "non-negative int"),
        ({"test_size": 0.0}, "test_size"),
    ])
    def test_bad_params(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            load_mnist1d(**kwargs)


# -- end to end: MRClassifier on augmented digits ------------------------------------------------

class TestMRClassifierOnAugmentedData:
    def _net(self, epochs):
        return MRClassifier(SmallCNN, module__n_classes=10, eta=0.01, max_epochs=epochs,
                            batch_size=64, lr=0.05, optimizer__momentum=0.9,
                            train_split=None, random_state=0, verbose=0, loss_pass="full",
                            criterion=torch.nn.CrossEntropyLoss)

    def test_loss_pass_uses_unaugmented_view(self, digits_images):
        X, y = digits_images.X_train[:300], digits_images.y_train[:300]
        shift = _Shift()
        torch.manual_seed(0)
        net = self._net(epochs=2).fit(AugmentedDataset(X, y, transform=shift), y=None)
        # Training reads every example once per epoch; the two MW loss
        # passes read the plain view, which does not call the transform.
        assert shift.calls == 2 * len(X)
        assert np.nansum(net.sample_weights_) == pytest.approx(1.0)
        assert len(net.history) == 2

    def test_cumulative_losses_are_losses_on_raw_examples(self, digits_images):
        X, y = digits_images.X_train[:300], digits_images.y_train[:300]
        torch.manual_seed(0)
        net = self._net(epochs=1).fit(AugmentedDataset(X, y, transform=_Shift()), y=None)
        logits = net.forward(X)
        raw = F.cross_entropy(logits, torch.as_tensor(y), reduction="none").double()
        shifted = F.cross_entropy(net.forward(X + 0.5), torch.as_tensor(y), reduction="none")
        np.testing.assert_allclose(net.cumulative_losses_, raw.numpy(), rtol=1e-4, atol=1e-5)
        assert not np.allclose(net.cumulative_losses_, shifted.double().numpy(), atol=1e-3)
