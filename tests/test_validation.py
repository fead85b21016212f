"""Tests of sk_mr.validation: input checks and class labels."""

import numpy as np
import pytest
import torch
from sklearn.preprocessing import LabelEncoder

from sk_mr.validation import check_fit_inputs, encode_labels, infer_label_classes


def with_nan(X):
    """A copy of X (array, tensor or dict of them) with one NaN in its last entry."""
    if isinstance(X, dict):
        return {**X, list(X)[-1]: with_nan(X[list(X)[-1]])}
    X = X.clone() if isinstance(X, torch.Tensor) else np.array(X, dtype=np.float64)
    X.reshape(-1)[-1] = float("nan")
    return X


class TestCheckClassificationInputs:
    @pytest.mark.parametrize("X, y", [
        (np.zeros((3, 2), np.float32), np.array([0, 1, 2])),
        ({"a": np.zeros((3, 2)), "b": np.ones(3)}, [0, 1, 1]),
        (torch.zeros(3, 2), torch.tensor([0, 1, 1])),
        (np.zeros((3, 2)), np.array(["a", "b", "a"])),
        # a y of another shape (sequences, multi-output) is the criterion's business
        (np.zeros((3, 2)), np.zeros((3, 4, 1))),
    ])
    def test_valid_inputs_pass_and_are_looked_at(self, X, y):
        assert check_fit_inputs(X, y) is None
        # the same inputs with one NaN (last entry) or one row less are refused:
        # the check reads the data rather than passing anything
        with pytest.raises(ValueError, match="1 NaN"):
            check_fit_inputs(with_nan(X), y)
        with pytest.raises(ValueError, match="inconsistent lengths"):
            check_fit_inputs(X, y[:2])

    def test_dataset_is_passed_through(self):
        ds = torch.utils.data.TensorDataset(torch.full((2, 1), float("nan")))
        check_fit_inputs(ds, None)

    @pytest.mark.parametrize("X, y, match", [
        ({"a": np.array([[np.nan]])}, [0], r"X\['a'\] contains 1 NaN"),
        (np.zeros((0, 1)), np.zeros(0, int), "empty"),
        (np.zeros((2, 1)), np.array([0.0, np.nan]), "1 NaN"),
        (np.zeros((2, 1)), np.array(["a", None], dtype=object), "None"),
        (np.zeros((3, 1)), np.array([0, 1]), "inconsistent lengths"),
    ])
    def test_errors(self, X, y, match):
        with pytest.raises(ValueError, match=match):
            check_fit_inputs(X, y)


class TestLabelClasses:
    @pytest.mark.parametrize("y", [[0, 1, 2, 1], [2.0, 0.0, 1.0], np.array([1, 0], np.int32)])
    def test_indices_zero_to_k_minus_one_are_kept(self, y):
        assert infer_label_classes(y) is None

    @pytest.mark.parametrize("y", [["dog", "cat", "dog"], [3, 7, 5, 3], [-1, 1, 1],
                                   [0, 2, 2], [0.5, 1.5], [True, False]])
    def test_other_labels_are_encoded_as_label_encoder_does(self, y):
        classes = infer_label_classes(y)
        encoder = LabelEncoder().fit(y)
        np.testing.assert_array_equal(classes, encoder.classes_)
        np.testing.assert_array_equal(encode_labels(y, classes), encoder.transform(y))

    def test_classes_parameter_sets_the_output_order(self):
        classes = infer_label_classes(["b", "c", "b"], classes=["c", "a", "b"])
        np.testing.assert_array_equal(classes, ["c", "a", "b"])
        np.testing.assert_array_equal(encode_labels(["b", "c", "a"], classes), [2, 0, 1])

    def test_classes_parameter_with_index_targets_is_skorchs_convention(self):
        # skorch: classes names the outputs, y holds their indices
        assert infer_label_classes([0, 1, 1], classes=["foo", "bar"]) is None
        assert infer_label_classes([0, 1], classes=[0, 1, 2]) is None

    def test_errors(self):
        with pytest.raises(ValueError, match=r"outside classes=\['a', 'b'\]"):
            infer_label_classes(["a", "z"], classes=["a", "b"])
        with pytest.raises(ValueError, match="must not repeat"):
            infer_label_classes(["a"], classes=["a", "a"])
        with pytest.raises(ValueError, match="cannot be sorted"):
            infer_label_classes(np.array(["a", 1], dtype=object))
        with pytest.raises(ValueError, match=r"not fitted on \(classes_=\['a', 'b'\]\)"):
            encode_labels(["a", "c"], np.array(["a", "b"]))
