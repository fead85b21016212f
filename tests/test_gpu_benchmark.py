"""benchmarks/gpu_epoch.py runs (tiny, on the CPU; full-size on a GPU when there is one).

The timings themselves are not checked (the machine is shared); what is
checked is measured apart from them: which images every variant's module
saw, in which mode, under autocast or not, and that the medians and ratios
are those of the raw per-repeat times.
"""

import inspect
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_epoch  # noqa: E402

VARIANTS = {"plain", "mr_full", "mr_online", "hand_full"}


def image_keys(X):
    """One number per image: the sum of its float32 pixels in float64, exact
    whatever the order of the sum (3072 values of 24 bits fit in 53), so it
    identifies an image on any device."""
    return X.detach().to("cpu", torch.float64).sum(dim=(1, 2, 3)).tolist()


@pytest.fixture
def recorded(monkeypatch):
    """Every forward of every variant's ResNet-18: (variant, training, autocast, images)."""
    forwards, current = [], []

    class Recording(gpu_epoch.ResNet18):
        def forward(self, x):
            autocast = torch.is_autocast_enabled(x.device.type)
            forwards.append((current[-1], self.training, autocast, image_keys(x)))
            return super().forward(x)

    def in_variant(fn, name_of):
        def run(*args, **kwargs):
            current.append(name_of(*args, **kwargs))
            try:
                return fn(*args, **kwargs)
            finally:
                current.pop()
        return run

    def skorch_variant(cls, X, y, args, **kwargs):
        if not issubclass(cls, gpu_epoch.MRClassifier):
            return "plain"
        return "mr_" + kwargs.get("loss_pass", "full")

    monkeypatch.setattr(gpu_epoch, "ResNet18", Recording)
    monkeypatch.setattr(gpu_epoch, "skorch_epoch",
                        in_variant(gpu_epoch.skorch_epoch, skorch_variant))
    monkeypatch.setattr(gpu_epoch, "hand_full",
                        in_variant(gpu_epoch.hand_full, lambda *a, **k: "hand_full"))
    return forwards


def check_epochs(forwards, X, n_epochs, autocast):
    """Each variant trained n_epochs epochs over all of X (every image once an
    epoch, in train mode); the full-pass variants then ran an eval-mode loss
    pass over all of X, the others none."""
    every = Counter(image_keys(X))
    assert len(every) == len(X)  # the keys tell the images apart
    assert {f[0] for f in forwards} == VARIANTS
    for name in VARIANTS:
        trained = Counter(k for v, training, _, keys in forwards
                          if v == name and training for k in keys)
        assert trained == Counter({k: n_epochs for k in every}), name
        evaluated = Counter(k for v, training, _, keys in forwards
                            if v == name and not training for k in keys)
        if name in ("mr_full", "hand_full"):
            assert all(evaluated[k] >= n_epochs for k in every), name
        else:  # at most MR's one-example output-shape check
            assert sum(evaluated.values()) < len(X), name
        assert all(a == autocast for v, training, a, _ in forwards
                   if v == name and training), name


def test_tiny_run_trains_every_variant_one_epoch_over_all_images(recorded):
    out = gpu_epoch.main(["--tiny"])
    X, _ = gpu_epoch.synthetic_cifar(16)  # --tiny: 16 images, no warm-up, one repeat
    check_epochs(recorded, X, n_epochs=1, autocast=False)  # no autocast on the CPU
    # medians and ratios are those of the raw times of the one repeat
    times = out["times_s"]
    assert set(times) == VARIANTS and all(len(t) == 1 for t in times.values())
    assert out["median_s"] == {name: t[0] for name, t in times.items()}
    assert out["ratios"] == {
        "mr_full / plain": times["mr_full"][0] / times["plain"][0],
        "mr_online / plain": times["mr_online"][0] / times["plain"][0],
        "mr_full / hand_full": times["mr_full"][0] / times["hand_full"][0]}
    assert out["gpu_utilization"] is None  # no GPU sampled on the CPU


def test_medians_and_ratios_of_scripted_times(monkeypatch, capsys):
    # Each variant returns scripted times: one warm-up run, then three repeats.
    script = {"plain": [9.0, 2.0, 4.0, 3.0], "mr_full": [9.0, 7.0, 5.0, 6.0],
              "mr_online": [9.0, 3.0, 3.5, 4.5], "hand_full": [9.0, 4.0, 8.0, 5.0]}
    left = {name: list(t) for name, t in script.items()}
    mr_kwargs = []

    def skorch_epoch(cls, X, y, args, **kwargs):
        if not issubclass(cls, gpu_epoch.MRClassifier):
            return left["plain"].pop(0)
        mr_kwargs.append(kwargs)
        return left["mr_" + kwargs["loss_pass"]].pop(0)

    hand_eta = inspect.signature(gpu_epoch.hand_full).parameters["eta"].default
    monkeypatch.setattr(gpu_epoch, "skorch_epoch", skorch_epoch)
    monkeypatch.setattr(gpu_epoch, "hand_full", lambda X, y, args: left["hand_full"].pop(0))
    out = gpu_epoch.main(["--device", "cpu", "--n", "4", "--repeats", "3", "--no-amp"])
    assert all(not t for t in left.values())  # warm-up and three repeats each
    # both MR variants run the hand-written loop's MR (its eta), not the defaults
    assert {(k["loss_pass"], k["eta"]) for k in mr_kwargs} == {("full", hand_eta),
                                                              ("online", hand_eta)}
    # the warm-up is not timed
    assert out["times_s"] == {name: t[1:] for name, t in script.items()}
    assert out["median_s"] == {"plain": 3.0, "mr_full": 6.0, "mr_online": 3.5,
                               "hand_full": 5.0}
    assert out["ratios"] == {"mr_full / plain": 2.0, "mr_online / plain": 3.5 / 3.0,
                             "mr_full / hand_full": 6.0 / 5.0}
    printed = capsys.readouterr().out
    assert "mr_full    median    6.000s" in printed
    assert "mr_full / plain       2.000x" in printed


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_with_amp(recorded):
    out = gpu_epoch.main(["--n", "512", "--repeats", "1"])
    X, _ = gpu_epoch.synthetic_cifar(512)
    # a warm-up epoch and one timed epoch each, every training forward under
    # bfloat16 autocast (plain skorch's through the benchmark's own wrapper)
    check_epochs(recorded, X, n_epochs=2, autocast=True)
    assert {name: len(t) for name, t in out["times_s"].items()} == dict.fromkeys(VARIANTS, 1)
    assert out["median_s"] == {name: t[0] for name, t in out["times_s"].items()}
