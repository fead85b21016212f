"""The README's measured tables are the committed records, not numbers typed by hand.

Each table sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in
README.md and is regenerated here from ``benchmarks/results/`` by the same
code that prints it (``python benchmarks/eta.py --table --markdown``).
"""

import os
import re

import numpy as np
import pytest

from conftest import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _block(name):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert match, f"README.md has no {name} block"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def eta_benchmark():
    return load_script("benchmarks/eta.py", "eta_benchmark_for_readme")


@pytest.fixture(scope="module")
def records(eta_benchmark):
    path = os.path.join(ROOT, "benchmarks", "results", "eta.jsonl")
    return eta_benchmark.ResultsFile(path, eta_benchmark.SETTINGS).records


@pytest.fixture(scope="module")
def blocks(eta_benchmark, records):
    # every block from one pass over the records (each took about 5 s)
    return eta_benchmark.readme_blocks(records)


@pytest.mark.parametrize("name", ["heldout-summary", "heldout-table-latest",
                                  "heldout-goals", "heldout-goal-lines", "heldout-reach",
                                  "heldout-final-round"])
def test_heldout_blocks_are_the_records(blocks, name):
    # the summary by kind of noise, the latest round's table, the goals and
    # the reach over all held-out settings, and round I's goals (its own file)
    assert _block(name) == blocks[name].strip()


def test_final_round_block_reads_every_setting_of_the_round(eta_benchmark):
    # round I ran whole: each of its seven settings has its line (five noisy
    # against the best peer, two clean against plain cross-entropy), read
    # from its own file and not from the table's
    block = _block("heldout-final-round")
    names = [n for n in eta_benchmark.SETTINGS
             if eta_benchmark.round_of(n) == eta_benchmark.FINAL_ROUND]
    assert len(names) == 7
    for name in names:
        clean = not eta_benchmark.SETTINGS[name].noisy
        assert f"- {'clean ' if clean else ''}{name}: default" in block, name
    label = "round I, the default as it ships (its last change screened on I)"
    for goal in ("noisy settings (5): default - best one-fit peer",
                 "clean settings (2): default - plain",
                 "eta='auto' as it ships (the default) - best grid eta over 7 settings"):
        assert f"- {label}: {goal}" in block, goal


def test_goal_lines_cover_every_round(eta_benchmark, records):
    goals = _block("heldout-goal-lines")
    assert eta_benchmark.ALL_ROUNDS == "FGJKLMNOPRUVWXYZTEDCA"
    for name in eta_benchmark.heldout_settings():
        if np.any(np.asarray(eta_benchmark.SETTINGS[name].noise_rate) > 0):
            assert f"{name}: default" in goals, name


def test_demo_table_is_the_records():
    import json

    from sk_mr.paper.demo import format_demo_table

    with open(os.path.join(ROOT, "docs", "results", "demo.json")) as f:
        records = json.load(f)
    assert _block("demo-table") == "```\n" + format_demo_table(records) + "\n```"


def test_reserved_rounds_are_frozen_and_outside_the_table(eta_benchmark, records,
                                                          monkeypatch):
    # a round kept out of the table (I: frozen for the next candidate, then
    # run once as the last check, into a file of its own; AA: frozen for the
    # check of the next candidate; AB for the one after) has its settings
    # committed, no record in the table's file, and runs only when named
    # (never by a bare run)
    for prefix in eta_benchmark.RESERVED_ROUNDS:
        names = [n for n in eta_benchmark.SETTINGS if eta_benchmark.round_of(n) == prefix]
        assert len(names) == 7
        assert not [r for r in records if eta_benchmark.round_of(r["setting"]) == prefix]
        # a round's letter is not the --quick grid's (which a reserved
        # letter would leave out of every quick run)
        assert not [n for n in eta_benchmark.QUICK_SETTINGS if n[0] == prefix]
    ran = []
    monkeypatch.setattr(eta_benchmark, "run", lambda settings, *a, **k: ran.append(
        list(settings)) or [])
    # a two-letter code is a round of its own: AA is left out, A is not
    assert eta_benchmark.round_of("AA3") == "AA" and eta_benchmark.round_of("A3") == "A"
    eta_benchmark.main(["--seeds", "1", "--out", "/dev/null"])
    assert "A1" in ran[0] and not {"AA1", "AB1", "I1"} & set(ran[0])
    # the mechanism, on L as it was reserved before its one run
    monkeypatch.setattr(eta_benchmark, "RESERVED_ROUNDS", ("L",))
    eta_benchmark.main(["--seeds", "1", "--out", "/dev/null"])
    assert "K7" in ran[1] and not [n for n in ran[1] if n[0] == "L"]
    eta_benchmark.main(["--seeds", "1", "--out", "/dev/null", "--settings", "L1"])
    assert ran[2] == ["L1"]
