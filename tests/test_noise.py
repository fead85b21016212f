"""Tests of sk_mr.noise.add_label_noise."""

import numpy as np
import pytest
import torch

from sk_mr.noise import add_label_noise


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
