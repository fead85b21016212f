"""Tests of sk_mr.datasets: loaders on tiny on-disk fixtures, augmentation."""

import pickle
import random

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Subset

from sk_mr import MRClassifier
from sk_mr.batching import plain_view
from sk_mr.datasets import (DATASETS, AugmentedDataset, Clothing1M, RandomCropFlip,
                            ResizeCrop, cifar_augmentation, load_cifar, load_dataset,
                            load_digits_images, load_mnist1d)
from sk_mr.models import SmallCNN


# -- fixtures: the real on-disk formats, tiny -----------------------------------------

def _dump(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def _cifar_batch(rng, n, n_classes, labels_key):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = rng.integers(0, n_classes, size=n).tolist()
    return {"batch_label": "tiny", "data": data, labels_key: labels,
            "filenames": [f"{i}.png" for i in range(n)]}


@pytest.fixture(scope="module")
def cifar_root(tmp_path_factory):
    """cifar-10-batches-py and cifar-100-python with a few images per file."""
    root = tmp_path_factory.mktemp("cifar")
    rng = np.random.default_rng(0)
    c10 = root / "cifar-10-batches-py"
    c10.mkdir()
    for i in range(1, 6):
        _dump(c10 / f"data_batch_{i}", _cifar_batch(rng, 4, 10, "labels"))
    _dump(c10 / "test_batch", _cifar_batch(rng, 3, 10, "labels"))
    _dump(c10 / "batches.meta", {"label_names": [f"c{i}" for i in range(10)],
                                 "num_vis": 3072})
    c100 = root / "cifar-100-python"
    c100.mkdir()
    for split, n in (("train", 6), ("test", 3)):
        batch = _cifar_batch(rng, n, 100, "fine_labels")
        batch["coarse_labels"] = [0] * n
        _dump(c100 / split, batch)
    _dump(c100 / "meta", {"fine_label_names": [f"f{i}" for i in range(100)],
                          "coarse_label_names": [f"k{i}" for i in range(20)]})
    return root


def _write_clothing(root, layout="official"):
    """A Clothing1M tree: 8 small JPEGs and the list files."""
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(8):
        rel = f"images/{i % 2}/{i:02d}/{i:04d}.jpg"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(20 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / rel, quality=90)
        paths.append(rel)
    noisy = {p: i % 14 for i, p in enumerate(paths)}
    clean = {p: (i + 5) % 14 for i, p in enumerate(paths[4:], 4)}
    (root / "category_names_eng.txt").write_text(
        "\n".join(f"cat{i}" for i in range(14)) + "\n")
    splits = {"noisy_train": (paths[:5], noisy), "clean_val": (paths[4:6], clean),
              "clean_test": (paths[6:], clean)}
    if layout == "official":
        (root / "noisy_label_kv.txt").write_text(
            "".join(f"{p} {label}\n" for p, label in noisy.items()))
        (root / "clean_label_kv.txt").write_text(
            "".join(f"{p} {label}\n" for p, label in clean.items()))
        for split, (keys, _) in splits.items():
            (root / f"{split}_key_list.txt").write_text("".join(f"{p}\n" for p in keys))
    else:
        for split, (keys, labels) in splits.items():
            (root / f"{split}_kv.txt").write_text(
                "".join(f"{p} {labels[p]}\n" for p in keys))
    return paths, noisy, clean


@pytest.fixture(scope="module")
def clothing_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("clothing1m")
    return root, *_write_clothing(root)


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

class TestRandomCropFlip:
    def test_matches_pad_then_crop(self):
        x = torch.rand(3, 8, 8)
        transform = RandomCropFlip(padding=3, flip=False)
        rng = np.random.default_rng(0)
        for _ in range(50):
            state = rng.bit_generator.state
            out = transform(x, rng=rng)
            replay = np.random.default_rng()
            replay.bit_generator.state = state
            i, j = replay.integers(0, 7, size=2)
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
        out = RandomCropFlip(padding=10)(torch.ones(1, 4, 4), rng=np.random.default_rng(1))
        assert out.shape == (1, 4, 4) and 0 <= out.sum() <= 16

    def test_cifar_augmentation(self):
        transform = cifar_augmentation()
        assert (transform.padding, transform.flip) == (4, True)
        x = torch.rand(3, 32, 32)
        assert transform(x, rng=np.random.default_rng(0)).shape == (3, 32, 32)


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


# -- CIFAR ----------------------------------------------------------------------------------------

class TestLoadCifar:
    def test_cifar10_layout(self, cifar_root):
        train = load_cifar(cifar_root, "cifar10", train=True)
        assert train.X.shape == (20, 3, 32, 32) and train.X.dtype == np.float32
        assert train.classes[:2] == ["c0", "c1"] and train.n_classes == 10
        with open(cifar_root / "cifar-10-batches-py" / "data_batch_2", "rb") as f:
            batch = pickle.load(f)
        # Row layout: 1024 red, then 1024 green, then 1024 blue values.
        row = batch["data"][1]
        assert train.X[5, 1, 0, 3] == pytest.approx(row[1024 + 3] / 255)
        assert train.X[5, 2, 31, 31] == pytest.approx(row[3071] / 255)
        assert train.y[4:8].tolist() == batch["labels"]
        test = load_cifar(cifar_root, "cifar10", train=False)
        assert len(test.X) == 3 and test.y.dtype == np.int64

    def test_cifar100_fine_labels(self, cifar_root):
        train = load_cifar(cifar_root, "cifar100", train=True)
        with open(cifar_root / "cifar-100-python" / "train", "rb") as f:
            batch = pickle.load(f)
        assert train.y.tolist() == batch["fine_labels"] and train.n_classes == 100
        assert 0.0 <= train.X.min() and train.X.max() <= 1.0

    def test_missing_files_named(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="data_batch_1.*download=True"):
            load_cifar(tmp_path, "cifar10")

    def test_md5_check_is_opt_in(self, cifar_root):
        with pytest.raises(ValueError, match="test_batch fails its md5 check"):
            load_cifar(cifar_root, "cifar10", train=False, check_md5=True)

    def test_malformed_batch(self, tmp_path):
        folder = tmp_path / "cifar-10-batches-py"
        folder.mkdir()
        _dump(folder / "test_batch", {"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]})
        _dump(folder / "batches.meta", {"label_names": ["a"]})
        with pytest.raises(ValueError, match="test_batch holds data of shape"):
            load_cifar(tmp_path, train=False)

    def test_unknown_name(self, cifar_root):
        with pytest.raises(ValueError, match="'cifar10' or 'cifar100'"):
            load_cifar(cifar_root, "cifar1000")


# -- Clothing1M ----------------------------------------------------------------------------------

class TestClothing1M:
    def test_official_layout_labels(self, clothing_root):
        root, paths, noisy, clean = clothing_root
        train = Clothing1M(root, "noisy_train")
        assert [p for p, _ in train.samples] == paths[:5]
        assert train.targets.tolist() == [noisy[p] for p in paths[:5]]
        test = Clothing1M(root, "clean_test")
        assert test.targets.tolist() == [clean[p] for p in paths[6:]]
        assert train.classes[0] == "cat0" and len(train.classes) == 14

    def test_items_training_and_eval(self, clothing_root):
        root = clothing_root[0]
        train = Clothing1M(root, "noisy_train", random_state=0)
        assert train.training
        x, y = train[2]
        assert x.shape == (3, 224, 224) and x.dtype == torch.float32
        assert 0.0 <= x.min() and x.max() <= 1.0 and int(y) == train.targets[2]
        draws = [train[2][0] for _ in range(6)]
        assert any(not torch.equal(draws[0], d) for d in draws[1:])
        plain = train.without_augmentation()
        assert not plain.training and len(plain) == len(train)
        assert torch.equal(plain[2][0], plain[2][0])
        assert not Clothing1M(root, "clean_val").training

    def test_seeded_and_center_crop(self, clothing_root):
        from PIL import Image

        root, paths = clothing_root[:2]
        a = Clothing1M(root, "noisy_train", random_state=1)
        b = Clothing1M(root, "noisy_train", random_state=1)
        assert all(torch.equal(a[i][0], b[i][0]) for i in range(len(a)))
        with Image.open(root / paths[0]) as image:
            expected = ResizeCrop(train=False)(image.convert("RGB"))
        assert torch.equal(a.without_augmentation()[0][0], expected)

    def test_kv_layout(self, tmp_path):
        paths, noisy, clean = _write_clothing(tmp_path, layout="kv")
        val = Clothing1M(tmp_path, "clean_val")
        assert val.targets.tolist() == [clean[p] for p in paths[4:6]]
        assert Clothing1M(tmp_path, "noisy_train").targets.tolist() == \
            [noisy[p] for p in paths[:5]]

    def test_with_targets(self, clothing_root):
        train = Clothing1M(clothing_root[0], "noisy_train")
        relabeled = train.with_targets([13] * 5)
        assert int(relabeled[0][1]) == 13 and train.targets[0] != 13
        with pytest.raises(ValueError, match=r"shape \(5,\)"):
            train.with_targets([1, 2])

    def test_mr_classifier_fits_without_y(self, clothing_root):
        from skorch.utils import data_from_dataset

        root, paths = clothing_root[:2]
        small = dict(transform=ResizeCrop(size=8, resize=10, train=True),
                     eval_transform=ResizeCrop(size=8, resize=10, train=False))
        train = Clothing1M(root, "noisy_train", random_state=0, **small)
        X, y = data_from_dataset(train)  # how skorch infers classes_
        assert X == paths[:5] and y.tolist() == train.targets.tolist()
        torch.manual_seed(0)
        net = MRClassifier(SmallCNN, module__in_channels=3, module__n_classes=14,
                           max_epochs=2, batch_size=2, train_split=None, verbose=0)
        net.fit(train, y=None)
        assert np.isfinite(net.cumulative_losses_).all() and len(net.cumulative_losses_) == 5
        test = Clothing1M(root, "clean_test", **small)
        assert net.predict(test).shape == (2,)

    def test_missing_list_file_named(self, tmp_path):
        _write_clothing(tmp_path)
        (tmp_path / "clean_label_kv.txt").unlink()
        with pytest.raises(FileNotFoundError, match="missing: .*clean_label_kv.txt"):
            Clothing1M(tmp_path, "clean_test")
        with pytest.raises(FileNotFoundError, match="is not a folder"):
            Clothing1M(tmp_path / "nope")

    def test_malformed_lines(self, tmp_path):
        _write_clothing(tmp_path)
        kv = tmp_path / "noisy_label_kv.txt"
        kv.write_text(kv.read_text() + "images/x.jpg two\n")
        with pytest.raises(ValueError, match="noisy_label_kv.txt, line 9: label 'two'"):
            Clothing1M(tmp_path, "noisy_train")
        kv.write_text("images/x.jpg 14\n")
        with pytest.raises(ValueError, match="outside 0..13"):
            Clothing1M(tmp_path, "noisy_train")

    def test_key_without_label_and_missing_image(self, tmp_path):
        paths, _, _ = _write_clothing(tmp_path)
        keys = tmp_path / "clean_val_key_list.txt"
        keys.write_text("images/none.jpg\n")
        with pytest.raises(ValueError, match="'images/none.jpg' has no label"):
            Clothing1M(tmp_path, "clean_val")
        (tmp_path / paths[0]).unlink()
        with pytest.raises(FileNotFoundError, match="0000.jpg.*is missing"):
            Clothing1M(tmp_path, "noisy_train")[0]

    def test_unknown_split(self, clothing_root):
        with pytest.raises(ValueError, match="split must be one of"):
            Clothing1M(clothing_root[0], "train")


# -- by name ------------------------------------------------------------------------------------

class TestLoadDataset:
    def test_unknown_name_lists_valid(self):
        with pytest.raises(ValueError, match="Unknown dataset 'imagenet'.*digits, mnist1d"):
            load_dataset("imagenet")

    def test_root_required(self):
        with pytest.raises(ValueError, match="root is required for 'cifar10'"):
            load_dataset("cifar10")

    def test_embedded(self):
        digits = load_dataset("digits")
        assert digits.X_train.shape[1:] == (1, 8, 8) and digits.train_transform is None
        assert DATASETS == ("digits", "mnist1d", "cifar10", "cifar100", "clothing1m")

    def test_files(self, cifar_root, clothing_root):
        cifar = load_dataset("cifar100", cifar_root)
        assert cifar.n_classes == 100 and len(cifar.X_train) == 6
        assert isinstance(cifar.train_transform, RandomCropFlip)
        clothing = load_dataset("clothing1m", clothing_root[0])
        assert isinstance(clothing.X_train, Clothing1M) and clothing.n_classes == 14
        assert len(clothing.y_test) == 2


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
