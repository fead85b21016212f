"""Tests of sk_mr.paper.demo and the ``demo`` command (tiny epochs)."""

import numpy as np
import pytest

from sk_mr.__main__ import main
from sk_mr.paper.demo import format_demo_table, make_demo_estimator, run_demo


class TestDemo:
    def test_records_and_table(self):
        records = run_demo(noise_rates=(0.4,), n_seeds=1, epochs=2, log=None)
        assert sorted(r["method"] for r in records) == ["mr", "plain", "random"]
        plain = next(r for r in records if r["method"] == "plain")
        # uniform weights: the noisy mass is the realized noise fraction
        assert 0.3 < plain["noisy_weight"] < 0.42
        table = format_demo_table(records)
        lines = table.splitlines()
        assert [ln.split()[1] for ln in lines[2:]] == ["plain", "random", "mr"]
        acc = 100 * records[0]["test_accuracy"]
        assert f"{acc:.1f}" in table

    def test_parallel_jobs_match_sequential(self):
        kwargs = dict(noise_rates=(0.2,), n_seeds=1, epochs=2, methods=("mr",), log=None)
        a = run_demo(n_jobs=1, **kwargs)  # one torch thread here too (conftest)
        b = run_demo(n_jobs=2, **kwargs)
        # every fit is seeded on its own: a worker process gives the same fit
        for key in ("test_accuracy", "noisy_weight"):
            assert a[0][key] == b[0][key]

    def test_unknown_method(self):
        with pytest.raises(ValueError, match="methods must be among"):
            run_demo(methods=("mr", "magic"), log=None)
        with pytest.raises(ValueError, match="method must be one of"):
            make_demo_estimator("magic")

    def test_cli_prints_table(self, capsys):
        assert main(["demo", "--epochs", "1", "--seeds", "1", "--noise-rates", "0.4",
                     "--jobs", "1"]) == 0
        out = capsys.readouterr()
        assert "test accuracy (%)" in out.out
        assert "[ 3/3]" in out.err
