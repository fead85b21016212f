"""Tests of sk_mr.adversarial: free / PGD / TRADES training with MR, and evaluation."""

import copy
import importlib
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torchattacks
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from skorch import NeuralNetClassifier
from skorch.callbacks import Callback
from skorch.exceptions import NotInitializedError
from torch.nn import functional as F

from conftest import FixedWeights
from sk_mr import MRClassifier, SampleReweighting
from sk_mr.exceptions import MRParameterWarning
from sk_mr.adversarial import (TRADES, AttackTraining, FreeAdversarialTraining,
                               PGDAdversarialTraining, check_unit_interval,
                               format_robustness_table, make_robust_scorer,
                               robustness_report, trades_kl)


# -- tiny modules, data and helpers ---------------------------------------------------
class Recorder(torch.nn.Module):
    """A linear model that records every input it sees and its mode."""

    def __init__(self, in_features=4, n_classes=2, record=True):
        super().__init__()
        self.linear = torch.nn.Linear(in_features, n_classes)
        self.record = record
        self.seen = []

    def forward(self, X):
        if self.record:
            self.seen.append((X.detach().clone(), self.training))
        return self.linear(X.flatten(1))

    def training_inputs(self):
        return [x for x, training in self.seen if training]


class Constant(torch.nn.Module):
    """Ignores its input: the same logits for every example."""

    def __init__(self, in_features=None, n_classes=2):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.tensor([0.3, -0.2, 0.1][:n_classes]))

    def forward(self, X):
        return self.logits.expand(len(X), -1) + 0.0 * X.flatten(1).sum(1, keepdim=True)


class SmallMLP(torch.nn.Module):
    def __init__(self, in_features=4, n_classes=2):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(in_features, 16),
                                       torch.nn.ReLU(), torch.nn.Linear(16, n_classes))

    def forward(self, X):
        return self.net(X)



class CountSteps(Callback):
    def initialize(self):
        self.n_grad_computed_ = 0
        return self

    def on_grad_computed(self, net, named_parameters, **kwargs):
        self.n_grad_computed_ += 1


class CountingSGD(torch.optim.SGD):
    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.n_steps = 0

    def step(self, closure=None):
        self.n_steps += 1
        return super().step(closure)


class CountingMR(MRClassifier):
    """Counts (and keeps the last of) the net's mixup calls."""

    def mixup_batch(self, Xi, yi):
        X_mixed, target = super().mixup_batch(Xi, yi)
        self.mixed_ = getattr(self, "mixed_", []) + [X_mixed.detach().clone()]
        return X_mixed, target


def make_data(n=40, d=4, low=0.0, high=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(low, high, size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.75).astype(np.int64)
    return X, y


def make_net(adversarial, module=Recorder, cls=MRClassifier, **kwargs):
    params = dict(module=module, module__in_features=4, module__n_classes=2, max_epochs=1,
                  lr=0.1, batch_size=16, train_split=None, verbose=0,
                  iterator_train__shuffle=False, eta=0.0, adversarial=adversarial,
                  random_state=0, criterion=torch.nn.CrossEntropyLoss)
    # the hand computations are cross-entropy's (the paper's criterion)
    params.update(kwargs)
    return cls(**params)


# -- free adversarial training ----------------------------------------------------------
class TestFreeAdversarialTraining:
    def test_replays_optimizer_steps_per_minibatch(self):
        X, y = make_data(n=50)  # batches of 16, 16, 16, 2
        torch.manual_seed(0)
        counter = CountSteps()
        net = make_net(FreeAdversarialTraining(eps=0.1, replays=3), optimizer=CountingSGD,
                       max_epochs=2, callbacks=[counter]).fit(X, y)
        assert net.optimizer_.n_steps == 3 * 4 * 2
        assert counter.n_grad_computed_ == 3 * 4 * 2
        assert len(net.history[-1, "batches"]) == 4  # skorch still sees 4 batches

    def test_update_rule_matches_hand_computation(self):
        # lr=0 keeps the parameters fixed, so delta's whole trajectory can be
        # replayed by hand: carried across replays and minibatches, sliced for
        # the smaller last batch, clamped inputs.
        X, y = make_data(n=40)  # batches of 16, 16, 8
        eps, replays = 0.3, 3
        torch.manual_seed(0)
        net = make_net(FreeAdversarialTraining(eps=eps, replays=replays), lr=0.0).fit(X, y)
        linear = net.module_.linear
        delta = torch.zeros(16, 4)
        expected = []
        for start in (0, 16, 32):
            xb, yb = torch.as_tensor(X[start:start + 16]), torch.as_tensor(y[start:start + 16])
            n = len(xb)
            for _ in range(replays):
                d = delta[:n].clone().requires_grad_(True)
                x_in = (xb + d).clamp(0, 1)
                expected.append(x_in.detach())
                (g,) = torch.autograd.grad(F.cross_entropy(linear(x_in), yb), d)
                delta[:n] = (d.detach() + eps * g.sign()).clamp(-eps, eps)
        seen = net.module_.training_inputs()
        assert len(seen) == len(expected) == 9
        for got, want in zip(seen, expected):
            torch.testing.assert_close(got, want)
        torch.testing.assert_close(net.adversarial.delta_, delta)
        # carried: the second minibatch starts from a non-zero delta
        assert not torch.equal(seen[replays], torch.as_tensor(X[16:32]))

    def test_delta_in_eps_ball_and_inputs_in_unit_interval(self):
        X, y = make_data(n=40)
        eps = 0.2
        torch.manual_seed(0)
        net = make_net(FreeAdversarialTraining(eps=eps, replays=2), max_epochs=3).fit(X, y)
        delta = net.adversarial.delta_
        assert delta.shape == (16, 4)
        # sign steps clipped to the ball: every entry is -eps, 0 or eps
        assert torch.all((delta.abs() == 0) | torch.isclose(delta.abs(), torch.tensor(eps)))
        assert (delta != 0).any()
        seen = torch.cat(net.module_.training_inputs())
        assert seen.min() >= 0 and seen.max() <= 1

    def test_mr_weights_apply_in_replay_loss(self):
        # Examples with zero MR weight contribute no gradient: changing their
        # labels changes nothing, and their rows of delta never move.
        X, y = make_data(n=32)
        weights = np.tile([1.0, 0.0], 16)
        y_other = y.copy()
        y_other[weights == 0] = 1 - y_other[weights == 0]
        nets = []
        for labels in (y, y_other):
            torch.manual_seed(0)
            net = make_net(FreeAdversarialTraining(eps=0.1, replays=3), batch_size=32,
                           max_epochs=2, callbacks=[FixedWeights(weights)])
            nets.append(net.fit(X, labels))
        for a, b in zip(nets[0].module_.parameters(), nets[1].module_.parameters()):
            torch.testing.assert_close(a, b)
        delta = nets[0].adversarial.delta_
        assert torch.all(delta[weights == 0] == 0)
        assert torch.any(delta[weights == 1] != 0)

    def test_mixup_composes(self):
        X, y = make_data(n=40)
        eps, replays = 0.1, 2
        torch.manual_seed(0)
        net = make_net(FreeAdversarialTraining(eps=eps, replays=replays), cls=CountingMR,
                       mixup_alpha=1.0, eta=0.5, max_epochs=2).fit(X, y)
        n_batches = 3 * 2
        assert len(net.mixed_) == n_batches  # once per minibatch, not per replay
        seen = net.module_.training_inputs()
        assert len(seen) == n_batches * replays
        for i, x_in in enumerate(seen):
            mixed = net.mixed_[i // replays]
            assert (x_in - mixed).abs().max() <= eps + 1e-6
        assert not torch.allclose(net.mixed_[0], torch.as_tensor(X[:16]))
        assert np.isfinite(net.history[:, "train_loss"]).all()

    def test_mw_losses_adversarial(self):
        X, y = make_data(n=40)
        torch.manual_seed(0)
        net = make_net(FreeAdversarialTraining(eps=0.1, replays=2), max_epochs=3,
                       eta=0.5).fit(X, y)
        assert net.adversarial.loss_pass_inputs(net, X, y) is X  # 'clean'
        clean = net.example_losses(net.get_dataset(X, y))
        net.adversarial.set_params(mw_losses="adversarial")
        X_adv = net.adversarial.loss_pass_inputs(net, X, y)
        assert (X_adv - torch.as_tensor(X)).abs().max() <= 0.1 + 1e-6
        assert X_adv.min() >= 0 and X_adv.max() <= 1
        # FGSM at eps, written out on the fitted linear model
        Xt = torch.as_tensor(X).clone().requires_grad_(True)
        (g,) = torch.autograd.grad(
            F.cross_entropy(net.module_.linear(Xt), torch.as_tensor(y), reduction="sum"), Xt)
        torch.testing.assert_close(X_adv, (Xt.detach() + 0.1 * g.sign()).clamp(0, 1))
        adversarial = net.example_losses(net.get_dataset(X, y))
        # FGSM can only raise a linear model's (convex) loss
        assert torch.all(adversarial >= clean - 1e-6)
        assert adversarial.mean() > clean.mean()

    def test_adversarial_mw_losses_in_fit(self):
        X, y = make_data(n=40)
        cumulative = {}
        for mw_losses in ("clean", "adversarial"):
            torch.manual_seed(0)
            # mw_losses chooses the inputs of the full loss pass (under the
            # online pass it has no effect, and the two would be equal)
            net = make_net(FreeAdversarialTraining(eps=0.1, replays=2, mw_losses=mw_losses),
                           eta=0.5, max_epochs=1, loss_pass="full").fit(X, y)
            cumulative[mw_losses] = net.cumulative_losses_
        assert np.all(cumulative["adversarial"] >= cumulative["clean"] - 1e-6)
        assert cumulative["adversarial"].mean() > cumulative["clean"].mean()

    def test_state_resets_on_new_fit_and_persists_on_partial_fit(self):
        X, y = make_data(n=32)
        torch.manual_seed(0)
        strategy = FreeAdversarialTraining(eps=0.1, replays=2)
        net = make_net(strategy, batch_size=32, max_epochs=2).fit(X, y)
        assert (strategy.delta_ != 0).any()
        net.module_.seen.clear()
        net.partial_fit(X, y)  # continues: starts from the carried delta
        assert not torch.equal(net.module_.training_inputs()[0], torch.as_tensor(X))
        net.fit(X, y)  # a cold fit starts from zero
        assert torch.equal(net.module_.training_inputs()[0], torch.as_tensor(X))
        assert not hasattr(clone(strategy), "delta_")
        strategy.reset()
        assert strategy.delta_ is None

    def test_pickle_and_clone(self):
        X, y = make_data(n=32)
        torch.manual_seed(0)
        net = make_net(FreeAdversarialTraining(eps=0.1, replays=2)).fit(X, y)
        loaded = pickle.loads(pickle.dumps(net))
        np.testing.assert_array_equal(loaded.predict(X), net.predict(X))
        torch.testing.assert_close(loaded.adversarial.delta_, net.adversarial.delta_)
        loaded.partial_fit(X, y)
        assert clone(net).adversarial.get_params() == net.adversarial.get_params()

    @pytest.mark.parametrize("params, name", [
        (dict(eps=-0.1), "eps"), (dict(eps=2.0), "eps"), (dict(eps=float("nan")), "eps"),
        (dict(eps=True), "eps"), (dict(replays=0), "replays"), (dict(replays=1.5), "replays"),
        (dict(mw_losses="both"), "mw_losses"),
    ])
    def test_invalid_params(self, params, name):
        X, y = make_data(n=16)
        net = make_net(FreeAdversarialTraining(**params))
        with pytest.raises(ValueError, match=name):
            net.fit(X, y)

    def test_needs_mrclassifier(self):
        X, y = make_data(n=16)
        net = NeuralNetClassifier(Recorder, train_split=None, max_epochs=1).initialize()
        with pytest.raises(TypeError, match="MRClassifier"):
            FreeAdversarialTraining().train_step(net, (torch.as_tensor(X), torch.as_tensor(y)))

    def test_plain_training_without_reweighting(self):
        # Without a reweighting callback the replays train on the plain mean
        # loss: the same trajectory as uniform MR weights (eta=0).
        X, y = make_data(n=40)  # batches of 16, 16, 8: unequal sizes
        nets = []
        for kwargs in (dict(callbacks__reweighting=None), dict(eta=0.0)):
            torch.manual_seed(0)
            nets.append(make_net(FreeAdversarialTraining(eps=0.1, replays=2), max_epochs=2,
                                 **kwargs).fit(X, y))
        plain, uniform = nets
        assert "mr_ess" not in plain.history[-1]
        for a, b in zip(plain.module_.parameters(), uniform.module_.parameters()):
            torch.testing.assert_close(a, b)
        np.testing.assert_allclose(plain.history[:, "train_loss"],
                                   uniform.history[:, "train_loss"], rtol=1e-6)
        torch.testing.assert_close(plain.adversarial.delta_, uniform.adversarial.delta_)


# -- inputs outside [0, 1] --------------------------------------------------------------
class TestInputRange:
    @pytest.mark.parametrize("strategy", [FreeAdversarialTraining(), PGDAdversarialTraining(),
                                          TRADES()])
    def test_fit_rejects_unscaled_inputs(self, strategy):
        X, y = make_data(n=16, high=255.0)
        with pytest.raises(ValueError, match=r"\[0, 1\].*Normalize"):
            make_net(strategy).fit(X, y)

    def test_report_rejects_unscaled_inputs(self):
        X, y = make_data(n=16)
        net = make_net(FreeAdversarialTraining()).fit(X, y)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            robustness_report(net, 2 * X - 1, y)

    def test_check_unit_interval(self):
        check_unit_interval(torch.tensor([0.0, 1.0]))
        with pytest.raises(ValueError, match="nan"):
            check_unit_interval(np.array([0.5, np.nan]))
        with pytest.raises(TypeError, match="dict"):
            check_unit_interval({"x": np.zeros(3)})


# -- PGD adversarial training -----------------------------------------------------------
class TestPGDAdversarialTraining:
    def test_one_step_per_batch_on_pgd_inputs(self):
        X, y = make_data(n=40)
        eps, steps = 0.1, 3
        torch.manual_seed(0)
        net = make_net(PGDAdversarialTraining(eps=eps, step_size=0.05, steps=steps),
                       optimizer=CountingSGD).fit(X, y)
        assert net.optimizer_.n_steps == 3
        seen = net.module_.training_inputs()  # attack_mode='train': all in train mode
        assert len(seen) == 3 * (steps + 1)
        for b, start in enumerate((0, 16, 32)):
            x_train = seen[b * (steps + 1) + steps]
            xb = torch.as_tensor(X[start:start + 16])
            assert (x_train - xb).abs().max() <= eps + 1e-6
            assert 0 <= x_train.min() and x_train.max() <= 1
            assert not torch.equal(x_train, xb)

    def test_training_inputs_are_pgd_written_out(self):
        # lr=0 keeps the model fixed, so each batch's PGD iterates can be
        # replayed by hand: signed steps on the summed cross-entropy,
        # projected on the eps-ball around the batch and on [0, 1].
        X, y = make_data(n=40)
        eps, step_size, steps = 0.1, 0.04, 3
        torch.manual_seed(0)
        net = make_net(PGDAdversarialTraining(eps=eps, step_size=step_size, steps=steps,
                                              random_start=False), lr=0.0).fit(X, y)
        linear = net.module_.linear
        expected = []
        for start in (0, 16, 32):
            xb, yb = torch.as_tensor(X[start:start + 16]), torch.as_tensor(y[start:start + 16])
            x = xb.clone()
            for _ in range(steps):
                expected.append(x)  # the attack's forward pass
                x = x.clone().requires_grad_(True)
                (g,) = torch.autograd.grad(F.cross_entropy(linear(x), yb, reduction="sum"), x)
                x = torch.minimum(torch.maximum(x.detach() + step_size * g.sign(), xb - eps),
                                  xb + eps).clamp(0, 1)
            expected.append(x)  # the training step's input
        seen = net.module_.training_inputs()
        assert len(seen) == len(expected) == 3 * (steps + 1)
        for got, want in zip(seen, expected):
            torch.testing.assert_close(got, want)
        # the steps moved (two of them reach the ball's edge: 0.04 + 0.04 + 0.02)
        assert (seen[steps] - torch.as_tensor(X[:16])).abs().max() == pytest.approx(eps)

    def test_eval_attack_mode(self):
        X, y = make_data(n=16)
        net = make_net(PGDAdversarialTraining(steps=2, attack_mode="eval")).fit(X, y)
        modes = [training for _, training in net.module_.seen]
        assert modes[:3] == [False, False, True]  # then the MW loss pass (eval)

    def test_seeded_and_global_rng_untouched(self):
        X, y = make_data(n=32)
        params = []
        for _ in range(2):
            torch.manual_seed(0)
            net = make_net(PGDAdversarialTraining(steps=2, random_state=3)).fit(X, y)
            params.append(copy.deepcopy(net.module_.state_dict()))
        for key in params[0]:
            torch.testing.assert_close(params[0][key], params[1][key])
        state = torch.get_rng_state()
        net.train_step((torch.as_tensor(X[:16]), torch.as_tensor(y[:16])))
        assert torch.equal(state, torch.get_rng_state())

    def test_pgd_raises_linear_loss(self):
        X, y = make_data(n=40)
        torch.manual_seed(0)
        # without the random start every signed step raises a convex loss
        strategy = PGDAdversarialTraining(eps=0.1, step_size=0.04, steps=3,
                                          random_start=False, mw_losses="adversarial")
        net = make_net(strategy, eta=0.5, max_epochs=2, loss_pass="full").fit(X, y)
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        X_adv = net.adversarial.loss_pass_inputs(net, X, y)
        net.module_.eval()
        with torch.no_grad():
            clean = F.cross_entropy(net.module_(Xt), yt, reduction="none")
            adv = F.cross_entropy(net.module_(X_adv), yt, reduction="none")
        assert torch.all(adv >= clean - 1e-6) and adv.mean() > clean.mean()


# -- TRADES ----------------------------------------------------------------------------
class TestTRADES:
    def test_loss_matches_hand_computation(self):
        X, y = make_data(n=8)
        weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 0.0, 1.0, 3.0])
        beta, eps, steps = 6.0, 0.1, 2
        torch.manual_seed(0)
        net = make_net(TRADES(eps=eps, step_size=0.05, steps=steps, beta=beta),
                       batch_size=8, lr=0.0, callbacks=[FixedWeights(weights)]).fit(X, y)
        net.module_.seen.clear()
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        net.batch_positions_ = torch.arange(8)
        step = net.train_step((Xt, yt))
        modes = [training for _, training in net.module_.seen]
        assert modes == [False] * (1 + steps) + [True, True]  # craft in eval, train in train
        X_clean, X_adv = net.module_.training_inputs()
        torch.testing.assert_close(X_clean, Xt)
        assert (X_adv - Xt).abs().max() <= eps + 1e-6 and X_adv.min() >= 0
        linear = net.module_.linear  # unchanged: lr=0
        with torch.no_grad():
            logits, logits_adv = linear(Xt), linear(X_adv)
            ce = F.cross_entropy(logits, yt, reduction="none")
            p, log_p, log_q = (F.softmax(logits, 1), F.log_softmax(logits, 1),
                               F.log_softmax(logits_adv, 1))
            kl = (p * (log_p - log_q)).sum(1)
            w = torch.as_tensor(weights, dtype=torch.float32)
            expected = (w * (ce + beta * kl)).sum() / w.sum()
        torch.testing.assert_close(step["loss"].detach(), expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(trades_kl(logits, logits_adv), kl)
        assert (kl > 0).all()

    def test_trades_with_mr_and_mixup(self):
        # MR's loss pass (mw_losses='clean') scores each example by its clean
        # cross-entropy under the fitted model, not by the TRADES objective,
        # and the weights are softmax(-eta L) of those losses.
        X, y = make_data(n=40)
        torch.manual_seed(0)
        net = make_net(TRADES(eps=0.1, step_size=0.03, steps=2, random_state=0),
                       module=SmallMLP, eta=1.0, max_epochs=1, mixup_alpha=0.5,
                       loss_pass="full").fit(X, y)
        net.module_.eval()
        with torch.no_grad():
            clean = F.cross_entropy(net.module_(torch.as_tensor(X)), torch.as_tensor(y),
                                    reduction="none").double()
        np.testing.assert_allclose(net.cumulative_losses_, clean.numpy(), rtol=1e-5,
                                   atol=1e-6)
        np.testing.assert_allclose(net.sample_weights_, torch.softmax(-clean, 0).numpy(),
                                   rtol=1e-5)
        assert np.ptp(net.sample_weights_) > 0


# -- evaluation -------------------------------------------------------------------------
def linear_fgsm_accuracy(net, X, y, eps):
    """FGSM's closed form on a two-class linear model: x + eps * s_y * sign(w1 - w0)."""
    W, b = net.module_.linear.weight.detach(), net.module_.linear.bias.detach()
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    direction = torch.sign(W[1] - W[0])
    s = torch.where(yt == 0, 1.0, -1.0)[:, None]
    X_adv = (Xt + eps * s * direction).clamp(0, 1)
    return float(((X_adv @ W.T + b).argmax(1) == yt).float().mean())


def hand_fgsm_accuracy(net, X, y, eps):
    """FGSM written out on the net's module (eval mode): x + eps sign(grad CE), clipped."""
    module = net.module_.eval()
    Xt, yt = torch.as_tensor(X).clone().requires_grad_(True), torch.as_tensor(y)
    (grad,) = torch.autograd.grad(F.cross_entropy(module(Xt), yt, reduction="sum"), Xt)
    X_adv = (Xt.detach() + eps * grad.sign()).clamp(0, 1)
    with torch.no_grad():
        return float((module(X_adv).argmax(1) == yt).double().mean())


@pytest.fixture(scope="module")
def linear_net():
    X, y = make_data(n=200, seed=1)
    torch.manual_seed(0)
    net = make_net(None, module__record=False, max_epochs=10, lr=0.5, batch_size=32)
    return net.fit(X, y), X, y


class TestRobustnessReport:
    def test_records(self, linear_net):
        net, X, y = linear_net
        records = robustness_report(net, X, y, eps=(0.05, 0.1), random_state=0)
        assert [(r["attack"], r["eps"]) for r in records] == [
            ("none", 0.0), ("pgd", 0.05), ("pgd", 0.1), ("fgsm", 0.05), ("fgsm", 0.1)]
        assert all(r["n"] == len(X) for r in records)
        clean = float((net.predict(X) == y).mean())
        assert records[0]["accuracy"] == pytest.approx(clean)
        assert records[2]["accuracy"] <= records[1]["accuracy"] <= clean

    def test_linear_model_matches_closed_form(self, linear_net):
        # For a two-class linear model the clipped sign step is the optimal
        # l-inf attack, so FGSM and (converged) PGD both reach it.
        net, X, y = linear_net
        eps = (0.05, 0.1)
        records = robustness_report(net, X, y, eps=eps, steps=10, random_state=0)
        for r in records[1:]:
            assert r["accuracy"] == pytest.approx(linear_fgsm_accuracy(net, X, y, r["eps"]))

    def test_constant_classifier_is_robust(self):
        X, y = make_data(n=30)
        net = make_net(None, module=Constant).initialize()
        records = robustness_report(net, X, y, eps=(0.1, 0.3), random_state=0)
        clean = records[0]["accuracy"]
        assert clean == pytest.approx(float(np.mean(y == 0)))
        assert all(r["accuracy"] == clean for r in records)

    def test_autoattack(self):
        # At eps=1 every input can reach any point of [0, 1]^4, where all four
        # classes of this linear model win somewhere: AutoAttack (which starts
        # with APGD-CE) must fool every example. (Robust examples would make
        # Square's 5000 queries slow on a CPU.)
        rng = np.random.default_rng(0)
        X = rng.uniform(size=(120, 4)).astype(np.float32)
        y = np.argmax(X @ rng.normal(size=(4, 4)), 1)
        torch.manual_seed(0)
        net = make_net(None, module__n_classes=4, module__record=False, max_epochs=10,
                       lr=0.5).fit(X, y)
        state = torch.get_rng_state()
        records = robustness_report(net, X[:16].reshape(-1, 1, 2, 2), y[:16],
                                    attacks=("pgd", "autoattack"), eps=1.0, random_state=0)
        assert records[0]["accuracy"] > 0.5
        assert records[2]["accuracy"] == 0.0 and records[1]["accuracy"] < 0.5
        assert torch.equal(state, torch.get_rng_state())  # AutoAttack seeds globally

    def test_autoattack_needs_four_classes(self, linear_net):
        net, X, y = linear_net
        with pytest.raises(ValueError, match="at least 4 classes"):
            robustness_report(net, X, y, attacks="autoattack")

    def test_restarts_and_reproducibility(self):
        X, y = make_data(n=60)
        torch.manual_seed(0)
        net = make_net(None, module=SmallMLP, max_epochs=10, lr=0.5).fit(X, y)
        net.module_.train()
        state = torch.get_rng_state()
        kwargs = dict(attacks="pgd", eps=0.15, steps=3, step_size=0.01, random_state=5)
        one = robustness_report(net, X, y, restarts=1, **kwargs)
        assert one == robustness_report(net, X, y, restarts=1, **kwargs)
        three = robustness_report(net, X, y, restarts=3, **kwargs)
        assert three[1]["accuracy"] <= one[1]["accuracy"]
        assert torch.equal(state, torch.get_rng_state())
        assert net.module_.training  # the module's mode is restored

    def test_validation(self, linear_net):
        net, X, y = linear_net
        with pytest.raises(ValueError, match="attacks"):
            robustness_report(net, X, y, attacks=("cw",))
        with pytest.raises(ValueError, match="eps"):
            robustness_report(net, X, y, eps=(-0.1,))
        with pytest.raises(ValueError, match="class indices 0..1"):
            robustness_report(net, X, y + 1)
        with pytest.raises(NotInitializedError):
            robustness_report(make_net(None), X, y)
        with pytest.raises(TypeError, match="numpy array"):
            robustness_report(net, {"x": X}, y)
        with pytest.raises(ValueError, match=r"step_size must be None \(2\.5 \* eps / "
                                             r"steps\) or a finite float > 0\.0, got 0\."):
            robustness_report(net, X, y, step_size=0)

    @pytest.mark.parametrize("option, value", [("steps", 5), ("step_size", 0.01),
                                               ("restarts", 3)])
    def test_pgd_options_without_pgd_warn(self, linear_net, option, value):
        net, X, y = linear_net
        with pytest.warns(MRParameterWarning,
                          match=f"{option}={value!r} has no effect: only PGD reads it, "
                                r"and attacks=\('fgsm',\) has no 'pgd'") as caught:
            records = robustness_report(net, X, y, attacks="fgsm", eps=0.1,
                                        **{option: value})
        assert caught[0].filename == __file__  # points at the call
        # and they indeed change nothing
        assert records == robustness_report(net, X, y, attacks="fgsm", eps=0.1)

    def test_pgd_options_with_pgd_do_not_warn(self, linear_net):
        net, X, y = linear_net
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            robustness_report(net, X, y, attacks=("pgd", "fgsm"), eps=0.1, steps=2,
                              step_size=0.05, restarts=2, random_state=0)
            robustness_report(net, X, y, attacks="fgsm", eps=0.1)  # defaults: nothing set

    def test_format_table(self):
        rec = lambda a, e, acc: {"attack": a, "eps": e, "accuracy": acc, "n": 10}  # noqa: E731
        table = format_robustness_table({
            "Adv.": [rec("none", 0.0, 0.9), rec("pgd", 8 / 255, 0.4), rec("pgd", 0.01, 0.6),
                     rec("fgsm", 0.01, 0.7)],
            "Adv.+MR": [rec("none", 0.0, 0.9), rec("pgd", 8 / 255, 0.5),
                        rec("none", 0.0, 0.8), rec("pgd", 8 / 255, 0.3)],
        }, title="CIFAR-10")
        lines = table.splitlines()
        assert lines[0] == "CIFAR-10"
        assert lines[1].split() == ["Method", "Natural", "PGD", "PGD", "FGSM"]
        assert lines[2].split() == ["eps", "0", "0.01", "8/255", "0.01"]
        assert lines[3].split() == ["Adv.", "90.00", "60.00", "40.00", "70.00"]
        assert lines[4].split() == ["Adv.+MR", "85.00", "±", "7.07", "-", "40.00", "±",
                                    "14.14", "-"]
        single = format_robustness_table([rec("none", 0.0, 0.5)])
        assert single.splitlines()[2].split() == ["model", "50.00"]


class TestRobustScorer:
    def test_grid_search(self):
        X, y = make_data(n=80)
        scorer = make_robust_scorer("fgsm", eps=0.05)
        torch.manual_seed(0)
        search = GridSearchCV(
            make_net(None, module=SmallMLP, max_epochs=3, lr=0.3),
            {"adversarial": [FreeAdversarialTraining(eps=0.02, replays=2),
                             PGDAdversarialTraining(eps=0.05, steps=2, random_state=0)]},
            scoring=scorer, cv=2).fit(X, y)
        # every fold's score, by hand: the candidate fitted on the other fold
        # (the same stratified split), then FGSM written out on the held-out one
        base = make_net(None, module=SmallMLP, max_epochs=3, lr=0.3)
        folds = list(StratifiedKFold(2).split(X, y))
        for i, params in enumerate(search.cv_results_["params"]):
            for k, (train, test) in enumerate(folds):
                net = clone(base).set_params(**clone(params, safe=False))
                net.fit(X[train], y[train])
                expected = hand_fgsm_accuracy(net, X[test], y[test], 0.05)
                assert search.cv_results_[f"split{k}_test_score"][i] == expected
        best = search.best_estimator_
        assert best.adversarial is not search.param_grid["adversarial"][0]
        records = robustness_report(best, X, y, attacks="fgsm", eps=0.05)
        assert scorer(best, X, y) == records[1]["accuracy"]

    @pytest.mark.parametrize("attack", ["pgd", "fgsm"])
    def test_eps_zero_is_the_clean_accuracy(self, attack):
        # no perturbation (PGD's random start and steps have radius 0): the
        # score is the accuracy of the net's own predictions; the net is
        # fitted on the first half and scored on the second
        X, y = make_data(n=120, seed=2)
        torch.manual_seed(0)
        net = make_net(None, module=SmallMLP, max_epochs=5, lr=0.3).fit(X[:60], y[:60])
        clean = float(np.mean(net.predict(X[60:]) == y[60:]))
        assert 0.5 < clean < 1  # neither trivial case
        scorer = make_robust_scorer(attack, eps=0.0, random_state=0)
        assert scorer(net, X[60:], y[60:]) == clean
        # and a positive eps is the attack written out (FGSM) / no better (PGD)
        robust = make_robust_scorer(attack, eps=0.1, random_state=0)(net, X[60:], y[60:])
        fgsm = hand_fgsm_accuracy(net, X[60:], y[60:], 0.1)
        assert robust == fgsm if attack == "fgsm" else robust <= clean
        assert fgsm < clean

    def test_bad_arguments(self):
        with pytest.raises(TypeError, match="stepz"):
            make_robust_scorer("pgd", stepz=3)
        with pytest.raises(ValueError, match="attack"):
            make_robust_scorer("cw")
        with pytest.raises(ValueError, match="attack must be one of 'pgd', 'fgsm', "
                                             r"'autoattack'; got \('pgd',\)"):
            make_robust_scorer(("pgd",))
        assert "eps=0.1" in repr(make_robust_scorer("pgd", eps=0.1, steps=5))

    def test_pgd_options_of_another_attack_warn_once(self, linear_net):
        net, X, y = linear_net
        with pytest.warns(MRParameterWarning, match="steps=5 has no effect") as caught:
            scorer = make_robust_scorer("fgsm", eps=0.1, steps=5)
        assert caught[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)  # not again per score
            assert scorer(net, X, y) == make_robust_scorer("fgsm", eps=0.1)(net, X, y)
            make_robust_scorer("pgd", eps=0.1, steps=5)


# -- the optional dependency ------------------------------------------------------------
class TestOptionalDependency:
    def test_import_error_names_the_extra(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "torchattacks", None)
        for name in [m for m in sys.modules if m.startswith("sk_mr.adversarial")]:
            monkeypatch.delitem(sys.modules, name)
        with pytest.raises(ImportError, match=r'pip install torchattacks .*\.\[adversarial\]'):
            importlib.import_module("sk_mr.adversarial")

    def test_core_does_not_import_torchattacks(self):
        code = ("import sys, sk_mr, sk_mr.classifier, sk_mr.callbacks, sk_mr.models; "
                "assert 'torchattacks' not in sys.modules")
        subprocess.run([sys.executable, "-c", code], check=True)


# -- CUDA -----------------------------------------------------------------------------
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
class TestCUDA:
    @pytest.mark.parametrize("strategy", [FreeAdversarialTraining(eps=0.1, replays=2),
                                          PGDAdversarialTraining(steps=2, random_state=0),
                                          TRADES(steps=2, random_state=0)])
    def test_train_step_without_host_sync(self, strategy):
        X, y = make_data(n=32)
        net = make_net(strategy, module=SmallMLP, device="cuda", eta=0.5,
                       mixup_alpha=1.0).fit(X, y)
        batch = (torch.as_tensor(X[:16], device="cuda"), torch.as_tensor(y[:16], device="cuda"))
        net.batch_positions_ = torch.arange(16, device="cuda")
        net.train_step(batch)  # the on-device range check runs once per fit
        torch.cuda.synchronize()
        net.mixup_alpha = 0.0  # mixup's lam is a host draw, not a sync
        torch.cuda.set_sync_debug_mode("error")
        try:
            net.train_step(batch)
        finally:
            torch.cuda.set_sync_debug_mode("default")

    def test_report_on_cuda(self):
        X, y = make_data(n=64)
        net = make_net(FreeAdversarialTraining(eps=0.1, replays=2), module=SmallMLP,
                       device="cuda", max_epochs=3).fit(X, y)
        records = robustness_report(net, X, y, eps=(0.05,), random_state=0)
        assert records[1]["accuracy"] <= records[0]["accuracy"] + 1e-9


class TestNestedStrategyParams:
    def test_set_params_and_clone_reach_the_strategy(self):
        from sklearn.base import clone
        from sk_mr import MRClassifier
        from sk_mr.adversarial import FreeAdversarialTraining

        net = MRClassifier(torch.nn.Linear, adversarial=FreeAdversarialTraining(),
                           adversarial__eps=0.05)
        net.set_params(adversarial__replays=2)
        assert net.adversarial.replays == 2
        cloned = clone(net)
        assert cloned.get_params()["adversarial__eps"] == 0.05

    def test_nested_param_without_strategy(self):
        from sk_mr import MRClassifier

        with pytest.raises(ValueError, match="adversarial is None"):
            MRClassifier(torch.nn.Linear).set_params(adversarial__eps=0.1)


class TestPicklingDuringTraining:
    @pytest.mark.parametrize("make_strategy", [
        lambda: __import__("sk_mr.adversarial", fromlist=["x"]).FreeAdversarialTraining(
            eps=0.1, replays=2),
        lambda: __import__("sk_mr.adversarial", fromlist=["x"]).PGDAdversarialTraining(
            eps=0.1, step_size=0.05, steps=2, random_state=0),
    ])
    def test_pickling_does_not_disturb_or_lose_the_strategy_state(self, make_strategy):
        from sklearn.datasets import load_digits

        from sk_mr import MRClassifier
        from sk_mr.models import SmallCNN

        X, y = load_digits(return_X_y=True)
        X = (X[:200] / 16).astype(np.float32).reshape(-1, 1, 8, 8)
        y = y[:200]
        nets = []
        for dump in (False, True):
            torch.manual_seed(0)
            net = MRClassifier(SmallCNN, adversarial=make_strategy(), max_epochs=1,
                               train_split=None, verbose=0, random_state=0, batch_size=64)
            net.fit(X, y)
            if dump:
                pickle.dumps(net)  # e.g. Checkpoint(f_pickle=...) mid-training
            net.partial_fit(X, y)
            nets.append(net)
        for a, b in zip(nets[0].module_.parameters(), nets[1].module_.parameters()):
            assert torch.equal(a, b)

        # an unpickled net continues exactly as the original does
        restored = pickle.loads(pickle.dumps(nets[0]))
        for net in (nets[0], restored):
            torch.manual_seed(1)
            net.partial_fit(X, y)
        for a, b in zip(nets[0].module_.parameters(), restored.module_.parameters()):
            assert torch.equal(a, b)


# -- training against any torchattacks attack -----------------------------------------
SHIFT_CALLS = []


class Shift(torchattacks.attack.Attack):
    """A deterministic attack: ``clamp(x + shift)``; records its labels and the mode."""

    def __init__(self, model, shift=0.1):
        super().__init__("Shift", model)
        self.shift = shift

    def forward(self, images, labels):
        self.get_logits(images)  # a forward pass, as real attacks make
        SHIFT_CALLS.append((labels.clone(), self.model.training))
        return (images + self.shift).clamp(0, 1)


class NeedsTarget(torchattacks.attack.Attack):
    def __init__(self, model, target):
        super().__init__("NeedsTarget", model)
        self.target = target


class OneHotTargets(SampleReweighting):
    """Soft (one-hot) training targets, as a loss-correction baseline returns."""

    def correct_targets(self, net, X, y):
        return F.one_hot(y, 2).float()


def fgsm_by_hand(linear, X, y, eps):
    x = X.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(linear(x), y), x)
    return (X + eps * grad.sign()).clamp(0, 1)


def changed_rows(X_train, X):
    return (X_train != X).any(dim=1)


class TestAttackTraining:
    @pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
    def test_step_on_weighted_loss_at_attack_inputs(self, label_smoothing):
        # lr=0 keeps the parameters fixed: FGSM's inputs and the MR-weighted,
        # label-smoothed loss at them can be computed by hand.
        X, y = make_data(n=8)
        weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 0.0, 1.0, 3.0])
        eps = 0.1
        torch.manual_seed(0)
        net = make_net(AttackTraining(torchattacks.FGSM, eps=eps), batch_size=8, lr=0.0,
                       criterion__label_smoothing=label_smoothing,
                       callbacks=[FixedWeights(weights)]).fit(X, y)
        net.module_.seen.clear()
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        net.batch_positions_ = torch.arange(8)
        step = net.train_step((Xt, yt))
        (_, attack_mode), (X_train, train_mode) = net.module_.seen
        assert attack_mode and train_mode  # attack_mode='train'
        linear = net.module_.linear
        X_adv = fgsm_by_hand(linear, Xt, yt, eps)
        torch.testing.assert_close(X_train, X_adv)
        assert changed_rows(X_train, Xt).all()
        with torch.no_grad():
            losses = F.cross_entropy(linear(X_adv), yt, reduction="none",
                                     label_smoothing=label_smoothing)
            w = torch.as_tensor(weights, dtype=torch.float32)
            expected = (w * losses).sum() / w.sum()
        torch.testing.assert_close(step["loss"].detach(), expected)

    def test_matches_pgd_adversarial_training(self):
        # torchattacks' PGD and sk_mr's linf_pgd are two implementations of
        # one algorithm: without random starts, training must agree.
        X, y = make_data(n=48)
        kwargs = dict(module=SmallMLP, eta=0.5, max_epochs=3)
        nets = []
        for strategy in (PGDAdversarialTraining(eps=0.1, step_size=0.03, steps=3,
                                                random_start=False),
                         AttackTraining(torchattacks.PGD, eps=0.1, alpha=0.03, steps=3,
                                        random_start=False)):
            torch.manual_seed(0)
            nets.append(make_net(strategy, **kwargs).fit(X, y))
        for a, b in zip(nets[0].module_.parameters(), nets[1].module_.parameters()):
            torch.testing.assert_close(a, b)
        np.testing.assert_allclose(nets[0].sample_weights_, nets[1].sample_weights_,
                                   rtol=1e-5)
        assert np.ptp(nets[1].sample_weights_) > 0

    def test_trains_on_the_attack_output(self):
        X, y = make_data(n=40)
        SHIFT_CALLS.clear()
        torch.manual_seed(0)
        net = make_net(AttackTraining(Shift, shift=0.25, attack_mode="eval")).fit(X, y)
        seen = net.module_.seen[:6]  # per batch: the attack's forward, training's
        assert [mode for _, mode in seen] == [False, True] * 3
        for b, start in enumerate((0, 16, 32)):
            Xb = torch.as_tensor(X[start:start + 16])
            torch.testing.assert_close(seen[2 * b + 1][0], (Xb + 0.25).clamp(0, 1))
            np.testing.assert_array_equal(SHIFT_CALLS[b][0].numpy(), y[start:start + 16])

    @pytest.mark.parametrize("fraction, n, k", [(0.5, 16, 8), (0.25, 16, 4), (0.5, 3, 2),
                                                (0.1, 3, 0)])
    def test_fraction_of_each_batch(self, fraction, n, k):
        X, y = make_data(n=3 * n)
        torch.manual_seed(0)
        net = make_net(AttackTraining(Shift, shift=0.25, fraction=fraction, random_state=0),
                       batch_size=n, max_epochs=2, optimizer=CountingSGD).fit(X, y)
        assert net.optimizer_.n_steps == 6
        training = net.module_.training_inputs()[1::2] if k else \
            net.module_.training_inputs()
        assert len(training) == 6
        chosen = []
        for b, X_train in enumerate(training):
            Xb = torch.as_tensor(X[(b % 3) * n:(b % 3 + 1) * n])
            changed = changed_rows(X_train, Xb)
            assert int(changed.sum()) == k
            torch.testing.assert_close(X_train[changed], (Xb[changed] + 0.25).clamp(0, 1))
            torch.testing.assert_close(X_train[~changed], Xb[~changed])
            chosen.append(changed)
        if 0 < k < n:  # a random subset, not the same rows every time
            assert len({tuple(c.tolist()) for c in chosen}) > 1

    def test_weighted_loss_on_mixed_batch(self):
        # Half the batch adversarial: the loss is the MR-weighted mean over
        # the clean and the adversarial rows alike.
        X, y = make_data(n=8)
        weights = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 0.0, 1.0, 3.0])
        torch.manual_seed(0)
        net = make_net(AttackTraining(torchattacks.FGSM, eps=0.1, fraction=0.5,
                                      random_state=0),
                       batch_size=8, lr=0.0, callbacks=[FixedWeights(weights)]).fit(X, y)
        net.module_.seen.clear()
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        net.batch_positions_ = torch.arange(8)
        step = net.train_step((Xt, yt))
        (X_attacked, _), (X_train, _) = net.module_.seen
        changed = changed_rows(X_train, Xt)
        assert int(changed.sum()) == 4 and len(X_attacked) == 4
        linear = net.module_.linear
        X_adv = fgsm_by_hand(linear, X_attacked, yt[changed], 0.1)
        torch.testing.assert_close(X_train[changed], X_adv)
        with torch.no_grad():
            losses = F.cross_entropy(linear(X_train), yt, reduction="none")
            w = torch.as_tensor(weights, dtype=torch.float32)
        torch.testing.assert_close(step["loss"].detach(), (w * losses).sum() / w.sum())

    def test_mixup_is_refused(self):
        X, y = make_data(n=16)
        net = make_net(AttackTraining(torchattacks.FGSM), mixup_alpha=1.0)
        with pytest.raises(ValueError, match=r"mixup_alpha=1\.0.*one class label"):
            net.fit(X, y)

    def test_soft_targets_train_while_the_attack_uses_labels(self):
        X, y = make_data(n=16)
        SHIFT_CALLS.clear()
        torch.manual_seed(0)
        net = make_net(AttackTraining(Shift), callbacks=[OneHotTargets()]).fit(X, y)
        labels, _ = SHIFT_CALLS[0]
        assert labels.dtype == torch.int64
        np.testing.assert_array_equal(labels.numpy(), y)
        assert np.isfinite(net.history[:, "train_loss"]).all()

    def test_seeded_and_global_rng_untouched(self):
        X, y = make_data(n=32)

        def fit(**kwargs):
            torch.manual_seed(0)
            strategy = AttackTraining(torchattacks.FFGSM, eps=0.1, alpha=0.125, **kwargs)
            net = make_net(strategy, module=SmallMLP, max_epochs=2).fit(X, y)
            return net, torch.get_rng_state()

        (a, state_a), (b, state_b), (c, _) = fit(random_state=3), fit(random_state=3), \
            fit(random_state=4)
        for pa, pb, pc in zip(a.module_.parameters(), b.module_.parameters(),
                              c.module_.parameters()):
            torch.testing.assert_close(pa, pb)
        assert not all(torch.equal(pa, pc) for pa, pc in
                       zip(a.module_.parameters(), c.module_.parameters()))
        assert torch.equal(state_a, state_b)
        # FFGSM's random starts come from the fork, not from the global RNG:
        # the global state after fit is that of a fit with deterministic FGSM
        torch.manual_seed(0)
        make_net(AttackTraining(torchattacks.FGSM, eps=0.1), module=SmallMLP,
                 max_epochs=2).fit(X, y)
        assert torch.equal(state_a, torch.get_rng_state())
        state = torch.get_rng_state()
        a.train_step((torch.as_tensor(X[:16]), torch.as_tensor(y[:16])))
        assert torch.equal(state, torch.get_rng_state())

    def test_seed_from_the_net(self):
        X, y = make_data(n=32)
        params = []
        for seed in (0, 0, 1):
            torch.manual_seed(0)
            net = make_net(AttackTraining(torchattacks.FFGSM, eps=0.1), module=SmallMLP,
                           random_state=seed).fit(X, y)
            params.append(torch.cat([p.flatten() for p in net.module_.parameters()]))
        torch.testing.assert_close(params[0], params[1])
        assert not torch.equal(params[0], params[2])

    def test_attack_seed_parameter(self):
        net = make_net(None, module=SmallMLP, module__n_classes=4).initialize()
        strategy = AttackTraining(torchattacks.APGD, eps=0.1, steps=2)
        attack = strategy.build_attack(net, strategy.resolved_params(), "cpu", seed=5)
        assert attack.seed == 5 and attack.eps == 0.1 and attack.steps == 2
        strategy.set_params(seed=3)
        assert strategy.build_attack(net, strategy.resolved_params(), "cpu",
                                     seed=5).seed == 3
        # seeded per batch: a fit with APGD is reproducible
        X, y = make_data(n=32)
        X = X.reshape(-1, 1, 2, 2)  # APGD takes images
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            net = make_net(AttackTraining(torchattacks.APGD, eps=0.1, steps=2),
                           module=SmallMLP).fit(X, y)
            runs.append(torch.cat([p.flatten() for p in net.module_.parameters()]))
        torch.testing.assert_close(runs[0], runs[1])

    def test_mw_losses_adversarial(self):
        X, y = make_data(n=40)
        cumulative = {}
        for mw_losses in ("clean", "adversarial"):
            torch.manual_seed(0)
            net = make_net(AttackTraining(torchattacks.FGSM, eps=0.1, mw_losses=mw_losses,
                                          fraction=0.5, random_state=0),
                           eta=0.5, loss_pass="full").fit(X, y)
            cumulative[mw_losses] = net.cumulative_losses_
        # FGSM can only raise a linear model's (convex) loss
        assert np.all(cumulative["adversarial"] >= cumulative["clean"] - 1e-6)
        assert cumulative["adversarial"].mean() > cumulative["clean"].mean()
        assert net.adversarial.loss_pass_inputs(net, X, y) is not X
        net.module_.seen.clear()
        X_adv = net.adversarial.loss_pass_inputs(net, X, y)
        assert not any(training for _, training in net.module_.seen)  # eval mode
        torch.testing.assert_close(
            X_adv, fgsm_by_hand(net.module_.linear, torch.as_tensor(X), torch.as_tensor(y),
                                0.1))  # every example, whatever the fraction
        net.adversarial.set_params(mw_losses="clean")
        assert net.adversarial.loss_pass_inputs(net, X, y) is X

    def test_online_mw_losses_are_the_training_losses(self):
        # lr=0: each example's online loss is its loss at its FGSM input
        X, y = make_data(n=40)
        torch.manual_seed(0)
        net = make_net(AttackTraining(torchattacks.FGSM, eps=0.1), lr=0.0, eta=0.5,
                       loss_pass="online").fit(X, y)
        linear = net.module_.linear
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        X_adv = fgsm_by_hand(linear, Xt, yt, 0.1)
        with torch.no_grad():
            expected = F.cross_entropy(linear(X_adv), yt, reduction="none")
            clean = F.cross_entropy(linear(Xt), yt, reduction="none")
        np.testing.assert_allclose(net.cumulative_losses_, expected.double().numpy(),
                                   rtol=1e-5)
        assert (expected > clean).all()

    def test_params_reach_the_attack(self):
        strategy = AttackTraining(torchattacks.PGD, eps=0.1, fraction=0.5)
        assert strategy.get_params() == {
            "attack": torchattacks.PGD, "eps": 0.1, "fraction": 0.5, "attack_mode": "train",
            "mw_losses": "clean", "random_state": None}
        net = MRClassifier(SmallMLP, adversarial=strategy, adversarial__steps=2)
        net.set_params(adversarial__eps=0.2, adversarial__alpha=0.05)
        assert net.get_params()["adversarial__alpha"] == 0.05
        cloned = clone(net)
        assert cloned.adversarial is not strategy
        assert cloned.adversarial.get_params() == dict(strategy.get_params(), steps=2)
        net.initialize()
        attack = strategy.build_attack(net, strategy.resolved_params(), "cpu")
        assert (attack.eps, attack.alpha, attack.steps) == (0.2, 0.05, 2)
        assert "AttackTraining(alpha=0.05, attack=" in repr(strategy)

    def test_grid_search_over_attack_params(self):
        X, y = make_data(n=80)
        torch.manual_seed(0)
        search = GridSearchCV(
            make_net(AttackTraining(torchattacks.FGSM, random_state=0), module=SmallMLP,
                     max_epochs=3, lr=0.3),
            {"adversarial__eps": [0.0, 0.3]}, scoring=make_robust_scorer("fgsm", eps=0.3),
            cv=2, refit=True).fit(X, y)
        scores = search.cv_results_["mean_test_score"]
        assert [p["adversarial__eps"] for p in search.cv_results_["params"]] == [0.0, 0.3]
        assert scores[1] > scores[0]  # training at eps=0.3 is more robust at 0.3
        assert search.best_estimator_.adversarial.eps == 0.3

    def test_state_resets_on_new_fit_and_survives_pickling(self):
        X, y = make_data(n=32)
        torch.manual_seed(0)
        strategy = AttackTraining(torchattacks.FFGSM, eps=0.1, random_state=0)
        net = make_net(strategy, module=SmallMLP, max_epochs=2).fit(X, y)
        assert strategy.n_attacks_ == 4
        restored = pickle.loads(pickle.dumps(net))
        assert restored.adversarial.n_attacks_ == 4
        for each in (net, restored):
            torch.manual_seed(1)
            each.partial_fit(X, y)
        for a, b in zip(net.module_.parameters(), restored.module_.parameters()):
            assert torch.equal(a, b)
        assert strategy.n_attacks_ == 8  # partial_fit continues the count
        net.fit(X, y)
        assert strategy.n_attacks_ == 4
        assert not hasattr(clone(strategy), "n_attacks_")

    @pytest.mark.parametrize("make, match", [
        (lambda: AttackTraining(torchattacks.FGSM, epz=0.1), "'epz'.*Did you mean 'eps'"),
        (lambda: AttackTraining(torchattacks.FGSM, fraction=0.0), "fraction"),
        (lambda: AttackTraining(torchattacks.FGSM, fraction=1.5), "fraction"),
        (lambda: AttackTraining(torchattacks.FGSM, attack_mode="test"), "attack_mode"),
        (lambda: AttackTraining(torchattacks.FGSM, mw_losses="both"), "mw_losses"),
        (lambda: AttackTraining(NeedsTarget),
         r"test_adversarial.NeedsTarget needs the parameter\(s\) \['target'\]"),
    ])
    def test_invalid_params(self, make, match):
        X, y = make_data(n=16)
        with pytest.raises(ValueError, match=match):
            make_net(make()).fit(X, y)

    @pytest.mark.parametrize("attack, match", [
        ("FFGSM", "did you mean torchattacks.FFGSM"),
        (torchattacks.FGSM(torch.nn.Linear(4, 2)), "the instance"),
        (torch.nn.Linear, "subclass of torchattacks.attack.Attack"),
        (torchattacks.MultiAttack, "does not take a model"),
    ])
    def test_attack_must_be_an_attack_class(self, attack, match):
        X, y = make_data(n=16)
        with pytest.raises(TypeError, match=match):
            make_net(AttackTraining(attack)).fit(X, y)

    def test_attack_param_names_cannot_clash(self):
        with pytest.raises(TypeError, match="'reset'"):
            AttackTraining(torchattacks.FGSM, reset=True)

    def test_rejects_unscaled_inputs(self):
        X, y = make_data(n=16, high=255.0)
        with pytest.raises(ValueError, match=r"\[0, 1\].*Normalize"):
            make_net(AttackTraining(torchattacks.FGSM)).fit(X, y)

    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    @pytest.mark.parametrize("strategy", [
        AttackTraining(torchattacks.FFGSM, eps=0.1, alpha=0.125, random_state=0),
        AttackTraining(torchattacks.PGD, eps=0.1, alpha=0.03, steps=3, fraction=0.5,
                       random_state=0)])
    def test_cuda_without_host_sync_and_seeded(self, strategy):
        X, y = make_data(n=32)
        runs = []
        for _ in range(2):
            torch.manual_seed(0)
            net = make_net(clone(strategy), module=SmallMLP, device="cuda",
                           eta=0.5).fit(X, y)
            runs.append(torch.cat([p.flatten() for p in net.module_.parameters()]))
        torch.testing.assert_close(runs[0], runs[1])
        batch = (torch.as_tensor(X[:16], device="cuda"),
                 torch.as_tensor(y[:16], device="cuda"))
        net.batch_positions_ = torch.arange(16, device="cuda")
        net.train_step(batch)  # the on-device range check runs once per fit
        torch.cuda.synchronize()
        cuda_state, cpu_state = torch.cuda.get_rng_state(), torch.get_rng_state()
        torch.cuda.set_sync_debug_mode("error")
        try:
            net.train_step(batch)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        assert torch.equal(cuda_state, torch.cuda.get_rng_state())
        assert torch.equal(cpu_state, torch.get_rng_state())
