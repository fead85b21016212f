"""
Binary classification with flipped labels
=========================================

Weak supervision flips binary labels. :class:`sk_mr.MRBinaryClassifier` is
skorch's binary classifier (one logit, binary cross-entropy) trained with
Multiplicative Reweighting. Here it meets the losses users pick instead, on
the same MLP: plain binary cross-entropy, Generalized Cross Entropy (GCE,
``q=0.7``) and Symmetric Cross Entropy (SCE), the last two on a two-output
version of the network (they are multiclass losses).

The training labels of scikit-learn's breast-cancer data (569 examples) and
of the digits as even/odd (1797) are flipped symmetrically
(:func:`sk_mr.add_label_noise` with ``kind='symmetric'``); test labels stay
clean. MR's ``eta`` is chosen from a small grid by accuracy on a *noisy*
hold-out quarter of the training split (never on clean labels), then the
net is refitted on the whole noisy training split.

The documentation runs one data set, one noise rate and one seed. The full
table (both data sets, 20% and 40% flips, 3 seeds) is
``python examples/binary_label_flips.py --full``.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import GridSearchCV, ShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from sk_mr import MRBinaryClassifier, MRClassifier, add_label_noise
from sk_mr.losses import GeneralizedCrossEntropy, SymmetricCrossEntropy
from sk_mr.models import MLP

DATASETS = ["breast_cancer"]
NOISE_RATES = [0.2]
SEEDS = [0]
ETAS = [0.03, 0.1, 0.3]
EPOCHS = 60

# sphinx_gallery_start_ignore
import argparse  # noqa: E402

torch.set_num_threads(1)  # a small MLP: one thread per process is fastest
if __name__ == "__main__" and "__file__" in globals():
    parser = argparse.ArgumentParser(description="Binary classification with flipped labels.")
    parser.add_argument("--full", action="store_true",
                        help="both data sets, 20%% and 40%% flips, 3 seeds")
    cli, _ = parser.parse_known_args()
    if cli.full:
        DATASETS, NOISE_RATES, SEEDS = ["breast_cancer", "digits_even_odd"], [0.2, 0.4], [0, 1, 2]
# sphinx_gallery_end_ignore


def load(name):
    if name == "breast_cancer":
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = load_digits(return_X_y=True)
        y = y % 2
    return X.astype(np.float32), y


def make(method, n_features, seed, eta=0.0):
    """The same MLP and optimizer for every method."""
    common = dict(module=MLP, module__in_features=n_features, module__hidden=(64,),
                  lr=0.05, optimizer__momentum=0.9, batch_size=64, max_epochs=EPOCHS,
                  train_split=None, random_state=seed, verbose=0,
                  iterator_train__shuffle=True)
    if method in ("plain", "MR"):
        return MRBinaryClassifier(module__n_classes=1, eta=eta, **common)
    criterion = GeneralizedCrossEntropy if method == "GCE" else SymmetricCrossEntropy
    return MRClassifier(module__n_classes=2, criterion=criterion, eta=0.0, **common)


def run_cell(name, noise, seed):
    X, y = load(name)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    y_noisy, flipped = add_label_noise(y_train, noise, kind="symmetric", random_state=seed)
    row = {"data": name, "noise": noise, "seed": seed}
    for method in ("plain", "GCE", "SCE"):
        net = make(method, X.shape[1], seed).fit(X_train, y_noisy)
        row[method] = net.score(X_test, y_test)
    search = GridSearchCV(make("MR", X.shape[1], seed), {"eta": ETAS},
                          cv=ShuffleSplit(1, test_size=0.25, random_state=seed))
    search.fit(X_train, y_noisy)  # noisy labels only
    row["MR"] = search.best_estimator_.score(X_test, y_test)
    row["eta"] = search.best_params_["eta"]
    w = search.best_estimator_.sample_weights_
    row["weight on flipped"] = w[flipped].sum()
    row["share flipped"] = flipped.mean()
    return row


METHODS = ("plain", "GCE", "SCE", "MR")
start = time.perf_counter()
rows = [run_cell(name, noise, seed)
        for name in DATASETS for noise in NOISE_RATES for seed in SEEDS]

# %%
# Clean test accuracy
# -------------------
# Mean +- sample standard deviation over seeds (a single seed: no std).


def summary(values):
    values = 100 * np.asarray(values)
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{values.mean():.1f} +- {values.std(ddof=1):.1f}"


print(f"{'data':<16}{'flips':>6}" + "".join(f"{m:>14}" for m in METHODS)
      + f"{'eta (MR)':>16}{'MR weight on flips':>21}")
for name in DATASETS:
    for noise in NOISE_RATES:
        cell = [r for r in rows if r["data"] == name and r["noise"] == noise]
        etas = "/".join(f"{r['eta']:g}" for r in cell)
        weight = np.mean([r["weight on flipped"] for r in cell])
        share = np.mean([r["share flipped"] for r in cell])
        print(f"{name:<16}{int(100 * noise):>5}%"
              + "".join(f"{summary([r[m] for r in cell]):>14}" for m in METHODS)
              + f"{etas:>16}{weight:>11.3f} (of {share:.2f})")
print(f"{len(rows)} cell(s) in {time.perf_counter() - start:.0f} s")

# %%
# The same as a figure
# --------------------

fig, ax = plt.subplots(figsize=(6, 3.2))
labels = [f"{r['data']}, {int(100 * r['noise'])}%" for r in rows if r["seed"] == SEEDS[0]]
x = np.arange(len(labels))
for k, method in enumerate(METHODS):
    means = [100 * np.mean([r[method] for r in rows if r["data"] == d and r["noise"] == n])
             for d in DATASETS for n in NOISE_RATES]
    ax.bar(x + (k - 1.5) * 0.2, means, width=0.2, label=method)
ax.set_xticks(x, labels)
ax.set_ylabel("clean test accuracy (%)")
ax.set_ylim(50, 100)
ax.legend(ncol=4, fontsize=8, loc="lower center")
fig.tight_layout()
plt.show()
