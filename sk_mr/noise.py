"""Synthetic label noise, reproducible and independent of global RNG state."""

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["add_label_noise", "NOISE_KINDS"]

NOISE_KINDS = ("uniform", "symmetric", "pairflip")


def add_label_noise(y, noise_rate, *, kind="uniform", n_classes=None,
                    random_state=None):
    """Corrupt integer class labels at random.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
      Clean labels in ``0 .. n_classes - 1``.

    noise_rate : float in [0, 1]
      Probability that a label is corrupted.

    kind : {'uniform', 'symmetric', 'pairflip'} (default='uniform')
      * ``'uniform'``: the paper's noise. With probability ``noise_rate``
        the label is redrawn uniformly from *all* classes, so it may stay the
        same; the realized flip rate is about ``noise_rate * (K - 1) / K``.
      * ``'symmetric'``: with probability ``noise_rate`` the label is redrawn
        uniformly from the *other* ``K - 1`` classes.
      * ``'pairflip'``: with probability ``noise_rate`` class ``c`` becomes
        ``(c + 1) mod K``.

    n_classes : int or None (default=None)
      Number of classes ``K``; inferred as ``max(y) + 1`` when None.

    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
      Source of randomness. Global numpy and torch RNG state is never used
      or modified. None draws fresh entropy (not reproducible).

    Returns
    -------
    y_noisy : numpy.ndarray of int64, shape (n_samples,)
      The corrupted labels.

    is_noisy : numpy.ndarray of bool, shape (n_samples,)
      True where ``y_noisy != y`` (labels that really changed).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat(np.arange(10), 100)
    >>> y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
    >>> bool(0.3 < is_noisy.mean() < 0.42)
    True
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional, got shape {y.shape}.")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y))
                and np.all(y == np.round(y))):
            raise ValueError(
                "y must contain integer class labels 0..n_classes-1; "
                f"got dtype {y.dtype}. Encode labels with "
                "sklearn.preprocessing.LabelEncoder first.")
    y = y.astype(np.int64)
    if isinstance(noise_rate, bool) or not isinstance(noise_rate, numbers.Real) \
            or not 0 <= noise_rate <= 1:
        raise ValueError(f"noise_rate must be a float in [0, 1], got {noise_rate!r}.")
    if kind not in NOISE_KINDS:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}.")
    if y.size and y.min() < 0:
        raise ValueError(f"y must contain labels >= 0, got {y.min()}.")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
    elif not isinstance(n_classes, numbers.Integral) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}.")
    if y.size and y.max() >= n_classes:
        raise ValueError(
            f"y contains label {y.max()} but n_classes={n_classes}; labels "
            "must lie in 0..n_classes-1.")

    rng = _make_rng(random_state)
    n = y.shape[0]
    uniform = rng.random(n) if isinstance(rng, np.random.Generator) \
        else rng.random_sample(n)
    corrupt = uniform < noise_rate
    y_noisy = y.copy()
    n_corrupt = int(corrupt.sum())
    if kind == "uniform":
        y_noisy[corrupt] = _integers(rng, 0, n_classes, n_corrupt)
    elif kind == "symmetric":
        # An offset in 1..K-1 lands uniformly on the other classes.
        offset = _integers(rng, 1, n_classes, n_corrupt)
        y_noisy[corrupt] = (y[corrupt] + offset) % n_classes
    else:  # pairflip
        y_noisy[corrupt] = (y[corrupt] + 1) % n_classes
    return y_noisy, y_noisy != y


def _make_rng(random_state):
    """A private generator: never the global numpy RandomState."""
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    return check_random_state(random_state)


def _integers(rng, low, high, size):
    if isinstance(rng, np.random.Generator):
        return rng.integers(low, high, size=size)
    return rng.randint(low, high, size=size)
