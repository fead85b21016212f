"""Tests of sk_mr.mw.AutoEta against hand computations in numpy."""

import math

import numpy as np
import pytest
import torch

from sk_mr.mw import AutoEta, eta_for_kl, kl_from_uniform

CHANCE = math.log(10)


def kl_numpy(L, eta):
    z = -eta * np.asarray(L, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    nz = p > 0
    return float(np.sum(p[nz] * np.log(len(p) * p[nz])))


@pytest.fixture
def two_groups():
    """70 examples fit well, 30 far above chance, with some spread in each group."""
    rng = np.random.default_rng(0)
    losses = np.concatenate([rng.uniform(0.0, 0.4, 70), rng.uniform(3.0, 5.0, 30)])
    return torch.tensor(losses)


class TestKL:
    def test_matches_numpy(self, two_groups):
        for eta in (0.0, 0.01, 0.3, 2.0):
            assert kl_from_uniform(two_groups, eta) == pytest.approx(
                kl_numpy(two_groups.numpy(), eta), abs=1e-12)

    @pytest.mark.parametrize("target", [1e-3, 0.05, 0.3, 1.0])
    def test_eta_for_kl_hits_target(self, two_groups, target):
        eta = eta_for_kl(two_groups, target)
        assert kl_numpy(two_groups.numpy(), eta) == pytest.approx(target, rel=1e-3)

    def test_degenerate_targets(self, two_groups):
        assert eta_for_kl(two_groups, 0.0) == 0.0
        assert eta_for_kl(torch.ones(5), 0.5) == 0.0  # nothing tells examples apart
        # beyond ln(n), unreachable: the top of the search range
        spread = float(two_groups.max() - two_groups.min())
        assert eta_for_kl(two_groups, 10.0) == pytest.approx(1e3 / spread)


def settled_budget(M, kl_scale=1.5, hard=0.1):
    return kl_scale * math.log((1 - hard) / (1 - M)) if M > hard else 0.0


class TestAutoEta:
    def test_one_update_by_hand(self, two_groups):
        # updates 1-3 of 10 see the same losses: the window settles at update
        # 3 (progress 0.3 >= ramp_fraction 0.15: the whole budget)
        rule = AutoEta()
        L = 3 * two_groups
        for t in (1, 2, 3):
            eta = rule.step(two_groups, t * two_groups, t, n_epochs=10, chance_loss=CHANCE)
        m = float(np.mean(two_groups.numpy() > CHANCE))
        assert m == 0.3 and rule.max_misfit_ == 0.3
        assert rule.etas_[:2] == [0.0, 0.0]  # no settled window yet: uniform weights
        budget = settled_budget(0.3)
        assert rule.kl_targets_[-1] == pytest.approx(budget)
        assert kl_numpy(L.numpy(), eta) == pytest.approx(budget, rel=1e-3)

    def test_budget_ramps_linearly_in_progress(self, two_groups):
        # update 3 of 60: progress 0.05, a third of the ramp: the KL (not
        # eta) is a third of the budget
        rule = AutoEta()
        for t in (1, 2, 3):
            eta = rule.step(two_groups, t * two_groups, t, n_epochs=60, chance_loss=CHANCE)
        assert kl_numpy(3 * two_groups.numpy(), eta) == pytest.approx(
            settled_budget(0.3) / 3, rel=1e-3)

    def test_window_settles_only_when_values_agree(self):
        # m = 0.6, 0.45, 0.35, 0.3, 0.29: the windows (0.6, 0.45, 0.35) and
        # (0.45, 0.35, 0.3) spread more than 25% of their maximum; the third,
        # (0.35, 0.3, 0.29), settles and contributes its minimum 0.29
        rule = AutoEta()
        L = torch.zeros(100, dtype=torch.float64)
        for t, m in enumerate([0.6, 0.45, 0.35, 0.3, 0.29], start=1):
            n_high = round(100 * m)
            losses = torch.cat([torch.full((100 - n_high,), 0.2),
                                torch.full((n_high,), 3.0)]).double()
            L = L + losses
            rule.step(losses, L, t, n_epochs=10, chance_loss=CHANCE)
            expected = 0.29 if t == 5 else 0.0
            assert rule.max_misfit_ == pytest.approx(expected), t
        assert rule.kl_targets_[:4] == [0.0] * 4
        assert rule.kl_targets_[4] == pytest.approx(settled_budget(0.29))

    def test_clean_data_keeps_uniform_weights(self):
        # the untrained first updates misfit a lot, then the examples fit: no
        # window settles above hard_fraction, the weights stay uniform
        rule = AutoEta()
        L = torch.zeros(100, dtype=torch.float64)
        etas = []
        for t, m in enumerate([0.6, 0.35, 0.12, 0.05, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02],
                              start=1):
            n_high = round(100 * m)
            losses = torch.cat([torch.full((100 - n_high,), 0.2),
                                torch.full((n_high,), 3.0)]).double()
            L = L + losses
            etas.append(rule.step(losses, L, t, n_epochs=10, chance_loss=CHANCE))
        assert etas == [0.0] * 10
        assert rule.max_misfit_ == pytest.approx(0.02)

    def test_settled_value_remembered_against_memorization(self, two_groups):
        # after memorization the misfit fraction drops to 0, the budget stays
        rule = AutoEta()
        for t in range(1, 6):
            rule.step(two_groups, t * two_groups, t, n_epochs=10, chance_loss=CHANCE)
        memorized = torch.full((100,), 0.1, dtype=torch.float64)
        L = 5 * two_groups + memorized
        eta = rule.step(memorized, L, 6, n_epochs=10, chance_loss=CHANCE)
        assert rule.misfit_fractions_[-1] == 0.0 and rule.max_misfit_ == 0.3
        assert kl_numpy(L.numpy(), eta) == pytest.approx(settled_budget(0.3), rel=1e-3)

    def test_updates_per_epoch_count_progress(self, two_groups):
        # 2 updates per epoch, 10 epochs: the 3rd update is at progress 0.15,
        # the end of the ramp
        rule = AutoEta()
        for u in (1, 2, 3):
            eta = rule.step(two_groups, u * two_groups, (u - 1) // 2, n_epochs=10,
                            updates_per_epoch=2, chance_loss=CHANCE)
        assert eta == pytest.approx(eta_for_kl(3 * two_groups, settled_budget(0.3)))

    def test_state_continues_and_reset_clears(self, two_groups):
        rule = AutoEta()
        rule.step(two_groups, two_groups, 1, n_epochs=4, chance_loss=CHANCE)
        rule.step(two_groups, 2 * two_groups, 2, n_epochs=4, chance_loss=CHANCE)
        assert rule.n_updates_ == 2 and len(rule.etas_) == 2
        assert rule.recent_misfits_ == [0.3, 0.3]
        rule.reset()
        assert (rule.n_updates_, rule.max_misfit_, rule.etas_, rule.recent_misfits_) == (
            0, 0.0, [], [])

    def test_repr_and_params(self):
        rule = AutoEta(kl_scale=1.0)
        assert rule.get_params() == dict(ramp_fraction=0.15, kl_scale=1.0,
                                         hard_fraction=0.1, window=3, stability=0.25)
        assert repr(rule) == ("AutoEta(ramp_fraction=0.15, kl_scale=1.0, hard_fraction=0.1, "
                              "window=3, stability=0.25)")

    @pytest.mark.parametrize("kwargs, match", [
        (dict(ramp_fraction=0.0), "ramp_fraction must be a float in \\(0, 1\\]"),
        (dict(hard_fraction=1.0), "hard_fraction must be a float in \\[0, 1\\)"),
        (dict(kl_scale=-1.0), "kl_scale must be a finite float > 0"),
        (dict(window=1), "window must be an int >= 2"),
        (dict(stability=1.0), "stability must be a float in \\[0, 1\\)"),
    ])
    def test_bad_constants(self, two_groups, kwargs, match):
        with pytest.raises(ValueError, match=match):
            AutoEta(**kwargs).step(two_groups, two_groups, 1, n_epochs=5, chance_loss=CHANCE)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(n_epochs=0), "n_epochs must be an int >= 1"),
        (dict(n_epochs=5, updates_per_epoch=0), "updates_per_epoch must be"),
        (dict(n_epochs=5, chance_loss=float("nan")), "chance_loss must be a finite"),
    ])
    def test_bad_step_arguments(self, two_groups, kwargs, match):
        kwargs.setdefault("chance_loss", CHANCE)
        with pytest.raises(ValueError, match=match):
            AutoEta().step(two_groups, two_groups, 1, **kwargs)

    def test_shape_mismatch(self, two_groups):
        with pytest.raises(ValueError, match="same shape"):
            AutoEta().step(two_groups, two_groups[:5], 1, n_epochs=5, chance_loss=CHANCE)


class TestModelAtChance:
    def test_a_steady_misfit_at_chance_is_not_noise(self):
        # a binary model still at chance: about half the examples above ln 2,
        # steadily, and not a tenth of them fitted below ln 2 / 2: no window
        # counts, the weights stay uniform
        rng = np.random.default_rng(0)
        chance = math.log(2)
        rule = AutoEta()
        L = torch.zeros(200, dtype=torch.float64)
        for t in range(1, 8):
            losses = torch.tensor(chance + rng.normal(0, 0.05, 200))
            L = L + losses
            eta = rule.step(losses, L, t, n_epochs=10, chance_loss=chance)
            assert eta == 0.0
        assert rule.max_misfit_ == 0.0 and rule.recent_misfits_ == [None] * 3
        # once the examples fit, the same steady fraction counts
        fitted = torch.cat([torch.full((150,), 0.05), torch.full((50,), 1.5)]).double()
        for t in range(8, 11):
            L = L + fitted
            rule.step(fitted, L, t, n_epochs=10, chance_loss=chance)
        assert rule.max_misfit_ == pytest.approx(0.25)
