"""Property-based tests: every generated input trains correctly or is refused clearly.

Invariants (issue "No silent wrong results"), each checked against a
reference computed independently:

* labels: any labels scikit-learn accepts come back from ``predict``;
  ``classes_`` is their sorted set and ``predict_proba`` has one column per
  class; ``score`` is ``accuracy_score`` of ``predict``;
* weights: after a fit, the training rows' weights are
  ``softmax(-eta_ * L)`` of the cumulative losses and sum to one, for any eta,
  either loss pass and any number of updates per epoch;
* ``eta=0`` is the criterion's own loss: the first epoch's training loss
  equals plain skorch's, for generated shapes, reductions and criteria;
* a refused fit (bad values, non-finite inputs, wrong shapes) raises a
  ``ValueError`` or ``TypeError`` that names what was wrong, and leaves a
  fitted net exactly as it was (predictions and weights);
* persistence round trips (``save_params`` / ``load_params`` with the MR
  state) give the same predictions and weights.

The example budget is fixed and derandomized, so ``make test`` stays fast
and repeatable; ``SK_MR_PROPERTY_EXAMPLES=200 pytest tests/test_properties.py``
runs a larger search.
"""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skorch import NeuralNetRegressor
from sklearn.metrics import accuracy_score

from sk_mr import MRClassifier, MRRegressor

EXAMPLES = int(os.environ.get("SK_MR_PROPERTY_EXAMPLES", "12"))
PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

#: invariants checked and cases generated, counted as the suite runs
COUNTS = {}


def _count(name):
    COUNTS[name] = COUNTS.get(name, 0) + 1


class Linear(torch.nn.Module):
    def __init__(self, n_in=4, n_out=3):
        super().__init__()
        self.lin = torch.nn.Linear(n_in, n_out)

    def forward(self, X):
        return self.lin(X)


def _X(n, d, seed):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _classifier(n_out, **kwargs):
    params = dict(module=Linear, module__n_in=4, module__n_out=n_out, max_epochs=2,
                  lr=0.1, batch_size=16, train_split=None, verbose=0, random_state=0)
    params.update(kwargs)
    return MRClassifier(**params)


label_sets = st.one_of(
    st.lists(st.integers(-50, 50), min_size=2, max_size=4, unique=True),
    st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=2, max_size=4, unique=True),
    st.just([False, True]),
    st.lists(st.sampled_from([0, 3, 7, 11, 20]), min_size=2, max_size=4, unique=True),
)


class TestLabels:
    @PROPERTY
    @given(labels=label_sets, seed=st.integers(0, 1000))
    def test_any_labels_come_back(self, labels, seed):
        rng = np.random.default_rng(seed)
        y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[
            rng.integers(0, len(labels), 40)]
        y[:len(labels)] = labels  # every label present
        X = _X(40, 4, seed)
        net = _classifier(len(labels), eta=0.1).fit(X, y)
        predicted = net.predict(X)
        assert set(predicted.tolist()) <= set(labels)
        np.testing.assert_array_equal(net.classes_, np.unique(y))
        assert net.predict_proba(X).shape == (40, len(labels))
        assert net.score(X, y) == pytest.approx(accuracy_score(y, predicted))
        _count("labels")


class TestWeights:
    @PROPERTY
    @given(eta=st.floats(0.0, 5.0), loss_pass=st.sampled_from(["online", "full"]),
           updates=st.integers(1, 2), seed=st.integers(0, 1000))
    def test_weights_are_the_mw_distribution(self, eta, loss_pass, updates, seed):
        X = _X(48, 4, seed)
        y = np.random.default_rng(seed).integers(0, 3, 48)
        net = _classifier(3, eta=eta, loss_pass=loss_pass,
                          updates_per_epoch=updates).fit(X, y)
        L = np.asarray(net.cumulative_losses_, dtype=np.float64)
        z = -net.mr_.eta_ * (L - L.min())
        expected = np.exp(z) / np.exp(z).sum()
        np.testing.assert_allclose(net.sample_weights_, expected, rtol=1e-9, atol=1e-15)
        assert net.sample_weights_.sum() == pytest.approx(1.0)
        assert net.mr_.n_updates_ == 2 * updates
        _count("weights")


class TestEtaZeroIsTheCriterion:
    @PROPERTY
    @given(n_out=st.integers(1, 3), reduction=st.sampled_from(["mean", "sum"]),
           loss=st.sampled_from(["mse", "l1", "huber"]), seed=st.integers(0, 1000))
    def test_first_epoch_loss_equals_skorch(self, n_out, reduction, loss, seed):
        criterion = {"mse": torch.nn.MSELoss, "l1": torch.nn.L1Loss,
                     "huber": torch.nn.HuberLoss}[loss]
        X = _X(32, 4, seed)
        y = np.random.default_rng(seed).normal(size=(32, n_out)).astype(np.float32)
        params = dict(module=Linear, module__n_in=4, module__n_out=n_out, max_epochs=1,
                      lr=0.0, batch_size=8, train_split=None, verbose=0,
                      criterion=criterion, criterion__reduction=reduction)
        torch.manual_seed(seed)
        plain = NeuralNetRegressor(**params).fit(X, y)
        torch.manual_seed(seed)
        mr = MRRegressor(eta=0.0, **params).fit(X, y)
        assert mr.history[0, "train_loss"] == pytest.approx(plain.history[0, "train_loss"],
                                                            rel=1e-5)
        _count("eta0")


bad_parameters = st.sampled_from([
    ("eta", -1.0), ("eta", float("nan")), ("eta", "fast"), ("loss_pass", "sometimes"),
    ("updates_per_epoch", 0), ("updates_per_epoch", True), ("mixup_alpha", -0.5),
])
bad_data = st.sampled_from(["nan_X", "inf_X", "features", "rows"])


@pytest.fixture(scope="module")
def fitted():
    X = _X(60, 4, 0)
    y = np.random.default_rng(0).integers(0, 3, 60)
    return _classifier(3, eta=0.3).fit(X, y), X, y


class TestRefusalsKeepTheNet:
    def _snapshot(self, net, X):
        return net.predict_proba(X).copy(), net.sample_weights_.copy()

    @PROPERTY
    @given(bad=bad_parameters)
    def test_bad_parameter(self, fitted, bad):
        net, X, y = fitted
        before = self._snapshot(net, X)
        name, value = bad
        net.set_params(**{name: value})
        try:
            with pytest.raises((ValueError, TypeError), match=name):
                net.fit(X, y)
        finally:
            net.set_params(**{name: _classifier(3, eta=0.3).get_params()[name]})
        after = self._snapshot(net, X)
        np.testing.assert_array_equal(before[0], after[0])
        np.testing.assert_array_equal(before[1], after[1])
        _count("refused_parameter")

    @PROPERTY
    @given(kind=bad_data, seed=st.integers(0, 1000))
    def test_bad_data(self, fitted, kind, seed):
        net, X, y = fitted
        before = self._snapshot(net, X)
        X_bad, y_bad = X.copy(), y.copy()
        row = np.random.default_rng(seed).integers(0, len(X))
        if kind == "nan_X":
            X_bad[row, 0] = np.nan
        elif kind == "inf_X":
            X_bad[row, 1] = np.inf
        elif kind == "features":
            X_bad = np.hstack([X_bad, X_bad[:, :1]])
        else:
            y_bad = y_bad[:-1]
        with pytest.raises((ValueError, TypeError)):
            net.fit(X_bad, y_bad)
        after = self._snapshot(net, X)
        np.testing.assert_array_equal(before[0], after[0])
        np.testing.assert_array_equal(before[1], after[1])
        _count("refused_data")


class TestPersistence:
    @PROPERTY
    @given(eta=st.sampled_from([0.0, 0.05, 0.5, "auto"]),
           loss_pass=st.sampled_from(["online", "full"]), seed=st.integers(0, 1000))
    def test_round_trip(self, tmp_path_factory, eta, loss_pass, seed):
        folder = tmp_path_factory.mktemp("params")
        X = _X(40, 4, seed)
        y = np.random.default_rng(seed).integers(0, 3, 40)
        net = _classifier(3, eta=eta, loss_pass=loss_pass).fit(X, y)
        files = dict(f_params=folder / "p.pt", f_criterion=folder / "c.pt",
                     f_history=folder / "h.json")
        net.save_params(**files)
        other = _classifier(3, eta=eta, loss_pass=loss_pass).initialize()
        other.load_params(**files)
        np.testing.assert_array_equal(other.predict_proba(X), net.predict_proba(X))
        np.testing.assert_allclose(other.sample_weights_, net.sample_weights_, rtol=1e-12)
        _count("persistence")


def test_counts_are_reported():
    """Prints the cases generated per invariant (``pytest -s`` shows them)."""
    print("property cases generated:", dict(sorted(COUNTS.items())))
