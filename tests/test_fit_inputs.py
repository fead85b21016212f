"""Inputs at the estimator boundary (issue 18): every input trains correctly or
is refused clearly, and a refused fit leaves a fitted net as it was.

Each test compares with an independent computation (a reshaped target, the
plain skorch net, scikit-learn's accuracy_score on the held-out rows).
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score
from skorch.callbacks import Checkpoint, EarlyStopping
from skorch.dataset import ValidSplit

from conftest import TinyMLP
from sk_mr import MRBinaryClassifier, MRClassifier, MRRegressor


@pytest.fixture(scope="module")
def blobs():
    """200 examples, 4 features; class 1 where x0 + x1 > 0 (learnable in a few epochs)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


class TestValidAccuracy:
    """valid_acc under the default train_split is accuracy on the held-out labels."""

    @pytest.mark.parametrize("labels", [[2, 5], [3, 7], ["cat", "dog"], [-1, 1], [0, 1]])
    @pytest.mark.parametrize("binary", [False, True])
    def test_valid_acc_is_accuracy_of_the_held_out_rows(self, blobs, labels, binary):
        X, y_index = blobs
        y = np.array(labels)[y_index]
        if binary:
            net = MRBinaryClassifier(TinyMLP, module__in_features=4, module__n_classes=1)
        else:
            net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2)
        net.set_params(max_epochs=5, lr=0.5, verbose=0, random_state=0,
                       train_split=ValidSplit(5))
        net.fit(X, y)
        held_out = np.isnan(net.sample_weights_)  # the rows MR did not train on
        assert held_out.sum() == 40
        expected = accuracy_score(y[held_out], net.predict(X[held_out]))
        assert expected > 0.7  # a real accuracy, so that 0.0 or 0.3 cannot pass
        assert net.history[-1, "valid_acc"] == pytest.approx(expected)

    def test_checkpoint_and_early_stopping_on_valid_acc(self, blobs, tmp_path):
        X, y_index = blobs
        y = np.array(["no", "yes"])[y_index]
        checkpoint = Checkpoint(monitor="valid_acc_best", dirname=str(tmp_path))
        stopper = EarlyStopping(monitor="valid_acc", lower_is_better=False, patience=2)
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2,
                           max_epochs=6, lr=0.5, verbose=0, random_state=0,
                           callbacks=[checkpoint, stopper]).fit(X, y)
        accs = net.history[:, "valid_acc"]
        best = [i == 0 or acc > max(accs[:i]) for i, acc in enumerate(accs)]  # skorch: strict
        assert net.history[:, "valid_acc_best"] == best
        assert net.history[:, "event_cp"] == best
        assert max(accs) > 0.7
