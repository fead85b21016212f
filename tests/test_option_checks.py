"""Options that cannot train as asked are refused before anything changes, and
options that another option makes meaningless warn (issue 18)."""

import warnings

import numpy as np
import pytest
import torch

from sk_mr import MRClassifier, MRRegressor, RandomReweighting
from sk_mr.baselines import make_arazo_classifier
from sk_mr.exceptions import MRParameterWarning

torchattacks = pytest.importorskip("torchattacks")
from sk_mr.adversarial import (TRADES, AttackTraining, FreeAdversarialTraining,  # noqa: E402
                               PGDAdversarialTraining)

rng = np.random.default_rng(0)
X = rng.uniform(size=(48, 5)).astype(np.float32)  # in [0, 1], as attacks need
y_class = (X[:, 0] > 0.5).astype(np.int64)
y_reg = X.sum(1, keepdims=True).astype(np.float32)


def classifier(**kwargs):
    params = dict(module=torch.nn.Linear, module__in_features=5, module__out_features=2,
                  max_epochs=1, batch_size=16, train_split=None, verbose=0, random_state=0)
    params.update(kwargs)
    return MRClassifier(**params)


def regressor(**kwargs):
    params = dict(module=torch.nn.Linear, module__in_features=5, module__out_features=1,
                  max_epochs=1, batch_size=16, train_split=None, verbose=0, random_state=0)
    params.update(kwargs)
    return MRRegressor(**params)


def refused_without_change(net, X, y, match, **set_params):
    """Fit ``net``, set ``set_params``: the next fit is refused, the net unchanged."""
    net.fit(X, y)
    before = (net.predict(X).copy(), net.sample_weights_.copy(), len(net.history))
    net.set_params(**set_params)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y)
    np.testing.assert_array_equal(net.predict(X), before[0])
    np.testing.assert_array_equal(net.sample_weights_, before[1])
    assert len(net.history) == before[2]


class TestAdversarialRefusals:
    def test_attack_training_refuses_a_regressor(self):
        # torchattacks maximizes cross-entropy with labels: over one regression
        # output it is constant, and the fit was plain training
        refused_without_change(regressor(), X, y_reg, "cannot train MRRegressor",
                               adversarial=AttackTraining(torchattacks.FGSM, eps=0.1))

    def test_trades_refuses_a_regressor(self):
        refused_without_change(regressor(), X, y_reg, "TRADES cannot train MRRegressor",
                               adversarial=TRADES(eps=0.1, step_size=0.05, steps=1))

    def test_pgd_still_trains_a_regressor(self):
        # it attacks the net's own criterion: the inputs move and the loss grows
        plain = regressor().fit(X, y_reg)
        attacked = regressor(adversarial=PGDAdversarialTraining(
            eps=0.3, step_size=0.1, steps=3, random_start=False)).fit(X, y_reg)
        assert attacked.history[-1, "train_loss"] > plain.history[-1, "train_loss"]

    @pytest.mark.parametrize("strategy, params, match", [
        (AttackTraining(torchattacks.FGSM, eps=-0.1), {}, "eps must be .* >= 0"),
        (AttackTraining(torchattacks.FGSM), {"adversarial__eps": -0.1}, "eps must"),
        (AttackTraining(torchattacks.PGD, eps=0.1, steps=0), {}, "steps must be an int >= 1"),
        (AttackTraining(torchattacks.PGD, eps=0.1), {"adversarial__steps": 0}, "steps must"),
        (AttackTraining(torchattacks.PGD, eps=0.1, alpha=-0.01), {}, "alpha must .* > 0"),
        (AttackTraining(torchattacks.FGSM, eps=0.1), {"mixup_alpha": 1.0},
         "cannot train with mixup"),
        (FreeAdversarialTraining(eps=-0.1), {}, "eps must"),
    ])
    def test_bad_strategy_settings_are_refused_before_the_fit(self, strategy, params, match):
        refused_without_change(classifier(), X, y_class, match,
                               adversarial=strategy, **params)

    def test_a_negative_eps_would_decrease_the_loss(self):
        # why it is refused: torchattacks takes it and trains on easier inputs
        net = classifier(adversarial=AttackTraining(torchattacks.FGSM, eps=0.1)).fit(
            X, y_class)
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y_class)

        def loss(eps):
            attack = torchattacks.FGSM(net.module_, eps=eps)
            X_adv = attack(Xt, yt)
            with torch.no_grad():
                return float(torch.nn.functional.cross_entropy(net.module_(X_adv), yt))
        assert loss(-0.1) < loss(0.0) < loss(0.1)


class TestMeaninglessOptionsWarn:
    def test_adversarial_mw_losses_under_the_online_pass(self):
        strategy = PGDAdversarialTraining(eps=0.1, step_size=0.05, steps=1,
                                          mw_losses="adversarial")
        with pytest.warns(MRParameterWarning, match="mw_losses='adversarial' has no "
                                                   "effect: with loss_pass='online'"):
            classifier(adversarial=strategy).fit(X, y_class)
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            classifier(adversarial=strategy, loss_pass="full").fit(X, y_class)

    @pytest.mark.parametrize("params, match", [
        # eta='auto' is MRClassifier's default (nothing set), 0.01 the paper's
        ({"eta": 0.01}, "eta=0.01 has no effect"),
        ({"eta": 0.5}, "eta=0.5 has no effect"),
        ({"updates_per_epoch": 2}, "updates_per_epoch=2 has no effect"),
    ])
    def test_mw_parameters_with_random_weighting(self, params, match):
        net = classifier(callbacks__reweighting=RandomReweighting(random_state=0), **params)
        with pytest.warns(MRParameterWarning, match=match + ".*RandomReweighting"):
            net.fit(X, y_class)

    def test_each_ignored_mw_parameter_warns(self):
        # one warning per ignored setting, each naming it and the cause
        net = classifier(callbacks__reweighting=RandomReweighting(random_state=0), eta=0.5,
                         updates_per_epoch=2)
        with pytest.warns(MRParameterWarning) as caught:
            net.fit(X, y_class)
        messages = {str(w.message).partition(" has no effect")[0]: str(w.message)
                    for w in caught}
        assert set(messages) == {"eta=0.5", "updates_per_epoch=2"}
        assert all("RandomReweighting, which does not use MW weights" in m
                   for m in messages.values())

    def test_loss_pass_batch_size_under_the_online_pass(self):
        with pytest.warns(MRParameterWarning, match="loss_pass_batch_size=8 has no effect"):
            classifier(loss_pass_batch_size=8).fit(X, y_class)
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            classifier(loss_pass_batch_size=8, loss_pass="full").fit(X, y_class)

    def test_mw_parameters_without_a_reweighting_callback(self):
        with pytest.warns(MRParameterWarning, match="no reweighting callback"):
            classifier(callbacks__reweighting=None, eta=0.3).fit(X, y_class)

    @pytest.mark.parametrize("make", [
        lambda: classifier(),
        lambda: classifier(eta=0.5, updates_per_epoch=2),
        lambda: classifier(callbacks=[RandomReweighting(random_state=0)]),
        lambda: classifier(callbacks__reweighting=RandomReweighting(), eta=0.0),
        lambda: make_arazo_classifier(torch.nn.Linear, module__in_features=5,
                                      module__out_features=2, warmup_epochs=1,
                                      max_epochs=1, train_split=None, verbose=0),
        lambda: classifier(adversarial=PGDAdversarialTraining(
            eps=0.1, step_size=0.05, steps=1)),
    ])
    def test_meaningful_settings_do_not_warn(self, make):
        with warnings.catch_warnings():
            warnings.simplefilter("error", MRParameterWarning)
            make().fit(X, y_class)
