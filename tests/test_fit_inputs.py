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
from sk_mr.exceptions import MRParameterWarning


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


@pytest.fixture(scope="module")
def outlier_regression():
    """Standardized linear targets, 20% of them replaced by outliers."""
    from sk_mr.noise import add_target_outliers

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], dtype=np.float32)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    y_bad, is_outlier = add_target_outliers(y.reshape(-1, 1), 0.2, random_state=0)
    return X, y_bad[:, 0], is_outlier.ravel()


def _regressor(**kwargs):
    params = dict(module=torch.nn.Linear, module__in_features=3, module__out_features=1,
                  eta=0.05, max_epochs=8, lr=0.05, train_split=None, random_state=0,
                  verbose=0, loss_pass="full")
    params.update(kwargs)
    return MRRegressor(**params)


class TestTargetShapes:
    """Targets are checked against the module's output: reshaped or refused, never broadcast."""

    def test_1d_y_trains_as_its_column(self, outlier_regression):
        X, y, is_outlier = outlier_regression
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch's broadcasting warning included
            net_1d = _regressor().fit(X, y)
        net_2d = _regressor().fit(X, y.reshape(-1, 1))
        np.testing.assert_array_equal(net_1d.cumulative_losses_, net_2d.cumulative_losses_)
        np.testing.assert_array_equal(net_1d.sample_weights_, net_2d.sample_weights_)
        np.testing.assert_array_equal(net_1d.predict(X), net_2d.predict(X))
        weights = net_1d.sample_weights_
        # measured: 0.18 (a broadcast (n, n) loss gave 0.98)
        assert weights[is_outlier].mean() < 0.5 * weights[~is_outlier].mean()

    def test_1d_y_per_example_loss_is_its_own_error(self, outlier_regression):
        X, y, _ = outlier_regression
        net = _regressor(lr=0.0, max_epochs=1).fit(X, y)
        with torch.no_grad():
            out = net.module_(torch.as_tensor(X)).numpy()[:, 0]
        np.testing.assert_allclose(net.cumulative_losses_, (out - y) ** 2, rtol=1e-5)

    @pytest.mark.parametrize("y_shape, out_features", [((200, 2), 1), ((200,), 2),
                                                       ((200, 1), 3), ((200, 2, 1), 2)])
    def test_other_shapes_are_refused(self, outlier_regression, y_shape, out_features):
        X, y, _ = outlier_regression
        y = np.resize(y, y_shape).astype(np.float32)
        net = _regressor(module__out_features=out_features)
        with pytest.raises(ValueError, match=r"y has shape .*the module's output"):
            net.fit(X, y)


def _fitted_state(net, X):
    state = {key: value.clone() for key, value in net.module_.state_dict().items()}
    return net.predict(X), net.sample_weights_.copy(), len(net.history), state


def _assert_unchanged(net, X, before):
    predictions, weights, n_epochs, state = before
    np.testing.assert_array_equal(net.predict(X), predictions)
    np.testing.assert_array_equal(net.sample_weights_, weights)
    assert len(net.history) == n_epochs
    for key, value in net.module_.state_dict().items():
        assert torch.equal(value, state[key]), key


class TestRefusedFitKeepsTheNet:
    """A refused fit or partial_fit leaves a fitted net exactly as it was."""

    @pytest.mark.parametrize("method", ["fit", "partial_fit"])
    @pytest.mark.parametrize("case", ["inf_target", "nan_target", "auto_eta",
                                      "n_features", "target_shape"])
    def test_regressor(self, outlier_regression, case, method):
        X, y, _ = outlier_regression
        net = _regressor(max_epochs=2).fit(X, y)
        before = _fitted_state(net, X)
        X_new, y_new, match = X, y.copy(), None
        if case == "inf_target":
            y_new[3] = np.inf
            match = r"y contains 1 NaN or infinite value.*not finite"
        elif case == "nan_target":
            y_new[3] = np.nan
            match = r"y contains 1 NaN or infinite value"
        elif case == "auto_eta":
            net.set_params(eta="auto")
            match = "eta='auto'"
        elif case == "n_features":
            X_new = X[:, :2]
            match = "2 features"
        else:
            y_new = np.stack([y, y], axis=1)
            match = r"y has shape \(200, 2\)"
        with pytest.raises(ValueError, match=match):
            getattr(net, method)(X_new, y_new)
        _assert_unchanged(net, X, before)

    @pytest.mark.parametrize("case", ["n_features", "labels_outputs"])
    def test_classifier_cold_refit(self, blobs, case):
        X, y = blobs
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2, max_epochs=2,
                           lr=0.1, train_split=None, verbose=0, random_state=0).fit(X, y)
        before = _fitted_state(net, X)
        if case == "n_features":
            with pytest.raises(ValueError, match="3 features"):
                net.fit(X[:, :3], y)
        else:
            with pytest.raises(ValueError, match="3 distinct labels"):
                net.fit(X, np.array(["a", "b", "c"])[np.arange(len(y)) % 3])
        _assert_unchanged(net, X, before)

    def test_auto_eta_refused_before_any_epoch(self, outlier_regression):
        X, y, _ = outlier_regression
        net = _regressor(eta="auto")
        with pytest.raises(ValueError, match="eta='auto'.*pass a float eta"):
            net.fit(X, y)
        assert not getattr(net, "initialized_", False) or len(net.history) == 0


class TestInputKinds:
    """Inputs of other kinds train as their plain equivalent or are refused clearly."""

    def _classifier(self, **kwargs):
        params = dict(module=TinyMLP, module__in_features=4, module__n_classes=2,
                      max_epochs=2, lr=0.1, train_split=None, verbose=0, random_state=0,
                      eta=0.5)
        params.update(kwargs)
        return MRClassifier(**params)

    @pytest.mark.parametrize("binary", [False, True])
    def test_column_of_labels_is_raveled_with_a_warning(self, blobs, binary):
        from sklearn.exceptions import DataConversionWarning

        X, y = blobs
        make = (lambda: self._classifier() if not binary else MRBinaryClassifier(
            TinyMLP, module__in_features=4, module__n_classes=1, max_epochs=2, lr=0.1,
            train_split=None, verbose=0, random_state=0, eta=0.5))
        y = np.array([-1, 1])[y]
        with pytest.warns(DataConversionWarning, match=r"shape \(200, 1\)"):
            column = make().fit(X, y.reshape(-1, 1))
        plain = make().fit(X, y)
        np.testing.assert_array_equal(column.sample_weights_, plain.sample_weights_)
        np.testing.assert_array_equal(column.predict_proba(X), plain.predict_proba(X))
        np.testing.assert_array_equal(column.classes_, [-1, 1])

    def test_iterable_dataset_is_refused(self, blobs):
        X, y = blobs

        class Stream(torch.utils.data.IterableDataset):
            def __iter__(self):
                return iter(zip(torch.as_tensor(X), torch.as_tensor(y)))

        with pytest.raises(TypeError, match="IterableDataset.*map-style dataset"):
            self._classifier().fit(Stream(), None)

    def test_dataframe_with_columns_forward_cannot_take_is_refused(self, blobs):
        pd = pytest.importorskip("pandas")
        X, y = blobs
        net = self._classifier()
        with pytest.raises(ValueError, match=r"pandas DataFrame.*\[0, 1, 2, 3\].*to_numpy"):
            net.fit(pd.DataFrame(X), y)
        assert not net.initialized_

    def test_dataframe_columns_are_forward_arguments(self, blobs):
        pd = pytest.importorskip("pandas")
        X, y = blobs

        class TwoInputs(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(1, 2)
                self.b = torch.nn.Linear(1, 2)

            def forward(self, a, b):
                return self.a(a) + self.b(b)

        frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
        as_dict = {"a": X[:, :1], "b": X[:, 1:2]}  # what skorch makes of the frame
        nets = [MRClassifier(TwoInputs, max_epochs=2, lr=0.1, train_split=None, verbose=0,
                             random_state=0, eta=0.5).fit(data, y)
                for data in (frame, as_dict)]
        np.testing.assert_array_equal(nets[0].sample_weights_, nets[1].sample_weights_)
        np.testing.assert_array_equal(nets[0].predict_proba(frame), nets[1].predict_proba(as_dict))

    def test_nan_in_sparse_X_is_non_finite_input(self, blobs):
        sparse = pytest.importorskip("scipy.sparse")
        X, y = blobs
        X_sparse = sparse.csr_matrix(X)
        X_sparse.data[5] = np.nan
        with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value"):
            self._classifier().fit(X_sparse, y)


class _BFloat16MLP(TinyMLP):
    """TinyMLP with bfloat16 parameters."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.to(torch.bfloat16)


class TestBFloat16:
    """A bfloat16 module trains on float64 arrays (cast to its dtype), its outputs in float32."""

    @pytest.mark.parametrize("task", ["classifier", "binary", "regressor"])
    def test_losses_and_predictions_are_the_modules(self, blobs, task):
        X, y = blobs
        X64 = X.astype(np.float64)  # what StandardScaler returns
        F = torch.nn.functional
        if task == "classifier":
            net = MRClassifier(_BFloat16MLP, module__n_classes=2)
            loss_fn = lambda out, t: F.cross_entropy(out, torch.as_tensor(t), reduction="none")
        elif task == "binary":
            net = MRBinaryClassifier(_BFloat16MLP, module__n_classes=1)
            loss_fn = lambda out, t: F.binary_cross_entropy_with_logits(
                out[:, 0], torch.as_tensor(t, dtype=torch.float32), reduction="none")
        else:
            net = MRRegressor(_BFloat16MLP, module__n_classes=1)
            y = X[:, :1] - 2 * X[:, 1:2]
            loss_fn = lambda out, t: F.mse_loss(out, torch.as_tensor(t), reduction="none")[:, 0]
        net.set_params(module__in_features=4, max_epochs=1, lr=0.0, train_split=None,
                       verbose=0, random_state=0, loss_pass="full").fit(X64, y)
        with torch.no_grad():
            out = net.module_.eval()(torch.as_tensor(X64).to(torch.bfloat16)).float()
        np.testing.assert_allclose(net.cumulative_losses_, loss_fn(out, y).numpy(), rtol=1e-6)
        if task == "regressor":
            np.testing.assert_array_equal(net.predict(X64), out.numpy())
        elif task == "classifier":
            np.testing.assert_allclose(net.predict_proba(X64), out.softmax(1).numpy(),
                                       rtol=1e-6)
        else:
            np.testing.assert_allclose(net.predict_proba(X64)[:, 1],
                                       torch.sigmoid(out[:, 0]).numpy(), rtol=1e-6)


class TestUpdatesPerEpoch:
    def test_more_updates_than_batches_warns_and_updates_once_per_batch(self, blobs):
        X, y = blobs
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2, max_epochs=2,
                           batch_size=64, updates_per_epoch=6, eta=0.5, lr=0.1,
                           train_split=None, verbose=0, random_state=0)
        with pytest.warns(MRParameterWarning, match=r"updates_per_epoch=6.* 4 batches"):
            net.fit(X, y)
        assert net.mr_.n_updates_ == 2 * 4  # ceil(200 / 64) = 4 batches an epoch

    def test_as_many_updates_as_batches_does_not_warn(self, blobs):
        X, y = blobs
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2, max_epochs=1,
                           batch_size=64, updates_per_epoch=4, train_split=None, verbose=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            net.fit(X, y)
        assert net.mr_.n_updates_ == 4


class TestPartialFitClasses:
    @pytest.mark.parametrize("classes", [[0, 1, 2], ["a", "b", "c"]])
    def test_classes_are_all_the_given_ones(self, blobs, classes):
        X, y_index = blobs  # two of the three classes present
        y = np.asarray(classes)[y_index]
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=3, max_epochs=2,
                           lr=0.1, train_split=None, verbose=0, random_state=0)
        net.partial_fit(X, y, classes=classes)
        np.testing.assert_array_equal(net.classes_, classes)
        proba = net.predict_proba(X)
        assert proba.shape == (len(X), len(net.classes_))
        np.testing.assert_array_equal(net.predict(X), np.asarray(classes)[proba.argmax(1)])
        net.partial_fit(X, y)  # and a later call keeps them
        np.testing.assert_array_equal(net.classes_, classes)


class TestSampleWeight:
    @pytest.mark.parametrize("method", ["fit", "partial_fit"])
    def test_sample_weight_is_refused_before_anything_changes(self, blobs, method):
        X, y = blobs
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2, max_epochs=1,
                           train_split=None, verbose=0, random_state=0).fit(X, y)
        before = _fitted_state(net, X)
        with pytest.raises(TypeError, match=r"fit got sample_weight.*sample_weights_.*get_loss"):
            getattr(net, method)(X, y, sample_weight=np.ones(len(X)))
        _assert_unchanged(net, X, before)

    def test_refused_when_forward_takes_kwargs(self, blobs):
        X, y = blobs

        class Tolerant(TinyMLP):
            def forward(self, X, **kwargs):  # would silently ignore sample_weight
                return super().forward(X)

        net = MRClassifier(Tolerant, module__in_features=4, module__n_classes=2,
                           max_epochs=1, train_split=None, verbose=0)
        with pytest.raises(TypeError, match="sample_weight.*which ignores it"):
            net.fit(X, y, sample_weight=np.ones(len(X)))
        assert not net.initialized_

    def test_a_forward_argument_named_sample_weight_is_passed(self, blobs):
        X, y = blobs
        seen = []

        class Scaled(TinyMLP):
            def forward(self, X, sample_weight=None):
                seen.append(sample_weight)
                return super().forward(X) * sample_weight

        net = MRClassifier(Scaled, module__in_features=4, module__n_classes=2, max_epochs=1,
                           train_split=None, verbose=0, random_state=0)
        net.fit(X, y, sample_weight=2.0)
        assert seen and all(s == 2.0 for s in seen)


class TestLabelsAtTheOutputBoundary:
    """Labels 1..K on K outputs are labels (encoded); 1..K-1 are output indices."""

    def _fit(self, X, y, n_outputs=3):
        return MRClassifier(TinyMLP, module__in_features=4, module__n_classes=n_outputs,
                            max_epochs=1, lr=0.1, train_split=None, verbose=0,
                            random_state=0).fit(X, y)

    def test_labels_one_to_k_are_encoded(self, blobs):
        X, y = blobs
        y = 1 + (y + (X[:, 2] > 0)) % 3  # labels 1, 2, 3
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=3,
                           max_epochs=1, lr=0.0, train_split=None, verbose=0,
                           random_state=0, loss_pass="full").fit(X, y)
        np.testing.assert_array_equal(net.classes_, [1, 2, 3])
        proba = net.predict_proba(X)
        np.testing.assert_array_equal(net.predict(X), 1 + proba.argmax(1))
        # trained as outputs y - 1: the losses are cross-entropy at y - 1
        with torch.no_grad():
            logits = net.module_.eval()(torch.as_tensor(X))
        np.testing.assert_allclose(net.cumulative_losses_, torch.nn.functional.cross_entropy(
            logits, torch.as_tensor(y - 1), reduction="none").numpy(), rtol=1e-5)

    def test_labels_below_k_are_output_indices(self, blobs):
        X, y = blobs
        net = self._fit(X, y + 1)  # labels 1, 2 on 3 outputs: indices, class 0 absent
        assert net.label_classes_ is None
        np.testing.assert_array_equal(net.predict(X), net.predict_proba(X).argmax(1))

    def test_more_labels_than_outputs_is_refused_before_training(self, blobs):
        X, y = blobs
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=3, max_epochs=1,
                           train_split=None, verbose=0)
        with pytest.raises(ValueError, match="4 distinct labels .* 3 outputs"):
            net.fit(X, 1 + (y + 2 * (X[:, 2] > 0)))  # labels 1..4
        assert len(net.history) == 0


class TestSkorchCallsStillWork:
    """What skorch's own suite does with fit (the compat harness found these)."""

    def test_partial_fit_with_epochs(self, outlier_regression):
        X, y, _ = outlier_regression
        net = _regressor(max_epochs=1).fit(X, y)
        net.partial_fit(X, y, epochs=2)  # epochs is fit_loop's, not forward's
        assert len(net.history) == 3

    def test_no_epoch_runs_no_check_of_the_output(self, blobs):
        X, _ = blobs
        y = np.array([1, 2, 3, 4, 6, 7, 8, 9])[np.arange(len(X)) % 8]
        net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=2,
                           max_epochs=0, train_split=None, verbose=0).fit(X, y)
        np.testing.assert_array_equal(net.classes_, np.unique(y))

    def test_warm_partial_fit_of_a_classifier_makes_no_extra_forward(self, blobs):
        X, y = blobs
        calls = []

        class Counting(TinyMLP):
            def forward(self, X):
                calls.append(len(X))
                return super().forward(X)

        net = MRClassifier(Counting, module__in_features=4, module__n_classes=2, max_epochs=1,
                           batch_size=100, train_split=None, verbose=0).fit(X, y)
        calls.clear()
        net.partial_fit(X, y)
        assert calls == [100, 100]  # the two training batches, nothing else


class TestWeightedBatchLoss:
    """With MR weights p, 'mean' is sum(p s) / sum(p n) and 'sum' is B sum(p s) / sum(p)."""

    @pytest.mark.parametrize("name", ["mse", "bce_logits_multilabel", "cross_entropy_sequence"])
    @pytest.mark.parametrize("reduction", ["mean", "sum"])
    def test_second_epoch_loss_by_hand(self, name, reduction):
        from skorch import NeuralNet

        from sk_mr import MRMixin

        class MRNet(MRMixin, NeuralNet):
            pass

        n, eta = 24, 2.0
        rng = np.random.default_rng(1)
        X = rng.normal(size=(n, 4)).astype(np.float32)
        criterion, _, module_kwargs, y = _loss_case(name, n, rng)
        if name == "cross_entropy_sequence":
            y = np.where(rng.random(size=y.shape) < 0.35, -100, y)
            y[:, 0] = 1  # every example counts at least one position
        torch.manual_seed(0)
        net = MRNet(_Head(**module_kwargs), criterion=criterion, criterion__reduction=reduction,
                    eta=eta, max_epochs=2, lr=0.0, batch_size=n, train_split=None, verbose=0,
                    loss_pass="full").fit(X, y)
        with torch.no_grad():
            out = net.module_(torch.as_tensor(X))
            elements = criterion(reduction="none")(out, torch.as_tensor(y)).double()
        elements = elements.flatten(1).numpy()
        if name == "cross_entropy_sequence":
            counted = (y != -100).sum(1).astype(np.float64)
        else:
            counted = np.full(n, float(elements.shape[1]))
        totals = elements.sum(1)
        mw_losses = totals / counted  # the mean over an example's counted positions
        np.testing.assert_allclose(net.cumulative_losses_, 2 * mw_losses, rtol=1e-5)
        p = np.exp(-eta * (mw_losses - mw_losses.min()))  # the weights of epoch 2
        if reduction == "mean":
            expected = (p * totals).sum() / (p * counted).sum()
        else:
            expected = n * (p * totals).sum() / p.sum()
        assert net.history[1, "train_loss"] == pytest.approx(expected, rel=1e-5)
        assert net.history[1, "train_loss"] != pytest.approx(net.history[0, "train_loss"],
                                                             rel=1e-3)
