"""``.. results-table:: results/FILE.json``: a measured grid as a real table.

The records are those written by ``python -m sk_mr reproduce noisy-labels``
(one per method, noise rate and seed). The directive lays them out with the
methods as rows and the noise rates as columns (so that the table fits the
page), each cell the mean +- standard deviation over seeds of the clean test
accuracy in percent, computed as the reproduce command's own table does
(the sample std, :func:`sk_mr._stats.mean_std`). The best mean of each column is set in bold.
"""

import json
import math

from docutils import nodes
from docutils.parsers.rst import Directive, directives

from sk_mr._stats import mean_std
from sk_mr.paper.reproduce.noisy_labels import TABLE1_METHODS

LABELS = {"base": "plain", "random": "random weighting", "mixup": "mixup",
          "ls": "label smoothing", "arazo": "Arazo et al. (M-DYR-H)"}


def method_label(method):
    return " + ".join(LABELS.get(part, part.upper() if part == "mr" else part)
                      for part in method.split("+"))


def summarize(records, value="test_accuracy"):
    """Return (methods, rates, cells, n_seeds): cells[method][rate] = (mean, std)."""
    methods = [m for m in TABLE1_METHODS if any(r["method"] == m for r in records)]
    methods += sorted({r["method"] for r in records} - set(methods))
    rates = sorted({r["noise_rate"] for r in records})
    cells, seeds = {}, set()
    for method in methods:
        for rate in rates:
            values = [100 * r[value] for r in records if r["method"] == method
                      and math.isclose(r["noise_rate"], rate)]
            if values:
                cells.setdefault(method, {})[rate] = mean_std(values)
                seeds.add(len(values))
    return methods, rates, cells, sorted(seeds)


def _entry(text, bold=False):
    entry = nodes.entry()
    para = nodes.paragraph()
    para += nodes.strong(text=text) if bold else nodes.Text(text)
    entry += para
    return entry


class ResultsTable(Directive):
    required_arguments = 1
    option_spec = {"value": directives.unchanged, "caption": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        rel, path = env.relfn2path(self.arguments[0])
        env.note_dependency(rel)
        with open(path) as f:
            records = json.load(f)
        value = self.options.get("value", "test_accuracy")
        methods, rates, cells, seeds = summarize(records, value)
        best = {rate: max(cells[m][rate][0] for m in methods if rate in cells.get(m, {}))
                for rate in rates}

        table = nodes.table(classes=["results-table"])
        first = records[0]
        total = sum(r.get("fit_seconds", 0.0) for r in records)
        caption = self.options.get("caption") or (
            f"{first['dataset']}: {first['recipe_arch']}, {first['epochs']} epochs, "
            f"{first['n_train']} training / {first['n_test']} test examples; clean test "
            f"accuracy (%), mean ± std over {', '.join(map(str, seeds))} seeds; "
            f"{len(records)} fits, {total / 60:.0f} min of fit time in total.")
        title = nodes.title(text=caption)
        table += title
        group = nodes.tgroup(cols=1 + len(rates))
        table += group
        group += nodes.colspec(colwidth=3)
        for _ in rates:
            group += nodes.colspec(colwidth=2)
        head = nodes.thead()
        row = nodes.row()
        row += _entry("method")
        for rate in rates:
            row += _entry(f"{rate:.0%} noise")
        head += row
        group += head
        body = nodes.tbody()
        for method in methods:
            row = nodes.row()
            row += _entry(method_label(method))
            for rate in rates:
                if rate not in cells.get(method, {}):
                    row += _entry("–")
                    continue
                mean, std = cells[method][rate]
                row += _entry(f"{mean:.2f} ± {std:.2f}", bold=math.isclose(mean, best[rate]))
            body += row
        group += body
        return [table]


def setup(app):
    app.add_directive("results-table", ResultsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
