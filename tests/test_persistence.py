"""MR state files are validated whole before anything is loaded (issue 18).

A refused ``load_params`` must leave a fitted net exactly as it was: its
predictions (module parameters), its history and its MR weights.
"""

import io

import numpy as np
import pytest
import torch

from sk_mr import MRClassifier, RandomReweighting
from sk_mr.callbacks import STATE_VERSION, MultiplicativeReweighting
from conftest import TinyMLP


def make_net(**kwargs):
    params = dict(module=TinyMLP, max_epochs=2, lr=0.1, batch_size=64, train_split=None,
                  verbose=0, eta=0.5, random_state=0)
    params.update(kwargs)
    return MRClassifier(**params)


def snapshot(net, X):
    return (net.predict_proba(X), net.sample_weights_.copy(), len(net.history),
            {k: v.clone() for k, v in net.mr_.state_dict().items()})


def assert_unchanged(net, X, before):
    proba, weights, n_epochs, state = before
    np.testing.assert_array_equal(net.predict_proba(X), proba)
    np.testing.assert_array_equal(net.sample_weights_, weights)
    assert len(net.history) == n_epochs
    after = net.mr_.state_dict()
    assert set(after) == set(state)
    for key, value in state.items():
        assert torch.equal(after[key], value), key


@pytest.fixture(scope="module")
def fitted(small_digits):
    X, y = small_digits
    return make_net().fit(X, y)


@pytest.fixture(scope="module")
def files(small_digits, tmp_path_factory):
    """Files of other nets: another kind, unfitted, other examples, another seed."""
    X, y = small_digits
    root = tmp_path_factory.mktemp("states")
    nets = {
        "random": make_net(callbacks__reweighting=RandomReweighting(random_state=0),
                           eta=0.0).fit(X, y),
        "unfitted": make_net(random_state=1).initialize(),
        "fewer": make_net(random_state=2).fit(X[:200], y[:200]),
        "other_seed": make_net(random_state=3).fit(X, y),
    }
    for name, net in nets.items():
        net.save_params(f_params=root / f"{name}.params", f_mr=root / f"{name}.mr",
                        f_criterion=root / f"{name}.criterion",
                        f_history=root / f"{name}.history")
    return root


class TestRefusedLoadChangesNothing:
    @pytest.mark.parametrize("source, match", [
        ("random", "state of a RandomReweighting"),
        ("unfitted", "holds no weights"),
        ("fewer", "training split of 200 of 200 rows"),
    ])
    @pytest.mark.parametrize("route", ["f_mr", "f_criterion"])
    def test_refused_with_other_files(self, fitted, files, small_digits, source, match,
                                      route):
        X, _ = small_digits
        before = snapshot(fitted, X)
        # the parameters and history of the other net come first in the call:
        # nothing of them may be loaded when its MR state is refused
        with pytest.raises(ValueError, match=match):
            fitted.load_params(f_params=files / f"{source}.params",
                               f_history=files / f"{source}.history",
                               **{route: files / f"{source}.{route[2:]}"})
        assert_unchanged(fitted, X, before)

    def test_mr_state_into_random_reweighting_is_refused(self, files, small_digits):
        X, y = small_digits
        net = make_net(callbacks__reweighting=RandomReweighting(random_state=0),
                       eta=0.0).fit(X, y)
        before = snapshot(net, X)
        with pytest.raises(ValueError, match="state of a MultiplicativeReweighting"):
            net.load_params(f_params=files / "other_seed.params",
                            f_mr=files / "other_seed.mr")
        assert_unchanged(net, X, before)

    def test_file_objects_are_checked_and_still_load(self, fitted, files, small_digits):
        X, y = small_digits
        before = snapshot(fitted, X)
        with pytest.raises(ValueError, match="RandomReweighting"):
            fitted.load_params(f_params=io.BytesIO((files / "random.params").read_bytes()),
                               f_mr=io.BytesIO((files / "random.mr").read_bytes()))
        assert_unchanged(fitted, X, before)
        # a valid state given as file objects is read once for the check and
        # still loads
        fresh = make_net().initialize()
        fresh.load_params(f_params=io.BytesIO((files / "other_seed.params").read_bytes()),
                          f_mr=io.BytesIO((files / "other_seed.mr").read_bytes()))
        saved = torch.load(files / "other_seed.mr", weights_only=True)
        np.testing.assert_array_equal(fresh.mr_.cumulative_losses_.numpy(),
                                      saved["cumulative_losses"].numpy())

    def test_same_examples_load_over_a_fitted_net(self, fitted, files, small_digits):
        X, y = small_digits
        net = make_net(random_state=4).fit(X, y)
        net.load_params(f_params=files / "other_seed.params", f_mr=files / "other_seed.mr")
        saved = torch.load(files / "other_seed.mr", weights_only=True)
        np.testing.assert_array_equal(net.cumulative_losses_,
                                      saved["cumulative_losses"].numpy())

    def test_other_examples_load_into_a_fresh_net(self, files, small_digits):
        X, y = small_digits
        net = make_net().initialize()
        net.load_params(f_params=files / "fewer.params", f_mr=files / "fewer.mr")
        assert net.sample_weights_.shape == (200,)
        net.partial_fit(X[:200], y[:200])  # continues on its own examples
        assert net.mr_.n_updates_ == 4  # 2 epochs saved, 2 more


class TestGuidePromises:
    def test_weights_survive_a_callback_parameter_change_through_f_mr(self, small_digits,
                                                                        tmp_path):
        # docs/guide/persistence.rst: changing a callback parameter re-initializes
        # the callbacks (the weights start over); save them first, load them back
        X, y = small_digits
        net = make_net().fit(X, y)
        weights, losses = net.sample_weights_.copy(), net.cumulative_losses_.copy()
        net.save_params(f_mr=tmp_path / "mr.pt")
        net.set_params(callbacks__print_log__floatfmt=".3f")
        assert net.mr_.train_rows_ is None  # the weights started over
        net.load_params(f_mr=tmp_path / "mr.pt")
        np.testing.assert_array_equal(net.sample_weights_, weights)
        np.testing.assert_array_equal(net.cumulative_losses_, losses)
        net.partial_fit(X, y)  # and training goes on from them
        assert net.mr_.n_updates_ == 4


class TestStateDictChecks:
    def state(self, fitted):
        return {k: v.clone() for k, v in fitted.mr_.state_dict().items()}

    def test_state_names_its_kind_and_version(self, fitted):
        state = fitted.mr_.state_dict()
        assert bytes(state["kind"].tolist()) == b"MultiplicativeReweighting"
        assert int(state["version"]) == STATE_VERSION == 1
        assert "train_rows" not in MultiplicativeReweighting().initialize().state_dict()

    @pytest.mark.parametrize("alter, match", [
        (lambda s: s.update(probabilities=s["probabilities"].to(torch.int64)), "dtype"),
        (lambda s: s.update(train_rows=s["train_rows"].double()), "dtype"),
        (lambda s: s.update(cumulative_losses=s["cumulative_losses"][:-1]), "shape"),
        (lambda s: s.update(n_rows=torch.tensor(10)), "distinct rows"),
        (lambda s: s.update(probabilities=-s["probabilities"]), "non-negative"),
        (lambda s: s.update(cumulative_losses=s["cumulative_losses"] * np.nan), "finite"),
        (lambda s: s.update(eta=torch.tensor(-1.0, dtype=torch.float64)), "eta"),
        (lambda s: s.update(version=torch.tensor(STATE_VERSION + 1)), "newer"),
        (lambda s: s.pop("cumulative_losses"), "lacks"),
    ])
    def test_a_bad_state_is_refused_before_anything_is_assigned(self, fitted, alter, match):
        state = self.state(fitted)
        alter(state)
        cb = MultiplicativeReweighting().initialize()
        with pytest.raises(ValueError, match=match):
            cb.load_state_dict(state)
        assert cb.train_rows_ is None and cb.cumulative_losses_ is None

    def test_kind_mismatch_at_the_callback_leaves_it_whole(self, fitted):
        cb = RandomReweighting(random_state=0).initialize()
        with pytest.raises(ValueError, match="state of a MultiplicativeReweighting"):
            cb.load_state_dict(self.state(fitted))
        assert cb.train_rows_ is None and cb.probabilities_ is None

    def test_state_of_an_earlier_version_loads(self, fitted):
        state = self.state(fitted)
        del state["kind"], state["version"]
        cb = MultiplicativeReweighting().initialize()
        cb.load_state_dict(state)
        assert torch.equal(cb.cumulative_losses_, fitted.mr_.cumulative_losses_.cpu())
        # an earlier MR state is still an MR state: RandomReweighting refuses it
        with pytest.raises(ValueError, match="MultiplicativeReweighting"):
            RandomReweighting().initialize().load_state_dict(state)

    def test_safetensors_round_trip_is_checked(self, fitted, files, small_digits, tmp_path):
        pytest.importorskip("safetensors")
        X, _ = small_digits
        fitted.save_params(f_criterion=tmp_path / "c", use_safetensors=True)
        fresh = make_net().initialize()
        fresh.load_params(f_criterion=tmp_path / "c", use_safetensors=True)
        np.testing.assert_array_equal(fresh.sample_weights_, fitted.sample_weights_)
        other = make_net(callbacks__reweighting=RandomReweighting(random_state=0), eta=0.0)
        other.initialize().save_params(f_criterion=tmp_path / "r", use_safetensors=True)
        before = snapshot(fitted, X)
        with pytest.raises(ValueError, match="RandomReweighting"):
            fitted.load_params(f_criterion=tmp_path / "r", use_safetensors=True)
        assert_unchanged(fitted, X, before)


class TestLabelCorrectionState:
    def test_the_gate_and_the_frozen_fraction_survive_save_load_and_pickle(
            self, noisy_data, tmp_path):
        import pickle

        X, y, _ = noisy_data
        # MR's weights leave uniform at epoch 11 and the gate opens (0.68)
        net = make_net(eta="auto", max_epochs=14, batch_size=16).fit(X, y)
        cb = net.mr_
        assert cb.relabeling_
        frozen = cb.eta_rule_.frozen_misfit_
        net.save_params(f_params=tmp_path / "p", f_mr=tmp_path / "mr")
        fresh = make_net(eta="auto", max_epochs=14, batch_size=16).initialize()
        fresh.get_split_datasets(X, y)  # binds the callback to the examples
        fresh.load_params(f_params=tmp_path / "p", f_mr=tmp_path / "mr")
        loaded = fresh.mr_
        assert loaded.relabel_ratio_ == cb.relabel_ratio_ and loaded.relabeling_
        # saved again before any update (the rule object is not made yet):
        # the frozen fraction goes with the open gate
        again = make_net(eta="auto", max_epochs=14, batch_size=16).initialize()
        again.get_split_datasets(X, y)
        again.mr_.load_state_dict(loaded.state_dict())
        assert again.mr_.relabeling_ and again.mr_._rule().frozen_misfit_ == frozen
        assert loaded._rule().frozen_misfit_ == frozen
        # a free rule's NaN comes back as None, an undecided gate as None
        plain = make_net(eta="auto", relabel=None, max_epochs=14, batch_size=16).fit(X, y)
        state = plain.mr_.state_dict()
        assert torch.isnan(state["eta_rule.frozen_misfit_"]) and "relabel_ratio" not in state
        plain.mr_.load_state_dict(state)
        assert plain.mr_._rule().frozen_misfit_ is None and plain.mr_.relabel_ratio_ is None
        copy = pickle.loads(pickle.dumps(net))
        assert copy.mr_.relabeling_ and copy.mr_.eta_rule_.frozen_misfit_ == frozen
