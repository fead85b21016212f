"""The paper's architectures: CIFAR ResNets, Wide ResNet, ResNet-50 for Clothing1M.

Like the library's small models (:mod:`sk_mr.models`), each is a plain
:class:`torch.nn.Module` that returns logits, takes ``n_classes`` as a
constructor argument and starts with a :class:`~sk_mr.models.Normalize`, so
inputs are images in ``[0, 1]`` (what ``torchattacks`` needs).
``mean=None, std=None`` select the statistics of the data the model is
made for: CIFAR-10 for the CIFAR models, ImageNet for :class:`ResNet50`.

* :class:`ResNet18`, :class:`ResNet34`: the CIFAR ResNets of the noisy-label
  literature (kuangliu/pytorch-cifar): a 3x3 stride-1 stem, no max-pool,
  BasicBlock stages, global average pooling and a linear head.
* :class:`WideResNet`: WRN-depth-k of Zagoruyko & Komodakis (WRN-28-10 by
  default).
* :class:`ResNet50`: torchvision's ResNet-50 for Clothing1M, optionally
  initialized from an ImageNet weights file given by path (nothing is
  downloaded).

:func:`make_model_class` maps the names ``python -m sk_mr reproduce`` uses
(``--arch``) to these classes and to the library's small models.
"""

import os

import torch
from torch import nn
from torch.nn import functional as F

from sk_mr.models import MODELS as SMALL_MODELS
from sk_mr.models import Normalize, _lookup_model

__all__ = [
    "CIFAR10_MEAN", "CIFAR10_STD", "CIFAR100_MEAN", "CIFAR100_STD",
    "IMAGENET_MEAN", "IMAGENET_STD", "MODELS",
    "ResNet18", "ResNet34", "ResNet50", "WideResNet", "make_model", "make_model_class",
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
    >>> from sk_mr.paper.models import ResNet18
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
    >>> from sk_mr.paper.models import ResNet34
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
    >>> from sk_mr.paper.models import WideResNet
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
    >>> from sk_mr.paper.models import ResNet50
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


#: Model classes by the names ``reproduce --arch`` accepts: the library's
#: small models and the paper's architectures.
MODELS = {
    **SMALL_MODELS,
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
      One of ``'mlp'``, ``'smallcnn'``, ``'cnn1d'`` (the library's small
      models), ``'resnet18'``, ``'resnet34'``, ``'wrn28_10'``
      (:class:`WideResNet`, whose defaults are WRN-28-10) and ``'resnet50'``
      (case-insensitive; ``-`` works as ``_``).

    Returns
    -------
    cls : type
      A :class:`torch.nn.Module` subclass, to pass as skorch's ``module``.

    Examples
    --------
    >>> from sk_mr.paper.models import make_model_class
    >>> make_model_class("resnet18").__name__
    'ResNet18'
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
    >>> from sk_mr.paper.models import make_model
    >>> make_model("resnet18", n_classes=100).linear.out_features
    100
    """
    return make_model_class(name)(**kwargs)
