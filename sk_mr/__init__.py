"""sk_mr: Multiplicative Reweighting for robust neural network training.

The public API is flat: :class:`MRClassifier` (a skorch
``NeuralNetClassifier`` trained with MR), the weighting callbacks
:class:`MultiplicativeReweighting` and :class:`RandomReweighting`, and
submodules named for what they do (:mod:`sk_mr.mw`, :mod:`sk_mr.noise`, ...).
"""

from sk_mr.callbacks import (MultiplicativeReweighting, RandomReweighting,
                             SampleReweighting)
from sk_mr.classifier import MRClassifier
from sk_mr.meta import MRMetaClassifier, MRMetaRegressor
from sk_mr.mw import MultiStepEta
from sk_mr.noise import add_label_noise

__version__ = "0.1.0"

__all__ = [
    "MRClassifier",
    "MRMetaClassifier",
    "MRMetaRegressor",
    "MultiStepEta",
    "MultiplicativeReweighting",
    "RandomReweighting",
    "SampleReweighting",
    "add_label_noise",
]
