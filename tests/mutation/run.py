"""A small mutation check: deliberate bugs in MR's core must each fail a test.

For every mutant below, a copy of ``sk_mr`` is made in a temporary folder,
one deliberate bug is written into it (a snippet of the source replaced; the
snippet must occur exactly once, or the check fails loudly: a change that
moves the line must update the mutant), and the few tests meant to catch
that bug run against the copy (``PYTHONPATH`` points at it, pytest ``-x``).
A mutant whose tests all pass "survives", and the check fails. The tests
first run once against an unmutated copy: they must pass there, or a killed
mutant would prove nothing.

Each run is a child forked from a runner process that has imported torch,
scikit-learn, skorch and pytest but never sk_mr (:data:`RUNNER`), so that the
seconds of importing them are spent once per runner, not once per mutant.

Run it with ``make mutation`` (part of CI) or ``python tests/mutation/run.py``
(``--jobs N`` runs N mutants at once, each job with its runner; ``--list``
prints them). It takes under three minutes on two cores.
"""

import argparse
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Mutant:
    """One deliberate bug: ``edits`` are (file, pattern, replacement) in ``sk_mr``.

    ``pattern`` is a regular expression that must match the file exactly once.
    """

    def __init__(self, name, bug, edits, tests):
        self.name = name
        self.bug = bug
        self.edits = edits
        self.tests = tests


MUTANTS = [
    Mutant("batch-loss-by-batch-size",
           "a weighted batch loss divided by the batch size, not the total weight",
           [("objective.py", r"return weighted / global_total\(weights\.sum\(\)\)\.clamp_min\(tiny\)",
             "return weighted / losses.shape[0]")],
           ["tests/test_pinned.py::TestWeightedBatchLossOfOtherCriteria"]),
    Mutant("softmax-sign-flip",
           "MW weights softmax(+eta L): high-loss examples gain weight",
           [("mw.py", r"logits = shifted \* \(-eta\)", "logits = shifted * eta")],
           ["tests/test_mw.py"]),
    Mutant("weights-not-normalized",
           "MW weights exp(-eta (L - min L)) without dividing by their sum",
           [("mw.py", r"(weights = torch\.exp\(logits\)\n\s*)return weights / weights\.sum\(\)",
             r"\1return weights")],
           ["tests/test_mw.py"]),
    Mutant("losses-not-accumulated",
           "each update replaces the cumulative losses with its own losses",
           [("mw.py", r"cumulative = self\.cumulative_losses_ \+ losses",
             "cumulative = 0 * self.cumulative_losses_ + losses")],
           ["tests/test_classifier.py::TestAlgorithm1"]),
    Mutant("stale-eta-batch-weights",
           "the weights batches use are computed with the previous update's eta",
           [("callbacks.py", r"self\._set_probabilities\(weights\.update\(losses, raw_eta\)\)",
             "weights.update(losses, raw_eta); self._set_probabilities("
             "mw_probabilities(weights.cumulative_losses_, self.eta_))")],
           ["tests/test_pinned.py::TestWeightsAfterAnEtaChange"]),
    Mutant("online-records-partner-label",
           "under mixup the online pass records the loss of the partner's label",
           [("objective.py", r"if permutation is None:  # the examples' own labels",
             "if own is None or permutation is not None:")],
           ["tests/test_pinned.py::TestOnlinePassUnderMixup"]),
    Mutant("update-boundary-off-by-one",
           "a mid-epoch update after batch floor(j n / k) instead of ceil (the same when "
           "k divides n)",
           [("callbacks.py", r"boundaries = \{math\.ceil\(j \* n_batches / k\)",
             "boundaries = {math.floor(j * n_batches / k)")],
           ["tests/test_pinned.py::TestMidEpochUpdatePosition"]),
    Mutant("labels-one-to-k-as-indices",
           "labels 1..K on K outputs taken as output indices (an off-by-one at the "
           "outputs' boundary)",
           [("classifier.py", r"label_classes\.max\(\) < n_outputs",
             "label_classes.max() <= n_outputs")],
           ["tests/test_fit_inputs.py::TestLabelsAtTheOutputBoundary"]),
    Mutant("auto-eta-progress-per-epoch",
           "eta='auto''s rule counts its progress in epochs, not in updates "
           "(updates_per_epoch not passed on)",
           [("callbacks.py", r"self\.settings_\.updates_per_epoch, chance_loss=chance",
             "1, chance_loss=chance")],
           ["tests/test_auto_eta_net.py::TestWhatTheRuleSees"]),
    Mutant("auto-eta-template-not-reset",
           "a rule object given as eta starts the fit with its own past updates and M",
           [("mw.py", r"return rule\.reset\(\)", "return rule")],
           ["tests/test_auto_eta_net.py::TestWhatTheRuleSees"]),
    Mutant("relabel-rule-not-frozen",
           "label correction starts without freezing eta='auto''s set-aside fraction",
           [("callbacks.py", r"\n\s*rule\.freeze\(\*\*follow\)", "\n            pass")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("relabel-trust-inverted",
           "corrected targets trust the network's guess where MR trusts the label",
           [("callbacks.py", r"return trust \* given \+ \(1 - trust\) \* predicted",
             "return (1 - trust) * given + trust * predicted")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("relabel-records-corrected-loss",
           "while labels are corrected, MR accumulates the loss of the corrected "
           "targets instead of the given labels'",
           [("callbacks.py", r"losses = self\.given_losses_\n", "pass\n")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("fallback-keeps-mr-weights",
           "after a closed gate the SCE fallback trains with MR's weights, not every "
           "example once",
           [("callbacks.py", r"if self\._correcting\(\) or self\._falling_back\(\):",
             "if self._correcting():")],
           ["tests/test_callbacks.py::TestFallbackLoss"]),
    Mutant("fallback-keeps-updating",
           "after a closed gate MR keeps updating its weights on the SCE losses",
           [("callbacks.py", r"if self\.settings_\.loss_pass != \"online\" or self\._falling_back\(\):",
             "if self.settings_.loss_pass != \"online\":"),
            ("callbacks.py", r"if self\._falling_back\(\):\n(\s*)# MR stepped back",
             r"if False:\n\1# MR stepped back")],
           ["tests/test_callbacks.py::TestFallbackLoss"]),
    Mutant("fallback-trains-on-the-criterion",
           "after a closed gate the batches train on the criterion, not on SCE",
           [("callbacks.py", r"return self\.settings_\.fallback_loss if self\._falling_back\(net\) else None",
             "return None")],
           ["tests/test_callbacks.py::TestFallbackLoss"]),
    Mutant("probation-retracts-too-little",
           "without a hold, a provisional pairflip latch is retracted only below the "
           "band (0.3), not 1 - band (0.7), of the frozen fraction",
           [("mw.py", r"probation_hold = 1 - probation\n", "probation_hold = probation\n")],
           ["tests/test_mw_auto_eta.py::TestProbation"]),
    Mutant("retraction-keeps-correcting",
           "label correction goes on after the rule retracted the latch it rested on",
           [("callbacks.py", r"MR alone from here\n(\s*)self\.relabeling_ = False",
             r"MR alone from here\n\1pass")],
           ["tests/test_auto_eta_net.py::TestLabelCorrectionInAFit"]),
    Mutant("alignment-inverted",
           "correction aligned the wrong way: predicted over labelled frequencies",
           [("callbacks.py", r"ratio = self\.label_frequencies_ / self\.predicted_frequencies_\.clamp\(min=1e-6\)",
             "ratio = self.predicted_frequencies_ / self.label_frequencies_.clamp(min=1e-6)")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("alignment-mean-frozen",
           "the predictions' running mean never takes in the corrected batches",
           [("callbacks.py", r"\+ \(1 - momentum\) \* probabilities\.mean\(0\)\)",
             "+ (1 - momentum) * self.predicted_frequencies_)")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("alignment-off-by-default",
           "the default corrects towards the argmax, not the aligned classes",
           [("callbacks.py", r"\n(\s*)relabel_alignment = 0\.9\n", r"\n\1relabel_alignment = None\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_default_fit_is_the_align_lead"]),
    Mutant("probation-hold-off-by-default",
           "the default retracts a provisional latch below 1 - band, not its hold",
           [("callbacks.py", r"\n(\s*)relabel_probation_hold = 0\.85\n",
             r"\n\1relabel_probation_hold = None\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_default_is_the_holding_lead"]),
    Mutant("gate-wait-off-by-default",
           "the gate decides at once, not waiting for a pairflip count that has begun",
           [("callbacks.py", r"\n(\s*)relabel_gate_wait = 3\n", r"\n\1relabel_gate_wait = None\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_gate_wait_is_the_lead"]),
    Mutant("gate-waits-past-the-deadline",
           "the gate waits for the confident count whatever is left of the schedule",
           [("callbacks.py", r"return not self\._reached\(self\.relabel_gate_deadline\)",
             "return True")],
           ["tests/test_callbacks.py::TestGateWait"]),
    Mutant("follow-off-by-default",
           "the fraction frozen at the gate stays there on pairflip labels too",
           [("callbacks.py", r"\n(\s*)relabel_follow_confident = True\n",
             r"\n\1relabel_follow_confident = False\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_default_follows_the_pairflip_count_as_the_lead"]),
    Mutant("deadline-off-by-default",
           "eta='auto''s confident count settles on probation to the end of the fit",
           [("callbacks.py", r"\n(\s*)relabel_probation_deadline = 0\.5\n",
             r"\n\1relabel_probation_deadline = None\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_default_is_the_deadline_lead"]),
    Mutant("late-mixup-off-by-default",
           "label correction after a late gate mixes as it did before mixup_deadline",
           [("callbacks.py", r"\n(\s*)relabel_late_mixup_alpha = 0\.0\n",
             r"\n\1relabel_late_mixup_alpha = None\n")],
           ["tests/test_auto_eta_leads.py::test_mixup_deadline_lead_turns_mixup_off_past_the_deadline"]),
    Mutant("frozen-fraction-follows-anywhere",
           "the frozen fraction follows the confident count without the pairflip latch",
           [("mw.py", r"if self\.follows_confident_ and self\.pairflip_ and not self\.provisional_:",
             "if self.follows_confident_:")],
           ["tests/test_mw_auto_eta.py::TestAutoEta"]),
    Mutant("average-off-by-default",
           "MRClassifier keeps the last step's parameters by default",
           [("classifier.py", r'average_weights=0\.1, \*\*kwargs', "average_weights=None, **kwargs")],
           ["tests/test_classifier.py::TestAverageWeights"]),
    Mutant("average-window-one-step-short",
           "average_weights averages one step fewer than round(f * max_epochs * steps)",
           [("classifier.py", r"self\._average_step > total - window:",
             "self._average_step > total - window + 1:")],
           ["tests/test_classifier.py::TestAverageWeights"]),
    Mutant("average-only-on-long-schedules",
           "weight averaging only where its window spans two epochs or more",
           [("classifier.py", r"\n(\s*)_average_min_epochs = 0\n", r"\n\1_average_min_epochs = 2\n")],
           ["tests/test_classifier.py::TestAverageWeights"]),
    Mutant("average-at-epoch-ends-by-default",
           "weight averaging takes the ends of the last epochs, not the last steps",
           [("classifier.py", r"\n(\s*)_average_every_step = True\n",
             r"\n\1_average_every_step = False\n")],
           ["tests/test_classifier.py::TestAverageWeights"]),
    Mutant("average-without-mr",
           "average_weights averages where MR's weights never left uniform",
           [("classifier.py", r"if not any\(eta > 0 for eta in etas\):", "if False:")],
           ["tests/test_classifier.py::TestAverageWeights"]),
    Mutant("probation-band-narrow-by-default",
           "the default's probation band is the 0.3 of before",
           [("callbacks.py", r"\n(\s*)relabel_probation = 0\.4\n",
             r"\n\1relabel_probation = 0.3\n")],
           ["tests/test_auto_eta_leads.py::test_the_librarys_default_is_the_holding_lead"]),
    Mutant("pairflip-mixup-on-probation",
           "strong mixup while correcting also on a provisional pairflip latch",
           [("callbacks.py", r"\n(\s*)and not getattr\(rule, \"provisional_\", False\):",
             r"\n\1and True:")],
           ["tests/test_callbacks.py::TestLabelCorrection"]),
    Mutant("fallback-loss-on-validation",
           "the fallback's SCE also scores validation batches",
           [("classifier.py", r"reweighting = self\._batch_reweighting\(\) if training else None",
             "reweighting = self._batch_reweighting()")],
           ["tests/test_callbacks.py::TestFallbackLoss"]),
]


def apply(mutant, package):
    """Write ``mutant``'s bug into the copy of sk_mr at ``package``."""
    for filename, pattern, replacement in mutant.edits:
        path = os.path.join(package, filename)
        with open(path) as f:
            source = f.read()
        found = len(re.findall(pattern, source))
        if found != 1:
            raise SystemExit(
                f"mutation check: mutant {mutant.name!r} expects the pattern {pattern!r} "
                f"exactly once in sk_mr/{filename}, found it {found} time(s). The code "
                "moved: update the mutant in tests/mutation/run.py to the new code.")
        with open(path, "w") as f:
            f.write(re.sub(pattern, replacement, source))


#: The third-party packages every test run imports (torch alone takes
#: seconds): each runner imports them once, and each run forks from it.
PRELOAD = ("numpy", "torch", "sklearn", "skorch", "scipy", "pytest")

#: A runner: a process that imports :data:`PRELOAD` (never sk_mr) and then,
#: for each request (one JSON line on stdin: the folder holding the copy of
#: sk_mr and pytest's arguments), forks a child that runs pytest against that
#: copy with its output in files, and answers with the child's exit status.
#: The runner itself runs nothing else, so every child starts from the same
#: state a fresh interpreter would reach by importing the same packages.
RUNNER = r"""
import importlib, json, os, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            tmp, package = request["tmp"], request["package"]
            for fd, name in ((1, "stdout"), (2, "stderr")):
                target = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT, 0o600)
                os.dup2(target, fd)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            sys.stderr = os.fdopen(2, "w", buffering=1)
            os.chdir(tmp)
            os.environ.update(PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1")
            sys.dont_write_bytecode = True
            # the copy first, and not the repository's root: check what imports
            sys.path.insert(0, tmp)
            import sk_mr, pytest
            if not sk_mr.__file__.startswith(package):
                sys.exit("mutation check: imported " + sk_mr.__file__)
            code = pytest.main(request["args"])
        except SystemExit as stop:  # sys.exit's own rules: None is 0, a message 1
            code = 0 if stop.code is None else stop.code if isinstance(stop.code, int) else 1
            if isinstance(stop.code, str):
                print(stop.code, file=sys.stderr)
        except BaseException as error:
            print(repr(error), file=sys.stderr)
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(code))
    _, status = os.waitpid(pid, 0)
    print(json.dumps(os.waitstatus_to_exitcode(status)), flush=True)
"""


class Runner:
    """A :data:`RUNNER` process; :meth:`run` runs one request at a time."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", RUNNER, *PRELOAD], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, cwd=tempfile.gettempdir(),
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def run(self, tmp, package, args):
        self.process.stdin.write(json.dumps(dict(tmp=tmp, package=package, args=args)) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("mutation check: a test runner process died.")
        return json.loads(answer)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


class Result:
    """What one run of the tests gave: exit status, output, seconds."""

    def __init__(self, returncode, stdout, stderr, seconds):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.seconds = seconds


def run_tests(runner, tests, mutant=None):
    """Run ``tests`` against a copy of sk_mr (with ``mutant`` applied) in a
    child of ``runner``; return the :class:`Result`."""
    with tempfile.TemporaryDirectory(prefix="sk_mr_mutant_") as tmp:
        package = os.path.join(tmp, "sk_mr")
        shutil.copytree(os.path.join(REPO, "sk_mr"), package,
                        ignore=shutil.ignore_patterns("__pycache__"))
        if mutant is not None:
            apply(mutant, package)
        start = time.perf_counter()
        returncode = runner.run(tmp, package, [
            "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly",
            "--rootdir", REPO, *[os.path.join(REPO, t) for t in tests]])
        seconds = time.perf_counter() - start
        output = {}
        for name in ("stdout", "stderr"):
            path = os.path.join(tmp, name)
            output[name] = open(path).read() if os.path.exists(path) else ""
        return Result(returncode, output["stdout"], output["stderr"], seconds)


def outcome(result):
    """'passed', 'failed' (a test failed: killed) or 'error' (the run broke)."""
    if result.returncode == 0:
        return "passed"
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode == 1 and " failed" in summary:
        return "failed"
    return "error"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m.name}: {m.bug}\n    killed by {', '.join(m.tests)}")
        return 0
    start = time.perf_counter()
    # every pattern first: a moved line fails at once, before any test runs
    with tempfile.TemporaryDirectory() as tmp:
        for m in MUTANTS:
            shutil.copytree(os.path.join(REPO, "sk_mr"), os.path.join(tmp, m.name))
            apply(m, os.path.join(tmp, m.name))
    all_tests = list(dict.fromkeys(t for m in MUTANTS for t in m.tests))
    jobs = max(1, args.jobs)
    runners = queue.Queue()
    for _ in range(jobs):
        runners.put(Runner())

    def run(tests, mutant=None):
        runner = runners.get()
        try:
            return run_tests(runner, tests, mutant)
        finally:
            runners.put(runner)

    # the unmutated run goes first in the queue; the mutants run beside it
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            pending_baseline = pool.submit(run, all_tests)
            results = list(pool.map(lambda m: (m, run(m.tests, m)), MUTANTS))
            baseline = pending_baseline.result()
    finally:
        while not runners.empty():
            runners.get().close()
    if outcome(baseline) != "passed":
        print(baseline.stdout[-3000:], baseline.stderr[-2000:], sep="\n")
        print("mutation check: the tests fail without any mutant, so the check "
              "cannot tell; fix them first.")
        return 1
    print(f"baseline: {len(all_tests)} test selections pass unmutated "
          f"({baseline.seconds:.0f}s)")
    survivors, broken = [], []
    for mutant, result in results:
        state = outcome(result)
        verdict = {"failed": "killed", "passed": "SURVIVED", "error": "BROKEN"}[state]
        print(f"{verdict:<8} {mutant.name:<30} ({result.seconds:4.0f}s) {mutant.bug}")
        if state == "passed":
            survivors.append(mutant)
        elif state == "error":
            broken.append(mutant)
            print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")
    print(f"{len(MUTANTS) - len(survivors) - len(broken)} of {len(MUTANTS)} mutants killed "
          f"in {time.perf_counter() - start:.0f}s")
    for mutant in survivors:
        print(f"mutation check: {mutant.name!r} survived: no test in {mutant.tests} "
              f"notices {mutant.bug}.")
    for mutant in broken:
        print(f"mutation check: {mutant.name!r} broke the test run instead of failing a "
              "test (see its output above).")
    return 1 if survivors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
