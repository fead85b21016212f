"""The regression benchmark (benchmarks/regression.py): its cells, resume and decision."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import load_script
from sk_mr import MRRegressor


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/regression.py", "regression_benchmark")


def short(bench, name, epochs=2):
    return dataclasses.replace(bench.SETTINGS[name], epochs=epochs)


class TestCells:
    def test_default_is_the_grid_cell_of_the_shipped_eta(self, bench):
        setting = short(bench, "T3")
        shipped = MRRegressor(module=None).eta
        default = bench.run_cell(setting, "default", 0)
        grid = bench.run_cell(setting, f"eta={shipped:g}", 0)
        assert default["relative_rmse"] == grid["relative_rmse"]
        assert default["outlier_weight"] == grid["outlier_weight"]

    def test_relative_rmse_by_hand(self, bench):
        # the MSE net refitted here under the same seed: its RMSE over the
        # clean test targets' std
        import torch

        from sk_mr import add_target_outliers

        setting = short(bench, "R4")  # two outputs, raw targets
        record = bench.run_cell(setting, "mse", 1)
        X_train, y_train, X_test, y_test = bench.load_data(setting)
        y_noisy, _ = add_target_outliers(y_train, 0.4, random_state=1)
        net = bench.make_net(setting, "mse", 1)
        torch.manual_seed(1)
        net.fit(X_train, y_noisy.astype(np.float32))
        rmse = np.sqrt(np.mean((net.predict(X_test) - y_test) ** 2))
        assert record["relative_rmse"] == pytest.approx(rmse / y_test.std(), rel=1e-6)

    def test_the_raw_unit_collapses_on_raw_targets(self, bench):
        raw = short(bench, "R1")  # diabetes, raw targets: the unit is about 5000
        new, old = (bench.run_cell(raw, m, 0) for m in ("default", "default:unit1"))
        assert old["ess_fraction"] < 0.05 < new["ess_fraction"]
        net = bench.make_net(raw, "default", 0)
        net.fit(*bench.load_data(raw)[:2])
        assert net.loss_unit() > 1000
        # on standardized targets the two units are close (1.16 squared on
        # diabetes): the same weights to within a few percent
        standardized = short(bench, "T1")
        new, old = (bench.run_cell(standardized, m, 0) for m in ("eta=0.01", "default:unit1"))
        assert new["ess_fraction"] == pytest.approx(old["ess_fraction"], rel=0.05)

    def test_the_records_chose_the_shipped_default(self, bench):
        # the decision rule on the committed records gives the default that
        # MRRegressor ships, and the held-out summary the docs cite
        records = bench._load(bench.DEFAULT_OUT)
        table = bench.cells(records)
        assert bench.choose_eta(table)[0] == bench.shipped_eta()
        assert ("noisy held-out settings (5): default - best peer -0.168 on average, worst "
                "+0.032, ahead on 3 of 5; default's RMSE over plain MSE's 0.38 on average"
                ) in bench.heldout_lines(table)
        assert ("noisy lead-check settings (5): default - best peer +0.020 on average, worst "
                "+0.078, ahead on 1 of 5; default's RMSE over plain MSE's 0.37 on average"
                ) in bench.heldout_lines(table, role="lead-check")
        assert bench.lead_check_lines(table)[0].endswith("-> NOT met")

    def test_data_are_fixed_per_setting(self, bench):
        a, b = bench.load_data(bench.SETTINGS["T1"]), bench.load_data(bench.SETTINGS["T1"])
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
        assert a[1].std() == pytest.approx(1.0, abs=1e-5)  # standardized
        assert bench.load_data(bench.SETTINGS["R2"])[1].std() > 100  # raw


class TestScript:
    def test_two_jobs_from_the_command_line(self, tmp_path):
        # the cells run in worker processes: what they call must pickle
        import subprocess
        import sys

        out = tmp_path / "r.jsonl"
        subprocess.run([sys.executable, str(Path(bench_path())), "--settings", "T1",
                        "--methods", "mse", "l1+eta=0.03", "--seeds", "1", "--jobs", "2",
                        "--out", str(out)], check=True, capture_output=True)
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert sorted(r["method"] for r in records) == ["l1+eta=0.03", "mse"]
        assert all(0 < r["relative_rmse"] < 5 for r in records)


def bench_path():
    return Path(__file__).resolve().parents[1] / "benchmarks" / "regression.py"


class TestResumeAndTable:
    def test_resume_skips_finished_cells_and_refuses_other_configs(self, bench, tmp_path):
        out = str(tmp_path / "r.jsonl")
        settings = {"T1": short(bench, "T1", epochs=1)}
        first = bench.run(settings, ["mse", "eta=0.01"], 1, out)
        assert len(first) == 2
        again = bench.run(settings, ["mse", "eta=0.01", "l1"], 1, out)
        assert len(again) == 3 and len(bench._load(out)) == 3
        with pytest.raises(ValueError, match="another configuration"):
            bench.run({"T1": short(bench, "T1", epochs=2)}, ["mse"], 1, out)
        assert all(json.loads(line)["config"]["epochs"] == 1
                   for line in Path(out).read_text().splitlines())

    def test_choose_eta_by_hand(self, bench):
        def table(values):  # eta -> relative RMSE on every tuning setting
            return {(name, f"eta={eta:g}"): (v, 0.0, 3) for eta, v in values.items()
                    for name in ("T1", "T2", "T3", "T4")}

        grid = dict(zip(bench.ETA_GRID, (0.60, 0.50, 0.45, 0.48, 0.70, 0.90)))
        eta, means = bench.choose_eta(table(grid))
        assert eta == 0.03 and means[0.03] == pytest.approx(0.45)
        # the best (0.03) within 0.01 of 0.01's mean: 0.01 is kept
        grid[0.03], grid[0.1] = 0.492, 0.497
        assert bench.choose_eta(table(grid))[0] == 0.01
        # a missing tuning cell: no decision
        partial = table(grid)
        del partial[("T4", "eta=0.3")]
        assert bench.choose_eta(partial) == (None, {})

    def test_composed_lines_by_hand(self, bench):
        def cell(value):
            return (value, 0.0, 3)

        # R1 and R2 (noisy, held out): MR + L1 0.5 and 0.28, the default 0.6
        # and 0.2, best peers 0.55 (Huber) and 0.25 (L1); R3 is clean: left out
        table = {("R1", "l1+eta=0.03"): cell(0.5), ("R1", "default"): cell(0.6),
                 ("R1", "huber"): cell(0.55), ("R1", "mse"): cell(0.9),
                 ("R2", "l1+eta=0.03"): cell(0.28), ("R2", "default"): cell(0.2),
                 ("R2", "l1"): cell(0.25),
                 ("R3", "l1+eta=0.03"): cell(9.0), ("R3", "default"): cell(9.0),
                 ("R3", "mse"): cell(0.1)}
        assert bench.composed_lines(table) == [
            "l1+eta=0.03 (a lead, added after the first run), 2 noisy held-out settings: "
            "0.390 on average (default 0.400); minus the best peer -0.010 on average, worst "
            "+0.030"]

    def test_lead_check_by_hand(self, bench):
        def cell(value):
            return (value, 0.0, 3)

        lead, noisy = bench.LEAD, ["Q1", "Q2", "Q3", "Q4", "Q5"]
        table = {}
        for k, name in enumerate(noisy):  # best peer L1 at 0.30, the lead 0.305
            table.update({(name, "mse"): cell(0.9), (name, "huber"): cell(0.4),
                          (name, "l1"): cell(0.30), (name, "eta=0.03"): cell(0.35),
                          (name, lead): cell(0.305)})
        table.update({("Q6", "mse"): cell(0.10), ("Q6", "huber"): cell(0.1),
                      ("Q6", "l1"): cell(0.1), ("Q6", "eta=0.03"): cell(0.1),
                      ("Q6", lead): cell(0.115)})
        [line] = bench.lead_check_lines(table)
        assert line == (
            f"{lead} on the 5 noisy lead-check settings: minus the best peer +0.005 on "
            "average (bar <= +0.01), worst +0.005 (bar <= +0.02); minus the default -0.045 "
            "on average (bar < 0); on the clean one(s) minus MSE +0.015 (bar <= +0.02) -> met")
        table[("Q3", lead)] = cell(0.33)  # 0.03 behind the best peer on one
        assert bench.lead_check_lines(table)[0].endswith("-> NOT met")
        del table[("Q6", "l1")]
        assert bench.lead_check_lines(table) == []  # not all run yet

    def test_table_lines_by_hand(self, bench):
        def records(setting, method, values):
            return [dict(setting=setting, method=method, seed=k, relative_rmse=v)
                    for k, v in enumerate(values)]

        default = f"eta={bench.shipped_eta():g}"  # the table's default column
        recs = (records("R1", default, (0.5, 0.7)) + records("R1", "mse", (0.9, 1.1))
                + records("R1", "huber", (0.55, 0.55))
                + records("R1", "default:unit1", (1.0, 1.0))
                + records("R3", default, (0.3, 0.3)) + records("R3", "mse", (0.2, 0.2))
                + records("R5", default, (0.2, 0.2)) + records("R5", "l1", (0.3, 0.3))
                + records("R5", "mse", (0.8, 0.8)))
        settings = {n: bench.SETTINGS[n] for n in ("R1", "R3", "R5")}
        text = bench.format_table(recs, settings)
        assert "0.600+-0.141" in text
        lines = text.splitlines()
        assert ("R1 (diabetes, raw, Adam, 100 ep, 30% replaced): default 0.600 vs best peer "
                "huber 0.550 (+0.050); as it shipped before 1.000") in lines
        # R3 is clean: listed, but not in the noisy summary; R5: 0.2 vs L1 0.3
        assert any(line.startswith("R3 (") and "(+0.100)" in line for line in lines)
        assert not any(line.startswith("seconds") for line in lines)  # none recorded
        timed = [dict(r, seconds=2.0 if r["method"] == "mse" else 1.0) for r in recs]
        assert ("seconds per fit (one fit each), mean over the settings: mse 2.0, huber 1.0, "
                "l1 1.0, default 1.0, default:unit1 1.0, "
                f"{default} 1.0") in bench.format_table(timed, settings).splitlines()
        # gaps +0.05 and -0.1; RMSE over MSE's 0.6 / 1.0 and 0.2 / 0.8
        assert ("noisy held-out settings (2): default - best peer -0.025 on average, worst "
                "+0.050, ahead on 1 of 2; default's RMSE over plain MSE's 0.42 on average"
                ) in lines
