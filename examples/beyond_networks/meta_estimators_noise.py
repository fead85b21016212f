"""
MR around scikit-learn classifiers under label noise
====================================================

Evaluates :class:`sk_mr.MRMetaClassifier` around scikit-learn classifiers on
the digits and breast-cancer data sets with 0%, 20% and 40% ``'uniform'``
label noise on the training split (:func:`sk_mr.add_label_noise`; the test
labels stay clean).

For every data set, model, noise rate and seed:

* **plain**: the classifier fitted on the noisy training labels;
* **MR**: the same classifier wrapped in ``MRMetaClassifier(n_rounds=5)``,
  with ``eta`` chosen from a grid by accuracy on a *noisy* hold-out part
  (25%) of the training split (never on clean or test labels), then refitted
  on the whole noisy training split.

The documentation runs ``LogisticRegression`` with 3 seeds (seconds). Run as
a script for the other models, ``SGDClassifier(loss='log_loss')`` and a
shallow ``HistGradientBoostingClassifier`` (a few minutes on two cores)::

    python examples/beyond_networks/meta_estimators_noise.py --models LogisticRegression \
        SGDClassifier HistGradientBoosting --n-jobs 2

The gradient-boosting model is deliberately shallow (``max_depth=3``,
``min_samples_leaf=20``): MR can only spot noisy labels that keep a high
training loss, and a model flexible enough to memorize them hides them.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, ShuffleSplit, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_mr.meta import MRMetaClassifier
from sk_mr.noise import add_label_noise

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer}
MODELS = ("LogisticRegression", "SGDClassifier", "HistGradientBoosting")


def make_base(name, seed):
    """The classifier compared plain and MR-wrapped (same settings in both)."""
    if name == "LogisticRegression":
        return LogisticRegression(max_iter=1000)
    if name == "SGDClassifier":
        return SGDClassifier(loss="log_loss", random_state=seed)
    return HistGradientBoostingClassifier(max_iter=50, max_depth=3, min_samples_leaf=20,
                                          l2_regularization=1.0, random_state=seed)


def make_model(name, seed, mr=None):
    base = make_base(name, seed)
    if mr is not None:
        base = MRMetaClassifier(base, **mr)
    if name == "HistGradientBoosting":
        return base
    return make_pipeline(StandardScaler(), base)


def run_one(dataset, model_name, noise_rate, seed, eta_grid, n_rounds):
    """Clean test accuracy of plain and MR for one (data, model, noise, seed)."""
    start = time.perf_counter()
    # SGDClassifier often stops at max_iter (sklearn's default, kept for both
    # plain and MR) on noisy labels; the warning would drown the table.
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = DATASETS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed)
    y_noisy, _ = add_label_noise(y_train, noise_rate, kind="uniform",
                                 n_classes=len(np.unique(y)), random_state=seed)

    plain = make_model(model_name, seed).fit(X_train, y_noisy)

    mr_model = make_model(model_name, seed, mr=dict(eta=eta_grid[0], n_rounds=n_rounds))
    key = "eta" if model_name == "HistGradientBoosting" else "mrmetaclassifier__eta"
    # Select eta on a noisy hold-out split of the training data only.
    search = GridSearchCV(clone(mr_model), {key: list(eta_grid)},
                          cv=ShuffleSplit(1, test_size=0.25, random_state=seed))
    search.fit(X_train, y_noisy)
    return dict(dataset=dataset, model=model_name, noise=noise_rate, seed=seed,
                plain=plain.score(X_test, y_test),
                mr=search.best_estimator_.score(X_test, y_test),
                eta=search.best_params_[key], seconds=time.perf_counter() - start)


def format_table(results, noise_rates):
    header = "| data set | model | " + " | ".join(
        f"{int(100 * r)}% plain | {int(100 * r)}% MR" for r in noise_rates) + " | etas chosen |"
    lines = [header, "|" + "---|" * (2 + 2 * len(noise_rates) + 1)]
    for dataset in DATASETS:
        for model in MODELS:
            cells, etas = [], []
            for rate in noise_rates:
                rows = [r for r in results if (r["dataset"], r["model"], r["noise"])
                        == (dataset, model, rate)]
                if not rows:
                    continue
                for kind in ("plain", "mr"):
                    acc = 100 * np.array([r[kind] for r in rows])
                    cells.append(f"{acc.mean():.1f} +- {acc.std(ddof=1):.1f}" if len(acc) > 1
                                 else f"{acc.mean():.1f}")  # one seed: no spread
                etas.append("/".join(f"{r['eta']:g}" for r in rows))
            if cells:
                lines.append(f"| {dataset} | {model} | " + " | ".join(cells)
                             + " | " + ", ".join(etas) + " |")
    return "\n".join(lines)


SEEDS = 3
NOISE_RATES = [0.0, 0.2, 0.4]
ETA_GRID = [0.3, 1.0, 3.0]
N_ROUNDS = 5
MODEL_NAMES = ["LogisticRegression"]
N_JOBS = 1

# sphinx_gallery_start_ignore
import argparse  # noqa: E402

if __name__ == "__main__" and "__file__" in globals():
    parser = argparse.ArgumentParser(description="MR around scikit-learn classifiers.")
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--noise-rates", type=float, nargs="+", default=NOISE_RATES)
    parser.add_argument("--eta-grid", type=float, nargs="+", default=ETA_GRID)
    parser.add_argument("--n-rounds", type=int, default=N_ROUNDS)
    parser.add_argument("--n-jobs", type=int, default=N_JOBS)
    parser.add_argument("--models", nargs="+", default=MODEL_NAMES, choices=MODELS)
    cli, _ = parser.parse_known_args()
    SEEDS, NOISE_RATES, ETA_GRID = cli.seeds, cli.noise_rates, cli.eta_grid
    N_ROUNDS, N_JOBS, MODEL_NAMES = cli.n_rounds, cli.n_jobs, cli.models
# small problems: BLAS threads only contend (the joblib workers limit their own)
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)
# sphinx_gallery_end_ignore

# %%
# Run the grid
# ------------
# One process per core with one thread each (joblib's loky backend limits
# the OpenMP/BLAS threads of its workers).

start = time.perf_counter()
tasks = [(d, m, r, s) for d in DATASETS for m in MODEL_NAMES
         for r in NOISE_RATES for s in range(SEEDS)]
results = Parallel(n_jobs=N_JOBS)(
    delayed(run_one)(d, m, r, s, ETA_GRID, N_ROUNDS) for d, m, r, s in tasks)

print(f"Clean test accuracy (%), mean +- sample std over {SEEDS} seeds; MR: "
      f"MRMetaClassifier(n_rounds={N_ROUNDS}), eta from {ETA_GRID} on a noisy 25% "
      "hold-out of the training split.\n")
print(format_table(results, NOISE_RATES))
print(f"\n{len(tasks)} runs in {time.perf_counter() - start:.0f} s")

# %%
# The same numbers as a figure
# ----------------------------

fig, axes = plt.subplots(1, len(DATASETS), figsize=(9, 3.5), constrained_layout=True,
                         squeeze=False)
for ax, dataset in zip(axes[0], DATASETS):
    for k, (kind, label) in enumerate((("plain", "plain"), ("mr", "MR"))):
        for j, model in enumerate(MODEL_NAMES):
            means = [100 * np.mean([r[kind] for r in results if (r["dataset"], r["model"],
                                                                  r["noise"]) == (dataset, model, q)])
                     for q in NOISE_RATES]
            ax.plot([100 * q for q in NOISE_RATES], means, "o-" if kind == "mr" else "s--",
                    color=f"C{j}", label=f"{model}, {label}")
    ax.set(title=dataset, xlabel="label noise (%)", ylabel="clean test accuracy (%)")
    ax.legend(fontsize=7)
plt.show()
