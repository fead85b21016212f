"""Models for CPU-sized data, and the input normalization every model starts with.

Every model is a plain :class:`torch.nn.Module` that returns logits and
takes ``n_classes`` (and ``in_channels`` where it has image input) as
constructor arguments, so skorch's ``module__n_classes=...`` works.

Models normalize their input themselves: their first layer is a
:class:`Normalize`, so inputs stay in ``[0, 1]``. Adversarial attacks
(``torchattacks``) clip their perturbed inputs to ``[0, 1]`` and need
exactly that. The small models leave their input as it is unless given
``mean`` and ``std``.

* :class:`MLP`, :class:`SmallCNN` (8x8 digits images), :class:`CNN1D`
  (MNIST-1D): small models that train in seconds on a CPU.
* :class:`Normalize`: the first layer of every model here and in
  :mod:`sk_mr.paper.models`, which holds the paper's architectures (CIFAR
  ResNets, Wide ResNet, ResNet-50) and their data statistics.

:func:`make_model_class` maps names to these classes.
"""

import math
import sys
import warnings

import torch
from torch import nn

from sk_mr._deprecation import DEPRECATED_IN, REMOVED_IN, moved_names

__all__ = ["CNN1D", "MLP", "MODELS", "Normalize", "SmallCNN", "make_model",
           "make_model_class"]

class Normalize(nn.Module):
    """Subtract ``mean`` and divide by ``std`` along the channel axis (dim 1).

    Put it first in a model so that the model takes inputs in ``[0, 1]``.
    The statistics are buffers: they move with ``.to(device)`` and are saved
    in the ``state_dict``, but are not trained.

    Parameters
    ----------
    mean : float, sequence of float or None (default=None)
      One value per channel, or one for all. None means 0.

    std : float, sequence of float or None (default=None)
      One value per channel, or one for all; all must be positive. None
      means 1. With both None the module is the identity.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import Normalize
    >>> norm = Normalize(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    >>> norm(torch.ones(2, 3, 4, 4))[0, :, 0, 0]
    tensor([2., 2., 2.])
    """

    def __init__(self, mean=None, std=None):
        super().__init__()
        self.identity = mean is None and std is None
        mean = torch.as_tensor(0.0 if mean is None else mean, dtype=torch.float32)
        std = torch.as_tensor(1.0 if std is None else std, dtype=torch.float32)
        if mean.ndim > 1 or std.ndim > 1:
            raise ValueError(
                "mean and std must be numbers or 1-d sequences (one value per "
                f"channel), got shapes {tuple(mean.shape)} and {tuple(std.shape)}.")
        if not bool((std > 0).all()):
            raise ValueError(f"std must be positive, got {std.tolist()}.")
        self.register_buffer("mean", mean.reshape(-1))
        self.register_buffer("std", std.reshape(-1))

    def forward(self, x):
        if self.identity:
            return x
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.reshape(shape)) / self.std.reshape(shape)

    def extra_repr(self):
        if self.identity:
            return "identity"
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


# -- small models for embedded data ------------------------------------------

class MLP(nn.Module):
    """Multi-layer perceptron with ReLU activations.

    Inputs of any shape ``(N, ...)`` are flattened to ``(N, in_features)``,
    so it takes digits both as ``(N, 64)`` rows and as ``(N, 1, 8, 8)``
    images.

    Parameters
    ----------
    in_features : int (default=64)
      Number of input features (after flattening).

    n_classes : int (default=10)
      Number of outputs (logits).

    hidden : sequence of int (default=(256, 256))
      Widths of the hidden layers.

    dropout : float (default=0.0)
      Dropout probability after each hidden layer.

    mean, std : float, sequence of float or None (default=None)
      Input normalization over the flattened features (see
      :class:`Normalize`); identity when both are None.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import MLP
    >>> MLP(in_features=40, n_classes=10)(torch.rand(5, 40)).shape
    torch.Size([5, 10])
    """

    def __init__(self, in_features=64, n_classes=10, hidden=(256, 256), dropout=0.0,
                 mean=None, std=None):
        super().__init__()
        self.n_classes = n_classes
        self.normalize = Normalize(mean, std)
        layers = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(self.normalize(x.flatten(1)))


class SmallCNN(nn.Module):
    """A small CNN for 8x8 images such as scikit-learn's digits.

    Two 3x3 convolutions (32 and 64 channels, ReLU), a 2x2 max-pool (to
    4x4; adaptive, so larger images also work), a hidden linear layer of
    128 units and a linear head. Flat inputs ``(N, in_channels * s * s)``
    are reshaped to square ``s x s`` images.

    Parameters
    ----------
    n_classes : int (default=10)
      Number of outputs (logits).

    in_channels : int (default=1)
      Channels of the input images.

    channels : tuple of two int (default=(32, 64))
      Widths of the two convolutions.

    dropout : float (default=0.0)
      Dropout probability before the head.

    mean, std : float, sequence of float or None (default=None)
      Input normalization; identity when both are None.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import SmallCNN
    >>> SmallCNN(n_classes=10)(torch.rand(4, 1, 8, 8)).shape
    torch.Size([4, 10])
    """

    def __init__(self, n_classes=10, in_channels=1, channels=(32, 64), dropout=0.0,
                 mean=None, std=None):
        super().__init__()
        self.n_classes = n_classes
        self.in_channels = in_channels
        c1, c2 = channels
        self.normalize = Normalize(mean, std)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(),
            nn.AdaptiveMaxPool2d(4))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 16, 128), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(128, n_classes))

    def forward(self, x):
        if x.ndim == 2:
            side = math.isqrt(x.shape[1] // self.in_channels)
            if self.in_channels * side * side != x.shape[1]:
                raise ValueError(
                    f"SmallCNN got flat inputs of {x.shape[1]} features, which are "
                    f"not in_channels={self.in_channels} square images; pass "
                    "(N, C, H, W) images.")
            x = x.reshape(len(x), self.in_channels, side, side)
        return self.head(self.features(self.normalize(x)))


class CNN1D(nn.Module):
    """A small 1D CNN for MNIST-1D signals.

    Three 1D convolutions (kernel 5, 3, 3; stride 2; ReLU) as in the
    MNIST-1D reference CNN, then a linear head on the flattened features.
    Inputs are ``(N, in_channels, in_length)`` or, with one channel,
    ``(N, in_length)``.

    Parameters
    ----------
    n_classes : int (default=10)
      Number of outputs (logits).

    in_channels : int (default=1)
      Channels of the input signals.

    in_length : int (default=40)
      Length of the input signals (40 for MNIST-1D).

    channels : int (default=32)
      Width of the convolutions.

    mean, std : float, sequence of float or None (default=None)
      Input normalization; identity when both are None.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import CNN1D
    >>> CNN1D(n_classes=10)(torch.randn(3, 40)).shape
    torch.Size([3, 10])
    """

    def __init__(self, n_classes=10, in_channels=1, in_length=40, channels=32,
                 mean=None, std=None):
        super().__init__()
        self.n_classes = n_classes
        self.in_channels = in_channels
        self.in_length = in_length
        self.normalize = Normalize(mean, std)
        self.features = nn.Sequential(
            nn.Conv1d(in_channels, channels, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten())
        length = in_length
        for kernel in (5, 3, 3):
            length = (length + 2 - kernel) // 2 + 1
        if length < 1:
            raise ValueError(f"in_length={in_length!r} is too short for CNN1D (need >= 4).")
        self.linear = nn.Linear(channels * length, n_classes)

    def forward(self, x):
        if x.ndim == 2:
            x = x.unsqueeze(1)
        return self.linear(self.features(self.normalize(x)))


class _Models(dict):
    """The registry; a paper architecture's name still finds it, with a warning."""

    def __missing__(self, key):
        from sk_mr.paper import models as paper_models

        if key not in paper_models.MODELS:
            raise KeyError(key)
        # point the warning at the first caller outside this module
        level, frame = 2, sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == __file__:
            level, frame = level + 1, frame.f_back
        warnings.warn(
            f"{key!r} names one of the paper's architectures, which moved to "
            f"sk_mr.paper.models in sk_mr {DEPRECATED_IN}; sk_mr.models will stop "
            f"finding it in {REMOVED_IN}. Use "
            f"sk_mr.paper.models.make_model_class({key!r}) or "
            f"sk_mr.paper.models.MODELS[{key!r}] instead.", FutureWarning, stacklevel=level)
        return paper_models.MODELS[key]


#: Model classes by name.
MODELS = _Models(mlp=MLP, smallcnn=SmallCNN, cnn1d=CNN1D)


def _lookup_model(name, models):
    """The class registered under ``name`` in ``models`` (case-insensitive, ``-`` as ``_``)."""
    key = str(name).lower().replace("-", "_")
    try:
        return models[key]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}; valid names: {', '.join(models)}.") from None


def make_model_class(name):
    """Return the model class registered under ``name``.

    Parameters
    ----------
    name : str
      One of ``'mlp'``, ``'smallcnn'`` and ``'cnn1d'`` (case-insensitive;
      ``-`` works as ``_``). The paper's architectures have their names in
      :func:`sk_mr.paper.models.make_model_class`; asked for here, they are
      still found, with a :class:`FutureWarning`, until sk_mr 0.3.0.

    Returns
    -------
    cls : type
      A :class:`torch.nn.Module` subclass, to pass as skorch's ``module``.

    Examples
    --------
    >>> from sk_mr.models import make_model_class
    >>> make_model_class("cnn1d").__name__
    'CNN1D'
    """
    return _lookup_model(name, MODELS)


def make_model(name, **kwargs):
    """Build the model registered under ``name``.

    Parameters
    ----------
    name : str
      A name accepted by :func:`make_model_class`.

    **kwargs
      Constructor arguments (``n_classes``, ...).

    Returns
    -------
    model : torch.nn.Module

    Examples
    --------
    >>> from sk_mr.models import make_model
    >>> make_model("mlp", in_features=40, n_classes=10).n_classes
    10
    """
    return make_model_class(name)(**kwargs)


# The paper's architectures and statistics moved to sk_mr.paper.models; the
# private classes are listed so that pickles made before the move still load.
__getattr__ = moved_names(__name__, "sk_mr.paper.models", {
    "CIFAR10_MEAN", "CIFAR10_STD", "CIFAR100_MEAN", "CIFAR100_STD", "IMAGENET_MEAN",
    "IMAGENET_STD", "ResNet18", "ResNet34", "ResNet50", "WideResNet",
    "_BasicBlock", "_CifarResNet", "_WideBlock"})
