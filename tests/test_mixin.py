"""Tests of sk_mr.mixin: one MR mechanism for the classifier, binary classifier and regressor.

Each behaviour of the mixin is checked on all three estimators (and on a
user's own NeuralNet subclass): plain training at eta=0, Algorithm 1's
losses, persistence, scikit-learn integration and bad input.
"""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNet, NeuralNetBinaryClassifier, NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import Checkpoint, LoadInitState
from skorch.dataset import ValidSplit

from conftest import TinyMLP
from sk_mr import (MRBinaryClassifier, MRClassifier, MRMixin, MRRegressor, add_label_noise,
                   add_target_outliers)

F = torch.nn.functional


class MRNet(MRMixin, NeuralNet):
    """A user's own net: the mixin on skorch's base class."""


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    y = (y - y.mean()) / y.std()
    return X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def task_setup(task, small_digits, regression_data):
    """(MR class, skorch class, data, params, per-example loss function)."""
    X, y = small_digits
    # the full loss pass: the hand computations are Algorithm 1's losses
    params = dict(module=TinyMLP, max_epochs=3, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, loss_pass="full")
    if task == "classifier":
        return (MRClassifier, NeuralNetClassifier, (X, y),
                dict(params, criterion=torch.nn.CrossEntropyLoss),
                lambda out, t: F.cross_entropy(out, t, reduction="none"))
    if task == "binary":
        return (MRBinaryClassifier, NeuralNetBinaryClassifier,
                (X, (y % 2).astype(np.float32)), dict(params, module__n_classes=1),
                lambda out, t: F.binary_cross_entropy_with_logits(
                    out.reshape(-1), t, reduction="none"))
    Xr, yr = regression_data
    if task == "regressor":
        return (MRRegressor, NeuralNetRegressor, (Xr, yr),
                dict(params, module__in_features=5, module__n_classes=1, lr=0.05),
                lambda out, t: F.mse_loss(out, t, reduction="none")[:, 0])
    assert task == "custom_net"
    return (MRNet, NeuralNet, (Xr, yr),
            dict(params, module__in_features=5, module__n_classes=1, lr=0.05,
                 criterion=torch.nn.MSELoss),
            lambda out, t: F.mse_loss(out, t, reduction="none")[:, 0])


TASKS = ["classifier", "binary", "regressor", "custom_net"]


@pytest.fixture(params=TASKS)
def task(request, small_digits, regression_data):
    return task_setup(request.param, small_digits, regression_data)


def hand_losses(net, X, y, loss_fn):
    net.module_.eval()
    with torch.no_grad():
        return loss_fn(net.module_(torch.as_tensor(X)), torch.as_tensor(y)).double().numpy()


class TestOneMechanism:
    def test_eta_zero_trains_as_skorch(self, task):
        mr_cls, skorch_cls, (X, y), params, _ = task
        histories = []
        skorch_params = {k: v for k, v in params.items() if k != "loss_pass"}
        for cls, kwargs in ((skorch_cls, skorch_params),
                            (mr_cls, dict(params, eta=0.0, loss_pass="full")),
                            (mr_cls, dict(params, eta=0.0, loss_pass="online"))):
            torch.manual_seed(0)
            split = {} if skorch_cls is NeuralNet else {"train_split": ValidSplit(5)}
            net = cls(**dict(kwargs, **split)).fit(X, y)
            keys = ("train_loss", "valid_loss") if split else ("train_loss",)
            histories.append(net.history[:, keys])
        np.testing.assert_allclose(histories[0], histories[1], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(histories[0], histories[2], rtol=1e-6, atol=1e-7)

    def test_cumulative_losses_are_the_criterions(self, task):
        mr_cls, _, (X, y), params, loss_fn = task
        torch.manual_seed(0)
        net = mr_cls(**dict(params, max_epochs=2, lr=0.0, eta=0.5)).fit(X, y)
        losses = hand_losses(net, X, y, loss_fn)
        np.testing.assert_allclose(net.cumulative_losses_, 2 * losses, rtol=1e-5)
        unit = 1.0  # cross-entropy's, BCE's, and a user's own net's
        if mr_cls is MRRegressor:  # squared error: the targets' variance, robustly
            unit = (np.median(np.abs(y - np.median(y))) / 0.6744897501960817) ** 2
            assert unit != pytest.approx(1.0, abs=0.02)  # 0.96: it shows in the weights
        w = np.exp(-0.5 / unit * 2 * (losses - losses.min()))
        np.testing.assert_allclose(net.sample_weights_, w / w.sum(), rtol=1e-4)

    def test_pickle_clone_and_joblib(self, task, tmp_path):
        mr_cls, _, (X, y), params, _ = task
        net = mr_cls(**params).fit(X, y)
        for restored in (pickle.loads(pickle.dumps(net)),
                         joblib.load(joblib.dump(net, tmp_path / "n.joblib")[0])):
            np.testing.assert_array_equal(restored.sample_weights_, net.sample_weights_)
            np.testing.assert_array_equal(restored.predict(X), net.predict(X))
        cloned = clone(net)
        assert cloned.get_params()["eta"] == net.eta and not hasattr(cloned, "callbacks_")

    def test_default_checkpoint_resumes_mr(self, task, tmp_path):
        mr_cls, _, (X, y), params, loss_fn = task
        cp = Checkpoint(dirname=str(tmp_path), monitor=None)
        first = mr_cls(**dict(params, max_epochs=2, callbacks=[cp])).fit(X, y)
        resumed = mr_cls(**dict(params, max_epochs=1, callbacks=[LoadInitState(cp)]))
        resumed.fit(X, y)
        np.testing.assert_allclose(resumed.cumulative_losses_,
                                   first.cumulative_losses_ + hand_losses(resumed, X, y, loss_fn),
                                   rtol=1e-5)

    def test_partial_fit_on_other_data_is_refused(self, task):
        mr_cls, _, (X, y), params, _ = task
        net = mr_cls(**params).fit(X[:150], y[:150])
        before = net.cumulative_losses_.copy()
        with pytest.raises(ValueError, match="new experts"):
            net.partial_fit(X[150:], y[150:])
        np.testing.assert_array_equal(net.cumulative_losses_, before)

    @pytest.mark.parametrize("bad, match", [(dict(eta=-1.0), "eta"),
                                            (dict(loss_pass="half"), "loss_pass")])
    def test_bad_params_leave_the_fitted_net_intact(self, task, bad, match):
        mr_cls, _, (X, y), params, _ = task
        net = mr_cls(**params).fit(X, y)
        before, module = net.sample_weights_.copy(), net.module_
        net.set_params(**bad)
        with pytest.raises(ValueError, match=match):
            net.fit(X, y)
        assert net.module_ is module
        np.testing.assert_array_equal(net.sample_weights_, before)

    def test_bad_data(self, task):
        mr_cls, _, (X, y), params, _ = task
        X_bad = X.copy()
        X_bad[3, 0] = np.nan
        with pytest.raises(ValueError, match="X contains 1 NaN"):
            mr_cls(**params).fit(X_bad, y)
        with pytest.raises(ValueError, match="inconsistent lengths"):
            mr_cls(**params).fit(X[:-1], y)

    def test_grid_search_over_eta_in_a_pipeline(self, task):
        mr_cls, _, (X, y), params, _ = task
        # a bare NeuralNet has no score method: the search is given a scorer
        scoring = "neg_mean_squared_error" if mr_cls is MRNet else None
        pipe = Pipeline([("scale", StandardScaler()), ("net", mr_cls(**params))])
        search = GridSearchCV(pipe, {"net__eta": [0.0, 0.3]}, cv=2, error_score="raise",
                              scoring=scoring)
        search.fit(X.astype(np.float64), y)
        best = search.best_estimator_.named_steps["net"]
        np.testing.assert_array_equal(best.history[:, "mr_eta"],
                                      [search.best_params_["net__eta"]] * 3)


class TestBinary:
    @pytest.fixture
    def binary(self, small_digits):
        X, y = small_digits
        return X, np.where(y % 2 == 0, "even", "odd")

    def make(self, **kwargs):
        params = dict(module=TinyMLP, module__n_classes=1, max_epochs=5, lr=0.1,
                      train_split=None, verbose=0, random_state=0)
        params.update(kwargs)
        return MRBinaryClassifier(**params)

    def test_any_two_labels(self, binary):
        X, labels = binary
        net = self.make().fit(X, labels)
        indexed = self.make().fit(X, (labels == "odd").astype(np.float32))
        np.testing.assert_array_equal(net.classes_, ["even", "odd"])
        np.testing.assert_array_equal(indexed.classes_, [0, 1])
        # the same training as with 0/1, and labels in predictions
        np.testing.assert_array_equal(net.predict_proba(X), indexed.predict_proba(X))
        np.testing.assert_array_equal(net.predict(X), net.classes_[indexed.predict(X)])
        assert net.predict_proba(X).shape == (len(X), 2)

    def test_threshold(self, binary):
        X, labels = binary
        net = self.make(threshold=0.9).fit(X, labels)
        proba = net.predict_proba(X)[:, 1]
        np.testing.assert_array_equal(net.predict(X) == "odd", proba > 0.9)

    def test_more_than_two_labels_refused(self, small_digits):
        X, y = small_digits
        with pytest.raises(ValueError, match="two labels, but y has 10"):
            self.make().fit(X, y)

    def test_flipped_labels_lose_weight(self):
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X).astype(np.float32)
        y_noisy, flipped = add_label_noise(y, [0.2, 0.2], kind="symmetric", random_state=0)
        net = self.make(module__in_features=30, eta=0.5, max_epochs=15).fit(
            X, y_noisy.astype(np.float32))
        w = net.sample_weights_
        # measured: 0.034 with these seeds
        assert w[flipped].mean() < 0.2 * w[~flipped].mean()


class TestRegressor:
    def make(self, **kwargs):
        params = dict(module=TinyMLP, module__in_features=5, max_epochs=3, lr=0.05,
                      train_split=None, verbose=0, random_state=0)
        params.update(kwargs)
        return MRRegressor(**params)

    def test_multi_output_loss_is_the_mean_per_example(self, regression_data):
        X, y = regression_data
        Y = np.hstack([y, -2 * y])
        net = self.make(module__n_classes=2, lr=0.0, max_epochs=1).fit(X, Y)
        expected = hand_losses(net, X, Y, lambda o, t: F.mse_loss(o, t, reduction="none"))
        np.testing.assert_allclose(net.cumulative_losses_, expected.mean(1), rtol=1e-5)

    @pytest.mark.parametrize("criterion, fn", [
        (torch.nn.L1Loss, lambda o, t: F.l1_loss(o, t, reduction="none")[:, 0]),
        (torch.nn.HuberLoss, lambda o, t: F.huber_loss(o, t, reduction="none")[:, 0]),
    ])
    def test_any_per_example_criterion(self, regression_data, criterion, fn):
        X, y = regression_data
        net = self.make(module__n_classes=1, criterion=criterion, lr=0.0, max_epochs=1).fit(X, y)
        np.testing.assert_allclose(net.cumulative_losses_, hand_losses(net, X, y, fn), rtol=1e-5)

    def test_outliers_fade_and_clean_error_drops(self, regression_data):
        X, y = regression_data
        y_bad, is_outlier = add_target_outliers(y, 0.2, random_state=0)
        errors = {}
        for eta in (0.0, 0.05):
            net = self.make(module__n_classes=1, eta=eta, max_epochs=40).fit(X, y_bad)
            errors[eta] = np.sqrt(np.mean((net.predict(X) - y) ** 2))
        w = net.sample_weights_
        assert w[is_outlier].mean() < 0.5 * w[~is_outlier].mean()
        assert errors[0.05] < 0.7 * errors[0.0], errors


class TestParallelSearch:
    def test_grid_search_in_worker_processes_equals_sequential(self, small_digits):
        # joblib's loky workers: every candidate is a clone fitted in its own
        # process, nothing leaks between candidates or back to the estimator
        X, y = small_digits
        net = MRClassifier(TinyMLP, max_epochs=3, lr=0.1, train_split=None, verbose=0,
                           random_state=0)
        grid = {"eta": [0.0, 0.5, 2.0]}
        results = {}
        for n_jobs in (1, 2):
            search = GridSearchCV(net, grid, cv=2, n_jobs=n_jobs, error_score="raise")
            search.fit(X, y)
            results[n_jobs] = search
        np.testing.assert_array_equal(results[1].cv_results_["mean_test_score"],
                                      results[2].cv_results_["mean_test_score"])
        best = results[2].best_estimator_
        np.testing.assert_array_equal(best.history[:, "mr_eta"],
                                      [results[2].best_params_["eta"]] * 3)
        assert not hasattr(net, "callbacks_")  # the searched estimator is untouched


class TestValidateParams:
    """MR's parameters are checked through skorch's ``_validate_params`` hook."""

    @pytest.mark.parametrize("params, match", [
        ({"mixup_alpha": -1.0}, "mixup_alpha must be a finite float >= 0, got -1.0"),
        ({"loss_pass": "fast"}, "loss_pass must be one of 'full', 'online'; got 'fast'"),
        ({"updates_per_epoch": 0}, "updates_per_epoch must be an int >= 1, got 0"),
        ({"random_state": -3}, "random_state must be None, an int >= 0"),
    ])
    def test_initialize_refuses_bad_mr_params(self, params, match):
        net = MRClassifier(TinyMLP, verbose=0, **params)
        with pytest.raises(ValueError, match=match):
            net.initialize()

    def test_a_refused_fit_leaves_the_fitted_net_as_it_was(self, small_digits):
        X, y = small_digits
        net = MRClassifier(TinyMLP, max_epochs=1, train_split=None, verbose=0,
                           eta=0.1).fit(X, y)
        weights = net.sample_weights_.copy()
        net.random_state = "seed"
        with pytest.raises(ValueError, match="random_state must be"):
            net.fit(X, y)
        np.testing.assert_array_equal(net.sample_weights_, weights)
        assert len(net.history) == 1
