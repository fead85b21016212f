"""The README's measured tables are the committed records, not numbers typed by hand.

Each table sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in
README.md and is regenerated here from ``benchmarks/results/`` by the same
code that prints it (``python benchmarks/eta.py --table --markdown``).
"""

import importlib.util
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _block(name):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert match, f"README.md has no {name} block"
    return match.group(1).strip()


@pytest.fixture(scope="module")
def eta_benchmark():
    spec = importlib.util.spec_from_file_location(
        "eta_benchmark_for_readme", os.path.join(ROOT, "benchmarks", "eta.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def heldout_rows(eta_benchmark):
    bench = eta_benchmark
    settings = {n: s for n, s in bench.SETTINGS.items() if n.startswith("F")}
    path = os.path.join(ROOT, "benchmarks", "results", "eta.jsonl")
    records = [r for r in bench.ResultsFile(path, bench.SETTINGS).records
               if r["setting"] in settings]
    return bench.heldout_rows(records, settings)


def test_heldout_table_is_the_records(eta_benchmark, heldout_rows):
    expected = eta_benchmark.format_heldout_markdown(heldout_rows)
    assert _block("heldout-table") == expected.strip()


def test_heldout_goal_lines_are_the_records(eta_benchmark, heldout_rows):
    lines = eta_benchmark.heldout_goals(heldout_rows)
    assert _block("heldout-goals") == "\n".join(f"- {line}" for line in lines)


def test_demo_table_is_the_records():
    import json

    from sk_mr.paper.demo import format_demo_table

    with open(os.path.join(ROOT, "docs", "results", "demo.json")) as f:
        records = json.load(f)
    assert _block("demo-table") == "```\n" + format_demo_table(records) + "\n```"
