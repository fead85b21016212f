"""Tests of sk_mr.training beyond the estimator tests: the eval-mode batch."""

import torch

from sk_mr import MRClassifier
from conftest import TinyMLP


def test_evaluate_batch_is_eval_mode_without_gradients_and_restores_modes():
    net = MRClassifier(TinyMLP, module__in_features=4, module__n_classes=3,
                       module__dropout=0.9, random_state=0).initialize()
    X = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    net.module_.train()
    output = net.evaluate_batch(X)
    net.module_.eval()
    with torch.no_grad():
        expected = net.module_(X)  # dropout off: deterministic
    assert torch.equal(output, expected)
    assert not output.requires_grad
    net.module_.train()
    net.evaluate_batch(X)
    assert net.module_.training and all(m.training for m in net.module_.modules())
