"""
MR around scikit-learn classifiers under label noise
====================================================

Evaluates :class:`sk_mr.meta.MRMetaClassifier` around three scikit-learn
classifiers (``LogisticRegression``, ``SGDClassifier(loss='log_loss')`` and
``HistGradientBoostingClassifier``) on the digits and breast-cancer data sets
with 0%, 20% and 40% ``'uniform'`` label noise on the training split
(:func:`sk_mr.noise.add_label_noise`; the test labels stay clean).

For every data set, model, noise rate and seed:

* **plain**: the classifier fitted on the noisy training labels;
* **MR**: the same classifier wrapped in ``MRMetaClassifier(n_rounds=5)``,
  with ``eta`` chosen from ``--eta-grid`` by accuracy on a *noisy* hold-out
  part (25%) of the training split (never on clean or test labels), then
  refitted on the whole noisy training split.

The table reports clean test accuracy, mean +- std over seeds, and the etas
selected. Run it as a script (it takes a few minutes on two cores)::

    python examples/meta_estimators_noise.py --seeds 3 --n-jobs 2

The gradient-boosting model is deliberately shallow (``max_depth=3``,
``min_samples_leaf=20``): MR can only spot noisy labels that keep a high
training loss, and a model flexible enough to memorize them hides them.
"""

import argparse
import time
import warnings

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
                    cells.append(f"{acc.mean():.1f} +- {acc.std():.1f}")
                etas.append("/".join(f"{r['eta']:g}" for r in rows))
            if cells:
                lines.append(f"| {dataset} | {model} | " + " | ".join(cells)
                             + " | " + ", ".join(etas) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--noise-rates", type=float, nargs="+", default=[0.0, 0.2, 0.4])
    parser.add_argument("--eta-grid", type=float, nargs="+", default=[0.3, 1.0, 3.0])
    parser.add_argument("--n-rounds", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS),
                        choices=list(DATASETS))
    args = parser.parse_args(argv)

    start = time.perf_counter()
    tasks = [(d, m, r, s) for d in args.datasets for m in args.models
             for r in args.noise_rates for s in range(args.seeds)]
    # One process per core and one thread per process (joblib's loky backend
    # limits the OpenMP/BLAS threads of its workers).
    results = Parallel(n_jobs=args.n_jobs)(
        delayed(run_one)(d, m, r, s, args.eta_grid, args.n_rounds) for d, m, r, s in tasks)
    elapsed = time.perf_counter() - start

    print(f"Clean test accuracy (%), mean +- std over {args.seeds} seeds; "
          f"MR: MRMetaClassifier(n_rounds={args.n_rounds}), eta from "
          f"{args.eta_grid} on a noisy 25% hold-out of the training split.\n")
    print(format_table(results, args.noise_rates))
    print(f"\n{len(tasks)} runs in {elapsed:.0f} s with n_jobs={args.n_jobs}.")
    return results


if __name__ == "__main__":
    main()
