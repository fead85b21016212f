"""Tests of sk_mr.paper.demo and the ``demo`` command (tiny epochs)."""

import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_mr.__main__ import main
from sk_mr.noise import add_label_noise
from sk_mr.paper.demo import format_demo_table, make_demo_estimator, run_demo


class TestDemo:
    def test_records_and_table(self):
        records = run_demo(noise_rates=(0.4,), n_seeds=1, epochs=2, log=None)
        assert sorted(r["method"] for r in records) == ["mr", "plain", "random"]
        plain = next(r for r in records if r["method"] == "plain")
        # uniform weights: the noisy mass is the realized noise fraction of
        # seed 0's training split (the demo's 70/30 stratified split)
        X, y = load_digits(return_X_y=True)
        _, _, y_train, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        _, is_noisy = add_label_noise(y_train, 0.4, random_state=0)
        assert plain["noisy_weight"] == pytest.approx(is_noisy.mean(), rel=1e-12)
        assert len(y_train) == 1257
        table = format_demo_table(records)
        lines = table.splitlines()
        # one seed: each row is that fit's numbers, and a zero sample std
        for line, method in zip(lines[2:], ["plain", "random", "mr"]):
            r = next(r for r in records if r["method"] == method)
            assert line.split()[:6] == ["40%", method, f"{100 * r['test_accuracy']:.1f}",
                                        "+-", "0.0", f"{r['noisy_weight']:.3f}"]
            assert line.split()[-1] == "1"
        assert len(lines) == 5

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
