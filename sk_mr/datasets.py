"""Small data sets that need no download, and augmentation that MR's loss pass can see through.

Representation: images are float32 arrays (or tensors) in ``[0, 1]``,
channels first (``NCHW``); labels are int64 class indices. Models
normalize their own input (see :class:`sk_mr.models.Normalize`).

* :func:`load_digits_images`, :func:`load_mnist1d`: small data sets built
  offline (scikit-learn's digits as 1x8x8 images; MNIST-1D generated with
  the ``mnist1d`` package), returned as a train/test :class:`~sklearn.utils.Bunch`.
* :class:`AugmentedDataset` with :class:`RandomCropFlip`: training-time
  augmentation that follows :mod:`sk_mr.batching`'s
  ``without_augmentation()`` protocol, so the MR loss pass sees the
  examples themselves.

The paper's data sets (CIFAR-10/100, Clothing1M, and all of them by name)
are in :mod:`sk_mr.paper.datasets`.

Randomness of augmentation: sk_mr's transforms draw from a
:class:`numpy.random.Generator` that the dataset seeds from its
``random_state``, never from global RNG state. In a DataLoader worker the
dataset derives its generator from ``random_state`` and the worker's seed
(``torch.utils.data.get_worker_info().seed``), so workers draw different
augmentations; that seed comes from the loader's ``generator`` or the global
torch RNG, so with ``num_workers > 0`` the draws are reproducible when torch
is seeded too. Other callables (e.g. torchvision transforms) are called as
``transform(x)`` and use torch's global RNG.
"""

import copy
import inspect

import numpy as np
import torch
from sklearn.utils import Bunch
from torch.utils.data import Dataset

from sk_mr._deprecation import moved_names
from sk_mr.validation import check_real

__all__ = ["AugmentedDataset", "RandomCropFlip", "load_digits_images", "load_mnist1d"]


# -- randomness ---------------------------------------------------------------

def _make_rng(random_state, worker_seed=None):
    """A numpy Generator for this process (``worker_seed`` in a DataLoader worker)."""
    if worker_seed is None:
        if isinstance(random_state, np.random.Generator):
            return random_state
        return np.random.default_rng(random_state)
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        # Each worker holds a copy of the same generator: one draw from it
        # is the same in all workers, the worker seed tells them apart.
        random_state = int(random_state.integers(2 ** 63))
    return np.random.default_rng([int(random_state), int(worker_seed)])


def _accepts_rng(transform):
    try:
        return "rng" in inspect.signature(transform).parameters
    except (TypeError, ValueError):
        return False


class _RandomItems:
    """Mixin: a per-process generator seeded from ``self.random_state``."""

    _rng = None
    _rng_key = None

    def _generator(self):
        info = torch.utils.data.get_worker_info()
        key = None if info is None else info.seed
        if self._rng is None or self._rng_key != key:
            self._rng = _make_rng(self.random_state, key)
            self._rng_key = key
        return self._rng

    def _apply(self, transform, x):
        if transform is None:
            return x
        # inspect.signature is slow: remember the answer per transform.
        cache = self.__dict__.setdefault("_accepts_rng_cache", {})
        entry = cache.get(id(transform))
        if entry is None or entry[0] is not transform:
            entry = cache[id(transform)] = (transform, _accepts_rng(transform))
        if entry[1]:
            return transform(x, rng=self._generator())
        return transform(x)


# -- transforms ----------------------------------------------------------------

def _shift_slices(n, d):
    """Slices ``dst, src`` with ``out[dst] = x[src]`` for ``out[i] = x[i + d]``."""
    k = max(0, n - abs(d))
    if d >= 0:
        return slice(0, k), slice(n - k, n)
    return slice(n - k, n), slice(0, k)


class RandomCropFlip:
    """Random crop with zero padding, then random horizontal flip, on tensors.

    Equivalent to torchvision's ``RandomCrop(size, padding)`` followed by
    ``RandomHorizontalFlip()`` on an image of that size, but the image is
    shifted into a zeroed output instead of padded and cropped, and the
    offsets and the flip come from the ``rng`` argument (a numpy
    Generator) rather than torch's global RNG.

    Parameters
    ----------
    padding : int (default=4)
      Maximal shift in pixels in each direction (the zero padding of the
      equivalent crop). 0 disables the crop.

    flip : bool (default=True)
      Flip horizontally with probability 1/2.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_mr.datasets import RandomCropFlip
    >>> augment = RandomCropFlip(padding=4)
    >>> augment(torch.rand(3, 32, 32), rng=np.random.default_rng(0)).shape
    torch.Size([3, 32, 32])
    """

    def __init__(self, padding=4, flip=True):
        self.padding = padding
        self.flip = flip

    def __call__(self, x, rng=None):
        """Augment one image ``x`` of shape ``(..., H, W)``.

        Parameters
        ----------
        x : torch.Tensor
          Image(s); every leading index gets the same crop and flip.

        rng : numpy.random.Generator or None (default=None)
          Source of the crop offsets and the flip; None means a fresh,
          unseeded generator.

        Returns
        -------
        x : torch.Tensor
          Same shape and dtype as ``x``.
        """
        if rng is None:
            rng = np.random.default_rng()
        p = int(self.padding)
        if p < 0:
            raise ValueError(f"padding must be >= 0, got {self.padding!r}.")
        if p:
            dy, dx = (int(d) - p for d in rng.integers(0, 2 * p + 1, size=2))
            h, w = x.shape[-2:]
            out = torch.zeros_like(x)
            # out[r, c] = x[r + dy, c + dx] where that pixel exists, else 0.
            (dst_r, src_r), (dst_c, src_c) = _shift_slices(h, dy), _shift_slices(w, dx)
            out[..., dst_r, dst_c] = x[..., src_r, src_c]
            x = out
        if self.flip and rng.random() < 0.5:
            x = x.flip(-1)
        return x

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding!r}, flip={self.flip!r})"


# -- AugmentedDataset ------------------------------------------------------------

class AugmentedDataset(_RandomItems, Dataset):
    """Array-held examples with a random training transform on every item.

    Item ``i`` is ``(transform(X[i]), y[i])``, with a fresh random draw each
    time it is read. :meth:`without_augmentation` returns the same items in
    the same order without the transform; :class:`sk_mr.MRClassifier`'s
    loss pass uses it (see :func:`sk_mr.batching.plain_view`). Pass the
    dataset as ``X`` to ``fit`` with ``y=None``.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor, shape (n, ...)
      Inputs, e.g. float32 images ``(n, C, H, W)`` in ``[0, 1]``. uint8
      inputs are returned as float32 divided by 255 (four times less memory
      for image data). The storage is shared, not copied.

    y : array-like of int or None (default=None)
      Labels, returned as int64 tensors. None gives a placeholder label 0
      (as skorch's Dataset does), for prediction.

    transform : callable or None (default=None)
      Applied to each item's ``x`` (a tensor). A callable with an ``rng``
      parameter (sk_mr's transforms) is called as ``transform(x,
      rng=generator)``; any other (e.g. a torchvision transform) as
      ``transform(x)`` and then draws from torch's global RNG. None returns
      the items as stored.

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the generator passed to ``transform``. See the module docstring
      for DataLoader workers.

    Examples
    --------
    >>> from sk_mr.datasets import AugmentedDataset, RandomCropFlip, load_digits_images
    >>> data = load_digits_images()
    >>> train = AugmentedDataset(data.X_train, data.y_train,
    ...                          transform=RandomCropFlip(padding=1), random_state=0)
    >>> x, y = train[0]
    >>> x.shape, len(train.without_augmentation()) == len(train)
    (torch.Size([1, 8, 8]), True)
    """

    def __init__(self, X, y=None, transform=None, random_state=None):
        self.X = X
        self.y = y
        self.transform = transform
        self.random_state = random_state
        self._X = X if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X))
        self._y = None
        if y is not None:
            y_arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
            if y_arr.ndim != 1 or len(y_arr) != len(self._X):
                raise ValueError(
                    f"y must be 1-dimensional with one label per row of X: "
                    f"len(X)={len(self._X)}, y has shape {y_arr.shape}.")
            self._y = torch.as_tensor(y_arr.astype(np.int64, copy=False))
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {transform!r}.")

    def __len__(self):
        return len(self._X)

    def __getitem__(self, i):
        x = self._X[i]
        if x.dtype == torch.uint8:
            x = x.float().div_(255)
        x = self._apply(self.transform, x)
        y = self._y[i] if self._y is not None else torch.tensor(0)
        return x, y

    def without_augmentation(self):
        """Return the same items, in the same order, without the transform.

        Returns
        -------
        dataset : AugmentedDataset
          Shares ``X`` and ``y`` with this one; ``transform=None``.
        """
        plain = copy.copy(self)
        plain.transform = None
        return plain


# -- digits and MNIST-1D ----------------------------------------------------------

def _check_test_size(test_size):
    check_real("test_size", test_size, low=0, high=1, low_open=True, high_open=True)


def load_digits_images(test_size=0.3, random_state=0):
    """scikit-learn's digits as 1x8x8 images in ``[0, 1]``, split train/test.

    The 1797 8x8 digits embedded in scikit-learn (nothing is downloaded),
    divided by 16, split with a stratified shuffle.

    Parameters
    ----------
    test_size : float (default=0.3)
      Fraction of the examples in the test split.

    random_state : int or numpy.random.Generator (default=0)
      Seed of the split. (None draws a fresh seed; global state is never
      used.)

    Returns
    -------
    data : sklearn.utils.Bunch
      ``X_train``, ``X_test``: float32 arrays ``(n, 1, 8, 8)`` in ``[0, 1]``;
      ``y_train``, ``y_test``: int64 arrays; ``n_classes`` (10);
      ``target_names``.

    Examples
    --------
    >>> from sk_mr.datasets import load_digits_images
    >>> data = load_digits_images()
    >>> data.X_train.shape, data.X_test.shape
    ((1257, 1, 8, 8), (540, 1, 8, 8))
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    _check_test_size(test_size)
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]
    y = digits.target.astype(np.int64)
    seed = int(np.random.default_rng(random_state).integers(2 ** 31)) \
        if not isinstance(random_state, (int, np.integer)) else int(random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    return Bunch(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
                 n_classes=10, target_names=digits.target_names)


def load_mnist1d(n_samples=5000, test_size=0.2, random_state=42):
    """MNIST-1D signals generated offline with the ``mnist1d`` package.

    Calls ``mnist1d.data.make_dataset`` with the package's default
    arguments (``get_dataset_args()``), ``num_samples=n_samples`` and
    ``seed=random_state``; never its download path ``get_dataset``, and
    nothing is cached on disk. The package seeds numpy's and Python's
    global RNGs; their states are saved before and restored after, so
    callers' global random state is unchanged (not thread-safe). With the
    defaults this is the standard MNIST-1D (4000 train, 1000 test). Takes
    about a second per 5000 examples.

    Parameters
    ----------
    n_samples : int (default=5000)
      Total number of signals (a multiple of 10: equal numbers per class).

    test_size : float (default=0.2)
      Fraction of the (shuffled) signals in the test split.

    random_state : int (default=42)
      Seed of the generation; 42 is the package's own.

    Returns
    -------
    data : sklearn.utils.Bunch
      ``X_train``, ``X_test``: float32 arrays ``(n, 40)`` (standardized
      signals; add a channel axis with ``X[:, None]`` if needed,
      :class:`sk_mr.models.CNN1D` takes both); ``y_train``, ``y_test``:
      int64 arrays; ``n_classes`` (10).

    Examples
    --------
    >>> from sk_mr.datasets import load_mnist1d
    >>> data = load_mnist1d(n_samples=100, random_state=0)
    >>> data.X_train.shape, data.X_test.shape
    ((80, 40), (20, 40))
    """
    import random

    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "load_mnist1d needs the mnist1d package: pip install mnist1d (or, in a clone of sk_mr, pip install -e '.[mnist1d]').") from exc

    if not isinstance(n_samples, (int, np.integer)) or n_samples < 20 or n_samples % 10:
        raise ValueError(
            f"n_samples must be a multiple of 10 and >= 20, got {n_samples!r}.")
    _check_test_size(test_size)
    if not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(
            f"random_state must be a non-negative int (the generator's seed), "
            f"got {random_state!r}.")
    args = get_dataset_args()
    args.num_samples = int(n_samples)
    args.train_split = 1.0 - test_size
    args.seed = int(random_state)
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return Bunch(X_train=data["x"].astype(np.float32), X_test=data["x_test"].astype(np.float32),
                 y_train=data["y"].astype(np.int64), y_test=data["y_test"].astype(np.int64),
                 n_classes=10)


# The paper's data sets moved to sk_mr.paper.datasets.
__getattr__ = moved_names(__name__, "sk_mr.paper.datasets", {
    "CLOTHING1M_SPLITS", "Clothing1M", "DATASETS", "ResizeCrop", "cifar_augmentation",
    "clothing1m_transform", "load_cifar", "load_dataset"})
