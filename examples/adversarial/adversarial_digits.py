"""
Free adversarial training with and without MR (digits, PGD and FGSM)
====================================================================

A CPU-sized version of the paper's Table 4: scikit-learn's digits as 1x8x8
images in ``[0, 1]``, :class:`sk_mr.models.SmallCNN`, and four ways of
training it:

* ``Base``: plain training (``eta=0``: uniform weights);
* ``Base+MR``: Multiplicative Reweighting (``eta > 0``);
* ``Adv.``: free adversarial training (Shafahi et al.) with radius ``eps``
  and ``m`` replays per minibatch, ``eta=0``;
* ``Adv.+MR``: both.

Following Shafahi et al., free training runs ``epochs / m`` epochs, so that
every method makes the same number of optimizer steps. Each model is
evaluated on a stratified 25% test split, clean and under l-inf PGD (random
start) and FGSM at ``eps``, with :func:`sk_mr.adversarial.robustness_report`.

The documentation runs one seed with short training so that the page builds
in seconds; run the script for more (``python examples/adversarial/adversarial_digits.py
--seeds 0 1 2 3 4 --epochs 40 --pgd-steps 20``, about three minutes on one
core), which reports mean ± std over seeds. Needs the ``adversarial`` extra
(torchattacks).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_mr import MRClassifier
from sk_mr.adversarial import (FreeAdversarialTraining, format_robustness_table,
                               robustness_report)
from sk_mr.models import SmallCNN

SEEDS = [0]
EPOCHS = 12        # plain training; free training runs EPOCHS // REPLAYS
REPLAYS = 4        # free training's m
EPS = 0.1          # training and attack l-inf radius, in input units
ETA = 0.1          # MR step size (the digits recipe of `sk_mr reproduce`)
PGD_STEPS = 10

# sphinx_gallery_start_ignore
import argparse  # noqa: E402

if __name__ == "__main__" and "__file__" in globals():
    parser = argparse.ArgumentParser(description="Free adversarial training with MR.")
    parser.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--replays", type=int, default=REPLAYS)
    parser.add_argument("--eps", type=float, default=EPS)
    parser.add_argument("--eta", type=float, default=ETA)
    parser.add_argument("--pgd-steps", type=int, default=PGD_STEPS)
    cli, _ = parser.parse_known_args()
    SEEDS, EPOCHS, REPLAYS = cli.seeds, cli.epochs, cli.replays
    EPS, ETA, PGD_STEPS = cli.eps, cli.eta, cli.pgd_steps
torch.set_num_threads(1)  # these models are too small to gain from more threads
# sphinx_gallery_end_ignore


def load_images(seed):
    """Digits as (N, 1, 8, 8) float32 images in [0, 1], split 75/25."""
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def run(seed, *, adversarial, eta):
    """Train one model; return its robustness records on the test split."""
    X_train, X_test, y_train, y_test = load_images(seed)
    strategy = FreeAdversarialTraining(eps=EPS, replays=REPLAYS) if adversarial else None
    net = MRClassifier(
        SmallCNN, module__n_classes=10, eta=eta, adversarial=strategy,
        max_epochs=EPOCHS // REPLAYS if adversarial else EPOCHS,
        lr=0.05, optimizer=torch.optim.SGD, optimizer__momentum=0.9,
        optimizer__weight_decay=5e-4, batch_size=64, train_split=None,
        random_state=seed, verbose=0)
    torch.manual_seed(seed)
    net.fit(X_train, y_train)
    return robustness_report(net, X_test, y_test, attacks=("pgd", "fgsm"), eps=(EPS,),
                             steps=PGD_STEPS, random_state=seed)


# %%
# Train the four models
# ---------------------

methods = {"Base": (False, 0.0), "Base+MR": (False, ETA),
           "Adv.": (True, 0.0), "Adv.+MR": (True, ETA)}
start = time.perf_counter()
results = {name: [] for name in methods}
for name, (adversarial, eta) in methods.items():
    for seed in SEEDS:
        results[name] += run(seed, adversarial=adversarial, eta=eta)

# %%
# Clean and robust accuracy
# -------------------------
# Accuracy in percent on the test split; with several seeds, mean ± std.

print(format_robustness_table(
    results, title=f"digits, SmallCNN, eps={EPS:g}, m={REPLAYS}, eta={ETA:g}, "
                   f"{EPOCHS} epochs, PGD-{PGD_STEPS}, seeds {SEEDS}"))
print(f"\n{time.perf_counter() - start:.0f} s")

fig, ax = plt.subplots(figsize=(7, 3.5), constrained_layout=True)
attacks = [("none", "clean"), ("pgd", f"PGD-{PGD_STEPS}"), ("fgsm", "FGSM")]
width = 0.2
for i, name in enumerate(methods):
    values = [100 * np.mean([r["accuracy"] for r in results[name] if r["attack"] == a])
              for a, _ in attacks]
    ax.bar(np.arange(len(attacks)) + (i - 1.5) * width, values, width, label=name)
ax.set_xticks(range(len(attacks)), [label for _, label in attacks])
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(0, 100)
ax.set_title(f"Robustness at eps={EPS:g} (digits)")
ax.legend(ncol=4, fontsize=8, loc="lower center")
plt.show()
