"""``.. eta-heldout-table::``: the defaults against the one-fit peers, from the records.

Renders, at build time, ``benchmarks/eta.py``'s held-out comparison
(:func:`heldout_rows`) from ``benchmarks/results/eta.jsonl``: the methods as
rows and the held-out settings as columns, each cell the mean ± sample std
over seeds of the clean test accuracy (%), the best mean of each column in
bold whoever it is; then the fits and seconds per fit of each method and the
goal lines of :func:`heldout_goals`. No number is typed by hand.
"""

import importlib.util
import os

import numpy as np
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from results_tables import _entry  # docs/_ext: one table cell, bold or not

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDS = os.path.join(ROOT, "benchmarks", "results", "eta.jsonl")


def _benchmark():
    spec = importlib.util.spec_from_file_location(
        "eta_benchmark", os.path.join(ROOT, "benchmarks", "eta.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module




def _bench_and_records(directive):
    """The benchmark module and every record of ``RECORDS``; the page is
    rebuilt when the records change."""
    directive.state.document.settings.env.note_dependency(RECORDS)
    bench = _benchmark()
    return bench, bench.ResultsFile(RECORDS, bench.SETTINGS).records


def _bullets(lines):
    """A bullet list of text lines."""
    items = nodes.bullet_list()
    for text in lines:
        item = nodes.list_item()
        item += nodes.paragraph(text=text)
        items += item
    return items


def _accuracy_table(which, rows, columns, cost):
    """Methods as rows, settings as columns: each cell the mean ± sample std of
    the clean test accuracy (%), the best mean of each column in bold; an
    oracle column's eta on a row of its own (inside the cells it would widen
    every column); with ``cost``, a last column of fits and seconds per fit.

    ``rows`` are :func:`heldout_rows`-like dicts, ``columns`` ``(method,
    label, kind)`` triples.
    """
    seeds = sorted({c["n"] for r in rows for c in r["cells"].values() if c})
    table = nodes.table(classes=["results-table"])
    table += nodes.title(text=(
        f"{which}: clean test accuracy (%), mean ± sample std over "
        f"{'/'.join(map(str, seeds))} seeds; bold: the best mean of the column"))
    group = nodes.tgroup(cols=1 + len(rows) + int(cost))
    table += group
    group += nodes.colspec(colwidth=4)
    for _ in range(len(rows) + int(cost)):
        group += nodes.colspec(colwidth=2)
    head = nodes.thead()
    header = nodes.row()
    header += _entry("method")
    for row in rows:
        header += _entry(row["setting"] + (" (clean)" if row["clean"] else ""))
    if cost:
        header += _entry("fits / s per fit")
    head += header
    group += head
    body = nodes.tbody()
    best = {r["setting"]: max(c["mean"] for c in r["cells"].values() if c) for r in rows}
    for method, label, kind in columns:
        line = nodes.row()
        line += _entry(label)
        for row in rows:
            cell = row["cells"].get(method)
            line += _entry("–" if cell is None else f"{cell['mean']:.1f} ± {cell['std']:.1f}",
                           bold=cell is not None
                           and bool(np.isclose(cell["mean"], best[row["setting"]])))
        if cost:
            cells = [r["cells"][method] for r in rows if r["cells"].get(method)]
            line += _entry(f"{np.mean([c['fits'] for c in cells]):.0f} / "
                           f"{np.mean([c['seconds'] for c in cells]):.1f}")
        body += line
        if kind == "oracle":
            line = nodes.row()
            line += _entry("    its eta")
            for row in rows:
                cell = row["cells"].get(method)
                line += _entry("–" if cell is None else f"{cell['eta']:g}")
            if cost:
                line += _entry("")
            body += line
    group += body
    return table


class EtaHeldoutTable(Directive):
    """``.. eta-heldout-table::``: a held-out round (``:round: F`` by default, or
    ``G``) with its goal lines, or the tuning settings named in ``:settings:``."""

    has_content = False
    option_spec = {"settings": directives.unchanged, "round": directives.unchanged}

    def run(self):
        bench, all_records = _bench_and_records(self)
        names = (self.options.get("settings") or "").split()
        tuning = bool(names)
        held_out = self.options.get("round", "F").strip()
        settings = ({n: s for n, s in bench.SETTINGS.items() if n in names} if tuning
                    else bench.heldout_settings(held_out))
        if not settings:
            raise self.error(f"no settings for :settings: {names} / :round: {held_out!r}")
        records = [r for r in all_records if r["setting"] in settings]
        rows = bench.heldout_rows(records, settings)
        columns = [c for c in bench.HELDOUT_COLUMNS
                   if any(r["cells"].get(c[0]) for r in rows)]

        which = (f"Tuning settings {names[0]}-{names[-1]}" if tuning
                 else f"Held-out settings {min(settings)}-{max(settings)} "
                      f"({dict(bench.HELDOUT_ROUNDS)[held_out]})")
        table = _accuracy_table(which, rows, columns, cost=True)
        if tuning:
            return [table]
        return [table, _bullets(bench.heldout_goals(rows))]


class WhichMethodTable(Directive):
    """``.. which-method-table::``: the best one-fit methods by kind of noise."""

    has_content = False

    def run(self):
        bench, records = _bench_and_records(self)
        settings = bench.heldout_settings()
        records = [r for r in records if r["setting"] in settings]
        groups = bench.which_method(bench.heldout_rows(records, settings))
        table = nodes.table(classes=["results-table"])
        table += nodes.title(text=(
            "One fit, by kind of label noise: mean clean test accuracy (%) over the "
            "held-out settings of each kind (3 seeds each), best first"))
        group_node = nodes.tgroup(cols=5)
        table += group_node
        for width in (3, 2, 3, 3, 3):
            group_node += nodes.colspec(colwidth=width)
        head = nodes.thead()
        header = nodes.row()
        for text in ("labels", "settings", "most accurate", "second", "MR default"):
            header += _entry(text)
        head += header
        group_node += head
        body = nodes.tbody()
        for name, members, ranking in groups:
            row = nodes.row()
            row += _entry(name)
            row += _entry(", ".join(members))
            for mean, label, _ in ranking[:2]:
                row += _entry(f"{label}: {mean:.1f}", bold=label == ranking[0][1])
            for _ in range(2 - len(ranking[:2])):
                row += _entry("–")
            default = [(m, l) for m, l, _ in ranking if l == "MR default"]
            place = [l for _, l, _ in ranking].index("MR default") + 1 if default else None
            row += _entry(f"{default[0][0]:.1f} ({place} of {len(ranking)})"
                          if default else "–")
            body += row
        group_node += body
        return [table]


class EtaBinaryTable(Directive):
    """``.. eta-binary-table::``: MRBinaryClassifier on the binary settings B1-B3."""

    has_content = False

    def run(self):
        bench, records = _bench_and_records(self)
        rows = bench.binary_rows(records)
        columns = [(method, label, "oracle" if method == "oracle" else "mr")
                   for method, label in bench.BINARY_COLUMNS]
        return [_accuracy_table("Held-out binary settings B1-B3 (one logit, BCE)", rows,
                                columns, cost=False)]


class EtaSplitTable(Directive):
    """``.. eta-split-table::``: the methods with skorch's default validation
    split, at the last epoch and at the best validation accuracy's."""

    has_content = False

    def run(self):
        bench, records = _bench_and_records(self)
        names = [n for n in bench.SETTINGS if any(
            r["setting"] == n and r["method"].startswith("split:") for r in records)]
        rows = bench.split_rows(records, names)
        if not rows:
            raise self.error("no split: records in benchmarks/results/eta.jsonl")
        labels = {"default, all rows": "MR default, every row"}
        for method, label in (("default", "MR default"), ("plain", "plain CE"),
                              ("sce", "SCE"), ("arazo", "Arazo")):
            labels[f"{method}, last"] = f"{label}, last"
            labels[f"{method}, best valid_acc"] = f"{label}, best"
        # settings as rows (there are many), the columns as methods
        table = nodes.table(classes=["results-table"])
        table += nodes.title(text=(
            "With skorch's default validation split: clean test accuracy (%), mean ± "
            "sample std over 3 seeds, at the last epoch and at the best validation "
            "accuracy's; the first column trains on every row"))
        group = nodes.tgroup(cols=1 + len(bench.SPLIT_COLUMNS))
        table += group
        group += nodes.colspec(colwidth=1)
        for _ in bench.SPLIT_COLUMNS:
            group += nodes.colspec(colwidth=2)
        head = nodes.thead()
        header = nodes.row()
        header += _entry("setting")
        for column in bench.SPLIT_COLUMNS:
            header += _entry(labels[column])
        head += header
        group += head
        body = nodes.tbody()
        for row in rows:
            clean = not bool(np.any(np.asarray(bench.SETTINGS[row["setting"]].noise_rate) > 0))
            line = nodes.row()
            line += _entry(row["setting"] + (" (clean)" if clean else ""))
            for column in bench.SPLIT_COLUMNS:
                cell = row["cells"].get(column)
                line += _entry("–" if cell is None else f"{cell['mean']:.1f} ± {cell['std']:.1f}")
            body += line
        group += body
        return [table, _bullets(bench.split_summary(rows))]


class DemoTable(Directive):
    """``.. demo-table::``: the demo's table from ``docs/results/demo.json``."""

    has_content = False

    def run(self):
        import json

        from sk_mr.paper.demo import format_demo_table

        env = self.state.document.settings.env
        path = os.path.join(ROOT, "docs", "results", "demo.json")
        env.note_dependency(path)
        with open(path) as f:
            records = json.load(f)
        text = format_demo_table(records)
        return [nodes.literal_block(text, text)]


def setup(app):
    app.add_directive("eta-heldout-table", EtaHeldoutTable)
    app.add_directive("which-method-table", WhichMethodTable)
    app.add_directive("eta-binary-table", EtaBinaryTable)
    app.add_directive("eta-split-table", EtaSplitTable)
    app.add_directive("demo-table", DemoTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
