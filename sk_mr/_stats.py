"""Summaries over seeds, the same everywhere results are tabled.

Every ``mean +- std`` that sk_mr prints (the reproduce tables, the demo,
the robustness report, the documentation's results tables and the
benchmarks) is the mean and the *sample* standard deviation (``ddof=1``)
over seeds; a single seed has no spread and shows 0.
"""

import numpy as np


def mean_std(values):
    """Return ``(mean, sample std)`` of ``values``; the std of one value is 0.

    Parameters
    ----------
    values : sequence of float
      At least one value.

    Returns
    -------
    mean, std : float

    Examples
    --------
    >>> mean_std([90.0, 80.0])  # sample std: sqrt(50), not 5
    (85.0, 7.0710678118654755)
    >>> mean_std([70.0])
    (70.0, 0.0)
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise ValueError("mean_std needs at least one value.")
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), std
