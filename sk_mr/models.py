"""Models of the paper's experiments, and small ones for CPU-sized data.

Every model is a plain :class:`torch.nn.Module` that returns logits and
takes ``n_classes`` (and ``in_channels`` where it has image input) as
constructor arguments, so skorch's ``module__n_classes=...`` works.

Image models normalize their input themselves: their first layer is a
:class:`Normalize`, so inputs stay in ``[0, 1]``. Adversarial attacks
(``torchattacks``) clip their perturbed inputs to ``[0, 1]`` and need
exactly that. ``mean=None, std=None`` select the standard statistics of
the data the model is made for (CIFAR-10 for the CIFAR models, ImageNet for
:class:`ResNet50`); the small models leave their input as it is.

* :class:`ResNet18`, :class:`ResNet34`: the CIFAR ResNets of the noisy-label
  literature (kuangliu/pytorch-cifar): a 3x3 stride-1 stem, no max-pool,
  BasicBlock stages, global average pooling and a linear head.
* :class:`WideResNet`: WRN-depth-k of Zagoruyko & Komodakis (WRN-28-10 by
  default).
* :class:`ResNet50`: torchvision's ResNet-50 for Clothing1M, optionally
  initialized from an ImageNet weights file given by path (nothing is
  downloaded).
* :class:`MLP`, :class:`SmallCNN` (8x8 digits images), :class:`CNN1D`
  (MNIST-1D): small models that train in seconds on a CPU.

:func:`make_model_class` maps the names used by ``python -m sk_mr reproduce``
to these classes.
"""

import math
import os

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "CIFAR10_MEAN", "CIFAR10_STD", "CIFAR100_MEAN", "CIFAR100_STD",
    "IMAGENET_MEAN", "IMAGENET_STD", "MODELS",
    "CNN1D", "MLP", "Normalize", "ResNet18", "ResNet34", "ResNet50",
    "SmallCNN", "WideResNet", "make_model", "make_model_class",
]

#: Per-channel statistics of the CIFAR-10 training images (pixels in [0, 1]).
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)
#: Per-channel statistics of the CIFAR-100 training images.
CIFAR100_MEAN = (0.5071, 0.4865, 0.4409)
CIFAR100_STD = (0.2673, 0.2564, 0.2762)
#: The ImageNet statistics torchvision's pretrained weights expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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
    >>> from sk_mr.models import Normalize, CIFAR10_MEAN, CIFAR10_STD
    >>> norm = Normalize(CIFAR10_MEAN, CIFAR10_STD)
    >>> norm(torch.ones(2, 3, 4, 4)).shape
    torch.Size([2, 3, 4, 4])
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


def _default_stats(mean, std, default_mean, default_std):
    if mean is None and std is None:
        return default_mean, default_std
    return mean, std


# -- CIFAR ResNets (kuangliu/pytorch-cifar) -----------------------------------

class _BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class _CifarResNet(nn.Module):
    """ResNet for 32x32 images; subclasses fix the number of blocks."""

    num_blocks = None

    def __init__(self, n_classes=10, in_channels=3, mean=None, std=None):
        super().__init__()
        self.n_classes = n_classes
        self.in_channels = in_channels
        mean, std = _default_stats(mean, std, CIFAR10_MEAN, CIFAR10_STD)
        self.normalize = Normalize(mean, std)
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        in_planes = 64
        stages = []
        for planes, blocks, stride in zip((64, 128, 256, 512), self.num_blocks, (1, 2, 2, 2)):
            layers = []
            for block_stride in [stride] + [1] * (blocks - 1):
                layers.append(_BasicBlock(in_planes, planes, block_stride))
                in_planes = planes
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(512, n_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(self.normalize(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        # On 32x32 inputs the last stage is 4x4, so this is the original 4x4
        # average pool; adaptive pooling also accepts smaller test images.
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


class ResNet18(_CifarResNet):
    """ResNet-18 for CIFAR (the kuangliu/pytorch-cifar variant).

    A 3x3 stride-1 stem convolution with 64 channels (no max-pool), four
    stages of two BasicBlocks each (64, 128, 256, 512 channels; strides 1,
    2, 2, 2), average pooling over the final 4x4 map and a linear head.
    About 11.17M parameters with 10 classes. The first layer is a
    :class:`Normalize`, so inputs are images in ``[0, 1]``.

    Parameters
    ----------
    n_classes : int (default=10)
      Number of outputs (logits).

    in_channels : int (default=3)
      Channels of the input images.

    mean, std : sequence of float or None (default=None)
      Input normalization (see :class:`Normalize`). With both None, the
      CIFAR-10 statistics :data:`CIFAR10_MEAN` / :data:`CIFAR10_STD`; pass
      :data:`CIFAR100_MEAN` / :data:`CIFAR100_STD` for CIFAR-100, or
      ``mean=0, std=1`` for none.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import ResNet18
    >>> ResNet18(n_classes=100)(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 100])
    """

    num_blocks = (2, 2, 2, 2)


class ResNet34(_CifarResNet):
    """ResNet-34 for CIFAR (the kuangliu/pytorch-cifar variant).

    As :class:`ResNet18` with stages of 3, 4, 6 and 3 BasicBlocks; about
    21.3M parameters with 10 classes. The paper uses it for adversarial
    training.

    Parameters
    ----------
    n_classes : int (default=10)
      Number of outputs (logits).

    in_channels : int (default=3)
      Channels of the input images.

    mean, std : sequence of float or None (default=None)
      Input normalization; both None means the CIFAR-10 statistics (see
      :class:`ResNet18`).

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import ResNet34
    >>> ResNet34()(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 10])
    """

    num_blocks = (3, 4, 6, 3)


# -- Wide ResNet (Zagoruyko & Komodakis) --------------------------------------

class _WideBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3."""

    def __init__(self, in_planes, planes, stride, dropout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.shortcut = None
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False)

    def forward(self, x):
        activated = F.relu(self.bn1(x))
        out = self.conv1(activated)
        out = self.conv2(self.dropout(F.relu(self.bn2(out))))
        # A projection shortcut sees the activated input, as in the
        # reference implementation.
        shortcut = x if self.shortcut is None else self.shortcut(activated)
        return out + shortcut


class WideResNet(nn.Module):
    """Wide ResNet WRN-depth-k (Zagoruyko & Komodakis, 2016) for 32x32 images.

    A 3x3 stem with 16 channels, three groups of ``(depth - 4) / 6``
    pre-activation blocks with ``16k``, ``32k`` and ``64k`` channels
    (strides 1, 2, 2), BN-ReLU, average pooling over the final 8x8 map and a
    linear head. WRN-28-10 (the default) has about 36.5M parameters with 10
    classes. Convolutions use He (fan-out) initialization as in the
    reference implementation. The first layer is a :class:`Normalize`.

    Parameters
    ----------
    n_classes : int (default=10)
      Number of outputs (logits).

    depth : int (default=28)
      Number of layers; ``depth - 4`` must be divisible by 6.

    widen_factor : int (default=10)
      Width multiplier ``k``.

    dropout : float (default=0.0)
      Dropout probability between the two convolutions of each block.

    in_channels : int (default=3)
      Channels of the input images.

    mean, std : sequence of float or None (default=None)
      Input normalization; both None means the CIFAR-10 statistics (see
      :class:`ResNet18`).

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import WideResNet
    >>> net = WideResNet(n_classes=100, depth=10, widen_factor=2)
    >>> net(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 100])
    """

    def __init__(self, n_classes=10, depth=28, widen_factor=10, dropout=0.0,
                 in_channels=3, mean=None, std=None):
        super().__init__()
        if not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
            raise ValueError(
                f"depth must be 6n + 4 for an integer n >= 1 (e.g. 16, 22, 28, 40), "
                f"got {depth!r}.")
        if not isinstance(widen_factor, int) or widen_factor < 1:
            raise ValueError(f"widen_factor must be a positive int, got {widen_factor!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout!r}.")
        self.n_classes = n_classes
        n_blocks = (depth - 4) // 6
        widths = (16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor)
        mean, std = _default_stats(mean, std, CIFAR10_MEAN, CIFAR10_STD)
        self.normalize = Normalize(mean, std)
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        groups = []
        in_planes = widths[0]
        for planes, stride in zip(widths[1:], (1, 2, 2)):
            blocks = []
            for block_stride in [stride] + [1] * (n_blocks - 1):
                blocks.append(_WideBlock(in_planes, planes, block_stride, dropout))
                in_planes = planes
            groups.append(nn.Sequential(*blocks))
        self.block1, self.block2, self.block3 = groups
        self.bn = nn.BatchNorm2d(in_planes)
        self.fc = nn.Linear(in_planes, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x):
        out = self.conv1(self.normalize(x))
        out = self.block3(self.block2(self.block1(out)))
        out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


# -- ResNet-50 for Clothing1M --------------------------------------------------

def _load_state_dict(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"weights_path={str(path)!r} is not a file; give the path of a saved "
            "torchvision ResNet-50 state dict (e.g. resnet50-0676ba61.pth). "
            "Nothing is downloaded.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(
            state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path!r} does not hold a state dict (got {type(state).__name__}).")
    # Checkpoints saved from DataParallel prefix every key with 'module.'.
    return {k[len("module."):] if k.startswith("module.") else k: v
            for k, v in state.items()}


class ResNet50(nn.Module):
    """torchvision's ResNet-50 with an ``n_classes`` head, for Clothing1M.

    The network is ``torchvision.models.resnet50(weights=None)``: nothing is
    downloaded. Pass ``weights_path`` to start from ImageNet weights saved
    on disk (for example torchvision's ``resnet50-0676ba61.pth``, or any
    ``state_dict`` of that architecture); the 1000-way ImageNet head is
    then replaced by a freshly initialized ``Linear(2048, n_classes)``. The
    first layer is a :class:`Normalize` with the ImageNet statistics, so
    inputs are images in ``[0, 1]``.

    Parameters
    ----------
    n_classes : int (default=14)
      Number of outputs; Clothing1M has 14 classes.

    weights_path : str, os.PathLike or None (default=None)
      File with a ResNet-50 state dict (optionally under a ``'state_dict'``
      key, keys optionally prefixed with ``'module.'``). A head of another
      size in the file is ignored.

    mean, std : sequence of float or None (default=None)
      Input normalization; both None means :data:`IMAGENET_MEAN` /
      :data:`IMAGENET_STD`.

    Attributes
    ----------
    backbone : torchvision.models.ResNet
      The network, with ``backbone.fc`` the new head.

    Examples
    --------
    >>> import torch
    >>> from sk_mr.models import ResNet50
    >>> ResNet50(n_classes=14)(torch.rand(1, 3, 64, 64)).shape
    torch.Size([1, 14])
    """

    def __init__(self, n_classes=14, weights_path=None, mean=None, std=None):
        super().__init__()
        from torchvision.models import resnet50

        self.n_classes = n_classes
        mean, std = _default_stats(mean, std, IMAGENET_MEAN, IMAGENET_STD)
        self.normalize = Normalize(mean, std)
        backbone = resnet50(weights=None)
        if weights_path is not None:
            state = _load_state_dict(weights_path)
            own = backbone.state_dict()
            for key in ("fc.weight", "fc.bias"):
                if key in state and state[key].shape != own[key].shape:
                    del state[key]
            missing = [k for k in own if k not in state and not k.startswith("fc.")]
            unexpected = [k for k in state if k not in own]
            mismatched = [k for k in state if k in own and state[k].shape != own[k].shape]
            if missing or unexpected or mismatched:
                raise ValueError(
                    f"weights_path={str(weights_path)!r} is not a ResNet-50 state "
                    f"dict: missing keys {missing[:5]}, unexpected keys "
                    f"{unexpected[:5]}, keys of other shapes {mismatched[:5]}.")
            backbone.load_state_dict(state, strict=False)
        backbone.fc = nn.Linear(backbone.fc.in_features, n_classes)
        self.backbone = backbone

    def forward(self, x):
        return self.backbone(self.normalize(x))


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


#: Model classes by the names the reproduce command uses.
MODELS = {
    "mlp": MLP,
    "smallcnn": SmallCNN,
    "cnn1d": CNN1D,
    "resnet18": ResNet18,
    "resnet34": ResNet34,
    "wrn28_10": WideResNet,
    "resnet50": ResNet50,
}


def make_model_class(name):
    """Return the model class registered under ``name``.

    Parameters
    ----------
    name : str
      One of ``'mlp'``, ``'smallcnn'``, ``'cnn1d'``, ``'resnet18'``,
      ``'resnet34'``, ``'wrn28_10'`` (:class:`WideResNet`, whose defaults
      are WRN-28-10) and ``'resnet50'`` (case-insensitive; ``-`` works as
      ``_``).

    Returns
    -------
    cls : type
      A :class:`torch.nn.Module` subclass, to pass as skorch's ``module``.

    Examples
    --------
    >>> from sk_mr.models import make_model_class
    >>> make_model_class("resnet18").__name__
    'ResNet18'
    """
    key = str(name).lower().replace("-", "_")
    if key not in MODELS:
        raise ValueError(
            f"Unknown model {name!r}; valid names: {', '.join(MODELS)}.")
    return MODELS[key]


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
