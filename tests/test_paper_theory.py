"""Numerical checks of the paper's section 4 / appendix A (sk_mr.paper.theory).

Indexing (as Algorithms 2 and 3 are printed): ``path.thetas[t]`` is
``theta_t``, ``path.probabilities[t]`` is ``p_t`` (uniform at ``t = 0``;
after ``t`` MW updates on the losses at ``theta_1 .. theta_t``), and step
``t`` computes ``theta_{t+1}`` from ``theta_t`` and ``p_t``.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sk_mr.mw import MultiStepEta
from sk_mr.paper.theory import (make_linear_1d, make_logistic_1d, mr_gradient_descent,
                                mr_least_squares, weighted_least_squares)

N = 15
SIGMA = 1 / 3          # the paper's corruption ratio
SIGMAS = [1 / 15, 1 / 5, 1 / 3, 7 / 15]   # sigma * 15 is a whole number
SEEDS = [0, 1, 2]


def softmax_neg(eta, cumulative):
    logits = -eta * cumulative
    w = np.exp(logits - logits.max())
    return w / w.sum()


def run_gd(problem, *, eta, n_steps, alpha=1.0, y=None):
    return mr_gradient_descent(
        lambda th: problem.example_losses(th, y=y),
        lambda th: problem.example_gradients(th, y=y),
        0.0, alpha=alpha, eta=eta, n_steps=n_steps)


class TestIllustrativeSetups:
    @pytest.mark.parametrize("seed", SEEDS)
    def test_logistic_setup(self, seed):
        problem = make_logistic_1d(N, SIGMA, random_state=seed)
        assert problem.n_samples == N
        assert problem.corrupted.sum() == 5                      # |I_cr| = sigma N
        assert set(np.unique(problem.x)) <= {-1.0, 1.0}
        np.testing.assert_array_equal(problem.y, problem.x)      # x_i = y_i
        np.testing.assert_array_equal(problem.y_noisy[problem.corrupted],
                                      -problem.y[problem.corrupted])  # flips
        np.testing.assert_array_equal(problem.y_noisy[~problem.corrupted],
                                      problem.y[~problem.corrupted])
        assert problem.delta == pytest.approx(1 / 6)

    @pytest.mark.parametrize("signs", ["random", "against"])
    def test_linear_setup(self, signs):
        problem = make_linear_1d(N, SIGMA, epsilon=1.0, signs=signs, random_state=0)
        shift = problem.y_noisy - problem.y
        np.testing.assert_array_equal(problem.y, problem.x)
        np.testing.assert_array_equal(np.abs(shift[problem.corrupted]), 1.0)
        np.testing.assert_array_equal(shift[~problem.corrupted], 0.0)
        if signs == "against":
            np.testing.assert_array_equal(shift[problem.corrupted],
                                          -problem.x[problem.corrupted])

    def test_reproducible(self):
        a, b = make_linear_1d(random_state=3), make_linear_1d(random_state=3)
        np.testing.assert_array_equal(a.y_noisy, b.y_noisy)
        np.testing.assert_array_equal(a.corrupted, b.corrupted)

    def test_gradients_match_finite_differences(self):
        for problem in (make_logistic_1d(random_state=0), make_linear_1d(random_state=0)):
            for theta in (-1.3, 0.0, 0.7):
                h = 1e-6
                fd = (problem.example_losses(theta + h)
                      - problem.example_losses(theta - h)) / (2 * h)
                np.testing.assert_allclose(problem.example_gradients(theta)[:, 0], fd,
                                           rtol=1e-6, atol=1e-8)

    @pytest.mark.parametrize("kwargs, match", [
        (dict(sigma=0.5), r"^sigma must be a finite float >= 0 and < 0\.5, got 0\.5"),
        (dict(sigma=-0.1), r"^sigma must be a finite float >= 0 and < 0\.5, got -0\.1"),
        (dict(sigma=0.3), r"^sigma \* n_samples must be a whole number .* = 4\.5"),
        (dict(n_samples=0), r"^n_samples must be an int >= 1, got 0"),
    ])
    def test_bad_setup(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            make_logistic_1d(**kwargs)
        with pytest.raises(ValueError, match=match):
            make_linear_1d(**kwargs)

    def test_bad_epsilon_and_signs(self):
        with pytest.raises(ValueError, match=r"^epsilon must be a finite float > 0, got 0\.0"):
            make_linear_1d(epsilon=0.0)
        with pytest.raises(ValueError, match="^signs must be one of 'random', 'against'; "
                                             "got 'up'"):
            make_linear_1d(signs="up")


class TestAlgorithm2:
    def test_eta_zero_is_plain_gradient_descent(self):
        problem = make_logistic_1d(random_state=0)
        path = run_gd(problem, eta=0.0, n_steps=20, alpha=0.5)
        theta = 0.0
        for t in range(20):
            theta -= 0.5 * problem.example_gradients(theta)[:, 0].mean()
            assert path.thetas[t + 1, 0] == pytest.approx(theta, rel=1e-12)
        np.testing.assert_allclose(path.probabilities, 1 / N)

    def test_two_steps_on_three_examples_by_hand(self):
        # N = 3, sigma = 1/3, eta = alpha = 1: with m_i = y~_i x_i (+1 for the
        # two clean examples, -1 for the corrupted one), l_i = log(1 + e^{-m_i theta})
        # and l_i' = -m_i / (1 + e^{m_i theta}). At theta_0 = 0 the mean
        # gradient is -(1/2)(2 - 1)/3, so theta_1 = 1/6 = Delta; then
        # p_1 ~ e^{-l_i(1/6)} = 1 / (1 + e^{-m_i/6}), i.e. p_cr / p_cl = e^{-1/6}.
        problem = make_logistic_1d(3, 1 / 3, random_state=0)
        path = run_gd(problem, eta=1.0, n_steps=2)
        corrupted = problem.corrupted
        assert corrupted.sum() == 1 and problem.delta == pytest.approx(1 / 6)
        assert path.thetas[1, 0] == pytest.approx(1 / 6, rel=1e-12)
        r = math.exp(-1 / 6)
        p_cl, p_cr = 1 / (2 + r), r / (2 + r)
        np.testing.assert_allclose(path.probabilities[1],
                                   np.where(corrupted, p_cr, p_cl), rtol=1e-12)
        grad = 2 * p_cl * (-1 / (1 + math.exp(1 / 6))) + p_cr / (1 + math.exp(-1 / 6))
        assert path.thetas[2, 0] == pytest.approx(1 / 6 - grad, rel=1e-12)
        np.testing.assert_allclose(
            path.example_losses[2],
            np.where(corrupted, math.log1p(math.exp(path.thetas[2, 0])),
                     math.log1p(math.exp(-path.thetas[2, 0]))), rtol=1e-12)

    def test_weights_are_mw_of_losses_from_theta_1(self):
        problem = make_logistic_1d(random_state=0)
        path = run_gd(problem, eta=0.7, n_steps=15)
        np.testing.assert_allclose(path.probabilities[0], 1 / N)   # w_0 = 1
        for t in range(1, 16):
            cumulative = path.example_losses[1:t + 1].sum(axis=0)  # s = 1 .. t
            np.testing.assert_allclose(path.cumulative_losses[t], cumulative, rtol=1e-12)
            np.testing.assert_allclose(path.probabilities[t],
                                       softmax_neg(0.7, cumulative), rtol=1e-10)

    def test_gd_step_uses_current_weights(self):
        problem = make_logistic_1d(random_state=1)
        path = run_gd(problem, eta=1.0, n_steps=10, alpha=0.3)
        for t in range(10):
            grad = path.probabilities[t] @ problem.example_gradients(path.thetas[t])[:, 0]
            assert path.thetas[t + 1, 0] == pytest.approx(path.thetas[t, 0] - 0.3 * grad,
                                                          rel=1e-12)

    def test_eta_schedule(self):
        problem = make_logistic_1d(random_state=0)
        schedule = MultiStepEta(0.5, milestones=(3,), gamma=2.0)
        path = run_gd(problem, eta=schedule, n_steps=6)
        for t in range(1, 7):
            np.testing.assert_allclose(
                path.probabilities[t], softmax_neg(schedule(t), path.cumulative_losses[t]),
                rtol=1e-10)

    def test_multidimensional_theta(self):
        # Algorithm 2 written out for a vector theta: the step moves by the
        # p_t-weighted mean gradient, then p_{t+1} = softmax(-eta L_{t+1}).
        rng = np.random.default_rng(0)
        A, b = rng.normal(size=(6, 3)), rng.normal(size=6)
        alpha, eta = 0.05, 0.5
        path = mr_gradient_descent(lambda th: 0.5 * (A @ th - b) ** 2,
                                   lambda th: (A @ th - b)[:, None] * A,
                                   np.zeros(3), alpha=alpha, eta=eta, n_steps=5)
        assert path.thetas.shape == (6, 3)
        theta, p, cumulative = np.zeros(3), np.full(6, 1 / 6), np.zeros(6)
        for t in range(5):
            theta = theta - alpha * (A.T @ (p * (A @ theta - b)))
            cumulative += 0.5 * (A @ theta - b) ** 2
            p = softmax_neg(eta, cumulative)
            np.testing.assert_allclose(path.thetas[t + 1], theta, rtol=1e-12)
            np.testing.assert_allclose(path.cumulative_losses[t + 1], cumulative,
                                       rtol=1e-12)
            np.testing.assert_allclose(path.probabilities[t + 1], p, rtol=1e-10)

    @pytest.mark.parametrize("kwargs, exc, match", [
        (dict(alpha=0.0), ValueError, r"alpha must be a finite float > 0, got 0\.0"),
        (dict(alpha=-1.0), ValueError, r"alpha must be a finite float > 0, got -1\.0"),
        (dict(n_steps=-1), ValueError, r"n_steps must be an int >= 0, got -1"),
        (dict(eta=-0.1), ValueError, r"eta must be a finite, non-negative float, got -0\.1"),
        (dict(eta=math.nan), ValueError, r"eta must be a finite, non-negative float, got nan"),
        (dict(eta="1"), TypeError, r"eta must be a non-negative float, got '1'"),
    ])
    def test_bad_parameters(self, kwargs, exc, match):
        problem = make_logistic_1d(random_state=0)
        params = {**dict(alpha=1.0, eta=1.0, n_steps=3), **kwargs}
        with pytest.raises(exc, match=match):
            mr_gradient_descent(problem.example_losses, problem.example_gradients,
                                0.0, **params)


class TestAlgorithm3:
    def test_least_squares_step_is_weighted_least_squares(self):
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(12, 3)), rng.normal(size=12)
        p = rng.dirichlet(np.ones(12))
        sqrt_p = np.sqrt(p)
        expected = np.linalg.lstsq(sqrt_p[:, None] * X, sqrt_p * y, rcond=None)[0]
        np.testing.assert_allclose(weighted_least_squares(X, y, p), expected, rtol=1e-9)

    @pytest.mark.parametrize("seed", SEEDS)
    def test_closed_form_in_the_proof_of_theorem_9(self, seed):
        # theta solved with P_t equals x P_t y~ because |x_i| = 1.
        problem = make_linear_1d(random_state=seed)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=1.0, n_steps=10)
        for t in range(10):
            closed_form = problem.x @ (path.probabilities[t] * problem.y_noisy)
            assert path.thetas[t + 1, 0] == pytest.approx(closed_form, rel=1e-10)

    def test_weights_and_losses(self):
        problem = make_linear_1d(random_state=0)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=2.0, n_steps=8)
        assert path.thetas[0, 0] == 0.0                          # theta_0 = 0
        for t in range(1, 9):
            np.testing.assert_allclose(
                path.example_losses[t],
                0.5 * (path.thetas[t, 0] * problem.x - problem.y_noisy) ** 2)
            np.testing.assert_allclose(
                path.probabilities[t],
                softmax_neg(2.0, path.example_losses[1:t + 1].sum(axis=0)), rtol=1e-10)

    def test_eta_zero_is_ordinary_least_squares(self):
        problem = make_linear_1d(random_state=0)
        path = mr_least_squares(problem.X, problem.y_noisy, eta=0.0, n_steps=3)
        ols = np.linalg.lstsq(problem.X, problem.y_noisy, rcond=None)[0]
        np.testing.assert_allclose(path.thetas[1:, 0], ols[0], rtol=1e-12)

    def test_bad_shapes(self):
        with pytest.raises(ValueError, match="different numbers of samples"):
            mr_least_squares(np.ones(3), np.ones(4), eta=1.0, n_steps=1)


# --- Lemma 1 and Theorem 2 on random smooth problems --------------------------

def random_smooth_problem(rng, n, d, families):
    """Per-example losses from three smooth families, and a valid beta.

    quadratic ``(a.th - b)^2 / 2`` (smoothness ``|a|^2``), logistic
    ``log(1 + exp(-b a.th))`` (``|a|^2 / 4``) and the non-convex
    ``1 + cos(a.th + b)`` (``|a|^2``). All have infimum 0, attained or
    approached, so ``min_{p, theta} sum_i p_i loss_i(theta) = 0``.
    """
    A = rng.normal(size=(n, d)) * rng.uniform(0.2, 2.0, size=(n, 1))
    b = rng.normal(size=n)
    sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    kind = rng.choice(families, size=n)
    norms = np.sum(A * A, axis=1)
    beta_i = np.where(kind == "logistic", norms / 4, norms)

    def losses(theta):
        z = A @ theta
        return np.select(
            [kind == "quadratic", kind == "logistic"],
            [0.5 * (z - b) ** 2, np.logaddexp(0.0, -sign * z)],
            1.0 + np.cos(z + b))

    def gradients(theta):
        z = A @ theta
        scale = np.select(
            [kind == "quadratic", kind == "logistic"],
            [z - b, -sign / (1.0 + np.exp(np.clip(sign * z, -700, 700)))],
            -np.sin(z + b))
        return scale[:, None] * A

    return losses, gradients, float(beta_i.max())


problem_settings = dict(
    seed=st.integers(0, 2 ** 32 - 1),
    n=st.integers(1, 8),
    d=st.integers(1, 4),
    families=st.sampled_from([("quadratic",), ("logistic",), ("cosine",),
                              ("quadratic", "logistic", "cosine")]),
    eta=st.floats(1e-3, 20.0),
    beta_slack=st.floats(1.0, 3.0),
)


class TestLemma1:
    """Lemma 1 (descent): with alpha = 1/beta and any eta > 0, Algorithm 2 has

    sum_i p_{t+1,i} l_i(theta_{t+1}) - sum_i p_{t,i} l_i(theta_t)
        <= -1/(2 beta) || sum_i p_{t,i} grad l_i(theta_t) ||^2  for every t.

    beta is the largest per-example smoothness constant times a slack >= 1
    (every convex combination of the losses is then beta-smooth, as the
    proof requires); convexity is not needed, so a non-convex family is
    included. Checked at every one of 25 steps of each random problem.
    """

    @settings(max_examples=60, deadline=None)
    @given(**problem_settings)
    def test_descent_inequality(self, seed, n, d, families, eta, beta_slack):
        rng = np.random.default_rng(seed)
        losses, gradients, beta = random_smooth_problem(rng, n, d, families)
        beta *= beta_slack
        theta0 = rng.normal(size=d) * 2
        path = mr_gradient_descent(losses, gradients, theta0, alpha=1 / beta,
                                   eta=eta, n_steps=25)
        P, Lo = path.probabilities, path.example_losses
        for t in range(25):
            weighted_grad = P[t] @ gradients(path.thetas[t])
            lhs = P[t + 1] @ Lo[t + 1] - P[t] @ Lo[t]
            rhs = -weighted_grad @ weighted_grad / (2 * beta)
            assert lhs <= rhs + 1e-10 * (1 + abs(P[t] @ Lo[t]))
            # Eq. (2) of the proof: the MW step alone never increases the loss.
            assert P[t + 1] @ Lo[t + 1] <= P[t] @ Lo[t + 1] + 1e-12 * (1 + Lo[t + 1].max())


class TestTheorem2:
    """Theorem 2: sum of the T squared weighted-gradient norms of the steps taken
    (at theta_0 .. theta_{T-1}) <= 2 beta (mean_i l_i(theta_0) - min_{p,theta} F),
    with alpha = 1/beta. For these loss families min F = 0 exactly (one example
    and its minimizer), so the bound is checked as stated, not a weaker one.
    """

    @settings(max_examples=30, deadline=None)
    @given(**problem_settings)
    def test_average_gradient_bound(self, seed, n, d, families, eta, beta_slack):
        rng = np.random.default_rng(seed)
        losses, gradients, beta = random_smooth_problem(rng, n, d, families)
        beta *= beta_slack
        theta0 = rng.normal(size=d)
        T = 30
        path = mr_gradient_descent(losses, gradients, theta0, alpha=1 / beta,
                                   eta=eta, n_steps=T)
        grad_norms = [np.sum((path.probabilities[t] @ gradients(path.thetas[t])) ** 2)
                      for t in range(T)]
        bound = 2 * beta * (losses(theta0).mean() - 0.0)
        assert sum(grad_norms) <= bound * (1 + 1e-9) + 1e-12


# --- The logistic example: Lemmas 5-7 and Theorem 8 ---------------------------

def lemma5_steps(eps, alpha=1.0):
    return -math.log(math.exp(eps) - 1) / (alpha * math.exp(-eps) * (math.exp(eps) - 1))


class TestLemma5:
    """Lemma 5: GD on *clean* labels, theta_0 = 0, any alpha > 0, reaches
    L(theta_t) < eps for t > -log(e^eps - 1) / (alpha e^-eps (e^eps - 1)).
    Checked at the first integer t beyond that bound.
    """

    @pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
    @pytest.mark.parametrize("eps", [0.5, 0.1, 0.02])
    def test_clean_loss_below_eps(self, alpha, eps):
        problem = make_logistic_1d(random_state=0)
        T = math.floor(lemma5_steps(eps, alpha)) + 1
        path = run_gd(problem, eta=0.0, n_steps=T, alpha=alpha, y=problem.y)
        assert problem.clean_loss(path.thetas[T]) < eps


class TestLemma6:
    """Lemma 6: GD on the noisy labels with alpha = 1 and theta_0 = 0 converges
    to theta* = log((1 - sigma) / sigma), with |theta_T - theta*| <= eps for
    T = O(1/eps).

    The paper leaves the constant in O(1/eps) open; we check an explicit one.
    The observed loss has L~'(theta) = s(theta) - (1 - sigma) (s the sigmoid)
    and L~'' = s (1 - s) <= 1/4, so alpha = 1 is a valid 1/beta step (the
    paper's displayed L~'' differs but its bound, 1-smoothness, holds). On
    [0, theta*], L~'' >= mu = sigma (1 - sigma), so
    |theta_t - theta*| <= theta* (1 - mu)^t <= theta* / (mu t), and
    T = ceil(theta* / (mu eps)) steps suffice. The clean loss then stays at
    L(theta*) = -log(1 - sigma) > 0.
    """

    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_converges_to_log_odds(self, sigma):
        problem = make_logistic_1d(N, sigma, random_state=0)
        theta_star = math.log((1 - sigma) / sigma)
        mu = sigma * (1 - sigma)
        # theta* is the critical point of the observed (noisy) loss.
        assert problem.example_gradients(theta_star).mean() == pytest.approx(0, abs=1e-12)
        for eps in (1e-1, 1e-2):
            T = math.ceil(theta_star / (mu * eps))
            path = run_gd(problem, eta=0.0, n_steps=T)
            assert abs(path.thetas[T, 0] - theta_star) <= eps
        theta = path.thetas[:, 0]
        t = np.arange(len(theta))
        assert np.all(np.abs(theta - theta_star) <= theta_star * (1 - mu) ** t + 1e-12)
        # Monotone approach from below (1D, alpha <= 1/beta: no overshoot).
        assert np.all(np.diff(theta) >= 0)
        assert np.all(theta <= theta_star + 1e-12)
        assert problem.clean_loss(path.thetas[-1]) == pytest.approx(
            -math.log(1 - sigma), rel=1e-6)

    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_noisy_loss_is_one_smooth(self, sigma):
        problem = make_logistic_1d(N, sigma, random_state=0)
        grid, h = np.linspace(-10, 10, 401), 1e-3
        second = np.array([(problem.noisy_loss(th + h) - 2 * problem.noisy_loss(th)
                            + problem.noisy_loss(th - h)) / h ** 2 for th in grid])
        s = 1 / (1 + np.exp(-grid))
        np.testing.assert_allclose(second, s * (1 - s), atol=1e-6)
        assert second.max() <= 1.0


class TestLemma7:
    """Lemma 7: Algorithm 2 with eta = alpha = 1 and theta_0 = 0 gives
    theta_{t+1} > theta_t for all t >= 0 (checked for 3000 steps), starting
    with theta_1 = Delta, the induction base of the proof.
    """

    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_theta_increases(self, sigma):
        problem = make_logistic_1d(N, sigma, random_state=1)
        path = run_gd(problem, eta=1.0, n_steps=3000)
        theta = path.thetas[:, 0]
        assert theta[1] == pytest.approx(problem.delta, rel=1e-12)
        assert np.all(np.diff(theta) > 0)

    def test_weight_ratio_identity_of_the_proofs(self):
        # p_cr,t = exp(-sum_{s=1}^t theta_s) p_cl,t (proof of Theorem 8),
        # and corrupted examples never weigh more than clean ones.
        problem = make_logistic_1d(random_state=2)
        path = run_gd(problem, eta=1.0, n_steps=30)
        for t in range(1, 31):
            p = path.probabilities[t]
            p_cr = p[problem.corrupted][0]
            p_cl = p[~problem.corrupted][0]
            assert p_cr == pytest.approx(math.exp(-path.thetas[1:t + 1, 0].sum()) * p_cl,
                                         rel=1e-9)
            assert p_cr <= p_cl


class TestTheorem8:
    """Theorem 8: Algorithm 2 with eta = alpha = 1, theta_0 = 0 reaches
    L(theta_t) <= eps (clean loss) by
    t_eps = max{log(2)/Delta + 2, -log(e^eps - 1) / (e^-eps (e^eps - 1)) * 2N/sigma}.
    Checked at ceil(t_eps) and at every later step run (theta increases by
    Lemma 7, so L decreases); plain GD stays above -log(1 - sigma) instead.
    """

    @staticmethod
    def t_eps(eps, problem):
        return max(math.log(2) / problem.delta + 2,
                   lemma5_steps(eps) * 2 * problem.n_samples / problem.sigma)

    @pytest.mark.parametrize("sigma, eps", [(1 / 3, 0.3), (1 / 3, 0.1), (1 / 3, 0.03),
                                            (1 / 15, 0.3), (7 / 15, 0.1)])
    def test_clean_loss_below_eps(self, sigma, eps):
        problem = make_logistic_1d(N, sigma, random_state=0)
        T = math.ceil(self.t_eps(eps, problem))
        path = run_gd(problem, eta=1.0, n_steps=T + 50)
        clean = problem.clean_loss(path.thetas)
        assert np.all(clean[T:] <= eps)
        assert np.all(np.diff(clean) < 0)
        if eps < -math.log(1 - sigma):
            plain = run_gd(problem, eta=0.0, n_steps=T)
            assert problem.clean_loss(plain.thetas[T]) > eps


# --- The linear example: Lemma 10, Lemma 11 and Theorem 9 ---------------------

linear_cases = pytest.mark.parametrize("sigma, epsilon, eta, signs", [
    (1 / 3, 1.0, 1.0, "random"),       # the paper's setup
    (1 / 3, 1.0, 1.0, "against"),
    (1 / 3, 2.0, 0.3, "against"),      # epsilon = 2, 'against': label flipping
    (1 / 15, 0.5, 5.0, "random"),
    (7 / 15, 1.0, 2.0, "against"),     # Delta = 1/30: slow
    (1 / 5, 1.5, 0.1, "random"),
])


def lemma10_bound(problem, eta, t):
    d = problem.delta
    n, s, e = problem.n_samples, problem.sigma, problem.epsilon
    return 1.0 / ((1 - s) * n + s * n * math.exp(-eta * e ** 2 * d * t))


class TestLemma10:
    """Lemma 10: for Algorithm 3 and every t, each clean example has
    p_{t,i} >= ((1 - sigma) N + sigma N exp(-eta eps^2 Delta t))^-1, with p_t
    the weights after t MW updates (p_0 uniform, where it is an equality).
    Checked for t = 0 .. 200 over several seeds, sigmas, eps, eta, and
    both random and worst-case ('against') shift signs.
    """

    @linear_cases
    @pytest.mark.parametrize("seed", SEEDS)
    def test_clean_probability_bound(self, sigma, epsilon, eta, signs, seed):
        problem = make_linear_1d(N, sigma, epsilon, signs=signs, random_state=seed)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=eta, n_steps=200)
        clean = path.probabilities[:, ~problem.corrupted]
        for t in range(201):
            assert clean[t].min() >= lemma10_bound(problem, eta, t) * (1 - 1e-12)

    def test_tight_at_t1_so_lemma11_factor_2_cannot_hold(self):
        # With every shift against x (eps_k = -eps x_k) the first gap between
        # corrupted and clean losses is exactly eps^2 Delta, so Lemma 10 is an
        # equality at t = 1, and the printed Lemma 11 bound with
        # exp(-2 eta eps^2 Delta) is violated (its proof shows exp(-eta eps^2 Delta)).
        problem = make_linear_1d(signs="against", random_state=0)
        eta = 1.0
        path = mr_least_squares(problem.x, problem.y_noisy, eta=eta, n_steps=1)
        p1 = path.probabilities[1, ~problem.corrupted]
        np.testing.assert_allclose(p1, lemma10_bound(problem, eta, 1), rtol=1e-12)
        n, s, e, d = problem.n_samples, problem.sigma, problem.epsilon, problem.delta
        lemma11_as_printed = 1 / (n + n * s * (math.exp(-2 * eta * e ** 2 * d) - 1))
        lemma11_as_proved = 1 / (n + n * s * (math.exp(-eta * e ** 2 * d) - 1))
        assert np.all(p1 < lemma11_as_printed)
        np.testing.assert_allclose(p1, lemma11_as_proved, rtol=1e-12)


class TestTheorem9:
    """Theorem 9 (as proved): the least-squares solution computed from P_t,
    theta = x P_t y~ (Algorithm 3's theta_{t+1}, ``thetas[t + 1]``), obeys
    |theta - 1| <= eps exp(-eta eps^2 Delta t) / (1 + Delta). Hence
    |theta - 1| <= c once t >= ln(eps / (c (1 + Delta))) / (eta eps^2 Delta)
    (the printed ln(eps / (c + 1 + Delta)) is a misprint of this threshold; it
    is negative for eps = 1, which would make the statement vacuous).
    """

    @linear_cases
    @pytest.mark.parametrize("seed", SEEDS)
    def test_exponential_convergence(self, sigma, epsilon, eta, signs, seed):
        problem = make_linear_1d(N, sigma, epsilon, signs=signs, random_state=seed)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=eta, n_steps=200)
        rate = eta * epsilon ** 2 * problem.delta
        for t in range(200):
            bound = epsilon * math.exp(-rate * t) / (1 + problem.delta)
            assert abs(path.thetas[t + 1, 0] - 1.0) <= bound * (1 + 1e-12) + 1e-15

    @pytest.mark.parametrize("c", [0.1, 0.01, 1e-4])
    def test_steps_to_accuracy_c(self, c):
        problem = make_linear_1d(signs="against", random_state=0)
        eta, e, d = 1.0, problem.epsilon, problem.delta
        t_c = max(0, math.ceil(math.log(e / (c * (1 + d))) / (eta * e ** 2 * d)))
        path = mr_least_squares(problem.x, problem.y_noisy, eta=eta, n_steps=t_c + 1)
        assert abs(path.thetas[t_c + 1, 0] - 1.0) <= c

    def test_plain_least_squares_keeps_its_error(self):
        # Without MR the LS solution stays at 1 + (1/N) sum_j x_j eps_j forever.
        problem = make_linear_1d(signs="against", random_state=0)
        path = mr_least_squares(problem.x, problem.y_noisy, eta=0.0, n_steps=50)
        expected = 1 + np.mean(problem.x * (problem.y_noisy - problem.y))
        np.testing.assert_allclose(path.thetas[1:, 0], expected, rtol=1e-12)
        assert abs(expected - 1) == pytest.approx(problem.sigma * problem.epsilon)
