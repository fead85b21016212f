"""Tests of sk_mr.mw.AutoEta against hand computations in numpy."""

import math

import numpy as np
import pytest
import torch

from sk_mr.mw import AutoEta, confident_misfit_fraction, eta_for_kl, kl_from_uniform

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

    def test_freeze_fixes_the_budget_where_it_stands(self):
        # 30% misfit settles M = 0.3; frozen there, a later plateau at 60%
        # moves M itself but not the budget, which the free rule raises
        low = torch.cat([torch.full((70,), 0.1), torch.full((30,), 4.0)])
        high = torch.cat([torch.full((40,), 0.1), torch.full((60,), 4.0)])
        frozen, free = AutoEta(confident_ratio=None), AutoEta(confident_ratio=None)
        for rule in (frozen, free):
            for t in range(1, 4):
                rule.step(low, t * low, t, n_epochs=20, chance_loss=CHANCE)
        assert frozen.freeze() is frozen and frozen.frozen_misfit_ == pytest.approx(0.3)
        for rule in (frozen, free):
            for t in range(4, 8):
                rule.step(high, t * high, t, n_epochs=20, chance_loss=CHANCE)
        assert frozen.max_misfit_ == pytest.approx(0.6)
        assert frozen.counted_misfit() == pytest.approx(0.3)
        assert frozen.kl_targets_[-1] == pytest.approx(1.5 * math.log(0.9 / 0.7))
        assert free.kl_targets_[-1] == pytest.approx(1.5 * math.log(0.9 / 0.4))
        assert frozen.diagnostics()["frozen_misfit"] == pytest.approx(0.3)
        assert frozen.reset().frozen_misfit_ is None

    @pytest.mark.parametrize("latch, provisional, expected", [
        (True, False, 0.45), (False, False, 0.3), (True, True, 0.3)])
    def test_a_frozen_pairflip_fraction_follows_the_confident_count_up(
            self, latch, provisional, expected):
        # frozen at M = 0.3 (30% misfit, three agreeing updates); the
        # confident count then settles at 0.45: followed only where the
        # pairflip latch stands and is not provisional, and never down
        losses = torch.cat([torch.full((70,), 0.1), torch.full((30,), 4.0)])
        following, still = AutoEta(), AutoEta()
        for rule in (following, still):
            for t in range(1, 4):
                rule.step(losses, t * losses, t, n_epochs=20, chance_loss=CHANCE)
        assert following.freeze(follow_confident=True) is following
        still.freeze()
        for rule in (following, still):
            rule.pairflip_, rule.provisional_ = latch, provisional
            for t in range(4, 7):
                rule.step(losses, t * losses, t, n_epochs=20, chance_loss=CHANCE,
                          confident_misfit=0.45)
            assert rule.max_confident_ == pytest.approx(0.45)
            assert rule.frozen_misfit_ == pytest.approx(0.3)
        assert following.counted_misfit() == pytest.approx(expected)
        assert following.kl_targets_[-1] == pytest.approx(
            1.5 * math.log(0.9 / (1 - expected)))
        assert still.counted_misfit() == pytest.approx(0.3)  # frozen as before
        following.max_confident_ = 0.2  # below the frozen fraction: it stays
        assert following.counted_misfit() == pytest.approx(0.3)
        assert following.reset().follows_confident_ is False
        with pytest.raises(ValueError, match="follow_confident must be a bool, got 1"):
            AutoEta().freeze(follow_confident=1)

    def test_repr_and_params(self):
        rule = AutoEta(kl_scale=1.0)
        assert rule.get_params() == dict(ramp_fraction=0.15, kl_scale=1.0,
                                         hard_fraction=0.1, window=3, stability=0.25,
                                         confident_ratio=2.0, confident_gate=0.5,
                                         confident_stability=0.1)
        assert repr(rule) == ("AutoEta(ramp_fraction=0.15, kl_scale=1.0, hard_fraction=0.1, "
                              "window=3, stability=0.25, confident_ratio=2.0, "
                              "confident_gate=0.5, confident_stability=0.1)")

    @pytest.mark.parametrize("kwargs, match", [
        (dict(ramp_fraction=0.0), "ramp_fraction must be a float in \\(0, 1\\]"),
        (dict(hard_fraction=1.0), "hard_fraction must be a float in \\[0, 1\\)"),
        (dict(kl_scale=-1.0), "kl_scale must be a finite float > 0"),
        (dict(window=1), "window must be an int >= 2"),
        (dict(stability=1.0), "stability must be a float in \\[0, 1\\)"),
        (dict(confident_ratio=0.0), "confident_ratio must be a finite float > 0 or None"),
        (dict(confident_ratio=True), "confident_ratio must be a finite float > 0 or None"),
        (dict(confident_gate=1.0), "confident_gate must be a float in \\(0, 1\\)"),
        (dict(confident_stability=-0.1), "confident_stability must be a float in"),
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


def confident_joint_by_hand(probabilities, labels):
    """The count of confident_misfit_fraction, one example at a time."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n, k = probabilities.shape
    thresholds = [probabilities[labels == j, j].mean() if np.any(labels == j) else None
                  for j in range(k)]
    counted = 0
    for i in range(n):
        top = int(np.argmax(probabilities[i]))
        if top != labels[i] and thresholds[top] is not None \
                and probabilities[i, top] >= thresholds[top]:
            counted += 1
    return counted / n


class TestConfidentMisfitFraction:
    def test_matches_a_loop(self):
        rng = np.random.default_rng(0)
        logits = rng.normal(0, 2, (300, 5))
        probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        labels = rng.integers(0, 4, 300)  # class 4 labels nothing: never a threshold
        p = torch.tensor(probabilities)
        top, predicted = p.max(1)
        label_p = p[torch.arange(300), torch.tensor(labels)]
        got = confident_misfit_fraction(label_p, predicted, top, torch.tensor(labels), 5)
        assert got == pytest.approx(confident_joint_by_hand(probabilities, labels))
        assert 0.05 < got < 0.95  # the case is not trivial

    def test_pairflip_labels_count_where_the_ln_k_threshold_misses_them(self):
        # 10 classes, 30% of each class's labels flipped to the next class;
        # the network gives the true class 0.7 and the flipped-to class 0.3
        n_per, k, r = 100, 10, 0.3
        truth = np.repeat(np.arange(k), n_per)
        labels = truth.copy()
        flipped = np.zeros(len(truth), bool)
        for c in range(k):
            idx = np.where(truth == c)[0][: int(r * n_per)]
            labels[idx], flipped[idx] = (c + 1) % k, True
        p = np.zeros((len(truth), k))
        p[np.arange(len(truth)), truth] = 1 - r
        p[np.arange(len(truth)), (truth + 1) % k] = r
        label_p = torch.tensor(p[np.arange(len(truth)), labels])
        assert float((-label_p.log() > math.log(k)).double().mean()) == 0.0  # m misses them
        top, predicted = torch.tensor(p).max(1)
        got = confident_misfit_fraction(label_p, predicted, top, torch.tensor(labels), k)
        assert got == pytest.approx(flipped.mean())


class TestConfidentCount:
    """M counts the confident fraction c once it exceeds confident_ratio * M."""

    @staticmethod
    def losses(n_fitted, n_unfitted, low=0.05, high=1.5):
        # n_fitted far below chance / 2, the rest below chance (pairflip-like)
        return torch.cat([torch.full((n_fitted,), low), torch.full((n_unfitted,), high)]).double()

    def test_pairflip_signature_counts_c_and_latches(self):
        rule = AutoEta()
        losses = self.losses(70, 30)  # m = 0: no loss above ln 10
        L = torch.zeros(100, dtype=torch.float64)
        for t, c in enumerate([0.31, 0.30, 0.30], start=1):
            L = L + losses
            assert rule.wants_confident_misfit(losses, chance_loss=CHANCE)
            eta = rule.step(losses, L, t, n_epochs=20, chance_loss=CHANCE, confident_misfit=c)
        assert rule.max_misfit_ == 0.0 and rule.max_confident_ == pytest.approx(0.30)
        assert rule.pairflip_
        assert rule.kl_targets_ == [0.0, 0.0, pytest.approx(settled_budget(0.30))]
        assert eta == pytest.approx(eta_for_kl(L, 3 / 20 / 0.15 * settled_budget(0.30)))
        # the ln K count rises above c / 2 later: the latch keeps max(M, C)
        high = torch.cat([torch.full((80,), 0.05), torch.full((20,), 4.0)]).double()
        for t in range(4, 7):
            L = L + high
            eta = rule.step(high, L, t, n_epochs=20, chance_loss=CHANCE, confident_misfit=0.3)
        assert rule.max_misfit_ == pytest.approx(0.2) and rule.pairflip_
        assert rule.kl_targets_[-1] == pytest.approx(settled_budget(0.30))
        assert eta == pytest.approx(eta_for_kl(L, settled_budget(0.30)))

    def test_c_within_twice_m_does_not_count(self):
        # uniform noise: m sees it; c sees it too, plus a little: M stays m's
        rule = AutoEta()
        losses = torch.cat([torch.full((70,), 0.05), torch.full((30,), 4.0)]).double()
        L = torch.zeros(100, dtype=torch.float64)
        for t in range(1, 5):
            L = L + losses
            eta = rule.step(losses, L, t, n_epochs=20, chance_loss=CHANCE, confident_misfit=0.4)
        assert rule.max_confident_ == pytest.approx(0.4) and not rule.pairflip_
        assert rule.kl_targets_[-1] == pytest.approx(settled_budget(0.3))
        assert eta == pytest.approx(eta_for_kl(L, settled_budget(0.3)))

    def test_c_is_read_only_once_half_the_examples_are_fitted(self):
        rule = AutoEta()
        losses = self.losses(40, 60)  # the median loss is not below chance / 2
        assert not rule.wants_confident_misfit(losses, chance_loss=CHANCE)
        for t in range(1, 5):
            eta = rule.step(losses, t * losses, t, n_epochs=20, chance_loss=CHANCE,
                            confident_misfit=0.6)
        assert eta == 0.0 and rule.max_confident_ == 0.0
        assert rule.confident_fractions_ == [None] * 4

    def test_c_still_falling_by_more_than_ten_percent_does_not_settle(self):
        # a network still learning: c falls 12% per update; M stays 0
        rule = AutoEta()
        losses = self.losses(70, 30)
        for t, c in enumerate([0.50, 0.44, 0.39, 0.34, 0.30], start=1):
            eta = rule.step(losses, t * losses, t, n_epochs=20, chance_loss=CHANCE,
                            confident_misfit=c)
        assert eta == 0.0 and rule.max_confident_ == 0.0 and not rule.pairflip_

    @pytest.mark.parametrize("rule", [AutoEta(confident_ratio=None), AutoEta()])
    def test_without_c_the_rule_is_the_ln_k_rule(self, rule, two_groups):
        # confident_ratio=None, or no class probabilities (c None): m alone
        reference = AutoEta(confident_ratio=None)
        L = torch.zeros_like(two_groups)
        for t in range(1, 6):
            L = L + two_groups
            c = 0.9 if rule.confident_ratio is None else None
            got = rule.step(two_groups, L, t, n_epochs=10, chance_loss=CHANCE,
                            confident_misfit=c)
            assert got == reference.step(two_groups, L, t, n_epochs=10, chance_loss=CHANCE)
        assert not rule.pairflip_ and rule.max_confident_ == 0.0
        assert not AutoEta(confident_ratio=None).wants_confident_misfit(
            two_groups, chance_loss=CHANCE)


class TestProbation:
    """AutoEta.step's probation band, by hand (the lead it came from:
    tests/test_auto_eta_leads.py)."""

    @staticmethod
    def _steps(rule, readings, misfit=0.05, start=1, probation=0.3, **extra):
        # one update per reading: a fraction ``misfit`` of 100 examples at
        # loss 4 (above ln 10), the rest at 0.1 (half fitted: c is read)
        losses = torch.full((100,), 0.1)
        losses[:round(misfit * 100)] = 4.0
        for t, reading in enumerate(readings, start=start):
            rule.step(losses, t * losses, t, n_epochs=60, chance_loss=math.log(10),
                      confident_misfit=reading, probation=probation, **extra)

    @pytest.mark.parametrize("after, retracted", [(0.10, True), (0.22, False)])
    def test_a_loose_latch_is_decided_by_the_first_reading_after_the_freeze(
            self, after, retracted):
        rule = AutoEta()
        # 0.30, 0.27, 0.24 agree within 0.3 (0.06 <= 0.09), not within 0.1
        self._steps(rule, [0.30, 0.27, 0.24])
        assert rule.max_confident_ == 0.0 and rule.max_loose_ == pytest.approx(0.24)
        assert rule.provisional_ and rule.counted_misfit() == pytest.approx(0.24)
        rule.freeze()
        # under correction M settles at 0.4, then the reading decides:
        # below 0.7 * 0.24 = 0.168 it retracts
        self._steps(rule, [None, None, None], misfit=0.4, start=4)
        assert rule.max_misfit_ == pytest.approx(0.4)
        self._steps(rule, [after], start=7)
        assert rule.retracted_ is retracted and not rule.provisional_
        if retracted:
            assert rule.frozen_misfit_ is None and not rule.pairflip_
            assert rule.max_misfit_ == pytest.approx(0.05)  # as at the freeze
            assert rule.kl_targets_[-1] == 0.0
            # no loose latch again (a strict one could still come)
            self._steps(rule, [0.30, 0.27, 0.24], start=8)
            assert not rule.pairflip_ and rule.counted_misfit() == pytest.approx(0.05)
        else:
            assert rule.counted_misfit() == pytest.approx(0.24)

    def test_without_a_band_the_rule_is_as_before(self):
        banded, plain = AutoEta(), AutoEta()
        self._steps(banded, [0.30, 0.27, 0.24, 0.22, 0.20], probation=None)
        self._steps(plain, [0.30, 0.27, 0.24, 0.22, 0.20], probation=None)
        assert banded.max_loose_ == 0.0 and not banded.provisional_
        assert banded.counted_misfit() == pytest.approx(0.05) == plain.counted_misfit()

    def test_a_strict_latch_is_never_on_probation(self):
        rule = AutoEta()
        self._steps(rule, [0.30, 0.29, 0.28])  # within 0.1
        assert rule.pairflip_ and not rule.provisional_
        rule.freeze()
        self._steps(rule, [0.01], start=4)
        assert not rule.retracted_ and rule.counted_misfit() == pytest.approx(0.28)

    @pytest.mark.parametrize("hold, after, retracted", [
        (None, 0.17, False), (0.85, 0.17, True), (0.85, 0.21, False), (1.0, 0.23, True)])
    def test_the_hold_is_the_fraction_the_first_reading_must_keep(self, hold, after, retracted):
        # frozen at 0.24: without a hold the reading must reach 0.7 * 0.24
        # = 0.168, with one hold * 0.24 (0.204 for 0.85, all of it for 1)
        rule = AutoEta()
        self._steps(rule, [0.30, 0.27, 0.24], probation_hold=hold)
        rule.freeze()
        self._steps(rule, [after], start=4, probation_hold=hold)
        assert rule.retracted_ is retracted
        assert (rule.frozen_misfit_ is None) is retracted

    @pytest.mark.parametrize("deadline, start, latched", [
        (None, 30, True), (0.5, 28, True), (0.5, 29, False), (0.05, 1, True),
        (0.04, 1, False)])
    def test_no_loose_latch_settles_past_the_deadline(self, deadline, start, latched):
        # 60 planned updates: the third reading of a window that settles
        # within the band falls at update start + 2; with a deadline of
        # half the updates it counts up to update 30 (28, 29, 30), not from
        # 31 (29, 30, 31); 0.05 of 60 is update 3, 0.04 update 2.4
        rule = AutoEta()
        self._steps(rule, [None] * (start - 1), probation_deadline=deadline)  # not read
        self._steps(rule, [0.30, 0.27, 0.24], start=start, probation_deadline=deadline)
        assert rule.n_updates_ == start + 2
        assert rule.provisional_ is latched and rule.pairflip_ is latched
        assert rule.max_loose_ == (pytest.approx(0.24) if latched else 0.0)
        assert rule.counted_misfit() == pytest.approx(0.24 if latched else 0.05)

    def test_a_loose_latch_taken_in_time_is_still_tested_past_the_deadline(self):
        rule = AutoEta()
        self._steps(rule, [0.30, 0.27, 0.24], probation_deadline=0.5)
        assert rule.provisional_
        rule.freeze()
        self._steps(rule, [None] * 36, start=4, probation_deadline=0.5)
        self._steps(rule, [0.10], start=40, probation_deadline=0.5)  # past update 30
        assert rule.n_updates_ == 40
        assert rule.retracted_ and rule.frozen_misfit_ is None

    def test_the_band_is_checked(self):
        for deadline in (0.0, 1.5, True):
            with pytest.raises(ValueError, match="probation_deadline must be a float in"):
                self._steps(AutoEta(), [0.3], probation_deadline=deadline)
        with pytest.raises(ValueError, match="probation must be a float in"):
            self._steps(AutoEta(), [0.3], probation=1.5)
        for hold in (0.0, 1.5, True):
            with pytest.raises(ValueError, match="probation_hold must be a float in"):
                self._steps(AutoEta(), [0.3], probation_hold=hold)
