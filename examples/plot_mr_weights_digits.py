"""What MR's weights learn on noisy digits (the paper's Figures 2-4)
=================================================================

We corrupt 40% of scikit-learn's digits labels, train an MLP with MR and
record the weights every epoch with :class:`sk_mr.inspection.WeightHistory`.
The three figures of the paper's appendix B then come out of that one run:

* Figure 2: the total weight on the noisy labels starts at the noise rate
  and decays;
* Figure 3: the examples MR weights least keep a high loss, the heaviest
  ones a low loss;
* Figure 4: the lowest weight percentiles are almost all noisy labels.

Run as a script, it also saves the figures as PNG files
(``python examples/plot_mr_weights_digits.py --outdir figures``).
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from sk_mr import MRClassifier, add_label_noise
from sk_mr.inspection import WeightHistory, noise_detection_report
from sk_mr.models import MLP
from sk_mr.plotting import (plot_extreme_weight_losses, plot_mask_weight,
                            plot_noise_by_weight_percentile)

# %%
# Train MR on digits with 40% 'uniform' label noise
# --------------------------------------------------
# A corrupted label is redrawn from all 10 classes, so about 36% of the
# labels really change. ``WeightHistory`` stores every example's weight
# after each epoch and writes the total weight on the noisy labels to the
# history as ``mr_weight_noisy``.

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)
y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)

torch.manual_seed(0)
net = MRClassifier(
    MLP, module__in_features=64, module__n_classes=10, eta=0.01, max_epochs=60,
    lr=0.05, optimizer__momentum=0.9, batch_size=128, train_split=None,
    random_state=0, verbose=0,
    callbacks=[WeightHistory(masks={"noisy": is_noisy}, random_state=0)],
)
net.fit(X, y_noisy)
report = noise_detection_report(net, is_noisy)
print(f"noise rate {report['noise_rate']:.1%}; AUROC of the weights "
      f"{report['auroc']:.3f}; precision at the noise rate {report['precision']:.3f}")

# %%
# Figure 2: weight on the noisy labels
# ------------------------------------

fig2, ax = plt.subplots(figsize=(5, 3.5))
plot_mask_weight(net, "noisy", label="noisy labels", ax=ax)
ax.set_title("Total weight on noisy labels")
fig2.tight_layout()

# %%
# Figure 3: loss of the 2% lowest- and highest-weighted examples
# --------------------------------------------------------------
# The groups are chosen by the final weights; the curves are their mean
# loss in each epoch's MW update.

fig3, ax = plt.subplots(figsize=(5, 3.5))
plot_extreme_weight_losses(net, fraction=0.02, ax=ax)
ax.set_title("Loss of the extreme-weight examples")
fig3.tight_layout()

# %%
# Figure 4: fraction of noisy labels per weight percentile
# --------------------------------------------------------

fig4, ax = plt.subplots(figsize=(5, 3.5))
plot_noise_by_weight_percentile(net, is_noisy, ax=ax)
ax.set_title("Noisy labels by weight percentile")
fig4.tight_layout()

# sphinx_gallery_start_ignore
# Run as a script, save the figures: python examples/plot_mr_weights_digits.py --outdir DIR
if __name__ == "__main__" and "sphinx_gallery" not in __import__("sys").modules:
    import argparse
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", default=".", help="where to save the PNGs")
    outdir = parser.parse_known_args()[0].outdir
    os.makedirs(outdir, exist_ok=True)
    for number, fig in ((2, fig2), (3, fig3), (4, fig4)):
        path = os.path.join(outdir, f"mr_weights_digits_fig{number}.png")
        fig.savefig(path, dpi=120)
        print(f"saved {path}")
# sphinx_gallery_end_ignore
