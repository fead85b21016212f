"""eta='auto' inside the estimator: what AutoEta is fed, and that it resumes.

The rule itself is tested against hand computations in test_mw_auto_eta.py;
here the net's side of the contract is pinned with independent computations.
"""

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Checkpoint, LoadInitState

from sk_mr import MRClassifier


def _net(tiny_mlp, **kwargs):
    params = dict(module=tiny_mlp, max_epochs=3, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, eta="auto", random_state=0)
    params.update(kwargs)
    return MRClassifier(**params)


class TestWhatTheRuleSees:
    def test_misfit_fraction_is_of_the_updates_losses(self, noisy_data, tiny_mlp):
        # full pass: the last update's losses are the final parameters'
        # per-example cross-entropies, recomputed here independently
        X, y, _ = noisy_data
        net = _net(tiny_mlp, loss_pass="full").fit(X, y)
        with torch.no_grad():
            losses = torch.nn.functional.cross_entropy(
                net.forward(X), torch.as_tensor(y), reduction="none").double()
        rule = net.mr_.eta_rule_
        expected = float((losses > math.log(10)).double().mean())
        assert rule.misfit_fractions_[-1] == pytest.approx(expected, abs=1e-12)
        # and not the cumulative losses' (their mean over updates differs)
        mean_cumulative = torch.as_tensor(net.cumulative_losses_) / 3
        assert float((mean_cumulative > math.log(10)).double().mean()) != pytest.approx(
            expected)

    @pytest.mark.parametrize("loss_pass", ["full", "online"])
    def test_confident_fraction_is_of_the_final_predictions(self, small_digits, tiny_mlp,
                                                            loss_pass):
        # once half the examples are fitted, the rule gets the confident
        # count of the network's eval-mode predictions at the update: the
        # last one's are predict_proba's after the fit, counted here by a loop
        from sk_mr.noise import add_label_noise

        X, y = small_digits
        y, _ = add_label_noise(y, 0.2, kind="pairflip", random_state=0)
        # (fallback_loss=None: where the gate closes MR keeps stepping the
        # rule; average_weights=None: the fitted network is the last
        # update's, not the mean of the last steps, which replaces it after)
        net = _net(tiny_mlp, loss_pass=loss_pass, max_epochs=10, lr=1.0,
                   fallback_loss=None, average_weights=None).fit(X, y)
        rule = net.mr_.eta_rule_
        fractions = rule.confident_fractions_
        assert fractions[0] is None and fractions[-1] is not None  # the gate opened
        probabilities = net.predict_proba(X)
        thresholds = [probabilities[y == j, j].mean() for j in range(10)]
        top = probabilities.argmax(1)
        counted = [top[i] != y[i] and probabilities[i, top[i]] >= thresholds[top[i]]
                   for i in range(len(y))]
        assert fractions[-1] == pytest.approx(np.mean(counted), abs=1e-12)
        assert 0 < fractions[-1] < 1

    def test_no_class_probabilities_no_confident_count(self, noisy_data, tiny_mlp):
        # one logit and float targets (MRBinaryClassifier): no class indices,
        # no count; the rule then runs on the ln K count alone
        from sk_mr import MRBinaryClassifier

        X, y, _ = noisy_data
        net = MRBinaryClassifier(tiny_mlp, module__n_classes=1, max_epochs=2, lr=0.1,
                                 train_split=None, verbose=0, random_state=0,
                                 eta="auto").fit(X, (y % 2).astype(np.float32))
        assert net.confident_misfit_fraction(
            net.get_dataset(X, (y % 2).astype(np.float32))) is None

    def test_updates_per_epoch_count_in_progress(self, noisy_data, tiny_mlp):
        X, y, _ = noisy_data
        net = _net(tiny_mlp, max_epochs=2, updates_per_epoch=2).fit(X, y)
        rule = net.mr_.eta_rule_
        assert rule.n_updates_ == 4 and len(rule.etas_) == 4
        # every update's eta is in the history, in cross-entropy units
        etas = [e for row in net.history for e in
                ([row["mr_eta"]] if "mr_eta" in row else [])]
        assert etas[-1] == pytest.approx(rule.etas_[-1])

    def test_rule_replayed_from_each_updates_parameters(self, noisy_data, tiny_mlp):
        # The estimator's side of the contract, replayed by hand: at every
        # update (two an epoch) the rule gets the eval-mode losses of the
        # parameters at that update, their running sum, the fit's 6 planned
        # epochs and updates_per_epoch=2 (the progress of update t is t / 12),
        # and it starts from M = 0 even when the template given as eta was
        # stepped before. ramp_fraction=1: every eta but the last depends on
        # the progress; window=2, stability=0.5: windows settle in 6 epochs.
        from skorch.callbacks import Callback

        from sk_mr.mw import AutoEta

        class ParametersAtUpdates(Callback):
            # runs after the net's reweighting callback: sees each update's parameters
            def initialize(self):
                self.states_ = []
                return self

            def on_batch_end(self, net, training=None, **kwargs):
                self._record(net)

            def on_epoch_end(self, net, **kwargs):
                self._record(net)

            def _record(self, net):
                if net.mr_.n_updates_ > len(self.states_):
                    self.states_.append({k: v.clone()
                                         for k, v in net.module_.state_dict().items()})

        def fresh_rule():
            return AutoEta(ramp_fraction=1.0, confident_ratio=None, window=2, stability=0.5)

        X, y, _ = noisy_data
        template = fresh_rule()
        # a stepped template: M = 0.5 (half the examples far above ln 10)
        stepped = torch.cat([torch.full((50,), 0.01), torch.full((50,), 5.0)]).double()
        for t in range(1, 4):
            template.step(stepped, t * stepped, n_epochs=3, chance_loss=math.log(10))
        assert template.max_misfit_ == 0.5 and template.n_updates_ == 3
        seen = ParametersAtUpdates()
        net = _net(tiny_mlp, eta=template, criterion=torch.nn.CrossEntropyLoss, relabel=None,
                   fallback_loss=None, loss_pass="full", updates_per_epoch=2, max_epochs=6,
                   lr=1.0, callbacks=[seen]).fit(X, y)
        rule = net.mr_.eta_rule_
        assert rule.n_updates_ == 12 and len(seen.states_) == 12
        assert template.n_updates_ == 3  # the estimator parameter is left as it was

        def replay(updates_per_epoch):
            by_hand, module = fresh_rule(), tiny_mlp()
            cumulative = torch.zeros(len(X), dtype=torch.float64)
            for state in seen.states_:
                module.load_state_dict(state)
                module.eval()
                with torch.no_grad():
                    losses = torch.nn.functional.cross_entropy(
                        module(torch.as_tensor(X)), torch.as_tensor(y),
                        reduction="none").double()
                cumulative = cumulative + losses
                by_hand.step(losses, cumulative, n_epochs=6,
                             updates_per_epoch=updates_per_epoch, chance_loss=math.log(10))
            return by_hand

        by_hand = replay(updates_per_epoch=2)
        np.testing.assert_allclose(rule.misfit_fractions_, by_hand.misfit_fractions_,
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(rule.kl_targets_, by_hand.kl_targets_, rtol=1e-12)
        np.testing.assert_allclose(rule.etas_, by_hand.etas_, rtol=1e-6)
        # M started at 0: no budget before a window has settled
        assert rule.kl_targets_[0] == 0.0 and rule.etas_[0] == 0.0
        # the history keeps each epoch's last update's eta (cross-entropy: unit 1)
        np.testing.assert_allclose(net.history[:, "mr_eta"], by_hand.etas_[1::2], rtol=1e-6)
        # the replay can tell: some budget was set during the ramp, where a
        # progress counted per epoch (t / 6) would have given other etas
        assert any(b > 0 for b in by_hand.kl_targets_[:-1])
        per_epoch = replay(updates_per_epoch=1)
        assert not np.allclose(rule.etas_, per_epoch.etas_, rtol=1e-3)
        # and a second, cold fit starts the rule over: the same 12 updates
        np.testing.assert_array_equal(net.fit(X, y).mr_.eta_rule_.etas_, rule.etas_)
        assert net.mr_.eta_rule_.n_updates_ == 12

    def test_weights_are_softmax_of_the_rules_eta(self, noisy_data, tiny_mlp):
        X, y, _ = noisy_data
        net = _net(tiny_mlp, max_epochs=6).fit(X, y)
        eta = net.mr_.eta_rule_.etas_[-1]
        z = -eta * np.asarray(net.cumulative_losses_)
        expected = np.exp(z - z.max())
        np.testing.assert_allclose(net.sample_weights_, expected / expected.sum(),
                                   rtol=1e-10)


class TestResume:
    def test_checkpoint_and_load_init_state_continue_the_rule(self, noisy_data, tiny_mlp,
                                                              tmp_path):
        X, y, _ = noisy_data
        first_cp = Checkpoint(dirname=str(tmp_path), monitor="train_loss_best")
        first = _net(tiny_mlp, callbacks=[first_cp, LoadInitState(first_cp)]).fit(X, y)
        saved_max = first.mr_.eta_rule_.max_misfit_
        second_cp = Checkpoint(dirname=str(tmp_path), monitor="train_loss_best")
        second = _net(tiny_mlp, max_epochs=2,
                      callbacks=[second_cp, LoadInitState(second_cp)]).fit(X, y)
        rule = second.mr_.eta_rule_
        # 3 restored updates + 2 new ones; the settled maximum is not forgotten
        assert rule.n_updates_ == 5 and len(second.history) == 5
        assert rule.max_misfit_ >= saved_max


class TestWithoutClassScores:
    def test_auto_keeps_uniform_weights_and_warns(self):
        # a module whose output is not one row of class scores per example,
        # with a loss of its own: no know-nothing loss to compare with
        from sk_mr.exceptions import MRParameterWarning

        class Seq(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(4, 6)

            def forward(self, X):
                return self.lin(X).reshape(-1, 3, 2)

        class Net(MRClassifier):
            def get_loss(self, y_pred, y_true, *args, **kwargs):
                return (y_pred[:, :, 0] ** 2).mean(1)

        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 4)).astype(np.float32)
        y = rng.integers(0, 2, size=40)
        net = Net(Seq, max_epochs=3, train_split=None, verbose=0, batch_size=8,
                  eta="auto", classes=[0, 1])
        with pytest.warns(MRParameterWarning, match="eta='auto' keeps uniform weights"):
            net.fit(X, y)
        np.testing.assert_array_equal(net.sample_weights_, np.full(40, 1 / 40))
        assert net.history[:, "mr_eta"] == [0.0, 0.0, 0.0]


class TestCleanShortSchedules:
    @pytest.mark.parametrize("updates", [1, 3])
    def test_clean_labels_keep_uniform_weights(self, small_digits, tiny_mlp, updates):
        # clean labels, 10 epochs: the untrained first updates misfit many
        # examples, but no settled window forms above hard_fraction, so
        # nothing is set aside (the first rule set aside a third of them, and
        # with 3 updates per epoch concentrated the weights on a few dozen)
        X, y = small_digits
        net = _net(tiny_mlp, max_epochs=10, updates_per_epoch=updates).fit(X, y)
        n = len(X)
        np.testing.assert_allclose(net.sample_weights_, np.full(n, 1 / n), rtol=1e-12)
        assert net.history[-1, "mr_ess"] == pytest.approx(n)


class TestCleanDataIsPlainTraining:
    def test_defaults_fit_the_same_parameters_as_skorch(self, small_digits, tiny_mlp):
        # MRClassifier(module) as it ships, on clean labels: eta='auto' keeps
        # eta 0, and with random_state=None it draws from torch's global RNG
        # as skorch does, so after the same seed it *is* the plain fit, bit for
        # bit (the benchmark's global_rng:default measures this on the clean
        # held-out settings)
        from skorch import NeuralNetClassifier

        X, y = small_digits
        kwargs = dict(module=tiny_mlp, max_epochs=6, lr=0.1, batch_size=32, verbose=0)
        torch.manual_seed(0)
        mr = MRClassifier(**kwargs).fit(X, y)
        torch.manual_seed(0)
        plain = NeuralNetClassifier(criterion=torch.nn.CrossEntropyLoss, **kwargs).fit(X, y)
        assert mr.history[:, "mr_eta"] == [0.0] * 6
        ours, theirs = mr.module_.state_dict(), plain.module_.state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
        np.testing.assert_array_equal(mr.predict_proba(X), plain.predict_proba(X))
        # and the validation split held out the same rows: the same scores
        np.testing.assert_allclose(mr.history[:, "valid_acc"], plain.history[:, "valid_acc"])


class TestLabelCorrectionInAFit:
    """relabel='auto' inside a fit (the gate and targets by hand: test_callbacks.py)."""

    def _fit(self, noisy_data, tiny_mlp, **kwargs):
        X, y, _ = noisy_data
        # MR's weights leave uniform at epoch 11; the gate reads 0.68
        return _net(tiny_mlp, max_epochs=14, batch_size=16, **kwargs).fit(X, y)

    @pytest.mark.parametrize("random_state", [0, None])
    def test_a_closed_gate_is_mr_bit_for_bit(self, noisy_data, tiny_mlp, random_state):
        from sk_mr import MultiplicativeReweighting

        # with random_state=None everything is drawn from torch's global
        # RNG: the gate's pass must draw nothing from it
        class ClosedGate(MultiplicativeReweighting):
            relabel_gate = math.inf  # the gate's pass runs, and never opens

        closed = ClosedGate()
        common = dict(random_state=random_state, module__dropout=0.2)
        torch.manual_seed(0)
        gated = self._fit(noisy_data, tiny_mlp, callbacks__reweighting=closed,
                          fallback_loss=None, **common)
        torch.manual_seed(0)
        plain = self._fit(noisy_data, tiny_mlp, relabel=None, **common)
        assert gated.mr_.relabel_ratio_ is not None and not gated.mr_.relabeling_
        assert plain.mr_.relabel_ratio_ is None
        for a, b in zip(gated.module_.parameters(), plain.module_.parameters()):
            assert torch.equal(a, b)
        np.testing.assert_array_equal(gated.sample_weights_, plain.sample_weights_)

    def test_a_closed_gate_falls_back_on_sce(self, noisy_data, tiny_mlp):
        from sk_mr import MultiplicativeReweighting

        class ClosedGate(MultiplicativeReweighting):
            relabel_gate = math.inf

        net = self._fit(noisy_data, tiny_mlp, callbacks__reweighting=ClosedGate())
        kept = self._fit(noisy_data, tiny_mlp, fallback_loss=None,
                         callbacks__reweighting=ClosedGate())
        assert net.mr_.falling_back_ and not kept.mr_.falling_back_
        assert net.mr_.relabel_ratio_ == kept.mr_.relabel_ratio_
        # MR stepped back at the gate (epoch 12's first batch): its weights
        # stopped there, while the fit that kept MR went on updating them
        ess, kept_ess = net.history[:, "mr_ess"], kept.history[:, "mr_ess"]
        assert ess[:11] == kept_ess[:11]
        assert len(set(ess[11:])) == 1 and len(set(kept_ess[11:])) > 1
        assert net.mr_.n_updates_ == 11 and kept.mr_.n_updates_ == 14
        assert not all(torch.equal(a, b) for a, b in zip(net.module_.parameters(),
                                                         kept.module_.parameters()))

    def test_the_fallback_continues_resumes_and_reloads(self, noisy_data, tiny_mlp,
                                                         tmp_path):
        import warnings

        from sk_mr import MultiplicativeReweighting
        from sk_mr.losses import AutoSymmetricCrossEntropy

        class ClosedGate(MultiplicativeReweighting):
            relabel_gate = math.inf

        X, y, _ = noisy_data
        # an SCE criterion: its loss unit is not 1, so mr_eta = eta_ * unit
        net = self._fit(noisy_data, tiny_mlp, callbacks__reweighting=ClosedGate(),
                        criterion=AutoSymmetricCrossEntropy)
        cb = net.mr_
        n = cb.n_updates_  # the updates before the gate
        assert cb.falling_back_ and 0 < n < 14
        weights, eta = net.sample_weights_.copy(), net.history[-1, "mr_eta"]
        assert net.history[:, "mr_eta"][n:] == [eta] * (14 - n)
        # the epochs without an update are marked, and only those
        assert [bool(row.get("mr_fallback")) for row in net.history] == [False] * n + [True] * (
            14 - n)
        # saved and loaded into a fresh net: the decision is there before
        # any fit, no warning of a lost MR state, and the fallback goes on
        net.save_params(f_params=tmp_path / "p.pt", f_history=tmp_path / "h.json",
                        f_mr=tmp_path / "mr.pt")
        fresh = _net(tiny_mlp, max_epochs=2, batch_size=16,
                     callbacks__reweighting=ClosedGate(),
                     criterion=AutoSymmetricCrossEntropy).initialize()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # in two calls: the second checks the history against the MR
            # state already there (the fallback's epochs are no updates)
            fresh.load_params(f_mr=tmp_path / "mr.pt")
            fresh.load_params(f_params=tmp_path / "p.pt", f_history=tmp_path / "h.json")
        assert fresh.mr_.falling_back_
        fresh.partial_fit(X, y)
        assert fresh.mr_.n_updates_ == n and fresh.history[-1, "mr_eta"] == eta
        np.testing.assert_array_equal(fresh.sample_weights_, weights)
        # the same net, told to stop: MR resumes from where the gate left it
        fresh.set_params(fallback_loss=None).partial_fit(X, y)
        assert fresh.mr_.n_updates_ == n + 2
        assert not np.array_equal(fresh.sample_weights_, weights)

    @pytest.mark.parametrize("relabel", ["auto", None])
    def test_the_probation_band_reaches_the_rule_where_labels_are_corrected(
            self, noisy_data, tiny_mlp, relabel):
        from sk_mr import MultiplicativeReweighting
        from sk_mr.mw import AutoEta

        band = MultiplicativeReweighting.relabel_probation if relabel else None
        assert relabel is None or band is not None

        class Recording(AutoEta):
            def step(self, *args, probation=None, **kwargs):
                self.bands_ = getattr(self, "bands_", []) + [probation]
                return super().step(*args, probation=probation, **kwargs)

        net = self._fit(noisy_data, tiny_mlp, eta=Recording(), relabel=relabel)
        assert net.mr_.eta_rule_.bands_ == [band] * 14
        # the gate opened on M (nothing provisional there): correction ran on
        assert band is None or (net.mr_.relabeling_ and not net.mr_.eta_rule_.retracted_)

    def test_a_retraction_in_a_fit_is_mr_alone_from_there(self, noisy_data, tiny_mlp):
        from sk_mr.mw import AutoEta

        class Retracting(AutoEta):
            # the first update after the gate froze the rule retracts, as a
            # collapsed confident reading would (AutoEta.step's probation)
            def step(self, *args, **kwargs):
                if self.frozen_misfit_ is not None and not self.retracted_:
                    self.retracted_, self.frozen_misfit_ = True, None
                    self.steps_at_retraction_ = self.n_updates_
                return super().step(*args, **kwargs)

        net = self._fit(noisy_data, tiny_mlp, eta=Retracting())
        cb, rule = net.mr_, net.mr_.eta_rule_
        assert cb.relabel_ratio_ >= cb.relabel_gate and not cb.relabeling_
        assert rule.retracted_ and rule.frozen_misfit_ is None
        # the gate opened at epoch 12's first batch; epoch 12's update
        # retracted: epochs 13-14 trained on the labels with MR's weights
        assert rule.steps_at_retraction_ == 11
        X, y, _ = noisy_data
        Xt = torch.as_tensor(X[:16])
        yt = torch.as_tensor(y[:16])
        net.batch_positions_ = torch.arange(16)
        assert cb.correct_targets(net, Xt, yt) is yt

    def test_an_open_gate_corrects_and_freezes(self, noisy_data, tiny_mlp):
        net = self._fit(noisy_data, tiny_mlp)
        plain = self._fit(noisy_data, tiny_mlp, relabel=None)
        cb = net.mr_
        assert cb.relabeling_ and cb.relabel_ratio_ >= cb.relabel_gate
        rule = cb.eta_rule_
        # M stopped where it stood when correction began: the KL budget is
        # the same at every update from the gate's on (and M itself, free
        # in the fit without correction, is no longer read)
        opened = len(rule.kl_targets_) - sum(1 for e in net.history[:, "mr_eta"] if e > 0)
        assert rule.frozen_misfit_ is not None
        assert len(set(rule.kl_targets_[opened:])) == 1
        assert plain.mr_.eta_rule_.frozen_misfit_ is None
        assert not all(torch.equal(a, b) for a, b in zip(net.module_.parameters(),
                                                         plain.module_.parameters()))

    def test_the_fit_calls_forward_parameters_reach_the_prediction(self, noisy_data):
        # a module whose forward takes a keyword of the fit call: the
        # corrected batches' predictions get it too
        class Scaled(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),
                                               torch.nn.Linear(32, 10))

            def forward(self, X, scale):
                return self.net(X * scale)

        X, y, _ = noisy_data
        net = _net(Scaled, max_epochs=14, batch_size=16).fit(X, y, scale=1.0)
        assert net.mr_.relabeling_

