"""benchmarks/gpu_epoch.py runs (tiny, on the CPU; full-size on a GPU when there is one)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import gpu_epoch  # noqa: E402


def test_tiny_run_times_every_variant_and_the_ratios_are_consistent():
    out = gpu_epoch.main(["--tiny"])
    med = out["median_s"]
    assert set(med) == {"plain", "mr_full", "mr_online", "hand_full"}
    assert out["ratios"]["mr_full / plain"] == pytest.approx(med["mr_full"] / med["plain"])
    assert out["gpu_utilization"] is None  # no GPU sampled on the CPU


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_with_amp():
    out = gpu_epoch.main(["--n", "512", "--repeats", "1"])
    assert all(t > 0 for t in out["median_s"].values())
