"""Data and parameters shared by the data-parallel test and its worker."""

import numpy as np
from sklearn.datasets import load_digits

from sk_mr import MRBinaryClassifier, MRClassifier, MRRegressor
from sk_mr.models import MLP

#: Not a multiple of 2 processes x 32: the last global batch is uneven.
N_EXAMPLES = 301
GLOBAL_BATCH = 64
#: The loss pass's batches: 7 of them, so Accelerate pads process 1's shard
#: with a repeated batch (its duplicates must count once).
LOSS_PASS_BATCH = 50
#: The task of each MR estimator: its outputs and its targets.
TASKS = {"classifier": MRClassifier, "regressor": MRRegressor, "binary": MRBinaryClassifier}


def make_data(task="classifier"):
    """Digits as the task needs them: 10 classes, a 2-d float target, or two classes."""
    X, y = load_digits(return_X_y=True)
    X, y = (X[:N_EXAMPLES] / 16).astype(np.float32), y[:N_EXAMPLES]
    if task == "regressor":
        return X, ((y - 4.5) / 3).astype(np.float32).reshape(-1, 1)
    if task == "binary":
        return X, (y >= 5).astype(np.int64)
    return X, y


def estimator_class(task="classifier", accelerated=False):
    """The task's MR estimator, or its Accelerate version (MRAccelerateMixin first)."""
    base = TASKS[task]
    if not accelerated:
        return base
    from sk_mr.distributed import AcceleratedMRClassifier, MRAccelerateMixin

    if base is MRClassifier:
        return AcceleratedMRClassifier
    return type(f"Accelerated{base.__name__}", (MRAccelerateMixin, base), {})


def mr_params(updates_per_epoch=1, loss_pass="full", n_processes=1, task="classifier"):
    """The same training on 1 process (global batch) or n (shards of it)."""
    params = dict(module=MLP, module__in_features=64,
                  module__n_classes=10 if task == "classifier" else 1,
                  module__hidden=(32,), eta=0.5, lr=0.1, max_epochs=3,
                  batch_size=GLOBAL_BATCH // n_processes,
                  updates_per_epoch=updates_per_epoch, loss_pass=loss_pass,
                  train_split=None, random_state=0, verbose=0)
    if loss_pass == "full":  # the online pass has no loss-pass batches
        params["loss_pass_batch_size"] = LOSS_PASS_BATCH // n_processes
    return params
