"""The scaling benchmark (benchmarks/scale.py) runs, tiny, and measures what it says."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import scale  # noqa: E402


def test_measure_reports_mr_state_and_times():
    row = scale.measure(2048, repeats=1)
    # float64 cumulative losses + float32 batch weights + int32 rows
    assert row["state_bytes_per_example"] == 16
    for key in ("mw_update_s", "loss_pass_s", "epoch_plain_s", "epoch_mr_full_s",
                "epoch_mr_online_s"):
        assert row[key] > 0
    assert row["lookup_us"] > 0


def test_lazy_epoch_on_a_memory_map(tmp_path):
    row = scale.lazy_epoch(5000, tmp_path)
    assert row["n"] == 5000 and np.isfinite(row["epoch_s"])
    assert row["mr_state_mb"] * 2 ** 20 == 16 * 5000
    wide = scale.lazy_epoch(5000, tmp_path, n_features=64)
    assert wide["data_mb"] * 2 ** 20 == 5000 * 64 * 4
