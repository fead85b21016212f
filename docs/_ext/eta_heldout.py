"""``.. eta-heldout-table::``: the defaults against the one-fit peers, from the records.

Renders, at build time, ``benchmarks/eta.py``'s held-out comparison
(:func:`heldout_rows`) from ``benchmarks/results/eta.jsonl``: the methods as
rows and the held-out settings as columns, each cell the mean ± sample std
over seeds of the clean test accuracy (%), the best mean of each column in
bold whoever it is; then the fits and seconds per fit of each method and the
goal lines of :func:`heldout_goals`; ``.. eta-goal-reach::`` renders
:func:`goal_reach` over every round. No number is typed by hand.
"""

import importlib.util
import os

import numpy as np
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from results_tables import _entry  # docs/_ext: one table cell, bold or not

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDS = os.path.join(ROOT, "benchmarks", "results", "eta.jsonl")


#: What one build has read, by the files it was read from: ``(stamps,
#: value)``, read again where a file's stamp (modification time and size)
#: changed. A build renders some thirty of these directives, each from the
#: same script and records.
_READ = {}


def _cached(paths, read):
    stamps = tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in paths)
    entry = _READ.get(paths)
    if entry is None or entry[0] != stamps:
        entry = _READ[paths] = (stamps, read())
    return entry[1]


def _benchmark(script="eta.py", name="eta_benchmark"):
    """A script of ``benchmarks/``, imported as the module ``name`` (once per
    version of the file)."""
    path = os.path.join(ROOT, "benchmarks", script)

    def load():
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return _cached((path,), load)


def _bench_and_records(directive):
    """The benchmark module and every record of ``RECORDS`` (a copy of the
    list this build read, so that no directive sees another's changes); the
    page is rebuilt when the records change."""
    directive.state.document.settings.env.note_dependency(RECORDS)
    bench = _benchmark()
    records = _cached((RECORDS, bench.__file__),
                      lambda: bench.ResultsFile(RECORDS, bench.SETTINGS).records)
    return bench, bench.Records(records)


def _bullets(lines):
    """A bullet list of text lines."""
    items = nodes.bullet_list()
    for text in lines:
        item = nodes.list_item()
        item += nodes.paragraph(text=text)
        items += item
    return items


def _table(title, widths, header, rows):
    """A results table: ``header`` texts, then ``rows``, lists of cells, each a
    text or a ``(text, bold)`` pair; ``widths`` are the relative column widths."""
    table = nodes.table(classes=["results-table"])
    table += nodes.title(text=title)
    group = nodes.tgroup(cols=len(widths))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    for section, lines in ((nodes.thead(), [header]), (nodes.tbody(), rows)):
        for cells in lines:
            line = nodes.row()
            for cell in cells:
                text, bold = cell if isinstance(cell, tuple) else (cell, False)
                line += _entry(text, bold=bold)
            section += line
        group += section
    return table


def _mean_std_text(cell):
    """A cell's ``mean ± std``, or a dash where it was not run."""
    return "–" if cell is None else f"{cell['mean']:.1f} ± {cell['std']:.1f}"


def _accuracy_table(which, rows, columns, cost):
    """Methods as rows, settings as columns: each cell the mean ± sample std of
    the clean test accuracy (%), the best mean of each column in bold; an
    oracle column's eta on a row of its own (inside the cells it would widen
    every column); with ``cost``, a last column of fits and seconds per fit.

    ``rows`` are :func:`heldout_rows`-like dicts, ``columns`` ``(method,
    label, kind)`` triples.
    """
    seeds = sorted({c["n"] for r in rows for c in r["cells"].values() if c})
    title = (f"{which}: clean test accuracy (%), mean ± sample std over "
             f"{'/'.join(map(str, seeds))} seeds; bold: the best mean of the column")
    header = (["method"] + [r["setting"] + (" (clean)" if r["clean"] else "") for r in rows]
              + (["fits / s per fit"] if cost else []))
    best = {r["setting"]: max(c["mean"] for c in r["cells"].values() if c) for r in rows}
    lines = []
    for method, label, kind in columns:
        line = [label]
        for row in rows:
            cell = row["cells"].get(method)
            line.append((_mean_std_text(cell), cell is not None
                         and bool(np.isclose(cell["mean"], best[row["setting"]]))))
        if cost:
            cells = [r["cells"][method] for r in rows if r["cells"].get(method)]
            line.append(f"{np.mean([c['fits'] for c in cells]):.0f} / "
                        f"{np.mean([c['seconds'] for c in cells]):.1f}")
        lines.append(line)
        if kind == "oracle":
            cells = [row["cells"].get(method) for row in rows]
            lines.append(["    its eta"] + ["–" if c is None else f"{c['eta']:g}" for c in cells]
                         + ([""] if cost else []))
    return _table(title, [4] + [2] * (len(rows) + int(cost)), header, lines)


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


def _compact(names):
    """Settings named by round: ``F1 F7 G1`` as ``F1/7 G1`` (the which-method
    table's widest cell, kept within the page)."""
    rounds = {}
    for name in names:
        rounds.setdefault(name[0], []).append(name[1:])
    return " ".join(letter + "/".join(numbers) for letter, numbers in rounds.items())


class WhichMethodTable(Directive):
    """``.. which-method-table::``: the best one-fit methods by kind of noise,
    or, with ``:by: schedule``, by length of schedule and optimizer (the
    noisy settings; :func:`schedule_groups`)."""

    has_content = False
    option_spec = {"by": lambda value: directives.choice(value, ("noise", "schedule"))}

    def run(self):
        bench, records = _bench_and_records(self)
        settings = bench.heldout_settings()
        records = [r for r in records if r["setting"] in settings]
        by_schedule = self.options.get("by", "noise") == "schedule"
        groups = bench.which_method(bench.heldout_rows(records, settings),
                                    bench.schedule_groups(settings) if by_schedule else None)
        lines, members_of = [], []
        for name, members, ranking in groups:
            # "noise" is said by the column's title; the settings, which grow
            # with every round, are listed under the table
            line = [name.removesuffix(" noise"), str(len(members))]
            members_of.append(f"{name}: {_compact(members)}")
            line += [(f"{label}: {mean:.1f}", label == ranking[0][1])
                     for mean, label, _ in ranking[:2]]
            line += ["–"] * (2 - len(ranking[:2]))
            labels = [label for _, label, _ in ranking]
            line.append(f"{ranking[labels.index('MR default')][0]:.1f} "
                        f"({labels.index('MR default') + 1} of {len(ranking)})"
                        if "MR default" in labels else "–")
            lines.append(line)
        if by_schedule:
            title = ("One fit, by schedule and optimizer: mean clean test accuracy (%) over "
                     "the noisy held-out settings of each (3 seeds each), best first")
            first = "schedule, optimizer"
        else:
            title = ("One fit, by kind of label noise: mean clean test accuracy (%) over "
                     "the held-out settings of each kind (3 seeds each), best first")
            first = "label noise"
        return [_table(title, (3, 1, 3, 3, 3),
                       (first, "settings", "most accurate", "second", "MR default"),
                       lines), _bullets(members_of)]


class EtaGoalReach(Directive):
    """``.. eta-goal-reach::``: every one-fit method against the best other
    peer of each noisy held-out setting, over all rounds (:func:`goal_reach`),
    then how much of the default's gap three seeds explain
    (:func:`seed_noise`)."""

    has_content = False

    def run(self):
        bench, records = _bench_and_records(self)
        settings = bench.heldout_settings()
        records = [r for r in records if r["setting"] in settings]
        self.state.document.settings.env.note_dependency(bench.MORE_SEEDS_OUT)
        fresh = [line for line in bench.more_seeds(records, bench.more_seeds_records(),
                                                    settings)
                 if not bench._is_setting_line(line)]
        return [_bullets(bench.goal_reach(bench.heldout_rows(records, settings))
                         + bench.seed_noise(records, settings) + fresh)]


class EtaMoreSeeds(Directive):
    """``.. eta-more-seeds::``: the noisy settings where the default was
    behind the best peer on the table's seeds, on seeds of their own
    (:func:`more_seeds`), a row each."""

    has_content = False

    def run(self):
        bench, records = _bench_and_records(self)
        settings = bench.heldout_settings()
        self.state.document.settings.env.note_dependency(bench.MORE_SEEDS_OUT)
        found = bench.more_seeds_rows([r for r in records if r["setting"] in settings],
                                      bench.more_seeds_records(), settings)
        if not found:
            return [nodes.paragraph(text="No records of more seeds yet.")]

        def gap(triple, error=False):
            value, standard_error, peer = triple
            spread = f" ± {standard_error:.2f}" if error else ""
            return f"{value:+.2f}{spread} ({peer})"

        rows = [[name, gap(table), gap(new), gap(every, error=True)]
                for name, _, table, new, every in found]
        fresh = sorted({seed for _, seeds, *_ in found for seed in seeds})
        header = ["setting", "seeds 0-2 (the table's)",
                  f"seeds {bench._seed_range(fresh)} alone",
                  "every seed, ± paired standard error"]
        title = ("Default minus the best one-fit peer (chosen on the same seeds; in "
                 "brackets), in points of clean test accuracy")
        return [_table(title, [1, 3, 3, 4], header, rows)]


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
        lines = [[row["setting"] + ("" if bench.SETTINGS[row["setting"]].noisy else " (clean)")]
                 + [_mean_std_text(row["cells"].get(c)) for c in bench.SPLIT_COLUMNS]
                 for row in rows]
        table = _table(
            "With skorch's default validation split: clean test accuracy (%), mean ± "
            "sample std over 3 seeds, at the last epoch and at the best validation "
            "accuracy's; the first column trains on every row",
            [1] + [2] * len(bench.SPLIT_COLUMNS),
            ["setting"] + [labels[c] for c in bench.SPLIT_COLUMNS], lines)
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


class RegressionTable(Directive):
    """``.. regression-table::``: ``benchmarks/regression.py``'s settings as
    rows, the methods as columns (test RMSE against the clean targets, in
    their standard deviations, mean ± sample std; the lowest one-fit mean of
    each row in bold), then its decision and held-out lines."""

    has_content = False

    def run(self):
        path = os.path.join(ROOT, "benchmarks", "results", "regression.jsonl")
        self.state.document.settings.env.note_dependency(path)
        bench = _benchmark("regression.py", "regression_benchmark")
        records = bench._load(path)
        if not records:
            raise self.error(f"no records in {path}")
        table = bench.cells(records)
        default = f"default (eta={bench.shipped_eta():g})"
        columns = [("mse", "MSE"), ("huber", "Huber"), ("l1", "L1"), ("default", default),
                   ("default:unit1", "before (0.01, raw unit)"),
                   (bench.LEAD, "MR + L1 (0.03), a lead")]
        one_fit = ("mse", "huber", "l1", "default")
        rows = []
        for name, setting in bench.SETTINGS.items():
            cells = {m: table.get((name, m)) for m, _ in columns}
            if not any(cells[m] for m in one_fit):
                continue  # not run yet
            grid = {eta: table.get((name, f"eta={eta:g}")) for eta in bench.ETA_GRID}
            best = min(cells[m][0] for m in one_fit if cells[m])
            line = [name + {"tuning": " (tuning)", "lead-check": " (check)"}.get(
                setting.role, "")]
            for method, _ in columns:
                cell = cells[method]
                line.append("–" if cell is None else (
                    f"{cell[0]:.3f} ± {cell[1]:.3f}", method in one_fit and cell[0] == best))
            found = {eta: c for eta, c in grid.items() if c}
            eta = min(found, key=lambda e: found[e][0]) if found else None
            line.append("–" if eta is None else f"{found[eta][0]:.3f} ({eta:g})")
            rows.append(line)
        header = ["setting"] + [label for _, label in columns] + ["grid's best (eta)"]
        lines = bench.format_table(records).splitlines()
        decision = [line for line in lines if line.startswith(("tuning settings", "seconds"))]
        title = ("Regression with outlying targets: test RMSE against the clean targets, "
                 "in their standard deviations (lower is better), 3 seeds")
        settings = _bullets([f"{name}: {setting.description}"
                             for name, setting in bench.SETTINGS.items()])
        return [settings, _table(title, [10] + [12] * (len(header) - 1), header, rows),
                _bullets(decision + bench.heldout_lines(table)
                         + bench.heldout_lines(table, role="lead-check")
                         + bench.lead_check_lines(table))]


class EtaFinalRound(Directive):
    """``.. eta-final-round::``: round I, the default as it ships (its last
    change screened on I) in a file of its own: its table and goal lines
    (:func:`final_round`)."""

    has_content = False

    def run(self):
        bench = _benchmark()
        self.state.document.settings.env.note_dependency(bench.FINAL_ROUND_OUT)
        records = bench.final_round_records()
        lines = bench.final_round(records)
        if not lines:
            raise self.error(f"no records of round {bench.FINAL_ROUND} in "
                             f"{bench.FINAL_ROUND_OUT}")
        rows = bench.final_round_rows(records)
        names = [r["setting"] for r in rows]
        columns = [c for c in bench.HELDOUT_COLUMNS if any(r["cells"].get(c[0]) for r in rows)]
        title = (f"Held-out settings {names[0]}-{names[-1]} (round "
                 f"{bench.FINAL_ROUND}: the default as it ships, its last change "
                 f"screened on {bench.FINAL_ROUND})")
        return [_accuracy_table(title, rows, columns, cost=True), _bullets(lines)]


def setup(app):
    app.add_directive("regression-table", RegressionTable)
    app.add_directive("eta-heldout-table", EtaHeldoutTable)
    app.add_directive("which-method-table", WhichMethodTable)
    app.add_directive("eta-goal-reach", EtaGoalReach)
    app.add_directive("eta-more-seeds", EtaMoreSeeds)
    app.add_directive("eta-final-round", EtaFinalRound)
    app.add_directive("eta-binary-table", EtaBinaryTable)
    app.add_directive("eta-split-table", EtaSplitTable)
    app.add_directive("demo-table", DemoTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
