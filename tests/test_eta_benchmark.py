"""The eta benchmark (benchmarks/eta.py): its --quick grid, resume, the auto glue, the table."""

import json
import math
import re

import numpy as np
import pytest
import torch

from conftest import load_script


@pytest.fixture(scope="module")
def eta_benchmark():
    return load_script("benchmarks/eta.py", "eta_benchmark")


@pytest.fixture
def default_without_relabel(eta_benchmark, monkeypatch):
    """The default as it was before label correction (eta='auto', the online
    pass, cross-entropy), whose cells a setting without 'default' records
    borrows from 'online:auto'."""
    monkeypatch.setattr(eta_benchmark, "_default_config", lambda: dict(
        eta="auto", criterion="AutoCrossEntropyLoss", relabel=None))


class TestQuickRun:
    def test_quick_grid_saves_resumes_and_refuses_other_settings(self, eta_benchmark,
                                                                  tmp_path, capsys):
        pytest.importorskip("cleanlab")
        out = tmp_path / "eta.jsonl"
        argv = ["--quick", "--seeds", "2", "--out", str(out)]
        assert eta_benchmark.main(argv) == 0
        records = [json.loads(line) for line in out.read_text().splitlines()]
        methods = eta_benchmark.MULTICLASS_METHODS  # the binary ones are B1-B3's
        assert len(records) == 2 * 2 * len(methods)
        assert {(r["setting"], r["method"], r["seed"]) for r in records} == {
            (s, m, seed) for s in ("Q1", "Q2") for m in methods for seed in (0, 1)}
        for r in records:
            assert r["config"] == eta_benchmark.QUICK_SETTINGS[r["setting"]].config()
            assert r["torch_version"] == torch.__version__
            assert r["seconds"] > 0
        # a record's accuracy is its fit's: the plain net of Q2, seed 1, refitted here
        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        X, _, X_test, y_test, _ = eta_benchmark.load_data(setting)
        y_noisy, _ = eta_benchmark.noisy_labels(setting, 1)
        torch.manual_seed(1)
        net = eta_benchmark.plain_net(setting, 1).fit(X, y_noisy)
        [plain] = [r for r in records if (r["setting"], r["method"], r["seed"])
                   == ("Q2", "plain", 1)]
        assert plain["test_accuracy"] == np.mean(net.predict(X_test) == y_test)
        # the rule's constants as documented (AutoEta's docstring), recorded with each fit
        auto = [r for r in records if r["method"].endswith("auto")]
        assert all(r["rule"] == dict(ramp_fraction=0.15, kl_scale=1.5, hard_fraction=0.1,
                                     window=3, stability=0.25, confident_ratio=2.0,
                                     confident_gate=0.5, confident_stability=0.1)
                   for r in auto)
        assert all(len(r["etas"]) == eta_benchmark.QUICK_SETTINGS[r["setting"]].epochs
                   for r in auto)
        grid = [r for r in records if r["method"] == "gridsearch"]
        assert all(r["fits"] == 16 and r["selected_eta"] in eta_benchmark.ETA_GRID
                   for r in grid)
        table = capsys.readouterr().out
        for word in ("auto", "oracle", "gridsearch", "cleanlab", "auto - oracle",
                     "loss_pass"):
            assert word in table

        # a rerun trains nothing
        assert eta_benchmark.main(argv) == 0
        assert f"{len(records)} of {len(records)} cells already" in capsys.readouterr().err
        assert len(out.read_text().splitlines()) == len(records)

        # records of another configuration of a setting are refused
        changed = dict(records[0], config=dict(records[0]["config"], epochs=99))
        out.write_text("\n".join(json.dumps(r) for r in [changed] + records[1:]) + "\n")
        with pytest.raises(ValueError, match="'config' of Q1"):
            eta_benchmark.main(argv)
        # and so is a second record of a cell, which a table would average in
        out.write_text("\n".join(json.dumps(r) for r in records + [records[3]]) + "\n")
        key = records[3]
        with pytest.raises(ValueError, match=re.escape(
                f"line {len(records) + 1}: a second record of {key['setting']} / "
                f"{key['method']} / seed {key['seed']} (the first is on line 4)")):
            eta_benchmark.ResultsFile(str(out), eta_benchmark.QUICK_SETTINGS)


class TestAutoGlue:
    def test_weights_follow_the_rule(self, eta_benchmark):
        from sk_mr.mw import mw_probabilities

        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        X, _, _, _, n_classes = eta_benchmark.load_data(setting)
        y, _ = eta_benchmark.noisy_labels(setting, 0)
        net = eta_benchmark.mr_net(setting, 0, "auto")
        eta_benchmark._fit(net, X, y, 0)
        rule = net.mr_.eta_rule_
        # one eta per update, recorded in the history as mr_eta
        assert list(net.history[:, "mr_eta"]) == rule.etas_
        assert rule.n_updates_ == setting.epochs
        # the weights are softmax(-eta L) with the last eta
        expected = mw_probabilities(torch.as_tensor(net.cumulative_losses_), rule.etas_[-1])
        np.testing.assert_allclose(net.sample_weights_, expected.numpy(), rtol=1e-9)
        # chance level of cross-entropy: ln K
        assert net.chance_loss() == pytest.approx(math.log(n_classes))
        # the rule's input, by hand: the last update's losses are the full
        # pass at the final parameters (eval mode), and its misfit fraction is
        # the share of them above ln K
        net.module_.eval()
        with torch.no_grad():
            losses = torch.nn.functional.cross_entropy(
                net.module_(torch.as_tensor(X)), torch.as_tensor(y), reduction="none")
        assert rule.misfit_fractions_[-1] == pytest.approx(
            float((losses.double() > math.log(n_classes)).double().mean()), abs=1e-12)

    def test_previous_rule_reads_no_confident_count(self, eta_benchmark, tmp_path,
                                                    monkeypatch):
        # 'online:auto_lnk' is eta='auto' before its confident count: every
        # update steps a rule without it, and its record says so
        from sk_mr.mw import AutoEta

        ratios, step = [], AutoEta.step
        monkeypatch.setattr(AutoEta, "step", lambda self, *a, **k: (
            ratios.append(self.confident_ratio), step(self, *a, **k))[1])
        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        eta_benchmark.run_method(setting, "online:auto_lnk", 0)
        assert ratios == [None] * setting.epochs
        ratios.clear()
        eta_benchmark.run_method(setting, "online:auto", 0)
        assert ratios == [2.0] * setting.epochs
        results = eta_benchmark.ResultsFile(str(tmp_path / "r.jsonl"),
                                            eta_benchmark.QUICK_SETTINGS)
        assert results._expected(dict(setting="Q2", method="online:auto_lnk"))["rule"][
            "confident_ratio"] is None
        assert results._expected(dict(setting="Q2", method="online:auto"))["rule"][
            "confident_ratio"] == 2.0

    def test_records_name_the_cpu_and_still_mix_across_cpus(self, eta_benchmark,
                                                            tmp_path, monkeypatch):
        # every new record names the CPU it was made on; a record of
        # another CPU (or none, as the records before the field) loads
        # beside it, since the CPU is not part of what a record must match
        import json

        path = str(tmp_path / "r.jsonl")
        settings = eta_benchmark.QUICK_SETTINGS
        result = dict(test_accuracy=0.5, fits=1, seconds=0.1)
        monkeypatch.setattr(eta_benchmark, "cpu_name", lambda: "CPU one")
        eta_benchmark.ResultsFile(path, settings).add("Q2", "plain", 0, result)
        monkeypatch.setattr(eta_benchmark, "cpu_name", lambda: "CPU two")
        eta_benchmark.ResultsFile(path, settings).add("Q2", "plain", 1, result)
        with open(path) as f:
            records = [json.loads(line) for line in f]
        assert [r["cpu"] for r in records] == ["CPU one", "CPU two"]
        del records[0]["cpu"]
        with open(path, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in records))
        loaded = eta_benchmark.ResultsFile(path, settings).records
        assert [r.get("cpu") for r in loaded] == [None, "CPU two"]

    def test_partial_fit_continues_the_rule(self, eta_benchmark):
        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        X, _, _, _, _ = eta_benchmark.load_data(setting)
        y, _ = eta_benchmark.noisy_labels(setting, 0)
        net = eta_benchmark.mr_net(setting, 0, "auto")
        net.set_params(max_epochs=2)
        net.fit(X, y)
        net.partial_fit(X, y)
        rule = net.mr_.eta_rule_
        assert rule.n_updates_ == 4 and net.mr_.planned_epochs_ == 4
        assert list(net.history[:, "mr_eta"]) == rule.etas_


    def test_two_updates_per_epoch_and_online_losses(self, eta_benchmark):
        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        X, _, _, _, _ = eta_benchmark.load_data(setting)
        y, _ = eta_benchmark.noisy_labels(setting, 0)
        net = eta_benchmark.mr_net(setting, 0, "auto", loss_pass="online")
        net.set_params(updates_per_epoch=2)
        eta_benchmark._fit(net, X, y, 0)
        rule = net.mr_.eta_rule_
        assert rule.n_updates_ == 2 * setting.epochs == net.mr_.n_updates_
        # the last update of each epoch is the one the history keeps
        assert list(net.history[:, "mr_eta"]) == rule.etas_[1::2]


class TestTable:
    def test_oracle_is_the_best_grid_mean_and_costs_add_up(self, eta_benchmark):
        setting = eta_benchmark.QUICK_SETTINGS["Q1"]
        accuracy = {0.003: (0.5, 0.6), 0.01: (0.7, 0.7), 0.03: (0.9, 0.7),
                    0.1: (0.6, 0.6), 0.3: (0.1, 0.2)}
        records = [dict(setting="Q1", method=f"eta={eta:g}", seed=s, test_accuracy=a,
                        fits=1, seconds=2.0)
                   for eta, accs in accuracy.items() for s, a in enumerate(accs)]
        records += [dict(setting="Q1", method="auto", seed=s, test_accuracy=a, fits=1,
                         seconds=3.0, etas=[0.0, 0.05]) for s, a in enumerate((0.8, 0.7))]
        [row] = eta_benchmark.summarize(records, {"Q1": setting})
        assert row["oracle_eta"] == 0.03  # mean 0.8 beats 0.01's 0.7
        assert row["oracle"]["mean"] == pytest.approx(80.0)
        assert row["oracle"]["std"] == pytest.approx(100 * np.std([0.9, 0.7], ddof=1))
        assert (row["oracle"]["fits"], row["oracle"]["seconds"]) == (5, 10.0)
        assert row["default"]["mean"] == pytest.approx(70.0)
        assert row["auto"]["mean"] == pytest.approx(75.0)
        report = eta_benchmark.goal_report([row])
        assert "auto - oracle mean -5.00" in report and "NOT met" in report

    def test_rst_table_gives_every_column(self, eta_benchmark):
        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        records = [dict(setting="Q2", method=f"eta={eta:g}", seed=s,
                        test_accuracy=0.5 + 0.1 * i + 0.01 * s, fits=1, seconds=1.0)
                   for i, eta in enumerate(eta_benchmark.ETA_GRID) for s in range(2)]
        records += [dict(setting="Q2", method="plain", seed=s, test_accuracy=0.4, fits=1,
                         seconds=0.5) for s in range(2)]
        text = eta_benchmark.format_rst(eta_benchmark.summarize(records, {"Q2": setting}))
        lines = text.splitlines()
        assert lines[0].startswith(".. list-table:: Clean test accuracy")
        first = lines.index("   * - Q2 (held out)")
        cells = [line[len("     - "):] for line in lines[first + 1:first + 10]]
        columns = list(eta_benchmark.COLUMNS)
        # the oracle is eta=0.3 (the last, highest grid value): mean 90.5, std 0.7
        assert cells[columns.index("oracle")] == "**90.5 ± 0.7 (0.3)**"
        assert cells[columns.index("default")] == "60.5 ± 0.7"
        assert cells[columns.index("plain")] == "40.0 ± 0.0"
        assert cells[columns.index("auto")] == "-"
        assert "   * - Q2 (held out)" in lines[first + 10:]  # the cost table
        costs = lines[lines.index("   * - Q2 (held out)", first + 1) + 1:]
        assert costs[columns.index("oracle")] == "     - 5 / 5 s"

    def test_paired_differences_by_hand(self, eta_benchmark):
        settings = {"Q1": eta_benchmark.QUICK_SETTINGS["Q1"],
                    "Q2": eta_benchmark.QUICK_SETTINGS["Q2"]}
        a = {0: 0.90, 1: 0.80, 2: 0.70}  # seed -> accuracy
        b = {0: 0.85, 1: 0.82, 3: 0.99}  # seed 3 has no partner, seed 2 neither
        records = [dict(setting="Q1", method="default", seed=k, test_accuracy=v,
                        etas=[0.0, 0.02 * k]) for k, v in a.items()]
        records += [dict(setting="Q1", method="plain", seed=k, test_accuracy=v)
                    for k, v in b.items()]
        records.append(dict(setting="Q2", method="plain", seed=0, test_accuracy=0.5))
        [row] = eta_benchmark.paired_differences(records, "default", "plain", settings)
        # seeds 0 and 1: differences +5 and -2 points, mean 1.5, sample std 4.95
        name, n, mean_a, mean_b, diff, std, eta = row
        assert (name, n) == ("Q1", 2)
        assert (mean_a, mean_b) == (pytest.approx(85.0), pytest.approx(83.5))
        assert diff == pytest.approx(1.5)
        assert std == pytest.approx(np.std([5.0, -2.0], ddof=1))
        assert eta == pytest.approx(0.02)  # seed 2's 0.04 is not among the paired seeds
        text = eta_benchmark.format_paired([row], "default", "plain")
        assert text.splitlines()[-1].split() == ["Q1", "2", "85.00", "83.50", "+1.50", "+-",
                                                 "4.95", "0.02"]


class TestRecords:
    """The cell index of the records the tables read: the same cells as a
    scan, and never stale after the list changes."""

    @staticmethod
    def _scan(records, setting, method):
        return [r for r in records if r["setting"] == setting and r["method"] == method]

    def test_cells_are_the_scans_in_order_through_every_change(self, eta_benchmark):
        rng = np.random.default_rng(0)
        records = eta_benchmark.Records(
            dict(setting=f"S{rng.integers(3)}", method=f"m{rng.integers(3)}", seed=i)
            for i in range(40))
        cells = [(f"S{s}", f"m{m}") for s in range(4) for m in range(4)]

        def check():
            for cell in cells:
                assert records.cell(*cell) == self._scan(records, *cell)

        check()  # the index is built here; each change below must drop it
        records.append(dict(setting="S0", method="m0", seed=100))
        check()
        records[0] = dict(setting="S3", method="m3", seed=101)
        check()
        del records[1:5]
        check()
        records.extend([dict(setting="S1", method="m2", seed=102)])
        records += [dict(setting="S2", method="m1", seed=103)]
        check()
        records.insert(0, dict(setting="S0", method="m0", seed=104))
        records.pop(); records.remove(records[3]); records.reverse()
        check()
        records.sort(key=lambda r: r["seed"])
        check()
        both = records + [dict(setting="S0", method="m0", seed=105)]
        assert isinstance(both, eta_benchmark.Records)
        assert both.cell("S0", "m0") == self._scan(both, "S0", "m0")
        assert [r["seed"] for r in both.cell("S0", "m0")][-1] == 105
        records.clear()
        assert records.cell("S0", "m0") == []
        # what cell() returns is the caller's: changing it changes no index
        records.append(dict(setting="S0", method="m0", seed=106))
        records.cell("S0", "m0").append(dict(setting="S0", method="m0", seed=107))
        assert [r["seed"] for r in records.cell("S0", "m0")] == [106]

    def test_results_file_gives_indexed_records_and_tables_agree(self, eta_benchmark,
                                                                  tmp_path):
        setting = eta_benchmark.QUICK_SETTINGS["Q1"]
        results = eta_benchmark.ResultsFile(str(tmp_path / "r.jsonl"), {"Q1": setting})
        assert isinstance(results.records, eta_benchmark.Records)
        accuracy = {0.003: (0.5, 0.6), 0.01: (0.7, 0.7), 0.03: (0.9, 0.7),
                    0.1: (0.6, 0.6), 0.3: (0.1, 0.2)}
        for eta, accs in accuracy.items():
            for seed, a in enumerate(accs):
                results.add("Q1", f"eta={eta:g}", seed, dict(test_accuracy=a, fits=1,
                                                             seconds=2.0))
        # the table of the indexed records and of a plain list of them
        indexed = eta_benchmark.summarize(results.records, {"Q1": setting})
        plain = eta_benchmark.summarize(list(results.records), {"Q1": setting})
        assert indexed == plain and indexed[0]["oracle_eta"] == 0.03
        # a cell added after the table was read is in the next one
        results.add("Q1", "eta=0.3", 2, dict(test_accuracy=1.0, fits=1, seconds=2.0))
        assert len(results.records.cell("Q1", "eta=0.3")) == 3
        [row] = eta_benchmark.summarize(results.records, {"Q1": setting})
        assert row["oracle_eta"] == 0.03  # 0.3's mean (0.1 + 0.2 + 1.0) / 3 = 0.43


class TestSplit:
    def test_shipped_split_and_the_best_epoch_by_an_independent_refit(self, eta_benchmark):
        from skorch.dataset import ValidSplit

        from sk_mr import MRClassifier

        split = eta_benchmark._shipped_train_split(MRClassifier)
        assert isinstance(split, ValidSplit) and (split.cv, split.stratified) == (5, True)
        assert split is not eta_benchmark._shipped_train_split(MRClassifier)

        setting = eta_benchmark.QUICK_SETTINGS["Q2"]
        X, _, X_test, y_test, _ = eta_benchmark.load_data(setting)
        y_noisy, _ = eta_benchmark.noisy_labels(setting, 0)
        record = eta_benchmark.run_method(setting, "split:plain", 0)

        def refit(max_epochs):  # skorch's NeuralNetClassifier as it ships, by hand
            from skorch import NeuralNetClassifier

            params = eta_benchmark.net_params(setting, 0)
            del params["train_split"]
            params["max_epochs"] = max_epochs
            torch.manual_seed(0)
            return NeuralNetClassifier(criterion=torch.nn.CrossEntropyLoss,
                                       **params).fit(X, y_noisy)

        full = refit(setting.epochs)
        assert len(full.history) == record["epochs_run"] == setting.epochs
        batches = full.history[-1, "batches"]
        train = sum(b.get("train_batch_size", 0) for b in batches)
        valid = sum(b.get("valid_batch_size", 0) for b in batches)
        assert train + valid == len(X) and abs(valid - len(X) / 5) <= 3  # 20%, stratified
        assert record["test_accuracy"] == np.mean(full.predict(X_test) == y_test)
        # the best validation epoch: the first with the highest valid_acc
        accs = full.history[:, "valid_acc"]
        assert record["best_valid_acc_epoch"] == int(np.argmax(accs)) + 1
        # its parameters are those of a fit stopped there (same seed, same batches)
        short = refit(record["best_valid_acc_epoch"])
        assert record["test_accuracy_best_valid_acc"] == np.mean(
            short.predict(X_test) == y_test)

    def test_split_table_by_hand(self, eta_benchmark):
        records = [dict(setting="Q1", method="split:default", seed=s, test_accuracy=last,
                        test_accuracy_best_valid_acc=best, fits=1, seconds=1.0)
                   for s, (last, best) in enumerate(((0.70, 0.66), (0.80, 0.78)))]
        records += [dict(setting="Q1", method="default", seed=s, test_accuracy=a, fits=1,
                         seconds=1.0) for s, a in enumerate((0.8, 0.9))]
        [row] = eta_benchmark.split_rows(records, ["Q1"])
        assert row["cells"]["default, last"]["mean"] == pytest.approx(75.0)
        assert row["cells"]["default, best valid_acc"]["std"] == pytest.approx(
            100 * np.std([0.66, 0.78], ddof=1))
        text = eta_benchmark.format_split([row])
        assert ("default: the best validation epoch minus the last, -3.00 on average over "
                "1 settings") in text
        assert "every row: -10.00 on average over 1 settings" in text
        assert eta_benchmark.split_rows(records[2:], ["Q1"]) == []


class TestBinary:
    def test_binary_settings_run_one_logit_nets_with_the_estimators_default(
            self, eta_benchmark):
        import dataclasses

        from sk_mr import MRBinaryClassifier

        setting = dataclasses.replace(eta_benchmark.SETTINGS["B3"], epochs=2)
        assert eta_benchmark.default_methods(setting) == eta_benchmark.BINARY_METHODS
        assert eta_benchmark.default_methods(eta_benchmark.SETTINGS["G1"]) == \
            eta_benchmark.MULTICLASS_METHODS
        record = eta_benchmark.run_method(setting, "binary:default", 0)
        # MRBinaryClassifier's own default eta, recorded at every update
        default_eta = MRBinaryClassifier(torch.nn.Linear).eta
        assert record["etas"] == [default_eta] * 2
        auto = eta_benchmark.run_method(setting, "binary:auto", 0)
        assert len(auto["auto_etas"]) == 2 and auto["max_misfit"] >= 0
        with pytest.raises(ValueError, match="Unknown binary method"):
            eta_benchmark.run_method(setting, "binary:sce", 0)

    def test_binary_oracle_is_the_best_grid_mean_default_eta_included(self, eta_benchmark):
        base = dict(setting="B1", seed=0, fits=1, seconds=1.0)
        accuracy = {"binary:default": 0.8, "binary:eta=0.003": 0.5, "binary:eta=0.03": 0.6,
                    "binary:eta=0.1": 0.7, "binary:eta=0.3": 0.2, "binary:plain": 0.9}
        records = [dict(base, method=m, test_accuracy=a) for m, a in accuracy.items()]
        row = next(r for r in eta_benchmark.binary_rows(records) if r["setting"] == "B1")
        # the default (eta=0.01) is the grid's 0.01 cell: it wins the grid here
        assert row["cells"]["oracle"]["eta"] == 0.01
        assert row["cells"]["oracle"]["mean"] == pytest.approx(80.0)
        assert row["cells"]["oracle"]["fits"] == 5
        assert row["cells"]["binary:plain"]["mean"] == pytest.approx(90.0)
        # B2 and B3 have no records: no oracle
        assert all("oracle" not in r["cells"] for r in eta_benchmark.binary_rows(records)
                   if r["setting"] != "B1")


def test_default_method_is_the_estimator_as_it_ships(eta_benchmark):
    # 'default' sets nothing MR-specific but the seed: eta, criterion and the
    # loss pass are MRClassifier's own, whatever loss_pass the caller passes
    from sk_mr import MRClassifier

    setting = eta_benchmark.QUICK_SETTINGS["Q1"]
    shipped = MRClassifier(module=torch.nn.Linear).get_params()
    for loss_pass in ("full", "online"):
        params = eta_benchmark.mr_net(setting, 0, "default", loss_pass).get_params()
        for name in ("eta", "criterion", "loss_pass", "mixup_alpha", "relabel"):
            assert params[name] == shipped[name], name
    assert eta_benchmark.mr_net(setting, 0, 0.01, "full").get_params()["loss_pass"] == "full"
    # every other method trains on the given labels, as recorded before
    # label correction became the default
    assert shipped["relabel"] == "auto"
    for eta in ("auto", 0.01):
        assert eta_benchmark.mr_net(setting, 0, eta, "online").get_params()["relabel"] is None


def test_a_float_eta_as_it_ships_is_the_grids_cell(eta_benchmark):
    # The goal line on eta='auto' compares the default with the grid's best
    # eta because MRClassifier(module, eta=v) as it ships (relabel='auto',
    # fallback_loss='sce', average_weights=0.1 left as they are: they act
    # under eta='auto' only) trains exactly as the grid's cell online:eta=v
    setting = eta_benchmark.QUICK_SETTINGS["Q1"]
    X, _, _, _, _ = eta_benchmark.load_data(setting)
    y, _ = eta_benchmark.noisy_labels(setting, 0)
    shipped = eta_benchmark.mr_net(setting, 0, "default")
    assert shipped.get_params()["relabel"] == "auto"
    assert shipped.get_params()["average_weights"] == 0.1
    shipped.set_params(eta=0.1)
    cell = eta_benchmark.mr_net(setting, 0, 0.1, "online")
    for net in (shipped, cell):
        eta_benchmark._fit(net, X, y, 0)
    ours, theirs = shipped.module_.state_dict(), cell.module_.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours)
    # MR acted (the weights left uniform), and under eta='auto' the same
    # defaults change the fit: the equality is not vacuous
    weights = shipped.sample_weights_
    assert weights.max() / weights.min() > 1.3
    auto = eta_benchmark.mr_net(setting, 0, "default")
    eta_benchmark._fit(auto, X, y, 0)
    assert not all(torch.equal(auto.module_.state_dict()[k], theirs[k]) for k in ours)


def test_auto_goal_lines_by_hand(eta_benchmark):
    # F1 noisy: default 80, MR auto 70, grid 60 66 72 78 70 (best 78);
    # J1 noisy: default 60, MR auto 61, grid 60 64 62 61 50 (best 64)
    grids = {"F1": (0.60, 0.66, 0.72, 0.78, 0.70), "J1": (0.60, 0.64, 0.62, 0.61, 0.50)}
    records = [r for name, accuracies in grids.items()
               for eta, a in zip(eta_benchmark.ETA_GRID, accuracies)
               for r in _cells(name, f"online:eta={eta:g}", (a, a))]
    records += (_cells("F1", "default", (0.79, 0.81)) + _cells("F1", "online:auto", (0.7, 0.7))
                + _cells("J1", "default", (0.60, 0.60)) + _cells("J1", "online:auto", (0.61,) * 2))
    settings = {n: eta_benchmark.SETTINGS[n] for n in grids}
    lines = eta_benchmark.heldout_goals(eta_benchmark.heldout_rows(records, settings))
    # the default: F1 80 - 78 = +2, J1 60 - 64 = -4
    assert ("eta='auto' as it ships (the default) - best grid eta over 2 settings: -1.00 on "
            "average (goal >= -1), worst -4.00 on J1 (goal >= -2.5), more than 2.5 behind "
            "on 1 -> NOT met") in lines
    # the rule alone: F1 70 - 78 = -8, J1 61 - 64 = -3
    assert ("the eta='auto' rule alone (MR auto: relabel=None, no weight averaging) - best "
            "grid eta over 2 settings: -5.50 on average, worst -8.00 on F1") in lines


def test_the_default_borrows_no_cells_while_it_corrects_labels(eta_benchmark):
    # no other method corrects labels: F1 without 'default' cells has none
    records = [dict(setting="F1", method="online:auto", seed=0, test_accuracy=0.7, fits=1,
                    seconds=1.0)]
    assert eta_benchmark._default_config()["relabel"] == "auto"
    assert eta_benchmark._default_method(records, "F1") == "default"


def _cells(setting, method, accuracies, **extra):
    """Records of one cell, seed by seed (one fit of a second each)."""
    return [dict(setting=setting, method=method, seed=seed, test_accuracy=accuracy, fits=1,
                 seconds=1.0, **extra) for seed, accuracy in enumerate(accuracies)]


def test_which_method_ranks_the_default_across_rounds_by_hand(eta_benchmark,
                                                              default_without_relabel):
    # F1's default is read off its online:auto cells, J1 has cells of its own:
    # the group's "MR default" averages both, and "MR auto" is not a second entry
    records = (_cells("F1", "online:auto", (0.70, 0.74)) + _cells("J1", "default", (0.50, 0.60))
               + _cells("F1", "plain", (0.71, 0.71)) + _cells("J1", "plain", (0.63, 0.63)))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "J1")}
    rows = eta_benchmark.heldout_rows(records, settings)
    assert [r["default_source"] for r in rows] == ["online:auto", "default"]
    [(group, members, ranking)] = eta_benchmark.which_method(rows)
    assert (group, members) == ("pairflip noise", ["F1", "J1"])
    assert [(round(m, 6), label) for m, label, _ in ranking] == [
        (67.0, "plain CE"), (63.5, "MR default")]  # (72 + 55) / 2


def test_heldout_goal_lines_by_hand(eta_benchmark, default_without_relabel):
    # F1 noisy: default 70, peers SCE 80 / plain 60, grid search 75;
    # J1 noisy: default 60, peers SCE 58 / plain 59; F3 clean: default 97, plain 97.6
    records = (_cells("F1", "online:auto", (0.70, 0.70)) + _cells("F1", "sce", (0.80, 0.80))
               + _cells("F1", "plain", (0.60, 0.60)) + _cells("F1", "gridsearch", (0.74, 0.76))
               + _cells("J1", "default", (0.60, 0.60)) + _cells("J1", "sce", (0.58, 0.58))
               + _cells("J1", "plain", (0.59, 0.59))
               + _cells("F3", "online:auto", (0.97, 0.97)) + _cells("F3", "plain", (0.976,) * 2))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "J1", "F3")}
    lines = eta_benchmark.heldout_goals(eta_benchmark.heldout_rows(records, settings))
    assert "F1: default 70.0 vs best one-fit peer sce 80.0: -10.0" in lines
    assert "J1: default 60.0 vs best one-fit peer plain 59.0: +1.0" in lines
    assert ("noisy settings (2): default - best one-fit peer -4.50 on average (goal >= +1), "
            "worst -10.00 (goal >= -1) -> NOT met") in lines
    # SCE's mean over F1 and J1 (69) beats plain's (59.5)
    assert "default - the peer best on average (sce): -4.00 on average, worst -10.00" in lines
    assert "clean F3: default - plain -0.60 (goal >= -0.5) -> NOT met" in lines
    assert "clean settings (1): default - plain >= -0.5 on 0 of 1, worst -0.60 -> NOT met" \
        in lines
    assert ("GridSearchCV over eta (16 fits) - default (1 fit): +5.00 on average over the 1 "
            "noisy settings where it ran, from +5.00 to +5.00") in lines


def test_clean_goal_on_one_stream_by_hand(eta_benchmark, default_without_relabel):
    # F3: the default 97.0 and plain 97.6 on streams of their own; on one
    # stream, differences of 0 (the same parameters) and -0.8 (not)
    same = _cells("F3", "global_rng:default", (0.97, 0.962), plain_test_accuracy=0.97)
    for record, gap, parameters in zip(same, (0.0, -0.008), (0.0, 0.25)):
        record.update(difference=gap, max_parameter_difference=parameters)
    # F4: no one-stream records, so streams of their own decide
    records = (_cells("F3", "online:auto", (0.97, 0.97)) + _cells("F3", "plain", (0.976,) * 2)
               + same + _cells("F4", "online:auto", (0.80, 0.80))
               + _cells("F4", "plain", (0.81, 0.81)))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F3", "F4")}
    rows = eta_benchmark.heldout_rows(records, settings)
    assert rows[0]["identical"] == 1 and "same_stream" not in rows[1]
    lines = eta_benchmark.heldout_goals(rows)
    # (0 - 0.8) / 2 = -0.4: the one-stream mean decides, not -0.6
    assert ("clean F3: default - plain -0.60 on streams of their own; on one stream -0.40, "
            "the same parameters on 1 of 2 seeds (goal >= -0.5) -> met") in lines
    assert "clean F4: default - plain -1.00 (goal >= -0.5) -> NOT met" in lines
    # the summary counts the deciding gap of each: F3's -0.4, F4's -1.0
    assert "clean settings (2): default - plain >= -0.5 on 1 of 2, worst -1.00 -> NOT met" \
        in lines
    assert [eta_benchmark._is_setting_line(line) for line in lines] == [True, True, False]


def test_summary_table_by_hand(eta_benchmark, default_without_relabel):
    # F1 and J1 pairflip, F5 symmetric, F3 clean; SCE lacks J1, the grid
    # search has F1 only (no complete column: left out), the oracle's
    # best eta is 0.1 on F1 (78), above every one-fit method there
    grid = [_cells("F1", f"online:eta={eta:g}", (a, a))
            for eta, a in zip(eta_benchmark.ETA_GRID, (0.60, 0.66, 0.72, 0.78, 0.70))]
    records = (_cells("F1", "online:auto", (0.70, 0.72)) + _cells("J1", "default", (0.60, 0.60))
               + _cells("F5", "default", (0.90, 0.90)) + _cells("F3", "default", (0.96, 0.96))
               + _cells("F1", "plain", (0.60, 0.60)) + _cells("J1", "plain", (0.64, 0.64))
               + _cells("F5", "plain", (0.80, 0.80)) + _cells("F3", "plain", (0.98, 0.98))
               + _cells("F1", "sce", (0.75, 0.75)) + _cells("F5", "sce", (0.85, 0.85))
               + _cells("F1", "gridsearch", (0.7, 0.7)) + [r for g in grid for r in g])
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "F3", "F5", "J1")}
    table = eta_benchmark.format_summary_markdown(
        eta_benchmark.heldout_rows(records, settings)).splitlines()
    assert table[0] == ("| method | symmetric / uniform noise (1) | pairflip noise (2) | "
                        "all noisy (3) | clean labels (1) |")
    rows = {line.split(" | ")[0][2:]: line.split(" | ")[1:] for line in table[2:]}
    # the default: F5 90; (71 + 60) / 2 = 65.5; (71 + 60 + 90) / 3 = 73.67; F3 96
    assert rows["MR default"] == ["**90.0**", "**65.5**", "**73.7**", "96.0 |"]
    assert rows["plain CE"] == ["80.0", "62.0", "68.0", "**98.0** |"]
    assert rows["SCE"] == ["85.0", "-", "-", "- |"]
    # the oracle is a bound: measured on F1 only, so no column is complete
    assert not any(label.startswith("MR best grid eta") for label in rows)
    assert "GridSearchCV over eta" not in rows


def test_one_stream_record_of_a_clean_fit(eta_benchmark, monkeypatch):
    # a real cell on a shortened clean setting: the default keeps eta 0, so
    # as it ships (torch's global RNG) it is plain cross-entropy's fit
    import dataclasses

    setting = dataclasses.replace(eta_benchmark.SETTINGS["F3"], epochs=2)
    monkeypatch.setitem(eta_benchmark.SETTINGS, "F3", setting)
    record = eta_benchmark.run_method(setting, "global_rng:default", 0)
    assert record["etas"] == [0.0, 0.0]
    assert record["max_parameter_difference"] == 0.0
    assert record["test_accuracy"] == record["plain_test_accuracy"]
    assert record["difference"] == 0.0
    assert "global_rng:default" in eta_benchmark.default_methods(setting)
    assert "global_rng:default" not in eta_benchmark.default_methods(
        eta_benchmark.SETTINGS["F1"])


def test_goal_reach_lines_by_hand(eta_benchmark, default_without_relabel):
    grid = [_cells("F1", f"online:eta={eta:g}", (a, a))
            for eta, a in zip(eta_benchmark.ETA_GRID, (0.60, 0.66, 0.72, 0.78, 0.70))]
    # F1 noisy: default 70, SCE 80, plain 60, Arazo 75, grid's best eta 78 (0.1);
    # J1 noisy: default 60, SCE 58, plain 59 (no grid, no Arazo); F3 clean: left out
    records = (_cells("F1", "online:auto", (0.70, 0.70)) + _cells("F1", "sce", (0.80, 0.80))
               + _cells("F1", "plain", (0.60, 0.60)) + _cells("F1", "arazo", (0.74, 0.76))
               + [r for g in grid for r in g]
               + _cells("J1", "default", (0.60, 0.60)) + _cells("J1", "online:auto", (0.60, 0.60))
               + _cells("J1", "sce", (0.58, 0.58)) + _cells("J1", "plain", (0.59, 0.59))
               + _cells("F3", "online:auto", (0.90, 0.90)) + _cells("F3", "plain", (0.10, 0.10)))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "J1", "F3")}
    lines = eta_benchmark.goal_reach(eta_benchmark.heldout_rows(records, settings))
    # the default against the best other peer: F1 70 - 80, J1 60 - 59
    assert lines[0] == ("MR default - the best other one-fit peer: -4.50 on average, worst "
                        "-10.00, ahead on 1 of 2")
    # MR auto's cells are the default's on both settings: no second line
    assert not any(line.startswith("MR auto") for line in lines)
    # the grid's best eta (78, F1 only) against SCE (80)
    assert ("MR, grid's best eta (5 fits) - the best other one-fit peer: -2.00 on average, "
            "worst -2.00, ahead on 0 of 1") in lines
    # each peer against the best of the *others*: SCE F1 80 - 75 (Arazo), J1 58 - 59
    assert ("SCE - the best other one-fit peer: +2.00 on average, worst -1.00, ahead on 1 "
            "of 2") in lines
    # plain: F1 60 - 80, J1 59 - 58
    assert ("plain CE - the best other one-fit peer: -9.50 on average, worst -20.00, "
            "ahead on 1 of 2") in lines
    assert ("Arazo M-DYR-H - the best other one-fit peer: -5.00 on average, worst -5.00, "
            "ahead on 0 of 1") in lines
    # the best MR configuration per setting: F1 max(70, 78) - 80, J1 60 - 59
    assert lines[-1] == ("the best MR configuration of each setting (chosen on test labels) "
                         "- the best other one-fit peer: -0.50 on average, worst -2.00, "
                         "ahead on 1 of 2")


def test_seed_noise_lines_by_hand(eta_benchmark, default_without_relabel):
    # F1: default 70 72 74; SCE 80 60 70 (mean 70); plain 71 71 71: plain is
    # best on every seed's mean (gap +1, per-seed -1 +1 +3: se 2 / sqrt 3);
    # left out one by one, the choice on the other two is plain, SCE, plain:
    # 70 - 71, 72 - 60, 74 - 71, mean 14 / 3.
    # J1: default 60 62; SCE 64 66; plain 50 50; Arazo only on seed 0 (90),
    # so not a peer here: SCE is best either way, -4 on each seed, se 0.
    # F3 is clean: left out.
    records = (_cells("F1", "online:auto", (0.70, 0.72, 0.74))
               + _cells("F1", "sce", (0.80, 0.60, 0.70)) + _cells("F1", "plain", (0.71,) * 3)
               + _cells("J1", "default", (0.60, 0.62)) + _cells("J1", "sce", (0.64, 0.66))
               + _cells("J1", "plain", (0.50, 0.50)) + _cells("J1", "arazo", (0.90,))
               + _cells("F3", "online:auto", (0.90, 0.90)) + _cells("F3", "plain", (0.10, 0.99)))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "J1", "F3")}
    lines = eta_benchmark.seed_noise(records, settings)
    # on F1 the in-sample reading is the table's own gap (on J1 the table
    # would count Arazo's lone seed)
    [f1] = eta_benchmark.heldout_rows(records, {"F1": settings["F1"]})
    assert f1["cells"]["default"]["mean"] - eta_benchmark._best_peer(f1)[0] == pytest.approx(1)
    assert lines == [
        "default - best one-fit peer with the peer chosen on the other seeds and scored on the "
        f"one left out: {(14 / 3 - 4) / 2:+.2f} on average over 2 noisy settings (chosen on "
        "every seed: -1.50), worst -4.00, more than 1 behind on 1 (1)",
        f"the gap's paired standard error over the seeds: median {1 / 3 ** 0.5:.2f} points; "
        "of the 1 settings more than 1 behind, 1 are more than two standard errors below -1"]
    # a spread that three seeds can explain: J1's default -1 and -7 (se 3)
    records = [r for r in records if (r["setting"], r["method"]) != ("J1", "default")]
    records += _cells("J1", "default", (0.63, 0.59))
    assert eta_benchmark.seed_noise(records, settings)[1].endswith(
        "of the 1 settings more than 1 behind, 0 are more than two standard errors below -1")
    # nothing to read: no noisy setting with two seeds of the default
    assert eta_benchmark.seed_noise(records, {"F3": settings["F3"]}) == []


def test_more_seeds_lines_by_hand(eta_benchmark):
    # F1, seeds 0-2: default 70 70 70, SCE 72 72 72, plain 71 71 71 (SCE best,
    # -2); seeds 3-4: default 75 77, SCE 74 74, plain 74 76 (plain best, +1);
    # all five: default 72.4, SCE 72.8, plain 72.6 (SCE best), differences
    # -2 -2 -2 +1 +3: -0.4, sample std 2.3022, standard error 1.0296
    table = (_cells("F1", "default", (0.70,) * 3) + _cells("F1", "sce", (0.72,) * 3)
             + _cells("F1", "plain", (0.71,) * 3) + _cells("J1", "default", (0.5,) * 3)
             + _cells("J1", "sce", (0.6,) * 3))

    def more(method, accuracies):
        return [dict(r, seed=r["seed"] + 3) for r in _cells("F1", method, accuracies)]

    extra = more("default", (0.75, 0.77)) + more("sce", (0.74, 0.74)) + more("plain",
                                                                            (0.74, 0.76))
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("F1", "J1", "F3")}
    lines = eta_benchmark.more_seeds(table, extra, settings)
    # J1 has no more seeds: not a row
    assert lines == [
        "F1: seeds 0-2 -2.00 (sce); 2 more seeds +1.00 (plain); all 5 -0.40 +- 1.03 (sce)",
        "the 1 noisy settings behind the best one-fit peer on seeds 0-2 (1 more than 1 "
        "behind, -2.00 on average), on 2 seeds of their own: +1.00 on average, worst +1.00 "
        "(F1), more than 1 behind on 0",
        "the same 1 over every seed: -0.40 on average, more than 1 behind on 0, more than "
        "two paired standard errors (median 1.03) below -1 on 0"]
    assert eta_benchmark.more_seeds(table, [], settings) == []
    with pytest.raises(ValueError, match="table's seeds"):
        eta_benchmark.more_seeds(table, extra + _cells("F1", "gce", (0.7,)), settings)


def test_final_round_lines_by_hand(eta_benchmark):
    # round I, outside the table: I1 (noisy) default 80 82, SCE 84 84, plain
    # 70 70 (SCE best: -3); the grid's best eta 0.01 (83 83): -2; I6 (clean)
    # default 95 95, plain 95.5 95.5: -0.5, just met. A record of another
    # round is ignored.
    grid = [r for eta, accuracy in (("0.003", 0.81), ("0.01", 0.83), ("0.03", 0.79),
                                    ("0.1", 0.75), ("0.3", 0.70))
            for r in _cells("I1", f"online:eta={eta}", (accuracy, accuracy))]
    records = (_cells("I1", "default", (0.80, 0.82)) + _cells("I1", "sce", (0.84, 0.84))
               + _cells("I1", "plain", (0.70, 0.70)) + grid
               + _cells("I6", "default", (0.95, 0.95)) + _cells("I6", "plain", (0.955, 0.955))
               + _cells("F1", "default", (0.10, 0.10)))
    label = "round I, the default as it ships (its last change screened on I)"
    assert eta_benchmark.final_round(records) == [
        "I1: default 81.0 vs best one-fit peer sce 84.0: -3.0",
        f"{label}: noisy settings (1): default - best one-fit peer -3.00 on average (goal >= "
        "+1), worst -3.00 (goal >= -1) -> NOT met",
        f"{label}: default - the peer best on average (sce): -3.00 on average, worst -3.00",
        "clean I6: default - plain -0.50 (goal >= -0.5) -> met",
        f"{label}: clean settings (1): default - plain >= -0.5 on 1 of 1, worst -0.50 -> met",
        f"{label}: eta='auto' as it ships (the default) - best grid eta over 1 settings: "
        "-2.00 on average (goal >= -1), worst -2.00 on I1 (goal >= -2.5), more than 2.5 "
        "behind on 0 -> NOT met"]
    # no default of the round: nothing to read
    assert eta_benchmark.final_round([r for r in records if r["method"] != "default"]) == []
    # the round stays out of the table's settings and of a bare run
    assert "I" in eta_benchmark.RESERVED_ROUNDS and "I" not in eta_benchmark.ALL_ROUNDS
    assert not set(eta_benchmark.heldout_settings()) & {"I1", "I6"}


def test_first_seed_runs_the_later_seeds_only(eta_benchmark, tmp_path, capsys):
    out = str(tmp_path / "more.jsonl")
    eta_benchmark.main(["--quick", "--settings", "Q1", "--methods", "plain", "--seeds", "3",
                        "--first-seed", "2", "--out", out])
    records = eta_benchmark.ResultsFile(out, eta_benchmark.QUICK_SETTINGS).records
    assert [(r["method"], r["seed"]) for r in records] == [("plain", 2)]
    with pytest.raises(SystemExit):
        eta_benchmark.main(["--quick", "--seeds", "3", "--first-seed", "3", "--out", out])
    assert "--first-seed must be in [0, --seeds), got 3" in capsys.readouterr().err


def test_schedule_groups_by_hand(eta_benchmark, default_without_relabel):
    # Z2: Adam, 6 epochs; T2: SGD, 12 (the cut, short); T3: SGD, 25;
    # T1: Adam, 25; T6 is clean: left out
    settings = {n: eta_benchmark.SETTINGS[n] for n in ("T1", "T2", "T3", "T6", "Z2")}
    assert eta_benchmark.schedule_groups(settings) == (
        ("12 epochs or fewer, SGD", ("T2",)), ("12 epochs or fewer, Adam", ("Z2",)),
        ("more than 12 epochs, SGD", ("T3",)), ("more than 12 epochs, Adam", ("T1",)))
    # every noisy held-out setting of the rounds run is in exactly one group
    placed = [n for _, names in eta_benchmark.schedule_groups() for n in names]
    noisy = [n for n, s in eta_benchmark.heldout_settings(eta_benchmark.ALL_ROUNDS).items()
             if np.any(np.asarray(s.noise_rate) > 0)]
    assert sorted(placed) == sorted(noisy)
    # which_method over those groups ranks by the mean over each group's
    # settings: short SGD is T2 alone (plain 90 > SCE 50); short Adam is
    # Z2 alone (SCE 80 > plain 70); T3 and T1 have no cells: no ranking
    records = (_cells("T2", "plain", (0.90, 0.90)) + _cells("T2", "sce", (0.50, 0.50))
               + _cells("Z2", "plain", (0.70, 0.70)) + _cells("Z2", "sce", (0.80, 0.80)))
    rows = eta_benchmark.heldout_rows(records, settings)
    groups = eta_benchmark.which_method(rows, eta_benchmark.schedule_groups(settings))
    assert [(g, m, [(round(a, 6), label) for a, label, _ in r]) for g, m, r in groups] == [
        ("12 epochs or fewer, SGD", ["T2"], [(90.0, "plain CE"), (50.0, "SCE")]),
        ("12 epochs or fewer, Adam", ["Z2"], [(80.0, "SCE"), (70.0, "plain CE")]),
        ("more than 12 epochs, SGD", ["T3"], []), ("more than 12 epochs, Adam", ["T1"], [])]


def test_noise_groups_hold_every_run_held_out_setting_once_by_its_kind(eta_benchmark):
    # the "by kind of noise" table (which_method) covers every setting of
    # the rounds that were run, each once, in the group of its noise
    groups = dict(eta_benchmark.NOISE_GROUPS)
    placed = [name for names in groups.values() for name in names]
    assert len(placed) == len(set(placed))
    assert sorted(placed) == sorted(eta_benchmark.heldout_settings())
    for name in placed:
        setting = eta_benchmark.SETTINGS[name]
        rate = np.asarray(setting.noise_rate, dtype=float)
        if not rate.any():
            expected = "clean labels"
        elif setting.noise_kind == "pairflip":
            expected = "pairflip noise"
        elif rate.ndim and len(set(rate.tolist())) > 1:
            expected = "class-dependent noise"
        else:
            expected = "symmetric / uniform noise"
        assert name in groups[expected], (name, expected)
