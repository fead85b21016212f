"""Tests of sk_mr.noise: label noise and target outliers."""

import numpy as np
import pytest
import torch

from sk_mr.noise import add_label_noise, add_target_outliers


@pytest.fixture(scope="module")
def labels():
    return np.repeat(np.arange(10), 2000)


class TestAddLabelNoise:
    def test_uniform_realized_rate(self, labels):
        y_noisy, is_noisy = add_label_noise(labels, 0.4, random_state=0)
        # Redrawn from all K classes: flips with prob r (K-1)/K = 0.36.
        assert is_noisy.mean() == pytest.approx(0.4 * 9 / 10, abs=0.01)
        np.testing.assert_array_equal(is_noisy, y_noisy != labels)

    def test_symmetric_realized_rate_and_never_same(self, labels):
        y_noisy, is_noisy = add_label_noise(labels, 0.4, kind="symmetric", random_state=0)
        assert is_noisy.mean() == pytest.approx(0.4, abs=0.01)
        # the new labels are spread over the other classes
        changed_from_0 = y_noisy[(labels == 0) & is_noisy]
        assert set(np.unique(changed_from_0)) == set(range(1, 10))

    def test_pairflip_maps_to_next_class(self, labels):
        y_noisy, is_noisy = add_label_noise(labels, 0.3, kind="pairflip", random_state=1)
        assert is_noisy.mean() == pytest.approx(0.3, abs=0.01)
        np.testing.assert_array_equal(y_noisy[is_noisy], (labels[is_noisy] + 1) % 10)

    def test_zero_and_full_rate(self, labels):
        y0, m0 = add_label_noise(labels, 0.0, random_state=0)
        np.testing.assert_array_equal(y0, labels)
        assert not m0.any()
        y1, m1 = add_label_noise(labels, 1.0, kind="symmetric", random_state=0)
        assert m1.all()

    def test_reproducible_and_seed_dependent(self, labels):
        a = add_label_noise(labels, 0.4, random_state=3)[0]
        b = add_label_noise(labels, 0.4, random_state=3)[0]
        c = add_label_noise(labels, 0.4, random_state=4)[0]
        np.testing.assert_array_equal(a, b)
        assert (a != c).any()

    def test_generator_accepted(self, labels):
        a = add_label_noise(labels, 0.4, random_state=np.random.default_rng(5))[0]
        b = add_label_noise(labels, 0.4, random_state=np.random.default_rng(5))[0]
        np.testing.assert_array_equal(a, b)

    def test_global_rng_untouched(self, labels):
        np.random.seed(123)
        torch.manual_seed(123)
        np_state = np.random.get_state()[1].copy()
        torch_state = torch.get_rng_state().clone()
        add_label_noise(labels, 0.4, random_state=0)
        add_label_noise(labels, 0.4, kind="symmetric", random_state=None)
        np.testing.assert_array_equal(np.random.get_state()[1], np_state)
        assert torch.equal(torch.get_rng_state(), torch_state)

    def test_input_not_modified(self, labels):
        before = labels.copy()
        add_label_noise(labels, 0.5, random_state=0)
        np.testing.assert_array_equal(labels, before)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(noise_rate=1.5), "noise_rate"),
        (dict(noise_rate=-0.1), "noise_rate"),
        (dict(noise_rate=0.2, kind="nope"), "kind"),
        (dict(noise_rate=0.2, n_classes=5), "n_classes"),
        (dict(noise_rate=0.2, n_classes=1), "n_classes"),
    ])
    def test_bad_input(self, labels, kwargs, match):
        with pytest.raises(ValueError, match=match):
            add_label_noise(labels, **kwargs)

    def test_non_integer_labels_rejected(self):
        with pytest.raises(ValueError, match="LabelEncoder"):
            add_label_noise(np.array(["a", "b"]), 0.1)


class TestClassConditionalNoise:
    def test_per_class_rates_for_binary_flips(self):
        y = np.repeat([0, 1], 20000)
        y_noisy, is_noisy = add_label_noise(y, [0.1, 0.4], kind="symmetric", random_state=0)
        assert is_noisy[y == 0].mean() == pytest.approx(0.1, abs=0.01)
        assert is_noisy[y == 1].mean() == pytest.approx(0.4, abs=0.01)
        np.testing.assert_array_equal(y_noisy[is_noisy], 1 - y[is_noisy])

    def test_same_draws_as_a_scalar_rate(self, labels):
        # one rate per class, all equal, is the scalar rate exactly
        a = add_label_noise(labels, 0.3, kind="pairflip", random_state=5)
        b = add_label_noise(labels, [0.3] * 10, kind="pairflip", random_state=5)
        np.testing.assert_array_equal(a[0], b[0])

    @pytest.mark.parametrize("rate, match", [([0.1, 0.2], "2 per-class rates"),
                                             ([0.1] * 9 + [1.5], "noise_rate"),
                                             (np.zeros((2, 5)), "noise_rate")])
    def test_bad_rates(self, labels, rate, match):
        with pytest.raises(ValueError, match=match):
            add_label_noise(labels, rate)


class TestAddTargetOutliers:
    @pytest.mark.parametrize("y", [[], np.zeros((0, 3)), np.zeros(0, dtype=np.float32)])
    def test_empty_targets_are_returned_as_they_are(self, y):
        y_bad, is_outlier = add_target_outliers(y, 0.5, random_state=0)
        assert y_bad.shape == np.shape(y) and y_bad.dtype == np.float64
        assert is_outlier.shape == (0,) and is_outlier.dtype == bool
        # as add_label_noise does with no labels
        labels, flipped = add_label_noise(np.zeros(0, dtype=int), 0.5, n_classes=3,
                                          random_state=0)
        assert labels.shape == flipped.shape == (0,)
        with pytest.raises(ValueError, match="fraction"):  # still validated
            add_target_outliers([], 2.0)

    def test_replace_draws_from_a_wide_normal(self):
        rng = np.random.default_rng(0)
        y = rng.normal(3.0, 2.0, size=50000)
        y_bad, is_outlier = add_target_outliers(y, 0.2, scale=4.0, random_state=1)
        assert is_outlier.mean() == pytest.approx(0.2, abs=0.01)
        np.testing.assert_array_equal(y_bad[~is_outlier], y[~is_outlier])
        drawn = y_bad[is_outlier]
        assert drawn.mean() == pytest.approx(y.mean(), abs=0.2)
        assert drawn.std() == pytest.approx(4.0 * y.std(), rel=0.03)

    def test_shift_moves_whole_rows_by_scale_stds(self):
        rng = np.random.default_rng(0)
        y = rng.normal(size=(2000, 3)) * [1.0, 10.0, 0.1]
        y_bad, is_outlier = add_target_outliers(y, 0.3, kind="shift", scale=2.0, random_state=0)
        shift = (y_bad - y)[is_outlier] / y.std(axis=0)
        np.testing.assert_allclose(np.abs(shift), 2.0)
        # a row is shifted up or down as a whole, both directions occur
        assert np.all(np.sign(shift) == np.sign(shift[:, :1]))
        assert 0.4 < np.mean(shift[:, 0] > 0) < 0.6
        np.testing.assert_array_equal(y_bad[~is_outlier], y[~is_outlier])

    def test_reproducible_and_global_rng_untouched(self):
        y = np.arange(100.0)
        np.random.seed(0)
        torch.manual_seed(0)
        state, tstate = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
        a = add_target_outliers(y, 0.5, random_state=3)
        b = add_target_outliers(y, 0.5, random_state=3)
        np.testing.assert_array_equal(a[0], b[0])
        assert np.array_equal(np.random.get_state()[1], state)
        assert torch.equal(torch.get_rng_state(), tstate)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(fraction=1.5), "fraction"), (dict(fraction=0.1, kind="flip"), "kind"),
        (dict(fraction=0.1, scale=0), "scale"), (dict(fraction=True), "fraction"),
    ])
    def test_bad_input(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            add_target_outliers(np.zeros(10), **kwargs)
        with pytest.raises(ValueError, match="NaN"):
            add_target_outliers(np.array([0.0, np.nan]), 0.1)
