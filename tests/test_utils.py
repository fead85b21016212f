"""Tests of sk_mr.utils.check_classification_inputs."""

import numpy as np
import pytest
import torch

from sk_mr.utils import check_classification_inputs


class TestCheckClassificationInputs:
    def test_valid_inputs_pass(self):
        check_classification_inputs(np.zeros((3, 2), np.float32), np.array([0, 1, 2]))
        check_classification_inputs({"a": np.zeros((3, 2)), "b": np.ones(3)}, [0, 1, 1])
        check_classification_inputs(torch.zeros(3, 2), torch.tensor([0, 1, 1]))
        check_classification_inputs(np.zeros((3, 2)), np.array([0.0, 1.0, 2.0]))

    def test_dataset_is_passed_through(self):
        ds = torch.utils.data.TensorDataset(torch.full((2, 1), float("nan")))
        check_classification_inputs(ds, None)

    @pytest.mark.parametrize("X, y, match", [
        ({"a": np.array([[np.nan]])}, [0], r"X\['a'\] contains 1 NaN"),
        (np.zeros((2, 1)), np.zeros((2, 2), int), "1-dimensional"),
        (np.zeros((0, 1)), np.zeros(0, int), "empty"),
        (np.zeros((2, 1)), np.array([0, 5]), "outside classes"),
    ])
    def test_errors(self, X, y, match):
        with pytest.raises(ValueError, match=match):
            check_classification_inputs(X, y, classes=[0, 1])
