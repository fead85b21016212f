"""Tests of sk_mr.classifier.MRClassifier: Algorithm 1 on skorch."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback, Checkpoint, LoadInitState
from skorch.dataset import ValidSplit

from sk_mr import (MRClassifier, MultiStepEta, MultiplicativeReweighting,
                   RandomReweighting, add_label_noise)
from sk_mr.exceptions import MRParameterWarning
from conftest import TinyMLP


def make_net(cls=MRClassifier, **kwargs):
    params = dict(module=TinyMLP, max_epochs=3, lr=0.1, batch_size=64,
                  train_split=None, verbose=0)
    if cls is not NeuralNetClassifier:
        # Algorithm 1 exactly: the hand computations here are full-pass
        # cross-entropy losses (the paper's criterion, not MRClassifier's default)
        params.update(eta=0.5, loss_pass="full", criterion=torch.nn.CrossEntropyLoss)
    params.update(kwargs)
    return cls(**params)


def per_example_losses(net, X, y):
    """Hand computation of l_i(theta) in eval mode."""
    net.module_.eval()
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X))
        return torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(y), reduction="none").double().numpy()


class TestEtaZeroIsPlainTraining:
    @pytest.mark.parametrize("train_split", [None, ValidSplit(5)])
    def test_same_train_losses_as_neuralnetclassifier(self, small_digits, train_split):
        X, y = small_digits
        histories = []
        for cls in (NeuralNetClassifier, MRClassifier):
            torch.manual_seed(0)
            kwargs = dict(criterion=torch.nn.CrossEntropyLoss, train_split=train_split,
                          module__dropout=0.3, max_epochs=4)
            if cls is MRClassifier:
                kwargs["eta"] = 0.0
            net = make_net(cls, **kwargs).fit(X, y)
            histories.append(net.history[:, "train_loss"])
        np.testing.assert_allclose(histories[0], histories[1], atol=1e-4)

    def test_eta_zero_keeps_uniform_weights(self, small_digits):
        X, y = small_digits
        net = make_net(eta=0.0).fit(X, y)
        np.testing.assert_allclose(net.sample_weights_, 1 / len(X))
        assert net.history[-1, "mr_ess"] == pytest.approx(len(X))


class TestAlgorithm1:
    def test_weights_after_one_epoch_match_hand_computation(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(max_epochs=1, eta=0.5, module__dropout=0.5).fit(X, y)
        losses = per_example_losses(net, X, y)
        w = np.exp(-0.5 * (losses - losses.min()))
        np.testing.assert_allclose(net.cumulative_losses_, losses, rtol=1e-5)
        np.testing.assert_allclose(net.sample_weights_, w / w.sum(), rtol=1e-4)

    def test_cumulative_losses_add_up_over_epochs(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(max_epochs=1, warm_start=True).fit(X, y)
        first = net.cumulative_losses_.copy()
        net.fit(X, y)
        second = per_example_losses(net, X, y)
        np.testing.assert_allclose(net.cumulative_losses_, first + second, rtol=1e-5)
        w = np.exp(-0.5 * (first + second - (first + second).min()))
        np.testing.assert_allclose(net.sample_weights_, w / w.sum(), rtol=1e-4)

    def test_batch_loss_is_weighted_mean(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(max_epochs=1).fit(X, y)
        positions = torch.tensor([0, 5, 7])
        net.batch_positions_ = positions
        y_pred = net.module_(torch.as_tensor(X[[0, 5, 7]]))
        loss = net.get_weighted_loss(y_pred, torch.as_tensor(y[[0, 5, 7]]))
        losses = torch.nn.functional.cross_entropy(
            y_pred, torch.as_tensor(y[[0, 5, 7]]), reduction="none")
        p = torch.as_tensor(net.sample_weights_[[0, 5, 7]], dtype=torch.float32)
        assert loss.item() == pytest.approx(((p * losses).sum() / p.sum()).item(), rel=1e-5)
        # evaluation batches are not weighted
        assert net.get_loss(y_pred, torch.as_tensor(y[[0, 5, 7]])).item() == \
            pytest.approx(losses.mean().item(), rel=1e-6)

    def test_history_records_ess_and_eta(self, small_digits):
        X, y = small_digits
        schedule = MultiStepEta(0.1, milestones=(2,), gamma=2.0)
        net = make_net(eta=schedule, max_epochs=3).fit(X, y)
        np.testing.assert_allclose(net.history[:, "mr_eta"], [0.1, 0.2, 0.2])
        ess = net.history[:, "mr_ess"]
        p = net.sample_weights_
        assert ess[-1] == pytest.approx(1 / np.sum(p ** 2))
        assert all(0 < e <= len(X) for e in ess)

    def test_callable_eta_receives_epoch(self, small_digits):
        X, y = small_digits
        seen = []

        def eta(epoch):
            seen.append(epoch)
            return 0.1

        make_net(eta=eta, max_epochs=3).fit(X, y)
        assert seen == [1, 2, 3]

    @pytest.mark.parametrize("eta", [1e3, 1e6])
    def test_stable_with_huge_eta(self, small_digits, eta):
        X, y = small_digits
        net = make_net(eta=eta, max_epochs=3).fit(X, y)
        p = net.sample_weights_
        assert np.all(np.isfinite(p)) and np.all(p >= 0)
        assert p.sum() == pytest.approx(1.0)
        assert np.all(np.isfinite(net.history[:, "train_loss"]))

    def test_noisy_examples_lose_weight(self, small_digits):
        X, y = small_digits
        y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
        torch.manual_seed(0)
        net = make_net(eta=0.5, max_epochs=8, lr=0.2).fit(X, y_noisy)
        p = net.sample_weights_
        assert p[is_noisy].mean() < 0.5 * p[~is_noisy].mean()


class TestLossPass:
    def test_default_is_the_online_pass(self, small_digits):
        """The default records training losses (no extra pass); an explicit
        loss_pass='full' is Algorithm 1, whose losses are the eval-mode ones."""
        X, y = small_digits
        params = dict(module=TinyMLP, max_epochs=2, lr=0.1, batch_size=64, eta=0.5,
                      train_split=None, verbose=0, random_state=0)
        default = MRClassifier(**params).fit(X, y)
        online = MRClassifier(**params, loss_pass="online").fit(X, y)
        full = MRClassifier(**params, loss_pass="full").fit(X, y)
        np.testing.assert_array_equal(default.cumulative_losses_, online.cumulative_losses_)
        np.testing.assert_array_equal(default.sample_weights_, online.sample_weights_)
        # the full pass's last update is the eval-mode loss at the final parameters
        last = per_example_losses(full, X, y)
        first = full.cumulative_losses_ - last
        assert np.all(first > 0)
        assert not np.allclose(default.cumulative_losses_, full.cumulative_losses_,
                               rtol=1e-3)

    def test_online_makes_no_extra_pass(self, small_digits):
        X, y = small_digits
        calls = {"eval": 0}

        class Counting(TinyMLP):
            def forward(self, X):
                if not self.training:
                    calls["eval"] += 1
                return super().forward(X)

        make_net(module=Counting, loss_pass="online", max_epochs=2).fit(X, y)
        assert calls["eval"] == 0
        make_net(module=Counting, loss_pass="full", max_epochs=2,
                 loss_pass_batch_size=100).fit(X, y)
        assert calls["eval"] == 2 * 3  # 300 rows in batches of 100, each epoch

    def test_online_uses_training_losses(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(loss_pass="online", max_epochs=1, eta=1.0,
                       batch_size=len(X), lr=0.0).fit(X, y)
        # lr=0: the training losses are those at the initial parameters.
        losses = per_example_losses(net, X, y)
        np.testing.assert_allclose(net.cumulative_losses_, losses, rtol=1e-5)

    def test_updates_per_epoch(self, small_digits):
        X, y = small_digits
        modes = []

        def record(module, inputs):
            # the flag of the module and of its dropout, which is what
            # changes the losses; the batch's size tells the passes apart
            dropout = module.net[2]
            assert dropout.training == module.training
            modes.append(("T" if module.training else "E", len(inputs[0])))

        net = make_net(updates_per_epoch=2, max_epochs=3, loss_pass_batch_size=64)
        net.initialize()
        net.module_.register_forward_pre_hook(record)
        net.partial_fit(X, y)
        assert net.mr_.n_updates_ == 6
        assert len(net.history[-1, "batches"]) == 5
        # 300 rows, 5 batches of 64 (the last of 44): the mid-epoch loss pass
        # (5 eval-mode batches over all 300) falls after batch ceil(5 / 2) = 3,
        # batches 4 and 5 train in train mode again, then the end-of-epoch pass
        sizes = [64, 64, 64, 64, 44]
        epoch = ([("T", n) for n in sizes[:3]] + [("E", n) for n in sizes]
                 + [("T", n) for n in sizes[3:]] + [("E", n) for n in sizes])
        assert modes == epoch * 3

    @pytest.mark.parametrize("training", [True, False])
    def test_loss_pass_leaves_every_module_in_the_mode_it_found(self, small_digits,
                                                                training):
        X, y = small_digits
        net = make_net(module=TinyMLP, module__dropout=0.5, max_epochs=1).fit(X, y)
        net.module_.train(training)
        net.criterion_.train(training)
        if training:
            net.module_.net[0].eval()  # a submodule the user froze stays frozen
        flags = [m.training for m in net.module_.modules()] + [net.criterion_.training]
        seen = []
        hook = net.module_.net[2].register_forward_pre_hook(
            lambda module, inputs: seen.append(module.training))
        losses = net.example_losses(net.get_dataset(X, y))
        hook.remove()
        # each module and the criterion are back in their own mode...
        assert [m.training for m in net.module_.modules()] + [net.criterion_.training] \
            == flags
        # ...after a pass in eval mode (no dropout: the hand computation's losses)
        assert len(seen) > 0 and not any(seen)
        np.testing.assert_allclose(losses.numpy(), per_example_losses(net, X, y), rtol=1e-6)

    def test_eta_schedule_sees_completed_epochs_with_midepoch_updates(self, small_digits):
        X, y = small_digits
        seen = []

        def eta(epoch):
            seen.append(epoch)
            return 0.1

        make_net(eta=eta, updates_per_epoch=2, max_epochs=3).fit(X, y)
        # the update in the middle of epoch t comes before epoch t completes
        assert seen == [0, 1, 1, 2, 2, 3]

    def test_online_midepoch_updates_use_every_seen_example(self, small_digits):
        X, y = small_digits
        net = make_net(loss_pass="online", updates_per_epoch=2, max_epochs=1, eta=1.0,
                       lr=0.0, batch_size=50)
        torch.manual_seed(0)
        net.fit(X, y)
        # lr=0: every recorded loss is the loss at the initial parameters, so
        # the two updates add up to 0.5 * losses (first half) + 1 * losses.
        losses = per_example_losses(net, X, y)
        assert net.mr_.online_seen_.all()
        np.testing.assert_allclose(net.mr_.online_losses_.numpy(), losses, rtol=1e-5)
        # The mid-epoch update (after 3 of 6 batches) added the loss of the
        # 150 examples seen so far and the mean of those for the others; the
        # end-of-epoch update added every loss.
        extra = net.cumulative_losses_ - losses
        seen_mid = np.isclose(extra, losses, rtol=1e-5)
        assert seen_mid.sum() == 150
        np.testing.assert_allclose(extra[~seen_mid], losses[seen_mid].mean(), rtol=1e-5)

    def test_loss_pass_uses_unaugmented_view(self, small_digits):
        X, y = small_digits

        class Augmented(torch.utils.data.Dataset):
            def __init__(self, X, y, augment=True):
                self.X, self.y, self.augment = X, y, augment

            def __len__(self):
                return len(self.X)

            def __getitem__(self, i):
                x = self.X[i] + (100.0 if self.augment else 0.0)
                return x, self.y[i]

            def without_augmentation(self):
                return Augmented(self.X, self.y, augment=False)

        torch.manual_seed(0)
        net = make_net(max_epochs=1, lr=0.0).fit(Augmented(X, y), None)
        np.testing.assert_allclose(net.cumulative_losses_,
                                   per_example_losses(net, X, y), rtol=1e-5)

    def test_loss_pass_leaves_global_rng_alone(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        state = torch.get_rng_state().clone()
        net.example_losses(net.get_dataset(X, y))
        assert torch.equal(torch.get_rng_state(), state)

    def test_diverged_model_raises_and_keeps_weights(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1, warm_start=True).fit(X, y)
        before = net.sample_weights_.copy()
        with torch.no_grad():
            net.module_.net[-1].weight.fill_(float("nan"))
        with pytest.raises(ValueError, match="epoch 2"):
            net.partial_fit(X, y)
        np.testing.assert_array_equal(net.sample_weights_, before)


class TestTrainSplit:
    def test_held_out_rows_are_nan(self, small_digits):
        X, y = small_digits
        net = make_net(train_split=ValidSplit(5)).fit(X, y)
        p = net.sample_weights_
        assert p.shape == (len(X),)
        assert np.isnan(p).sum() == len(X) // 5
        assert np.nansum(p) == pytest.approx(1.0)
        assert np.array_equal(np.isnan(p), np.isnan(net.cumulative_losses_))
        valid_rows = np.setdiff1d(np.arange(len(X)), net.mr_.train_rows_)
        assert np.isnan(p[valid_rows]).all()

    def test_changing_split_raises_before_training(self, small_digits):
        X, y = small_digits
        net = make_net(train_split=ValidSplit(0.2, stratified=False), max_epochs=1)
        net.fit(X, y)
        n_epochs = len(net.history)
        before = net.sample_weights_.copy()
        # a float ValidSplit without random_state reshuffles on every call
        with pytest.raises(ValueError, match="deterministic"):
            for _ in range(5):
                n_epochs = len(net.history)
                before = net.sample_weights_.copy()
                params = [p.detach().clone() for p in net.module_.parameters()]
                net.partial_fit(X, y)
        # the refused call trained nothing and changed no weight
        assert len(net.history) == n_epochs
        np.testing.assert_array_equal(net.sample_weights_, before)
        for old, new in zip(params, net.module_.parameters()):
            assert torch.equal(old, new)

    def test_different_data_raises(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        with pytest.raises(ValueError, match="same X"):
            net.partial_fit(X[:100], y[:100])


class TestSklearnIntegration:
    def test_gridsearch_over_eta_in_pipeline(self, small_digits):
        X, y = small_digits
        X = X.astype(np.float64)  # what StandardScaler would hand over anyway
        pipe = Pipeline([("scale", StandardScaler()),
                         ("clf", make_net(max_epochs=2))])
        search = GridSearchCV(pipe, {"clf__eta": [0.0, 0.5]}, cv=2, error_score="raise")
        search.fit(X, y)
        # the refitted net trained with the chosen eta (what MR recorded)
        best = search.best_estimator_.named_steps["clf"]
        np.testing.assert_array_equal(best.history[:, "mr_eta"],
                                      [search.best_params_["clf__eta"]] * 2)

    def test_gridsearch_with_validsplit(self, small_digits):
        X, y = small_digits
        search = GridSearchCV(make_net(max_epochs=2, train_split=ValidSplit(4)),
                              {"eta": [0.01, 1.0]}, cv=2, error_score="raise")
        search.fit(X, y)
        p = search.best_estimator_.sample_weights_
        assert np.isnan(p).any() and np.nansum(p) == pytest.approx(1.0)

    def test_clone_drops_state(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        cloned = clone(net)
        assert cloned.eta == net.eta
        assert not hasattr(cloned, "callbacks_")
        from sklearn.exceptions import NotFittedError
        with pytest.raises(NotFittedError, match="no reweighting callback"):
            cloned.sample_weights_

    def test_unfitted_raises_not_fitted(self):
        from sklearn.exceptions import NotFittedError
        with pytest.raises(NotFittedError):
            make_net().sample_weights_
        with pytest.raises(NotFittedError):
            make_net().initialize().cumulative_losses_

    def test_set_params_eta(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=2).fit(X, y).set_params(eta=0.3)
        net.fit(X, y)
        np.testing.assert_array_equal(net.history[:, "mr_eta"], [0.3, 0.3])


@pytest.fixture(scope="module")
def fitted(small_digits):
    X, y = small_digits
    torch.manual_seed(0)
    return make_net(max_epochs=2).fit(X, y)


class TestPersistence:
    def test_pickle_round_trip(self, fitted):
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(restored.sample_weights_, fitted.sample_weights_)
        np.testing.assert_array_equal(restored.cumulative_losses_, fitted.cumulative_losses_)
        assert restored.mr_.probabilities_.device.type == "cpu"

    def test_joblib_round_trip(self, fitted, tmp_path):
        joblib.dump(fitted, tmp_path / "net.joblib")
        restored = joblib.load(tmp_path / "net.joblib")
        np.testing.assert_array_equal(restored.sample_weights_, fitted.sample_weights_)

    def test_save_load_params_f_mr(self, fitted, small_digits, tmp_path):
        X, y = small_digits
        fitted.save_params(f_params=tmp_path / "p.pt", f_mr=tmp_path / "mr.pt")
        state = torch.load(tmp_path / "mr.pt", weights_only=True)
        assert set(state) >= {"cumulative_losses", "probabilities", "train_rows"}
        fresh = make_net().initialize()
        fresh.load_params(f_params=tmp_path / "p.pt", f_mr=tmp_path / "mr.pt")
        np.testing.assert_allclose(fresh.sample_weights_, fitted.sample_weights_)
        np.testing.assert_allclose(fresh.cumulative_losses_, fitted.cumulative_losses_)
        # training continues from the loaded cumulative losses
        fresh.partial_fit(X, y)
        assert fresh.mr_.n_updates_ == fitted.mr_.n_updates_ + 3

    def test_checkpoint_and_load_init_state(self, small_digits, tmp_path):
        X, y = small_digits
        cp = Checkpoint(dirname=str(tmp_path), monitor=None, f_mr="mr.pt",
                        f_optimizer=None, f_criterion=None)
        torch.manual_seed(0)
        first = make_net(max_epochs=2, callbacks=[cp]).fit(X, y)
        resumed = make_net(max_epochs=1, callbacks=[
            Checkpoint(dirname=str(tmp_path), monitor=None, f_mr="mr.pt",
                       f_optimizer=None, f_criterion=None),
            LoadInitState(cp)])
        resumed.fit(X, y)
        assert resumed.mr_.n_updates_ == first.mr_.n_updates_ + 1
        losses = per_example_losses(resumed, X, y)
        np.testing.assert_allclose(resumed.cumulative_losses_,
                                   first.cumulative_losses_ + losses, rtol=1e-5)

    def test_warm_start_accumulates_cold_fit_resets(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=2, warm_start=True).fit(X, y)
        net.fit(X, y)
        assert net.mr_.n_updates_ == 4
        net.set_params(warm_start=False).fit(X, y)
        assert net.mr_.n_updates_ == 2

    def test_partial_fit_accumulates(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1)
        net.partial_fit(X, y)
        net.partial_fit(X, y)
        assert net.mr_.n_updates_ == 2
        assert len(net.history) == 2


class TestRandomReweighting:
    def test_replaces_default_and_redraws(self, small_digits):
        X, y = small_digits
        net = make_net(callbacks__reweighting=RandomReweighting(random_state=0), eta=0.0,
                       max_epochs=2, warm_start=True).fit(X, y)
        assert isinstance(net.mr_, RandomReweighting)
        p1 = net.sample_weights_.copy()
        net.fit(X, y)
        p2 = net.sample_weights_
        assert not np.allclose(p1, p2)
        assert 0.35 < np.mean(p1 == 0) < 0.65  # rectified Gaussian
        assert p1.sum() == pytest.approx(1.0)

    def test_get_params_reports_the_replacement(self):
        cb = RandomReweighting(random_state=0)
        net = make_net(callbacks__reweighting=cb)
        assert net.get_params(deep=True)["callbacks__reweighting"] is cb
        # make_net's eta means nothing to RandomReweighting: initialize says so
        with pytest.warns(MRParameterWarning, match="eta=.* has no effect"):
            net.initialize()
        assert net.get_params(deep=True)["callbacks__reweighting"] is cb

    def test_in_callbacks_list_replaces_default(self, small_digits):
        X, y = small_digits
        net = make_net(callbacks=[RandomReweighting(random_state=0)], max_epochs=1,
                       eta=0.0).fit(X, y)
        names = [n for n, cb in net.callbacks_ if isinstance(
            cb, (RandomReweighting, MultiplicativeReweighting))]
        assert names == ["RandomReweighting"]
        with pytest.raises(AttributeError, match="cumulative"):
            net.cumulative_losses_

    def test_reproducible(self, small_digits):
        X, y = small_digits
        a, b = (make_net(callbacks=[RandomReweighting(random_state=1)], max_epochs=1,
                         eta=0.0).fit(X, y) for _ in range(2))
        np.testing.assert_array_equal(a.sample_weights_, b.sample_weights_)

    def test_two_reweightings_refused(self):
        with pytest.raises(ValueError, match="Only one"):
            make_net(callbacks=[RandomReweighting(), MultiplicativeReweighting()]).initialize()


class TestMixup:
    def test_uniform_weights_give_ordinary_mixup(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1, mixup_alpha=1.0, random_state=0, eta=0.0).fit(X, y)
        Xb, yb = torch.as_tensor(X[:8]), torch.as_tensor(y[:8])
        net.batch_positions_ = torch.arange(8)
        X_mixed, target = net.mixup_batch(Xb, yb)
        y_pred = net.module_(X_mixed)
        loss = net.get_weighted_loss(y_pred, target)
        ce = torch.nn.functional.cross_entropy
        expected = target.lam * ce(y_pred, target.y_a) + (1 - target.lam) * ce(y_pred, target.y_b)
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5)

    def test_zero_weight_examples_contribute_nothing(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1, mixup_alpha=1.0, random_state=0).fit(X, y)
        probs = torch.zeros(len(X), dtype=torch.float64)
        probs[:4] = 0.25
        net.mr_._set_probabilities(probs)
        net.batch_positions_ = torch.arange(8)
        X_mixed, target = net.mixup_batch(torch.as_tensor(X[:8]), torch.as_tensor(y[:8]))
        y_pred = net.module_(X_mixed)
        loss = net.get_weighted_loss(y_pred, target)
        ce = torch.nn.functional.cross_entropy
        la = ce(y_pred, target.y_a, reduction="none")
        lb = ce(y_pred, target.y_b, reduction="none")
        w = probs[:8].float()
        wb = w[target.permutation]
        expected = (target.lam * w * la + (1 - target.lam) * wb * lb).sum() / w.sum()
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5)

    def test_seeded_mixup_is_reproducible(self, small_digits):
        X, y = small_digits
        losses = []
        for _ in range(2):
            torch.manual_seed(0)
            net = make_net(max_epochs=2, mixup_alpha=0.5, random_state=3).fit(X, y)
            losses.append(net.history[:, "train_loss"])
        np.testing.assert_array_equal(losses[0], losses[1])

    def test_generators_survive_pickle(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1, mixup_alpha=1.0, random_state=0).fit(X, y)
        restored = pickle.loads(pickle.dumps(net))
        Xb, yb = torch.as_tensor(X[:16]), torch.as_tensor(y[:16])
        a = net.mixup_batch(Xb, yb)[1]
        b = restored.mixup_batch(Xb, yb)[1]
        assert a.lam == b.lam
        assert torch.equal(a.permutation, b.permutation)

    def test_label_smoothing_composes(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=2, mixup_alpha=1.0, random_state=0,
                       criterion__label_smoothing=0.1).fit(X, y)
        net.batch_positions_ = torch.arange(8)
        X_mixed, target = net.mixup_batch(torch.as_tensor(X[:8]), torch.as_tensor(y[:8]))
        y_pred = net.module_(X_mixed)
        # hand computation: smoothed cross-entropy of each label term, each
        # weighted by the MR weight of the example its label came from
        logp = torch.log_softmax(y_pred, 1)

        def smoothed(labels):
            return -(0.9 * logp.gather(1, labels[:, None])[:, 0] + 0.1 * logp.mean(1))

        w = torch.as_tensor(net.sample_weights_[:8], dtype=torch.float32)
        expected = (target.lam * w * smoothed(target.y_a)
                    + (1 - target.lam) * w[target.permutation] * smoothed(target.y_b)
                    ).sum() / w.sum()
        assert net.get_weighted_loss(y_pred, target).item() == pytest.approx(
            expected.item(), rel=1e-5)


class TestBadInput:
    @pytest.mark.parametrize("params, exc, match", [
        (dict(eta=-1.0), ValueError, "eta"),
        (dict(eta=float("nan")), ValueError, "eta"),
        (dict(eta=float("inf")), ValueError, "eta"),
        (dict(eta="big"), TypeError, "eta"),
        (dict(loss_pass="half"), ValueError, "loss_pass"),
        (dict(updates_per_epoch=0), ValueError, "updates_per_epoch"),
        (dict(loss_pass_batch_size=0), ValueError, "loss_pass_batch_size"),
        (dict(mixup_alpha=-1.0), ValueError, "mixup_alpha"),
        (dict(adversarial="free"), TypeError, "adversarial"),
    ])
    def test_bad_params_leave_fitted_net_intact(self, small_digits, params, exc, match):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        before = net.sample_weights_.copy()
        module_before = net.module_
        net.set_params(**params)
        with pytest.raises(exc, match=match):
            net.fit(X, y)
        with pytest.raises(exc, match=match):
            net.partial_fit(X, y)
        assert net.module_ is module_before
        np.testing.assert_array_equal(net.sample_weights_, before)

    @pytest.mark.parametrize("mutate, match", [
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y), "X contains"),
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y), "X contains"),
        (lambda X, y: (X, np.where(np.arange(len(y)) == 2, np.nan, y.astype(float))), "NaN"),
        (lambda X, y: (X[:-1], y), "inconsistent lengths"),
        (lambda X, y: (X, np.where(np.arange(len(y)) == 0, "a", y.astype(object))),
         "cannot be sorted"),
        # 11 distinct labels (-1 and 0..9) for a module with 10 outputs
        (lambda X, y: (X, np.where(np.arange(len(y)) == 0, -1, y)), "11 distinct labels"),
    ])
    def test_bad_data(self, small_digits, mutate, match):
        X, y = mutate(*small_digits)
        with pytest.raises(ValueError, match=match):
            make_net().fit(X.astype(np.float32) if X.dtype != object else X, y)

    def test_label_outside_classes(self, small_digits):
        X, y = small_digits
        with pytest.raises(ValueError, match="outside classes"):
            make_net(classes=list(range(5))).fit(X, y)

    def test_label_beyond_module_outputs(self, small_digits):
        X, y = small_digits
        with pytest.raises(ValueError, match="rejected the targets"):
            make_net(module__n_classes=5).fit(X, y)

    def test_tensor_X_with_nan(self, small_digits):
        X, y = small_digits
        X = torch.as_tensor(X).clone()
        X[0, 0] = float("nan")
        with pytest.raises(ValueError, match="X contains 1 NaN"):
            make_net().fit(X, torch.as_tensor(y))

    def test_custom_scalar_criterion(self, small_digits):
        X, y = small_digits

        class MeanCE(torch.nn.Module):
            def forward(self, y_pred, y_true):
                return torch.nn.functional.cross_entropy(y_pred, y_true)

        with pytest.raises(ValueError, match="one loss per example"):
            make_net(criterion=MeanCE).fit(X, y)


class TestInputs:
    @staticmethod
    def seeded_fit(X, y):
        return make_net(max_epochs=2, random_state=0, iterator_train__shuffle=True).fit(X, y)

    def test_tensors_and_dataset(self, small_digits):
        # the same examples as tensors or as a Dataset train exactly as arrays do
        X, y = small_digits
        reference = self.seeded_fit(X, y)
        ds = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
        for net in (self.seeded_fit(torch.as_tensor(X), torch.as_tensor(y)),
                    self.seeded_fit(ds, None)):
            np.testing.assert_array_equal(net.history[:, "train_loss"],
                                          reference.history[:, "train_loss"])
            np.testing.assert_array_equal(net.sample_weights_, reference.sample_weights_)
            np.testing.assert_array_equal(net.predict(X), reference.predict(X))

    def test_float64_and_int32_inputs_are_cast(self, small_digits):
        X, y = small_digits
        reference = self.seeded_fit(X, y)
        for X_in, y_in in [(X.astype(np.float64), y.astype(np.int32)),
                           (X, y.astype(np.float64))]:
            net = self.seeded_fit(X_in, y_in)
            np.testing.assert_array_equal(net.history[:, "train_loss"],
                                          reference.history[:, "train_loss"])
            np.testing.assert_array_equal(net.sample_weights_, reference.sample_weights_)
            assert net.label_classes_ is None

    def test_criterion_instance_with_params_stays_per_example(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(max_epochs=1,
                       criterion=torch.nn.CrossEntropyLoss(reduction="none"),
                       criterion__label_smoothing=0.1).fit(X, y)
        # skorch rebuilds the instance with the criterion__ arguments, and MR
        # still accumulates per-example (smoothed) losses
        assert net.criterion_.label_smoothing == 0.1
        net.module_.eval()
        with torch.no_grad():
            expected = torch.nn.functional.cross_entropy(
                net.module_(torch.as_tensor(X)), torch.as_tensor(y),
                reduction="none", label_smoothing=0.1).double().numpy()
        np.testing.assert_allclose(net.cumulative_losses_, expected, rtol=1e-5)

    def test_amp_runs_and_keeps_float32_losses(self, small_digits):
        X, y = small_digits
        seen = []

        class Recording(TinyMLP):
            def forward(self, X):
                out = super().forward(X)
                seen.append((torch.is_autocast_enabled("cpu"), out.dtype))
                return out

        net = make_net(module=Recording, max_epochs=2, amp=True).fit(X, y)
        # every forward (training and loss pass) ran under bf16 autocast...
        assert seen and all(enabled and dtype == torch.bfloat16 for enabled, dtype in seen)
        # ...and what leaves infer is float32
        assert net.infer(torch.as_tensor(X[:4])).dtype == torch.float32
        assert np.isfinite(net.history[-1, "train_loss"])
        assert net.cumulative_losses_.dtype == np.float64
        with pytest.raises(TypeError, match="amp"):
            make_net(amp="yes").fit(X, y)

    def test_predict_proba_is_softmax(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        net.module_.eval()
        with torch.no_grad():
            expected = torch.softmax(net.module_(torch.as_tensor(X)), dim=1).numpy()
        np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
class TestCUDA:
    def test_weights_live_on_device_and_pickle_to_cpu(self, small_digits):
        X, y = small_digits
        net = make_net(device="cuda", max_epochs=2).fit(X, y)
        assert net.mr_.batch_weights_.device.type == "cuda"
        assert net.mr_.cumulative_losses_.device.type == "cuda"
        restored = pickle.loads(pickle.dumps(net))
        np.testing.assert_allclose(restored.sample_weights_, net.sample_weights_)


class TestMRBeatsPlainOnNoisyDigits:
    """Item 5's claim at test scale: 40% uniform noise, over three seeds.

    One seed made a fragile test: plain training's accuracy after 100 epochs
    on noisy labels swings by several points with the seed (how much it
    memorizes), so each seed draws its own noise, initialization and batch
    order, and the claim is about the mean gain, with MR ahead on every seed.
    """

    SEEDS = (0, 1, 2)

    def _scores(self, X_tr, y_tr, X_te, y_te, seed):
        y_noisy, _ = add_label_noise(y_tr, 0.4, random_state=seed)
        common = dict(module__hidden=256, max_epochs=100, lr=0.05, batch_size=128,
                      optimizer__momentum=0.9, random_state=seed,
                      iterator_train__shuffle=True)
        scores = {}
        # seeded through random_state: the same initialization, batches and
        # dropout on any machine, whatever ran before
        for eta in (0.0, 0.01):  # plain training and the paper's MR (Algorithm 1)
            scores[eta] = make_net(eta=eta, **common).fit(X_tr, y_noisy).score(X_te, y_te)
        # MRClassifier's defaults (eta='auto', cross-entropy, online pass)
        net = MRClassifier(TinyMLP, train_split=None, verbose=0, **common)
        scores["default"] = net.fit(X_tr, y_noisy).score(X_te, y_te)
        return scores

    def test_mr_gains_eight_points_on_average_and_wins_every_seed(self, digits):
        X, y = digits
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
        scores = [self._scores(X_tr, y_tr, X_te, y_te, seed) for seed in self.SEEDS]
        for method in (0.01, "default"):
            gains = [s[method] - s[0.0] for s in scores]
            assert np.mean(gains) >= 0.08, (method, scores)
            assert min(gains) >= 0.03, (method, scores)


class TestGetParams:
    def test_fitted_net_params_hold_no_state(self, fitted):
        params = fitted.get_params(deep=True)
        leaked = [k for k in params if k.startswith("callbacks__reweighting__")]
        assert leaked == [], leaked


# -- drop-in for skorch and scikit-learn ----------------------------------------------
class ExtraInputMLP(TinyMLP):
    """Needs a fit parameter in every forward call (skorch passes fit params)."""

    def forward(self, X, shift):
        return super().forward(X + shift)


class SoftmaxMLP(TinyMLP):
    """skorch's convention: the module returns probabilities."""

    def forward(self, X):
        return torch.softmax(super().forward(X), dim=-1)


def hand_losses(net, X, y, fn=torch.nn.functional.cross_entropy, **forward_kwargs):
    net.module_.eval()
    with torch.no_grad():
        out = net.module_(torch.as_tensor(X), **forward_kwargs)
        return fn(out, torch.as_tensor(y), reduction="none").double().numpy()


class TestSkorchHooks:
    def test_batch_size_minus_one_trains_on_the_whole_split(self, small_digits):
        X, y = small_digits
        net = make_net(batch_size=-1, max_epochs=2).fit(X, y)
        assert net.history[-1, "batches", 0, "train_batch_size"] == len(X)
        assert net.mr_.n_updates_ == 2

    def test_fit_params_reach_the_module_in_the_loss_pass(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(module=ExtraInputMLP, max_epochs=1, lr=0.0).fit(X, y, shift=0.5)
        # lr=0: the loss pass saw the initial parameters and shift=0.5
        np.testing.assert_allclose(net.cumulative_losses_,
                                   hand_losses(net, X, y, shift=0.5), rtol=1e-5)

    def test_get_loss_override_is_the_loss_of_training_and_loss_pass(self, small_digits):
        X, y = small_digits

        class Doubled(MRClassifier):
            def get_loss(self, y_pred, y_true, *args, **kwargs):
                return 2.0 * super().get_loss(y_pred, y_true, *args, **kwargs)

        torch.manual_seed(0)
        net = make_net(Doubled, max_epochs=1, lr=0.0, eta=0.5).fit(X, y)
        losses = 2.0 * hand_losses(net, X, y)
        np.testing.assert_allclose(net.cumulative_losses_, losses, rtol=1e-5)
        # eta is in units of cross-entropy: the doubled loss has unit 2, so
        # the weights are those of the plain losses at eta 0.5
        assert net.loss_unit() == pytest.approx(2.0)
        w = np.exp(-0.5 / 2.0 * (losses - losses.min()))
        np.testing.assert_allclose(net.sample_weights_, w / w.sum(), rtol=1e-4)
        # and training was weighted: the first epoch's loss is twice plain CE
        assert net.history[0, "train_loss"] == pytest.approx(losses.mean(), rel=1e-4)

    def test_criterion_with_another_name(self, small_digits):
        X, y = small_digits

        class Renamed(MRClassifier):
            def initialize_criterion(self):
                self.mycriterion_ = torch.nn.NLLLoss()
                return self

            def get_loss(self, y_pred, y_true, *args, **kwargs):
                return self.mycriterion_(torch.log_softmax(y_pred, 1), to_tensor_(y_true))

        torch.manual_seed(0)
        net = make_net(Renamed, max_epochs=1, lr=0.0).fit(X, y)
        np.testing.assert_allclose(net.cumulative_losses_, hand_losses(net, X, y), rtol=1e-5)
        assert net.mycriterion_.reduction == "mean"  # restored after each call

    def test_loss_scoring(self, small_digits):
        from skorch.scoring import loss_scoring
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        expected = hand_losses(net, X, y)
        assert loss_scoring(net, X, y) == pytest.approx(expected.mean(), rel=1e-5)
        net.set_params(criterion__reduction="none")
        np.testing.assert_allclose(loss_scoring(net, X, y), expected, rtol=1e-5)

    def test_iterator_train_receives_the_users_dataset(self, small_digits):
        X, y = small_digits
        seen = []

        class ClassBalancedLoader(torch.utils.data.DataLoader):
            def __init__(self, dataset, **kwargs):
                seen.append(dataset)
                labels = np.asarray(dataset.y)  # a loader reading dataset.y
                weights = 1.0 / np.bincount(labels)[labels]
                kwargs.pop("shuffle", None)
                sampler = torch.utils.data.WeightedRandomSampler(
                    weights, len(labels), generator=torch.Generator().manual_seed(0))
                super().__init__(dataset, sampler=sampler, **kwargs)

        net = make_net(iterator_train=ClassBalancedLoader, max_epochs=1).fit(X, y)
        assert type(seen[0]).__name__ == "Dataset" and np.array_equal(seen[0].y, y)
        assert net.mr_.n_updates_ == 1

    def test_positions_follow_a_custom_sampler(self, small_digits):
        # Batches drawn with replacement in any order: each training loss is
        # recorded at the position of the example it belongs to.
        X, y = small_digits
        torch.manual_seed(0)
        sampler = torch.utils.data.RandomSampler(range(len(X)), replacement=True,
                                                 generator=torch.Generator().manual_seed(1))
        net = make_net(loss_pass="online", max_epochs=1, lr=0.0, eta=1.0,
                       iterator_train__sampler=sampler, iterator_train__shuffle=False).fit(X, y)
        seen = net.mr_.online_seen_.numpy()
        losses = hand_losses(net, X, y)
        np.testing.assert_allclose(net.mr_.online_losses_.numpy()[seen], losses[seen], rtol=1e-5)
        # unseen examples got the mean loss of the seen ones
        np.testing.assert_allclose(net.cumulative_losses_[~seen], losses[seen].mean(), rtol=1e-5)

    def test_non_dataloader_iterator_is_refused(self, small_digits):
        X, y = small_digits

        def batches(dataset, batch_size, **kwargs):
            return [default_batch(dataset, range(i, min(i + batch_size, len(dataset))))
                    for i in range(0, len(dataset), batch_size)]

        with pytest.raises(TypeError, match="iterator_train must build a"):
            make_net(iterator_train=batches).fit(X, y)


def to_tensor_(y):
    return torch.as_tensor(np.asarray(y)) if not torch.is_tensor(y) else y


def default_batch(dataset, index):
    from torch.utils.data import default_collate
    return default_collate([dataset[i] for i in index])


class TestCriteria:
    def test_class_weights_normalize_by_total_weight(self, small_digits):
        X, y = small_digits
        weight = torch.linspace(0.5, 2.0, 10)
        histories = []
        for cls in (NeuralNetClassifier, MRClassifier):
            torch.manual_seed(0)
            kwargs = dict(criterion=torch.nn.CrossEntropyLoss, criterion__weight=weight,
                          max_epochs=3, train_split=ValidSplit(5))
            if cls is MRClassifier:
                kwargs["eta"] = 0.0
            net = make_net(cls, **kwargs).fit(X, y)
            histories.append(net.history[:, ("train_loss", "valid_loss")])
        np.testing.assert_allclose(histories[0], histories[1], rtol=1e-6, atol=1e-7)

    def test_mw_losses_exclude_the_class_weight(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        net = make_net(criterion__weight=torch.linspace(0.5, 2.0, 10), max_epochs=1,
                       lr=0.0).fit(X, y)
        np.testing.assert_allclose(net.cumulative_losses_, hand_losses(net, X, y), rtol=1e-5)

    def test_ignore_index_examples_weigh_nothing(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1, criterion__ignore_index=3).fit(X, y)
        positions = torch.arange(6)
        net.batch_positions_ = positions
        y_pred = net.module_(torch.as_tensor(X[:6]))
        target = torch.as_tensor(y[:6]).clone()
        target[[1, 4]] = 3
        loss = net.get_weighted_loss(y_pred, target)
        keep = target != 3
        p = torch.as_tensor(net.sample_weights_[:6], dtype=torch.float32)
        ce = torch.nn.functional.cross_entropy(y_pred, target, reduction="none",
                                               ignore_index=3)
        assert loss.item() == pytest.approx(((p * ce).sum() / p[keep].sum()).item(), rel=1e-5)

    @pytest.mark.parametrize("reduction", ["mean", "sum"])
    def test_reduction_of_the_weighted_losses(self, small_digits, reduction):
        X, y = small_digits
        net = make_net(max_epochs=1, criterion__reduction=reduction).fit(X, y)
        assert net.criterion_.reduction == reduction  # as skorch built it
        net.batch_positions_ = torch.tensor([0, 5, 7])
        y_pred = net.module_(torch.as_tensor(X[[0, 5, 7]]))
        target = torch.as_tensor(y[[0, 5, 7]])
        losses = torch.nn.functional.cross_entropy(y_pred, target, reduction="none")
        p = torch.as_tensor(net.sample_weights_[[0, 5, 7]], dtype=torch.float32)
        mean = (p * losses).sum() / p.sum()
        expected = mean if reduction == "mean" else 3 * mean
        assert net.get_weighted_loss(y_pred, target).item() == pytest.approx(
            expected.item(), rel=1e-5)
        # outside training, get_loss is skorch's (criterion's own reduction)
        plain = losses.mean() if reduction == "mean" else losses.sum()
        assert net.get_loss(y_pred, target).item() == pytest.approx(plain.item(), rel=1e-6)

    def test_scalar_criterion_raises(self, small_digits):
        X, y = small_digits

        class MeanCE(torch.nn.Module):
            def forward(self, y_pred, y_true):
                return torch.nn.functional.cross_entropy(y_pred, y_true)

        with pytest.raises(ValueError, match="one number for the batch cannot be reweighted"):
            make_net(criterion=MeanCE).fit(X, y)

    @pytest.mark.parametrize("criterion", ["AutoCrossEntropyLoss", "default"])
    def test_probability_outputs_train_on_their_log(self, small_digits, criterion):
        from sk_mr.losses import AutoCrossEntropyLoss

        X, y = small_digits
        # MR's Auto criteria (cross-entropy, and the default symmetric
        # cross-entropy) against skorch's NLLLoss convention, and a softmax
        # module against the logits module with the same initial weights
        rows = [(MRClassifier, SoftmaxMLP), (MRClassifier, TinyMLP)]
        if criterion == "AutoCrossEntropyLoss":
            rows.insert(0, (NeuralNetClassifier, SoftmaxMLP))
        histories = []
        for cls, module in rows:
            torch.manual_seed(0)
            kwargs = dict(module=module, max_epochs=3, train_split=ValidSplit(5))
            if cls is NeuralNetClassifier:
                kwargs["criterion"] = torch.nn.NLLLoss
            else:
                kwargs["eta"] = 0.0
                kwargs["criterion"] = (AutoCrossEntropyLoss if criterion != "default"
                                       else MRClassifier.__init__.__kwdefaults__["criterion"])
            net = make_net(cls, **kwargs).fit(X, y)
            histories.append(net.history[:, ("train_loss", "valid_loss")])
            proba = net.predict_proba(X)
            with torch.no_grad():
                out = net.module_(torch.as_tensor(X))
            expected = out if module is SoftmaxMLP else torch.softmax(out, 1)
            np.testing.assert_allclose(proba, expected.numpy(), rtol=1e-5, atol=1e-6)
        # skorch's NLLLoss convention and MR's cross-entropy give the same
        # training, and a logits module trains the same way as a softmax one
        for history in histories[1:]:
            np.testing.assert_allclose(histories[0], history, rtol=1e-4)

    def test_bce_with_float_targets_is_not_cast(self):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 5)).astype(np.float32)
        y = (X[:, 0] > 0).astype(np.float32)

        class OneLogit(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(5, 1)

            def forward(self, X):
                return self.lin(X).squeeze(-1)

        torch.manual_seed(0)
        net = make_net(module=OneLogit, criterion=torch.nn.BCEWithLogitsLoss,
                       max_epochs=2, lr=0.0).fit(X, y)
        net.module_.eval()
        with torch.no_grad():
            expected = torch.nn.functional.binary_cross_entropy_with_logits(
                net.module_(torch.as_tensor(X)), torch.as_tensor(y), reduction="none")
        np.testing.assert_allclose(net.cumulative_losses_, 2 * expected.double().numpy(),
                                   rtol=1e-5)


class TestLabels:
    @pytest.mark.parametrize("names", [np.array(list("abcdefghij")), np.arange(3, 13),
                                       np.linspace(-1, 1, 10)])
    def test_any_labels_and_predict_returns_them(self, small_digits, names):
        X, y = small_digits
        torch.manual_seed(0)
        labelled = make_net(max_epochs=2).fit(X, names[y])
        torch.manual_seed(0)
        indexed = make_net(max_epochs=2).fit(X, y)
        np.testing.assert_array_equal(labelled.classes_, names)  # names are sorted
        assert labelled.label_classes_ is not None
        # label k is output k: the same training as with the indices
        np.testing.assert_array_equal(labelled.cumulative_losses_, indexed.cumulative_losses_)
        np.testing.assert_array_equal(labelled.predict_proba(X), indexed.predict_proba(X))
        np.testing.assert_array_equal(labelled.predict(X), names[indexed.predict(X)])

    def test_integer_indices_behave_as_before(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        assert net.label_classes_ is None
        np.testing.assert_array_equal(net.classes_, np.arange(10))
        np.testing.assert_array_equal(net.predict(X), net.predict_proba(X).argmax(1))

    def test_indices_with_absent_classes_stay_indices(self, small_digits):
        # e.g. a fold without class 1: y holds output indices of a 10-output module
        X, y = small_digits
        keep = (y != 1) & (y != 4)
        net = make_net(max_epochs=1).fit(X[keep], y[keep])
        assert net.label_classes_ is None
        assert net.predict(X).max() <= 9

    def test_classes_parameter(self, small_digits):
        X, y = small_digits
        names = np.array(list("jihgfedcba"))
        net = make_net(max_epochs=1, classes=list(names)).fit(X, names[y])
        np.testing.assert_array_equal(net.classes_, names)
        np.testing.assert_array_equal(net.predict(X), names[net.predict_proba(X).argmax(1)])
        # skorch's convention: classes names the outputs, y holds indices
        net = make_net(max_epochs=1, classes=list(names)).fit(X, y)
        np.testing.assert_array_equal(net.classes_, names)
        assert net.label_classes_ is None

    def test_partial_fit_with_unseen_label_is_refused(self, small_digits):
        X, y = small_digits
        names = np.array(list("abcdefghij"))
        net = make_net(max_epochs=1).fit(X, names[y])
        bad = names[y].astype(object)
        bad[0] = "zebra"
        before = net.sample_weights_.copy()
        with pytest.raises(ValueError, match="not fitted on"):
            net.partial_fit(X, bad)
        np.testing.assert_array_equal(net.sample_weights_, before)

    def test_module_outputs_must_match_encoded_labels(self, small_digits):
        X, y = small_digits
        with pytest.raises(ValueError, match="10 distinct labels"):
            make_net(module__n_classes=12).fit(X, np.array(list("abcdefghij"))[y])

    def test_robustness_report_encodes_labels(self, small_digits):
        pytest.importorskip("torchattacks")
        from sk_mr.adversarial import robustness_report
        X, y = small_digits
        names = np.array(list("abcdefghij"))
        net = make_net(max_epochs=2).fit(X, names[y])
        records = robustness_report(net, X[:50], names[y[:50]], attacks=(), eps=())
        assert records[0]["accuracy"] == pytest.approx(
            np.mean(net.predict(X[:50]) == names[y[:50]]))


class TestSklearnChecks:
    """scikit-learn's estimator checks that skorch itself does not pass."""

    @staticmethod
    def estimator():
        class OutputsPerLabel(MRClassifier):
            # sklearn's checks fit one estimator on 2 and on 3 classes: size the
            # output layer from the labels given to fit (known before the module
            # is built), as a user would with module__n_classes.
            def initialize_module(self):
                checked = getattr(self, "_checked_inputs", None) or {}
                labels = (checked.get("targets") or {}).get("label_classes")
                kwargs = self.get_params_for("module")
                kwargs["n_classes"] = 3 if labels is None else len(labels)
                self.module_ = self.initialized_instance(self.module, kwargs)
                return self

        return OutputsPerLabel(TinyMLP, module__in_features=2, max_epochs=5, lr=0.1,
                               train_split=None, verbose=0, random_state=0)

    def test_check_classifiers_classes(self):
        from sklearn.utils.estimator_checks import check_classifiers_classes
        check_classifiers_classes("MRClassifier", self.estimator())

    def test_check_n_features_in(self):
        from sklearn.utils.estimator_checks import check_n_features_in
        check_n_features_in("MRClassifier", self.estimator())

    def test_check_fit_idempotent(self):
        from sklearn.utils.estimator_checks import check_fit_idempotent
        check_fit_idempotent("MRClassifier", self.estimator())


class TestRandomState:
    def test_seeded_fit_is_reproducible_and_leaves_global_rng(self, small_digits):
        X, y = small_digits
        state = torch.get_rng_state().clone()
        a = make_net(module__dropout=0.5, random_state=0, max_epochs=2,
                     iterator_train__shuffle=True).fit(X, y)
        assert torch.equal(torch.get_rng_state(), state)
        torch.manual_seed(123)  # the global RNG plays no part
        b = make_net(module__dropout=0.5, random_state=0, max_epochs=2,
                     iterator_train__shuffle=True).fit(X, y)
        np.testing.assert_array_equal(a.history[:, "train_loss"], b.history[:, "train_loss"])
        np.testing.assert_array_equal(a.sample_weights_, b.sample_weights_)
        c = make_net(module__dropout=0.5, random_state=1, max_epochs=2,
                     iterator_train__shuffle=True).fit(X, y)
        assert not np.array_equal(a.history[:, "train_loss"], c.history[:, "train_loss"])

    def test_unseeded_mixup_fit_is_reproducible_after_torch_manual_seed(self, small_digits):
        # random_state=None draws from torch's global RNG, as skorch does:
        # mixup's lam and pairing too (they once came from fresh OS entropy,
        # so two fits after the same torch.manual_seed differed)
        X, y = small_digits

        def fit(seed):
            torch.manual_seed(seed)
            return make_net(mixup_alpha=1.0, max_epochs=2, iterator_train__shuffle=True,
                            random_state=None).fit(X, y)

        a, b, c = fit(0), fit(0), fit(1)
        np.testing.assert_array_equal(a.history[:, "train_loss"], b.history[:, "train_loss"])
        for p, q in zip(a.module_.parameters(), b.module_.parameters()):
            assert torch.equal(p, q)
        assert not np.array_equal(a.history[:, "train_loss"], c.history[:, "train_loss"])
        # the host draws came from a generator seeded from the global RNG
        assert type(a.rng_).__name__ == "GlobalSeededRNG" and a.rng_.generator_ is not None


class TestNoSilentState:
    def test_online_non_finite_loss_raises_in_its_epoch(self, small_digits):
        X, y = small_digits
        net = make_net(loss_pass="online", max_epochs=1, warm_start=True).fit(X, y)
        before = net.cumulative_losses_.copy()
        with torch.no_grad():
            net.module_.net[-1].bias.fill_(float("inf"))
        with pytest.raises(ValueError, match="epoch 2"):
            net.fit(X, y)
        np.testing.assert_array_equal(net.cumulative_losses_, before)

    def test_eta_overflow_is_exact(self, small_digits):
        X, y = small_digits
        net = make_net(eta=1e308, max_epochs=2).fit(X, y)
        p = net.sample_weights_
        L = net.cumulative_losses_
        assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
        winners = L == L.min()
        np.testing.assert_allclose(p[winners], 1 / winners.sum())
        assert np.all(p[~winners] == 0)

    def test_partial_fit_on_other_data_of_the_same_size_is_refused(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X[:150], y[:150])
        before = net.cumulative_losses_.copy()
        n_epochs = len(net.history)
        with pytest.raises(ValueError, match="new experts"):
            net.partial_fit(X[150:], y[150:])
        np.testing.assert_array_equal(net.cumulative_losses_, before)
        assert len(net.history) == n_epochs
        net.partial_fit(X[:150], y[:150])  # the same data continues
        assert net.mr_.n_updates_ == 2

    def test_default_checkpoint_resumes_mr(self, small_digits, tmp_path):
        X, y = small_digits
        cp = Checkpoint(dirname=str(tmp_path), monitor=None)  # skorch's default files
        torch.manual_seed(0)
        first = make_net(max_epochs=2, callbacks=[cp]).fit(X, y)
        resumed = make_net(max_epochs=1, callbacks=[
            Checkpoint(dirname=str(tmp_path), monitor=None), LoadInitState(cp)])
        resumed.fit(X, y)
        assert resumed.mr_.n_updates_ == first.mr_.n_updates_ + 1
        np.testing.assert_allclose(resumed.cumulative_losses_,
                                   first.cumulative_losses_ + hand_losses(resumed, X, y),
                                   rtol=1e-5)

    @pytest.mark.parametrize("use_safetensors", [False, True])
    def test_criterion_file_holds_mr_state(self, fitted, tmp_path, use_safetensors):
        pytest.importorskip("safetensors") if use_safetensors else None
        fitted.save_params(f_criterion=tmp_path / "c", use_safetensors=use_safetensors)
        fresh = make_net().initialize()
        fresh.load_params(f_criterion=tmp_path / "c", use_safetensors=use_safetensors)
        np.testing.assert_array_equal(fresh.sample_weights_, fitted.sample_weights_)
        np.testing.assert_array_equal(fresh.cumulative_losses_, fitted.cumulative_losses_)

    def test_restoring_history_without_mr_state_warns(self, small_digits, tmp_path):
        from sk_mr.exceptions import MRStateWarning
        X, y = small_digits
        cp = Checkpoint(dirname=str(tmp_path), monitor=None, f_criterion=None)
        make_net(max_epochs=2, callbacks=[cp]).fit(X, y)
        resumed = make_net(max_epochs=1, callbacks=[LoadInitState(cp)])
        with pytest.warns(MRStateWarning, match="uniform weights"):
            resumed.fit(X, y)

    def test_pickled_checkpoint_holds_no_training_data(self, small_digits, tmp_path):
        X, y = small_digits
        X = np.repeat(X, 20, axis=0)  # 6000 rows: data would dominate the file
        y = np.repeat(y, 20)
        sizes = {}
        for cls in (NeuralNetClassifier, MRClassifier):
            cp = Checkpoint(dirname=str(tmp_path / cls.__name__), monitor=None,
                            f_pickle="net.pkl", f_params=None, f_optimizer=None,
                            f_criterion=None, f_history=None)
            kwargs = dict(max_epochs=1, callbacks=[cp], updates_per_epoch=2) \
                if cls is MRClassifier else dict(max_epochs=1, callbacks=[cp])
            make_net(cls, **kwargs).fit(X, y)
            sizes[cls] = (tmp_path / cls.__name__ / "net.pkl").stat().st_size
        # MR adds its per-example state (a few float64 vectors), never the data
        assert sizes[MRClassifier] < sizes[NeuralNetClassifier] + 6000 * 8 * 6
        assert sizes[MRClassifier] < X.nbytes / 2


class TestAutoEta:
    """eta='auto': the rule of sk_mr.mw.AutoEta, wired into the MW update."""

    def test_weights_follow_the_rule_and_history_records_its_eta(self, noisy_data):
        from sk_mr.mw import AutoEta
        X, y_noisy, is_noisy = noisy_data
        # 40 epochs: this small MLP needs 20 to 30 before the rule's windows
        # count (a tenth of the examples fitted below ln(10) / 2); with 30,
        # unseeded, the rule had not started yet in about a third of the runs
        # (seeds 0-7 all start it by epoch 40)
        # (fallback_loss=None: where the gate closes MR keeps stepping the rule)
        net = make_net(eta="auto", max_epochs=40, lr=0.1, random_state=0,
                       fallback_loss=None).fit(X, y_noisy)
        rule = net.mr_.eta_rule_
        assert isinstance(rule, AutoEta) and rule.n_updates_ == 40
        np.testing.assert_array_equal(net.history[:, "mr_eta"], rule.etas_)
        # the weights are softmax(-eta L) with the rule's last eta
        L = net.cumulative_losses_
        p = np.exp(-rule.etas_[-1] * (L - L.min()))
        np.testing.assert_allclose(net.sample_weights_, p / p.sum(), rtol=1e-9)
        # 40% noise: the rule found misfit examples and set weight aside
        assert rule.kl_targets_[-1] > 0 and rule.etas_[-1] > 0
        w = net.sample_weights_
        assert w[is_noisy].mean() < w[~is_noisy].mean()

    def test_chance_loss_is_ln_k(self, small_digits):
        X, y = small_digits
        net = make_net(max_epochs=1).fit(X, y)
        assert net.chance_loss() == pytest.approx(np.log(10), rel=1e-6)

    def test_warm_start_continues_the_rule_cold_fit_restarts_it(self, small_digits):
        X, y = small_digits
        net = make_net(eta="auto", max_epochs=2, warm_start=True).fit(X, y)
        net.fit(X, y)
        assert net.mr_.eta_rule_.n_updates_ == 4
        assert net.mr_.planned_epochs_ == 4
        net.set_params(warm_start=False).fit(X, y)
        assert net.mr_.eta_rule_.n_updates_ == 2

    def test_checkpoint_keeps_the_rules_counters(self, small_digits, tmp_path):
        X, y = small_digits
        net = make_net(eta="auto", max_epochs=3).fit(X, y)
        net.save_params(f_criterion=tmp_path / "c.pt")
        fresh = make_net(eta="auto", max_epochs=1).initialize()
        fresh.load_params(f_criterion=tmp_path / "c.pt")
        fresh.partial_fit(X, y)
        assert fresh.mr_.eta_rule_.n_updates_ == net.mr_.eta_rule_.n_updates_ + 1

    def test_regressor_refuses_auto(self):
        from sk_mr import MRRegressor
        X = np.zeros((20, 3), np.float32)
        y = np.zeros((20, 1), np.float32)
        net = MRRegressor(torch.nn.Linear, module__in_features=3, module__out_features=1,
                          eta="auto", max_epochs=1, train_split=None, verbose=0)
        with pytest.raises(ValueError, match="know-nothing prediction, which MRRegressor "
                           "does not define.*pass a float eta"):
            net.fit(X, y)
        assert not net.initialized_  # refused before anything was built

    @pytest.mark.parametrize("bad", ["automatic", "AUTO"])
    def test_bad_strings(self, small_digits, bad):
        X, y = small_digits
        with pytest.raises(TypeError, match="'auto'"):
            make_net(eta=bad).fit(X, y)


class _StepStates(Callback):
    """The module state after each training step (after the net's own hook),
    and each epoch's number of steps."""

    def initialize(self):
        self.states, self.steps_per_epoch = [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.steps_per_epoch.append(0)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.states.append({k: v.detach().clone()
                                for k, v in net.module_.state_dict().items()})
            self.steps_per_epoch[-1] += 1


class TestAverageWeights:
    @pytest.fixture
    def noisy_digits(self, digits):
        # all of digits (1797 rows: 15 batches of 128 an epoch), 40% uniform
        # noise: eta='auto' leaves uniform weights at epoch 6 of this schedule
        X, y = digits
        y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
        return X, y_noisy, is_noisy

    def fit(self, noisy_digits, estimator=MRClassifier, **params):
        X, y, _ = noisy_digits
        states = _StepStates()
        base = dict(module=TinyMLP, max_epochs=20, lr=0.05, optimizer__momentum=0.9,
                    batch_size=128, train_split=None, verbose=0, random_state=0,
                    callbacks=[("states", states)])
        base.update(params)
        torch.manual_seed(0)
        net = estimator(**base).fit(X, y)
        assert states.steps_per_epoch == [15] * len(net.history)
        return net, states.states

    def test_the_fitted_module_is_the_mean_of_the_last_steps(self, noisy_digits):
        net, states = self.fit(noisy_digits, average_weights=0.2)
        plain, plain_states = self.fit(noisy_digits, average_weights=None)
        # MR acted: its weights left uniform (the condition for averaging)
        assert max(net.history[:, "mr_eta"]) > 0
        # training itself is unchanged: the same steps, bit for bit
        assert net.history[:, "train_loss"] == plain.history[:, "train_loss"]
        assert len(states) == len(plain_states) == 300
        for a, b in zip(states, plain_states):
            assert all(torch.equal(a[k], b[k]) for k in a)
        # the fitted parameters: the mean of those after the last
        # round(0.2 * 20 epochs * 15 steps) = 60 steps (an independent
        # computation), not the last step's
        assert net.averaged_steps_ == 60 and plain.averaged_steps_ == 0
        fitted = net.module_.state_dict()
        for key in fitted:
            mean = torch.stack([s[key] for s in states[-60:]]).mean(0)
            torch.testing.assert_close(fitted[key], mean, rtol=1e-5, atol=1e-6)
            assert not torch.allclose(fitted[key], torch.stack(
                [s[key] for s in states[-61:-1]]).mean(0), rtol=1e-5, atol=1e-6)
            assert not torch.equal(fitted[key], states[-1][key])
        assert all(torch.equal(v, plain_states[-1][k])
                   for k, v in plain.module_.state_dict().items())
        X = noisy_digits[0]
        np.testing.assert_allclose(
            net.predict_proba(X), torch.softmax(net.module_(torch.as_tensor(X)), -1)
            .detach().numpy(), rtol=1e-6)

    def test_the_default_averages_the_last_tenth_of_the_steps(self, noisy_digits):
        # MRClassifier's default (the average_steps@0.1/long lead of
        # benchmarks/auto_eta_leads.py): round(0.1 * 300) = 30 steps
        net, states = self.fit(noisy_digits)
        assert net.average_weights == 0.1 and net.averaged_steps_ == 30
        for key, value in net.module_.state_dict().items():
            torch.testing.assert_close(
                value, torch.stack([s[key] for s in states[-30:]]).mean(0),
                rtol=1e-5, atol=1e-6)

    def test_the_earlier_default_averaged_the_ends_of_the_last_epochs(self, noisy_digits):
        # the average@0.1 lead (the default before average_steps): the states
        # at the ends of the last round(0.1 * 20) = 2 epochs
        class EpochAveraged(MRClassifier):
            _average_every_step = False

        net, states = self.fit(noisy_digits, estimator=EpochAveraged)
        assert net.averaged_steps_ == 2
        for key, value in net.module_.state_dict().items():
            torch.testing.assert_close(
                value, (states[-16][key] + states[-1][key]) / 2, rtol=1e-6, atol=1e-7)

    @pytest.mark.parametrize("params", [
        dict(eta=0.5),  # a float eta: the paper's MR, no gate
        dict(criterion=torch.nn.MultiMarginLoss),  # not of cross-entropy's family
        dict(average_weights=1.0, max_epochs=2),  # MR's weights never left uniform
    ])
    def test_where_it_does_not_average_the_last_step_stays(self, noisy_digits, params):
        params = dict(dict(average_weights=0.2), **params)
        net, states = self.fit(noisy_digits, **params)
        assert net.averaged_steps_ == 0
        if params.get("max_epochs") == 2:
            assert max(net.history[:, "mr_eta"]) == 0  # the condition, not the window
        assert all(torch.equal(v, states[-1][k]) for k, v in net.module_.state_dict().items())

    @pytest.mark.parametrize("max_epochs, steps", [(15, 22), (14, 21), (8, 12)])
    def test_any_schedule_averages_its_last_tenth(self, noisy_digits, max_epochs, steps):
        # the default since the average_steps@0.1 lead held on round E: the
        # last round(0.1 * max_epochs * 15) steps, also where that window
        # spans under two epochs (14 and 8 epochs: round(0.1 * E) = 1)
        net, states = self.fit(noisy_digits, max_epochs=max_epochs)
        assert max(net.history[:, "mr_eta"]) > 0
        assert net.averaged_steps_ == steps
        for key, value in net.module_.state_dict().items():
            torch.testing.assert_close(
                value, torch.stack([s[key] for s in states[-steps:]]).mean(0),
                rtol=1e-5, atol=1e-6)
        # the default before it (average_steps@0.1/long) kept the last step
        # of a schedule whose window spans under two epochs
        class TwoEpochWindow(MRClassifier):
            _average_min_epochs = 2

        before, before_states = self.fit(noisy_digits, estimator=TwoEpochWindow,
                                         max_epochs=max_epochs)
        assert before.averaged_steps_ == (steps if max_epochs >= 15 else 0)
        if max_epochs < 15:
            assert all(torch.equal(v, before_states[-1][k])
                       for k, v in before.module_.state_dict().items())

    def test_each_call_averages_its_own_last_steps(self, noisy_digits):
        # a warm start (partial_fit) averages the last steps of its call,
        # from the averaged parameters the previous call left
        net, _ = self.fit(noisy_digits, average_weights=0.5, max_epochs=8)
        assert net.averaged_steps_ == 60
        start = {k: v.clone() for k, v in net.module_.state_dict().items()}
        recorder = dict(net.callbacks)["states"]
        net.partial_fit(*noisy_digits[:2])
        assert len(net.history) == 16 and net.averaged_steps_ == 60
        assert len(recorder.states) == 240
        fitted = net.module_.state_dict()
        for key in fitted:
            mean = torch.stack([s[key] for s in recorder.states[-60:]]).mean(0)
            torch.testing.assert_close(fitted[key], mean, rtol=1e-5, atol=1e-6)
            assert not torch.equal(fitted[key], start[key])

    @pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, True, "last", float("nan")])
    def test_bad_values_are_refused_by_name(self, noisy_digits, value):
        X, y, _ = noisy_digits
        net = MRClassifier(TinyMLP, max_epochs=1, train_split=None, verbose=0,
                           average_weights=value)
        with pytest.raises(ValueError, match=r"average_weights must be a fraction .* got "
                           + repr(value).replace("(", r"\(")):
            net.fit(X, y)
        assert not getattr(net, "initialized_", False) or not hasattr(net, "history_") \
            or len(net.history) == 0
