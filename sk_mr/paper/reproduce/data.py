"""Experiment data for the reproduction commands: train/test splits by name."""

from dataclasses import dataclass, field

import numpy as np
import torch
from skorch.dataset import Dataset

__all__ = ["ExperimentData", "load_experiment_data"]


@dataclass
class ExperimentData:
    """Training and clean test data of one experiment.

    Parameters
    ----------
    X_train : array or None
      Training inputs (arrays for embedded and CIFAR data).
    y_train : numpy.ndarray of int64
      Clean training labels (noise is added per cell).
    X_test, y_test : array
      Clean test data.
    n_classes : int
    module_kwargs : dict
      ``module__*`` arguments the model needs (e.g. ``in_features``).
    train_transform : callable or None
      Training-time augmentation; when set, :meth:`training_set` returns an
      :class:`sk_mr.datasets.AugmentedDataset` whose un-augmented view the MR
      loss pass uses.
    make_train_dataset : callable or None
      ``make_train_dataset(y) -> Dataset`` for data that is not held in
      arrays (Clothing1M).
    test_set : torch Dataset or None
      A prebuilt test dataset (Clothing1M).
    pin_memory : bool
      Whether CUDA loaders should pin memory (image data).
    """

    X_train: object
    y_train: np.ndarray
    X_test: object
    y_test: object
    n_classes: int
    module_kwargs: dict = field(default_factory=dict)
    train_transform: object = None
    make_train_dataset: object = None
    test_set: object = None
    pin_memory: bool = False

    @property
    def n_test(self):
        return len(self.test_set) if self.test_set is not None else len(self.y_test)

    def training_set(self, y):
        """Return ``(X, y)`` to pass to ``fit`` for training labels ``y``."""
        y = np.asarray(y, dtype=np.int64)
        if self.make_train_dataset is not None:
            return self.make_train_dataset(y), None
        if self.train_transform is not None:
            from sk_mr.datasets import AugmentedDataset
            return AugmentedDataset(self.X_train, y, transform=self.train_transform), None
        return self.X_train, y

    def test_dataset(self):
        """The clean test set as a torch Dataset (evaluated after each epoch)."""
        if self.test_set is not None:
            return self.test_set
        return Dataset(self.X_test, np.asarray(self.y_test, dtype=np.int64))

    def iterator_kwargs(self, num_workers=0, device="cpu"):
        """DataLoader options: workers, and pinned memory on CUDA for images."""
        kwargs = {}
        if num_workers:
            kwargs.update(iterator_train__num_workers=num_workers,
                          iterator_valid__num_workers=num_workers,
                          iterator_train__persistent_workers=True)
        if self.pin_memory and str(device).startswith("cuda"):
            kwargs.update(iterator_train__pin_memory=True, iterator_valid__pin_memory=True)
        return kwargs


def _limit(data, limit_train, limit_test):
    if limit_train:
        if data.make_train_dataset is not None:
            make, full = data.make_train_dataset, data.y_train.copy()

            def make_limited(y):
                labels = full.copy()
                labels[:len(y)] = y
                return torch.utils.data.Subset(make(labels), range(len(y)))

            data.make_train_dataset = make_limited
            data.y_train = data.y_train[:limit_train]
        else:
            data.X_train = data.X_train[:limit_train]
            data.y_train = data.y_train[:limit_train]
    if limit_test:
        if data.test_set is not None:
            data.test_set = torch.utils.data.Subset(
                data.test_set, range(min(limit_test, len(data.test_set))))
        else:
            data.X_test = data.X_test[:limit_test]
            data.y_test = data.y_test[:limit_test]
    return data


def load_experiment_data(name, *, root=None, download=False, pretrained=None,
                         limit_train=None, limit_test=None, arch=None):
    """Load a named dataset as train/test :class:`ExperimentData`.

    Parameters
    ----------
    name : {'digits', 'mnist1d', 'cifar10', 'cifar100', 'clothing1m'}
    root : str or None
      Data folder for CIFAR and Clothing1M.
    download : bool (default=False)
      Let torchvision download CIFAR into ``root``.
    pretrained : str or None
      ImageNet weights file for ResNet-50 (Clothing1M).
    limit_train, limit_test : int or None
      Keep only the first N examples (smoke runs).
    arch : str or None
      The model the data feeds (flat features for 'mlp').

    Returns
    -------
    data : ExperimentData
    """
    from sk_mr import datasets
    from sk_mr.paper import datasets as paper_datasets

    if name == "digits":
        bunch = datasets.load_digits_images(random_state=0)
        X_train, X_test = bunch.X_train, bunch.X_test
        module_kwargs = {}
        if arch == "mlp":
            X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
            module_kwargs = {"in_features": X_train.shape[1]}
        data = ExperimentData(X_train, bunch.y_train, X_test, bunch.y_test, 10,
                              module_kwargs=module_kwargs)
    elif name == "mnist1d":
        bunch = datasets.load_mnist1d(random_state=0)
        X_train, X_test = bunch.X_train, bunch.X_test
        module_kwargs = {}
        if arch == "mlp":
            module_kwargs = {"in_features": X_train.reshape(len(X_train), -1).shape[1]}
        data = ExperimentData(X_train, bunch.y_train, X_test, bunch.y_test, 10,
                              module_kwargs=module_kwargs)
    elif name in ("cifar10", "cifar100"):
        if root is None:
            raise ValueError(f"--root is required for {name} (the folder holding "
                             "cifar-10-batches-py / cifar-100-python).")
        train = paper_datasets.load_cifar(root, name=name, train=True, download=download)
        test = paper_datasets.load_cifar(root, name=name, train=False, download=download)
        from sk_mr.paper.models import CIFAR10_MEAN, CIFAR10_STD, CIFAR100_MEAN, CIFAR100_STD
        mean, std = ((CIFAR10_MEAN, CIFAR10_STD) if name == "cifar10"
                     else (CIFAR100_MEAN, CIFAR100_STD))
        data = ExperimentData(train.X, train.y, test.X, test.y,
                              10 if name == "cifar10" else 100,
                              module_kwargs={"mean": mean, "std": std},
                              train_transform=paper_datasets.cifar_augmentation(),
                              pin_memory=True)
    elif name == "clothing1m":
        if root is None:
            raise ValueError("--root is required for clothing1m (the folder with "
                             "the images and the official list files).")
        train = paper_datasets.Clothing1M(root, split="noisy_train", train=True)
        test = paper_datasets.Clothing1M(root, split="clean_test", train=False)
        module_kwargs = {"weights_path": pretrained} if pretrained else {}
        data = ExperimentData(None, np.asarray(train.targets, np.int64), None, None, 14,
                              module_kwargs=module_kwargs,
                              make_train_dataset=train.with_targets,
                              test_set=test, pin_memory=True)
    else:
        raise ValueError(f"Unknown dataset {name!r}; valid: digits, mnist1d, cifar10, "
                         "cifar100, clothing1m.")
    return _limit(data, limit_train, limit_test)
