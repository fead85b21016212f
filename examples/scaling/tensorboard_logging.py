"""
Logging MR to TensorBoard
=========================

Everything MR records lands in the net's history, so skorch's logging
callbacks pick it up unchanged: :class:`skorch.callbacks.TensorBoard` writes
every numeric history key as a scalar, and
:class:`skorch.callbacks.MlflowLogger` logs them as metrics. Besides the
losses these are

* ``mr_ess``: the effective sample size ``1 / sum(p_i^2)`` of the weights,
* ``mr_eta``: the MW step size used by the epoch's update,
* ``mr_weight_<name>``: with :class:`sk_mr.inspection.WeightHistory`, the
  total weight on each named group of rows (here the noisy labels: the
  curve of the paper's Figure 2).

Put the logging callback *after* ``WeightHistory`` in ``callbacks=[...]`` so
that it sees the keys of the epoch that just ended. Then look at the run
with ``tensorboard --logdir DIR``; below, the event file is read back to
show what was written.
"""

import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from skorch.callbacks import TensorBoard
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from sk_mr import MRClassifier, add_label_noise
from sk_mr.inspection import WeightHistory
from sk_mr.models import MLP

EPOCHS = 30
logdir = tempfile.mkdtemp(prefix="sk_mr_tensorboard_")

# sphinx_gallery_start_ignore
import argparse  # noqa: E402

if __name__ == "__main__" and "__file__" in globals():
    parser = argparse.ArgumentParser(description="Log an MR run to TensorBoard.")
    parser.add_argument("--logdir", default=logdir)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    cli, _ = parser.parse_known_args()
    logdir, EPOCHS = cli.logdir, cli.epochs
torch.set_num_threads(1)  # a small MLP: one thread per process is fastest
# sphinx_gallery_end_ignore

# %%
# Train with the TensorBoard callback
# -----------------------------------

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)

net = MRClassifier(
    MLP, module__in_features=64, module__n_classes=10, eta=0.01,
    max_epochs=EPOCHS, lr=0.05, optimizer__momentum=0.9, batch_size=128,
    random_state=0, verbose=0,
    callbacks=[
        WeightHistory(masks={"noisy": is_noisy}),
        TensorBoard(SummaryWriter(log_dir=logdir)),  # after WeightHistory
    ],
)
net.fit(X, y_noisy)

# %%
# What was written
# ----------------

events = EventAccumulator(logdir)
events.Reload()
scalars = {tag: [s.value for s in events.Scalars(tag)]
           for tag in sorted(events.Tags()["scalars"])}
print(f"{'scalar':<22} {'epochs':>6} {'first':>10} {'last':>10}")
for tag, values in scalars.items():
    print(f"{tag:<22} {len(values):>6} {values[0]:>10.4f} {values[-1]:>10.4f}")
print(f"\nview with: tensorboard --logdir {logdir}")

fig, axes = plt.subplots(1, 3, figsize=(10, 3), constrained_layout=True)
for ax, tag in zip(axes, ("Loss/train_loss", "mr_ess", "mr_weight_noisy")):
    name = next((t for t in scalars if t.endswith(tag)), None)
    if name is not None:
        ax.plot(np.arange(1, len(scalars[name]) + 1), scalars[name])
    ax.set(title=tag, xlabel="epoch")
plt.show()
