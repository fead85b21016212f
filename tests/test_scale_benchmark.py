"""The scaling benchmark (benchmarks/scale.py) runs, tiny, and measures what it says.

The times are not checked (the machine is shared); what is checked is
measured apart from the benchmark's own arithmetic: what each timed fit
trained on (from the nets it built), MR's state from the fitted tensors'
sizes, the data's size from the file on disk, and the medians from the raw
per-repeat times.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import scale  # noqa: E402


@pytest.fixture
def nets(monkeypatch):
    """Every net the benchmark builds, in order."""
    built = []
    make_net = scale.make_net

    def recording(*args, **kwargs):
        built.append(make_net(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(scale, "make_net", recording)
    return built


def trained_examples(net):
    """Number of examples of each epoch, from the net's own history."""
    return [sum(b["train_batch_size"] for b in epoch["batches"]) for epoch in net.history]


def state_bytes(mr):
    """MR's per-example state from its tensors: float64 cumulative losses,
    float32 batch weights, the rows (int32 below 2**31 rows)."""
    return mr.cumulative_losses_.nbytes + mr.batch_weights_.nbytes + mr.train_rows_.nbytes


def test_measure_reports_mr_state_and_times(nets):
    n, repeats = 3000, 3  # not the warm-up fits' 2 * 1024 examples
    row = scale.measure(n, repeats=repeats)
    # the timed fits: each kind once a repeat, one epoch over all n examples
    timed = [net for net in nets if trained_examples(net) == [n]]
    kinds = [getattr(getattr(net, "mr_", None), "settings_", None) for net in timed]
    assert [None if k is None else k.loss_pass for k in kinds] == \
        [None, "full", "online"] * repeats
    assert all(net.mr_.n_updates_ == 1 for net in timed if hasattr(net, "mr_"))
    # the state reported is the last MR full fit's, from its tensors
    fitted = timed[-2]
    assert state_bytes(fitted.mr_) == 16 * n  # 8 + 4 + 4 bytes per example
    assert row["state_bytes_per_example"] == state_bytes(fitted.mr_) / n
    # each time reported is the median of its raw per-repeat times
    raw = row["raw_s"]
    assert set(raw) == {"epoch_plain", "epoch_mr_full", "epoch_mr_online", "loss_pass",
                        "mw_update"}
    for key, times in raw.items():
        assert len(times) == repeats and all(t > 0 for t in times)
        assert row[key + "_s"] == sorted(times)[1]  # the middle one of three
    assert row["lookup_us"] > 0


def test_lazy_epoch_on_a_memory_map(tmp_path, nets):
    for n_features in (scale.N_FEATURES, 64):
        del nets[:]
        row = scale.lazy_epoch(5000, tmp_path, n_features=n_features)
        assert row["n"] == 5000 and row["n_features"] == n_features
        assert np.isfinite(row["epoch_s"]) and row["epoch_s"] > 0
        # the data's size is the memory-mapped file's, on disk
        assert row["data_mb"] * 2 ** 20 == os.path.getsize(tmp_path / "X.f32")
        # the fit timed (the last net built) trained one epoch over the 5000
        # rows, and the state reported is its tensors'
        assert trained_examples(nets[-1]) == [5000]
        assert row["mr_state_mb"] * 2 ** 20 == state_bytes(nets[-1].mr_) == 16 * 5000
