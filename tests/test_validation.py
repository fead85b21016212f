"""Tests of sk_mr.validation: input checks and class labels."""

import math
import re

import numpy as np
import pytest
import torch
from sklearn.preprocessing import LabelEncoder

from sk_mr.exceptions import MRParameterError, MRParameterWarning
from sk_mr.validation import (check_bool, check_fit_inputs, check_int, check_option,
                              check_real, encode_labels, infer_label_classes, warn_ignored)


def with_nan(X):
    """A copy of X (array, tensor or dict of them) with one NaN in its last entry."""
    if isinstance(X, dict):
        return {**X, list(X)[-1]: with_nan(X[list(X)[-1]])}
    X = X.clone() if isinstance(X, torch.Tensor) else np.array(X, dtype=np.float64)
    X.reshape(-1)[-1] = float("nan")
    return X


def copied(a):
    """A copy of a (array, tensor, list or dict of them) to compare with later."""
    if isinstance(a, dict):
        return {key: copied(value) for key, value in a.items()}
    if isinstance(a, torch.Tensor):
        return a.clone()
    return np.array(a, copy=True)


def assert_same(a, before):
    """``a`` holds the values and dtype of ``before`` (its copy)."""
    if isinstance(a, dict):
        assert list(a) == list(before)
        for key in a:
            assert_same(a[key], before[key])
    elif isinstance(a, torch.Tensor):
        assert a.dtype == before.dtype and torch.equal(a, before)
    else:
        a = np.asarray(a)
        assert a.dtype == before.dtype
        np.testing.assert_array_equal(a, before)


class TestCheckClassificationInputs:
    # distinct values, so that a change made in place would show
    @pytest.mark.parametrize("X, y", [
        (np.arange(6, dtype=np.float32).reshape(3, 2), np.array([0, 1, 2])),
        ({"a": np.arange(6.0).reshape(3, 2), "b": np.array([1.0, -2.0, 3.5])}, [0, 1, 1]),
        (torch.arange(6.0).reshape(3, 2), torch.tensor([0, 1, 1])),
        (np.arange(6.0).reshape(3, 2) - 2.5, np.array(["a", "b", "a"])),
        # a y of another shape (sequences, multi-output) is the criterion's business
        (np.arange(6.0).reshape(3, 2), np.arange(12.0).reshape(3, 4, 1)),
    ])
    def test_valid_inputs_pass_and_are_looked_at(self, X, y):
        X_before, y_before = copied(X), copied(y)
        assert check_fit_inputs(X, y) is None
        # nothing is converted in place: the inputs keep their values and dtypes
        assert_same(X, X_before)
        assert_same(y, y_before)
        # the same inputs with one NaN (last entry) or one row less are refused:
        # the check reads the data rather than passing anything
        with pytest.raises(ValueError, match="1 NaN"):
            check_fit_inputs(with_nan(X), y)
        with pytest.raises(ValueError, match="inconsistent lengths"):
            check_fit_inputs(X, y[:2])

    def test_dataset_is_passed_through_unread(self):
        # a dataset's items are checked as training loads them: here none is
        # read (a lazy dataset stays on disk), so a NaN in one passes
        read = []

        class Recording(torch.utils.data.TensorDataset):
            def __getitem__(self, i):
                read.append(i)
                return super().__getitem__(i)

            def __getitems__(self, indices):
                read.extend(indices)
                return [self[i] for i in indices]

        ds = Recording(torch.full((2, 1), float("nan")))
        assert check_fit_inputs(ds, None) is None
        assert read == []
        # the same values as a tensor are read, and refused
        with pytest.raises(ValueError, match="X contains 2 NaN"):
            check_fit_inputs(ds.tensors[0], None)

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


# -- the shared parameter validators ---------------------------------------------

class TestCheckInt:
    @pytest.mark.parametrize("value", [1, 5, np.int64(3), np.uint8(2)])
    def test_accepts_integers_in_range_and_returns_int(self, value):
        out = check_int("n", value, low=1, high=5)
        assert out == int(value) and type(out) is int

    @pytest.mark.parametrize("value", [0, 6, True, False, 2.0, "3", None, np.float64(2)])
    def test_rejects_and_names_parameter_and_value(self, value):
        with pytest.raises(ValueError) as err:
            check_int("n_steps", value, low=1, high=5)
        assert str(err.value) == f"n_steps must be an int >= 1 and <= 5, got {value!r}."

    def test_open_sides(self):
        assert check_int("n", -10**12) == -10**12
        with pytest.raises(ValueError, match=r"^n must be an int, got 'a'\.$"):
            check_int("n", "a")

    def test_none_is_accepted_only_when_its_meaning_is_given(self):
        assert check_int("max_rows", None, low=0, none_means="all rows") is None
        with pytest.raises(ValueError, match=r"^max_rows must be an int >= 0, got None\.$"):
            check_int("max_rows", None, low=0)
        with pytest.raises(ValueError, match=r"^max_rows must be None \(all rows\) or an "
                                             r"int >= 0, got -1\.$"):
            check_int("max_rows", -1, low=0, none_means="all rows")

    def test_hint_ends_the_message(self):
        with pytest.raises(ValueError, match=r"^n_rounds must be an int >= 1, got 0\. "
                                             r"n_rounds=1 fits once\.$"):
            check_int("n_rounds", 0, low=1, hint="n_rounds=1 fits once.")


class TestCheckReal:
    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "0.5", None])
    def test_rejects_non_finite_bool_and_non_numbers(self, value):
        with pytest.raises(ValueError, match="^eta must be a finite float >= 0, got"):
            check_real("eta", value, low=0)

    @pytest.mark.parametrize("value, expected", [(0, 0.0), (1, 1.0), (np.float32(0.25), 0.25),
                                                 (np.int64(1), 1.0), (np.float64(0.5), 0.5)])
    def test_returns_a_python_float(self, value, expected):
        out = check_real("p", value, low=0, high=1)
        assert out == expected and type(out) is float

    def test_bounds_open_and_closed(self):
        assert check_real("p", 0, low=0, high=1) == 0.0
        assert check_real("p", 1, low=0, high=1) == 1.0
        for value in (0, 1):
            with pytest.raises(ValueError, match=r"must be a finite float > 0 and < 1"):
                check_real("p", value, low=0, high=1, low_open=True, high_open=True)
        assert check_real("p", np.float32(0.5), low=0, high=1, low_open=True,
                          high_open=True) == 0.5


    def test_none_and_hint(self):
        assert check_real("step_size", None, low=0, none_means="the default rule") is None
        with pytest.raises(ValueError, match=r"^step_size must be None \(the default rule\) "
                                             r"or a finite float > 0, got 0\. Try 0\.1\.$"):
            check_real("step_size", 0, low=0, low_open=True, none_means="the default rule",
                       hint="Try 0.1.")


class TestCheckBool:
    def test_only_true_and_false(self):
        assert check_bool("amp", True) is True and check_bool("amp", False) is False
        for value in (1, 0, np.bool_(True), "True", None):
            with pytest.raises(ValueError, match=f"^amp must be True or False, got "
                                                 f"{re.escape(repr(value))}\\.$"):
                check_bool("amp", value)


class TestParameterError:
    @pytest.mark.parametrize("check", [
        lambda: check_int("n", 1.5), lambda: check_real("x", "a"),
        lambda: check_option("m", "z", ("a",)), lambda: check_bool("b", 1)])
    def test_is_both_value_and_type_error(self, check):
        # modules raised either before sharing the validators; callers catching
        # either keep working, as with scikit-learn's InvalidParameterError
        for kind in (ValueError, TypeError, MRParameterError):
            with pytest.raises(kind):
                check()


class TestCheckOption:
    def test_known_and_unknown(self):
        assert check_option("loss_pass", "full", ("full", "online")) == "full"
        with pytest.raises(ValueError, match="^loss_pass must be one of 'full', 'online'; "
                                             "got 'Full'.$"):
            check_option("loss_pass", "Full", ("full", "online"))

    def test_unhashable_value_is_rejected_not_crashing(self):
        with pytest.raises(ValueError, match="got \\[1\\]"):
            check_option("mode", [1], ("a", "b"))


def test_warn_ignored_message_and_category():
    with pytest.warns(MRParameterWarning) as caught:
        warn_ignored("eta", 0.3, "RandomReweighting draws its own weights", "Drop eta.")
    assert str(caught[0].message) == (
        "eta=0.3 has no effect: RandomReweighting draws its own weights. Drop eta.")
