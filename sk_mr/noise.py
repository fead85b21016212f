"""Synthetic label noise and target outliers, reproducible, no global RNG.

:func:`add_label_noise` corrupts class labels (multiclass and binary, with
one rate for all classes or a rate per class); :func:`add_target_outliers`
corrupts regression targets. Both return the corrupted data and a mask of
what changed, and draw from their own generator.
"""

import numpy as np
from sklearn.utils import check_random_state

from sk_mr.validation import check_int, check_option, check_real

__all__ = ["add_label_noise", "add_target_outliers", "NOISE_KINDS", "OUTLIER_KINDS"]

NOISE_KINDS = ("uniform", "symmetric", "pairflip")
OUTLIER_KINDS = ("replace", "shift")


def add_label_noise(y, noise_rate, *, kind="uniform", n_classes=None,
                    random_state=None):
    """Corrupt integer class labels at random.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
      Clean labels in ``0 .. n_classes - 1``.

    noise_rate : float in [0, 1], or array-like of such floats, one per class
      Probability that a label is corrupted; per class (class-conditional
      noise) when an array: ``noise_rate[c]`` for the examples of class
      ``c``. For binary labels, ``kind='symmetric'`` with
      ``noise_rate=(0.1, 0.3)`` flips 10% of the 0s and 30% of the 1s.

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
    >>> y = np.repeat([0, 1], 1000)
    >>> y_noisy, is_noisy = add_label_noise(y, [0.0, 0.5], kind="symmetric", random_state=0)
    >>> int(is_noisy[:1000].sum()), bool(0.45 < is_noisy[1000:].mean() < 0.55)
    (0, True)
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
    rates = _check_rates(noise_rate)
    check_option("kind", kind, NOISE_KINDS)
    if y.size and y.min() < 0:
        raise ValueError(f"y must contain labels >= 0, got {y.min()}.")
    n_classes = check_int("n_classes", n_classes, low=2,
                          none_means="inferred as max(y) + 1")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
    if y.size and y.max() >= n_classes:
        raise ValueError(
            f"y contains label {y.max()} but n_classes={n_classes}; labels "
            "must lie in 0..n_classes-1.")
    if rates.ndim == 1 and len(rates) != n_classes:
        raise ValueError(
            f"noise_rate has {len(rates)} per-class rates but there are "
            f"{n_classes} classes.")

    rng = _make_rng(random_state)
    n = y.shape[0]
    uniform = rng.random(n) if isinstance(rng, np.random.Generator) \
        else rng.random_sample(n)
    corrupt = uniform < (rates[y] if rates.ndim == 1 else rates)
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


def _check_rates(noise_rate):
    values = np.asarray(noise_rate)
    valid = values.ndim <= 1 and values.dtype != bool and values.size and \
        np.issubdtype(values.dtype, np.number) and np.all((values >= 0) & (values <= 1))
    if not valid or isinstance(noise_rate, bool):
        raise ValueError(
            "noise_rate must be a float in [0, 1] or one such float per class, got "
            f"{noise_rate!r}.")
    return values.astype(np.float64)


def add_target_outliers(y, fraction, *, kind="replace", scale=5.0, random_state=None):
    """Corrupt a fraction of regression targets with outliers.

    Parameters
    ----------
    y : array-like of float, shape (n_samples,) or (n_samples, n_targets)
      Clean targets.

    fraction : float in [0, 1]
      Probability that an example's targets are corrupted (a row of a
      multi-output y is corrupted as a whole).

    kind : {'replace', 'shift'} (default='replace')
      * ``'replace'``: the target is replaced by a draw from a wide normal
        distribution, centred on the column's mean with ``scale`` times its
        standard deviation (a corrupted measurement);
      * ``'shift'``: the target is moved by ``scale`` standard deviations
        of its column, up or down at random (a systematic error).

    scale : float > 0 (default=5.0)
      Width of the outliers, in standard deviations of each column.

    random_state : int, numpy.random.RandomState, numpy.random.Generator or None
      Source of randomness; global RNG state is never used or modified.

    Returns
    -------
    y_corrupt : numpy.ndarray of float64, shape of y

    is_outlier : numpy.ndarray of bool, shape (n_samples,)
      True for the corrupted examples.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.linspace(0, 1, 1000)
    >>> y_bad, is_outlier = add_target_outliers(y, 0.2, kind="shift", random_state=0)
    >>> bool(0.17 < is_outlier.mean() < 0.23)
    True
    >>> bool(np.allclose(np.abs(y_bad - y)[is_outlier], 5 * y.std()))
    True
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1- or 2-dimensional, got shape {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinite values.")
    check_real("fraction", fraction, low=0, high=1)
    check_option("kind", kind, OUTLIER_KINDS)
    check_real("scale", scale, low=0, low_open=True)
    if len(y) == 0:  # nothing to corrupt (as add_label_noise); draws nothing
        return y.copy(), np.zeros(0, dtype=bool)
    rng = _make_rng(random_state)
    column = y.reshape(len(y), -1)
    n, d = column.shape
    uniform = rng.random(n) if isinstance(rng, np.random.Generator) else rng.random_sample(n)
    is_outlier = uniform < fraction
    k = int(is_outlier.sum())
    std = column.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    corrupt = column.copy()
    if kind == "replace":
        noise = rng.standard_normal((k, d))
        corrupt[is_outlier] = column.mean(axis=0) + scale * std * noise
    else:
        signs = np.where(_integers(rng, 0, 2, (k, 1)) == 1, 1.0, -1.0)
        corrupt[is_outlier] = column[is_outlier] + scale * std * signs
    return corrupt.reshape(y.shape), is_outlier


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
