"""eta in units of cross-entropy: the same eta, the same strength, for any criterion.

MR's weights are ``softmax(-(eta / u) L)`` with ``u`` the criterion's loss
of a uniform prediction over ``ln K`` (``net.loss_unit()``); checked here
against hand computations of ``u`` and of the weights.
"""

import math

import numpy as np
import pytest
import torch

from sk_mr import MRBinaryClassifier, MRClassifier
from sk_mr.losses import GeneralizedCrossEntropy, NCEandRCE, SymmetricCrossEntropy


def _params(tiny_mlp, **kwargs):
    params = dict(module=tiny_mlp, max_epochs=2, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, eta=0.3, loss_pass="full")
    params.update(kwargs)
    return params


def _softmax_weights(L, eta):
    z = -eta * np.asarray(L, dtype=np.float64)
    w = np.exp(z - z.max())
    return w / w.sum()


class TestLossUnit:
    @pytest.mark.parametrize("criterion, kwargs", [
        (None, {}),
        (torch.nn.CrossEntropyLoss, {}),
        (torch.nn.CrossEntropyLoss, {"criterion__label_smoothing": 0.1}),
    ])
    def test_cross_entropy_is_exactly_the_papers_eta(self, noisy_data, tiny_mlp, criterion,
                                                     kwargs):
        X, y, _ = noisy_data
        extra = {} if criterion is None else {"criterion": criterion}
        net = MRClassifier(**_params(tiny_mlp, **extra, **kwargs)).fit(X, y)
        assert net.loss_unit() == 1.0 and net.mr_.loss_unit_ == 1.0
        assert net.mr_.eta_ == 0.3
        np.testing.assert_allclose(
            net.sample_weights_, _softmax_weights(net.cumulative_losses_, 0.3), rtol=1e-12)

    @pytest.mark.parametrize("criterion, unit", [
        # (1 - (1/K)^q) / q at a uniform prediction, over ln K (K = 10)
        (GeneralizedCrossEntropy, (1 - 0.1 ** 0.7) / 0.7 / math.log(10)),
        # alpha ln K + beta (-A) (1 - 1/K)
        (SymmetricCrossEntropy, (0.1 * math.log(10) + 4 * 0.9) / math.log(10)),
        # NCE of a uniform prediction is 1/K
        (NCEandRCE, (0.1 + 4 * 0.9) / math.log(10)),
    ])
    def test_robust_losses_count_in_their_unit(self, noisy_data, tiny_mlp, criterion, unit):
        X, y, _ = noisy_data
        net = MRClassifier(**_params(tiny_mlp, criterion=criterion)).fit(X, y)
        assert net.loss_unit() == pytest.approx(unit, rel=1e-6)
        # the weights are softmax(-(eta / unit) L) of the raw criterion losses
        np.testing.assert_allclose(
            net.sample_weights_, _softmax_weights(net.cumulative_losses_, 0.3 / unit),
            rtol=1e-5, atol=1e-12)
        assert net.mr_.eta_ == pytest.approx(0.3 / unit)
        # the history reports the eta the user asked for, in cross-entropy units
        assert net.history[-1, "mr_eta"] == pytest.approx(0.3)

    def test_same_eta_same_strength_across_scales(self, noisy_data, tiny_mlp):
        # a criterion that is cross-entropy times 5 gives the same weights at
        # the same eta: the unit absorbs the scale
        class ScaledCE(torch.nn.CrossEntropyLoss):
            def forward(self, input, target):
                return 5.0 * super().forward(input, target)

        X, y, _ = noisy_data
        torch.manual_seed(0)
        plain = MRClassifier(**_params(tiny_mlp, criterion=torch.nn.CrossEntropyLoss,
                                       lr=0.02)).fit(X, y)
        torch.manual_seed(0)
        scaled = MRClassifier(**_params(tiny_mlp, criterion=ScaledCE, lr=0.004)).fit(X, y)
        assert scaled.loss_unit() == pytest.approx(5.0)
        np.testing.assert_allclose(scaled.sample_weights_, plain.sample_weights_, rtol=1e-4)

    def test_binary_bce_is_exactly_one(self, tiny_mlp):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(80, 64)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.float32)

        class One(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(64, 1)

            def forward(self, X):
                return self.lin(X).squeeze(-1)

        net = MRBinaryClassifier(One, max_epochs=2, train_split=None, verbose=0, eta=0.3,
                                 loss_pass="full").fit(X, y)
        assert net.loss_unit() == 1.0 and net.mr_.eta_ == 0.3

    def test_criterion_without_scale_is_refused(self, noisy_data, tiny_mlp):
        class Zero(torch.nn.Module):
            reduction = "mean"

            def forward(self, input, target):
                losses = 0.0 * input.sum(1)
                return losses if self.reduction == "none" else losses.mean()

        X, y, _ = noisy_data
        with pytest.raises(ValueError, match="gives eta no scale"):
            MRClassifier(**_params(tiny_mlp, criterion=Zero, max_epochs=1)).fit(X, y)
