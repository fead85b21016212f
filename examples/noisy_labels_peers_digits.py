"""
MR against the methods users pick instead, on noisy digits
==========================================================

Four ways to train the same MLP on digits whose training labels are 40%
corrupted, and what each costs:

* plain cross-entropy training;
* MR (:class:`~sk_mr.MRClassifier`), one fit;
* Generalized Cross Entropy (Zhang & Sabuncu 2018, q = 0.7) and Symmetric
  Cross Entropy (Wang et al. 2019, alpha 0.1, beta 1, A = -4), noise-robust
  losses from :mod:`sk_mr.losses`, one fit each;
* MR with the GCE loss: MRClassifier weights any per-example criterion;
* cleanlab's ``CleanLearning`` around the plain net: 5-fold out-of-sample
  probabilities find the label issues, the net is refit without them
  (6 fits).

cleanlab is not a dependency of sk_mr: ``pip install 'sk-mr[benchmark]'``
(or ``pip install cleanlab``). Its own worker pool is switched off with
``find_label_issues_kwargs={"n_jobs": 1}``, which is what to do whenever
the fit itself runs inside joblib workers.

``benchmarks/eta.py`` runs the same comparison, with more peers, on over a
hundred settings with three seeds each (:doc:`/which_method`). Run this example with
``python examples/noisy_labels_peers_digits.py`` (about 30 seconds on a
CPU core).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch import NeuralNetClassifier

from sk_mr import MRClassifier, add_label_noise
from sk_mr.losses import GeneralizedCrossEntropy, SymmetricCrossEntropy
from sk_mr.models import MLP

torch.set_num_threads(1)

# %%
# Noisy digits
# ------------
# 70/30 stratified split; 40% of the training labels are redrawn uniformly
# from the 10 classes (about 36% really change). The test labels are clean.

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
y_noisy, is_noisy = add_label_noise(y_train, 0.4, random_state=0)
print(f"{is_noisy.mean():.0%} of the {len(y_train)} training labels are wrong")

# %%
# The nets
# --------
# The same module, optimizer and epochs everywhere; only the criterion, the
# weighting or the data cleaning differ.

common = dict(module=MLP, module__in_features=64, module__n_classes=10,
              max_epochs=60, lr=0.05, optimizer__momentum=0.9, batch_size=128,
              train_split=None, verbose=0)

# skorch's default criterion is NLLLoss on probabilities; these modules return
# logits, so the plain nets use cross-entropy (and predict_proba a softmax).
cross_entropy = dict(criterion=torch.nn.CrossEntropyLoss)

methods = {
    "plain": lambda: NeuralNetClassifier(**common, **cross_entropy),
    "MR (eta=0.03)": lambda: MRClassifier(**common, eta=0.03, random_state=0),
    "GCE (q=0.7)": lambda: NeuralNetClassifier(**common, criterion=GeneralizedCrossEntropy),
    "SCE (0.1, 1, -4)": lambda: NeuralNetClassifier(**common,
                                                     criterion=SymmetricCrossEntropy),
    "MR + GCE": lambda: MRClassifier(**common, eta=0.03, random_state=0,
                                     criterion=GeneralizedCrossEntropy),
}
fits = {name: 1 for name in methods}

try:
    from cleanlab.classification import CleanLearning
except ImportError:  # pragma: no cover - cleanlab is optional
    print("cleanlab is not installed: skipping CleanLearning")
else:
    methods["CleanLearning"] = lambda: CleanLearning(
        NeuralNetClassifier(**common, **cross_entropy), cv_n_folds=5, seed=0,
        find_label_issues_kwargs={"n_jobs": 1})
    fits["CleanLearning"] = 6

# %%
# Train on the noisy labels, test on clean ones
# ----------------------------------------------

results = {}
for name, make in methods.items():
    torch.manual_seed(0)
    model = make()
    start = time.perf_counter()
    model.fit(X_train, y_noisy)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    results[name] = (accuracy, seconds)

print(f"\n{'method':<18}{'clean test accuracy':>21}{'fits':>6}{'seconds':>9}")
for name, (accuracy, seconds) in results.items():
    print(f"{name:<18}{accuracy:>21.1%}{fits[name]:>6}{seconds:>9.1f}")

# %%
# The same accuracies side by side; the dashed line is plain training.

names = list(results)
accuracies = [100 * results[name][0] for name in names]
fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
ax.barh(names[::-1], accuracies[::-1],
        color=["tab:orange" if "MR" in name else "tab:gray" for name in names[::-1]])
ax.axvline(accuracies[0], color="black", ls="--", lw=1)
for y, accuracy in enumerate(accuracies[::-1]):
    ax.text(accuracy + 0.3, y, f"{accuracy:.1f}", va="center", fontsize=9)
ax.set_xlim(min(accuracies) - 10, 100)
ax.set_xlabel("clean test accuracy (%), 40% noisy training labels")
plt.show()

# %%
# One seed on one data set says little; the benchmark's table (three seeds,
# thirteen settings) is the evidence. MR's eta here is a fixed 0.03; see
# ``examples/select_eta_noisy_labels.py`` for choosing it on noisy labels.
