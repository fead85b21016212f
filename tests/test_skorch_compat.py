"""Tests of the skorch-suite harness (tests/skorch_compat): its bookkeeping.

The harness itself runs with ``make compat``; here its comparison logic is
checked on synthetic outcomes, and the documentation is checked to describe
every intended difference.
"""

import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent / "skorch_compat"
sys.path.insert(0, str(HARNESS))

import run  # noqa: E402
from intended import INTENDED_DIFFERENCES  # noqa: E402


def test_node_ids_from_junit_classnames():
    assert run.node_id_of("skorch_tests.test_net.TestNeuralNet", "test_fit[a-1]") == \
        "test_net.py::TestNeuralNet::test_fit[a-1]"
    assert run.node_id_of("skorch_tests.callbacks.test_scoring.TestX", "test_y") == \
        "callbacks/test_scoring.py::TestX::test_y"
    assert run.node_id_of("skorch_tests.test_helper", "test_module_level") == \
        "test_helper.py::test_module_level"


def test_patterns_treat_brackets_literally():
    assert run._match("a.py::T::t[x-1]", "a.py::T::t[*]")
    assert run._match("a.py::T::t[x-1]", "a.py::T::t[x-1]")
    assert not run._match("a.py::T::t[x-2]", "a.py::T::t[x-1]")
    assert not run._match("a.py::T::t_other", "a.py::T::t")


def test_compare_flags_unexpected_and_stale(monkeypatch):
    monkeypatch.setattr(run, "INTENDED_DIFFERENCES", {
        "why": {"reason": "r", "tests": ["m.py::intended", "m.py::stale"]}})
    monkeypatch.setattr(run, "CLASS_PATH_ARTIFACTS", [])
    baseline = {"m.py::ok": "passed", "m.py::intended": "passed", "m.py::stale": "passed",
                "m.py::broken": "passed", "m.py::skorch_fails": "failed"}
    mine = {"m.py::ok": "passed", "m.py::intended": "failed", "m.py::stale": "passed",
            "m.py::broken": "error", "m.py::skorch_fails": "failed"}
    summary, stale = run.compare(baseline, {"eta0": mine})
    rows = summary["eta0"]
    assert rows["passed"] == 2
    assert rows["intended"] == {"why": ["m.py::intended"]}
    assert rows["unexpected"] == ["m.py::broken (error)"]
    assert stale == ["m.py::stale [why]: passes on every MR variant"]


def test_every_intended_difference_is_documented():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "compatibility.rst").read_text()
    for key, entry in INTENDED_DIFFERENCES.items():
        assert f"``{key}``" in docs, f"docs/compatibility.rst does not describe {key!r}"
        assert entry["reason"] and entry["tests"]


@pytest.mark.parametrize("variant", ["eta0", "default", "full"])
def test_rewritten_tree_imports_mr(variant, tmp_path):
    root, n = run.build_tree(variant, tmp_path)
    assert n >= 40  # every 'from skorch import NeuralNetClassifier' line
    # the same count and rewrite, line by line from skorch's own test files:
    # each such line (any indentation) becomes the _mr_compat import, every
    # other line of every file is copied as it was
    source = run.skorch_tests_dir()
    expected_n = 0
    for path in sorted(source.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        lines = path.read_text().splitlines()
        expected = []
        for line in lines:
            if line.strip() == "from skorch import NeuralNetClassifier":
                indent = line[:len(line) - len(line.lstrip())]
                expected.append(indent + "from _mr_compat import NeuralNetClassifier")
                expected_n += 1
            else:
                expected.append(line)
        copied = root / "skorch_tests" / path.relative_to(source)
        assert copied.read_text().splitlines() == expected, path
    assert n == expected_n
    text = (root / "skorch_tests" / "test_classifier.py").read_text()
    assert "from skorch import NeuralNetClassifier\n" not in text
    assert "from _mr_compat import NeuralNetClassifier" in text
    namespace = {}
    exec((root / "_mr_compat.py").read_text(), namespace)
    from sk_mr import MRClassifier
    cls = namespace["NeuralNetClassifier"]
    assert issubclass(cls, MRClassifier)
    assert cls(object).eta == (MRClassifier(object).eta if variant == "default" else 0.0)
    assert cls(object).loss_pass == ("full" if variant == "full"
                                     else MRClassifier(object).loss_pass)


def test_targeted_baseline_gives_the_full_verdict(monkeypatch):
    """A targeted baseline reruns only what did not pass on MR (and the
    intended tests); its verdict equals that of the full baseline."""
    monkeypatch.setattr(run, "INTENDED_DIFFERENCES", {
        "why": {"reason": "r", "tests": ["m.py::intended", "m.py::stale"]}})
    monkeypatch.setattr(run, "CLASS_PATH_ARTIFACTS", [])
    full = {"m.py::ok": "passed", "m.py::intended": "passed", "m.py::stale": "passed",
            "m.py::broken": "passed", "m.py::skorch_fails": "failed",
            "m.py::both_skip": "skipped"}
    mine = {"m.py::ok": "passed", "m.py::intended": "failed", "m.py::stale": "passed",
            "m.py::broken": "error", "m.py::skorch_fails": "failed",
            "m.py::both_skip": "skipped"}
    wanted = run.targeted_tests({"eta0": mine})
    assert wanted == {"m.py::intended", "m.py::stale", "m.py::broken",
                      "m.py::skorch_fails", "m.py::both_skip"}
    rerun = {node_id: full[node_id] for node_id in wanted}
    targeted = run.compare(run.fill_baseline(rerun, {"eta0": mine}), {"eta0": mine})
    assert targeted == run.compare(full, {"eta0": mine})


def _suite(root, source):
    """A variant's folder as build_tree lays it out, with one test file."""
    (root / "skorch_tests").mkdir()
    (root / "skorch_tests" / "test_x.py").write_text(source)
    (root / "conftest.py").write_text(run.ONLY_CONFTEST)
    (root / "pytest.ini").write_text("[pytest]\naddopts =\n")


def test_only_conftest_runs_the_listed_tests(tmp_path):
    _suite(
        tmp_path,
        "import pytest\n\n"
        "class TestA:\n    def test_one(self):\n        pass\n\n"
        "    @pytest.mark.parametrize('v', [1, 2])\n    def test_two(self, v):\n"
        "        pass\n\n"
        "def test_three():\n    pass\n")
    outcomes, _ = run.run_variant(tmp_path, ["test_x.py"], "0",
                                  only={"test_x.py::TestA::test_two[2]",
                                        "test_x.py::test_three"})
    assert outcomes == {"test_x.py::TestA::test_two[2]": "passed",
                        "test_x.py::test_three": "passed"}
    outcomes, _ = run.run_variant(tmp_path, ["test_x.py"], "0")
    assert len(outcomes) == 4


def test_xdist_workers_run_one_thread_each(tmp_path, monkeypatch):
    # N workers times torch's default threads oversubscribe the cores; a
    # count the caller set is kept
    _suite(
        tmp_path,
        "import os\n\nimport torch\n\n"
        "def test_threads():\n"
        "    assert os.environ['OMP_NUM_THREADS'] == os.environ['EXPECTED']\n"
        "    if os.environ['EXPECTED'] == '1':\n"
        "        assert torch.get_num_threads() == 1\n"
        "    assert os.environ.get('PYTEST_XDIST_WORKER')\n")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("EXPECTED", "1")
    outcomes, _ = run.run_variant(tmp_path, ["test_x.py"], "2")
    assert outcomes == {"test_x.py::test_threads": "passed"}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("EXPECTED", "3")
    outcomes, _ = run.run_variant(tmp_path, ["test_x.py"], "2")
    assert outcomes == {"test_x.py::test_threads": "passed"}


def test_may_pass_entries_are_never_stale(monkeypatch):
    # a clock-seeded test listed with may_pass passes on every MR variant:
    # not stale; the same entry without may_pass is
    node = "test_net.py::TestNeuralNet::test_fit_lbfgs_optimizer"
    baseline = {node: "passed"}
    results = {"eta0": {node: "passed"}, "default": {node: "passed"}}
    entry = {"reason": "r", "tests": [node]}
    monkeypatch.setattr(run, "CLASS_PATH_ARTIFACTS", [])
    monkeypatch.setattr(run, "INTENDED_DIFFERENCES", {"k": dict(entry, may_pass=True)})
    assert run.compare(baseline, results)[1] == []
    monkeypatch.setattr(run, "INTENDED_DIFFERENCES", {"k": entry})
    assert run.compare(baseline, results)[1] == [f"{node} [k]: passes on every MR variant"]
