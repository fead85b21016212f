"""Tests of sk_mr.inspection: label-issue ranking, noise detection, WeightHistory."""

import pickle
import warnings
from unittest import mock

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from skorch.callbacks import MlflowLogger, TensorBoard
from skorch.dataset import ValidSplit

from sk_mr import MRClassifier, MultiplicativeReweighting, RandomReweighting
from sk_mr.exceptions import MRParameterWarning
from sk_mr.inspection import (WeightHistory, label_issue_scores, noise_detection_report,
                              noise_fraction_by_weight_percentile, rank_label_issues,
                              weight_on_mask)
from sk_mr.mw import mw_probabilities
from conftest import TinyMLP

EPOCHS = 6
ETA = 0.5


def make_net(**kwargs):
    params = dict(module=TinyMLP, max_epochs=EPOCHS, lr=0.1, batch_size=64, eta=ETA,
                  train_split=None, verbose=0, optimizer__momentum=0.9,
                  criterion=torch.nn.CrossEntropyLoss)  # the paper's MR
    params.update(kwargs)
    return MRClassifier(**params)


@pytest.fixture(scope="module")
def fitted(noisy_data):
    """MR on 40% noise, all rows recorded, with a 'noisy' mask."""
    X, y, is_noisy = noisy_data
    torch.manual_seed(0)
    history = WeightHistory(masks={"noisy": is_noisy})
    net = make_net(callbacks=[history], loss_pass="full").fit(X, y)
    return net, history


@pytest.fixture(scope="module")
def fitted_split(noisy_data):
    """MR with a validation split: some rows are held out."""
    X, y, _ = noisy_data
    torch.manual_seed(0)
    return make_net(max_epochs=2, train_split=ValidSplit(5)).fit(X, y)


def per_example_losses(net, X, y):
    net.module_.eval()
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X))
        return torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(y), reduction="none").double().numpy()


class Logits(torch.nn.Module):
    """The inputs are the logits (times a parameter that lr=0 keeps at 1)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, X):
        return self.scale * X


@pytest.fixture(scope="module")
def hand_example():
    """Five rows whose cross-entropies can be written down, on a model that
    does not move: logits log(3), 0 with label 0 cost log(4/3), and so on.

    Two epochs with eta = 0.5 give weights proportional to exp(-loss) =
    1/2, 3/4, 1/4, 7/8, 1/8, i.e. 0.2, 0.3, 0.1, 0.35, 0.05. Rows 2 and 3
    are marked noisy.
    """
    X = np.log(np.array([[1, 1], [3, 1], [3, 1], [1, 7], [7, 1]], dtype=np.float32))
    y = np.array([0, 0, 1, 1, 1])
    is_noisy = np.array([False, False, True, True, False])
    history = WeightHistory(masks={"noisy": is_noisy})
    net = MRClassifier(Logits, max_epochs=2, lr=0.0, eta=0.5, batch_size=2,
                       train_split=None, verbose=0, criterion=torch.nn.CrossEntropyLoss,
                       callbacks=[history]).fit(X, y)
    return net, history, is_noisy


class TestHandComputedExample:
    LOSSES = np.log([2, 4 / 3, 4, 8 / 7, 8])

    def test_scores_ranking_and_weights(self, hand_example):
        net, _, _ = hand_example
        np.testing.assert_allclose(label_issue_scores(net), self.LOSSES, rtol=1e-6)
        np.testing.assert_allclose(net.sample_weights_, [0.2, 0.3, 0.1, 0.35, 0.05],
                                   rtol=1e-6)
        np.testing.assert_array_equal(rank_label_issues(net), [4, 2, 0, 1, 3])
        np.testing.assert_array_equal(rank_label_issues(net, n_issues=2), [4, 2])

    def test_noise_detection_report(self, hand_example):
        # scores 0.69, 0.29, [1.39], [0.13], 2.08 (noisy in brackets):
        # 2 of the 6 (noisy, clean) pairs are ordered right; the hits come at
        # ranks 2 and 5, so AP = (1/2 + 2/5) / 2; the 2 flagged rows are 4, 2.
        net, _, is_noisy = hand_example
        report = noise_detection_report(net, is_noisy)
        expected = dict(auroc=1 / 3, average_precision=0.45, precision=0.5, recall=0.5,
                        flag_fraction=0.4, n_flagged=2, noise_rate=0.4,
                        noisy_weight=0.45, n_train=5, n_noisy=2)
        assert report.keys() == expected.keys()
        for key, value in expected.items():
            assert report[key] == pytest.approx(value, rel=1e-6), key
        np.testing.assert_array_equal(
            noise_fraction_by_weight_percentile(net, is_noisy, n_bins=5), [0, 1, 0, 0, 1])

    def test_weight_history(self, hand_example):
        net, history, _ = hand_example
        after_one = np.sqrt([1 / 2, 3 / 4, 1 / 4, 7 / 8, 1 / 8])  # exp(-0.5 loss)
        after_one /= after_one.sum()
        np.testing.assert_allclose(history.weights_, [np.full(5, 0.2), after_one,
                                                      [0.2, 0.3, 0.1, 0.35, 0.05]],
                                   rtol=1e-6)
        np.testing.assert_allclose(history.cumulative_losses_,
                                   [np.zeros(5), self.LOSSES, 2 * self.LOSSES], rtol=1e-6)
        epochs, noisy = weight_on_mask(net, "noisy")
        np.testing.assert_array_equal(epochs, [0, 1, 2])
        np.testing.assert_allclose(noisy, [0.4, after_one[2:4].sum(), 0.45], rtol=1e-6)
        # nearest-rank quantiles of 5 * p: levels 0, .01, .1 -> the smallest,
        # .5 -> the middle, .9, .99, 1 -> the largest
        np.testing.assert_allclose(history.weight_quantiles_[-1],
                                   [0.25, 0.25, 0.25, 1.0, 1.75, 1.75, 1.75], rtol=1e-6)
        np.testing.assert_allclose(history.weight_quantiles_[0], 1.0)
        # 1 / sum p^2 = 1 / (0.04 + 0.09 + 0.01 + 0.1225 + 0.0025)
        assert net.history[-1, "mr_ess"] == pytest.approx(1 / 0.265, rel=1e-6)


class TestLabelIssueScores:
    def test_mean_cumulative_loss_per_row(self, fitted):
        net, _ = fitted
        scores = label_issue_scores(net)
        np.testing.assert_allclose(scores, net.cumulative_losses_ / EPOCHS)

    def test_held_out_rows_are_nan(self, fitted_split):
        scores = label_issue_scores(fitted_split)
        train = fitted_split.mr_.train_rows_
        held_out = np.setdiff1d(np.arange(len(scores)), train)
        assert len(held_out) > 0
        assert np.isnan(scores[held_out]).all()
        assert np.isfinite(scores[train]).all()

    def test_order_agrees_with_ranking(self, fitted):
        net, _ = fitted
        scores = label_issue_scores(net)
        ranked = rank_label_issues(net)
        assert np.all(np.diff(scores[ranked]) <= 1e-12)


class TestRankLabelIssues:
    def test_permutation_of_training_rows_lowest_weight_first(self, fitted_split):
        rows = rank_label_issues(fitted_split)
        assert rows.dtype == np.int64
        np.testing.assert_array_equal(np.sort(rows), np.sort(fitted_split.mr_.train_rows_))
        assert np.all(np.diff(fitted_split.sample_weights_[rows]) >= 0)

    def test_ties_broken_by_higher_cumulative_loss(self, fitted):
        net, _ = fitted
        net = pickle.loads(pickle.dumps(net))
        mr = net.mr_
        # Weights that underflowed to zero tie; their cumulative losses differ.
        p = mr.probabilities_.clone()
        tied = torch.argsort(mr.cumulative_losses_)[-20:]
        p[tied] = 0.0
        mr._set_probabilities(p / p.sum())
        rows = rank_label_issues(net)
        first = rows[:20]
        np.testing.assert_array_equal(np.sort(first), np.sort(mr.train_rows_[tied.numpy()]))
        assert np.all(np.diff(net.cumulative_losses_[first]) <= 0)

    def test_n_issues_truncates(self, fitted):
        net, _ = fitted
        np.testing.assert_array_equal(rank_label_issues(net, n_issues=7),
                                      rank_label_issues(net)[:7])
        assert len(rank_label_issues(net, n_issues=0)) == 0

    @pytest.mark.parametrize("n_issues", [-1, 2.5, True])
    def test_bad_n_issues(self, fitted, n_issues):
        with pytest.raises(ValueError, match="n_issues"):
            rank_label_issues(fitted[0], n_issues=n_issues)

    def test_X_and_y_of_fit_are_accepted(self, fitted, noisy_data):
        X, y, _ = noisy_data
        rows = rank_label_issues(fitted[0], X=X, y=y, n_issues=5)
        np.testing.assert_array_equal(rows, rank_label_issues(fitted[0], n_issues=5))

    @pytest.mark.parametrize("arg", ["X", "y"])
    def test_X_or_y_of_another_length_is_rejected(self, fitted, noisy_data, arg):
        X, y, _ = noisy_data
        kwargs = {"X": X, "y": y}
        kwargs[arg] = kwargs[arg][:-10]
        with pytest.raises(ValueError, match=f"{arg} has 290 rows.*300 rows"):
            rank_label_issues(fitted[0], **kwargs)

    def test_pipeline_is_unwrapped(self, noisy_data):
        X, y, _ = noisy_data
        torch.manual_seed(0)
        pipe = Pipeline([("scale", StandardScaler()),
                         ("net", make_net(max_epochs=2))]).fit(X, y)
        np.testing.assert_array_equal(rank_label_issues(pipe),
                                      rank_label_issues(pipe[-1]))


class TestNoiseDetectionReport:
    def test_matches_hand_computation(self, fitted, noisy_data):
        net, _ = fitted
        _, _, is_noisy = noisy_data
        report = noise_detection_report(net, is_noisy)
        scores = label_issue_scores(net)
        n_noisy = int(is_noisy.sum())
        flagged = rank_label_issues(net, n_issues=n_noisy)
        assert report["auroc"] == pytest.approx(roc_auc_score(is_noisy, scores))
        assert report["average_precision"] == pytest.approx(
            average_precision_score(is_noisy, scores))
        assert report["n_flagged"] == report["n_noisy"] == n_noisy
        assert report["precision"] == pytest.approx(is_noisy[flagged].mean())
        assert report["recall"] == pytest.approx(is_noisy[flagged].sum() / n_noisy)
        assert report["noise_rate"] == pytest.approx(is_noisy.mean())
        assert report["noisy_weight"] == pytest.approx(net.sample_weights_[is_noisy].sum())
        assert report["n_train"] == len(is_noisy)

    def test_mr_weights_detect_noise_better_than_chance(self, fitted, noisy_data):
        report = noise_detection_report(fitted[0], noisy_data[2])
        assert report["auroc"] > 0.7
        assert report["precision"] > report["noise_rate"]
        assert report["noisy_weight"] < report["noise_rate"]

    def test_flag_fraction(self, fitted, noisy_data):
        net, _ = fitted
        is_noisy = noisy_data[2]
        report = noise_detection_report(net, is_noisy, flag_fraction=0.1)
        assert report["n_flagged"] == 30
        flagged = rank_label_issues(net, n_issues=30)
        assert report["precision"] == pytest.approx(is_noisy[flagged].mean())
        assert report["recall"] == pytest.approx(is_noisy[flagged].sum() / is_noisy.sum())

    def test_only_training_rows_count(self, fitted_split, noisy_data):
        is_noisy = noisy_data[2]
        report = noise_detection_report(fitted_split, is_noisy)
        train = fitted_split.mr_.train_rows_
        assert report["n_train"] == len(train)
        assert report["n_noisy"] == int(is_noisy[train].sum())

    def test_integer_mask_is_accepted(self, fitted, noisy_data):
        is_noisy = noisy_data[2]
        assert noise_detection_report(fitted[0], is_noisy.astype(int)) == \
            noise_detection_report(fitted[0], is_noisy)

    def test_mask_of_wrong_length(self, fitted, noisy_data):
        with pytest.raises(ValueError, match="is_noisy has 299 entries.*300 rows"):
            noise_detection_report(fitted[0], noisy_data[2][:-1])

    def test_non_boolean_mask(self, fitted):
        with pytest.raises(ValueError, match="is_noisy must be boolean"):
            noise_detection_report(fitted[0], np.full(300, 0.5))

    def test_all_clean(self, fitted):
        with pytest.raises(ValueError, match="all 300 training rows as clean"):
            noise_detection_report(fitted[0], np.zeros(300, dtype=bool))

    @pytest.mark.parametrize("flag_fraction", [-0.1, 1.5, "half"])
    def test_bad_flag_fraction(self, fitted, noisy_data, flag_fraction):
        with pytest.raises(ValueError, match="flag_fraction"):
            noise_detection_report(fitted[0], noisy_data[2], flag_fraction=flag_fraction)


class TestNoiseFractionByWeightPercentile:
    def test_bins_follow_the_ranking(self, fitted, noisy_data):
        net, _ = fitted
        is_noisy = noisy_data[2]
        fractions = noise_fraction_by_weight_percentile(net, is_noisy, n_bins=10)
        ranked = rank_label_issues(net)
        expected = is_noisy[ranked].reshape(10, 30).mean(axis=1)
        np.testing.assert_allclose(fractions, expected)
        assert fractions.mean() == pytest.approx(is_noisy.mean())

    def test_lowest_weights_are_noisier(self, fitted, noisy_data):
        fractions = noise_fraction_by_weight_percentile(fitted[0], noisy_data[2])
        assert fractions.shape == (100,)
        assert fractions[:30].mean() > fractions[-30:].mean()

    @pytest.mark.parametrize("n_bins", [0, 301, 2.0])
    def test_bad_n_bins(self, fitted, noisy_data, n_bins):
        with pytest.raises(ValueError, match="n_bins"):
            noise_fraction_by_weight_percentile(fitted[0], noisy_data[2], n_bins=n_bins)


class TestWeightHistory:
    def test_snapshots_from_uniform_to_final(self, fitted):
        net, history = fitted
        n = len(history.rows_)
        np.testing.assert_array_equal(history.epochs_, np.arange(EPOCHS + 1))
        assert history.weights_.shape == (EPOCHS + 1, n)
        np.testing.assert_allclose(history.weights_[0], 1 / n)
        np.testing.assert_allclose(history.weights_[-1],
                                   net.sample_weights_[history.rows_])
        np.testing.assert_allclose(history.weights_.sum(axis=1), 1.0)

    def test_records_after_the_mr_update(self, fitted):
        # Snapshot t is softmax(-eta L_t) of the cumulative losses *after*
        # epoch t's update: the callback runs after the 'reweighting' one.
        net, history = fitted
        names = [name for name, _ in net.callbacks_]
        assert names.index("reweighting") < names.index("WeightHistory")
        for weights, cumulative in zip(history.weights_[1:],
                                       history.cumulative_losses_[1:]):
            expected = mw_probabilities(torch.as_tensor(cumulative), ETA).numpy()
            np.testing.assert_allclose(weights, expected, rtol=1e-10)
        assert not np.allclose(history.weights_[1], history.weights_[0])

    def test_mask_totals_in_history(self, fitted, noisy_data):
        net, history = fitted
        is_noisy = noisy_data[2]
        from_weights = history.weights_[:, is_noisy[history.rows_]].sum(axis=1)
        np.testing.assert_allclose(history.mask_weights_["noisy"], from_weights)
        np.testing.assert_allclose(net.history[:, "mr_weight_noisy"], from_weights[1:])
        assert from_weights[0] == pytest.approx(is_noisy.mean())

    def test_epoch_losses_are_each_update_losses(self, fitted, noisy_data):
        net, history = fitted
        X, y, _ = noisy_data
        epochs, losses = history.epoch_losses()
        np.testing.assert_array_equal(epochs, np.arange(1, EPOCHS + 1))
        np.testing.assert_allclose(losses.sum(axis=0), history.cumulative_losses_[-1])
        final = per_example_losses(net, X, y)[history.rows_]
        np.testing.assert_allclose(losses[-1], final, rtol=1e-4, atol=1e-6)

    def test_weight_quantiles(self, fitted):
        net, history = fitted
        q = history.weight_quantiles_
        assert q.shape == (EPOCHS + 1, len(WeightHistory.QUANTILE_LEVELS))
        np.testing.assert_allclose(q[0], 1.0)
        n = len(history.rows_)
        assert q[-1, 0] == pytest.approx(n * history.weights_[-1].min())
        assert q[-1, -1] == pytest.approx(n * history.weights_[-1].max())
        assert np.all(np.diff(q, axis=1) >= 0)

    def test_random_subset_is_seeded(self, noisy_data):
        X, y, is_noisy = noisy_data

        def fit(random_state):
            torch.manual_seed(0)
            history = WeightHistory(max_rows=50, masks={"noisy": is_noisy},
                                    random_state=random_state)
            net = make_net(max_epochs=2, callbacks=[history]).fit(X, y)
            return net, history

        net, first = fit(0)
        _, again = fit(0)
        _, other = fit(1)
        assert first.weights_.shape == (3, 50)
        np.testing.assert_array_equal(first.rows_, again.rows_)
        assert not np.array_equal(first.rows_, other.rows_)
        np.testing.assert_allclose(first.weights_[-1], net.sample_weights_[first.rows_])
        # The mask total is still over all rows, not the subset.
        assert net.history[-1, "mr_weight_noisy"] == pytest.approx(
            net.sample_weights_[is_noisy].sum())

    def test_summary_only(self, noisy_data):
        X, y, is_noisy = noisy_data
        history = WeightHistory(max_rows=0, masks={"noisy": is_noisy})
        net = make_net(max_epochs=2, callbacks=[history]).fit(X, y)
        assert history.weights_.shape == (3, 0)
        # the quantiles still cover every row: nearest rank of 300 * p
        levels = WeightHistory.QUANTILE_LEVELS
        expected = 300 * np.sort(net.sample_weights_)[[round(q * 299) for q in levels]]
        np.testing.assert_allclose(history.weight_quantiles_[-1], expected, rtol=1e-10)
        np.testing.assert_allclose(history.weight_quantiles_[0], 1.0)
        epochs, totals = weight_on_mask(net, "noisy")
        assert totals[-1] == pytest.approx(net.sample_weights_[is_noisy].sum())
        with pytest.raises(ValueError, match="0 of the 300 training rows.*max_rows"):
            weight_on_mask(net, is_noisy)

    def test_record_losses_false(self, noisy_data):
        X, y, _ = noisy_data
        history = WeightHistory(record_losses=False)
        make_net(max_epochs=1, callbacks=[history]).fit(X, y)
        assert history.cumulative_losses_ is None
        with pytest.raises(ValueError, match="record_losses=True"):
            history.epoch_losses()

    def test_random_reweighting_records_the_weights_of_each_epoch(self, noisy_data):
        X, y, _ = noisy_data
        history = WeightHistory()
        net = make_net(max_epochs=2, eta=0.0, callbacks=[RandomReweighting(random_state=0),
                                                history]).fit(X, y)
        np.testing.assert_array_equal(history.epochs_, [1, 2])
        assert history.cumulative_losses_ is None
        np.testing.assert_allclose(history.weights_[-1], net.sample_weights_[history.rows_])

    def test_cold_fit_resets_and_partial_fit_continues(self, noisy_data):
        X, y, _ = noisy_data
        history = WeightHistory()
        net = make_net(max_epochs=2, callbacks=[history]).fit(X, y)
        net.fit(X, y)
        np.testing.assert_array_equal(history.epochs_, [0, 1, 2])
        net.partial_fit(X, y)
        np.testing.assert_array_equal(history.epochs_, [0, 1, 2, 3, 4])
        np.testing.assert_allclose(history.weights_[-1], net.sample_weights_[history.rows_])

    def test_pickle_and_clone(self, fitted):
        net, history = fitted
        restored = pickle.loads(pickle.dumps(net))
        restored_history = dict(restored.callbacks_)["WeightHistory"]
        np.testing.assert_array_equal(restored_history.weights_, history.weights_)
        cloned = clone(net)
        assert isinstance(cloned.callbacks[0], WeightHistory)
        assert cloned.callbacks[0].max_rows == history.max_rows

    def test_ordering_before_reweighting_is_rejected(self, noisy_data):
        X, y, _ = noisy_data
        net = make_net(max_epochs=1,
                       callbacks=[WeightHistory(), MultiplicativeReweighting()])
        with pytest.raises(ValueError, match="after the reweighting callback"):
            net.fit(X, y)

    def test_plain_skorch_net_is_rejected(self, noisy_data):
        X, y, _ = noisy_data
        net = NeuralNetClassifier(TinyMLP, max_epochs=1, train_split=None, verbose=0,
                                  callbacks=[WeightHistory()])
        with pytest.raises(TypeError, match="sk_mr.MRClassifier"):
            net.fit(X, y)

    @pytest.mark.parametrize("kwargs, error, match", [
        ({"max_rows": -1}, ValueError, "max_rows"),
        ({"max_rows": 1.5}, ValueError, "max_rows"),
        ({"record_losses": "yes"}, TypeError, "record_losses"),
        ({"masks": [True, False]}, TypeError, "masks must be None or a dict"),
        ({"masks": {"": np.ones(300, bool)}}, ValueError, "mask names"),
    ])
    def test_bad_params(self, kwargs, error, match):
        net = make_net(callbacks=[WeightHistory(**kwargs)])
        with pytest.raises(error, match=match):
            net.initialize()

    def test_random_state_without_a_subset_warns(self, noisy_data):
        X, y, _ = noisy_data
        history = WeightHistory(max_rows=None, random_state=3)
        with pytest.warns(MRParameterWarning, match="^random_state=3 has no effect: "
                                                    "max_rows=None records every"):
            make_net(max_epochs=1, callbacks=[history]).fit(X, y)
        # and it has none: every training row is recorded, in order
        np.testing.assert_array_equal(history.rows_, np.arange(len(y)))

    @pytest.mark.parametrize("kwargs", [dict(max_rows=None), dict(max_rows=50, random_state=3)])
    def test_random_state_that_draws_or_none_does_not_warn(self, noisy_data, kwargs):
        X, y, _ = noisy_data
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            make_net(max_epochs=1, callbacks=[WeightHistory(**kwargs)]).fit(X, y)

    def test_mask_of_wrong_length(self, noisy_data):
        X, y, is_noisy = noisy_data
        net = make_net(max_epochs=1,
                       callbacks=[WeightHistory(masks={"noisy": is_noisy[:10]})])
        with pytest.raises(ValueError, match=r"masks\['noisy'\] has 10 entries.*300 rows"):
            net.fit(X, y)


class TestWeightOnMask:
    def test_array_mask_equals_named_mask(self, fitted, noisy_data):
        net, _ = fitted
        epochs, named = weight_on_mask(net, "noisy")
        epochs_array, from_array = weight_on_mask(net, noisy_data[2])
        np.testing.assert_array_equal(epochs, epochs_array)
        np.testing.assert_allclose(named, from_array)
        _, clean = weight_on_mask(net, ~noisy_data[2])
        np.testing.assert_allclose(named + clean, 1.0)

    def test_unknown_name(self, fitted):
        with pytest.raises(ValueError, match="Unknown mask 'clean'.*\\['noisy'\\]"):
            weight_on_mask(fitted[0], "clean")

    def test_net_without_weight_history(self, fitted_split):
        with pytest.raises(ValueError, match="WeightHistory\\(\\)"):
            weight_on_mask(fitted_split, "noisy")


class TestBadNets:
    FUNCTIONS = [
        lambda net, mask: label_issue_scores(net),
        lambda net, mask: rank_label_issues(net),
        lambda net, mask: noise_detection_report(net, mask),
        lambda net, mask: noise_fraction_by_weight_percentile(net, mask),
        lambda net, mask: weight_on_mask(net, mask),
    ]

    @pytest.mark.parametrize("function", FUNCTIONS)
    def test_not_fitted(self, function, noisy_data):
        with pytest.raises(NotFittedError, match="call fit"):
            function(make_net(), noisy_data[2])

    @pytest.mark.parametrize("function", FUNCTIONS)
    def test_plain_skorch_net(self, function, noisy_data):
        X, y, is_noisy = noisy_data
        net = NeuralNetClassifier(TinyMLP, max_epochs=1, train_split=None, verbose=0)
        with pytest.raises(TypeError, match="MRClassifier"):
            function(net, is_noisy)
        with pytest.raises(TypeError, match="no sample-reweighting callback"):
            function(net.fit(X, y), is_noisy)

    @pytest.mark.parametrize("function", FUNCTIONS[:4])
    def test_random_reweighting_has_no_cumulative_losses(self, function, noisy_data):
        X, y, is_noisy = noisy_data
        net = make_net(max_epochs=1, eta=0.0,
                       callbacks__reweighting=RandomReweighting(0)).fit(X, y)
        with pytest.raises(TypeError, match="RandomReweighting keeps no cumulative "
                                            "losses.*MultiplicativeReweighting"):
            function(net, is_noisy)


class TestLogging:
    """MR's history keys reach skorch's logging callbacks unchanged."""

    KEYS = {"mr_ess", "mr_eta", "mr_weight_noisy"}

    def test_tensorboard_event_file_has_the_keys(self, noisy_data, tmp_path):
        from tensorboard.backend.event_processing.event_accumulator import (
            EventAccumulator)
        from torch.utils.tensorboard import SummaryWriter

        X, y, is_noisy = noisy_data
        writer = SummaryWriter(log_dir=str(tmp_path))
        net = make_net(max_epochs=2, callbacks=[
            WeightHistory(masks={"noisy": is_noisy}), TensorBoard(writer)]).fit(X, y)
        events = EventAccumulator(str(tmp_path))
        events.Reload()
        tags = set(events.Tags()["scalars"])
        assert self.KEYS <= tags
        for key in self.KEYS:
            scalars = events.Scalars(key)
            assert [s.step for s in scalars] == [1, 2]
            np.testing.assert_allclose([s.value for s in scalars],
                                       net.history[:, key], rtol=1e-6)

    def test_mlflow_logger_logs_the_keys(self, noisy_data):
        X, y, is_noisy = noisy_data
        client, run = mock.Mock(), mock.Mock()
        net = make_net(max_epochs=2, callbacks=[
            WeightHistory(masks={"noisy": is_noisy}),
            MlflowLogger(run=run, client=client, create_artifact=False)]).fit(X, y)
        for key in self.KEYS:
            # (run_id, key, value, step=epoch): the history's value of each epoch
            logged = [(c.args[2], c.kwargs.get("step")) for c in
                      client.log_metric.call_args_list if c.args[1] == key]
            assert logged == [(net.history[i, key], i + 1) for i in range(2)]
        # and the last values are the final weights' (computed here)
        final = {c.args[1]: c.args[2] for c in client.log_metric.call_args_list}
        p = net.sample_weights_
        assert final["mr_ess"] == pytest.approx(1 / np.sum(p ** 2), rel=1e-6)
        assert final["mr_weight_noisy"] == pytest.approx(p[is_noisy].sum(), rel=1e-6)
        assert final["mr_eta"] == ETA
