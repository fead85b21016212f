"""Tests of sk_mr.losses against hand computations in numpy."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from skorch import NeuralNetClassifier

from sk_mr import MRClassifier
from sk_mr.exceptions import MRParameterWarning
from sk_mr.losses import (AutoSymmetricCrossEntropy, GeneralizedCrossEntropy, NCEandRCE,
                          SymmetricCrossEntropy, TiltedLoss)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def gce_numpy(z, y, q):
    p = _softmax(z)[np.arange(len(y)), y]
    return (1 - p ** q) / q


def sce_numpy(z, y, alpha, beta, A):
    probs = _softmax(z)
    one_hot = np.eye(z.shape[1])[y]
    ce = -np.log(probs[np.arange(len(y)), y])
    with np.errstate(divide="ignore"):
        log_label = np.maximum(np.log(one_hot), A)  # log 0 := A
    rce = -(probs * log_label).sum(1)
    return alpha * ce + beta * rce


def nce_rce_numpy(z, y, alpha, beta, A):
    log_p = np.log(_softmax(z))
    nce = log_p[np.arange(len(y)), y] / log_p.sum(1)
    rce = -A * (1 - np.exp(log_p[np.arange(len(y)), y]))
    return alpha * nce + beta * rce


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=3.0, size=(7, 4))
    y = rng.integers(0, 4, size=7)
    return z, y


class TestGeneralizedCrossEntropy:
    @pytest.mark.parametrize("q", [0.1, 0.7, 1.0])
    def test_matches_numpy(self, batch, q):
        z, y = batch
        got = GeneralizedCrossEntropy(q=q, reduction="none")(torch.tensor(z), torch.tensor(y))
        np.testing.assert_allclose(got.numpy(), gce_numpy(z, y, q), rtol=1e-10)

    def test_reductions(self, batch):
        z, y = batch
        expected = gce_numpy(z, y, 0.7)
        zt, yt = torch.tensor(z), torch.tensor(y)
        assert float(GeneralizedCrossEntropy()(zt, yt)) == pytest.approx(expected.mean())
        assert float(GeneralizedCrossEntropy(reduction="sum")(zt, yt)) == \
            pytest.approx(expected.sum())

    def test_reduction_read_at_call_time(self, batch):
        # MRClassifier sets reduction='none' on an existing criterion to get
        # per-example losses.
        z, y = batch
        criterion = GeneralizedCrossEntropy()
        criterion.reduction = "none"
        got = criterion(torch.tensor(z), torch.tensor(y))
        np.testing.assert_allclose(got.numpy(), gce_numpy(z, y, 0.7), rtol=1e-10)
        criterion.reduction = "median"
        with pytest.raises(ValueError, match="reduction must be one of"):
            criterion(torch.tensor(z), torch.tensor(y))

    def test_small_q_approaches_cross_entropy(self, batch):
        z, y = batch
        got = GeneralizedCrossEntropy(q=1e-6, reduction="none")(torch.tensor(z), torch.tensor(y))
        ce = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(y), reduction="none")
        np.testing.assert_allclose(got.numpy(), ce.numpy(), rtol=1e-4)

    def test_probability_targets(self, batch):
        z, y = batch
        zt = torch.tensor(z)
        one_hot = torch.nn.functional.one_hot(torch.tensor(y), 4).double()
        criterion = GeneralizedCrossEntropy(reduction="none")
        np.testing.assert_allclose(criterion(zt, one_hot).numpy(),
                                   criterion(zt, torch.tensor(y)).numpy(), rtol=1e-12)
        # linear in the target: a mix of two labels mixes their losses
        soft = 0.3 * one_hot + 0.7 * torch.roll(one_hot, 1, dims=1)
        expected = 0.3 * gce_numpy(z, y, 0.7) + 0.7 * gce_numpy(z, (y + 1) % 4, 0.7)
        np.testing.assert_allclose(criterion(zt, soft).numpy(), expected, rtol=1e-10)

    def test_large_logits_finite_gradient(self):
        z = torch.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
        loss = GeneralizedCrossEntropy()(z, torch.tensor([1]))
        loss.backward()
        assert loss.item() == pytest.approx(1 / 0.7)
        assert torch.isfinite(z.grad).all()

    @pytest.mark.parametrize("q", [0, -0.5, 1.5, True, "0.7"])
    def test_bad_q(self, q):
        with pytest.raises(ValueError, match="q must be a finite float > 0 and <= 1, got .*q -> 0 is "
                                             "cross-entropy"):
            GeneralizedCrossEntropy(q=q)


class TestSymmetricCrossEntropy:
    @pytest.mark.parametrize("alpha, beta, A", [(0.1, 1.0, -4.0), (6.0, 0.1, -4.0),
                                                (1.0, 0.5, -9.21)])
    def test_matches_numpy(self, batch, alpha, beta, A):
        z, y = batch
        got = SymmetricCrossEntropy(alpha, beta, A, reduction="none")(
            torch.tensor(z), torch.tensor(y))
        np.testing.assert_allclose(got.numpy(), sce_numpy(z, y, alpha, beta, A), rtol=1e-10)

    def test_reductions_and_call_time_reduction(self, batch):
        z, y = batch
        expected = sce_numpy(z, y, 0.1, 1.0, -4.0)
        zt, yt = torch.tensor(z), torch.tensor(y)
        criterion = SymmetricCrossEntropy()
        assert float(criterion(zt, yt)) == pytest.approx(expected.mean())
        criterion.reduction = "sum"
        assert float(criterion(zt, yt)) == pytest.approx(expected.sum())
        criterion.reduction = "none"
        np.testing.assert_allclose(criterion(zt, yt).numpy(), expected, rtol=1e-10)

    def test_probability_targets(self, batch):
        z, y = batch
        zt = torch.tensor(z)
        one_hot = torch.nn.functional.one_hot(torch.tensor(y), 4).double()
        criterion = SymmetricCrossEntropy(reduction="none")
        np.testing.assert_allclose(criterion(zt, one_hot).numpy(),
                                   sce_numpy(z, y, 0.1, 1.0, -4.0), rtol=1e-12)
        # a soft label: RCE = -sum_k p_k max(log t_k, A)
        soft = torch.full((len(y), 4), 0.25, dtype=torch.float64)
        p = _softmax(z)
        expected = 0.1 * -(0.25 * np.log(p)).sum(1) + 1.0 * -(p * np.log(0.25)).sum(1)
        np.testing.assert_allclose(criterion(zt, soft).numpy(), expected, rtol=1e-10)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(alpha=-1), "alpha must be"), (dict(beta=float("nan")), "beta must be"),
        (dict(A=0.0), "A must be a finite float < 0"), (dict(reduction="avg"), "reduction"),
    ])
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            SymmetricCrossEntropy(**kwargs)

    def test_bad_targets(self, batch):
        z, _ = batch
        criterion = SymmetricCrossEntropy()
        with pytest.raises(ValueError, match="integer class targets"):
            criterion(torch.tensor(z), torch.zeros(7))
        with pytest.raises(ValueError, match="must have the input's shape"):
            criterion(torch.tensor(z), torch.zeros(7, 3))


class TestAutoSymmetricCrossEntropy:
    """SCE with cross-entropy's parameters, on logits or probabilities."""

    def test_is_sce_by_numpy(self, batch):
        z, y = batch
        out = AutoSymmetricCrossEntropy(reduction="none")(torch.as_tensor(z),
                                                         torch.as_tensor(y))
        np.testing.assert_allclose(out.numpy(), sce_numpy(z, y, 0.1, 1.0, -4.0), rtol=1e-10)

    @pytest.mark.parametrize("kwargs", [
        {}, {"label_smoothing": 0.2}, {"ignore_index": 2},
        {"weight": torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)},
        {"weight": torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64),
         "label_smoothing": 0.1, "ignore_index": 0}])
    @pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
    def test_alpha_1_beta_0_is_cross_entropy(self, batch, kwargs, reduction):
        z, y = map(torch.as_tensor, batch)
        out = AutoSymmetricCrossEntropy(alpha=1.0, beta=0.0, reduction=reduction, **kwargs)(z, y)
        expected = torch.nn.CrossEntropyLoss(reduction=reduction, **kwargs)(z, y)
        torch.testing.assert_close(out, expected, rtol=1e-12, atol=1e-12)

    def test_class_weights_and_ignore_index_by_hand(self, batch):
        z, y = batch
        weight = np.array([0.5, 2.0, 1.0, 3.0])
        y = y.copy()
        y[1] = -100
        loss = AutoSymmetricCrossEntropy(weight=torch.as_tensor(weight))
        keep = y != -100
        safe = np.where(keep, y, 0)
        per_example = sce_numpy(z, safe, 0.1, 1.0, -4.0) * weight[safe] * keep
        for reduction, expected in [("none", per_example), ("sum", per_example.sum()),
                                    ("mean", per_example.sum() / (weight[safe] * keep).sum())]:
            loss.reduction = reduction
            out = loss(torch.as_tensor(z), torch.as_tensor(y))
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)

    def test_probability_outputs_score_their_log(self, batch):
        z, y = map(torch.as_tensor, batch)
        loss = AutoSymmetricCrossEntropy(reduction="none")
        torch.testing.assert_close(loss(z.softmax(1), y), loss(z, y), rtol=1e-6, atol=1e-6)

    def test_soft_targets_and_sequences(self, batch):
        z, y = batch
        zt, yt = torch.as_tensor(z), torch.as_tensor(y)
        loss = AutoSymmetricCrossEntropy(reduction="none")
        # one-hot probabilities are the class indices
        one_hot = torch.nn.functional.one_hot(yt, 4).double()
        torch.testing.assert_close(loss(zt, one_hot), loss(zt, yt))
        # with class weights, a one-hot target weighs by its class
        weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
        weighted = AutoSymmetricCrossEntropy(weight=weight, reduction="none")
        torch.testing.assert_close(weighted(zt, one_hot), weighted(zt, yt))
        # (n, K, L) outputs with (n, L) targets: position by position
        seq = torch.stack([zt, zt.flip(0)], dim=2)
        targets = torch.stack([yt, yt.flip(0)], dim=1)
        out = loss(seq, targets)
        torch.testing.assert_close(out[:, 0], loss(zt, yt))
        torch.testing.assert_close(out[:, 1], loss(zt.flip(0), yt.flip(0)))

    def test_in_mrclassifier_with_cross_entropy_options(self):
        # string labels, class weights and label smoothing: what MRClassifier
        # does with cross-entropy works with MR + SCE
        rng = np.random.default_rng(0)
        X = rng.normal(size=(120, 6)).astype(np.float32)
        y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
        net = MRClassifier(torch.nn.Linear, module__in_features=6, module__out_features=3,
                           criterion=AutoSymmetricCrossEntropy, eta=0.01,
                           criterion__label_smoothing=0.1,
                           criterion__weight=torch.tensor([1.0, 2.0, 1.0]),
                           max_epochs=1, lr=0.1, train_split=None, verbose=0,
                           random_state=0, loss_pass="full").fit(X, y)
        assert set(net.predict(X)) <= {"a", "b", "c"}
        with torch.no_grad():
            logits = net.module_.eval()(torch.as_tensor(X))
        targets = torch.as_tensor(np.searchsorted(["a", "b", "c"], y))
        expected = AutoSymmetricCrossEntropy(
            label_smoothing=0.1, weight=torch.tensor([1.0, 2.0, 1.0]),
            reduction="none")(logits, targets)
        # the MW losses are per example, without the class weight (the
        # weight enters the criterion's mean, as for cross-entropy)
        np.testing.assert_allclose(net.cumulative_losses_,
                                   (expected / torch.tensor([1.0, 2.0, 1.0])[targets]).numpy(),
                                   rtol=1e-5)


class TestNCEandRCE:
    @pytest.mark.parametrize("alpha, beta, A", [(1.0, 1.0, -4.0), (10.0, 0.1, -6.0)])
    def test_matches_numpy(self, batch, alpha, beta, A):
        z, y = batch
        got = NCEandRCE(alpha, beta, A, reduction="none")(torch.tensor(z), torch.tensor(y))
        np.testing.assert_allclose(got.numpy(), nce_rce_numpy(z, y, alpha, beta, A),
                                   rtol=1e-10)

    def test_reductions_and_one_hot_targets(self, batch):
        z, y = batch
        zt, yt = torch.tensor(z), torch.tensor(y)
        per_example = NCEandRCE(reduction="none")(zt, yt)
        assert NCEandRCE()(zt, yt) == pytest.approx(float(per_example.mean()))
        assert NCEandRCE(reduction="sum")(zt, yt) == pytest.approx(float(per_example.sum()))
        one_hot = torch.nn.functional.one_hot(yt, z.shape[1]).double()
        torch.testing.assert_close(NCEandRCE(reduction="none")(zt, one_hot), per_example)

    def test_normalized_term_is_bounded(self):
        # NCE lies in [0, 1]: a confident wrong prediction costs at most alpha
        z = torch.tensor([[30.0, 0.0, 0.0]])
        loss = NCEandRCE(alpha=1.0, beta=0.0, reduction="none")(z, torch.tensor([1]))
        assert 0.0 < float(loss) <= 1.0

    @pytest.mark.parametrize("kwargs, match", [
        (dict(alpha=-1.0), "alpha must be a finite float >= 0"),
        (dict(A=0.0), "A must be a finite float < 0, got 0.0. A is the value of log 0"),
        (dict(reduction="max"), "reduction must be one of"),
    ])
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            NCEandRCE(**kwargs)


class TestIgnoredSettingsWarn:
    @pytest.mark.parametrize("criterion", [SymmetricCrossEntropy, NCEandRCE])
    def test_A_without_the_reverse_term(self, batch, criterion):
        z, y = batch
        with pytest.warns(MRParameterWarning, match=r"^A=-2\.0 has no effect: beta=0 turns "
                                                    "off the reverse cross-entropy") as caught:
            loss = criterion(beta=0.0, A=-2.0, reduction="none")
        assert caught[0].filename == __file__  # points at the caller
        # and it has none: the loss equals the one with the default A
        zt, yt = torch.tensor(z), torch.tensor(y)
        torch.testing.assert_close(loss(zt, yt), criterion(beta=0.0, reduction="none")(zt, yt))

    def test_tilt_without_the_tilted_reduction(self, batch):
        z, y = batch
        with pytest.warns(MRParameterWarning, match=r"^t=-2\.0 has no effect: "
                                                    "reduction='none' returns the base"):
            loss = TiltedLoss(t=-2.0, reduction="none")
        zt, yt = torch.tensor(z), torch.tensor(y)
        torch.testing.assert_close(loss(zt, yt), TiltedLoss(reduction="none")(zt, yt))

    @pytest.mark.parametrize("make", [
        lambda: SymmetricCrossEntropy(beta=0.0), lambda: SymmetricCrossEntropy(A=-2.0),
        lambda: NCEandRCE(beta=0.5, A=-6.0), lambda: TiltedLoss(t=-2.0),
        lambda: TiltedLoss(reduction="none")])
    def test_settings_in_use_do_not_warn(self, make):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            make()


class TestTiltedLoss:
    def test_value_matches_numpy(self, batch):
        z, y = batch
        ce = -np.log(_softmax(z)[np.arange(len(y)), y])
        for t in (-2.0, -0.5, 1.0):
            expected = np.log(np.mean(np.exp(t * ce))) / t
            got = TiltedLoss(t=t)(torch.tensor(z), torch.tensor(y))
            assert float(got) == pytest.approx(expected, rel=1e-10)
        assert float(TiltedLoss(t=0.0)(torch.tensor(z), torch.tensor(y))) == \
            pytest.approx(ce.mean())

    def test_gradient_weights_examples_by_softmax_of_tilted_losses(self, batch):
        # d R_t / d l_i = softmax(t * l)_i: with t < 0 the high-loss example
        # gets exponentially less of the gradient
        z, y = batch
        logits = torch.tensor(z, requires_grad=True)
        losses = torch.nn.functional.cross_entropy(logits, torch.tensor(y), reduction="none")
        weights = torch.softmax(-2.0 * losses.detach(), 0)
        (expected,) = torch.autograd.grad((weights * losses).sum(), logits)
        logits2 = torch.tensor(z, requires_grad=True)
        (got,) = torch.autograd.grad(TiltedLoss(t=-2.0)(logits2, torch.tensor(y)), logits2)
        torch.testing.assert_close(got, expected)

    def test_reduction_none_gives_base_losses(self, batch):
        z, y = batch
        got = TiltedLoss(reduction="none")(torch.tensor(z), torch.tensor(y))
        expected = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(y),
                                                     reduction="none")
        torch.testing.assert_close(got, expected)

    def test_no_overflow(self):
        z = torch.tensor([[500.0, -500.0], [-500.0, 500.0]])
        assert torch.isfinite(TiltedLoss(t=-50.0)(z, torch.tensor([0, 0])))

    @pytest.mark.parametrize("kwargs, match", [
        (dict(t=float("inf")), "t must be a finite float"),
        (dict(reduction="sum"), "reduction must be one of 'mean', 'none'; got 'sum'"),
    ])
    def test_bad_parameters(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            TiltedLoss(**kwargs)


class TestWithNets:
    """Both criteria train plain skorch nets and compose with MR."""

    def _params(self, tiny_mlp, **kwargs):
        params = dict(module=tiny_mlp, max_epochs=3, lr=0.1, batch_size=64,
                      train_split=None, verbose=0)
        params.update(kwargs)
        return params

    @pytest.mark.parametrize("criterion, kwargs", [
        (GeneralizedCrossEntropy, {"criterion__q": 0.5}),
        (SymmetricCrossEntropy, {"criterion__alpha": 0.5, "criterion__beta": 0.5}),
    ])
    def test_mr_with_eta_zero_trains_like_plain_net(self, small_digits, tiny_mlp,
                                                    criterion, kwargs):
        # eta=0 gives uniform weights: MRClassifier's weighted mean of the
        # criterion's per-example losses is the plain net's mean loss.
        X, y = small_digits
        torch.manual_seed(0)
        plain = NeuralNetClassifier(**self._params(tiny_mlp, criterion=criterion,
                                                   **kwargs)).fit(X, y)
        torch.manual_seed(0)
        mr = MRClassifier(**self._params(tiny_mlp, criterion=criterion, eta=0.0,
                                         **kwargs)).fit(X, y)
        np.testing.assert_allclose(plain.history[:, "train_loss"],
                                   mr.history[:, "train_loss"], rtol=1e-5)
        for a, b in zip(plain.module_.parameters(), mr.module_.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)

    def test_mr_cumulative_losses_are_gce_losses(self, noisy_data, tiny_mlp):
        X, y, _ = noisy_data
        torch.manual_seed(0)
        net = MRClassifier(**self._params(tiny_mlp, criterion=GeneralizedCrossEntropy,
                                          max_epochs=1, eta=0.1, loss_pass="full")).fit(X, y)
        logits = net.forward(X).double().numpy()
        np.testing.assert_allclose(net.cumulative_losses_, gce_numpy(logits, y, 0.7),
                                   rtol=1e-5)

    def test_clone_pickle_and_grid_parameter(self, small_digits, tiny_mlp):
        X, y = small_digits
        net = MRClassifier(**self._params(tiny_mlp, criterion=SymmetricCrossEntropy,
                                          max_epochs=1))
        net.set_params(criterion__alpha=1.0)
        fitted = clone(net).fit(X, y)
        # skorch built it with criterion__ params; MR set reduction='none' only
        # for its per-example calls
        assert fitted.criterion_.alpha == 1.0 and fitted.criterion_.reduction == "mean"
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.predict(X), fitted.predict(X))
