"""benchmarks/overhead.py: its label-correction variant times what it says."""

import pytest

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
    extra = dict(callbacks__reweighting=overhead.AlwaysCorrecting()) if correcting \
        else dict(relabel=None)
    overhead.skorch_fit(MRClassifier, X[:300], y[:300], 1, 0, eta="auto", **extra)
    # 300 rows in batches of 128: 128, 128, 44
    assert calls == ([128, 128, 44] if correcting else [])
    assert alphas == [1.0 if correcting else 0.0] * 3
