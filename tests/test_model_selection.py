"""Model selection without clean data: GridSearchCV over eta on noisy labels.

The claim of ``examples/select_eta_noisy_labels.py`` (a gallery page, which
runs at every documentation build), checked here on its own data and recipe.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from sk_mr import MRClassifier, add_label_noise
from sk_mr.models import MLP


def select_eta(etas, noise_rate=0.4, epochs=40, seed=0, cv=2):
    """Grid-search eta on noisy labels; return the search and clean test scores."""
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


class TestSelectEtaOnNoisyLabels:
    def test_noisy_cv_picks_an_eta_within_two_points_of_the_best(self):
        search, clean = select_eta(etas=(0.0, 0.01, 0.1), epochs=40, cv=2)
        chosen = search.best_params_["eta"]
        assert clean[chosen] >= max(clean.values()) - 0.02, (chosen, clean)
        # and the search did prefer MR over plain training (eta=0)
        assert chosen > 0
