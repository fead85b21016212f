"""Tests of sk_mr.plotting: the figures draw the data they claim to."""

import sys

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sk_mr import MRClassifier  # noqa: E402
from sk_mr.inspection import (WeightHistory, noise_fraction_by_weight_percentile,  # noqa: E402
                              rank_label_issues, weight_on_mask)
from sk_mr.plotting import (plot_eta_search, plot_extreme_weight_losses,  # noqa: E402
                            plot_loss_curves, plot_mask_weight,
                            plot_noise_by_weight_percentile)
from conftest import TinyMLP  # noqa: E402

EPOCHS = 5


def make_net(**kwargs):
    params = dict(module=TinyMLP, max_epochs=EPOCHS, lr=0.1, batch_size=64, eta=0.5,
                  train_split=None, verbose=0, optimizer__momentum=0.9)
    params.update(kwargs)
    return MRClassifier(**params)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(noisy_data):
    X, y, is_noisy = noisy_data
    torch.manual_seed(0)
    history = WeightHistory(masks={"noisy": is_noisy})
    net = make_net(callbacks=[history]).fit(X, y)
    return net, history


@pytest.fixture(scope="module")
def plain(noisy_data):
    X, y, _ = noisy_data
    torch.manual_seed(0)
    return make_net(eta=0.0).fit(X, y)


class TestPlotLossCurves:
    def test_one_line_per_net_with_its_history(self, fitted, plain):
        net, _ = fitted
        ax = plot_loss_curves({"MR": net, "plain": plain.history})
        assert len(ax.lines) == 2
        for line, run in zip(ax.lines, (net, plain)):
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, EPOCHS + 1))
            np.testing.assert_allclose(line.get_ydata(), run.history[:, "train_loss"])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["MR", "plain"]
        assert ax.get_ylabel() == "train_loss"

    def test_list_is_labelled_with_eta_and_key_is_used(self, fitted, plain):
        ax = plot_loss_curves([fitted[0], plain], key="mr_ess")
        np.testing.assert_allclose(ax.lines[1].get_ydata(), plain.history[:, "mr_ess"])
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["MRClassifier (eta=0.5)", "MRClassifier (eta=0.0)"]

    def test_draws_on_the_given_axes(self, fitted):
        _, ax = plt.subplots()
        assert plot_loss_curves({"MR": fitted[0]}, ax=ax) is ax

    def test_missing_key(self, fitted):
        with pytest.raises(ValueError, match="no history key 'valid_loss'.*train_loss"):
            plot_loss_curves({"MR": fitted[0]}, key="valid_loss")

    def test_bad_nets(self, fitted):
        with pytest.raises(TypeError, match="dict"):
            plot_loss_curves(fitted[0])
        with pytest.raises(ValueError, match="empty"):
            plot_loss_curves({})


class TestPlotMaskWeight:
    def test_draws_weight_on_mask(self, fitted, noisy_data):
        net, _ = fitted
        ax = plot_mask_weight(net, "noisy")
        epochs, totals = weight_on_mask(net, "noisy")
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), epochs)
        np.testing.assert_allclose(ax.lines[0].get_ydata(), totals)
        assert ax.lines[0].get_ydata()[0] == pytest.approx(noisy_data[2].mean())
        assert ax.lines[0].get_ydata()[-1] < ax.lines[0].get_ydata()[0]

    def test_array_mask_and_label(self, fitted, noisy_data):
        ax = plot_mask_weight(fitted[0], ~noisy_data[2], label="clean")
        _, totals = weight_on_mask(fitted[0], "noisy")
        np.testing.assert_allclose(ax.lines[0].get_ydata(), 1 - totals)
        assert ax.get_legend().get_texts()[0].get_text() == "clean"


class TestPlotExtremeWeightLosses:
    def test_per_epoch_from_weight_history(self, fitted):
        net, history = fitted
        ax = plot_extreme_weight_losses(net, fraction=0.1)
        epochs, losses = history.epoch_losses()
        ranked = rank_label_issues(net)
        column = {row: i for i, row in enumerate(history.rows_)}
        lowest = [column[r] for r in ranked[:30]]
        highest = [column[r] for r in ranked[-30:]]
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), epochs)
        np.testing.assert_allclose(ax.lines[0].get_ydata(), losses[:, lowest].mean(1))
        np.testing.assert_allclose(ax.lines[1].get_ydata(), losses[:, highest].mean(1))
        # The paper's observation: low weight, high loss.
        assert ax.lines[0].get_ydata()[-1] > ax.lines[1].get_ydata()[-1]

    def test_final_distribution_without_history(self, plain, noisy_data):
        X, y, _ = noisy_data
        ax = plot_extreme_weight_losses(plain, fraction=0.1, X=X, y=y)
        low, high = ax.containers
        assert sum(p.get_height() for p in low) == 30
        assert sum(p.get_height() for p in high) == 30
        assert not ax.lines

    def test_without_history_or_data(self, plain):
        with pytest.raises(ValueError, match="WeightHistory.*pass the X and y"):
            plot_extreme_weight_losses(plain)

    @pytest.mark.parametrize("fraction", [0, 0.6, "2%"])
    def test_bad_fraction(self, fitted, fraction):
        with pytest.raises(ValueError, match="fraction"):
            plot_extreme_weight_losses(fitted[0], fraction=fraction)


class TestPlotNoiseByWeightPercentile:
    def test_bars_are_noise_fractions(self, fitted, noisy_data):
        net, _ = fitted
        is_noisy = noisy_data[2]
        ax = plot_noise_by_weight_percentile(net, is_noisy)
        heights = [p.get_height() for p in ax.patches]
        np.testing.assert_allclose(
            heights, noise_fraction_by_weight_percentile(net, is_noisy))
        assert len(heights) == 100
        np.testing.assert_allclose(ax.lines[0].get_xdata(), 100 * is_noisy.mean())

    def test_n_bins(self, fitted, noisy_data):
        ax = plot_noise_by_weight_percentile(fitted[0], noisy_data[2], n_bins=10)
        assert len(ax.patches) == 10
        assert ax.patches[0].get_width() == pytest.approx(10)


class TestPlotEtaSearch:
    def test_from_grid_search(self, small_digits):
        X, y = small_digits
        torch.manual_seed(0)
        search = GridSearchCV(make_net(max_epochs=2), {"eta": [1.0, 0.0, 0.1]}, cv=2,
                              refit=False).fit(X[:150], y[:150])
        ax = plot_eta_search(search)
        results = search.cv_results_
        etas = np.array(results["param_eta"], dtype=float)
        scores = results["mean_test_score"]
        np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.1, 1.0])
        np.testing.assert_allclose(ax.lines[0].get_ydata(),
                                   [scores[etas == 0.1][0], scores[etas == 1.0][0]])
        np.testing.assert_allclose(ax.lines[1].get_ydata(), scores[etas == 0][0])
        assert ax.get_xscale() == "log"
        assert len(ax.collections) == 1  # the std band

    def test_one_line_per_other_parameter_in_a_pipeline(self):
        results = {
            "param_net__eta": np.ma.array([0.01, 0.1, 0.01, 0.1], dtype=object),
            "param_net__lr": np.ma.array([0.1, 0.1, 0.5, 0.5], dtype=object),
            "mean_test_score": np.array([0.8, 0.7, 0.6, 0.5]),
        }
        ax = plot_eta_search(results)
        np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.8, 0.7])
        np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.6, 0.5])
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["net__lr=0.1", "net__lr=0.5"]
        assert not ax.collections  # no std column, no band

    def test_unknown_param_and_score(self):
        results = {"param_lr": np.ma.array([0.1], dtype=object),
                   "mean_test_score": np.array([0.5])}
        with pytest.raises(ValueError, match="no single parameter 'eta'.*\\['lr'\\]"):
            plot_eta_search(results)
        with pytest.raises(ValueError, match="no column 'mean_train_score'"):
            plot_eta_search(results, param="lr", score="mean_train_score")
        with pytest.raises(TypeError, match="cv_results_"):
            plot_eta_search([0.5])


class TestMatplotlibIsOptional:
    def test_clear_import_error(self, fitted, monkeypatch):
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
        with pytest.raises(ImportError, match=r"pip install matplotlib .*\.\[plot\]"):
            plot_mask_weight(fitted[0], "noisy")
