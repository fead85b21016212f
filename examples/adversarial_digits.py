"""Free adversarial training with and without MR (digits, PGD at eps=0.1)
========================================================================

A CPU-sized version of the paper's Table 4: scikit-learn's digits as 1x8x8
images in ``[0, 1]`` (``X / 16``), :class:`sk_mr.models.SmallCNN`, and four
ways of training it:

* ``Base``: plain training (``eta=0``: uniform weights);
* ``Base+MR``: Multiplicative Reweighting (``eta > 0``);
* ``Adv.``: free adversarial training (Shafahi et al.) with ``eps`` and
  ``m`` replays per minibatch, ``eta=0``;
* ``Adv.+MR``: both.

Following Shafahi et al., free training runs ``epochs / m`` epochs, so that
every method makes the same number of optimizer steps. Each model is
evaluated on a stratified 25% test split, clean and under l-inf PGD (20
steps, step size ``2.5 * eps / 20``, random start) and FGSM at ``eps``, with
:func:`sk_mr.adversarial.robustness_report`; the table shows mean ± std over
seeds (percent).

Run ``python examples/adversarial_digits.py`` (about three minutes on one CPU
core for the default 5 seeds).
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_mr import MRClassifier
from sk_mr.adversarial import (FreeAdversarialTraining, format_robustness_table,
                               robustness_report)
from sk_mr.models import SmallCNN


def load_images(seed):
    """Digits as (N, 1, 8, 8) float32 images in [0, 1], split 75/25."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def run(seed, *, adversarial, eta, args):
    """Train one model; return its robustness records on the test split."""
    X_train, X_test, y_train, y_test = load_images(seed)
    epochs = args.epochs // args.replays if adversarial else args.epochs
    strategy = FreeAdversarialTraining(eps=args.eps, replays=args.replays) \
        if adversarial else None
    torch.manual_seed(seed)
    net = MRClassifier(
        SmallCNN, module__n_classes=10, eta=eta, adversarial=strategy,
        max_epochs=epochs, lr=0.05, optimizer=torch.optim.SGD,
        optimizer__momentum=0.9, optimizer__weight_decay=5e-4, batch_size=64,
        train_split=None, random_state=seed, verbose=0)
    net.fit(X_train, y_train)
    return robustness_report(net, X_test, y_test, attacks=("pgd", "fgsm"),
                             eps=(args.eps,), steps=20, random_state=seed)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=40,
                        help="epochs of plain training; free training runs epochs / replays")
    parser.add_argument("--replays", type=int, default=4, help="free training's m")
    parser.add_argument("--eps", type=float, default=0.1,
                        help="training and attack l-inf radius")
    parser.add_argument("--eta", type=float, default=0.1, help="MR step size")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (these models are too small to gain from "
                             "more, and lose much on a busy machine)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    methods = {"Base": (False, 0.0), "Base+MR": (False, args.eta),
               "Adv.": (True, 0.0), "Adv.+MR": (True, args.eta)}
    print(f"digits 1x8x8, SmallCNN, eps={args.eps:g}, m={args.replays}, "
          f"eta={args.eta:g}, {args.epochs} epochs ({args.epochs // args.replays} "
          f"for free training), seeds {args.seeds}")
    start = time.perf_counter()
    results = {}
    for name, (adversarial, eta) in methods.items():
        results[name] = []
        for seed in args.seeds:
            tic = time.perf_counter()
            records = run(seed, adversarial=adversarial, eta=eta, args=args)
            results[name] += records
            cells = ", ".join(f"{r['attack']} {100 * r['accuracy']:.2f}" for r in records)
            print(f"{name:<8} seed {seed}: {cells} ({time.perf_counter() - tic:.0f} s)",
                  flush=True)
    print()
    print(format_robustness_table(results, title="test accuracy (%), mean ± std over seeds"))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
