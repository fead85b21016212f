"""Run skorch's own test suite against MRClassifier: our compatibility contract.

skorch ships its tests in its wheel (``skorch/tests``). This script copies
them into a build folder once per variant, rewrites only the line
``from skorch import NeuralNetClassifier`` so that the name refers to

* ``skorch``: skorch's own class (the baseline: what passes here, in this
  environment, is what MRClassifier must pass),
* ``eta0``: ``MRClassifier`` with ``eta=0`` (uniform weights),
* ``default``: ``MRClassifier`` with its default parameters,
* ``full``: ``MRClassifier`` with ``eta=0`` and ``loss_pass='full'`` (the
  paper's Algorithm 1 exactly; the default is ``'online'``),

runs the suites with pytest, and compares. The MR classes are subclasses
named ``NeuralNetClassifier``, so tests that compare error messages with the
class name see the same name; nothing else is changed. A test that passes on
the baseline and fails on an MR variant must be listed in
``intended.py`` (with its reason), or this script exits with status 1; so does
a listed test that passes on every MR variant (the list stays short and true).

With ``--baseline targeted`` (what ``make compat`` and CI use) the MR
variants run first, and the baseline reruns only the tests that did not pass
on some MR variant, plus those the intended differences name: the verdict is
the same as a full baseline run's (a test that passes on every MR variant
needs no baseline), at about a third of the time. ``--baseline full`` (the
default) runs the whole suite on skorch's class too and reports its counts.

Usage::

    python tests/skorch_compat/run.py [--variants skorch,eta0,default,full]
        [--baseline full|targeted] [--workers auto]
        [--build-dir build/skorch_compat] [--files ...]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from intended import CLASS_PATH_ARTIFACTS, INTENDED_DIFFERENCES  # noqa: E402

DEFAULT_FILES = [
    "test_net.py",
    "test_classifier.py",
    "callbacks/test_training.py",
    "callbacks/test_scoring.py",
    "callbacks/test_lr_scheduler.py",
    "test_helper.py",
    "test_scoring.py",
]

# [ \t], not \s: \s would match line ends too, and drop the blank line after an import
IMPORT_LINE = re.compile(r"^([ \t]*)from skorch import NeuralNetClassifier[ \t]*$", re.MULTILINE)

#: Every MR variant names its criterion, cross-entropy (AutoCrossEntropyLoss:
#: on logits, or on the log of a softmax module's probabilities, skorch's
#: NLLLoss convention): the criterion under which MRClassifier is a drop-in
#: for NeuralNetClassifier, and its default. Named, so that a change of the
#: default criterion cannot change this contract unnoticed.
CLASS_MODULES = {
    "skorch": "from skorch import NeuralNetClassifier\n",
    "eta0": '''from sk_mr import MRClassifier
from sk_mr.losses import AutoCrossEntropyLoss


class NeuralNetClassifier(MRClassifier):
    """MRClassifier with eta=0 by default (uniform weights), cross-entropy."""

    def __init__(self, *args, eta=0.0, criterion=AutoCrossEntropyLoss, **kwargs):
        super().__init__(*args, eta=eta, criterion=criterion, **kwargs)
''',
    "default": '''from sk_mr import MRClassifier
from sk_mr.losses import AutoCrossEntropyLoss


class NeuralNetClassifier(MRClassifier):
    """MRClassifier with its default eta and loss pass, cross-entropy."""

    def __init__(self, *args, criterion=AutoCrossEntropyLoss, **kwargs):
        super().__init__(*args, criterion=criterion, **kwargs)
''',
    "full": '''from sk_mr import MRClassifier
from sk_mr.losses import AutoCrossEntropyLoss


class NeuralNetClassifier(MRClassifier):
    """MRClassifier with eta=0 and the full loss pass (Algorithm 1 exactly)."""

    def __init__(self, *args, eta=0.0, loss_pass="full", criterion=AutoCrossEntropyLoss,
                 **kwargs):
        super().__init__(*args, eta=eta, loss_pass=loss_pass, criterion=criterion, **kwargs)
''',
}


#: A conftest that keeps only the tests listed in the file $MR_COMPAT_ONLY
#: (node ids relative to skorch's tests; every test when it is unset).
ONLY_CONFTEST = '''import os

PREFIX = "skorch_tests/"


def pytest_collection_modifyitems(config, items):
    path = os.environ.get("MR_COMPAT_ONLY")
    if not path:
        return
    with open(path) as f:
        wanted = set(f.read().splitlines())
    keep, drop = [], []
    for item in items:
        node_id = item.nodeid[len(PREFIX):] if item.nodeid.startswith(PREFIX) else item.nodeid
        (keep if node_id in wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
'''


def skorch_tests_dir():
    import skorch
    return Path(skorch.__file__).resolve().parent / "tests"


def build_tree(variant, build_dir):
    """Copy skorch's tests into ``build_dir/variant`` with the import rewritten."""
    root = build_dir / variant
    if root.exists():
        shutil.rmtree(root)
    source = skorch_tests_dir()
    shutil.copytree(source, root / "skorch_tests",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    n_rewritten = 0
    for path in (root / "skorch_tests").rglob("*.py"):
        text = path.read_text()
        new, n = IMPORT_LINE.subn(r"\1from _mr_compat import NeuralNetClassifier", text)
        if n:
            path.write_text(new)
            n_rewritten += n
    (root / "_mr_compat.py").write_text(CLASS_MODULES[variant])
    # A pytest.ini makes this folder the rootdir: the project's own pytest
    # configuration and conftest stay out of skorch's suite.
    (root / "pytest.ini").write_text("[pytest]\naddopts =\n")
    (root / "conftest.py").write_text(ONLY_CONFTEST)
    # Some tests read data files relative to skorch's repository root.
    data_dir = root / "skorch" / "tests"
    data_dir.mkdir(parents=True)
    for data_file in list(source.glob("*.pkl")) + list(source.glob("*.pt")):
        shutil.copy(data_file, data_dir)
    return root, n_rewritten


def run_variant(root, files, workers, only=None):
    report = root / "junit.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "--junitxml", str(report), "-o", "junit_family=xunit1"]
    if workers != "0":
        cmd += ["-n", workers]
    cmd += ["skorch_tests/" + f for f in files]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [
        p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop("MR_COMPAT_ONLY", None)
    if workers != "0":
        # one thread per xdist worker: workers times torch's default of one
        # thread per core oversubscribe the cores, and skorch's suite (tiny
        # nets, thousands of small ops) ran about 4x slower for it. A
        # thread count the caller set is kept.
        env.setdefault("OMP_NUM_THREADS", "1")
    if only is not None:
        only_file = root / "only.txt"
        only_file.write_text("\n".join(sorted(only)) + "\n")
        env["MR_COMPAT_ONLY"] = str(only_file)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    (root / "pytest.log").write_text(proc.stdout + proc.stderr)
    if not report.exists():
        raise RuntimeError(f"pytest wrote no report in {root}:\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")
    return parse_junit(report), seconds


_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def parse_junit(report):
    """Return ``{node_id: outcome}`` with node ids relative to skorch's tests."""
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        node_id = node_id_of(case.get("classname", ""), case.get("name", ""),
                             case.get("file"))
        if case.find("error") is not None:
            outcome = "error"
        elif case.find("failure") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        old = outcomes.get(node_id)
        if old is None or _RANK[outcome] > _RANK[old]:
            outcomes[node_id] = outcome
    return outcomes


def node_id_of(classname, name, file=None):
    parts = classname.split(".")
    if parts and parts[0] == "skorch_tests":
        parts = parts[1:]
    module_end = max((i for i, p in enumerate(parts) if p.startswith("test_")), default=0)
    path = "/".join(parts[:module_end + 1]) + ".py"
    return "::".join([path] + parts[module_end + 1:] + [name])


def _match(node_id, pattern):
    # brackets in node ids are literal; only '*' is a wildcard here
    regex = "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"
    return re.match(regex, node_id) is not None


def intended_category(node_id):
    for key, entry in INTENDED_DIFFERENCES.items():
        if any(_match(node_id, p) for p in entry["tests"]):
            return key
    if any(_match(node_id, p) for p in CLASS_PATH_ARTIFACTS):
        return "class-path-artifact"
    return None


def targeted_tests(results):
    """The tests a targeted baseline must run: every one that did not pass
    on some MR variant, and every one an intended difference names."""
    patterns = [p for e in INTENDED_DIFFERENCES.values() for p in e["tests"]]
    patterns += list(CLASS_PATH_ARTIFACTS)
    wanted = set()
    for outcomes in results.values():
        for node_id, outcome in outcomes.items():
            if outcome != "passed" or any(_match(node_id, p) for p in patterns):
                wanted.add(node_id)
    return wanted


def fill_baseline(baseline, results):
    """A targeted baseline completed with the tests it did not rerun: those
    passed on every MR variant, so the comparison counts them as passed."""
    full = dict(baseline)
    for outcomes in results.values():
        for node_id in outcomes:
            full.setdefault(node_id, "passed")
    return full


def compare(baseline, results, files=None):
    """Classify every test that passes on the baseline, per MR variant.

    ``files``: the test files that ran (None: all); intended differences in
    other files are not checked.
    """
    summary = {}
    for variant, outcomes in results.items():
        rows = {"passed": 0, "intended": {}, "unexpected": [], "missing": []}
        for node_id, outcome in sorted(baseline.items()):
            if outcome != "passed":
                continue
            mine = outcomes.get(node_id)
            if mine is None:
                rows["missing"].append(node_id)
            elif mine == "passed":
                rows["passed"] += 1
            else:
                category = intended_category(node_id)
                if category is None:
                    rows["unexpected"].append(f"{node_id} ({mine})")
                else:
                    rows["intended"].setdefault(category, []).append(node_id)
        summary[variant] = rows
    stale = []
    patterns = [(k, p) for k, e in INTENDED_DIFFERENCES.items() for p in e["tests"]]
    patterns += [("class-path-artifact", p) for p in CLASS_PATH_ARTIFACTS]
    for key, pattern in patterns:
        if files is not None and pattern.split("::")[0] not in files:
            continue
        matched = [n for n, o in baseline.items() if o == "passed" and _match(n, pattern)]
        if not matched:
            stale.append(f"{pattern} [{key}]: no such test passes on skorch")
            continue
        if INTENDED_DIFFERENCES.get(key, {}).get("may_pass"):
            continue  # a seeded-by-the-clock test that passes on some runs
        if results and all(all(outcomes.get(n) == "passed" for n in matched)
                           for outcomes in results.values()):
            stale.append(f"{pattern} [{key}]: passes on every MR variant")
    return summary, stale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", default="skorch,eta0,default,full")
    parser.add_argument("--workers", default="auto",
                        help="pytest-xdist workers per suite run ('0': none)")
    parser.add_argument("--build-dir", default="build/skorch_compat", type=Path)
    parser.add_argument("--files", nargs="+", default=DEFAULT_FILES)
    parser.add_argument("--baseline", choices=("full", "targeted"), default="full",
                        help="run skorch's class on the whole suite, or only on the "
                             "tests that do not pass on an MR variant (default: full)")
    args = parser.parse_args(argv)
    args.build_dir = args.build_dir.resolve()  # pytest runs in each variant's folder
    variants = args.variants.split(",")
    if "skorch" not in variants:
        parser.error("--variants must include the 'skorch' baseline")
    if args.baseline == "targeted":  # the MR variants first, then the baseline
        variants = [v for v in variants if v != "skorch"] + ["skorch"]
    results, seconds = {}, {}
    for variant in variants:
        root, n = build_tree(variant, args.build_dir)
        if n == 0:
            raise RuntimeError("no 'from skorch import NeuralNetClassifier' line to rewrite")
        only = None
        if variant == "skorch" and args.baseline == "targeted":
            only = targeted_tests(results)
            print(f"[{variant}] running {len(only)} tests of skorch's suite (those that "
                  f"did not pass on an MR variant, and the intended differences) ...",
                  flush=True)
        else:
            print(f"[{variant}] running skorch's suite ({n} imports rewritten) ...",
                  flush=True)
        results[variant], seconds[variant] = run_variant(root, args.files, args.workers,
                                                         only=only)
        counts = {k: sum(1 for o in results[variant].values() if o == k) for k in _RANK}
        print(f"[{variant}] {counts} in {seconds[variant]:.0f} s", flush=True)
    baseline = results.pop("skorch")
    if args.baseline == "targeted":
        missing = targeted_tests(results) - set(baseline)
        if missing:
            raise RuntimeError(f"the targeted baseline did not run {sorted(missing)[:5]}")
        baseline = fill_baseline(baseline, results)
    summary, stale = compare(baseline, results, files=args.files)

    n_base = sum(1 for o in baseline.values() if o == "passed")
    if args.baseline == "targeted":
        print(f"\nskorch {_skorch_version()}: {n_base} tests pass against "
              "NeuralNetClassifier or pass on every MR variant (targeted baseline: "
              f"the others were rerun on skorch's class; {', '.join(args.files)}).")
    else:
        print(f"\nskorch {_skorch_version()}: {n_base} tests pass against "
              f"NeuralNetClassifier (of {len(baseline)} collected in "
              f"{', '.join(args.files)}).")
    print(f"{'variant':<10}{'passed':>8}{'intended':>10}{'artifact':>10}{'unexpected':>12}")
    ok = True
    for variant, rows in summary.items():
        n_intended = sum(len(v) for k, v in rows["intended"].items()
                         if k != "class-path-artifact")
        n_artifact = len(rows["intended"].get("class-path-artifact", []))
        n_bad = len(rows["unexpected"]) + len(rows["missing"])
        print(f"{variant:<10}{rows['passed']:>8}{n_intended:>10}{n_artifact:>10}{n_bad:>12}")
        for key, tests in rows["intended"].items():
            print(f"    {key}: {len(tests)}")
        for line in rows["unexpected"] + [m + " (not run)" for m in rows["missing"]]:
            print(f"    UNEXPECTED {line}")
            ok = False
    for line in stale:
        print(f"STALE intended difference: {line}")
        ok = False
    (args.build_dir / "summary.json").write_text(json.dumps(
        {"skorch_version": _skorch_version(), "baseline": args.baseline,
         "baseline_passed": n_base,
         "seconds": seconds, "variants": summary, "stale": stale}, indent=1))
    print("OK: MRClassifier passes skorch's suite but for the intended differences."
          if ok else "FAILED: see above (and build/skorch_compat/<variant>/pytest.log).")
    return 0 if ok else 1


def _skorch_version():
    import skorch
    return skorch.__version__


if __name__ == "__main__":
    sys.exit(main())
