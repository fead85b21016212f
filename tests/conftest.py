"""Shared fixtures: tiny data and modules, seeded."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from sk_mr.callbacks import SampleReweighting

# The tests train tiny networks: one intra-op thread per process is faster
# than two contending ones, and leaves the other core to a second pytest
# worker (make test runs pytest-xdist with one worker per core).
torch.set_num_threads(1)


class TinyMLP(torch.nn.Module):
    """A small MLP returning logits, for fast tests."""

    def __init__(self, in_features=64, n_classes=10, hidden=32, dropout=0.0):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(in_features, hidden), torch.nn.ReLU(),
            torch.nn.Dropout(dropout), torch.nn.Linear(hidden, n_classes))

    def forward(self, X):
        return self.net(X)


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def small_digits(digits):
    X, y = digits
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X), size=300, replace=False)
    return X[idx], y[idx]


@pytest.fixture(scope="session")
def noisy_data(small_digits):
    """small_digits with 40% 'uniform' label noise: (X, y_noisy, is_noisy)."""
    from sk_mr.noise import add_label_noise

    X, y = small_digits
    y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
    return X, y_noisy, is_noisy


@pytest.fixture
def tiny_mlp():
    return TinyMLP



class FixedWeights(SampleReweighting):
    """A reweighting callback that keeps weights proportional to ``weights``,
    for checking how the net uses them (independent of the MW update)."""

    def __init__(self, weights):
        self.weights = weights

    def _init_state(self, n_train):
        p = torch.as_tensor(self.weights, dtype=torch.float64)
        self._set_probabilities(p / p.sum())

def cli_usage_error(capsys, argv):
    """Run the CLI's ``main(argv)``; check exit status 2 and no traceback;
    return the last line of stderr."""
    from sk_mr.__main__ import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


ROOT = Path(__file__).resolve().parents[1]


def load_script(path, name):
    """Import the script at ``path`` (relative to the repository root), such
    as a benchmark, as a module called ``name``."""
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
