"""The demo: plain training vs random weighting vs MR on noisy digits.

Run it with ``python -m sk_mr demo`` (or ``sk-mr demo``, or ``make demo``).
scikit-learn's digits are embedded in scikit-learn, so nothing is
downloaded. Each run splits the data 70/30 (stratified), corrupts the
training labels with the paper's 'uniform' noise, trains an MLP
64-256-256-10 (SGD, lr 0.05, momentum 0.9, batch 128) and reports the clean
test accuracy, the MR weight left on the noisy examples and the fit time.
"""

import sys
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch import NeuralNetClassifier

from sk_mr._stats import mean_std
from sk_mr.callbacks import RandomReweighting
from sk_mr.classifier import MRClassifier
from sk_mr.models import MLP
from sk_mr.noise import add_label_noise

__all__ = ["DEMO_METHODS", "format_demo_table", "make_demo_estimator", "run_demo"]

DEMO_METHODS = ("plain", "random", "mr")


def make_demo_estimator(method, *, eta=0.01, epochs=100, random_state=None):
    """Return the unfitted estimator the demo uses for ``method``.

    Parameters
    ----------
    method : {'plain', 'random', 'mr'}
      Plain ``NeuralNetClassifier``, MRClassifier with the paper's random
      weighting, or MRClassifier with MR.

    eta : float (default=0.01)
      MR step size (method 'mr').

    epochs : int (default=100)
      Number of epochs.

    random_state : int or None (default=None)
      Seed of the random weights (method 'random').

    Returns
    -------
    estimator : skorch.NeuralNetClassifier
    """
    common = dict(module=MLP, module__in_features=64, module__n_classes=10,
                  criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.SGD,
                  lr=0.05, optimizer__momentum=0.9, batch_size=128,
                  max_epochs=epochs, train_split=None, verbose=0)
    if method == "plain":
        return NeuralNetClassifier(**common)
    if method == "random":
        return MRClassifier(**common, callbacks__reweighting=RandomReweighting(
            random_state=random_state))
    if method == "mr":
        return MRClassifier(**common, eta=eta)
    raise ValueError(f"method must be one of {DEMO_METHODS}, got {method!r}.")


def _fit_one(method, noise_rate, seed, epochs, eta, threads):
    """Fit one (method, noise rate, seed) cell; runs in a worker process."""
    if threads:
        torch.set_num_threads(threads)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed)
    y_noisy, is_noisy = add_label_noise(y_tr, noise_rate, random_state=seed)
    net = make_demo_estimator(method, eta=eta, epochs=epochs, random_state=seed)
    torch.manual_seed(seed)
    start = time.perf_counter()
    net.fit(X_tr, y_noisy)
    seconds = time.perf_counter() - start
    weights = getattr(net, "sample_weights_", None)
    if weights is None:  # plain training: uniform weights
        weights = np.full(len(y_tr), 1.0 / len(y_tr))
    return dict(method=method, noise_rate=float(noise_rate), seed=seed,
                test_accuracy=float(net.score(X_te, y_te)),
                noisy_weight=float(weights[is_noisy].sum()), fit_seconds=seconds)


def run_demo(noise_rates=(0.0, 0.4), n_seeds=3, epochs=100, eta=0.01,
             methods=DEMO_METHODS, n_jobs=1, log=sys.stderr):
    """Train every method on noisy digits and return one record per fit.

    Parameters
    ----------
    noise_rates : sequence of float (default=(0.0, 0.4))
      'uniform' label-noise rates applied to the training split.

    n_seeds : int (default=3)
      Seeds 0 .. n_seeds-1; each seeds the split, the noise, the weights and
      torch's initialization, so every fit is reproducible on its own.

    epochs : int (default=100)
      Training epochs per fit.

    eta : float (default=0.01)
      MR step size.

    methods : sequence of str (default=('plain', 'random', 'mr'))

    n_jobs : int (default=1)
      Fits run in this many processes (joblib) with one torch thread each;
      small networks train faster that way than with threads.

    log : file-like or None (default=sys.stderr)
      Where one progress line per finished fit is written.

    Returns
    -------
    records : list of dict
      Keys ``method``, ``noise_rate``, ``seed``, ``test_accuracy``,
      ``noisy_weight`` (total weight on the noisy training examples; their
      fraction for uniform weighting), ``fit_seconds``.
    """
    for method in methods:
        if method not in DEMO_METHODS:
            raise ValueError(f"methods must be among {DEMO_METHODS}, got {method!r}.")
    cells = [(method, rate, seed) for rate in noise_rates for seed in range(n_seeds)
             for method in methods]
    if n_jobs == 1:
        results = (_fit_one(m, q, s, epochs, eta, None) for m, q, s in cells)
    else:
        from joblib import Parallel, delayed
        results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
            delayed(_fit_one)(m, q, s, epochs, eta, 1) for m, q, s in cells)
    records = []
    for record in results:
        records.append(record)
        if log is not None:
            print(f"[{len(records):>2}/{len(cells)}] noise={record['noise_rate']:.0%} "
                  f"seed={record['seed']} {record['method']:<6} test acc "
                  f"{record['test_accuracy']:.3f} ({record['fit_seconds']:.1f}s)",
                  file=log, flush=True)
    return records


def format_demo_table(records):
    """Format demo records as a table: mean +- sample std over seeds per cell.

    Parameters
    ----------
    records : list of dict
      As returned by :func:`run_demo`.

    Returns
    -------
    table : str
    """
    header = (f"{'noise':>5}  {'method':<7} {'test accuracy (%)':>18}  "
              f"{'noisy weight':>12}  {'fit time (s)':>12}  seeds")
    lines = [header, "-" * len(header)]
    keys = sorted({(r["noise_rate"], r["method"]) for r in records},
                  key=lambda k: (k[0], DEMO_METHODS.index(k[1])
                                 if k[1] in DEMO_METHODS else 99))
    for noise_rate, method in keys:
        cell = [r for r in records
                if r["noise_rate"] == noise_rate and r["method"] == method]
        mean, std = mean_std([100 * r["test_accuracy"] for r in cell])
        mass = np.mean([r["noisy_weight"] for r in cell])
        secs = np.mean([r["fit_seconds"] for r in cell])
        lines.append(f"{noise_rate:>5.0%}  {method:<7} {mean:>10.1f} +- "
                     f"{std:<4.1f}  {mass:>12.3f}  {secs:>12.1f}  {len(cell)}")
    return "\n".join(lines)
