"""
Searching eta on a Dask cluster
===============================

A search over MR's ``eta`` (and anything else) is a scikit-learn
:class:`~sklearn.model_selection.GridSearchCV`, so it runs wherever joblib
runs: in local processes (``n_jobs``), or on a Dask cluster through joblib's
Dask backend, with no change to the search itself. Here a
``dask.distributed.LocalCluster`` of two worker processes stands in
for a real cluster; for one, replace it with
``Client("tcp://scheduler-address:8786")``.

On Ray the same search runs with Ray's joblib backend::

    from ray.util.joblib import register_ray
    register_ray()
    with joblib.parallel_backend("ray"):
        search.fit(X, y_noisy)

Labels are noisy and ``eta`` is chosen by accuracy on noisy validation
folds, as in :ref:`choosing-eta`.
"""

import joblib
import matplotlib.pyplot as plt
import numpy as np
import torch
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sk_mr import MRClassifier, add_label_noise
from sk_mr.models import MLP

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)

net = MRClassifier(MLP, module__in_features=64, module__n_classes=10, lr=0.05,
                   optimizer__momentum=0.9, max_epochs=10, train_split=None,
                   random_state=0, verbose=0)
search = GridSearchCV(net, {"eta": [0.0, 0.03, 0.1]}, n_jobs=-1,
                      cv=StratifiedKFold(2, shuffle=True, random_state=0))

# %%
# The same search, on the cluster
# -------------------------------
# Each candidate and fold is a task on a worker process; every worker uses
# one torch thread, as small networks train fastest that way.

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    client.run(torch.set_num_threads, 1)
    with joblib.parallel_backend("dask"):
        search.fit(X, y_noisy)
    client.close()
    cluster.close()

    for eta, score in zip(search.cv_results_["param_eta"],
                          search.cv_results_["mean_test_score"]):
        print(f"eta={eta:<5} accuracy on the noisy validation folds {score:.3f}")
    print(f"chosen eta: {search.best_params_['eta']}")

    # the search's scores, mean and standard deviation over the folds, on the
    # full accuracy scale (a zoomed axis would magnify differences of a point)
    fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
    etas = [str(eta) for eta in search.cv_results_["param_eta"]]
    means = 100 * search.cv_results_["mean_test_score"]
    ax.errorbar(etas, means, yerr=100 * search.cv_results_["std_test_score"], marker="o",
                capsize=4)
    for x, mean in enumerate(means):
        ax.annotate(f"{mean:.1f}", (x, mean), textcoords="offset points", xytext=(0, 8),
                    ha="center")
    ax.set_ylim(0, 100)
    ax.set_xlabel("eta")
    ax.set_ylabel("accuracy on noisy folds (%)")
    ax.set_title("GridSearchCV on two Dask workers")
    plt.show()
