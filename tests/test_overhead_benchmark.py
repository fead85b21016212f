"""benchmarks/overhead.py: its label-correction variant times what it says."""

import pytest
import torch

from conftest import load_script


@pytest.fixture(scope="module")
def overhead():
    return load_script("benchmarks/overhead.py", "overhead_benchmark")


@pytest.mark.parametrize("correcting", [False, True])
def test_the_correcting_variant_corrects_every_batch(overhead, monkeypatch, correcting):
    # the timed variant must run the corrected path on every batch (an eval
    # forward each, mixup on), and its baseline never
    from sk_mr import MRClassifier

    X, y = overhead.load_data()
    calls = []
    evaluate = MRClassifier.evaluate_batch
    monkeypatch.setattr(MRClassifier, "evaluate_batch",
                        lambda self, X, **kw: calls.append(len(X)) or evaluate(self, X, **kw))
    alphas = []
    mixup = MRClassifier.mixup_batch
    monkeypatch.setattr(MRClassifier, "mixup_batch", lambda self, Xi, yi: alphas.append(
        self.mr_.batch_mixup_alpha(self)) or mixup(self, Xi, yi))
    callback = overhead.AlwaysCorrecting()
    extra = dict(callbacks__reweighting=callback) if correcting else dict(relabel=None)
    overhead.skorch_fit(MRClassifier, X[:300], y[:300], 1, 0, eta="auto", **extra)
    # 300 rows in batches of 128: 128, 128, 44
    assert calls == ([128, 128, 44] if correcting else [])
    assert alphas == [1.0 if correcting else 0.0] * 3
    if correcting:
        # towards the aligned classes, as the default corrects: the running
        # mean of the predictions took in the batches (towards the argmax
        # it would stay at the uniform start), and is still a distribution
        uniform = torch.full((10,), 0.1)
        assert torch.equal(callback.label_frequencies_, uniform)
        assert not torch.allclose(callback.predicted_frequencies_, uniform, atol=1e-4)
        assert float(callback.predicted_frequencies_.sum()) == pytest.approx(1.0, abs=1e-5)
