"""Tests of sk_mr.paper.models: the paper's architectures and their registry."""

import pytest
import torch

from sk_mr.models import CNN1D, MLP, SmallCNN
from sk_mr.paper.models import (CIFAR10_MEAN, CIFAR10_STD, CIFAR100_MEAN, CIFAR100_STD,
                                IMAGENET_MEAN, MODELS, ResNet18, ResNet34, ResNet50,
                                WideResNet, make_model, make_model_class)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def seeded(cls, **kwargs):
    torch.manual_seed(0)
    return cls(**kwargs).eval()


class TestCifarResNets:
    @pytest.mark.parametrize("cls, expected", [(ResNet18, 11.17), (ResNet34, 21.28)])
    def test_parameter_counts(self, cls, expected):
        assert n_params(cls(n_classes=10)) / 1e6 == pytest.approx(expected, abs=0.01)

    @pytest.mark.parametrize("cls", [ResNet18, ResNet34])
    def test_output_shape(self, cls):
        model = seeded(cls, n_classes=7)
        assert model(torch.rand(1, 3, 32, 32)).shape == (1, 7)
        # Global pooling: smaller test images work too.
        assert model(torch.rand(2, 3, 8, 8)).shape == (2, 7)

    def test_architecture_is_the_cifar_variant(self):
        model = ResNet18()
        assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
        assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
        assert [len(s) for s in (model.layer1, model.layer2, model.layer3, model.layer4)] \
            == [2, 2, 2, 2]
        r34 = ResNet34()
        assert [len(s) for s in (r34.layer1, r34.layer2, r34.layer3, r34.layer4)] \
            == [3, 4, 6, 3]

    def test_default_normalization_is_cifar10(self):
        norm = ResNet18().normalize
        torch.testing.assert_close(norm.mean, torch.tensor(CIFAR10_MEAN))
        torch.testing.assert_close(norm.std, torch.tensor(CIFAR10_STD))

    def test_normalize_is_applied_inside(self):
        with_norm = seeded(ResNet18, mean=CIFAR100_MEAN, std=CIFAR100_STD)
        without = seeded(ResNet18, mean=0.0, std=1.0)
        x = torch.rand(2, 3, 16, 16)
        manual = (x - torch.tensor(CIFAR100_MEAN)[:, None, None]) \
            / torch.tensor(CIFAR100_STD)[:, None, None]
        with torch.no_grad():
            torch.testing.assert_close(with_norm(x), without(manual), atol=1e-5, rtol=1e-4)

    def test_in_channels(self):
        assert seeded(ResNet18, in_channels=1, mean=0.5, std=0.5)(
            torch.rand(2, 1, 16, 16)).shape == (2, 10)


class TestWideResNet:
    def test_wrn_28_10_parameter_count(self):
        model = WideResNet(n_classes=10)
        assert n_params(model) / 1e6 == pytest.approx(36.48, abs=0.01)
        assert [len(g) for g in (model.block1, model.block2, model.block3)] == [4, 4, 4]
        assert model.fc.in_features == 640

    def test_output_shape_small(self):
        model = seeded(WideResNet, n_classes=100, depth=10, widen_factor=2)
        assert model(torch.rand(2, 3, 32, 32)).shape == (2, 100)

    def test_dropout(self):
        assert not any(isinstance(m, torch.nn.Dropout)
                       for m in WideResNet(depth=10, widen_factor=1).modules())
        model = WideResNet(depth=10, widen_factor=1, dropout=0.3)
        assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.3}

    @pytest.mark.parametrize("kwargs, match", [
        ({"depth": 27}, "depth must be 6n"),
        ({"widen_factor": 0}, "widen_factor"),
        ({"dropout": 1.0}, "dropout"),
    ])
    def test_bad_params(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            WideResNet(**kwargs)


class TestResNet50:
    def test_head_and_normalization(self):
        model = seeded(ResNet50)
        assert model.backbone.fc.out_features == 14
        torch.testing.assert_close(model.normalize.mean, torch.tensor(IMAGENET_MEAN))
        assert model(torch.rand(1, 3, 64, 64)).shape == (1, 14)

    def test_loads_weights_file_and_replaces_head(self, tmp_path):
        from torchvision.models import resnet50

        torch.manual_seed(1)
        imagenet = resnet50(weights=None)
        path = tmp_path / "r50.pth"
        # A DataParallel-style checkpoint: keys prefixed with 'module.'.
        torch.save({"state_dict": {f"module.{k}": v
                                   for k, v in imagenet.state_dict().items()}}, path)
        model = ResNet50(n_classes=14, weights_path=path)
        torch.testing.assert_close(model.backbone.conv1.weight, imagenet.conv1.weight)
        torch.testing.assert_close(model.backbone.layer4[2].bn3.running_var,
                                   imagenet.layer4[2].bn3.running_var)
        assert model.backbone.fc.weight.shape == (14, 2048)

    def test_missing_weights_file(self, tmp_path):
        path = tmp_path / "nope.pth"
        with pytest.raises(FileNotFoundError, match="nope.pth.*Nothing is downloaded"):
            ResNet50(weights_path=path)

    def test_wrong_architecture(self, tmp_path):
        path = tmp_path / "r18.pth"
        torch.save(ResNet18().state_dict(), path)
        with pytest.raises(ValueError, match="not a ResNet-50 state dict"):
            ResNet50(weights_path=path)


class TestRegistry:
    def test_names(self):
        assert make_model_class("resnet18") is ResNet18
        assert make_model_class("WRN28-10") is WideResNet
        assert MODELS == {"mlp": MLP, "smallcnn": SmallCNN, "cnn1d": CNN1D,
                          "resnet18": ResNet18, "resnet34": ResNet34,
                          "wrn28_10": WideResNet, "resnet50": ResNet50}
        assert make_model("resnet18", n_classes=3).linear.out_features == 3

    def test_unknown_lists_valid(self):
        with pytest.raises(ValueError, match="Unknown model 'vgg'.*mlp.*resnet18"):
            make_model_class("vgg")
