"""Tests of sk_mr.mw: the MW step of Algorithm 1."""

import math

import numpy as np
import pytest
import torch

from sk_mr.mw import (MultiStepEta, MultiplicativeWeights, check_eta,
                      effective_sample_size, mw_probabilities, resolve_eta)


class TestMWProbabilities:
    def test_matches_softmax_definition(self):
        L = torch.tensor([0.3, 1.2, 2.5, 0.0], dtype=torch.float64)
        eta = 0.7
        w = np.exp(-eta * L.numpy())
        np.testing.assert_allclose(mw_probabilities(L, eta).numpy(), w / w.sum(),
                                   rtol=1e-12)

    def test_eta_zero_is_uniform(self):
        p = mw_probabilities(torch.tensor([5.0, 1.0, 100.0]), 0.0)
        np.testing.assert_allclose(p.numpy(), np.full(3, 1 / 3))

    @pytest.mark.parametrize("scale", [1e2, 1e4, 1e6])
    def test_stable_for_huge_eta_times_loss(self, scale):
        L = torch.tensor([0.0, 0.5, 1.0, 3.0], dtype=torch.float32) * scale
        p = mw_probabilities(L, eta=1.0)
        assert torch.isfinite(p).all()
        assert p.sum().item() == pytest.approx(1.0)
        assert p[0].item() == pytest.approx(1.0)  # the min-loss example wins
        assert p.dtype == torch.float64

    def test_never_all_zero_with_large_common_offset(self):
        # Every weight would underflow without the max-shift.
        L = torch.full((5,), 1e6, dtype=torch.float64) + torch.arange(5.0, dtype=torch.float64)
        p = mw_probabilities(L, eta=1.0)
        assert p.sum().item() == pytest.approx(1.0)
        assert (p > 0).any()
        np.testing.assert_allclose(p.numpy(), np.exp(-np.arange(5.0)) / np.exp(-np.arange(5.0)).sum())

    @pytest.mark.parametrize("eta", [1e308, 1.7e308])
    def test_eta_times_loss_overflow_gives_the_exact_limit(self, eta):
        # eta * L overflows float64 for every nonzero L: the limit of
        # softmax(-eta * L) as eta grows puts all weight on the minimal loss.
        L = torch.tensor([2.0, 0.5, 3.0, 0.5], dtype=torch.float64)
        assert not torch.isfinite(L * eta).all()
        p = mw_probabilities(L, eta)
        np.testing.assert_array_equal(p.numpy(), [0.0, 0.5, 0.0, 0.5])

    def test_overflow_in_float32_losses(self):
        # Large float32 cumulative losses and a large eta: no NaN, and the
        # result equals the float64 computation on exact differences.
        L = torch.tensor([1e30, 1e30 + 1e24, 3e30], dtype=torch.float32)
        p = mw_probabilities(L, eta=1e-24)
        d = L.double() - L.double().min()
        expected = torch.exp(-1e-24 * d) / torch.exp(-1e-24 * d).sum()
        np.testing.assert_allclose(p.numpy(), expected.numpy(), rtol=1e-12)

    def test_ties_share_weight(self):
        p = mw_probabilities(torch.tensor([1e6, 1e6, 2e6]), eta=1.0)
        np.testing.assert_allclose(p.numpy(), [0.5, 0.5, 0.0])


class TestEffectiveSampleSize:
    def test_uniform_and_degenerate(self):
        assert effective_sample_size(torch.full((8,), 1 / 8)) == pytest.approx(8)
        assert effective_sample_size(torch.tensor([1.0, 0.0, 0.0])) == pytest.approx(1)


class TestEta:
    @pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, -math.inf])
    def test_bad_values(self, bad):
        with pytest.raises(ValueError, match="eta"):
            check_eta(bad)

    @pytest.mark.parametrize("bad", ["0.1", None, True])
    def test_bad_types(self, bad):
        with pytest.raises(TypeError, match="eta"):
            check_eta(bad)

    def test_callable_passes_and_is_resolved(self):
        assert check_eta(lambda t: 0.1 * t)(2) == pytest.approx(0.2)
        assert resolve_eta(lambda t: 0.1 * t, 3) == pytest.approx(0.3)

    def test_schedule_returning_bad_value_names_epoch(self):
        with pytest.raises(ValueError, match="epoch 4"):
            resolve_eta(lambda t: -1.0, 4)

    def test_multistep_matches_paper_recipe(self):
        schedule = MultiStepEta(0.01, milestones=(2, 6), gamma=1.5)
        got = [schedule(t) for t in range(1, 9)]
        expected = [0.01, 0.015, 0.015, 0.015, 0.015, 0.0225, 0.0225, 0.0225]
        np.testing.assert_allclose(got, expected)

    def test_multistep_validates_fields(self):
        with pytest.raises(ValueError, match="gamma"):
            check_eta(MultiStepEta(0.01, (2,), gamma=-1))

    def test_multistep_equality_and_repr(self):
        a = MultiStepEta(0.01, [2, 6])
        assert a == MultiStepEta(0.01, (2, 6))
        assert "milestones=(2, 6)" in repr(a)


class TestMultiplicativeWeights:
    def test_accumulates_and_uses_whole_cumulative_loss(self):
        mw = MultiplicativeWeights(3)
        mw.update(torch.tensor([1.0, 0.0, 2.0]), eta=0.5)
        p = mw.update(torch.tensor([1.0, 1.0, 0.0]), eta=2.0)
        L = np.array([2.0, 1.0, 2.0])
        w = np.exp(-2.0 * L)  # FTRL form: the newest eta scales all of L
        np.testing.assert_allclose(p.numpy(), w / w.sum())
        np.testing.assert_allclose(mw.cumulative_losses_.numpy(), L)
        assert mw.n_updates_ == 2

    def test_shape_mismatch(self):
        with pytest.raises(ValueError, match="shape"):
            MultiplicativeWeights(3).update(torch.zeros(4), eta=1.0)
