"""MRRegressor's unit of eta: the targets' scale, so one eta means one strength.

Hand computations of the robust scale and of the unit for each criterion,
and the property they exist for: targets c times larger, fitted by a
module whose outputs are c times larger, get the same weights.
"""

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset, ValidSplit

from sk_mr import MRRegressor
from sk_mr.regressor import robust_target_scale

NORMAL_MAD = 0.6744897501960817  # scipy.stats.norm.ppf(0.75)


class ScaledLinear(torch.nn.Module):
    """A fixed linear map (seeded), its output times ``scale``."""

    def __init__(self, in_features=4, out_features=1, scale=1.0):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.weight = torch.nn.Parameter(torch.randn(in_features, out_features,
                                                     generator=generator))
        self.scale = scale

    def forward(self, X):
        return self.scale * (X @ self.weight)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = (X @ np.array([[1.0], [-1.0], [0.5], [2.0]]) + rng.normal(size=(120, 1))).astype(
        np.float32)
    y[:20] += 8.0  # outliers
    return X, y


def net(**kwargs):
    params = dict(module=ScaledLinear, max_epochs=2, lr=0.0, batch_size=32, eta=0.5,
                  train_split=None, verbose=0, loss_pass="full")
    params.update(kwargs)
    return MRRegressor(**params)


class TestRobustTargetScale:
    def test_median_absolute_deviation_per_column(self):
        y = np.array([[0.0, 10.0], [1.0, 30.0], [3.0, 20.0], [50.0, 60.0], [4.0, 40.0]])
        # column 0: median 3, |deviations| 3 2 0 47 1 -> median 2
        # column 1: median 30, |deviations| 20 0 10 30 10 -> median 10
        np.testing.assert_allclose(robust_target_scale(y), [2 / NORMAL_MAD, 10 / NORMAL_MAD])

    def test_falls_back_to_std_then_one(self):
        # over half of column 0 is 5: no median deviation, its std instead;
        # column 1 is constant: 1
        y = np.array([[5.0, 2.0], [5.0, 2.0], [5.0, 2.0], [9.0, 2.0]])
        np.testing.assert_allclose(robust_target_scale(y), [np.std([5, 5, 5, 9]), 1.0])

    def test_refuses_non_finite_targets(self):
        with pytest.raises(ValueError, match="NaN or infinite"):
            robust_target_scale(np.array([1.0, np.nan, 2.0]))

    def test_one_dimensional_targets_and_empty(self):
        assert robust_target_scale(np.array([1.0, 2.0, 4.0])).shape == ()
        assert float(robust_target_scale(np.array([1.0, 2.0, 4.0]))) == pytest.approx(
            1 / NORMAL_MAD)
        with pytest.raises(ValueError, match="at least one row"):
            robust_target_scale(np.zeros((0, 2)))


class TestLossUnit:
    @pytest.mark.parametrize("criterion, unit", [
        (torch.nn.MSELoss, lambda s: s ** 2),
        (torch.nn.L1Loss, lambda s: s),
        # Huber (delta 1): s - 0.5 where s > 1, over 0.5 (the loss of an error of 1)
        (torch.nn.HuberLoss, lambda s: (s - 0.5) / 0.5 if s > 1 else s ** 2),
    ])
    def test_loss_of_one_scale_over_loss_of_one(self, data, criterion, unit):
        X, y = data
        fitted = net(criterion=criterion).fit(X, y)
        scale = float(robust_target_scale(y)[0])
        assert scale > 1.2  # not a unit of 1 by accident
        assert fitted.loss_unit() == pytest.approx(unit(scale), rel=1e-5)
        # the weights are softmax(-(eta / unit) L) of the criterion's own losses
        L = fitted.cumulative_losses_
        w = np.exp(-0.5 / unit(scale) * (L - L.min()))
        np.testing.assert_allclose(fitted.sample_weights_, w / w.sum(), rtol=1e-5)
        assert fitted.history[-1, "mr_eta"] == pytest.approx(0.5)

    def test_multi_output_mean_of_the_variances(self, data):
        X, y = data
        y2 = np.hstack([y, 3 * y[::-1]])
        fitted = net(module__out_features=2).fit(X, y2)
        scale = robust_target_scale(y2)
        assert fitted.loss_unit() == pytest.approx(float(np.mean(scale ** 2)), rel=1e-5)

    def test_one_before_a_fit_and_snapped_to_one(self):
        assert net().loss_unit() == 1.0
        unfitted = net()
        unfitted.initialize()
        unfitted.target_scale_ = np.array([1.0 + 1e-8])
        assert unfitted.loss_unit() == 1.0

    def test_a_loss_without_scale_is_refused_before_training(self, data):
        X, y = data

        class Flat(torch.nn.MSELoss):
            def forward(self, prediction, target):
                return 0.0 * super().forward(prediction, target)

        unfitted = net(criterion=Flat)
        with pytest.raises(ValueError, match="give eta no unit"):
            unfitted.fit(X, y)
        assert len(unfitted.history) == 0  # refused before the first step

    def test_a_get_loss_that_reads_X_still_fits(self, data):
        # fit's documented pattern: per-example weights inside a dict X,
        # applied in get_loss; the unit is the criterion's, which needs no X
        X, y = data

        class Module(ScaledLinear):
            def forward(self, x, w):
                return super().forward(x)

        class Weighted(MRRegressor):
            def get_loss(self, y_pred, y_true, X=None, training=False):
                return super().get_loss(y_pred, y_true, X, training) * X["w"][:, None]

        inputs = {"x": X, "w": np.full(len(X), 2.0, dtype=np.float32)}
        doubled = Weighted(Module, max_epochs=2, lr=0.0, eta=0.5, train_split=None,
                           verbose=0).fit(inputs, y)
        plain = net(max_epochs=2).fit(X, y)
        scale = float(robust_target_scale(y)[0])
        assert doubled.loss_unit() == pytest.approx(scale ** 2, rel=1e-5)
        # twice the losses, the same unit: eta's strength doubles
        np.testing.assert_allclose(doubled.cumulative_losses_, 2 * plain.cumulative_losses_,
                                   rtol=1e-5)

    def test_the_scale_is_kept_by_continued_fits_and_pickles(self, data):
        import pickle

        from sklearn.base import clone

        X, y = data
        fitted = net().fit(X, y)
        scale = fitted.target_scale_
        fitted.partial_fit(X, y)  # kept, not read again: eta keeps its meaning
        assert fitted.target_scale_ is scale
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(restored.target_scale_, scale)
        assert restored.loss_unit() == fitted.loss_unit()
        assert not hasattr(clone(fitted), "target_scale_")
        fitted.fit(X, 10 * y)  # a new fit starts over
        np.testing.assert_allclose(fitted.target_scale_, 10 * scale, rtol=1e-6)


class TestScaleFree:
    @pytest.mark.parametrize("criterion", [torch.nn.MSELoss, torch.nn.L1Loss])
    def test_targets_times_c_get_the_same_weights(self, data, criterion):
        # every error c times larger: MSE's losses c^2 times, L1's c times,
        # and the unit with them; the weights do not move
        X, y = data
        small = net(criterion=criterion).fit(X, y)
        large = net(criterion=criterion, module__scale=250.0).fit(X, 250.0 * y)
        np.testing.assert_allclose(large.target_scale_, 250.0 * small.target_scale_,
                                   rtol=1e-5)
        np.testing.assert_allclose(large.sample_weights_, small.sample_weights_, rtol=1e-4)
        # the weights did move off uniform (the test has something to compare)
        assert small.sample_weights_.max() > 10 * small.sample_weights_.min()

    def test_the_training_split_sets_the_scale(self, data):
        X, y = data
        fitted = net(train_split=ValidSplit(4)).fit(X, y)
        rows = fitted.mr_.train_rows_
        assert len(rows) == 90
        np.testing.assert_allclose(fitted.target_scale_, robust_target_scale(y[rows]))

    @pytest.mark.parametrize("train_split", [None, ValidSplit(4)])
    def test_targets_held_by_the_dataset(self, data, train_split):
        X, y = data
        from_arrays = net(train_split=train_split).fit(X, y)
        from_dataset = net(train_split=train_split).fit(Dataset(X, y), None)
        rows = from_dataset.mr_.train_rows_
        np.testing.assert_allclose(from_dataset.target_scale_, robust_target_scale(y[rows]))
        np.testing.assert_allclose(from_dataset.target_scale_, from_arrays.target_scale_)
        np.testing.assert_allclose(from_dataset.sample_weights_, from_arrays.sample_weights_)
