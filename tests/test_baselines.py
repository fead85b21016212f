"""Tests of sk_mr.baselines: Arazo et al.'s M-DYR-H as an MRClassifier callback."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import stats
from sklearn.base import clone

from sk_mr import MRClassifier, add_label_noise
from sk_mr.baselines import (BetaMixture1D, BetaMixtureBootstrapping,
                             make_arazo_classifier)
from conftest import TinyMLP


def make_net(warmup_epochs=1, **kwargs):
    params = dict(module=TinyMLP, max_epochs=2, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, eta=0.0, mixup_alpha=1.0, random_state=0,
                  criterion=torch.nn.CrossEntropyLoss,  # Arazo et al.'s criterion
                  callbacks__reweighting=BetaMixtureBootstrapping(warmup_epochs=warmup_epochs))
    params.update(kwargs)
    return MRClassifier(**params)


def two_betas(n_low=1400, n_high=600, seed=0):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.beta(2.0, 8.0, n_low), rng.beta(9.0, 2.0, n_high)])
    is_high = np.r_[np.zeros(n_low, bool), np.ones(n_high, bool)]
    return x, is_high


class ReferenceBMM:
    """The authors' numpy/scipy BetaMixture1D (LabelNoiseCorrection/utils.py)."""

    def __init__(self, max_iters=10):
        self.alphas = np.array([1.0, 2.0])
        self.betas = np.array([2.0, 1.0])
        self.weight = np.array([0.5, 0.5])
        self.max_iters = max_iters

    def weighted_likelihood(self, x, k):
        return self.weight[k] * stats.beta.pdf(x, self.alphas[k], self.betas[k])

    def posterior(self, x, k):
        total = sum(self.weighted_likelihood(x, j) for j in range(2))
        return self.weighted_likelihood(x, k) / (total + 1e-12)

    def fit(self, x):
        x = np.clip(np.copy(x), 1e-4, 1 - 1e-4)
        for _ in range(self.max_iters):
            r = np.array([self.weighted_likelihood(x, k) for k in range(2)])
            r[r <= 1e-12] = 1e-12
            r /= r.sum(axis=0)
            for k in range(2):
                mean = np.sum(r[k] * x) / np.sum(r[k])
                var = np.sum(r[k] * (x - mean) ** 2) / np.sum(r[k])
                self.alphas[k] = mean * (mean * (1 - mean) / var - 1)
                self.betas[k] = self.alphas[k] * (1 - mean) / mean
            self.weight = r.sum(axis=1) / r.sum()
        return self

    def lookup(self, resolution=100):
        grid = np.linspace(1e-12, 1 - 1e-12, resolution)
        table = self.posterior(grid, 1)
        table[np.argmax(table):] = table.max()
        return table


def reference_noise_probabilities(losses):
    """The reference's noise posterior of per-example losses, in numpy/scipy.

    5th-95th percentile bounds, the ReferenceBMM fitted to the kept losses
    scaled to (0, 1), its lookup table (made non-decreasing as ours is: see
    test_matches_reference_implementation) read at each scaled loss, clipped;
    returned with the fitted ReferenceBMM.
    """
    lo, hi = np.percentile(losses, [5, 95])
    kept = losses[(losses >= lo) & (losses <= hi)]
    scaled = (kept - (lo + 1e-5)) / (hi - lo - 1e-5 + 1e-6)
    scaled[scaled >= 1] = 1 - 1e-3
    scaled[scaled <= 0] = 1e-3
    ref = ReferenceBMM().fit(scaled)
    norm = np.clip((losses - (lo + 1e-5)) / (hi - lo - 1e-5 + 1e-6), 1e-3, 1 - 1e-3)
    table = np.minimum.accumulate(ref.lookup()[::-1])[::-1]
    return np.clip(table[(100 * norm).astype(int)], 1e-4, 1 - 1e-4), ref


def eval_losses(net, X, y):
    """Per-example cross-entropy of the net's module in eval mode, by hand."""
    net.module_.eval()
    with torch.no_grad():
        logits = net.module_(torch.as_tensor(X))
    return F.cross_entropy(logits, torch.as_tensor(y), reduction="none").double().numpy()


@pytest.fixture(scope="module")
def noisy_digits(small_digits):
    X, y = small_digits
    y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
    return X, y_noisy, is_noisy


@pytest.fixture(scope="module")
def bootstrapping_net(small_digits):
    """A net past warm-up: its next batches are bootstrapped."""
    X, y = small_digits
    torch.manual_seed(0)
    return make_net(warmup_epochs=1, max_epochs=1).fit(X, y)


class TestBetaMixture1D:
    def test_recovers_two_separated_betas(self):
        x, is_high = two_betas()
        bmm = BetaMixture1D(max_iters=50).fit(torch.from_numpy(x))
        np.testing.assert_allclose(bmm.weights_.numpy(), [0.7, 0.3], atol=0.03)
        np.testing.assert_allclose(bmm.alphas_.numpy(), [2.0, 9.0], rtol=0.2)
        np.testing.assert_allclose(bmm.betas_.numpy(), [8.0, 2.0], rtol=0.2)
        assigned_high = (bmm.posterior(torch.from_numpy(x))[1] > 0.5).numpy()
        assert (assigned_high == is_high).mean() > 0.97

    def test_matches_reference_implementation(self):
        x, _ = two_betas(seed=1)
        ours = BetaMixture1D(max_iters=10).fit(torch.from_numpy(x))
        ref = ReferenceBMM(max_iters=10).fit(x)
        np.testing.assert_allclose(ours.alphas_.numpy(), ref.alphas, rtol=1e-8)
        np.testing.assert_allclose(ours.betas_.numpy(), ref.betas, rtol=1e-8)
        np.testing.assert_allclose(ours.weights_.numpy(), ref.weight, rtol=1e-8)
        # The lookup equals the reference's wherever the reference's is monotone;
        # where it rises again towards loss 0 (here: bins 0-3, since the noisy
        # component's alpha ended below the clean one's after 10 iterations)
        # ours holds the running minimum from the right instead.
        table, ref_table = ours.lookup_table(100).numpy(), ref.lookup(100)
        running_min = np.minimum.accumulate(ref_table[::-1])[::-1]
        np.testing.assert_allclose(table, running_min, rtol=1e-7, atol=1e-12)
        monotone_from = np.argmin(ref_table)
        np.testing.assert_allclose(table[monotone_from:], ref_table[monotone_from:],
                                   rtol=1e-7, atol=1e-12)

    def test_components_ordered_by_mean(self):
        x, _ = two_betas()
        bmm = BetaMixture1D(max_iters=20, alphas_init=(2.0, 1.0),
                            betas_init=(1.0, 2.0)).fit(torch.from_numpy(x))
        means = bmm.alphas_ / (bmm.alphas_ + bmm.betas_)
        assert means[0] < 0.3 < 0.7 < means[1]

    def test_lookup_is_monotone(self):
        x, _ = two_betas()
        table = BetaMixture1D().fit(torch.from_numpy(x)).lookup_table(100)
        assert torch.all(table[1:] >= table[:-1])
        assert table[0] < 0.01 and table[-1] > 0.99

    def test_degenerate_data_stays_finite(self):
        bmm = BetaMixture1D().fit(torch.full((50,), 0.3, dtype=torch.float64))
        for value in (bmm.alphas_, bmm.betas_, bmm.weights_):
            assert torch.isfinite(value).all()

    def test_bad_input(self):
        with pytest.raises(ValueError, match="max_iters"):
            BetaMixture1D(max_iters=0).fit(torch.rand(10))
        with pytest.raises(ValueError, match="non-finite"):
            BetaMixture1D().fit(torch.tensor([0.1, float("nan"), 0.5]))


class TestNoisePosterior:
    def test_monotone_in_loss_for_noisy_high_loss_component(self):
        x, _ = two_betas()
        losses = torch.from_numpy(x * 5.0)  # clean losses low, noisy ones high
        cb = BetaMixtureBootstrapping().initialize().fit_noise_model(losses)
        assert cb.bmm_alphas_[1] / (cb.bmm_alphas_[1] + cb.bmm_betas_[1]) > 0.7
        grid = torch.linspace(-1.0, 7.0, 500, dtype=torch.float64)
        posterior = cb.noise_posterior(grid)
        assert torch.all(posterior[1:] >= posterior[:-1])
        assert posterior.min() >= 1e-4 and posterior.max() <= 1 - 1e-4
        assert posterior[0] < 0.1 and posterior[-1] > 0.99

    def test_normalization_follows_reference(self):
        x, _ = two_betas()
        losses = torch.from_numpy(x * 5.0)
        cb = BetaMixtureBootstrapping().initialize().fit_noise_model(losses)
        lo, hi = np.percentile(losses.numpy(), [5, 95])
        assert float(cb.loss_min_) == pytest.approx(lo + 1e-5)
        assert float(cb.loss_max_) == pytest.approx(hi)
        kept = losses.numpy()[(losses.numpy() >= lo) & (losses.numpy() <= hi)]
        scaled = (kept - (lo + 1e-5)) / (hi - lo - 1e-5 + 1e-6)
        scaled[scaled >= 1] = 1 - 1e-3
        scaled[scaled <= 0] = 1e-3
        ref = ReferenceBMM().fit(scaled)
        np.testing.assert_allclose(cb.bmm_alphas_.numpy(), ref.alphas, rtol=1e-8)
        # the per-example posterior is the reference's lookup, clipped
        norm = np.clip((losses.numpy() - (lo + 1e-5)) / (hi - lo - 1e-5 + 1e-6),
                       1e-3, 1 - 1e-3)
        # (the reference's table, made non-decreasing as ours is: see
        # test_matches_reference_implementation)
        table = np.minimum.accumulate(ref.lookup()[::-1])[::-1]
        expected = np.clip(table[(100 * norm).astype(int)], 1e-4, 1 - 1e-4)
        np.testing.assert_allclose(cb.noise_probabilities_.numpy(), expected, rtol=1e-7)

    def test_half_before_first_fit(self):
        cb = BetaMixtureBootstrapping().initialize()
        assert torch.all(cb.noise_posterior(torch.rand(5)) == 0.5)


class TestTargets:
    def test_identity_during_warmup(self, small_digits):
        X, y = small_digits
        net = make_net(warmup_epochs=3, max_epochs=2).fit(X, y)
        # the noise model is fitted during warm-up too: to the last epoch's
        # losses of the final model, as the reference fits it
        losses = eval_losses(net, X, y)
        np.testing.assert_allclose(net.mr_.training_losses_.numpy(), losses, rtol=1e-5)
        np.testing.assert_allclose(net.mr_.noise_probabilities_.numpy(),
                                   reference_noise_probabilities(losses)[0], rtol=1e-6)
        Xb, yb = torch.as_tensor(X[:8]), torch.as_tensor(y[:8])
        assert net.mr_.correct_targets(net, Xb, yb) is yb
        assert net.mr_.batch_regularizer(net, net.module_(Xb)) is None

    def test_soft_after_warmup(self, bootstrapping_net, small_digits):
        X, y = small_digits
        net, cb = bootstrapping_net, bootstrapping_net.mr_
        Xb, yb = torch.as_tensor(X[:32]), torch.as_tensor(y[:32])
        targets = cb.correct_targets(net, Xb, yb)
        assert targets.shape == (32, 10) and targets.dtype == torch.float32
        # (1 - B) onehot(y) + B onehot(z): B the reference's posterior of each
        # row's loss (the model has not moved since the noise model's fit),
        # z the eval-mode prediction
        B = torch.from_numpy(reference_noise_probabilities(eval_losses(net, X, y))[0][:32])
        with torch.no_grad():
            z = net.module_(Xb).argmax(dim=1)
        expected = ((1 - B)[:, None] * F.one_hot(yb, 10)
                    + B[:, None] * F.one_hot(z, 10)).float()
        torch.testing.assert_close(targets, expected, rtol=1e-6, atol=1e-7)
        assert ((z != yb) & (B > 0.01)).any()  # some rows move weight off their label

    def test_eval_pass_restores_modes_and_leaves_state_alone(self, small_digits):
        X, y = small_digits

        class WithBatchNorm(TinyMLP):
            def __init__(self):
                super().__init__(dropout=0.5)
                self.bn = torch.nn.BatchNorm1d(64)

            def forward(self, X):
                return self.net(self.bn(X))

        torch.manual_seed(0)
        net = make_net(module=WithBatchNorm, warmup_epochs=1, max_epochs=1).fit(X, y)
        net._set_training(True)
        net.module_.net[2].eval()  # a submodule the user froze stays frozen
        flags = [m.training for m in net.module_.modules()]
        bn_state = {k: v.clone() for k, v in net.module_.bn.state_dict().items()}
        rng_state = torch.get_rng_state()
        net.mr_.correct_targets(net, torch.as_tensor(X[:16]), torch.as_tensor(y[:16]))
        assert [m.training for m in net.module_.modules()] == flags
        for key, value in net.module_.bn.state_dict().items():
            assert torch.equal(value, bn_state[key])
        assert torch.equal(torch.get_rng_state(), rng_state)

    def test_training_reproducible_with_seeds(self, small_digits):
        X, y = small_digits
        losses = []
        for _ in range(2):
            torch.manual_seed(0)
            net = make_net(warmup_epochs=1, max_epochs=3).fit(X, y)
            losses.append(net.history[:, "train_loss"])
        np.testing.assert_array_equal(losses[0], losses[1])


class TestLoss:
    def test_mixup_loss_matches_hand_computation(self, bootstrapping_net, small_digits):
        X, y = small_digits
        net, cb = bootstrapping_net, bootstrapping_net.mr_
        Xb, yb = torch.as_tensor(X[:16]), torch.as_tensor(y[:16])
        net.batch_positions_ = torch.arange(16)
        net._set_training(True)
        X_mixed, target = net.prepare_batch(Xb, yb)
        y_pred = net.infer(X_mixed)
        loss = net.get_weighted_loss(y_pred, target, X=X_mixed)

        # by hand, from the fitted mixture's parameters
        with torch.no_grad():
            logits = net.module_(Xb)
        clean_losses = F.cross_entropy(logits, yb, reduction="none").double().numpy()
        lo, hi = float(cb.loss_min_), float(cb.loss_max_)
        norm = np.clip((clean_losses - lo) / (hi - lo + 1e-6), 1e-3, 1 - 1e-3)
        B = torch.from_numpy(np.clip(cb.posterior_lookup_.numpy()[(100 * norm).astype(int)],
                                     1e-4, 1 - 1e-4)).float()
        assert 0 < B.min() and B.max() < 1
        z = logits.argmax(dim=1)
        lam, perm = target.lam, target.permutation
        log_p = F.log_softmax(y_pred, dim=1)
        rows = torch.arange(16)

        def nll(labels):
            return -log_p[rows, labels]

        B2, y2, z2 = B[perm], yb[perm], z[perm]
        expected = lam * (((1 - B) * nll(yb)).mean() + (B * nll(z)).mean()) \
            + (1 - lam) * (((1 - B2) * nll(y2)).mean() + (B2 * nll(z2)).mean())
        mean_prob = F.softmax(y_pred, dim=1).mean(dim=0)
        expected = expected + 1.0 * torch.sum(0.1 * torch.log(0.1 / mean_prob))
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
        net.batch_positions_ = None

    def test_reg_term_scales_regularizer(self, bootstrapping_net):
        net, cb = bootstrapping_net, bootstrapping_net.mr_
        logits = torch.randn(8, 10, generator=torch.Generator().manual_seed(0))
        reg = cb.batch_regularizer(net, logits)
        assert reg.item() > 0
        uniform = cb.batch_regularizer(net, torch.zeros(8, 10))
        assert uniform.item() == pytest.approx(0, abs=1e-6)
        cb.reg_term = 0.5
        try:
            assert cb.batch_regularizer(net, logits).item() == pytest.approx(0.5 * reg.item())
            cb.reg_term = 0.0
            assert cb.batch_regularizer(net, logits) is None
        finally:
            cb.reg_term = 1.0


class TestEndToEnd:
    def test_noisy_examples_get_higher_noise_posterior(self, noisy_digits):
        X, y_noisy, is_noisy = noisy_digits
        torch.manual_seed(0)
        net = make_net(warmup_epochs=3, max_epochs=6, module__hidden=64,
                       optimizer__momentum=0.9, batch_size=32).fit(X, y_noisy)
        cb = net.mr_
        assert cb.n_updates_ == 6
        p = cb.full_length(cb.noise_probabilities_)
        assert p.shape == (len(X),)
        assert p[is_noisy].mean() > p[~is_noisy].mean() + 0.3
        fractions = net.history[:, "bmm_noise_fraction"]
        assert len(fractions) == 6 and all(0 < f < 1 for f in fractions)
        # the final noise model is the reference's fit to the final losses, and
        # the history's last fraction its noisy (high-loss) component's weight
        expected, ref = reference_noise_probabilities(eval_losses(net, X, y_noisy))
        np.testing.assert_allclose(cb.noise_probabilities_.numpy(), expected, rtol=1e-6)
        assert fractions[-1] == pytest.approx(ref.weight[1], rel=1e-8)
        assert net.history[-1, "mr_ess"] == pytest.approx(len(X))
        np.testing.assert_allclose(net.sample_weights_, 1 / len(X))

    def test_held_out_rows_are_nan(self, noisy_digits):
        X, y_noisy, _ = noisy_digits
        from skorch.dataset import ValidSplit
        net = make_net(train_split=ValidSplit(5), max_epochs=1).fit(X, y_noisy)
        p = net.mr_.full_length(net.mr_.noise_probabilities_)
        assert np.isnan(p).sum() == len(X) // 5


class TestPersistence:
    def test_state_dict_round_trip(self, bootstrapping_net, tmp_path, small_digits):
        X, y = small_digits
        net = bootstrapping_net
        net.save_params(f_params=tmp_path / "p.pt", f_mr=tmp_path / "mr.pt")
        state = torch.load(tmp_path / "mr.pt", weights_only=True)
        assert {"bmm_alphas", "bmm_betas", "bmm_weights", "loss_min", "loss_max",
                "posterior_lookup", "noise_probabilities"} <= set(state)
        fresh = make_net(warmup_epochs=1).initialize()
        fresh.load_params(f_params=tmp_path / "p.pt", f_mr=tmp_path / "mr.pt")
        for name in ("bmm_alphas_", "bmm_betas_", "bmm_weights_", "posterior_lookup_",
                     "noise_probabilities_", "loss_min_", "loss_max_"):
            assert torch.equal(getattr(fresh.mr_, name), getattr(net.mr_, name))
        assert fresh.mr_.n_updates_ == net.mr_.n_updates_
        assert fresh.mr_.bootstrapping_
        fresh.partial_fit(X, y)
        assert fresh.mr_.n_updates_ == net.mr_.n_updates_ + 2

    def test_empty_state_resets(self):
        cb = BetaMixtureBootstrapping().initialize()
        assert set(cb.state_dict()) == {"kind", "version"}  # no weights yet
        cb.load_state_dict({})
        assert cb.bmm_alphas_ is None

    def test_pickle_and_clone(self, bootstrapping_net):
        restored = pickle.loads(pickle.dumps(bootstrapping_net))
        assert torch.equal(restored.mr_.posterior_lookup_,
                           bootstrapping_net.mr_.posterior_lookup_)
        fresh = clone(bootstrapping_net)
        assert fresh.callbacks__reweighting.warmup_epochs == 1
        assert not hasattr(fresh, "callbacks_")


class TestFactory:
    def test_builds_m_dyr_h(self):
        net = make_arazo_classifier(TinyMLP, warmup_epochs=5, reg_term=0.5, max_epochs=3)
        assert net.eta == 0.0 and net.mixup_alpha == 32.0
        net.initialize()
        assert isinstance(net.mr_, BetaMixtureBootstrapping)
        assert (net.mr_.warmup_epochs, net.mr_.reg_term) == (5, 0.5)
        net.set_params(callbacks__reweighting__warmup_epochs=2)
        assert net.mr_.warmup_epochs == 2

    def test_refuses_eta(self):
        with pytest.raises(TypeError, match="eta"):
            make_arazo_classifier(TinyMLP, eta=0.01)


class TestBadParams:
    @pytest.mark.parametrize("params, match", [
        (dict(warmup_epochs=-1), "warmup_epochs must be an int >= 0, got -1"),
        (dict(warmup_epochs=2.5), "warmup_epochs"),
        (dict(reg_term=-1.0), "reg_term must be a finite float >= 0.*got -1.0"),
        (dict(reg_term=float("nan")), "reg_term"),
        (dict(bmm_max_iters=0), "bmm_max_iters"),
        (dict(lookup_resolution=1), "lookup_resolution"),
    ])
    def test_bad_params_raise_on_initialize(self, params, match):
        net = make_net(callbacks__reweighting=BetaMixtureBootstrapping(**params))
        with pytest.raises(ValueError, match=match):
            net.initialize()

    def test_criterion_without_soft_targets(self, small_digits):
        X, y = small_digits
        net = make_net(criterion=torch.nn.NLLLoss)
        with pytest.raises(TypeError, match="CrossEntropyLoss"):
            net.fit(X, y)
