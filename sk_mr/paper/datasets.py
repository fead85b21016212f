"""The paper's data sets: CIFAR-10/100 and Clothing1M, and every data set by name.

Images are float32 tensors or arrays in ``[0, 1]``, channels first, as in
:mod:`sk_mr.datasets` (which holds the small embedded sets and
:class:`~sk_mr.datasets.AugmentedDataset`).

* :func:`load_cifar`: CIFAR-10/100 read from torchvision's on-disk format;
  :func:`cifar_augmentation` is the paper's CIFAR augmentation (a
  :class:`~sk_mr.datasets.RandomCropFlip` for an
  :class:`~sk_mr.datasets.AugmentedDataset`).
* :class:`Clothing1M`: the Clothing1M images and official list files in a
  user's folder, with :class:`ResizeCrop` (:func:`clothing1m_transform`),
  the ImageNet-style preprocessing. It follows :mod:`sk_mr.batching`'s
  ``without_augmentation()`` protocol, so the MR loss pass sees the images
  without the random crop.
* :func:`load_dataset`: the experiments' data sets by name (the embedded
  ones included).

Random draws follow :mod:`sk_mr.datasets`' rules: a numpy Generator seeded
from the dataset's ``random_state`` and, in a DataLoader worker, the
worker's seed.
"""

import copy
import os
import pickle

import numpy as np
import torch
from sklearn.utils import Bunch
from torch.utils.data import Dataset

from sk_mr.datasets import (RandomCropFlip, _RandomItems, load_digits_images,
                            load_mnist1d)

__all__ = [
    "CLOTHING1M_SPLITS", "Clothing1M", "DATASETS", "ResizeCrop", "cifar_augmentation",
    "clothing1m_transform", "load_cifar", "load_dataset",
]


# -- transforms ----------------------------------------------------------------

def cifar_augmentation(padding=4, flip=True):
    """The paper's CIFAR augmentation: random crop 32 with padding 4, h-flip.

    Parameters
    ----------
    padding : int (default=4)
      Zero padding of the random crop.

    flip : bool (default=True)
      Random horizontal flip.

    Returns
    -------
    transform : RandomCropFlip
      For :class:`AugmentedDataset`.

    Examples
    --------
    >>> from sk_mr.paper.datasets import cifar_augmentation
    >>> cifar_augmentation()
    RandomCropFlip(padding=4, flip=True)
    """
    return RandomCropFlip(padding=padding, flip=flip)


class ResizeCrop:
    """ImageNet-style preprocessing of a PIL image into a float tensor.

    Resizes the shorter side to ``resize`` (bilinear), crops ``size x size``
    (at a random position and with a random horizontal flip when
    ``train``, in the center otherwise) and returns a float32 ``(3, size,
    size)`` tensor in ``[0, 1]``. Random draws come from the ``rng``
    argument.

    Parameters
    ----------
    size : int (default=224)
      Side of the crop.

    resize : int (default=256)
      Length of the shorter side after resizing.

    train : bool (default=True)
      Random crop and flip (training) or center crop (evaluation).

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sk_mr.paper.datasets import ResizeCrop
    >>> image = Image.new("RGB", (300, 260))
    >>> ResizeCrop(train=True)(image, rng=np.random.default_rng(0)).shape
    torch.Size([3, 224, 224])
    """

    def __init__(self, size=224, resize=256, train=True):
        self.size = size
        self.resize = resize
        self.train = train

    def __call__(self, image, rng=None):
        """Preprocess one PIL image; see the class docstring."""
        from torchvision.transforms import functional as TF

        image = TF.resize(image, self.resize,
                          interpolation=TF.InterpolationMode.BILINEAR)
        x = TF.pil_to_tensor(image.convert("RGB")).float().div_(255)
        h, w = x.shape[-2:]
        if h < self.size or w < self.size:
            raise ValueError(f"resize={self.resize} is smaller than size={self.size}.")
        if self.train:
            if rng is None:
                rng = np.random.default_rng()
            top = int(rng.integers(0, h - self.size + 1))
            left = int(rng.integers(0, w - self.size + 1))
        else:
            top, left = (h - self.size) // 2, (w - self.size) // 2
        x = x[:, top:top + self.size, left:left + self.size]
        if self.train and rng.random() < 0.5:
            x = x.flip(-1)
        return x.contiguous()

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size!r}, resize={self.resize!r}, "
                f"train={self.train!r})")


def clothing1m_transform(train=True, size=224, resize=256):
    """The standard Clothing1M / ImageNet preprocessing.

    Parameters
    ----------
    train : bool (default=True)
      Resize 256, random crop 224 and horizontal flip; else resize 256 and
      center crop 224.

    size, resize : int (default=224, 256)
      Crop side and shorter side after resizing.

    Returns
    -------
    transform : ResizeCrop

    Examples
    --------
    >>> from sk_mr.paper.datasets import clothing1m_transform
    >>> clothing1m_transform(train=False)
    ResizeCrop(size=224, resize=256, train=False)
    """
    return ResizeCrop(size=size, resize=resize, train=train)


_CLOTHING1M_TRAIN = clothing1m_transform(train=True)
_CLOTHING1M_EVAL = clothing1m_transform(train=False)


# -- CIFAR -------------------------------------------------------------------------

_CIFAR = {
    "cifar10": dict(folder="cifar-10-batches-py",
                    train=[f"data_batch_{i}" for i in range(1, 6)], test=["test_batch"],
                    meta="batches.meta", names_key="label_names", labels_key="labels",
                    tv="CIFAR10"),
    "cifar100": dict(folder="cifar-100-python", train=["train"], test=["test"],
                     meta="meta", names_key="fine_label_names", labels_key="fine_labels",
                     tv="CIFAR100"),
}


def _read_pickle(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    with open(path, "rb") as f:
        try:
            return pickle.load(f, encoding="latin1")
        except Exception as exc:
            raise ValueError(f"{path} is not a CIFAR python-pickle file "
                             f"({type(exc).__name__}: {exc}).") from exc


def load_cifar(root, name="cifar10", train=True, download=False, check_md5=False):
    """CIFAR-10 or CIFAR-100 as float32 NCHW images in ``[0, 1]``.

    Reads the python-pickle files in torchvision's layout
    (``root/cifar-10-batches-py/data_batch_1..5``, ``test_batch``,
    ``batches.meta``; ``root/cifar-100-python/train``, ``test``, ``meta``)
    with a reader that mirrors torchvision's (``CIFAR100`` labels are the 100
    fine labels). With ``download=True``, torchvision's ``CIFAR10`` /
    ``CIFAR100`` first downloads and verifies the archive if it is not
    already there. Local files are read as they are unless ``check_md5``:
    torchvision's md5 check would reject any other copy of the format (and
    is slow), so it is opt-in.

    Parameters
    ----------
    root : str or os.PathLike
      Folder holding ``cifar-10-batches-py`` / ``cifar-100-python``.

    name : {'cifar10', 'cifar100'} (default='cifar10')

    train : bool (default=True)
      The 50000 training images or the 10000 test images.

    download : bool (default=False)
      Let torchvision download the data into ``root`` if missing.

    check_md5 : bool (default=False)
      Verify the files against torchvision's md5 sums.

    Returns
    -------
    data : sklearn.utils.Bunch
      ``X``: float32 array ``(n, 3, 32, 32)`` in ``[0, 1]``; ``y``: int64
      array; ``classes``: list of class names; ``n_classes``.

    Examples
    --------
    >>> from sk_mr.paper.datasets import load_cifar
    >>> train = load_cifar("data", "cifar10", train=True)  # doctest: +SKIP
    >>> train.X.shape  # doctest: +SKIP
    (50000, 3, 32, 32)
    """
    if name not in _CIFAR:
        raise ValueError(f"name must be 'cifar10' or 'cifar100', got {name!r}.")
    spec = _CIFAR[name]
    root = os.fspath(root)
    if download:
        import torchvision.datasets

        getattr(torchvision.datasets, spec["tv"])(root, train=train, download=True)
    folder = os.path.join(root, spec["folder"])
    files = spec["train"] if train else spec["test"]
    missing = [f for f in files + [spec["meta"]]
               if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise FileNotFoundError(
            f"{name} files missing from {folder}: {', '.join(missing)}. Pass "
            "download=True to let torchvision download them, or point root at the "
            f"folder that contains {spec['folder']}/.")
    if check_md5:
        import torchvision.datasets
        from torchvision.datasets.utils import check_integrity

        tv = getattr(torchvision.datasets, spec["tv"])
        sums = dict(tv.train_list + tv.test_list)
        sums[tv.meta["filename"]] = tv.meta["md5"]
        for f in files + [spec["meta"]]:
            if not check_integrity(os.path.join(folder, f), sums[f]):
                raise ValueError(
                    f"{os.path.join(folder, f)} fails its md5 check (corrupt or "
                    "not the official file); delete it and download again.")
    images, labels = [], []
    for f in files:
        path = os.path.join(folder, f)
        entry = _read_pickle(path)
        try:
            data = np.asarray(entry["data"], dtype=np.uint8)
            batch_labels = entry[spec["labels_key"]]
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path} lacks the 'data' / {spec['labels_key']!r} "
                             f"entries of a {name} batch.") from exc
        if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(batch_labels):
            raise ValueError(f"{path} holds data of shape {data.shape} with "
                             f"{len(batch_labels)} labels; expected (n, 3072) and n labels.")
        images.append(data.reshape(-1, 3, 32, 32))
        labels.extend(batch_labels)
    meta_path = os.path.join(folder, spec["meta"])
    meta = _read_pickle(meta_path)
    if spec["names_key"] not in meta:
        raise ValueError(f"{meta_path} lacks the {spec['names_key']!r} entry.")
    classes = list(meta[spec["names_key"]])
    X = np.concatenate(images).astype(np.float32)
    X /= 255.0
    return Bunch(X=X, y=np.asarray(labels, dtype=np.int64), classes=classes,
                 n_classes=len(classes))


# -- Clothing1M ----------------------------------------------------------------------

#: Clothing1M splits: the label file that the split's key list refers to.
CLOTHING1M_SPLITS = {
    "noisy_train": "noisy_label_kv.txt",
    "clean_train": "clean_label_kv.txt",
    "clean_val": "clean_label_kv.txt",
    "clean_test": "clean_label_kv.txt",
}
_CLOTHING1M_CLASSES = 14


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [(n, line.split()) for n, line in enumerate(f, 1) if line.strip()]


def _read_kv(path):
    pairs = []
    for n, fields in _read_lines(path):
        if len(fields) != 2:
            raise ValueError(f"{path}, line {n}: expected '<image path> <label>', "
                             f"got {' '.join(fields)!r}.")
        try:
            label = int(fields[1])
        except ValueError:
            raise ValueError(f"{path}, line {n}: label {fields[1]!r} is not an integer.") \
                from None
        if not 0 <= label < _CLOTHING1M_CLASSES:
            raise ValueError(f"{path}, line {n}: label {label} outside 0..13.")
        pairs.append((fields[0], label))
    return pairs


class Clothing1M(_RandomItems, Dataset):
    """Clothing1M (Xiao et al., 2015) read from the official files in ``root``.

    ``root`` holds the ``images/`` tree and the official list files: the
    label files ``noisy_label_kv.txt`` and ``clean_label_kv.txt`` (lines
    ``images/0/23/xxx.jpg <label>``), the key lists
    ``noisy_train_key_list.txt``, ``clean_train_key_list.txt``,
    ``clean_val_key_list.txt``, ``clean_test_key_list.txt`` (one image path
    a line) and ``category_names_eng.txt``. A ready ``<split>_kv.txt``
    (e.g. ``clean_val_kv.txt``, path and label a line) in ``root`` is used
    instead of the key list and label file when present. Item ``i`` is
    ``(image, label)`` with the image a float32 ``(3, 224, 224)`` tensor in
    ``[0, 1]``.

    Parameters
    ----------
    root : str or os.PathLike
      The Clothing1M folder.

    split : {'noisy_train', 'clean_train', 'clean_val', 'clean_test'} (default='noisy_train')

    train : bool or None (default=None)
      Whether items get the training transform; None means True for the
      training splits.

    transform : callable or None (default=None)
      Training-time transform of a PIL image (called with ``rng=`` when it
      accepts it); None means :func:`clothing1m_transform` ``(train=True)``
      (resize 256, random crop 224, flip).

    eval_transform : callable or None (default=None)
      Transform when ``train`` is False and in :meth:`without_augmentation`;
      None means resize 256, center crop 224.

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the training transform's draws.

    Attributes
    ----------
    samples : list of (str, int)
      Image paths (relative to ``root``) and labels as listed.

    targets : numpy.ndarray of int64
      The labels items carry (see :meth:`with_targets`); also available as
      ``y``, with the image paths as ``X`` (what skorch looks for to infer
      ``classes_`` from a dataset).

    classes : list of str
      The 14 class names (from ``category_names_eng.txt``, else numbers).

    Examples
    --------
    >>> from sk_mr.paper.datasets import Clothing1M
    >>> train = Clothing1M("clothing1m", split="noisy_train")  # doctest: +SKIP
    >>> image, label = train[0]  # doctest: +SKIP
    """

    def __init__(self, root, split="noisy_train", train=None, transform=None,
                 eval_transform=None, random_state=None):
        self.root = root
        self.split = split
        self.train = train
        self.transform = transform
        self.eval_transform = eval_transform
        self.random_state = random_state
        if split not in CLOTHING1M_SPLITS:
            raise ValueError(f"split must be one of {list(CLOTHING1M_SPLITS)}, got {split!r}.")
        root = os.fspath(root)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"Clothing1M root {root!r} is not a folder.")
        self.samples = self._read_split(root, split)
        self.targets = np.asarray([label for _, label in self.samples], dtype=np.int64)
        names = os.path.join(root, "category_names_eng.txt")
        if os.path.isfile(names):
            with open(names, encoding="utf-8") as f:
                self.classes = [line.strip() for line in f if line.strip()]
        else:
            self.classes = [str(i) for i in range(_CLOTHING1M_CLASSES)]

    @staticmethod
    def _read_split(root, split):
        kv = os.path.join(root, f"{split}_kv.txt")
        if os.path.isfile(kv):
            samples = _read_kv(kv)
        else:
            keys = os.path.join(root, f"{split}_key_list.txt")
            labels = os.path.join(root, CLOTHING1M_SPLITS[split])
            missing = [p for p in (keys, labels) if not os.path.isfile(p)]
            if missing:
                raise FileNotFoundError(
                    f"Clothing1M split {split!r} needs {keys} and {labels} (or {kv}); "
                    f"missing: {', '.join(missing)}.")
            label_of = dict(_read_kv(labels))
            samples = []
            for n, fields in _read_lines(keys):
                if len(fields) != 1:
                    raise ValueError(f"{keys}, line {n}: expected one image path, "
                                     f"got {' '.join(fields)!r}.")
                if fields[0] not in label_of:
                    raise ValueError(f"{keys}, line {n}: {fields[0]!r} has no label "
                                     f"in {labels}.")
                samples.append((fields[0], label_of[fields[0]]))
        if not samples:
            raise ValueError(f"Clothing1M split {split!r} in {root} lists no images.")
        return samples

    @property
    def X(self):
        """Image paths (relative to ``root``), one per item, as a list.

        With :attr:`y`, lets skorch (``data_from_dataset``) infer
        ``classes_`` and stratify its validation split when the dataset is
        passed to ``fit`` with ``y=None``.
        """
        if getattr(self, "_paths", None) is None:
            self._paths = [path for path, _ in self.samples]
        return self._paths

    @property
    def y(self):
        """The labels items carry (``targets``)."""
        return self.targets

    @property
    def training(self):
        """Whether items get the training transform."""
        return self.split.endswith("train") if self.train is None else bool(self.train)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        from PIL import Image

        path = os.path.join(os.fspath(self.root), self.samples[i][0])
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
        except FileNotFoundError:
            raise FileNotFoundError(
                f"Clothing1M image {path} (listed for split {self.split!r}) is missing.") \
                from None
        if self.training:
            transform = _CLOTHING1M_TRAIN if self.transform is None else self.transform
        else:
            transform = _CLOTHING1M_EVAL if self.eval_transform is None else self.eval_transform
        x = self._apply(transform, image)
        return x, torch.tensor(self.targets[i])

    def without_augmentation(self):
        """Return the same items, in the same order, with the eval transform.

        Returns
        -------
        dataset : Clothing1M
          A shallow copy with ``train=False``.
        """
        plain = copy.copy(self)
        plain.train = False
        return plain

    def with_targets(self, targets):
        """Return a shallow copy whose items carry ``targets`` as labels.

        Parameters
        ----------
        targets : array-like of int, shape (len(self),)
          E.g. labels with added synthetic noise.

        Returns
        -------
        dataset : Clothing1M
        """
        targets = np.asarray(targets, dtype=np.int64)
        if targets.shape != (len(self),):
            raise ValueError(f"targets must have shape ({len(self)},), got {targets.shape}.")
        other = copy.copy(self)
        other.targets = targets
        return other


# -- by name ---------------------------------------------------------------------------

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "mnist1d", "cifar10", "cifar100", "clothing1m")


def load_dataset(name, root=None, *, download=False, random_state=None):
    """Load a dataset of the experiments by name, as train and test parts.

    Parameters
    ----------
    name : {'digits', 'mnist1d', 'cifar10', 'cifar100', 'clothing1m'}

    root : str, os.PathLike or None (default=None)
      Data folder; required for CIFAR and Clothing1M.

    download : bool (default=False)
      Let torchvision download CIFAR into ``root``.

    random_state : int or None (default=None)
      Seed of the digits split / the MNIST-1D generation; None means each
      loader's default (0 and 42), so the data are the same every call.
      Clothing1M's training transform is seeded with it.

    Returns
    -------
    data : sklearn.utils.Bunch
      ``X_train``, ``y_train``, ``X_test``, ``y_test``, ``n_classes``, ``name``
      and ``train_transform`` (the training augmentation to wrap ``X_train``
      in with :class:`AugmentedDataset`, or None). For Clothing1M
      ``X_train`` and ``X_test`` are :class:`Clothing1M` datasets (noisy
      train, clean test) that yield their own labels, augmented already,
      and ``y_train`` / ``y_test`` are their ``targets``.

    Examples
    --------
    >>> from sk_mr.paper.datasets import load_dataset
    >>> data = load_dataset("digits")
    >>> data.n_classes, data.X_train.shape[1:]
    (10, (1, 8, 8))
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; valid names: {', '.join(DATASETS)}.")
    if name in ("cifar10", "cifar100", "clothing1m") and root is None:
        raise ValueError(f"root is required for {name!r}: the folder holding its files.")
    transform = None
    if name == "digits":
        data = load_digits_images(random_state=0 if random_state is None else random_state)
    elif name == "mnist1d":
        data = load_mnist1d(random_state=42 if random_state is None else random_state)
    elif name in ("cifar10", "cifar100"):
        train = load_cifar(root, name, train=True, download=download)
        test = load_cifar(root, name, train=False, download=download)
        data = Bunch(X_train=train.X, y_train=train.y, X_test=test.X, y_test=test.y,
                     n_classes=train.n_classes)
        transform = cifar_augmentation()
    else:
        train = Clothing1M(root, "noisy_train", random_state=random_state)
        test = Clothing1M(root, "clean_test")
        data = Bunch(X_train=train, y_train=train.targets, X_test=test, y_test=test.targets,
                     n_classes=_CLOTHING1M_CLASSES)
    return Bunch(X_train=data.X_train, y_train=data.y_train, X_test=data.X_test,
                 y_test=data.y_test, n_classes=data.n_classes, name=name,
                 train_transform=transform)
