"""
Choosing eta without clean labels
=================================

MR has one hyperparameter, the step size ``eta``. It can be chosen by a
plain :class:`~sklearn.model_selection.GridSearchCV` on the *noisy* labels:
under uniform label noise the accuracy on noisy validation folds is an
increasing affine function of the clean accuracy, so the eta that predicts
the noisy folds best is also (up to sampling noise) the one that predicts
clean labels best.

This script corrupts 40% of the digits training labels, searches eta with
3-fold cross-validation on the noisy labels only, and then, for reference,
measures the clean test accuracy of every eta.

Run it with ``python examples/select_eta_noisy_labels.py`` (about a minute
on 2 CPU cores).
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from sk_mr import MRClassifier, add_label_noise
from sk_mr.models import MLP


def select_eta(etas=(0.0, 0.003, 0.01, 0.03, 0.1), noise_rate=0.4, epochs=60, seed=0,
               cv=3):
    """Grid-search eta on noisy labels; return the search and clean scores.

    Parameters
    ----------
    etas : sequence of float
    noise_rate : float
    epochs : int
    seed : int
    cv : int

    Returns
    -------
    search : GridSearchCV
      Fitted on the noisy training labels only.
    clean_scores : dict
      eta -> clean test accuracy of a model trained on all noisy training
      labels with that eta.
    """
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
    y_noisy, _ = add_label_noise(y_tr, noise_rate, random_state=seed)
    net = MRClassifier(MLP, module__in_features=64, module__n_classes=10, lr=0.05,
                       optimizer__momentum=0.9, batch_size=128, max_epochs=epochs,
                       train_split=None, verbose=0)
    torch.manual_seed(seed)
    search = GridSearchCV(net, {"eta": list(etas)},
                          cv=StratifiedKFold(cv, shuffle=True, random_state=seed))
    search.fit(X_tr, y_noisy)
    clean_scores = {}
    for eta in etas:
        torch.manual_seed(seed)
        clean_scores[eta] = net.set_params(eta=eta).fit(X_tr, y_noisy).score(X_te, y_te)
    return search, clean_scores


if __name__ == "__main__":
    search, clean = select_eta()
    print(f"{'eta':>7}  {'noisy CV accuracy':>18}  {'clean test accuracy':>20}")
    for eta, mean, std in zip(search.cv_results_["param_eta"],
                              search.cv_results_["mean_test_score"],
                              search.cv_results_["std_test_score"]):
        print(f"{eta:>7g}  {mean:>11.3f} +- {std:.3f}  {clean[eta]:>20.3f}")
    best = search.best_params_["eta"]
    print(f"\nselected on noisy labels: eta={best:g} (clean test accuracy "
          f"{clean[best]:.3f}); best eta in hindsight: {max(clean, key=clean.get):g} "
          f"({max(clean.values()):.3f})")
