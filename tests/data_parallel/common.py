"""Data and parameters shared by the data-parallel test and its worker."""

import numpy as np
from sklearn.datasets import load_digits

from sk_mr.models import MLP

#: Not a multiple of 2 processes x 32: the last global batch is uneven.
N_EXAMPLES = 301
GLOBAL_BATCH = 64
#: The loss pass's batches: 7 of them, so Accelerate pads process 1's shard
#: with a repeated batch (its duplicates must count once).
LOSS_PASS_BATCH = 50


def make_data():
    X, y = load_digits(return_X_y=True)
    return (X[:N_EXAMPLES] / 16).astype(np.float32), y[:N_EXAMPLES]


def mr_params(updates_per_epoch=1, loss_pass="full", n_processes=1):
    """The same training on 1 process (global batch) or n (shards of it)."""
    return dict(module=MLP, module__in_features=64, module__n_classes=10,
                module__hidden=(32,), eta=0.5, lr=0.1, max_epochs=3,
                batch_size=GLOBAL_BATCH // n_processes,
                loss_pass_batch_size=LOSS_PASS_BATCH // n_processes if n_processes > 1
                else LOSS_PASS_BATCH,
                updates_per_epoch=updates_per_epoch, loss_pass=loss_pass,
                train_split=None, random_state=0, verbose=0)
