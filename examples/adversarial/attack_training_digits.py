"""Training against torchattacks attacks, with and without MR (digits, eps=0.1)
=============================================================================

:class:`sk_mr.adversarial.AttackTraining` trains on the examples crafted by
any `torchattacks <https://github.com/Harry24k/adversarial-attacks-pytorch>`_
attack, given as the attack class and its parameters. Here, on
scikit-learn's digits as 1x8x8 images in ``[0, 1]`` with
:class:`sk_mr.models.SmallCNN` (the setting of ``adversarial_digits.py``),
five ways of training meet l-inf attacks at ``eps = 0.1``:

* ``Natural``: plain training;
* ``PGD-7/sk_mr``: :class:`sk_mr.adversarial.PGDAdversarialTraining`
  (Madry et al.: 7 steps of ``eps / 4`` from a random start);
* ``PGD-7/torchattacks``: the same training with ``torchattacks.PGD``;
* ``FFGSM``: Wong et al.'s "fast is better than free" FGSM training
  (``torchattacks.FFGSM``: a random start, one step of ``1.25 * eps``), one
  attack step per batch instead of seven;
* ``FFGSM+MR``: the same with Multiplicative Reweighting (``eta > 0``).

Each model is evaluated on a stratified 25% test split, clean and under PGD
(20 steps, random start) with
:func:`sk_mr.adversarial.robustness_report`; the full run also attacks part
of the test split with AutoAttack (Croce & Hein's standard ensemble).

By default this runs one seed for 5 epochs (about half a minute of one CPU
core). ``python examples/adversarial/attack_training_digits.py --full`` runs three
seeds for 20 epochs, with AutoAttack on 100 test images per seed (about 11
minutes of one CPU core), and prints mean ± std over seeds; ``--seeds``,
``--methods`` and ``--autoattack N`` override its choices.
"""

import argparse
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torchattacks
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_mr import MRClassifier
from sk_mr.adversarial import (AttackTraining, PGDAdversarialTraining,
                               format_robustness_table, robustness_report)
from sk_mr.models import SmallCNN

EPS = 0.1
ETA = 0.1
METHOD_NAMES = ["Natural", "PGD-7/sk_mr", "PGD-7/torchattacks", "FFGSM", "FFGSM+MR"]

FULL, SEED_OVERRIDE, N_AUTOATTACK_OVERRIDE = False, None, None

# sphinx_gallery_start_ignore
if __name__ == "__main__" and "__file__" in globals():
    parser = argparse.ArgumentParser(description="Training against torchattacks attacks.")
    parser.add_argument("--full", action="store_true",
                        help="3 seeds, 20 epochs, AutoAttack on 100 test images")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the seeds")
    parser.add_argument("--methods", nargs="+", choices=METHOD_NAMES, default=METHOD_NAMES)
    parser.add_argument("--autoattack", type=int,
                        help="override the number of test images attacked by AutoAttack")
    args, _ = parser.parse_known_args()
    FULL, SEED_OVERRIDE, N_AUTOATTACK_OVERRIDE = args.full, args.seeds, args.autoattack
    METHOD_NAMES = args.methods
# sphinx_gallery_end_ignore

SEEDS = SEED_OVERRIDE or ([0, 1, 2] if FULL else [0])
EPOCHS = 20 if FULL else 5
# AutoAttack is slow on a CPU: it attacks the first images of the test split
N_AUTOATTACK = N_AUTOATTACK_OVERRIDE if N_AUTOATTACK_OVERRIDE is not None else 100 * FULL
torch.set_num_threads(1)  # these models are too small to gain from more threads

# %%
# The data and the training
# -------------------------
# The inputs stay in ``[0, 1]`` (the attacks clip to it and measure ``eps``
# in its units). ``AttackTraining`` takes the attack's class and its
# parameters; they are the strategy's parameters too, so a grid search can
# reach them as ``adversarial__eps``.


def load_images(seed):
    """Digits as (N, 1, 8, 8) float32 images in [0, 1], split 75/25."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


ALL_METHODS = {
    "Natural": (lambda seed: None, 0.0),
    "PGD-7/sk_mr": (lambda seed: PGDAdversarialTraining(
        eps=EPS, step_size=EPS / 4, steps=7, random_state=seed), 0.0),
    "PGD-7/torchattacks": (lambda seed: AttackTraining(
        torchattacks.PGD, eps=EPS, alpha=EPS / 4, steps=7, random_state=seed), 0.0),
    "FFGSM": (lambda seed: AttackTraining(
        torchattacks.FFGSM, eps=EPS, alpha=1.25 * EPS, random_state=seed), 0.0),
    "FFGSM+MR": (lambda seed: AttackTraining(
        torchattacks.FFGSM, eps=EPS, alpha=1.25 * EPS, random_state=seed), ETA),
}
METHODS = {name: ALL_METHODS[name] for name in METHOD_NAMES}


def run(seed, make_strategy, eta):
    """Train one model; return its robustness records on the test split."""
    X_train, X_test, y_train, y_test = load_images(seed)
    torch.manual_seed(seed)
    net = MRClassifier(
        SmallCNN, module__n_classes=10, eta=eta, adversarial=make_strategy(seed),
        max_epochs=EPOCHS, lr=0.05, optimizer=torch.optim.SGD,
        optimizer__momentum=0.9, optimizer__weight_decay=5e-4, batch_size=64,
        train_split=None, random_state=seed, verbose=0)
    net.fit(X_train, y_train)
    records = robustness_report(net, X_test, y_test, attacks="pgd", eps=EPS, steps=20,
                                random_state=seed)
    if N_AUTOATTACK:  # the split is shuffled: its first images are a random sample
        records += robustness_report(net, X_test[:N_AUTOATTACK], y_test[:N_AUTOATTACK],
                                     attacks="autoattack", eps=EPS,
                                     random_state=seed)[1:]
    return records


# %%
# Train and attack
# ----------------
print(f"digits 1x8x8, SmallCNN, eps={EPS:g}, {EPOCHS} epochs, MR eta={ETA:g}, "
      f"seeds {SEEDS}" + (f", AutoAttack on {N_AUTOATTACK} test images" if N_AUTOATTACK
                          else ""))
start = time.perf_counter()
results = {name: [] for name in METHODS}
for seed in SEEDS:
    for name, (make_strategy, eta) in METHODS.items():
        tic = time.perf_counter()
        records = run(seed, make_strategy, eta)
        results[name] += records
        cells = ", ".join(f"{r['attack']} {100 * r['accuracy']:.2f}" for r in records)
        print(f"seed {seed} {name:<19} {cells} ({time.perf_counter() - tic:.0f} s)",
              flush=True)

# %%
# Robust accuracy
# ---------------
# Accuracy (%) on the test split: clean ("Natural") and under PGD-20 at
# ``eps``; AutoAttack (full run) on the split's first ``N_AUTOATTACK``
# images only, so its column is noisier than PGD's and not directly
# comparable with it. Both PGD-7 rows run one algorithm (with different
# random starts) and should agree within the seeds' noise. FFGSM, one
# attack step per batch instead of seven, buys most of PGD training's
# robustness at about a third of its training time.
print(format_robustness_table(
    results, digits=1,
    title=f"test accuracy (%), mean ± std over seeds {SEEDS}" if len(SEEDS) > 1
    else f"test accuracy (%), seed {SEEDS[0]}"))
print(f"\n{time.perf_counter() - start:.0f} s")

# %%
# The table's clean and PGD-20 columns as bars (mean over the seeds).

fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
positions = np.arange(len(results))
for offset, (attack, label) in zip((-0.2, 0.2), (("none", "clean"), ("pgd", "PGD-20"))):
    means = [100 * np.mean([r["accuracy"] for r in records if r["attack"] == attack])
             for records in results.values()]
    ax.bar(positions + offset, means, width=0.4, label=label)
ax.set_xticks(positions, list(results), rotation=15)
ax.set_ylabel(f"test accuracy (%), eps={EPS:g}")
ax.set_ylim(0, 100)
ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
plt.show()
