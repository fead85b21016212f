"""The command line refuses bad arguments as argparse does (issue 18).

Exit status 2 and one ``prog: error: ...`` line on stderr, no traceback,
before anything is computed; results records are validated when read.
"""

import json
import subprocess
import sys

import pytest

from sk_mr.__main__ import main
from sk_mr.paper.reproduce.results import ResultStore

from conftest import cli_usage_error


usage_error = cli_usage_error


NOISY = ["reproduce", "noisy-labels", "--dataset", "digits"]
ADVERSARIAL = ["reproduce", "adversarial", "--dataset", "digits"]


class TestBadArguments:
    @pytest.mark.parametrize("argv, message", [
        (["demo", "--seeds", "0"], "sk-mr demo: error: argument --seeds: must be an int >= 1"),
        (["demo", "--epochs", "0"], "argument --epochs: must be an int >= 1, got 0"),
        (["demo", "--epochs", "x"], "argument --epochs: must be an int >= 1, got 'x'"),
        (["demo", "--noise-rates", "1.5"], "noise rates must lie in [0, 1)"),
        (["demo", "--jobs", "0"], "argument --jobs: must be an int >= 1, or -1"),
        (["demo", "--eta", "-1"], "argument --eta: must be a finite float >= 0"),
        (["demo", "--eta", "nan"], "argument --eta: must be a finite float >= 0"),
        (NOISY + ["--lr", "-1"], "argument --lr: must be a finite float > 0"),
        (NOISY + ["--eta", "inf"], "argument --eta: must be a finite float >= 0"),
        (NOISY + ["--num-workers", "-1"], "argument --num-workers: must be an int >= 0"),
        (NOISY + ["--device", "gpu0"], "argument --device: must be a torch device"),
        (ADVERSARIAL + ["--train-eps", "-0.1"], "argument --train-eps: must be a perturbation"),
        (ADVERSARIAL + ["--eval-eps", "0.1", "2"], "argument --eval-eps: must be a perturbation"),
    ])
    def test_refused_by_the_parser(self, capsys, argv, message):
        assert message in usage_error(capsys, argv)

    @pytest.mark.parametrize("argv, message", [
        (NOISY + ["--methods", "mr,foo"], "sk-mr reproduce noisy-labels: error: Unknown "
                                          "method component(s) ['foo']"),
        (NOISY + ["--arch", "foo"], "error: Unknown model 'foo'; valid names: mlp"),
        (["reproduce", "noisy-labels", "--dataset", "cifar10"], "error: --root is required"),
        (ADVERSARIAL + ["--attacks", "pgd", "foo"], "error: Unknown attack(s) ['foo']"),
        (ADVERSARIAL + ["--methods", "adv+trades"], "sk-mr reproduce adversarial: error: "),
    ])
    def test_refused_before_anything_is_computed(self, capsys, tmp_path, argv, message):
        out = tmp_path / "r.json"
        assert message in usage_error(capsys, argv + ["--out", str(out)])
        assert not out.exists()

    def test_a_results_file_of_another_kind_is_a_usage_error(self, capsys, tmp_path):
        out = tmp_path / "r.json"
        out.write_text('{"not": "a list"}')
        line = usage_error(capsys, NOISY + ["--out", str(out)])
        assert "must hold a JSON list of records" in line

    def test_as_a_process(self):
        # what a user sees: status 2, usage and one error line, no traceback
        result = subprocess.run([sys.executable, "-m", "sk_mr", "demo", "--seeds", "0"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.startswith("usage: sk-mr demo")
        assert result.stderr.strip().splitlines()[-1] == (
            "sk-mr demo: error: argument --seeds: must be an int >= 1, got 0")


class TestResultRecordsAreValidated:
    CONFIG = {"dataset": "digits", "epochs": 2}

    def test_a_record_without_its_result_is_not_done(self, tmp_path):
        path = tmp_path / "r.json"
        path.write_text(json.dumps([
            {**self.CONFIG, "method": "mr", "seed": 0},  # no test_accuracy
            {**self.CONFIG, "method": "mr", "seed": 1, "test_accuracy": float("nan")},
            {**self.CONFIG, "method": "mr", "seed": 2, "test_accuracy": True},
            {**self.CONFIG, "seed": 3, "test_accuracy": 0.5},  # no method
            {**self.CONFIG, "method": "mr", "seed": 4, "test_accuracy": 0.75},
        ]))
        store = ResultStore(path, self.CONFIG, ("method", "seed"),
                            result_keys=("test_accuracy",))
        assert [store.has(method="mr", seed=s) for s in range(5)] == [False] * 4 + [True]
        assert [r["seed"] for r in store.records] == [4]
        assert len(store.incomplete) == 4
        # running the cell again replaces its incomplete record; the others stay
        store.add({"method": "mr", "seed": 0, "test_accuracy": 0.5})
        assert store.has(method="mr", seed=0)
        on_disk = json.loads(path.read_text())
        assert sorted((r.get("seed"), "test_accuracy" in r) for r in on_disk) == [
            (0, True), (1, True), (2, True), (3, True), (4, True)]
        assert sum(r.get("seed") == 0 for r in on_disk) == 1

    def test_a_cell_with_one_incomplete_record_is_not_done(self, tmp_path):
        path = tmp_path / "r.json"
        path.write_text(json.dumps([
            {**self.CONFIG, "method": "adv", "seed": 0, "attack": "pgd", "accuracy": 0.4},
            {**self.CONFIG, "method": "adv", "seed": 0, "attack": "fgsm"},
        ]))
        store = ResultStore(path, self.CONFIG, ("method", "seed"), result_keys=("accuracy",))
        assert not store.has(method="adv", seed=0)
        store.add([{"method": "adv", "seed": 0, "attack": a, "accuracy": 0.5}
                   for a in ("pgd", "fgsm")])
        assert store.has(method="adv", seed=0)
        assert len(json.loads(path.read_text())) == 2  # replaced, not duplicated

    def test_the_command_reruns_an_incomplete_cell(self, tmp_path, capsys):
        out = tmp_path / "r.json"
        argv = NOISY + ["--epochs", "1", "--seeds", "1", "--noise-rates", "0", "--methods",
                        "base", "--limit-train", "60", "--limit-test", "20", "--out", str(out)]
        assert main(argv) == 0
        records = json.loads(out.read_text())
        del records[0]["test_accuracy"]
        out.write_text(json.dumps(records))
        capsys.readouterr()
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "1 record(s) in" in err and "lack test_accuracy" in err
        assert "[1/1] base noise=0 seed=0" in err  # trained again, not skipped
        records = json.loads(out.read_text())
        assert len(records) == 1 and 0 <= records[0]["test_accuracy"] <= 1
