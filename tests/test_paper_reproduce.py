"""Tests of sk_mr.paper.reproduce: results store, method parsing, tables, the CLI."""

import json
import re

import pytest

from sk_mr.__main__ import main
from sk_mr.paper.reproduce.noisy_labels import (RECIPES, TABLE1_METHODS, format_table,
                                                make_estimator, parse_methods, recipe_for)
from sk_mr.paper.reproduce.results import ResultStore

from conftest import cli_usage_error


def assert_usage_error(capsys, argv, match):
    """``main(argv)`` exits with status 2 and one error line matching ``match``."""
    line = cli_usage_error(capsys, argv)
    assert re.search(match, line), line


class TestResultStore:
    def test_add_saves_and_resume_skips(self, tmp_path):
        path = tmp_path / "r.json"
        store = ResultStore(path, {"dataset": "digits", "epochs": 2}, ("method", "seed"))
        store.add({"method": "mr", "seed": 0, "test_accuracy": 0.5})
        on_disk = json.loads(path.read_text())
        assert on_disk == [{"dataset": "digits", "epochs": 2, "method": "mr", "seed": 0,
                            "test_accuracy": 0.5}]
        again = ResultStore(path, {"dataset": "digits", "epochs": 2}, ("method", "seed"))
        assert again.has(method="mr", seed=0)
        assert not again.has(method="mr", seed=1)

    def test_other_configuration_refused(self, tmp_path):
        path = tmp_path / "r.json"
        ResultStore(path, {"dataset": "digits", "epochs": 2}, ("seed",)).add({"seed": 0})
        with pytest.raises(ValueError, match="epochs: file has 2, this run 3"):
            ResultStore(path, {"dataset": "digits", "epochs": 3}, ("seed",))

    def test_malformed_file(self, tmp_path):
        path = tmp_path / "r.json"
        path.write_text("{not json")
        with pytest.raises(ValueError, match="not a valid results file"):
            ResultStore(path, {}, ("seed",))
        path.write_text('{"a": 1}')
        with pytest.raises(ValueError, match="list of records"):
            ResultStore(path, {}, ("seed",))

    def test_tuples_and_lists_compare_equal(self, tmp_path):
        path = tmp_path / "r.json"
        ResultStore(path, {"milestones": (80, 120)}, ("seed",)).add({"seed": 0})
        assert ResultStore(path, {"milestones": (80, 120)}, ("seed",)).has(seed=0)


class TestParseMethods:
    def test_table1_methods_parse_to_themselves(self):
        assert parse_methods(",".join(TABLE1_METHODS)) == list(TABLE1_METHODS)

    def test_canonical_order_and_dedup(self):
        assert parse_methods("ls+mixup+mr, mr+mixup+ls,base+mr") == ["mr+mixup+ls", "mr"]

    def test_robust_losses_parse_and_compose_with_mr(self):
        assert parse_methods("gce,sce,gce+mr,mixup+sce+mr,base+gce") == [
            "gce", "sce", "mr+gce", "mr+mixup+sce"]

    @pytest.mark.parametrize("spec, match", [
        ("mr,bogus", "Unknown method component.*valid components"),
        ("mr+random", "at most one"),
        ("", "No method"),
        ("gce+sce", "at most one of gce and sce"),
        ("mr+ls+gce", "does not compose with gce"),
        ("arazo+sce", "does not compose with sce"),
    ])
    def test_bad(self, spec, match):
        with pytest.raises(ValueError, match=match):
            parse_methods(spec)


class TestRecipes:
    def test_paper_cifar_recipe(self):
        r = RECIPES["cifar10"]
        assert (r.arch, r.epochs, r.batch_size, r.lr, r.milestones, r.eta) == \
            ("resnet18", 200, 128, 0.1, (80, 120), 0.01)
        assert (r.weight_decay, RECIPES["cifar100"].weight_decay) == (5e-3, 1e-3)

    def test_clothing_recipe_has_eta_schedule(self):
        r = RECIPES["clothing1m"]
        assert (r.eta_milestones, r.eta_gamma, r.updates_per_epoch) == ((2, 6), 1.5, 2)

    def test_overrides_and_unknown_dataset(self):
        assert recipe_for("digits", epochs=3, lr=None).epochs == 3
        with pytest.raises(ValueError, match="valid: digits, mnist1d"):
            recipe_for("imagenet")

    def test_estimator_options_compose(self):
        net = make_estimator("mr+mixup+ls", RECIPES["cifar10"], n_classes=10, seed=1)
        assert net.eta == 0.01 and net.mixup_alpha == 1.0
        assert net.criterion__label_smoothing == 0.1
        assert net.optimizer__weight_decay == 5e-3
        base = make_estimator("base", RECIPES["cifar10"], n_classes=10, seed=1)
        assert base.eta == 0.0 and base.mixup_alpha == 0.0
        adam = make_estimator("mixup", recipe_for("cifar10", optimizer="adam"),
                              n_classes=10, seed=1)
        assert adam.mixup_alpha == 0.5 and adam.lr == 1e-3

    def test_robust_loss_estimators(self):
        from sk_mr.losses import GeneralizedCrossEntropy, SymmetricCrossEntropy
        net = make_estimator("mr+gce", RECIPES["digits"], n_classes=10, seed=0)
        assert net.criterion is GeneralizedCrossEntropy and net.criterion__q == 0.7
        assert net.eta == 0.01
        sce = make_estimator("sce", RECIPES["digits"], n_classes=10, seed=0)
        assert sce.criterion is SymmetricCrossEntropy and sce.eta == 0.0
        assert (sce.criterion__alpha, sce.criterion__beta, sce.criterion__A) == \
            (0.1, 1.0, -4.0)

    def test_clothing_estimator_uses_eta_schedule(self):
        net = make_estimator("mr", RECIPES["clothing1m"], n_classes=14, seed=0)
        assert net.updates_per_epoch == 2
        assert [net.eta(t) for t in (1, 2, 6)] == pytest.approx([0.01, 0.015, 0.0225])


class TestFormatTable:
    def test_layout_and_values(self):
        records = [dict(method=m, noise_rate=q, seed=s, test_accuracy=a)
                   for m, q, s, a in [("base", 0.0, 0, 0.9), ("base", 0.0, 1, 0.8),
                                      ("mr", 0.0, 0, 0.95), ("mr", 0.4, 0, 0.7)]]
        table = format_table(records, ["base", "mr"])
        lines = table.splitlines()
        assert lines[0].split() == ["noise", "base", "mr"]
        assert lines[2].split() == ["0%", "85.00+-7.07", "95.00+-0.00"]
        assert lines[3].split() == ["40%", "-", "70.00+-0.00"]

    def test_adversarial_layout_and_sample_std(self):
        from sk_mr.paper.reproduce.adversarial import format_adversarial_table

        records = [dict(method="mr", seed=s, attack=a, eps=e, accuracy=acc)
                   for s, a, e, acc in [(0, "none", 0.0, 0.9), (1, "none", 0.0, 0.8),
                                        (0, "pgd", 0.03, 0.4), (1, "pgd", 0.03, 0.6)]]
        lines = format_adversarial_table(records, ["mr"]).splitlines()
        # sample std of (90, 80): sqrt(50) = 7.07; of (40, 60): sqrt(200) = 14.14
        assert lines[-2].split()[-2:] == ["85.00+-7.07", "50.00+-14.14"]
        assert "sample std" in lines[-1]


class TestCLIValidation:
    @pytest.mark.parametrize("rate", ["1.0", "-0.1", "1.5"])
    def test_noise_rates_outside_unit_interval(self, rate, capsys):
        with pytest.raises(SystemExit):
            main(["reproduce", "noisy-labels", "--dataset", "digits", "--noise-rates", rate])
        assert "noise rates must lie in [0, 1)" in capsys.readouterr().err

    def test_unknown_dataset_lists_valid(self, capsys):
        with pytest.raises(SystemExit):
            main(["reproduce", "noisy-labels", "--dataset", "imagenet"])
        assert "digits" in capsys.readouterr().err

    def test_unknown_method(self, capsys):
        assert_usage_error(capsys, ["reproduce", "noisy-labels", "--dataset", "digits",
                                    "--methods", "mr,foo"], "valid components")


class TestNoisyLabelsEndToEnd:
    def test_tiny_grid_runs_saves_and_resumes(self, tmp_path, capsys):
        out = tmp_path / "results.json"
        argv = ["reproduce", "noisy-labels", "--dataset", "digits", "--epochs", "2",
                "--seeds", "1", "--noise-rates", "0", "0.4", "--methods",
                "base,mr+mixup+ls,random", "--limit-train", "200", "--limit-test", "100",
                "--out", str(out)]
        assert main(argv) == 0
        records = json.loads(out.read_text())
        assert len(records) == 6
        for r in records:
            assert {"dataset", "method", "noise_rate", "seed", "epochs", "test_accuracy",
                    "fit_seconds"} <= set(r)
            assert r["dataset"] == "digits" and r["epochs"] == 2
            assert 0 <= r["test_accuracy"] <= 1
            assert len(r["test_accuracy_curve"]) == 2
        noisy = [r for r in records if r["noise_rate"] == 0.4]
        assert all(0.25 < r["realized_noise"] < 0.5 for r in noisy)
        table = capsys.readouterr().out
        assert "base" in table and "mr+mixup+ls" in table and "oracle" in table

        # a rerun skips every finished cell
        assert main(argv) == 0
        assert len(json.loads(out.read_text())) == 6
        assert "6 of 6 cells are in the results file already" in capsys.readouterr().err

        # another configuration is refused, not mixed in
        assert_usage_error(capsys, argv[:5] + ["3"] + argv[6:], "another configuration")


class TestRunSettingsInResults:
    """Settings outside the recipe that change numbers are part of a file's config."""

    ARGV = ["reproduce", "noisy-labels", "--dataset", "digits", "--epochs", "1",
            "--seeds", "1", "--noise-rates", "0", "--methods", "gce,mr+sce",
            "--limit-train", "100", "--limit-test", "50"]

    def test_environment_config(self, tmp_path):
        import hashlib

        import torch

        from sk_mr.paper.reproduce.common import environment_config
        weights = tmp_path / "w.pt"
        weights.write_bytes(b"not really weights")
        config = environment_config("cuda:1", amp=True, num_workers=2,
                                    weights_path=str(weights))
        assert config == dict(
            device_type="cuda", amp=True, num_workers=2,
            pretrained_sha256=hashlib.sha256(b"not really weights").hexdigest(),
            torch_version=torch.__version__)
        assert environment_config()["pretrained_sha256"] is None

    def test_amp_results_are_not_mixed_with_float32_ones(self, tmp_path, capsys):
        out = tmp_path / "r.json"
        argv = self.ARGV + ["--out", str(out)]
        assert main(argv) == 0
        records = json.loads(out.read_text())
        assert sorted(r["method"] for r in records) == ["gce", "mr+sce"]
        for record in records:
            assert (record["amp"], record["device_type"], record["num_workers"],
                    record["pretrained_sha256"]) == (False, "cpu", 0, None)
            assert (record["recipe_gce_q"], record["recipe_sce_A"]) == (0.7, -4.0)
        assert_usage_error(capsys, argv + ["--amp"], "amp: file has False, this run True")
        assert_usage_error(capsys, argv + ["--num-workers", "1"],
                           "num_workers: file has 0, this run 1")

    def test_file_without_run_settings_is_refused(self, tmp_path, capsys):
        out = tmp_path / "r.json"
        assert main(self.ARGV + ["--out", str(out)]) == 0
        records = json.loads(out.read_text())
        for record in records:
            del record["torch_version"]
        out.write_text(json.dumps(records))
        assert_usage_error(capsys, self.ARGV + ["--out", str(out)],
                           "torch_version: file has no record of it")

    def test_adversarial_records_run_settings(self, tmp_path, capsys):
        out = tmp_path / "adv.json"
        argv = ["reproduce", "adversarial", "--dataset", "digits", "--epochs", "1",
                "--seeds", "1", "--methods", "base", "--limit-train", "60",
                "--limit-test", "20", "--pgd-steps", "1", "--eval-eps", "0.1",
                "--attacks", "fgsm", "--out", str(out)]
        assert main(argv) == 0
        assert all(r["amp"] is False and r["device_type"] == "cpu"
                   for r in json.loads(out.read_text()))
        assert_usage_error(capsys, argv + ["--amp"], "amp: file has False, this run True")


class TestAdversarialGrid:
    def test_parse(self):
        from sk_mr.paper.reproduce.adversarial import TABLE4_METHODS, parse_adversarial_methods
        assert parse_adversarial_methods(",".join(TABLE4_METHODS)) == list(TABLE4_METHODS)
        assert parse_adversarial_methods("mixup+mr,random+adv") == ["mr+mixup", "adv+random"]
        for bad, match in [("adv+trades", "adv and trades"), ("trades+mixup", "mixup"),
                           ("mr+random", "mr and random"), ("adv+pgdx", "valid components")]:
            with pytest.raises(ValueError, match=match):
                parse_adversarial_methods(bad)

    def test_estimators_compose_one_step_with_options(self):
        from sk_mr.adversarial import TRADES, FreeAdversarialTraining
        from sk_mr.paper.reproduce.adversarial import (ADVERSARIAL_RECIPES,
                                                       make_adversarial_estimator)
        recipe = ADVERSARIAL_RECIPES["cifar100"]
        net = make_adversarial_estimator("adv+mr+mixup", recipe, n_classes=100, seed=0)
        assert isinstance(net.adversarial, FreeAdversarialTraining)
        assert net.adversarial.replays == 6 and net.adversarial.eps == pytest.approx(8 / 255)
        assert net.max_epochs == 34  # ceil(200 / 6): Shafahi et al.'s budget
        assert net.eta == 0.01 and net.mixup_alpha == 1.0
        trades = make_adversarial_estimator("trades+mr", recipe, n_classes=100, seed=0)
        assert isinstance(trades.adversarial, TRADES) and trades.max_epochs == 200
        assert (trades.adversarial.beta, trades.adversarial.steps) == (6.0, 10)
        base = make_adversarial_estimator("base", recipe, n_classes=100, seed=0)
        assert base.adversarial is None and base.eta == 0.0

    def test_tiny_cli_run_and_resume(self, tmp_path, capsys):
        out = tmp_path / "adv.json"
        argv = ["reproduce", "adversarial", "--dataset", "digits", "--epochs", "2",
                "--seeds", "1", "--methods", "base,adv+mr", "--limit-train", "150",
                "--limit-test", "40", "--pgd-steps", "2", "--eval-eps", "0.1",
                "--out", str(out)]
        assert main(argv) == 0
        records = json.loads(out.read_text())
        assert {(r["method"], r["attack"]) for r in records} == {
            (m, a) for m in ("base", "adv+mr") for a in ("none", "pgd", "fgsm")}
        for r in records:
            assert {"dataset", "method", "seed", "attack", "eps", "accuracy"} <= set(r)
        table = capsys.readouterr().out
        assert "Adv.+MR" in table and "Natural" in table and "PGD" in table
        assert main(argv) == 0
        assert len(json.loads(out.read_text())) == len(records)


class TestOneGridRunner:
    """Both commands train their cells with common.run_grid."""

    def test_skips_stored_cells_and_saves_each_cell_as_it_finishes(self, tmp_path):
        import io

        from sk_mr.paper.reproduce.common import run_grid
        path = tmp_path / "r.json"
        store = ResultStore(path, {"grid": "g"}, ("seed",), result_keys=("value",))
        store.add({"seed": 0, "value": 0.0})
        on_disk_at_each_call = []

        def train_cell(seed):
            on_disk_at_each_call.append(sorted(r["seed"] for r in json.loads(path.read_text())))
            return {"seed": seed, "value": seed / 10}

        log = io.StringIO()
        records = run_grid(train_cell, [{"seed": s} for s in (0, 1, 2)], store,
                           describe=lambda r: f"seed {r['seed']} done", log=log)
        # cell 0 is stored: not trained again; cell 1 is on disk before cell 2 trains
        assert on_disk_at_each_call == [[0], [0, 1]]
        assert [(r["seed"], r["value"]) for r in records] == [(0, 0.0), (1, 0.1), (2, 0.2)]
        assert log.getvalue().splitlines() == [
            "1 of 3 cells are in the results file already; skipping them",
            "[1/2] seed 1 done", "[2/2] seed 2 done"]

    def test_cells_in_processes_give_the_same_records(self):
        import functools

        from sk_mr.paper.reproduce.common import run_grid
        train_cell = functools.partial(dict, kind="square")  # picklable, returns the cell

        def run(n_jobs):
            store = ResultStore(None, {}, ("seed",))
            records = run_grid(train_cell, [{"seed": s} for s in range(4)], store,
                               describe=str, n_jobs=n_jobs, log=None)
            return sorted(records, key=lambda r: r["seed"])

        assert run(2) == run(1) == [{"kind": "square", "seed": s} for s in range(4)]

    def test_both_commands_run_through_it(self, monkeypatch, tmp_path):
        from sk_mr.paper.reproduce import adversarial, common, noisy_labels
        assert noisy_labels.run_grid is common.run_grid is adversarial.run_grid
        calls = []

        def spy(train_cell, cells, store, **kwargs):
            calls.append((cells, store.cell_keys))
            return common.run_grid(train_cell, cells, store, **kwargs)

        monkeypatch.setattr(noisy_labels, "run_grid", spy)
        monkeypatch.setattr(adversarial, "run_grid", spy)
        small = ["--dataset", "digits", "--epochs", "1", "--seeds", "1",
                 "--limit-train", "60", "--limit-test", "20"]
        assert main(["reproduce", "noisy-labels", *small, "--noise-rates", "0.2",
                     "--methods", "base,mr", "--out", str(tmp_path / "n.json")]) == 0
        assert main(["reproduce", "adversarial", *small, "--methods", "base",
                     "--pgd-steps", "1", "--eval-eps", "0.1", "--attacks", "fgsm",
                     "--out", str(tmp_path / "a.json")]) == 0
        assert calls == [
            ([{"method": "base", "noise_rate": 0.2, "seed": 0},
              {"method": "mr", "noise_rate": 0.2, "seed": 0}], ("method", "noise_rate", "seed")),
            ([{"method": "base", "seed": 0}], ("method", "seed"))]


class TestDaskScheduler:
    def test_cells_run_on_a_dask_cluster_and_resume(self, tmp_path, capsys):
        distributed = pytest.importorskip(
            "dask.distributed", reason="the Dask scheduler needs dask[distributed] "
            "(pip install 'dask[distributed]'; make test installs it)")
        LocalCluster = distributed.LocalCluster
        argv = ["reproduce", "noisy-labels", "--dataset", "digits", "--epochs", "2",
                "--seeds", "2", "--noise-rates", "0.4", "--methods", "base,mr",
                "--limit-train", "150", "--limit-test", "80"]
        assert main(argv + ["--out", str(tmp_path / "local.json")]) == 0
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        try:
            out = tmp_path / "cluster.json"
            assert main(argv + ["--out", str(out), "--scheduler", cluster.scheduler_address]) == 0
            # a rerun on the cluster skips the finished cells
            assert main(argv + ["--out", str(out), "--scheduler", cluster.scheduler_address]) == 0
            assert "4 of 4 cells are in the results file already" in capsys.readouterr().err
        finally:
            cluster.close()

        def key(r):
            return r["method"], r["seed"]

        local = sorted(json.loads((tmp_path / "local.json").read_text()), key=key)
        remote = sorted(json.loads(out.read_text()), key=key)
        assert [key(r) for r in remote] == [key(r) for r in local]
        # every cell is seeded: the cluster's workers compute the same results
        for a, b in zip(local, remote):
            assert a["test_accuracy"] == b["test_accuracy"]
            assert a["test_accuracy_curve"] == b["test_accuracy_curve"]
