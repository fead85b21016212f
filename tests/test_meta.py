"""Tests of sk_mr.meta: MR around any scikit-learn estimator."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_mr.exceptions import MRParameterWarning
from sk_mr.meta import MRMetaClassifier, MRMetaRegressor
from sk_mr.mw import MultiStepEta
from sk_mr.noise import add_label_noise
from sk_mr.paper.theory import make_linear_1d, mr_least_squares


def softmax_neg(eta, cumulative):
    logits = -eta * cumulative
    w = np.exp(logits - logits.max())
    return w / w.sum()


@pytest.fixture(scope="module")
def noisy_digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X), size=300, replace=False)
    X, y = X[idx] / 16.0, y[idx]
    y_noisy, is_noisy = add_label_noise(y, 0.3, kind="symmetric", random_state=0)
    return X, y, y_noisy, is_noisy


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=120) > 0).astype(int)
    return X, y


def lr():
    return LogisticRegression(max_iter=500)


class LogLossScoredLR(LogisticRegression):
    """A classifier whose score is not the accuracy."""

    def score(self, X, y, sample_weight=None):
        proba = self.predict_proba(X)[np.arange(len(y)), np.searchsorted(self.classes_, y)]
        return float(np.average(np.log(proba), weights=sample_weight))


class TestMRMetaClassifier:
    def test_fitted_attributes(self, binary):
        X, y = binary
        model = MRMetaClassifier(lr(), eta=0.8, n_rounds=4).fit(X, y)
        assert model.estimator_ is not model.estimator
        assert not hasattr(model.estimator, "coef_")           # cloned, not fitted
        np.testing.assert_array_equal(model.classes_, [0, 1])
        assert model.n_features_in_ == 4
        assert model.n_rounds_ == 4
        assert model.sample_weights_.shape == model.cumulative_losses_.shape == (120,)
        assert model.sample_weights_.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(model.sample_weights_,
                                   softmax_neg(0.8, model.cumulative_losses_), rtol=1e-10)

    def test_matches_the_loop_written_out(self, binary):
        # fit(sample_weight=n p) -> log-losses from predict_proba -> MW, 3 rounds.
        X, y = binary
        eta, n = 0.7, len(y)
        p, cumulative = np.full(n, 1 / n), np.zeros(n)
        for _ in range(2):
            est = lr().fit(X, y, sample_weight=n * p)
            cumulative += -np.log(est.predict_proba(X)[np.arange(n), y])
            p = softmax_neg(eta, cumulative)
        est = lr().fit(X, y, sample_weight=n * p)
        model = MRMetaClassifier(lr(), eta=eta, n_rounds=3).fit(X, y)
        np.testing.assert_allclose(model.cumulative_losses_, cumulative, rtol=1e-6)
        np.testing.assert_allclose(model.sample_weights_, p, rtol=1e-6)
        np.testing.assert_allclose(model.estimator_.coef_, est.coef_, rtol=1e-5)

    @pytest.mark.parametrize("kwargs", [dict(eta=0.0, n_rounds=5), dict(eta=2.0, n_rounds=1)])
    def test_no_reweighting_is_the_plain_estimator(self, binary, kwargs):
        X, y = binary
        model = MRMetaClassifier(lr(), **kwargs).fit(X, y)
        np.testing.assert_allclose(model.sample_weights_, 1 / len(y))
        np.testing.assert_allclose(model.estimator_.coef_, lr().fit(X, y).coef_, rtol=1e-6)

    def test_string_labels(self, noisy_digits):
        X, _, y_noisy, _ = noisy_digits
        # Names sort like the integers, so the problem is the same up to labels.
        names = np.array([f"digit-{k}" for k in range(10)], dtype=object)
        labels = names[y_noisy]
        model = MRMetaClassifier(lr(), eta=1.0, n_rounds=2).fit(X, labels)
        np.testing.assert_array_equal(model.classes_, names)
        assert set(model.predict(X)) <= set(names)
        as_int = MRMetaClassifier(lr(), eta=1.0, n_rounds=2).fit(X, y_noisy)
        np.testing.assert_array_equal(model.predict(X), names[as_int.predict(X)])
        np.testing.assert_allclose(model.predict_proba(X), as_int.predict_proba(X),
                                   rtol=1e-9)
        np.testing.assert_allclose(model.sample_weights_, as_int.sample_weights_,
                                   rtol=1e-9)
        assert model.score(X, labels) == pytest.approx(as_int.score(X, y_noisy))

    def test_noisy_labels_lose_weight(self, noisy_digits):
        X, _, y_noisy, is_noisy = noisy_digits
        model = MRMetaClassifier(lr(), eta=1.0, n_rounds=5).fit(X, y_noisy)
        w = model.sample_weights_
        assert w[is_noisy].mean() < 0.2 * w[~is_noisy].mean()
        assert w[is_noisy].sum() < 0.1 * is_noisy.mean() / 0.3

    def test_log_loss_is_clipped(self, binary):
        # DummyClassifier puts probability exactly 0 on the minority class.
        X, y = binary
        y = y.copy()
        y[:10] = 2
        model = MRMetaClassifier(DummyClassifier(strategy="most_frequent"), eta=1.0,
                                 n_rounds=3).fit(X, y)
        assert np.all(np.isfinite(model.cumulative_losses_))
        cap = -np.log(np.finfo(np.float64).eps)
        assert model.cumulative_losses_.max() == pytest.approx(2 * cap)
        assert np.all(np.isfinite(model.sample_weights_))
        assert model.sample_weights_.sum() == pytest.approx(1.0)

    def test_delegation(self, binary):
        X, y = binary
        model = MRMetaClassifier(lr(), eta=1.0, n_rounds=3).fit(X, y)
        np.testing.assert_array_equal(model.predict(X), model.estimator_.predict(X))
        np.testing.assert_array_equal(model.predict_proba(X),
                                      model.estimator_.predict_proba(X))
        np.testing.assert_array_equal(model.predict_log_proba(X),
                                      model.estimator_.predict_log_proba(X))
        np.testing.assert_array_equal(model.decision_function(X),
                                      model.estimator_.decision_function(X))
        assert model.score(X, y) == pytest.approx(np.mean(model.predict(X) == y))
        w = np.linspace(0, 1, len(y))
        assert model.score(X, y, sample_weight=w) == pytest.approx(
            model.estimator_.score(X, y, sample_weight=w))

    @pytest.mark.parametrize("meta, base", [(MRMetaClassifier, LogLossScoredLR()),
                                            (MRMetaRegressor, LogLossScoredLR())])
    def test_score_is_the_estimators_own(self, binary, meta, base):
        X, y = binary
        model = meta(base, n_rounds=2).fit(X, y)
        score = model.score(X, y)
        assert score < 0                      # a log-likelihood, not an accuracy/R^2
        assert score == pytest.approx(model.estimator_.score(X, y))

    def test_methods_follow_the_base_estimator(self, binary):
        tree = MRMetaClassifier(DecisionTreeClassifier(max_depth=2), n_rounds=2)
        assert not hasattr(tree, "decision_function")
        assert hasattr(tree, "predict_proba")
        assert not hasattr(MRMetaClassifier(SVC()), "predict_proba")
        assert hasattr(MRMetaClassifier(SVC(probability=True)), "predict_proba")
        tree.fit(*binary)
        assert not hasattr(tree, "decision_function")

    def test_unfitted_predict_raises(self, binary):
        from sklearn.exceptions import NotFittedError
        with pytest.raises(NotFittedError):
            MRMetaClassifier(lr()).predict(binary[0])

    def test_zero_sample_weight_removes_rows(self, binary):
        X, y = binary
        sw = np.ones(len(y))
        sw[:20] = 0
        model = MRMetaClassifier(lr(), eta=1.0, n_rounds=3).fit(X, y, sample_weight=sw)
        reduced = MRMetaClassifier(lr(), eta=1.0, n_rounds=3).fit(X[20:], y[20:])
        np.testing.assert_array_equal(model.sample_weights_[:20], 0.0)
        np.testing.assert_allclose(model.sample_weights_[20:], reduced.sample_weights_,
                                   rtol=1e-5)
        np.testing.assert_allclose(model.estimator_.coef_, reduced.estimator_.coef_,
                                   rtol=1e-5)

    def test_eta_schedule(self, binary):
        X, y = binary
        schedule = MultiStepEta(0.5, milestones=(2,), gamma=3.0)
        model = MRMetaClassifier(lr(), eta=schedule, n_rounds=4).fit(X, y)
        np.testing.assert_allclose(model.sample_weights_,
                                   softmax_neg(schedule(3), model.cumulative_losses_),
                                   rtol=1e-10)

    def test_default_estimator(self, binary):
        model = MRMetaClassifier(n_rounds=2).fit(*binary)
        assert isinstance(model.estimator_, LogisticRegression)


class TestMRMetaRegressor:
    @pytest.mark.parametrize("n_rounds", [1, 2, 5, 30])
    @pytest.mark.parametrize("seed", [0, 1])
    def test_is_algorithm_3(self, n_rounds, seed):
        problem = make_linear_1d(random_state=seed)
        eta = 1.5
        model = MRMetaRegressor(LinearRegression(fit_intercept=False), eta=eta,
                                n_rounds=n_rounds).fit(problem.X, problem.y_noisy)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=eta, n_steps=n_rounds)
        T = n_rounds
        assert model.estimator_.coef_[0] == pytest.approx(path.thetas[T, 0], rel=1e-9)
        np.testing.assert_allclose(model.sample_weights_, path.probabilities[T - 1],
                                   rtol=1e-9)
        np.testing.assert_allclose(model.cumulative_losses_,
                                   path.cumulative_losses[T - 1], rtol=1e-9, atol=1e-14)

    def test_is_algorithm_3_with_several_features(self):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 3))
        y = X @ np.array([1.0, -2.0, 0.5])
        y[:8] += rng.choice([-3.0, 3.0], size=8)
        model = MRMetaRegressor(LinearRegression(fit_intercept=False), eta=0.5,
                                n_rounds=10).fit(X, y)
        path = mr_least_squares(X, y, eta=0.5, n_steps=10)
        np.testing.assert_allclose(model.estimator_.coef_, path.thetas[10], rtol=1e-8)

    def test_outliers_lose_weight(self):
        X, y, coef = make_regression(n_samples=80, n_features=3, noise=0.1, coef=True,
                                     random_state=0)
        y = y / y.std()
        coef = coef / np.std(X @ coef + 0)
        y_bad = y.copy()
        y_bad[:10] += 6.0
        plain = LinearRegression().fit(X, y_bad)
        model = MRMetaRegressor(LinearRegression(), eta=1.0, n_rounds=15).fit(X, y_bad)
        clean = LinearRegression().fit(X[10:], y[10:])
        err_mr = np.abs(model.estimator_.coef_ - clean.coef_).max()
        err_plain = np.abs(plain.coef_ - clean.coef_).max()
        assert err_mr < 0.1 * err_plain
        assert model.sample_weights_[:10].sum() < 1e-3

    def test_multioutput(self):
        # One weight per row: the loss sums the squared residuals of both targets.
        X, Y = make_regression(n_samples=50, n_features=3, n_targets=2, random_state=0)
        Y = Y / Y.std(axis=0)
        Y[:5] += 3.0
        model = MRMetaRegressor(Ridge(), eta=1.0, n_rounds=3).fit(X, Y)
        n, p, cumulative = len(Y), np.full(len(Y), 1 / len(Y)), np.zeros(len(Y))
        for _ in range(2):
            ridge = Ridge().fit(X, Y, sample_weight=n * p)
            cumulative += 0.5 * ((ridge.predict(X) - Y) ** 2).sum(axis=1)
            p = softmax_neg(1.0, cumulative)
        ridge = Ridge().fit(X, Y, sample_weight=n * p)
        np.testing.assert_allclose(model.cumulative_losses_, cumulative, rtol=1e-9)
        np.testing.assert_allclose(model.sample_weights_, p, rtol=1e-9)
        np.testing.assert_allclose(model.predict(X), ridge.predict(X), rtol=1e-9)
        assert model.predict(X).shape == (50, 2)
        # the rows shifted on both targets lose their weight
        assert p[:5].sum() < 0.1 * 5 / 50

    def test_raw_targets_warn_with_the_equivalent_eta(self):
        # eta is in units of the squared target scale: targets 30 times
        # larger reweight as eta * 900 on the original ones, and the fit says so
        from sk_mr.regressor import robust_target_scale

        X, y = make_regression(n_samples=80, n_features=3, noise=5.0, random_state=0)
        y = (y - y.mean()) / y.std()
        y[:8] += 6.0
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # standardized: no warning
            small = MRMetaRegressor(LinearRegression(), eta=1.0, n_rounds=3).fit(X, y)
        variance = float(robust_target_scale(30 * y) ** 2)
        with pytest.warns(MRParameterWarning, match=(
                rf"eta=1.0 is in units of the squared target scale, and y's \(robust\) "
                rf"variance is {variance:.3g}: this eta reweights as eta={variance:.3g} "
                r"would on standardized targets, outside \[0.01, 100\] \(the weights "
                r"collapse onto a few rows\)")) as record:
            large = MRMetaRegressor(LinearRegression(), eta=1.0, n_rounds=3).fit(X, 30 * y)
        assert record[0].filename == __file__  # points at the caller of fit
        same = MRMetaRegressor(LinearRegression(), eta=900.0, n_rounds=3).fit(X, y)
        np.testing.assert_allclose(large.sample_weights_, same.sample_weights_, atol=1e-12)
        assert not np.allclose(large.sample_weights_, small.sample_weights_, atol=1e-3)
        # an eta already divided by the variance is left alone
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            MRMetaRegressor(LinearRegression(), eta=1.0 / variance, n_rounds=3).fit(X, 30 * y)
        with pytest.warns(MRParameterWarning, match="barely move"):
            MRMetaRegressor(LinearRegression(), eta=1.0, n_rounds=3).fit(X, y / 30)
        # on standardized targets an extreme eta is the user's choice, not the
        # scale's fault: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for eta in (0.005, 900.0):
                MRMetaRegressor(LinearRegression(), eta=eta, n_rounds=3).fit(X, y)

    def test_score_is_r2(self):
        X, y = make_regression(n_samples=50, n_features=3, random_state=0)
        y = y / y.std()  # eta=1.0 is in units of the squared target scale
        model = MRMetaRegressor(Ridge(), n_rounds=2).fit(X, y)
        assert model.score(X, y) == pytest.approx(model.estimator_.score(X, y))


class TestBadInput:
    @pytest.mark.parametrize("meta, base, name", [
        (MRMetaClassifier, KNeighborsClassifier(), "KNeighborsClassifier"),
        (MRMetaRegressor, KNeighborsRegressor(), "KNeighborsRegressor"),
        (MRMetaClassifier, make_pipeline(StandardScaler(), lr()), "Pipeline"),
    ])
    def test_estimator_without_sample_weight(self, binary, meta, base, name):
        model = meta(base)              # __init__ only stores
        with pytest.raises(ValueError, match=f"{name}.fit does not accept sample_weight"):
            model.fit(*binary)

    @pytest.mark.parametrize("base, name", [(LinearSVC(), "LinearSVC"), (SVC(), "SVC")])
    def test_classifier_without_predict_proba(self, binary, base, name):
        with pytest.raises(TypeError, match=f"{name} does not\\s+provide"):
            MRMetaClassifier(base).fit(*binary)

    def test_not_an_estimator(self, binary):
        with pytest.raises(TypeError, match="fit method"):
            MRMetaClassifier("logistic").fit(*binary)

    @pytest.mark.parametrize("eta, exc", [(-0.1, ValueError), (np.nan, ValueError),
                                          (np.inf, ValueError), ("1", TypeError),
                                          (None, TypeError)])
    @pytest.mark.parametrize("meta", [MRMetaClassifier, MRMetaRegressor])
    def test_bad_eta(self, binary, eta, exc, meta):
        with pytest.raises(exc, match="eta"):
            meta(eta=eta).fit(*binary)

    @pytest.mark.parametrize("n_rounds, exc", [(0, ValueError), (-3, ValueError),
                                               (1.5, TypeError), (True, TypeError)])
    def test_bad_n_rounds(self, binary, n_rounds, exc):
        with pytest.raises(exc, match="n_rounds must be an int >= 1"):
            MRMetaClassifier(n_rounds=n_rounds).fit(*binary)

    def test_validation_is_sklearns_hook_with_its_contract(self, binary):
        # an override of BaseEstimator._validate_params, as skorch's nets do:
        # no arguments, returns None, raises on a bad parameter
        assert MRMetaClassifier()._validate_params() is None
        with pytest.raises(ValueError, match="n_rounds"):
            MRMetaClassifier(n_rounds=0)._validate_params()

    @pytest.mark.parametrize("eta", [0.3, MultiStepEta(0.5, milestones=[2])])
    @pytest.mark.parametrize("meta", [MRMetaClassifier, MRMetaRegressor])
    def test_eta_with_one_round_warns(self, binary, meta, eta):
        X, y = binary
        with pytest.warns(MRParameterWarning, match=r"^eta=.* has no effect: n_rounds=1 "
                                                    "fits the estimator once"):
            model = meta(eta=eta, n_rounds=1).fit(X, y)
        # and it has none: the plain estimator's fit, with uniform weights
        plain = meta(n_rounds=1).fit(X, y)
        np.testing.assert_array_equal(model.predict(X), plain.predict(X))
        np.testing.assert_array_equal(model.sample_weights_, np.full(len(y), 1 / len(y)))

    @pytest.mark.parametrize("params", [dict(n_rounds=1), dict(n_rounds=1, eta=0.0),
                                        dict(eta=0.3, n_rounds=2), dict()])
    def test_eta_that_is_used_or_left_alone_does_not_warn(self, binary, params):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            MRMetaClassifier(**params).fit(*binary)

    def test_bad_sample_weight(self, binary):
        X, y = binary
        with pytest.raises(ValueError, match="shape"):
            MRMetaClassifier(n_rounds=2).fit(X, y, sample_weight=np.ones(3))
        with pytest.raises(ValueError, match="non-negative"):
            MRMetaClassifier(n_rounds=2).fit(X, y, sample_weight=-np.ones(len(y)))

    def test_y_none_and_continuous_targets(self, binary):
        X, _ = binary
        with pytest.raises(ValueError, match="requires y"):
            MRMetaClassifier().fit(X, None)
        with pytest.raises(ValueError, match="Unknown label type"):
            MRMetaClassifier().fit(X, np.linspace(0, 1, len(X)))


class TestSklearnIntegration:
    def test_clone_and_params(self):
        model = MRMetaClassifier(lr(), eta=0.3, n_rounds=4)
        params = model.get_params()
        assert params["eta"] == 0.3 and params["n_rounds"] == 4
        assert params["estimator__max_iter"] == 500
        cloned = clone(model.set_params(estimator__C=0.5))
        assert cloned.estimator.C == 0.5 and cloned.estimator is not model.estimator

    def test_pickle(self, binary):
        X, y = binary
        model = MRMetaClassifier(lr(), n_rounds=3).fit(X, y)
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(restored.sample_weights_, model.sample_weights_)

    def test_in_a_pipeline(self, noisy_digits):
        # The pipeline is the same model as MR on the scaled data; fitted on
        # noisy labels of the first 200 rows, scored on the clean labels of the rest.
        X, y, y_noisy, _ = noisy_digits
        train, test = slice(0, 200), slice(200, None)
        pipe = make_pipeline(StandardScaler(), MRMetaClassifier(lr(), eta=1.0, n_rounds=3))
        pipe.fit(X[train], y_noisy[train])
        scaler = StandardScaler().fit(X[train])
        by_hand = MRMetaClassifier(lr(), eta=1.0, n_rounds=3).fit(
            scaler.transform(X[train]), y_noisy[train])
        np.testing.assert_allclose(pipe[-1].sample_weights_, by_hand.sample_weights_,
                                   rtol=1e-9)
        np.testing.assert_allclose(pipe.predict_proba(X[test]),
                                   by_hand.predict_proba(scaler.transform(X[test])),
                                   rtol=1e-9, atol=1e-12)
        held_out = pipe.score(X[test], y[test])
        assert held_out == np.mean(pipe.predict(X[test]) == y[test])
        # better than the same pipeline without MR on the held-out clean labels
        plain = make_pipeline(StandardScaler(), lr()).fit(X[train], y_noisy[train])
        assert held_out > plain.score(X[test], y[test])

    def test_grid_search_over_eta(self, binary):
        X, y = binary
        y_noisy, _ = add_label_noise(y, 0.3, kind="symmetric", random_state=0)
        pipe = make_pipeline(StandardScaler(), MRMetaClassifier(lr(), n_rounds=3))
        grid = GridSearchCV(pipe, {"mrmetaclassifier__eta": [0.0, 0.5, 2.0],
                                   "mrmetaclassifier__estimator__C": [0.1, 1.0]}, cv=3)
        grid.fit(X, y_noisy)
        # the same search written out: every candidate on the same stratified
        # folds, each fold scored by accuracy on its held-out rows
        folds = list(StratifiedKFold(3).split(X, y_noisy))
        candidates = [{"mrmetaclassifier__eta": eta, "mrmetaclassifier__estimator__C": C}
                      for C in (0.1, 1.0) for eta in (0.0, 0.5, 2.0)]  # the grid's order
        means = []
        for params in candidates:
            scores = []
            for train, test in folds:
                model = clone(pipe).set_params(**params).fit(X[train], y_noisy[train])
                scores.append(np.mean(model.predict(X[test]) == y_noisy[test]))
            means.append(np.mean(scores))
        assert grid.cv_results_["params"] == candidates
        np.testing.assert_allclose(grid.cv_results_["mean_test_score"], means,
                                   rtol=0, atol=1e-12)
        assert len(set(np.round(means, 12))) > 1  # the candidates differ
        best_params = candidates[int(np.argmax(means))]  # ties: the first
        assert grid.best_params_ == best_params
        refit = clone(pipe).set_params(**best_params).fit(X, y_noisy)
        best = grid.best_estimator_[-1]
        np.testing.assert_array_equal(best.sample_weights_, refit[-1].sample_weights_)
        np.testing.assert_array_equal(best.estimator_.coef_, refit[-1].estimator_.coef_)

    def test_cross_val_regressor(self):
        X, y = make_regression(n_samples=60, n_features=3, noise=1.0, random_state=0)
        scores = cross_val_score(MRMetaRegressor(n_rounds=3, eta=0.001), X, y, cv=3)
        assert np.all(scores > 0.9)
        # each fold's score, written out: Algorithm 3 on the fold's training
        # rows (LinearRegression, the default; losses 0.5 r^2; 3 rounds = 2
        # MW updates, then the last weighted fit), R^2 on its held-out rows
        from sklearn.metrics import r2_score
        from sklearn.model_selection import KFold

        by_hand, plain = [], []
        for train, test in KFold(3).split(X):
            Xt, yt = X[train], y[train]
            n, p, cumulative = len(yt), np.full(len(yt), 1 / len(yt)), np.zeros(len(yt))
            for _ in range(2):
                fitted = LinearRegression().fit(Xt, yt, sample_weight=n * p)
                cumulative += 0.5 * (fitted.predict(Xt) - yt) ** 2
                p = softmax_neg(0.001, cumulative)
            fitted = LinearRegression().fit(Xt, yt, sample_weight=n * p)
            by_hand.append(r2_score(y[test], fitted.predict(X[test])))
            plain.append(LinearRegression().fit(Xt, yt).score(X[test], y[test]))
        # R^2 is near 1: compare the unexplained parts, 1 - R^2
        np.testing.assert_allclose(1 - scores, 1 - np.array(by_hand), rtol=1e-7)
        # the weights show: unweighted fits score otherwise (by about 1e-4 of it)
        assert not np.allclose(1 - scores, 1 - np.array(plain), rtol=1e-5, atol=0)


@parametrize_with_checks([MRMetaClassifier(LogisticRegression(), n_rounds=2),
                          MRMetaRegressor(LinearRegression(), n_rounds=2)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
