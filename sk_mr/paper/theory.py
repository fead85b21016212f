"""The paper's theory, runnable: Algorithms 2 and 3 and the 1D examples.

Section 4 of the paper analyses two simplified versions of MR:

* **Algorithm 2**, full-batch gradient descent on the MR-weighted loss
  (:func:`mr_gradient_descent`), and
* **Algorithm 3**, weighted least squares alternated with MW updates
  (:func:`mr_least_squares`),

on two one-dimensional problems where ``x_i = y_i`` in ``{+1, -1}`` and a
fraction ``sigma = 1/2 - Delta`` of the labels is corrupted
(:func:`make_logistic_1d`, flipped labels; :func:`make_linear_1d`, labels
shifted by ``+-epsilon``). Both algorithms use the MW step of
:mod:`sk_mr.mw`, the same code that weights the neural networks.

Indexing follows the algorithms as printed: ``p_0`` is uniform
(``w_0 = 1``); step ``t = 0, 1, ...`` computes ``theta_{t+1}`` from
``theta_t`` and ``p_t`` and then ``p_{t+1} = softmax(-eta * L_{t+1})`` with
``L_{t+1} = sum_{s=1}^{t+1} loss(theta_s)``. The loss at the initial
``theta_0`` never enters the weights. Both functions return the whole path so
that the lemmas can be checked at every step.
"""

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils import Bunch, check_random_state

from sk_mr.mw import MultiplicativeWeights, resolve_eta
from sk_mr.validation import check_int, check_option, check_real

__all__ = [
    "Illustrative1D",
    "make_linear_1d",
    "make_logistic_1d",
    "mr_gradient_descent",
    "mr_least_squares",
    "weighted_least_squares",
]


# ---------------------------------------------------------------------------
# The two illustrative problems (section 4.2)
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Illustrative1D:
    """One of the paper's 1D problems: data, corruption and per-example losses.

    Create it with :func:`make_logistic_1d` or :func:`make_linear_1d`. The
    parameter ``theta`` of every method is a scalar or an array of shape
    ``(1,)``; the losses are those the learner sees (noisy labels) unless
    ``y`` is given.

    Parameters
    ----------
    kind : {'logistic', 'linear'}
      ``'logistic'``: ``loss_i = log(1 + exp(-y_i x_i theta))``;
      ``'linear'``: ``loss_i = (theta x_i - y_i) ** 2 / 2``.

    x : numpy.ndarray of float64, shape (n_samples,)
      Inputs in ``{+1, -1}``.

    y : numpy.ndarray of float64, shape (n_samples,)
      Clean labels (equal to ``x``).

    y_noisy : numpy.ndarray of float64, shape (n_samples,)
      Labels seen by the learner, ``y~`` in the paper.

    corrupted : numpy.ndarray of bool, shape (n_samples,)
      The set ``I_cr`` of corrupted examples (``|I_cr| = sigma * N``).

    sigma : float
      Corruption ratio ``|I_cr| / N``.

    epsilon : float or None
      Size of the label shift of the linear problem (None for logistic).

    Attributes
    ----------
    n_samples : int
      ``N``.

    delta : float
      ``Delta = 1/2 - sigma``, the distance of the corruption from 1/2.

    Examples
    --------
    >>> import math
    >>> problem = make_logistic_1d(random_state=0)
    >>> problem.n_samples, int(problem.corrupted.sum())
    (15, 5)
    >>> float(problem.clean_loss(0.0)) == math.log(2)
    True
    """

    kind: str
    x: np.ndarray
    y: np.ndarray
    y_noisy: np.ndarray
    corrupted: np.ndarray
    sigma: float
    epsilon: float = None

    @property
    def n_samples(self):
        """``N``, the number of examples."""
        return int(self.x.shape[0])

    @property
    def delta(self):
        """``Delta = 1/2 - sigma``."""
        return 0.5 - self.sigma

    @property
    def X(self):
        """The inputs as a column, shape ``(n_samples, 1)``, for estimators."""
        return self.x[:, None]

    def example_losses(self, theta, y=None):
        """Per-example losses ``loss_i(theta)``.

        Parameters
        ----------
        theta : float or array-like of shape (1,)
          The model parameter.

        y : array-like of shape (n_samples,) or None (default=None)
          Labels to score against; None means the noisy labels ``y_noisy``.

        Returns
        -------
        losses : numpy.ndarray of float64, shape (n_samples,)

        Examples
        --------
        >>> problem = make_logistic_1d(random_state=0)
        >>> losses = problem.example_losses(1.0)
        >>> bool(np.allclose(losses[problem.corrupted], np.log1p(np.e)))
        True
        """
        theta = _scalar_theta(theta)
        y = self.y_noisy if y is None else np.asarray(y, dtype=np.float64)
        if self.kind == "logistic":
            # log(1 + exp(-m)) computed without overflow.
            return np.logaddexp(0.0, -y * self.x * theta)
        return 0.5 * (theta * self.x - y) ** 2

    def example_gradients(self, theta, y=None):
        """Per-example gradients ``d loss_i / d theta``.

        Parameters
        ----------
        theta : float or array-like of shape (1,)
          The model parameter.

        y : array-like of shape (n_samples,) or None (default=None)
          Labels; None means the noisy labels ``y_noisy``.

        Returns
        -------
        gradients : numpy.ndarray of float64, shape (n_samples, 1)
        """
        theta = _scalar_theta(theta)
        y = self.y_noisy if y is None else np.asarray(y, dtype=np.float64)
        if self.kind == "logistic":
            margin = y * self.x * theta
            # d/dtheta log(1 + exp(-m)) = -y x / (1 + exp(m)) = -y x sigmoid(-m)
            grad = -y * self.x * _sigmoid(-margin)
        else:
            grad = (theta * self.x - y) * self.x
        return grad[:, None]

    def clean_loss(self, theta):
        """``L(theta)``: the mean loss with respect to the clean labels.

        Parameters
        ----------
        theta : float or array-like
          One parameter, or a sequence of them (e.g. a whole path
          ``thetas`` of shape ``(T + 1, 1)``).

        Returns
        -------
        loss : float or numpy.ndarray of float64
          One value per parameter given.

        Examples
        --------
        >>> problem = make_linear_1d(random_state=0)
        >>> problem.clean_loss(1.0), problem.clean_loss([[1.0], [3.0]]).tolist()
        (0.0, [0.0, 2.0])
        """
        thetas = np.asarray(theta, dtype=np.float64)
        if thetas.ndim == 0 or thetas.shape == (1,):
            return float(self.example_losses(thetas, y=self.y).mean())
        return np.array([self.example_losses(t, y=self.y).mean()
                         for t in thetas.reshape(-1)])

    def noisy_loss(self, theta):
        """The mean loss the learner sees (uniform weights, noisy labels).

        Parameters
        ----------
        theta : float or array-like of shape (1,)

        Returns
        -------
        loss : float
        """
        return float(self.example_losses(theta).mean())


def _scalar_theta(theta):
    theta = np.asarray(theta, dtype=np.float64)
    if theta.size != 1:
        raise ValueError(
            f"The 1D problems have one parameter; got theta of shape {theta.shape}.")
    return float(theta.reshape(-1)[0])


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check_setup(n_samples, sigma):
    check_int("n_samples", n_samples, low=1)
    check_real("sigma", sigma, low=0, high=0.5, high_open=True,
               hint="sigma is the corruption ratio; the analysis needs Delta = 1/2 - sigma > 0.")
    n_corrupted = sigma * n_samples
    if abs(n_corrupted - round(n_corrupted)) > 1e-9:
        raise ValueError(
            f"sigma * n_samples must be a whole number of corrupted examples "
            f"(|I_cr| = sigma N), got {sigma!r} * {n_samples} = {n_corrupted:g}. "
            f"Try sigma={round(n_corrupted) / n_samples!r}.")
    return int(round(n_corrupted))


def _draw_setup(n_samples, n_corrupted, rng):
    x = rng.choice(np.array([-1.0, 1.0]), size=n_samples)
    corrupted = np.zeros(n_samples, dtype=bool)
    corrupted[rng.permutation(n_samples)[:n_corrupted]] = True
    return x, corrupted


def make_logistic_1d(n_samples=15, sigma=1 / 3, *, random_state=None):
    """The paper's 1D logistic-regression example with flipped labels.

    Inputs ``x_i`` are drawn uniformly from ``{+1, -1}``, clean labels are
    ``y_i = x_i``, and exactly ``sigma * n_samples`` examples (drawn at
    random) have their label flipped: ``y~_k = -y_k``. The loss is
    ``log(1 + exp(-y~_i x_i theta))``, so every clean example has loss
    ``log(1 + exp(-theta))`` and every corrupted one ``log(1 + exp(theta))``.

    Parameters
    ----------
    n_samples : int (default=15)
      ``N``; the paper uses 15.

    sigma : float in [0, 1/2) (default=1/3)
      Corruption ratio; ``sigma * n_samples`` must be a whole number.

    random_state : int, numpy.random.RandomState or None (default=None)
      Draws the inputs and the corrupted set.

    Returns
    -------
    problem : Illustrative1D

    Examples
    --------
    >>> problem = make_logistic_1d(random_state=0)
    >>> bool(np.all(problem.y_noisy[problem.corrupted] == -problem.y[problem.corrupted]))
    True
    """
    n_corrupted = _check_setup(n_samples, sigma)
    rng = check_random_state(random_state)
    x, corrupted = _draw_setup(n_samples, n_corrupted, rng)
    y = x.copy()
    y_noisy = np.where(corrupted, -y, y)
    return Illustrative1D("logistic", x, y, y_noisy, corrupted,
                          n_corrupted / n_samples)


def make_linear_1d(n_samples=15, sigma=1 / 3, epsilon=1.0, *, signs="random",
                   random_state=None):
    """The paper's 1D linear-regression example with shifted labels.

    Inputs ``x_i`` are drawn uniformly from ``{+1, -1}``, clean labels are
    ``y_i = x_i`` (so ``theta* = 1`` fits them exactly), and the learner sees
    ``y~ = y + eps_vec`` with ``eps_vec_k = +-epsilon`` on exactly
    ``sigma * n_samples`` corrupted examples and 0 elsewhere.

    Parameters
    ----------
    n_samples : int (default=15)
      ``N``; the paper uses 15.

    sigma : float in [0, 1/2) (default=1/3)
      Corruption ratio; ``sigma * n_samples`` must be a whole number.

    epsilon : float > 0 (default=1.0)
      Size of the shift; the paper uses 1.

    signs : {'random', 'against'} (default='random')
      ``'random'``: each shift's sign is drawn uniformly (the paper leaves
      it unspecified). ``'against'``: ``eps_vec_k = -epsilon * x_k``, every
      shift pulls ``theta`` away from 1 in the same direction (with
      ``epsilon = 2`` this is label flipping); this is the worst case of the
      analysis, where Lemma 10's bound is tight at ``t = 1``.

    random_state : int, numpy.random.RandomState or None (default=None)
      Draws the inputs, the corrupted set and the signs.

    Returns
    -------
    problem : Illustrative1D

    Examples
    --------
    >>> problem = make_linear_1d(random_state=0)
    >>> shift = problem.y_noisy - problem.y
    >>> np.abs(shift[problem.corrupted]).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    >>> float(np.abs(shift[~problem.corrupted]).max())
    0.0
    """
    n_corrupted = _check_setup(n_samples, sigma)
    check_real("epsilon", epsilon, low=0, low_open=True)
    check_option("signs", signs, ("random", "against"))
    rng = check_random_state(random_state)
    x, corrupted = _draw_setup(n_samples, n_corrupted, rng)
    y = x.copy()
    if signs == "random":
        sign = rng.choice(np.array([-1.0, 1.0]), size=n_samples)
    else:
        sign = -x
    shift = np.where(corrupted, float(epsilon) * sign, 0.0)
    return Illustrative1D("linear", x, y, y + shift, corrupted,
                          n_corrupted / n_samples, epsilon=float(epsilon))


# ---------------------------------------------------------------------------
# Algorithms 2 and 3
# ---------------------------------------------------------------------------

def _check_n_steps(n_steps):
    return check_int("n_steps", n_steps, low=0)


def _mw_step(mw, losses, eta, step):
    """One MW update through :mod:`sk_mr.mw`; numpy in, numpy out."""
    eta_value = resolve_eta(eta, step)
    return mw.update(torch.from_numpy(losses), eta_value).numpy().copy()


def _path(thetas, probabilities, losses, cumulative):
    return Bunch(thetas=np.asarray(thetas), probabilities=np.asarray(probabilities),
                 example_losses=np.asarray(losses),
                 cumulative_losses=np.asarray(cumulative))


def mr_gradient_descent(example_losses, example_gradients, theta0, *, alpha,
                        eta, n_steps):
    """Algorithm 2: full-batch gradient descent with Multiplicative Reweighting.

    Starting from ``theta_0`` and uniform ``p_0``, every step is::

        theta_{t+1} = theta_t - alpha * sum_i p_{t,i} grad loss_i(theta_t)   (GD)
        p_{t+1}     = softmax(-eta * sum_{s=1}^{t+1} loss(theta_s))          (MW)

    With ``eta=0`` the weights stay uniform and this is plain gradient
    descent on the mean loss.

    Parameters
    ----------
    example_losses : callable
      ``example_losses(theta) -> array of shape (n_samples,)``, the
      per-example losses ``loss_i(theta)``.

    example_gradients : callable
      ``example_gradients(theta) -> array of shape (n_samples, n_params)``,
      the per-example gradients.

    theta0 : float or array-like of shape (n_params,)
      Initial parameter ``theta_0``.

    alpha : float > 0
      GD step size (``1 / beta`` for a ``beta``-smooth loss in Lemma 1).

    eta : float >= 0 or callable
      MW step size, or a schedule called with the step number ``t + 1``
      (e.g. :class:`sk_mr.mw.MultiStepEta`).

    n_steps : int >= 0
      Number of GD steps ``T``.

    Returns
    -------
    path : sklearn.utils.Bunch
      ``thetas`` (T + 1, n_params): ``theta_0 .. theta_T``;
      ``probabilities`` (T + 1, n_samples): ``p_0 .. p_T``;
      ``example_losses`` (T + 1, n_samples): ``loss(theta_0) .. loss(theta_T)``;
      ``cumulative_losses`` (T + 1, n_samples): ``sum_{s=1}^t loss(theta_s)``
      (row 0 is zero), so ``probabilities[t] = softmax(-eta * cumulative_losses[t])``.

    Examples
    --------
    >>> problem = make_logistic_1d(random_state=0)
    >>> path = mr_gradient_descent(problem.example_losses,
    ...                            problem.example_gradients, 0.0,
    ...                            alpha=1.0, eta=1.0, n_steps=50)
    >>> bool(np.all(np.diff(path.thetas[:, 0]) > 0))   # Lemma 7
    True
    """
    check_real("alpha", alpha, low=0, low_open=True)
    n_steps = _check_n_steps(n_steps)
    resolve_eta(eta, 1)  # fail early on a bad eta
    theta = np.atleast_1d(np.asarray(theta0, dtype=np.float64)).copy()
    losses = np.asarray(example_losses(theta), dtype=np.float64)
    n = losses.shape[0]
    mw = MultiplicativeWeights(n)
    p = mw.probabilities_.numpy().copy()
    thetas, probabilities, all_losses = [theta.copy()], [p], [losses]
    cumulative = [np.zeros(n)]
    for t in range(n_steps):
        grads = np.asarray(example_gradients(theta), dtype=np.float64).reshape(n, -1)
        theta = theta - alpha * (p @ grads)
        losses = np.asarray(example_losses(theta), dtype=np.float64)
        p = _mw_step(mw, losses, eta, t + 1)
        thetas.append(theta.copy())
        probabilities.append(p)
        all_losses.append(losses)
        cumulative.append(mw.cumulative_losses_.numpy().copy())
    return _path(thetas, probabilities, all_losses, cumulative)


def weighted_least_squares(X, y, probabilities):
    """The least-squares step of Algorithm 3, in the paper's pseudo-inverse form.

    With ``A = sqrt(P) X`` (``P = diag(p)``), returns
    ``theta = A^T (A A^T)^+ sqrt(P) y``, which for one feature is the paper's
    ``x sqrt(P) (sqrt(P) x^T x sqrt(P))^+ sqrt(P) y~``: the minimum-norm
    minimizer of ``sum_i p_i (x_i . theta - y_i) ** 2``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
      Inputs (a 1D array is one feature).

    y : array-like of shape (n_samples,)
      Targets.

    probabilities : array-like of shape (n_samples,)
      Non-negative weights ``p``.

    Returns
    -------
    theta : numpy.ndarray of float64, shape (n_features,)

    Examples
    --------
    >>> round(float(weighted_least_squares([1.0, -1.0], [2.0, -1.0], [0.5, 0.5])[0]), 12)
    1.5
    """
    X = _as_2d(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    sqrt_p = np.sqrt(np.asarray(probabilities, dtype=np.float64))
    A = sqrt_p[:, None] * X
    return A.T @ np.linalg.pinv(A @ A.T) @ (sqrt_p * y)


def _as_2d(X):
    X = np.asarray(X, dtype=np.float64)
    return X[:, None] if X.ndim == 1 else X


def mr_least_squares(X, y, *, eta, n_steps):
    """Algorithm 3: weighted least squares alternated with MW updates.

    Starting from ``theta_0 = 0`` and uniform ``p_0``, every step is::

        theta_{t+1} = weighted least squares with P_t = diag(p_t)
        loss_{t+1,i} = (x_i . theta_{t+1} - y_i) ** 2 / 2
        p_{t+1}     = softmax(-eta * sum_{s=1}^{t+1} loss_s)

    The least-squares step uses the paper's pseudo-inverse form (see
    :func:`weighted_least_squares`). The proof of Theorem 9 writes the
    solution computed from ``P_t`` as ``theta_t = x P_t y~``; here it is
    ``thetas[t + 1]``. :class:`sk_mr.meta.MRMetaRegressor` wrapping
    ``LinearRegression(fit_intercept=False)`` runs the same iteration.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,)
      Inputs; the paper's example has one feature.

    y : array-like of shape (n_samples,)
      Targets seen by the learner (``y~``).

    eta : float >= 0 or callable
      MW step size, or a schedule called with the step number ``t + 1``.

    n_steps : int >= 0
      Number of least-squares solves ``T``.

    Returns
    -------
    path : sklearn.utils.Bunch
      ``thetas`` (T + 1, n_features): ``theta_0 = 0, theta_1 .. theta_T``;
      ``probabilities`` (T + 1, n_samples): ``p_0 .. p_T``;
      ``example_losses`` (T + 1, n_samples): losses at ``theta_0 .. theta_T``;
      ``cumulative_losses`` (T + 1, n_samples): ``sum_{s=1}^t loss(theta_s)``.

    Examples
    --------
    >>> problem = make_linear_1d(random_state=0)
    >>> path = mr_least_squares(problem.x, problem.y_noisy, eta=1.0, n_steps=60)
    >>> bool(abs(path.thetas[-1, 0] - 1.0) < 1e-3)   # Theorem 9: theta -> 1
    True
    """
    n_steps = _check_n_steps(n_steps)
    resolve_eta(eta, 1)
    X = _as_2d(X)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y have different numbers of samples: "
                         f"{X.shape[0]} and {y.shape[0]}.")
    n = X.shape[0]
    mw = MultiplicativeWeights(n)
    p = mw.probabilities_.numpy().copy()
    theta = np.zeros(X.shape[1])
    thetas, probabilities = [theta], [p]
    all_losses, cumulative = [0.5 * (X @ theta - y) ** 2], [np.zeros(n)]
    for t in range(n_steps):
        theta = weighted_least_squares(X, y, p)
        losses = 0.5 * (X @ theta - y) ** 2
        p = _mw_step(mw, losses, eta, t + 1)
        thetas.append(theta)
        probabilities.append(p)
        all_losses.append(losses)
        cumulative.append(mw.cumulative_losses_.numpy().copy())
    return _path(thetas, probabilities, all_losses, cumulative)
