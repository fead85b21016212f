"""Logging MR to TensorBoard
==========================

Everything MR records lands in the net's history, so skorch's logging
callbacks pick it up unchanged: :class:`skorch.callbacks.TensorBoard` writes
every numeric history key as a scalar, and :class:`skorch.callbacks.MlflowLogger`
logs them as metrics. Besides the losses these are

* ``mr_ess``: the effective sample size ``1 / sum(p_i^2)`` of the weights,
* ``mr_eta``: the MW step size used by the epoch's update,
* ``mr_weight_<name>``: with :class:`sk_mr.inspection.WeightHistory`, the
  total weight on each named group of rows (here the noisy labels: the
  curve of the paper's Figure 2).

Put the logging callback *after* ``WeightHistory`` in ``callbacks=[...]`` so
that it sees the keys of the epoch that just ended.

Run ``python examples/tensorboard_logging.py --logdir runs/mr_digits`` and
then ``tensorboard --logdir runs/mr_digits``.
"""

import argparse
import tempfile

import numpy as np
import torch
from skorch.callbacks import TensorBoard
from sklearn.datasets import load_digits
from torch.utils.tensorboard import SummaryWriter

from sk_mr import MRClassifier, add_label_noise
from sk_mr.inspection import WeightHistory
from sk_mr.models import MLP


def main(argv=None):
    parser = argparse.ArgumentParser(description="Log an MR run to TensorBoard.")
    parser.add_argument("--logdir", default=None,
                        help="TensorBoard log directory (default: a new temporary one)")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    logdir = args.logdir or tempfile.mkdtemp(prefix="sk_mr_tensorboard_")

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)

    torch.manual_seed(0)
    net = MRClassifier(
        MLP, module__in_features=64, module__n_classes=10, eta=0.01,
        max_epochs=args.epochs, lr=0.05, optimizer__momentum=0.9, batch_size=128,
        random_state=0,
        callbacks=[
            WeightHistory(masks={"noisy": is_noisy}),
            TensorBoard(SummaryWriter(log_dir=logdir)),  # after WeightHistory
        ],
    )
    net.fit(X, y_noisy)

    # Read the event file back to show what was written.
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(logdir)
    events.Reload()
    print(f"\nscalars written to {logdir}:")
    for tag in sorted(events.Tags()["scalars"]):
        values = [s.value for s in events.Scalars(tag)]
        print(f"  {tag:<20} {len(values)} epochs, last {values[-1]:.4f}")
    print(f"\nview with: tensorboard --logdir {logdir}")


if __name__ == "__main__":
    main()
