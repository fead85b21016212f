"""
The paper's 1D illustrative examples (Figure 1)
===============================================

Section 4.2 of the paper studies two one-dimensional problems where the
inputs equal the clean labels, ``x_i = y_i`` in ``{+1, -1}``, ``N = 15``, and
a third of the labels is corrupted (``sigma = 1/3``, so ``Delta = 1/6``):

* **Logistic regression** with flipped labels, trained by full-batch gradient
  descent (``alpha = 1``) with and without MR (Algorithm 2, ``eta = 1``).
  Plain GD on the noisy labels stops at ``theta* = log((1 - sigma)/sigma)``
  (Lemma 6) and its clean loss stays at ``-log(1 - sigma)``; with MR, theta
  increases at every step (Lemma 7) and the clean loss goes to zero like
  GD on the clean labels (Theorem 8).
* **Linear regression** with labels shifted by ``epsilon = 1`` (here every
  shift points against ``x_i``, the worst case of the analysis), solved by
  least squares with and without MR (Algorithm 3, ``eta = 1``), and by
  gradient descent with MR (Algorithm 2 on the least-squares loss, which the
  paper simulates without a guarantee; we use ``alpha = 1/2`` because with
  ``alpha = 1`` and ``x_i^2 = 1`` one GD step lands exactly on the weighted
  least-squares solution, so Algorithm 2 *is* Algorithm 3). Plain least
  squares keeps a constant error; with MR the clean loss decays
  exponentially, under the bound of Theorem 9,
  ``|theta - 1| <= eps exp(-eta eps^2 Delta t) / (1 + Delta)``.

The curves show the loss with respect to the *clean* labels. Run as a
script, this file saves the figure to the path given as its first argument
(default: ``figure1.png``)::

    python examples/beyond_networks/plot_illustrative_1d.py figure1.png
"""

import math

import matplotlib.pyplot as plt
import numpy as np

from sk_mr.paper.theory import (make_linear_1d, make_logistic_1d, mr_gradient_descent,
                                mr_least_squares)

N, SIGMA, EPSILON, ETA = 15, 1 / 3, 1.0, 1.0


def gradient_descent(problem, *, eta, n_steps, y=None, alpha=1.0):
    """Algorithm 2 (eta > 0) or plain GD (eta = 0) from theta_0 = 0."""
    return mr_gradient_descent(lambda th: problem.example_losses(th, y=y),
                               lambda th: problem.example_gradients(th, y=y),
                               0.0, alpha=alpha, eta=eta, n_steps=n_steps)


# %%
# Logistic regression with flipped labels
# ---------------------------------------

logistic = make_logistic_1d(N, SIGMA, random_state=0)
T_logistic = 1000
steps = np.arange(T_logistic + 1)
logistic_curves = {
    "GD, clean labels": gradient_descent(logistic, eta=0.0, n_steps=T_logistic,
                                         y=logistic.y),
    "GD, noisy labels": gradient_descent(logistic, eta=0.0, n_steps=T_logistic),
    "GD + MR, noisy labels": gradient_descent(logistic, eta=ETA, n_steps=T_logistic),
}
logistic_losses = {name: logistic.clean_loss(path.thetas)
                   for name, path in logistic_curves.items()}

# %%
# Linear regression with shifted labels
# -------------------------------------

linear = make_linear_1d(N, SIGMA, EPSILON, signs="against", random_state=0)
T_linear = 150
least_squares = mr_least_squares(linear.x, linear.y_noisy, eta=0.0, n_steps=T_linear)
least_squares_mr = mr_least_squares(linear.x, linear.y_noisy, eta=ETA, n_steps=T_linear)
gd_mr = gradient_descent(linear, eta=ETA, n_steps=T_linear, alpha=0.5)
linear_losses = {
    "LS, noisy labels": linear.clean_loss(least_squares.thetas),
    "LS + MR (Alg. 3)": linear.clean_loss(least_squares_mr.thetas),
    "GD + MR (Alg. 2, alpha=1/2)": linear.clean_loss(gd_mr.thetas),
}
# Theorem 9 bounds |theta - 1| for the solution computed from P_t, which
# Algorithm 3 calls theta_{t+1}; the clean loss is (theta - 1)^2 / 2.
rate = ETA * EPSILON ** 2 * linear.delta
t_linear = np.arange(1, T_linear + 1)
theorem9 = 0.5 * (EPSILON * np.exp(-rate * (t_linear - 1)) / (1 + linear.delta)) ** 2

# %%
# The figure
# ----------

fig, (ax_log, ax_lin) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
for name, loss in logistic_losses.items():
    ax_log.plot(steps[1:], loss[1:], label=name)
ax_log.axhline(-math.log(1 - SIGMA), color="gray", ls=":", lw=1,
               label=r"$-\log(1-\sigma)$ (Lemma 6)")
ax_log.set(xscale="log", yscale="log", xlabel="step t", ylabel="clean loss L(theta_t)",
           title="Logistic regression, flipped labels")
ax_log.legend(fontsize=8)

for name, loss in linear_losses.items():
    ax_lin.plot(t_linear, np.maximum(loss[1:], 1e-32), label=name)
ax_lin.plot(t_linear, theorem9, "k--", lw=1, label="Theorem 9 bound")
ax_lin.set(yscale="log", xlabel="step t", ylabel="clean loss L(theta_t)",
           title=f"Linear regression, labels shifted by {EPSILON:g}")
ax_lin.set_ylim(1e-16, 1)
ax_lin.legend(fontsize=8)
fig.suptitle(f"MR on the 1D examples (N={N}, sigma={SIGMA:.2f}, eta={ETA:g})")

# sphinx_gallery_start_ignore
# Run as a script, save the figure: python examples/beyond_networks/plot_illustrative_1d.py figure1.png
import sys  # noqa: E402

if __name__ == "__main__" and "sphinx_gallery" not in sys.modules:
    path = sys.argv[1] if len(sys.argv) > 1 else "figure1.png"
    fig.savefig(path, dpi=120)
    print(f"saved {path}")
# sphinx_gallery_end_ignore
