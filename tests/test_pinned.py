"""Behaviours a deliberate bug could change without failing the suite (issue 18).

Each is pinned by an independent computation in numpy: the weighted batch
loss of criteria other than cross-entropy, the weights training uses after
an eta schedule changes eta, the label whose loss the online pass records
under mixup, and where a mid-epoch update falls when the batches of an epoch
are not a multiple of ``updates_per_epoch`` (labels 1..K on a K-output
module: tests/test_fit_inputs.py). ``tests/mutation/run.py`` checks that
each fails on the bug it is meant to catch.
"""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sk_mr import MRBinaryClassifier, MRClassifier, MRRegressor
from conftest import TinyMLP, FixedWeights

#: non-uniform weights of 12 examples; batches of 5 hold totals 2.7, 4.6, 0.7
WEIGHTS = np.array([0.1, 1.0, 0.2, 0.9, 0.5, 2.0, 0.3, 0.1, 1.5, 0.7, 0.4, 0.3])



def softplus(z):
    return np.logaddexp(0.0, z)


def batch_losses_by_hand(losses, batch_size):
    """``sum_B w_i l_i / sum_B w_i`` of each batch of consecutive examples."""
    out = []
    for start in range(0, len(losses), batch_size):
        w, l = WEIGHTS[start:start + batch_size], losses[start:start + batch_size]
        out.append(float((w * l).sum() / w.sum()))
    return out


class TestWeightedBatchLossOfOtherCriteria:
    """A batch's loss is divided by its total weight, never by its size."""

    def fit(self, cls, X, y, **kwargs):
        # lr=0: every batch sees the initial parameters, so the losses are
        # the module's at the end; batches of 5 in order, weights fixed
        return cls(module=torch.nn.Linear, module__in_features=3, lr=0.0, max_epochs=1,
                   batch_size=5, iterator_train__shuffle=False, train_split=None,
                   verbose=0, random_state=0,
                   callbacks__reweighting=FixedWeights(WEIGHTS), **kwargs).fit(X, y)

    def recorded(self, net):
        return [b["train_loss"] for b in net.history[-1, "batches"]]

    def test_regression_mse_with_two_outputs(self):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(12, 3)).astype(np.float32)
        y = rng.normal(size=(12, 2)).astype(np.float32)
        net = self.fit(MRRegressor, X, y, module__out_features=2)
        with torch.no_grad():
            pred = net.module_(torch.as_tensor(X)).numpy().astype(np.float64)
        losses = ((pred - y) ** 2).mean(axis=1)  # each example's mean over its outputs
        np.testing.assert_allclose(self.recorded(net), batch_losses_by_hand(losses, 5),
                                   rtol=1e-5)

    def test_binary_cross_entropy_with_logits(self):
        rng = np.random.default_rng(1)
        X = rng.normal(size=(12, 3)).astype(np.float32)
        y = (rng.random(12) < 0.5).astype(np.float32)
        net = self.fit(MRBinaryClassifier, X, y, module__out_features=1)
        with torch.no_grad():
            z = net.module_(torch.as_tensor(X)).numpy().ravel().astype(np.float64)
        losses = np.where(y == 1, softplus(-z), softplus(z))
        np.testing.assert_allclose(self.recorded(net), batch_losses_by_hand(losses, 5),
                                   rtol=1e-5)

    def label_probabilities(self, seed, **params):
        """Fit a 3-class net with ``params`` on 12 examples; return the net
        and the final parameters' probability of each example's label."""
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(12, 3)).astype(np.float32)
        y = rng.integers(0, 3, size=12)
        y[:3] = [0, 1, 2]
        net = self.fit(MRClassifier, X, y, module__out_features=3, **params)
        with torch.no_grad():
            logits = net.module_(torch.as_tensor(X)).numpy().astype(np.float64)
        p = np.exp(logits - logits.max(1, keepdims=True))
        return net, (p / p.sum(1, keepdims=True))[np.arange(12), y]

    def test_generalized_cross_entropy(self):
        from sk_mr.losses import GeneralizedCrossEntropy
        net, p_y = self.label_probabilities(2, criterion=GeneralizedCrossEntropy,
                                            criterion__q=0.7)
        losses = (1 - p_y ** 0.7) / 0.7
        np.testing.assert_allclose(self.recorded(net), batch_losses_by_hand(losses, 5),
                                   rtol=1e-5)

    def test_symmetric_cross_entropy(self):
        # SCE of Wang et al.: -alpha log p_y - beta A (1 - p_y), here with
        # alpha=0.5, beta=2, A=-3 (not the defaults, so each term shows)
        from sk_mr.losses import SymmetricCrossEntropy
        net, p_y = self.label_probabilities(3, criterion=SymmetricCrossEntropy,
                                            criterion__alpha=0.5, criterion__beta=2.0,
                                            criterion__A=-3.0)
        losses = -0.5 * np.log(p_y) + 2.0 * 3.0 * (1 - p_y)
        np.testing.assert_allclose(self.recorded(net), batch_losses_by_hand(losses, 5),
                                   rtol=1e-5)

def classifier(**kwargs):
    params = dict(module=TinyMLP, max_epochs=2, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, random_state=0, iterator_train__shuffle=False,
                  criterion=torch.nn.CrossEntropyLoss)  # hand computations are CE's
    params.update(kwargs)
    return MRClassifier(**params)


class TestWeightsAfterAnEtaChange:
    def test_training_uses_the_reported_weights(self, small_digits):
        X, y = small_digits
        etas = {1: 0.5, 2: 3.0}  # the last update changes eta
        net = classifier(eta=lambda epoch: etas[epoch], loss_pass="full").fit(X, y)
        np.testing.assert_array_equal(net.history[:, "mr_eta"], [0.5, 3.0])
        L = net.cumulative_losses_
        by_hand = np.exp(-3.0 * (L - L.min()))
        by_hand /= by_hand.sum()
        np.testing.assert_allclose(net.sample_weights_, by_hand, rtol=1e-10)
        # what the next batch is weighted with (float32, mean one)
        used = net.mr_.batch_weights_.double().numpy()
        np.testing.assert_allclose(used / used.sum(), by_hand, rtol=1e-5)
        assert by_hand.max() / by_hand.min() > 2  # not uniform: eta 3 shows


class MixupRecorder(MRClassifier):
    """Keeps every training batch's mixed inputs, labels and positions."""

    def mixup_batch(self, Xi, yi):
        X_mixed, target = super().mixup_batch(Xi, yi)
        self.mixed_.append((X_mixed.detach().clone(), target.y_a.clone(),
                            target.y_b.clone(), self.batch_positions_.clone()))
        return X_mixed, target


class TestOnlinePassUnderMixup:
    def test_records_each_examples_own_label_on_its_mixed_input(self, small_digits):
        X, y = small_digits
        net = MixupRecorder(module=TinyMLP, mixup_alpha=1.0, loss_pass="online", eta=0.5,
                            lr=0.0, max_epochs=1, batch_size=64, train_split=None,
                            verbose=0, random_state=0, iterator_train__shuffle=True,
                            criterion=torch.nn.CrossEntropyLoss)  # by hand below
        net.mixed_ = []
        net.fit(X, y)
        by_hand = np.full(len(X), np.nan)
        partner = np.full(len(X), np.nan)
        with torch.no_grad():
            for X_mixed, y_a, y_b, positions in net.mixed_:
                logp = torch.log_softmax(net.module_(X_mixed), 1).double().numpy()
                rows = np.arange(len(y_a))
                by_hand[positions.numpy()] = -logp[rows, y_a.numpy()]
                partner[positions.numpy()] = -logp[rows, y_b.numpy()]
        assert not np.isnan(by_hand).any()
        # lr=0 and one update: the cumulative loss is the recorded one
        np.testing.assert_allclose(net.cumulative_losses_, by_hand, rtol=1e-5)
        assert not np.allclose(net.cumulative_losses_, partner, rtol=1e-3)


class UpdatesSeen(Callback):
    """Records the number of MW updates after every training batch."""

    def initialize(self):
        self.after_batch_ = []
        return self

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.after_batch_.append(net.mr_.n_updates_)


class TestMidEpochUpdatePosition:
    """Update j of k falls after batch ceil(j * n_batches / k) of the epoch."""

    @pytest.mark.parametrize("n_rows, k, expected", [
        (300, 2, [0, 0, 1, 1, 1]),      # 5 batches: after batch ceil(2.5) = 3
        (300, 3, [0, 1, 1, 2, 2]),      # after batches ceil(5/3) = 2 and ceil(10/3) = 4
        (256, 3, [0, 1, 2, 2]),         # 4 batches: after ceil(4/3) = 2, ceil(8/3) = 3
        (256, 2, [0, 1, 1, 1]),         # a multiple: after batch 2
    ])
    def test_boundaries(self, small_digits, n_rows, k, expected):
        X, y = small_digits
        seen = UpdatesSeen()
        classifier(updates_per_epoch=k, max_epochs=1, loss_pass="online", eta=0.5,
                   callbacks=[seen]).fit(X[:n_rows], y[:n_rows])
        # the net's own reweighting callback runs before the user's callbacks
        assert seen.after_batch_ == expected
