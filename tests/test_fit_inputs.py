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


class _Head(torch.nn.Module):
    """A linear layer whose output has the shape ``(n, *shape)``, then ``final``."""

    def __init__(self, shape=(3,), final=None):
        super().__init__()
        self.shape = tuple(shape)
        self.linear = torch.nn.Linear(4, int(np.prod(shape)))
        self.final = final

    def forward(self, X):
        out = self.linear(X).reshape(len(X), *self.shape)
        if self.final == "sigmoid":
            return torch.sigmoid(out)
        if self.final == "log_softmax":
            return torch.log_softmax(out, dim=1)
        return out


def _loss_case(name, n, rng):
    """(criterion class, criterion kwargs, module kwargs, targets) of a loss case."""
    nn = torch.nn
    multi = rng.normal(size=(n, 3)).astype(np.float32)
    binary = (rng.random(size=(n, 3)) < 0.5).astype(np.float32)
    classes = rng.integers(0, 4, size=n)
    sequences = rng.integers(0, 4, size=(n, 5))
    probs = rng.dirichlet(np.ones(3), size=n).astype(np.float32)
    return {
        "mse": (nn.MSELoss, {}, {}, multi),
        "l1": (nn.L1Loss, {}, {}, multi),
        "smooth_l1": (nn.SmoothL1Loss, {}, {}, multi),
        "huber": (nn.HuberLoss, {}, {}, multi),
        "bce_logits_multilabel": (nn.BCEWithLogitsLoss, {}, {}, binary),
        "bce_multilabel": (nn.BCELoss, {}, {"final": "sigmoid"}, binary),
        "soft_margin": (nn.SoftMarginLoss, {}, {}, 2 * binary - 1),
        "multilabel_soft_margin": (nn.MultiLabelSoftMarginLoss, {}, {}, binary),
        "hinge_embedding": (nn.HingeEmbeddingLoss, {}, {}, 2 * binary - 1),
        "poisson_nll": (nn.PoissonNLLLoss, {}, {}, rng.poisson(2.0, size=(n, 3)).astype(
            np.float32)),
        "kl_div": (nn.KLDivLoss, {}, {"final": "log_softmax"}, probs),
        "cross_entropy": (nn.CrossEntropyLoss, {}, {"shape": (4,)}, classes),
        "cross_entropy_weighted": (nn.CrossEntropyLoss,
                                   {"weight": torch.tensor([1.0, 2.0, 0.5, 3.0])},
                                   {"shape": (4,)}, classes),
        "cross_entropy_soft": (nn.CrossEntropyLoss, {}, {"shape": (3,)}, probs),
        "cross_entropy_sequence": (nn.CrossEntropyLoss, {}, {"shape": (4, 5)}, sequences),
        "cross_entropy_sequence_weighted": (
            nn.CrossEntropyLoss, {"weight": torch.tensor([1.0, 2.0, 0.5, 3.0])},
            {"shape": (4, 5)}, sequences),
        "nll_sequence": (nn.NLLLoss, {}, {"shape": (4, 5), "final": "log_softmax"}, sequences),
        "multi_margin": (nn.MultiMarginLoss, {}, {"shape": (4,)}, classes),
    }[name]


_INDEXED = {"cross_entropy", "cross_entropy_weighted", "cross_entropy_sequence",
            "cross_entropy_sequence_weighted", "nll_sequence"}
_LOSS_CASES = [(name, reduction, ignore)
               for name in ["mse", "l1", "smooth_l1", "huber", "bce_logits_multilabel",
                            "bce_multilabel", "soft_margin", "multilabel_soft_margin",
                            "hinge_embedding", "poisson_nll", "kl_div", "cross_entropy",
                            "cross_entropy_weighted", "cross_entropy_soft",
                            "cross_entropy_sequence", "cross_entropy_sequence_weighted",
                            "nll_sequence", "multi_margin"]
               for reduction in (["mean", "sum", "batchmean"] if name == "kl_div"
                                 else ["mean", "sum"])
               for ignore in ([False, True] if name in _INDEXED else [False])]


class TestEtaZeroIsTheCriterion:
    """With uniform weights MR's batch loss and gradients are the criterion's own."""

    @pytest.mark.parametrize("name, reduction, ignore", _LOSS_CASES)
    def test_batch_loss_and_gradients_equal_skorch(self, name, reduction, ignore):
        import copy

        from skorch import NeuralNet

        from sk_mr import MRMixin

        class MRNet(MRMixin, NeuralNet):
            pass

        n = 24
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, 4)).astype(np.float32)
        criterion, criterion_kwargs, module_kwargs, y = _loss_case(name, n, rng)
        if ignore:  # padding: about a third of the positions are ignored
            y = np.where(rng.random(size=y.shape) < 0.35, -100, y)
            y.flat[0] = 1  # and never a batch with nothing to count
        torch.manual_seed(0)
        module = _Head(**module_kwargs)
        params = dict(criterion=criterion, max_epochs=1, lr=0.0, batch_size=n,
                      train_split=None, verbose=0, criterion__reduction=reduction,
                      **{"criterion__" + k: v for k, v in criterion_kwargs.items()})
        plain = NeuralNet(copy.deepcopy(module), **params).fit(X, y)
        mr = MRNet(copy.deepcopy(module), eta=0.0, **params).fit(X, y)
        assert mr.history[-1, "train_loss"] == pytest.approx(
            plain.history[-1, "train_loss"], rel=1e-5)
        for (key, p_mr), p_plain in zip(mr.module_.named_parameters(),
                                        plain.module_.parameters()):
            np.testing.assert_allclose(p_mr.grad.numpy(), p_plain.grad.numpy(),
                                       rtol=1e-4, atol=1e-7, err_msg=key)
