"""Tests of sk_mr.paper.datasets: the CIFAR and Clothing1M loaders on tiny on-disk fixtures."""

import pickle

import numpy as np
import pytest
import torch

from sk_mr import MRClassifier
from sk_mr.datasets import RandomCropFlip
from sk_mr.models import SmallCNN
from sk_mr.paper.datasets import (DATASETS, Clothing1M, ResizeCrop, cifar_augmentation,
                                  load_cifar, load_dataset)


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


# -- transforms ---------------------------------------------------------------------------------

class TestCifarAugmentation:
    def test_cifar_augmentation(self):
        transform = cifar_augmentation()
        assert (transform.padding, transform.flip) == (4, True)
        x = torch.rand(3, 32, 32)
        assert transform(x, rng=np.random.default_rng(0)).shape == (3, 32, 32)


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
        # every pixel: the uint8 row as (channel, row, column), scaled by 1/255
        expected = batch["data"].reshape(6, 3, 32, 32).astype(np.float32) / 255
        np.testing.assert_array_equal(train.X, expected)
        assert train.classes[:2] == ["f0", "f1"] and len(train.classes) == 100

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
        from PIL import Image

        root, paths = clothing_root[:2]
        train = Clothing1M(root, "noisy_train", random_state=0)
        assert train.training
        x, y = train[2]
        assert x.shape == (3, 224, 224) and x.dtype == torch.float32
        assert int(y) == train.targets[2] == 2
        # image 2 is 22 x 30: resized (PIL, bilinear) to 256 x 349, each draw
        # is one of its 224 x 224 crops (top 0..32, left 0..125), maybe flipped
        with Image.open(root / paths[2]) as image:
            resized = np.asarray(image.convert("RGB").resize((349, 256), Image.BILINEAR))
        resized = torch.from_numpy(resized.astype(np.float32) / 255).permute(2, 0, 1)

        def crop_of(x):
            for top in range(33):
                for left in range(126):
                    crop = resized[:, top:top + 224, left:left + 224]
                    for flip in (False, True):
                        if torch.equal(x, crop.flip(-1) if flip else crop):
                            return top, left, flip
            return None

        draws = [x] + [train[2][0] for _ in range(5)]
        found = [crop_of(d) for d in draws]
        assert None not in found
        assert len(set(found)) > 1
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
                           max_epochs=1, batch_size=2, train_split=None, verbose=0,
                           loss_pass="full", criterion=torch.nn.CrossEntropyLoss)
        net.fit(train, y=None)
        # the loss pass reads the un-augmented (center-crop) items: each
        # example's cross-entropy under the fitted module, computed here
        plain = torch.stack([train.without_augmentation()[i][0] for i in range(5)])
        net.module_.eval()
        with torch.no_grad():
            logits = net.module_(plain)
        expected = torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(train.targets), reduction="none")
        np.testing.assert_allclose(net.cumulative_losses_, expected.double().numpy(),
                                   rtol=1e-5, atol=1e-6)
        test = Clothing1M(root, "clean_test", **small)
        with torch.no_grad():
            test_logits = net.module_(torch.stack([test[i][0] for i in range(2)]))
        np.testing.assert_array_equal(net.predict(test), test_logits.argmax(1).numpy())

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
