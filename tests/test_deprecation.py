"""The old paths of what moved to sk_mr.paper keep working, with a FutureWarning.

One test per old path: the warning is raised, names the new path and the
version of removal, and the alias is the very object at the new path.
Pickles made before the move (classes recorded under their old module) still
load.
"""

import importlib
import pickle
import re
import warnings

import numpy as np
import pytest
import torch

from sk_mr._deprecation import REMOVED_IN, moved_names

# old module -> new module, for modules that moved as a whole
WHOLE_MODULES = {
    "sk_mr.theory": "sk_mr.paper.theory",
    "sk_mr.demo": "sk_mr.paper.demo",
    "sk_mr.reproduce.adversarial": "sk_mr.paper.reproduce.adversarial",
    "sk_mr.reproduce.cli": "sk_mr.paper.reproduce.cli",
    "sk_mr.reproduce.common": "sk_mr.paper.reproduce.common",
    "sk_mr.reproduce.data": "sk_mr.paper.reproduce.data",
    "sk_mr.reproduce.noisy_labels": "sk_mr.paper.reproduce.noisy_labels",
    "sk_mr.reproduce.results": "sk_mr.paper.reproduce.results",
}

# names that left a module which stays (the library keeps the rest)
MOVED_NAMES = {
    ("sk_mr.models", "sk_mr.paper.models"): [
        "CIFAR10_MEAN", "CIFAR10_STD", "CIFAR100_MEAN", "CIFAR100_STD", "IMAGENET_MEAN",
        "IMAGENET_STD", "ResNet18", "ResNet34", "ResNet50", "WideResNet"],
    ("sk_mr.datasets", "sk_mr.paper.datasets"): [
        "CLOTHING1M_SPLITS", "Clothing1M", "DATASETS", "ResizeCrop", "cifar_augmentation",
        "clothing1m_transform", "load_cifar", "load_dataset"],
}


def _old_paths():
    paths = []
    for old, new in WHOLE_MODULES.items():
        # every public name the module had (its __all__ then, its __all__ now)
        for name in importlib.import_module(new).__all__:
            paths.append((old, new, name))
    for (old, new), names in MOVED_NAMES.items():
        paths += [(old, new, name) for name in names]
    return paths


OLD_PATHS = _old_paths()


def _warning_for(old, new, name):
    return re.escape(f"{old}.{name} moved to {new}.{name}") + r".* removed in " + \
        re.escape(REMOVED_IN)


@pytest.mark.parametrize("old, new, name", OLD_PATHS,
                         ids=[f"{old}.{name}" for old, _, name in OLD_PATHS])
def test_old_path_warns_and_is_the_same_object(old, new, name):
    module = importlib.import_module(old)
    with pytest.warns(FutureWarning, match=_warning_for(old, new, name)) as caught:
        alias = getattr(module, name)
    assert alias is getattr(importlib.import_module(new), name)
    # the warning points at the code that used the old path
    assert caught[0].filename == __file__


def test_the_old_paths_cover_every_public_name_of_the_moved_code():
    # an old module's public names, as they were, are found under the new
    # paths: nothing public was dropped on the way
    assert {n for o, _, n in OLD_PATHS if o == "sk_mr.theory"} == {
        "mr_gradient_descent", "mr_least_squares", "weighted_least_squares",
        "make_logistic_1d", "make_linear_1d", "Illustrative1D"}
    assert {n for o, _, n in OLD_PATHS if o == "sk_mr.demo"} == {
        "DEMO_METHODS", "format_demo_table", "make_demo_estimator", "run_demo"}
    assert {n for o, _, n in OLD_PATHS if o == "sk_mr.reproduce.results"} == {"ResultStore"}


def test_from_import_warns():
    with pytest.warns(FutureWarning, match=_warning_for("sk_mr.models", "sk_mr.paper.models",
                                                        "ResNet18")):
        from sk_mr.models import ResNet18
    from sk_mr.paper.models import ResNet18 as new
    assert ResNet18 is new


def test_star_import_of_a_moved_module():
    namespace = {}
    with pytest.warns(FutureWarning) as caught:
        exec("from sk_mr.theory import *", namespace)
    assert "sk_mr.theory.__all__ moved to sk_mr.paper.theory.__all__" in str(caught[0].message)
    from sk_mr.paper import theory
    assert namespace["mr_least_squares"] is theory.mr_least_squares


def test_library_names_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from sk_mr.datasets import AugmentedDataset, load_digits_images  # noqa: F401
        from sk_mr.models import MLP, Normalize, make_model_class
        assert make_model_class("mlp") is MLP
        assert Normalize().identity


@pytest.mark.parametrize("old", ["sk_mr.models", "sk_mr.theory", "sk_mr.reproduce.cli"])
def test_unknown_names_are_attribute_errors_without_warning(old):
    module = importlib.import_module(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match=f"module '{re.escape(old)}' has no "
                                                 "attribute 'no_such_name'"):
            module.no_such_name
        # dunders that inspect, doctest and pickle probe are not forwarded
        assert not hasattr(module, "__wrapped__")


class TestOldModelRegistryNames:
    @pytest.mark.parametrize("name, cls", [("resnet18", "ResNet18"), ("ResNet34", "ResNet34"),
                                           ("wrn28_10", "WideResNet"), ("resnet50", "ResNet50")])
    def test_make_model_class_finds_the_paper_architectures(self, name, cls):
        from sk_mr import models
        from sk_mr.paper import models as paper_models
        key = name.lower().replace("-", "_")
        with pytest.warns(FutureWarning, match=re.escape(
                f"sk_mr.paper.models.make_model_class({key!r})") + ".*") as caught:
            found = models.make_model_class(name)
        assert found is getattr(paper_models, cls)
        assert f"stop finding it in {REMOVED_IN}" in str(caught[0].message)
        assert caught[0].filename == __file__

    def test_registry_lookup_and_make_model(self):
        from sk_mr import models
        from sk_mr.paper.models import ResNet18
        with pytest.warns(FutureWarning, match=r"MODELS\['resnet18'\]") as caught:
            assert models.MODELS["resnet18"] is ResNet18
        assert caught[0].filename == __file__
        with pytest.warns(FutureWarning, match="resnet18"):
            assert isinstance(models.make_model("resnet18", n_classes=3), ResNet18)
        # the registry itself lists the library's models only
        assert "resnet18" not in models.MODELS


class TestOldPickles:
    """A pickle made before the move records ``sk_mr.models.WideResNet``."""

    def _old_pickle(self, monkeypatch, obj):
        from sk_mr.paper import models as paper_models
        # pickle records a class under its __module__; the old module, for
        # classes that were defined there before the move
        for cls in (paper_models.WideResNet, paper_models._WideBlock):
            monkeypatch.setattr(cls, "__module__", "sk_mr.models")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pickle checks the old path
            data = pickle.dumps(obj)
        monkeypatch.undo()
        assert b"sk_mr.models" in data and b"sk_mr.paper" not in data
        return data

    def test_module(self, monkeypatch):
        from sk_mr.paper.models import WideResNet
        torch.manual_seed(0)
        model = WideResNet(n_classes=3, depth=10, widen_factor=1).eval()
        data = self._old_pickle(monkeypatch, model)
        with pytest.warns(FutureWarning) as caught:
            loaded = pickle.loads(data)
        assert "sk_mr.models.WideResNet moved to sk_mr.paper.models.WideResNet" in {
            str(w.message).partition(" in sk_mr")[0] for w in caught}
        assert type(loaded) is WideResNet
        x = torch.rand(2, 3, 8, 8)
        torch.testing.assert_close(loaded(x), model(x))

    def test_fitted_net(self, monkeypatch):
        from sk_mr import MRClassifier
        from sk_mr.paper.models import WideResNet
        rng = np.random.default_rng(0)
        X, y = rng.random((40, 3, 8, 8), dtype=np.float32), np.arange(40) % 2
        torch.manual_seed(0)
        net = MRClassifier(WideResNet, module__n_classes=2, module__depth=10,
                           module__widen_factor=1, max_epochs=2, batch_size=20, eta=0.5,
                           train_split=None, verbose=0).fit(X, y)
        data = self._old_pickle(monkeypatch, net)
        with pytest.warns(FutureWarning) as caught:
            loaded = pickle.loads(data)
        assert {"sk_mr.models.WideResNet", "sk_mr.models._WideBlock"} <= {
            str(w.message).partition(" moved")[0] for w in caught}
        assert loaded.module is WideResNet and type(loaded.module_) is WideResNet
        np.testing.assert_allclose(loaded.predict_proba(X), net.predict_proba(X))
        np.testing.assert_array_equal(loaded.sample_weights_, net.sample_weights_)


def test_moved_names_on_a_module_of_ones_own():
    getattr_ = moved_names("old.place", "sk_mr.mw", {"MultiStepEta"})
    from sk_mr.mw import MultiStepEta
    with pytest.warns(FutureWarning, match=r"old\.place\.MultiStepEta moved to "
                                           r"sk_mr\.mw\.MultiStepEta .* removed in "):
        assert getattr_("MultiStepEta") is MultiStepEta
    with pytest.raises(AttributeError, match="module 'old.place' has no attribute 'mw_step'"):
        getattr_("mw_step")
    # a whole-module alias: any name the new module has, and no name it lacks
    whole = moved_names("old.place", "sk_mr.mw")
    with pytest.warns(FutureWarning):
        assert whole("MultiStepEta") is MultiStepEta
    with pytest.raises(AttributeError, match="module 'old.place' has no attribute 'nope'"):
        whole("nope")
