"""Tests of sk_mr.models: the small models, normalization and the registry."""

import pytest
import torch
from skorch import NeuralNetClassifier

from sk_mr.models import MODELS, CNN1D, MLP, Normalize, SmallCNN, make_model, make_model_class


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def seeded(cls, **kwargs):
    torch.manual_seed(0)
    return cls(**kwargs).eval()


class TestNormalize:
    def test_identity_when_none(self):
        x = torch.rand(2, 3, 4, 4)
        assert torch.equal(Normalize()(x), x)

    def test_per_channel(self):
        x = torch.rand(2, 3, 4, 4)
        out = Normalize(mean=(0.1, 0.2, 0.3), std=(0.5, 1.0, 2.0))(x)
        for c, (m, s) in enumerate([(0.1, 0.5), (0.2, 1.0), (0.3, 2.0)]):
            torch.testing.assert_close(out[:, c], (x[:, c] - m) / s)

    def test_broadcasts_over_any_rank(self):
        norm = Normalize(mean=0.5, std=0.25)
        torch.testing.assert_close(norm(torch.ones(3, 40)), torch.full((3, 40), 2.0))
        torch.testing.assert_close(norm(torch.ones(3, 1, 40)), torch.full((3, 1, 40), 2.0))

    def test_statistics_are_buffers(self):
        norm = Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))
        assert set(norm.state_dict()) == {"mean", "std"}
        assert list(norm.parameters()) == []

    @pytest.mark.parametrize("std", [0.0, (1.0, -1.0, 1.0)])
    def test_non_positive_std(self, std):
        with pytest.raises(ValueError, match="std must be positive"):
            Normalize(mean=0.0, std=std)


class TestSmallModels:
    def test_mlp_flattens_and_sizes(self):
        model = seeded(MLP, in_features=64, n_classes=3, hidden=(16, 8))
        x = torch.rand(5, 1, 8, 8)
        torch.testing.assert_close(model(x), model(x.reshape(5, 64)))
        assert model(x).shape == (5, 3)
        widths = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
        assert widths == [16, 8, 3]

    def test_small_cnn_images_and_flat_digits(self):
        model = seeded(SmallCNN, n_classes=10)
        x = torch.rand(4, 1, 8, 8)
        assert model(x).shape == (4, 10)
        torch.testing.assert_close(model(x), model(x.reshape(4, 64)))
        with pytest.raises(ValueError, match="not in_channels=1 square"):
            model(torch.rand(4, 63))

    def test_cnn1d_accepts_both_shapes(self):
        model = seeded(CNN1D, n_classes=4)
        x = torch.randn(3, 40)
        assert model(x).shape == (3, 4)
        torch.testing.assert_close(model(x), model(x[:, None]))
        assert seeded(CNN1D, in_length=100)(torch.randn(2, 100)).shape == (2, 10)

    @pytest.mark.parametrize("cls", [MLP, SmallCNN, CNN1D])
    def test_small_models_do_not_normalize_by_default(self, cls):
        assert cls().normalize.identity


class TestRegistry:
    def test_names(self):
        assert make_model_class("MLP") is MLP
        assert make_model_class("smallcnn") is SmallCNN
        assert dict(MODELS) == {"mlp": MLP, "smallcnn": SmallCNN, "cnn1d": CNN1D}
        assert make_model("mlp", in_features=40, n_classes=3).n_classes == 3

    def test_unknown_lists_valid(self):
        with pytest.raises(ValueError, match="Unknown model 'vgg'; valid names: mlp, smallcnn, "
                                             r"cnn1d\."):
            make_model_class("vgg")

    @pytest.mark.parametrize("name", ["mlp", "smallcnn", "cnn1d"])
    def test_skorch_module_params(self, name):
        net = NeuralNetClassifier(make_model_class(name), module__n_classes=3)
        net.initialize()
        assert net.module_.n_classes == 3
