"""Tests of sk_mr.callbacks beyond what the estimator tests cover."""

import io
import math
import types
import warnings

import numpy as np
import pytest
import torch

from skorch.history import History

from sk_mr.callbacks import MultiplicativeReweighting, RandomReweighting, ReweightingSettings
from sk_mr.exceptions import MRParameterWarning


def bound(cb, n_train=4, n_rows=6):
    cb.initialize()
    net = types.SimpleNamespace(device="cpu", _mr_device=lambda: "cpu")
    cb.bind(net, np.arange(n_train, dtype=np.int64) + 1, n_rows)
    return cb


class TestSampleReweighting:
    def test_bind_starts_uniform_and_scatters_to_rows(self):
        cb = bound(MultiplicativeReweighting())
        np.testing.assert_allclose(cb.probabilities_.numpy(), 0.25)
        full = cb.full_length(cb.probabilities_)
        assert np.isnan(full[[0, 5]]).all()
        np.testing.assert_allclose(full[1:5], 0.25)
        # batch weights are p * n: mean one, gathered by position
        assert torch.equal(cb.batch_weights(torch.tensor([0, 3])), torch.ones(2))

    def test_rebinding_to_another_split_is_refused(self):
        cb = bound(MultiplicativeReweighting())
        net = types.SimpleNamespace(device="cpu", _mr_device=lambda: "cpu")
        cb.bind(net, np.arange(4, dtype=np.int64) + 1, 6)  # same split: fine
        with pytest.raises(ValueError, match="trains on 3 of 6 rows"):
            cb.bind(net, np.arange(3, dtype=np.int64), 6)

    def test_state_dict_is_tensors_only_and_round_trips(self):
        cb = bound(MultiplicativeReweighting())
        L = np.array([0.0, 1.0, 2.0, 3.0])
        cb.cumulative_losses_ = torch.tensor(L, dtype=torch.float64)
        cb.eta_ = 0.7  # the weights are softmax(-eta_ L): not uniform
        cb.n_updates_ = 3
        buffer = io.BytesIO()
        torch.save(cb.state_dict(), buffer)
        buffer.seek(0)
        state = torch.load(buffer, weights_only=True)
        assert all(torch.is_tensor(v) for v in state.values())
        other = MultiplicativeReweighting().initialize()
        other.load_state_dict(state)
        np.testing.assert_array_equal(other.train_rows_, [1, 2, 3, 4])
        assert other.n_rows_ == 6 and other.n_updates_ == 3 and other.eta_ == 0.7
        assert torch.equal(other.cumulative_losses_, cb.cumulative_losses_)
        expected = np.exp(-0.7 * L) / np.exp(-0.7 * L).sum()
        np.testing.assert_allclose(other.probabilities_.numpy(), expected, rtol=1e-12)
        # and the weights batches use (p * n, float32) follow them
        np.testing.assert_allclose(other.batch_weights_.numpy(), 4 * expected, rtol=1e-6)

    @pytest.mark.parametrize("empty", [{}, "unfitted"])
    def test_empty_state_never_wipes_weights(self, empty):
        # {} is what an unfitted callback saved before states had a kind
        empty = MultiplicativeReweighting().initialize().state_dict() \
            if empty == "unfitted" else empty
        unbound = MultiplicativeReweighting().initialize()
        unbound.load_state_dict(empty)
        assert unbound.train_rows_ is None and unbound.probabilities_ is None
        # non-uniform weights, loaded so that every part of the state agrees
        L = np.array([0.0, 1.0, 2.0, 3.0])
        source = bound(MultiplicativeReweighting())
        source.cumulative_losses_ = torch.tensor(L, dtype=torch.float64)
        source.eta_ = 1.0
        cb = MultiplicativeReweighting().initialize()
        cb.load_state_dict(source.state_dict())
        expected = np.exp(-L) / np.exp(-L).sum()
        np.testing.assert_allclose(cb.batch_weights_.numpy(), 4 * expected, rtol=1e-6)
        with pytest.raises(ValueError, match="holds no weights"):
            cb.load_state_dict(empty)
        # the weights, the losses they come from and the weights batches use
        np.testing.assert_allclose(cb.probabilities_.numpy(), expected, rtol=1e-12)
        np.testing.assert_array_equal(cb.cumulative_losses_.numpy(), L)
        np.testing.assert_allclose(cb.batch_weights_.numpy(), 4 * expected, rtol=1e-6)
        np.testing.assert_array_equal(cb.train_rows_, [1, 2, 3, 4])


class TestRandomReweighting:
    def test_draws_rectified_gaussian_without_global_rng(self):
        cb = bound(RandomReweighting(random_state=0), n_train=2000, n_rows=2000)
        state = torch.get_rng_state().clone()
        np_state = np.random.get_state()[1].copy()
        cb.on_epoch_begin(types.SimpleNamespace(device="cpu", _mr_device=lambda: "cpu"))
        assert torch.equal(torch.get_rng_state(), state)
        np.testing.assert_array_equal(np.random.get_state()[1], np_state)
        p = cb.probabilities_.numpy()
        assert p.sum() == pytest.approx(1.0)
        assert 0.45 < np.mean(p == 0) < 0.55


class TestMemory:
    @pytest.mark.parametrize("loss_pass, expected", [("full", 8 + 4 + 4),
                                                    ("online", 8 + 4 + 4 + 4 + 1)])
    def test_state_is_at_most_24_bytes_per_example(self, small_digits, loss_pass, expected):
        from skorch.dataset import ValidSplit
        from sk_mr import MRClassifier
        from conftest import TinyMLP
        X, y = small_digits
        net = MRClassifier(TinyMLP, max_epochs=1, train_split=ValidSplit(5), verbose=0,
                           loss_pass=loss_pass, eta=0.01).fit(X, y)
        n_train = len(net.mr_.train_rows_)
        # cumulative losses (float64), batch weights (float32), rows (int32);
        # online: the epoch's losses (float32) and whether each was seen
        assert net.mr_.state_nbytes() == expected * n_train
        assert expected <= 24
        # the float64 weights are still exact: computed from L and eta (in
        # units of the criterion's loss: eta / loss_unit multiplies L)
        L = net.mr_.cumulative_losses_
        p = torch.softmax(-(net.eta / net.loss_unit()) * L, 0)
        torch.testing.assert_close(net.mr_.probabilities_, p, rtol=1e-12, atol=0)

    def test_state_saved_before_eta_was_kept_loads(self):
        cb = bound(MultiplicativeReweighting())
        cb.cumulative_losses_ = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
        cb.eta_ = 0.7
        state = cb.state_dict()
        del state["eta"]  # what an older version saved
        other = MultiplicativeReweighting().initialize()
        other.load_state_dict(state)
        # eta recovered from the saved weights: softmax(-0.7 L), by hand
        assert other.eta_ == pytest.approx(0.7, rel=1e-12)
        L = np.array([0.0, 1.0, 2.0, 3.0])
        expected = np.exp(-0.7 * L) / np.exp(-0.7 * L).sum()
        np.testing.assert_allclose(other.probabilities_.numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(other.batch_weights_.numpy(), 4 * expected, rtol=1e-6)


class PublicNet:
    """A stand-in for the net with only what the callback contract offers: any
    other attribute (a private one, say) raises AttributeError."""

    __slots__ = ("history", "max_epochs", "losses", "calls")

    def __init__(self, losses):
        self.history = History()
        self.max_epochs = 1
        self.losses = losses
        self.calls = []

    def example_losses(self, dataset, recorded=None):
        self.calls.append(recorded)
        return self.losses

    def loss_unit(self):
        return 1.0

    def chance_loss(self):
        return None


class TestContract:
    @pytest.mark.parametrize("loss_pass", ["full", "online"])
    def test_an_update_uses_only_the_public_contract(self, loss_pass):
        L = torch.tensor([0.5, 2.0, 1.0], dtype=torch.float64)
        net = PublicNet(L)
        cb = MultiplicativeReweighting().initialize()
        cb.bind(net, np.arange(3), 3,
                settings=ReweightingSettings(eta=0.7, loss_pass=loss_pass))
        cb.on_train_begin(net)
        net.history.new_epoch()
        cb.on_epoch_begin(net, dataset_train="train")
        positions = torch.tensor([2, 0, 1])
        cb.record_batch_losses(net, positions, L[positions].float())
        cb.on_epoch_end(net, dataset_train="train")
        # the full pass asks for a pass; the online one hands over what it recorded
        [recorded] = net.calls
        if loss_pass == "full":
            assert recorded is None
        else:
            np.testing.assert_array_equal(recorded[0].numpy(), L.float().numpy())
            assert recorded[1].all()
        expected = np.exp(-0.7 * L.numpy()) / np.exp(-0.7 * L.numpy()).sum()
        np.testing.assert_allclose(cb.row_weights(), expected, rtol=1e-12)
        np.testing.assert_array_equal(cb.row_cumulative_losses(), L.numpy())
        assert net.history[-1, "mr_eta"] == 0.7


def _frozen_able_rule(fraction):
    """eta='auto''s rule with M = ``fraction`` of 100 examples (three updates
    with that fraction above chance)."""
    from sk_mr.mw import AutoEta

    n_misfit = round(100 * fraction)
    losses = torch.cat([torch.full((100 - n_misfit,), 0.1), torch.full((n_misfit,), 4.0)])
    rule = AutoEta(confident_ratio=None)
    for t in range(1, 4):
        rule.step(losses, t * losses, t, n_epochs=20, chance_loss=math.log(10))
    assert rule.counted_misfit() == pytest.approx(fraction)
    return rule


class TestLabelCorrection:
    """relabel='auto': the gate, the corrected targets and what MR records."""

    def _net(self, agreeing, mixup_alpha=0.0, **kwargs):
        from skorch.dataset import Dataset

        from sk_mr import MRClassifier

        # 8 examples; the module predicts class 0 for every one, so the
        # given labels agree on ``agreeing`` of them
        net = MRClassifier(torch.nn.Linear, module__in_features=2, module__out_features=3,
                           mixup_alpha=mixup_alpha, **kwargs).initialize()
        with torch.no_grad():
            net.module_.weight.zero_()
            net.module_.bias.copy_(torch.tensor([2.0, 0.0, 0.0]))
        X = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
        y = torch.tensor([0] * agreeing + [1] * (8 - agreeing))
        cb = net.mr_
        cb.bind(net, np.arange(8), 8, settings=ReweightingSettings(
            loss_pass="online", eta="auto", relabel=net._relabel_setting(),
            fallback_loss=net._fallback_setting()))
        cb.eta_rule_ = _frozen_able_rule(0.25)
        cb.dataset_train_ = Dataset(X.numpy(), y.numpy())
        # the batch is examples 4-6 (labelled 1, predicted 0): MR trusts
        # example 6 fully (twice uniform), 5 half, 4 not at all
        cb.eta_ = 0.5
        cb.batch_weights_ = torch.tensor([1.0, 1.0, 1.0, 1.5, 0.0, 0.5, 2.0, 1.0])
        net.batch_positions_ = torch.arange(4, 7)
        return net, X[4:7], y[4:7]

    @pytest.mark.parametrize("agreeing, opens", [(3, False), (4, True)])
    def test_the_gate_decides_once_by_hand(self, agreeing, opens):
        # M = 0.25 keeps 6 of 8: the ratio is (agreeing / 8) / 0.75, 0.5 or
        # 0.667, against the gate 0.62 (what follows a closed gate with
        # the default fallback_loss: TestFallbackLoss)
        net, X, batch = self._net(agreeing, fallback_loss=None)
        cb = net.mr_
        state = torch.get_rng_state()
        targets = cb.correct_targets(net, X, batch)
        assert torch.equal(torch.get_rng_state(), state)  # the pass draws nothing
        assert cb.relabel_ratio_ == pytest.approx((agreeing / 8) / 0.75)
        assert cb.relabeling_ is opens
        assert cb.eta_rule_.frozen_misfit_ == (pytest.approx(0.25) if opens else None)
        if not opens:  # MR as before: labels, MR's weights, the net's mixup
            assert targets is batch
            assert torch.equal(cb.batch_weights(net.batch_positions_),
                               torch.tensor([0.0, 0.5, 2.0]))
            assert cb.batch_mixup_alpha(net) == 0.0
        # decided once: a later batch does not measure again, even where
        # the labels would now read differently
        from skorch.dataset import Dataset

        ratio = cb.relabel_ratio_
        cb.dataset_train_ = Dataset(cb.dataset_train_.X, torch.zeros(8, dtype=torch.long))
        cb.correct_targets(net, X, batch)
        assert cb.relabel_ratio_ == ratio and cb.relabeling_ is opens
        assert cb.initialize().relabel_ratio_ is None  # a new fit decides again

    @pytest.mark.parametrize("updates, late", [(1, False), (2, True)])
    def test_a_late_gate_is_read_saved_and_sets_the_late_mixup(self, updates, late):
        # 4 planned updates of one batch each: a gate read at update 2 is at
        # the deadline (half), at update 1 before it. relabel_late_mixup_alpha
        # (0 by default) replaces relabel_mixup_alpha after a late gate only,
        # never on a standing pairflip latch nor over the net's own mixup_alpha
        net, X, batch = self._net(4, fallback_loss=None)
        cb = net.mr_
        cb.planned_epochs_, cb.n_updates_ = 4, updates
        assert cb.settings_.updates_per_epoch == 1
        cb.correct_targets(net, X, batch)
        assert cb.relabeling_ and cb.late_gate_ is late
        assert cb.batch_mixup_alpha(net) == (0.0 if late else 1.0)
        cb.relabel_late_mixup_alpha = 0.25
        assert cb.batch_mixup_alpha(net) == (0.25 if late else 1.0)
        cb.relabel_late_mixup_alpha = None  # the default before it
        assert cb.batch_mixup_alpha(net) == 1.0
        cb.relabel_late_mixup_alpha = 0.0
        cb.eta_rule_.pairflip_, cb.eta_rule_.provisional_ = True, False
        assert cb.batch_mixup_alpha(net) == 32.0
        cb.eta_rule_.pairflip_ = False
        assert cb.batch_mixup_alpha(net.set_params(mixup_alpha=0.3)) == 0.3
        state = cb.state_dict()
        assert int(state["late_gate"]) == late
        loaded = MultiplicativeReweighting().initialize()
        loaded.load_state_dict(state)
        assert loaded.late_gate_ is late
        del state["late_gate"]  # a state saved before late_gate_ existed
        loaded.load_state_dict(state)
        assert loaded.late_gate_ is False
        assert cb.initialize().late_gate_ is False  # a new fit reads again

    @pytest.mark.parametrize("follow", [False, True])
    def test_the_open_gate_freezes_the_rule_following_the_confident_count_or_not(
            self, follow):
        # relabel_follow_confident decides how the gate freezes the rule;
        # the flag goes with the rule's saved state
        net, X, batch = self._net(4, fallback_loss=None)
        cb = net.mr_
        cb.relabel_follow_confident = follow
        cb.correct_targets(net, X, batch)
        rule = cb.eta_rule_
        assert cb.relabeling_ and rule.frozen_misfit_ == pytest.approx(0.25)
        assert rule.follows_confident_ is follow
        rule.pairflip_, rule.max_confident_ = True, 0.4
        assert rule.counted_misfit() == pytest.approx(0.4 if follow else 0.25)
        state = cb.state_dict()
        assert int(state["eta_rule.follows_confident_"]) == int(follow)
        cb.load_state_dict(state)
        assert cb.eta_rule_ is None and bool(cb._rule().follows_confident_) is follow
        assert cb._rule().counted_misfit() == pytest.approx(0.4 if follow else 0.25)

    def test_correction_stops_where_the_net_no_longer_asks_for_it(self):
        # an open gate, then the net's relabel=None (or a float eta): MR's
        # weights, the net's mixup and the labels again, and MR records the
        # training losses; outside fit (no positions) nothing is corrected
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.correct_targets(net, X, y)
        assert cb.relabeling_ and cb.given_losses_ is not None
        cb.settings_ = cb.settings_._replace(relabel=None)
        assert cb.correct_targets(net, X, y) is y and cb.given_losses_ is None
        assert torch.equal(cb.batch_weights(net.batch_positions_),
                           torch.tensor([0.0, 0.5, 2.0]))
        assert cb.batch_mixup_alpha(net) == 0.0
        cb.record_batch_losses(net, net.batch_positions_, torch.full((3,), 7.0))
        assert torch.equal(cb.online_losses_[4:7], torch.full((3,), 7.0))
        cb.settings_ = cb.settings_._replace(relabel="auto")
        net.batch_positions_ = None
        assert cb.correct_targets(net, X, y) is y
        assert cb.batch_mixup_alpha(net) == 0.0

    def test_a_rule_that_has_counted_nothing_does_not_open_the_gate(self):
        # eta was a float until now: the rule made at this batch has no M
        from sk_mr.mw import AutoEta

        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.eta_rule_ = AutoEta()
        assert cb.correct_targets(net, X, y) is y
        assert cb.relabel_ratio_ is None and not cb.relabeling_

    def test_a_train_step_outside_fit_trains_on_the_labels(self, noisy_data, tiny_mlp):
        # an initialized or unpickled net has no batch positions: nothing to
        # correct, weigh or mix, for any MR estimator
        import pickle

        from sk_mr import MRClassifier, MRRegressor

        X, y, _ = noisy_data
        batch = (torch.as_tensor(X[:16]), torch.as_tensor(y[:16]))
        fitted = MRClassifier(tiny_mlp, max_epochs=14, batch_size=16, lr=0.1,
                              train_split=None, verbose=0, random_state=0).fit(X, y)
        assert fitted.mr_.relabeling_
        for net in (MRClassifier(tiny_mlp).initialize(), pickle.loads(pickle.dumps(fitted))):
            assert torch.isfinite(net.train_step(batch)["loss"])
        regressor = MRRegressor(tiny_mlp, module__n_classes=1, eta=0.01, max_epochs=1,
                                train_split=None, verbose=0).fit(X, y[:, None].astype(np.float32))
        copy = pickle.loads(pickle.dumps(regressor))
        assert torch.isfinite(copy.train_step((batch[0], batch[1][:, None].float()))["loss"])

    def test_after_a_load_the_gate_reads_the_restored_rule(self):
        # a load drops the rule object until the next update; the gate due
        # at the next batch must still decide, on the restored M
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        state = {name: getattr(cb.eta_rule_, name) for name in
                 ("n_updates_", "max_misfit_", "max_confident_", "pairflip_")}
        state["pairflip_"] = int(state["pairflip_"])
        state["frozen_misfit_"] = None
        cb.eta_rule_, cb.eta_rule_state_ = None, state
        cb.correct_targets(net, X, y)
        assert cb.relabel_ratio_ == pytest.approx((4 / 8) / 0.75) and cb.relabeling_
        assert cb.eta_rule_.frozen_misfit_ == pytest.approx(0.25)

    def test_corrected_targets_weights_mixup_and_recorded_losses_by_hand(self):
        # towards the argmax (relabel_alignment=None, the default before the
        # aligned classes of the next test)
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.relabel_alignment = None
        targets = cb.correct_targets(net, X, y)
        # t = min(1, N p_i) = 0, 0.5, 1; the labels are 1, the prediction 0
        assert torch.equal(y, torch.ones(3, dtype=torch.long))
        assert torch.allclose(targets, torch.tensor(
            [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]))
        # every example counts once; mixup with alpha 1 where the net has none
        assert torch.equal(cb.batch_weights(net.batch_positions_), torch.ones(3))
        assert cb.batch_mixup_alpha(net) == 1.0
        assert cb.batch_mixup_alpha(net.set_params(mixup_alpha=0.3)) == 0.3
        # MR records the given labels' losses of the eval-mode prediction,
        # whatever the training step computed against the corrected targets
        logits = torch.tensor([2.0, 0.0, 0.0]).expand(3, 3)
        given = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        cb.record_batch_losses(net, net.batch_positions_, torch.full((3,), 99.0))
        assert torch.allclose(cb.online_losses_[4:7], given)

    def test_aligned_correction_by_hand(self):
        # with relabel_alignment (0.9, the default), where the gate opens it
        # reads the training split's label frequencies (4 of 8 labelled 0,
        # 4 labelled 1, none 2) and the mean prediction (softmax(2, 0, 0)
        # for every example)
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        assert cb.relabel_alignment == 0.9
        cb.correct_targets(net, X, y)
        p = np.exp([2.0, 0.0, 0.0]) / np.exp([2.0, 0.0, 0.0]).sum()
        np.testing.assert_allclose(cb.label_frequencies_.numpy(), [0.5, 0.5, 0.0])
        np.testing.assert_allclose(cb.predicted_frequencies_.numpy(), p, rtol=1e-6)
        assert cb.label_frequencies_.dtype == cb.predicted_frequencies_.dtype == torch.float32
        # a running mean that says the network predicts class 0 far more
        # often than it is labelled: the next batch's mean (p) comes in
        # with weight 0.1, and z is the argmax of p * labelled / predicted
        start = np.array([0.95, 0.04, 0.01])
        cb.predicted_frequencies_ = torch.tensor(start, dtype=torch.float32)
        targets = cb.correct_targets(net, X, y)
        running = 0.9 * start + 0.1 * p
        np.testing.assert_allclose(cb.predicted_frequencies_.numpy(), running, rtol=1e-6)
        z = np.argmax(p * np.array([0.5, 0.5, 0.0]) / running)
        assert z == 1  # the argmax alone would be 0
        trust = np.array([0.0, 0.5, 1.0])[:, None]  # min(1, N p_i) of examples 4-6
        expected = trust * np.eye(3)[[1, 1, 1]] + (1 - trust) * np.eye(3)[[z, z, z]]
        np.testing.assert_allclose(targets.numpy(), expected)
        # a class no example is labelled with is never corrected towards
        cb.predicted_frequencies_ = torch.tensor([0.98, 0.01, 1e-9])
        assert torch.equal(cb._corrected_classes(torch.tensor([[0.0, 0.0, 9.0]]),
                                                 torch.tensor([0])), torch.tensor([1]))

    def test_argmax_while_the_latch_is_provisional_or_without_alignment(self):
        # a provisional pairflip latch is tested on the correction it was
        # calibrated on: the argmax, and the running mean does not move
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.relabel_alignment = 0.9
        cb.correct_targets(net, X, y)
        cb.predicted_frequencies_ = torch.tensor([0.95, 0.04, 0.01])
        cb.eta_rule_.provisional_ = True
        argmax = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
        assert torch.allclose(cb.correct_targets(net, X, y), argmax)
        assert torch.equal(cb.predicted_frequencies_, torch.tensor([0.95, 0.04, 0.01]))
        cb.eta_rule_.provisional_ = False
        assert not torch.allclose(cb.correct_targets(net, X, y), argmax)
        # relabel_alignment=None (the default before it): the argmax, and
        # the gate reads no frequencies
        net, X, y = self._net(agreeing=4)
        net.mr_.relabel_alignment = None
        assert torch.allclose(net.mr_.correct_targets(net, X, y), argmax)
        assert net.mr_.label_frequencies_ is None and net.mr_.predicted_frequencies_ is None

    def test_the_frequencies_are_saved_and_checked(self):
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.relabel_alignment = 0.9
        cb.correct_targets(net, X, y)
        state = cb.state_dict()
        assert torch.equal(state["label_frequencies"], cb.label_frequencies_)
        assert torch.equal(state["predicted_frequencies"], cb.predicted_frequencies_)
        loaded = MultiplicativeReweighting().initialize()
        loaded.load_state_dict(state)
        assert torch.equal(loaded.label_frequencies_, cb.label_frequencies_)
        assert torch.equal(loaded.predicted_frequencies_, cb.predicted_frequencies_)
        for key, value, message in (
                ("predicted_frequencies", None, "not a pair"),
                ("predicted_frequencies", torch.tensor([0.5, 0.5]), "not a pair"),
                ("label_frequencies", torch.tensor([0.5, -0.5, 1.0]), "non-negative"),
                ("label_frequencies", torch.ones(3, 1), "not one value per class")):
            altered = dict(state)
            if value is None:
                del altered[key]
            else:
                altered[key] = value
            with pytest.raises(ValueError, match=message):
                loaded.load_state_dict(altered)
            # refused: nothing changed
            assert torch.equal(loaded.label_frequencies_, cb.label_frequencies_)
        # a state saved before them (or before the gate opened): the argmax
        del state["label_frequencies"], state["predicted_frequencies"]
        loaded.load_state_dict(state)
        assert loaded.label_frequencies_ is None and loaded.relabeling_
        assert torch.equal(loaded._corrected_classes(torch.tensor([[2.0, 0.0, 0.0]]),
                                                     torch.tensor([1])), torch.tensor([0]))

    def test_strong_mixup_while_a_pairflip_latch_stands(self):
        # mixup's alpha while correcting: 32 where eta='auto''s pairflip
        # latch stands and is not provisional, 1 otherwise; the net's own
        # alpha wins; off where relabel_pairflip_mixup_alpha is None
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        cb.correct_targets(net, X, y)
        rule = cb.eta_rule_
        for pairflip, provisional, alpha in ((False, False, 1.0), (True, True, 1.0),
                                             (True, False, 32.0)):
            rule.pairflip_, rule.provisional_ = pairflip, provisional
            assert cb.batch_mixup_alpha(net) == alpha, (pairflip, provisional)
        assert cb.batch_mixup_alpha(net.set_params(mixup_alpha=0.3)) == 0.3
        net.set_params(mixup_alpha=0.0)
        cb.relabel_pairflip_mixup_alpha = None
        assert cb.batch_mixup_alpha(net) == 1.0
        cb.relabel_pairflip_mixup_alpha = 32.0
        cb.settings_ = cb.settings_._replace(relabel=None)  # not correcting: the net's
        assert cb.batch_mixup_alpha(net) == 0.0

    def test_recorded_losses_leave_out_the_class_weight(self):
        # under criterion__weight MR accumulates the unweighted loss, as the
        # online pass records it for MR without correction
        net, X, y = self._net(agreeing=4, criterion__weight=torch.tensor([1.0, 3.0, 1.0]))
        cb = net.mr_
        cb.correct_targets(net, X, y)
        logits = torch.tensor([2.0, 0.0, 0.0]).expand(3, 3)
        unweighted = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        assert torch.allclose(cb.given_losses_, unweighted)
        assert not torch.allclose(net.get_example_losses(logits, y), unweighted)

    def test_where_it_applies(self):
        from sk_mr import MRBinaryClassifier, MRClassifier, MRRegressor
        from sk_mr.losses import AutoSymmetricCrossEntropy, GeneralizedCrossEntropy

        def setting(cls=MRClassifier, **kwargs):
            return cls(torch.nn.Linear, module__in_features=2, module__out_features=3,
                       **kwargs).initialize()._relabel_setting()

        assert setting() == "auto"
        assert setting(criterion=AutoSymmetricCrossEntropy) == "auto"
        assert setting(criterion=torch.nn.CrossEntropyLoss) == "auto"
        # the paper's MR (a float eta: no set-aside fraction), relabel=None,
        # and criteria that take no class probabilities: never
        assert setting(criterion=torch.nn.CrossEntropyLoss, eta=0.01) is None
        assert setting(relabel=None) is None
        assert setting(criterion=torch.nn.NLLLoss) is None
        assert setting(criterion=GeneralizedCrossEntropy) is None
        # nor a get_loss of the user's, a second criterion that takes no
        # class probabilities (skorch's own suite has one), adversarial training
        class OwnLoss(MRClassifier):
            def get_loss(self, y_pred, y_true, X=None, training=False):
                return super().get_loss(y_pred, y_true, X=X, training=training)

        class TwoCriteria(MRClassifier):
            def initialize_criterion(self):
                super().initialize_criterion()
                self.criterion2_ = torch.nn.NLLLoss()
                return self

            @property
            def _criteria(self):
                return ["criterion", "criterion2"]

        from sk_mr.adversarial import PGDAdversarialTraining

        assert setting(cls=OwnLoss) is None
        assert setting(cls=TwoCriteria) is None
        assert setting(adversarial=PGDAdversarialTraining(eps=0.1)) is None
        assert MRBinaryClassifier(torch.nn.Linear)._relabel_setting() is None
        assert MRRegressor(torch.nn.Linear)._relabel_setting() is None

        # the fallback follows correction's gate: where it applies, only
        def fallback(cls=MRClassifier, **kwargs):
            return cls(torch.nn.Linear, module__in_features=2, module__out_features=3,
                       fallback_loss="sce", **kwargs).initialize()._fallback_setting()

        assert fallback() == "sce"
        assert fallback(criterion=AutoSymmetricCrossEntropy) == "sce"
        for kwargs in (dict(eta=0.01), dict(relabel=None), dict(criterion=torch.nn.NLLLoss),
                       dict(criterion=GeneralizedCrossEntropy), dict(cls=OwnLoss),
                       dict(cls=TwoCriteria), dict(adversarial=PGDAdversarialTraining(eps=0.1))):
            assert fallback(**kwargs) is None, kwargs
        assert setting(fallback_loss=None) == "auto"
        assert MRClassifier(torch.nn.Linear, module__in_features=2, module__out_features=3,
                            fallback_loss=None).initialize()._fallback_setting() is None
        assert MRBinaryClassifier(torch.nn.Linear)._fallback_setting() is None
        assert MRRegressor(torch.nn.Linear)._fallback_setting() is None

    def test_a_bad_value_is_named(self, noisy_data, tiny_mlp):
        from sk_mr import MRClassifier

        X, y, _ = noisy_data
        net = MRClassifier(tiny_mlp, relabel="yes", max_epochs=1, verbose=0)
        with pytest.raises(ValueError, match="relabel must be 'auto' or None, got 'yes'"):
            net.fit(X, y)
        assert not net.initialized_
        net = MRClassifier(tiny_mlp, fallback_loss="gce", max_epochs=1, verbose=0)
        with pytest.raises(ValueError, match="fallback_loss must be 'sce' or None, got 'gce'"):
            net.fit(X, y)
        assert not net.initialized_


class TestFallbackLoss:
    """fallback_loss='sce': what follows a closed gate, by hand (a fit:
    test_auto_eta_net.py; against the lead: test_auto_eta_leads.py)."""

    _net = TestLabelCorrection._net

    @staticmethod
    def _sce_by_hand(logits, y, weight=None):
        # Wang et al.'s SCE at alpha 0.1, beta 1, A -4, mean over the batch
        # (class-weighted: divided by the weights of the labels)
        p = torch.softmax(logits.double(), 1)
        ce = -torch.log(p[torch.arange(len(y)), y])
        rce = 4.0 * (1.0 - p[torch.arange(len(y)), y])
        w = torch.ones(len(y), dtype=torch.float64) if weight is None else weight.double()[y]
        return float(((0.1 * ce + rce) * w).sum() / w.sum())

    def test_a_closed_gate_trains_on_sce_with_every_example_once(self):
        # 3 of 8 agree: the ratio is 0.5 < 0.62, the gate closes
        net, X, y = self._net(agreeing=3, fallback_loss="sce")
        cb = net.mr_
        assert cb.correct_targets(net, X, y) is y
        assert not cb.relabeling_ and cb.falling_back_
        assert cb.eta_rule_.frozen_misfit_ is None  # nothing to freeze: MR steps back
        assert torch.equal(cb.batch_weights(net.batch_positions_), torch.ones(3))
        assert cb.batch_loss(net) == "sce" and cb.batch_mixup_alpha(net) == 0.0
        logits = torch.tensor([[2.0, 0.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.0, 3.0]])
        loss = net.get_loss(logits, y, training=True)
        assert float(loss) == pytest.approx(self._sce_by_hand(logits, y), rel=1e-6)
        # the training step's loss: uniform weights, the same mean
        assert float(net.training_loss(logits, y)) == pytest.approx(float(loss), rel=1e-6)
        # validation and the loss pass stay on the criterion (cross-entropy)
        ce = torch.nn.functional.cross_entropy(logits, y)
        assert float(net.get_loss(logits, y, training=False)) == pytest.approx(float(ce))

    def test_mr_stays_where_the_gate_found_it(self):
        net, X, y = self._net(agreeing=3, fallback_loss="sce")
        cb = net.mr_
        cb.correct_targets(net, X, y)
        before = cb.batch_weights_.clone(), cb.cumulative_losses_.clone(), cb.n_updates_
        cb.record_batch_losses(net, net.batch_positions_, torch.full((3,), 7.0))
        assert cb.online_losses_ is None  # nothing recorded
        net.history.new_epoch()
        cb.on_epoch_end(net, dataset_train=cb.dataset_train_)
        assert torch.equal(cb.batch_weights_, before[0])
        assert torch.equal(cb.cumulative_losses_, before[1]) and cb.n_updates_ == before[2]
        assert net.history[-1, "mr_eta"] == cb.eta_  # the history repeats it
        assert net.history[-1, "mr_ess"] == pytest.approx(
            float(1 / (cb.probabilities_ ** 2).sum()))

    def test_the_sce_takes_the_criterions_class_weight(self):
        weight = torch.tensor([1.0, 3.0, 0.5])
        net, X, y = self._net(agreeing=3, fallback_loss="sce", criterion__weight=weight)
        net.mr_.correct_targets(net, X, y)
        logits = torch.tensor([[2.0, 0.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.0, 3.0]])
        y = torch.tensor([1, 2, 0])
        assert float(net.get_loss(logits, y, training=True)) == pytest.approx(
            self._sce_by_hand(logits, y, weight), rel=1e-6)

    def test_the_sce_takes_label_smoothing_and_ignore_index(self):
        net, X, y = self._net(agreeing=3, fallback_loss="sce", criterion__label_smoothing=0.1,
                              criterion__ignore_index=2)
        net.mr_.correct_targets(net, X, y)
        logits = torch.tensor([[2.0, 0.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.0, 3.0]])
        y = torch.tensor([1, 2, 0])  # the second is ignored
        ce = torch.nn.functional.cross_entropy(logits, y, ignore_index=2, label_smoothing=0.1,
                                               reduction="none")
        p_y = torch.softmax(logits, 1)[[0, 2], [1, 0]]
        expected = (0.1 * ce[[0, 2]] + 4.0 * (1 - p_y)).sum() / 2
        assert float(net.get_loss(logits, y, training=True)) == pytest.approx(
            float(expected), rel=1e-6)

    def test_no_reading_no_fallback(self):
        # a module without class probabilities: the gate reads NaN, decides
        # nothing, and MR goes on
        net, X, y = self._net(agreeing=3, fallback_loss="sce")
        net.label_agreement_fraction = lambda dataset: None
        cb = net.mr_
        cb.correct_targets(net, X, y)
        assert math.isnan(cb.relabel_ratio_) and not cb.falling_back_
        assert cb.batch_loss(net) is None

    def test_a_compiled_criterion_is_judged_by_what_it_wraps(self):
        from sk_mr import MRClassifier

        net = MRClassifier(torch.nn.Linear, module__in_features=2, module__out_features=3,
                           compile=True, compile__backend="eager").initialize()
        assert type(net.criterion_).__name__ == "OptimizedModule"
        assert net._relabel_setting() == "auto" and net._fallback_setting() == "sce"

    def test_an_sce_criterion_is_used_as_it_is(self):
        from sk_mr.losses import AutoSymmetricCrossEntropy

        net, X, y = self._net(agreeing=3, fallback_loss="sce",
                              criterion=AutoSymmetricCrossEntropy, criterion__alpha=1.0)
        net.mr_.correct_targets(net, X, y)
        logits = torch.tensor([[2.0, 0.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.0, 3.0]])
        expected = AutoSymmetricCrossEntropy(alpha=1.0)(logits, y)
        assert torch.equal(net.get_loss(logits, y, training=True), expected)

    def test_without_it_a_closed_gate_keeps_mr(self):
        net, X, y = self._net(agreeing=3, fallback_loss=None)
        cb = net.mr_
        cb.correct_targets(net, X, y)
        assert cb.relabel_ratio_ == pytest.approx(0.5) and not cb.falling_back_
        assert torch.equal(cb.batch_weights(net.batch_positions_), torch.tensor([0.0, 0.5, 2.0]))
        assert cb.batch_loss(net) is None

    def test_an_open_gate_corrects_and_never_falls_back(self):
        net, X, y = self._net(agreeing=4, fallback_loss="sce")
        cb = net.mr_
        cb.correct_targets(net, X, y)
        assert cb.relabeling_ and not cb.falling_back_ and cb.batch_loss(net) is None

    def test_the_fallback_stops_where_the_net_no_longer_asks_for_it(self):
        net, X, y = self._net(agreeing=3, fallback_loss="sce")
        cb = net.mr_
        cb.correct_targets(net, X, y)
        cb.settings_ = cb.settings_._replace(fallback_loss=None)
        # the gate's decision stands; the net no longer asks for it
        assert cb.falling_back_ and cb.batch_loss(net) is None
        assert torch.equal(cb.batch_weights(net.batch_positions_), torch.tensor([0.0, 0.5, 2.0]))
        cb.record_batch_losses(net, net.batch_positions_, torch.full((3,), 7.0))
        assert torch.equal(cb.online_losses_[4:7], torch.full((3,), 7.0))
        # outside fit (no positions) the batch trains on the criterion
        cb.settings_ = cb.settings_._replace(fallback_loss="sce")
        net.batch_positions_ = None
        assert cb.batch_loss(net) is None
        logits = torch.tensor([[2.0, 0.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.0, 3.0]])
        assert torch.equal(net.get_loss(logits, y, training=True),
                           torch.nn.functional.cross_entropy(logits, y))

    def test_a_retracted_latch_stops_correction_and_is_saved(self):
        # an open gate (4 of 8 agree), then the rule retracts the latch it
        # rested on (AutoEta.step with probation): MR alone from the update on
        net, X, y = self._net(agreeing=4)
        cb = net.mr_
        assert cb.correct_targets(net, X, y) is not y and cb.relabeling_
        cb.eta_rule_.retracted_ = True
        state = cb.state_dict()
        assert int(state["eta_rule.retracted_"]) == 1
        loaded = MultiplicativeReweighting().initialize()
        loaded.load_state_dict(state)
        assert loaded.relabel_ratio_ == pytest.approx(0.5 / 0.75) and not loaded.relabeling_
        del state["eta_rule.retracted_"]  # a state saved before the probation
        loaded.load_state_dict(state)
        assert loaded.relabeling_
        cb.online_losses_ = torch.full((8,), 0.5, dtype=torch.float64)
        cb.online_seen_ = torch.ones(8, dtype=torch.bool)
        net.history.new_epoch()
        with warnings.catch_warnings():
            # this bare Linear net has no chance loss: the rule is not stepped,
            # only its retraction read
            warnings.simplefilter("ignore", MRParameterWarning)
            cb.on_epoch_end(net, dataset_train=cb.dataset_train_)
        assert not cb.relabeling_ and cb.correct_targets(net, X, y) is y
        assert torch.equal(cb.batch_weights(net.batch_positions_),
                           cb.batch_weights_[net.batch_positions_])

    def test_a_saved_state_keeps_the_decision(self):
        # the decision is saved: read on a loaded callback before any fit,
        # and a gate that closed without the fallback does not fall back
        # when resumed in a net that asks for it
        for fallback_loss in ("sce", None):
            net, X, y = self._net(agreeing=3, fallback_loss=fallback_loss)
            cb = net.mr_
            cb.correct_targets(net, X, y)
            state = cb.state_dict()
            assert int(state["fallback"]) == (fallback_loss is not None)
            loaded = MultiplicativeReweighting().initialize()
            loaded.load_state_dict(state)
            assert loaded.relabel_ratio_ == pytest.approx(0.5)
            assert loaded.falling_back_ is (fallback_loss is not None)
        # a state saved before the fallback existed: none
        del state["fallback"]
        loaded.load_state_dict(state)
        assert not loaded.falling_back_


class TestProbationBand:
    """Which rules get MultiplicativeReweighting.relabel_probation."""

    def _callback(self, relabel="auto", ratio=None, relabeling=False):
        cb = MultiplicativeReweighting().initialize()
        cb.settings_ = ReweightingSettings(eta="auto", relabel=relabel)
        cb.relabel_ratio_, cb.relabeling_ = ratio, relabeling
        return cb

    def test_only_where_correction_can_test_a_latch(self):
        from sk_mr.mw import AutoEta

        rule = AutoEta()
        assert self._callback()._probation_applies(rule)  # before the gate
        assert self._callback(ratio=0.8, relabeling=True)._probation_applies(rule)
        # a closed gate (with fallback_loss=None the rule goes on): nothing
        # would test a loose latch; without correction neither
        assert not self._callback(ratio=0.5)._probation_applies(rule)
        assert not self._callback(relabel=None)._probation_applies(rule)

    def test_a_rule_whose_step_does_not_take_it_is_not_given_it(self):
        from sk_mr.mw import AutoEta

        class OwnStep(AutoEta):
            def step(self, losses, cumulative_losses, completed_epochs=None, n_epochs=None,
                     updates_per_epoch=1, *, chance_loss, confident_misfit=None):
                return super().step(losses, cumulative_losses, completed_epochs, n_epochs,
                                    updates_per_epoch, chance_loss=chance_loss,
                                    confident_misfit=confident_misfit)

        class PassesItOn(AutoEta):
            def step(self, *args, **kwargs):
                return super().step(*args, **kwargs)

        cb = self._callback()
        assert not cb._probation_applies(OwnStep())
        assert cb._probation_applies(PassesItOn())
        assert not cb._probation_applies(types.SimpleNamespace(step=lambda **kw: 0.0))
        off = self._callback()
        off.relabel_probation = None
        assert not off._probation_applies(AutoEta())

    @pytest.mark.parametrize("hold", [None, 0.85])
    def test_the_hold_reaches_a_rule_that_takes_it(self, noisy_data, tiny_mlp, hold):
        # in a real fit: relabel_probation_hold goes with the band to a rule
        # whose step takes it, and not to one whose step takes the band only
        from sk_mr import MRClassifier
        from sk_mr.mw import AutoEta

        class Recording(AutoEta):
            def step(self, *args, **kwargs):
                self.calls_ = getattr(self, "calls_", []) + [
                    (kwargs.get("probation"), kwargs.get("probation_hold", "absent"))]
                self.deadlines_ = getattr(self, "deadlines_", []) + [
                    kwargs.get("probation_deadline", "absent")]
                return super().step(*args, **kwargs)

        class BandOnly(AutoEta):
            def step(self, losses, cumulative_losses, completed_epochs=None, n_epochs=None,
                     updates_per_epoch=1, *, chance_loss, confident_misfit=None,
                     probation=None):
                self.bands_ = getattr(self, "bands_", []) + [probation]
                return super().step(losses, cumulative_losses, completed_epochs, n_epochs,
                                    updates_per_epoch, chance_loss=chance_loss,
                                    confident_misfit=confident_misfit, probation=probation)

        class Holding(MultiplicativeReweighting):
            relabel_probation_hold = hold
            # the deadline goes with the hold
            relabel_probation_deadline = None if hold is None else 0.5

        X, y, _ = noisy_data
        params = dict(module=tiny_mlp, max_epochs=3, lr=0.1, batch_size=32,
                      train_split=None, verbose=0, random_state=0)
        net = MRClassifier(eta=Recording(), callbacks__reweighting=Holding(), **params).fit(X, y)
        band = MultiplicativeReweighting.relabel_probation
        expected = "absent" if hold is None else hold
        assert net.mr_.eta_rule_.calls_ == [(band, expected)] * 3
        assert net.mr_.eta_rule_.deadlines_ == ["absent" if hold is None else 0.5] * 3
        net = MRClassifier(eta=BandOnly(), callbacks__reweighting=Holding(), **params).fit(X, y)
        assert net.mr_.eta_rule_.bands_ == [band] * 3


class TestGateWait:
    """The gate waits for eta='auto''s confident count where it has begun."""

    @staticmethod
    def _waits(n_updates, readings, left_uniform_at=5, planned=20, max_confident=0.0,
               max_loose=0.0, wait=MultiplicativeReweighting.relabel_gate_wait):
        from sk_mr.mw import AutoEta

        cb = MultiplicativeReweighting().initialize()
        cb.relabel_gate_wait = wait
        cb.settings_ = ReweightingSettings(eta="auto", relabel="auto")
        cb.n_updates_, cb.planned_epochs_ = n_updates, planned
        rule = AutoEta()
        rule.n_updates_ = n_updates
        # the weights left uniform after update ``left_uniform_at``
        rule.etas_ = [0.0] * (left_uniform_at - 1) + [0.2] * (n_updates - left_uniform_at + 1)
        rule.confident_fractions_ = list(readings)
        rule.max_confident_, rule.max_loose_ = max_confident, max_loose
        return cb._gate_waits(rule)

    def test_by_hand(self):
        assert MultiplicativeReweighting.relabel_gate_wait == 3
        assert MultiplicativeReweighting.relabel_gate_deadline == 0.5
        begun = [None] * 5 + [0.3]
        assert self._waits(6, begun)  # read at the last update, not settled
        assert self._waits(7, begun + [0.28])
        assert not self._waits(8, begun + [0.28, 0.27])  # 3 updates after: decides
        assert not self._waits(6, [None] * 6)  # not read: decides at once
        assert not self._waits(7, begun + [None])  # no longer read
        assert not self._waits(6, begun, max_confident=0.3)  # settled
        assert not self._waits(6, begun, max_loose=0.3)  # settled on probation
        # from half the planned updates on, correction needs the rest
        assert not self._waits(10, [None] * 9 + [0.3], left_uniform_at=9)
        assert self._waits(9, [None] * 8 + [0.3], left_uniform_at=9)
        assert not self._waits(6, begun, wait=None) and not self._waits(6, begun, wait=0)
        assert not self._waits(6, begun, left_uniform_at=7)  # still uniform: never due

    def test_a_pairflip_count_that_settles_during_the_wait_is_frozen(self, digits):
        # digits with 30% pairflip labels: the confident count is first read
        # at update 5, where the weights leave uniform on M alone (0.12);
        # waiting, the gate freezes the pairflip count, which settles two
        # updates later near the noise rate (without the wait: M, as
        # eta='auto''s benchmark lead K1 did on two seeds of three)
        from sk_mr import MRClassifier
        from sk_mr.models import MLP
        from sk_mr.noise import add_label_noise

        class NoWait(MultiplicativeReweighting):
            relabel_gate_wait = None

        X, y = digits
        y_noisy, _ = add_label_noise(y, 0.3, kind="pairflip", random_state=0)
        params = dict(module=MLP, module__in_features=64, module__n_classes=10,
                      max_epochs=16, lr=0.05, optimizer=torch.optim.SGD,
                      optimizer__momentum=0.9, batch_size=128, train_split=None, verbose=0,
                      random_state=0)
        waited = MRClassifier(**params).fit(X, y_noisy)
        at_once = MRClassifier(callbacks__reweighting=NoWait(), **params).fit(X, y_noisy)
        rule, once = waited.mr_.eta_rule_, at_once.mr_.eta_rule_
        first = next(i for i, eta in enumerate(once.etas_) if eta > 0)
        assert once.confident_fractions_[first] is not None  # begun, not settled
        assert once.frozen_misfit_ == once.misfit_at_freeze_  # M alone
        assert rule.frozen_misfit_ == rule.confident_at_freeze_  # the pairflip count
        assert rule.confident_at_freeze_ > 2 * rule.misfit_at_freeze_
        assert 0.24 < rule.frozen_misfit_ < 0.3 and once.frozen_misfit_ < 0.15
        assert waited.mr_.relabeling_ and at_once.mr_.relabeling_
