"""sk_mr._stats: the one mean +- std of every results table."""

import math

import numpy as np
import pytest

from sk_mr._stats import mean_std


def test_sample_std_by_hand():
    # mean 2, squared deviations 1 + 0 + 1 over n - 1 = 2: std 1 (population: 0.816)
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    mean, std = mean_std(np.array([90.0, 80.0]))
    assert (mean, std) == (85.0, pytest.approx(math.sqrt(50.0)))


def test_one_value_has_no_spread():
    assert mean_std([70.0]) == (70.0, 0.0)


def test_empty_is_refused():
    with pytest.raises(ValueError, match="at least one value"):
        mean_std([])
