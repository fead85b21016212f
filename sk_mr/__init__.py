"""sk_mr: Multiplicative Reweighting for robust neural network training.

The public API is flat: :class:`MRClassifier`, :class:`MRBinaryClassifier`
and :class:`MRRegressor` (skorch's nets trained with MR, each
:class:`MRMixin` on skorch's net of its task), the weighting callbacks
:class:`MultiplicativeReweighting` and :class:`RandomReweighting`, and
submodules named for what they do (:mod:`sk_mr.mw`, :mod:`sk_mr.noise`, ...).
"""

from sk_mr.callbacks import (MultiplicativeReweighting, RandomReweighting,
                             SampleReweighting)
from sk_mr.classifier import MRBinaryClassifier, MRClassifier
from sk_mr.mixin import MRMixin
from sk_mr.meta import MRMetaClassifier, MRMetaRegressor
from sk_mr.mw import MultiStepEta
from sk_mr.noise import add_label_noise, add_target_outliers
from sk_mr.regressor import MRRegressor

__version__ = "0.1.0"

__all__ = [
    "MRBinaryClassifier",
    "MRClassifier",
    "MRMixin",
    "MRRegressor",
    "MRMetaClassifier",
    "MRMetaRegressor",
    "MultiStepEta",
    "MultiplicativeReweighting",
    "RandomReweighting",
    "SampleReweighting",
    "add_label_noise",
    "add_target_outliers",
]
