"""
Choosing eta without clean labels
=================================

MR has one hyperparameter of consequence, the step size ``eta``. It can be
chosen by a plain :class:`~sklearn.model_selection.GridSearchCV` on the
*noisy* labels: under label noise that does not depend on the input, the
accuracy on noisy validation folds is an increasing affine function of the
clean accuracy (with 'uniform' noise at rate ``r`` over ``K`` classes,
``acc_noisy = (1 - r) acc_clean + r / K``), so the eta that predicts the
noisy folds best is also, up to sampling noise, the one that predicts clean
labels best.

This example corrupts 40% of the digits training labels, searches eta with
cross-validation on the noisy labels only, and then, for reference only,
measures the clean test accuracy of every eta. See :ref:`choosing-eta` for
the scale of eta.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from sk_mr import MRClassifier, add_label_noise
from sk_mr.models import MLP
from sk_mr.plotting import plot_eta_search

ETAS = [0.0, 0.003, 0.01, 0.03, 0.1]
EPOCHS = 40
NOISE_RATE = 0.4
SEED = 0

# sphinx_gallery_start_ignore
torch.set_num_threads(1)  # a small MLP: one thread per process is fastest
# sphinx_gallery_end_ignore

# %%
# Noisy training labels, clean test labels
# ----------------------------------------

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=SEED)
y_noisy, is_noisy = add_label_noise(y_train, NOISE_RATE, random_state=SEED)
print(f"{is_noisy.mean():.1%} of the training labels are wrong")

# %%
# Search eta on the noisy labels only
# -----------------------------------
# ``eta=0`` (plain training) is in the grid as the reference.

net = MRClassifier(MLP, module__in_features=64, module__n_classes=10, lr=0.05,
                   optimizer__momentum=0.9, batch_size=128, max_epochs=EPOCHS,
                   train_split=None, random_state=SEED, verbose=0)
torch.manual_seed(SEED)
search = GridSearchCV(net, {"eta": ETAS},
                      cv=StratifiedKFold(2, shuffle=True, random_state=SEED))
search.fit(X_train, y_noisy)
chosen = search.best_params_["eta"]

# %%
# How good is the choice? (clean test labels, for reference only)
# ---------------------------------------------------------------

clean = {}
for eta in ETAS:
    torch.manual_seed(SEED)
    clean[eta] = net.set_params(eta=eta).fit(X_train, y_noisy).score(X_test, y_test)

print(f"{'eta':>7}  {'noisy CV accuracy':>18}  {'clean test accuracy':>20}")
for eta, mean, std in zip(search.cv_results_["param_eta"],
                          search.cv_results_["mean_test_score"],
                          search.cv_results_["std_test_score"]):
    print(f"{eta:>7g}  {mean:>11.3f} ± {std:.3f}  {clean[eta]:>20.3f}")
best = max(clean, key=clean.get)
print(f"\nchosen on noisy labels: eta={chosen:g} (clean test accuracy {clean[chosen]:.3f}); "
      f"best in hindsight: eta={best:g} ({clean[best]:.3f})")

fig, (ax_cv, ax_clean) = plt.subplots(1, 2, figsize=(9, 3.5), constrained_layout=True)
plot_eta_search(search, ax=ax_cv)
ax_cv.set_title("noisy labels: 2-fold CV accuracy")
positive = [eta for eta in ETAS if eta > 0]
ax_clean.plot(positive, [clean[eta] for eta in positive], "o-", label="MR")
ax_clean.axhline(clean[0.0], color="gray", ls="--", label="eta=0 (plain)")
ax_clean.axvline(chosen, color="C3", ls=":", label=f"chosen on noisy labels ({chosen:g})")
ax_clean.set(xscale="log", xlabel="eta", ylabel="accuracy",
             title="clean test labels (reference only)")
ax_clean.legend(fontsize=8)
plt.show()
