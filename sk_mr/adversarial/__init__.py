"""Adversarial training with MR, and robustness evaluation (paper section 5, appendix B).

Training strategies, passed as ``MRClassifier(..., adversarial=strategy)``:

* :class:`FreeAdversarialTraining` (Shafahi et al.), the paper's robust
  training in Tables 4 and 7;
* :class:`PGDAdversarialTraining` (Madry et al.), the standard baseline;
* :class:`TRADES` (Zhang et al.), Table 8;
* :class:`AttackTraining`: training against any torchattacks attack (e.g.
  FFGSM, Wong et al.'s "fast is better than free").

Each is one training step that takes MR weights and mixup from the net, so
``MRClassifier(module, eta=0.01, mixup_alpha=1.0,
adversarial=FreeAdversarialTraining())`` trains with all three.

Evaluation, built on torchattacks: :func:`robustness_report`,
:func:`format_robustness_table` (Table 4's layout) and
:func:`make_robust_scorer` (for ``GridSearchCV``).

Inputs must lie in ``[0, 1]``, with normalization inside the model (e.g.
:class:`sk_mr.models.Normalize`).

This subpackage needs the optional dependency torchattacks:
``pip install torchattacks`` (the ``adversarial`` extra).
"""

try:
    import torchattacks  # noqa: F401
except ImportError as exc:
    raise ImportError(
        "sk_mr.adversarial needs the optional dependency torchattacks, which is not "
        "installed. Install it with: pip install torchattacks (or, in a clone of "
        "sk_mr, pip install -e \".[adversarial]\")") from exc

from sk_mr.adversarial.attack import AttackTraining
from sk_mr.adversarial.base import AdversarialTraining, check_unit_interval, linf_pgd
from sk_mr.adversarial.evaluation import (ATTACKS, RobustScorer, format_robustness_table,
                                          make_robust_scorer, robustness_report)
from sk_mr.adversarial.free import FreeAdversarialTraining
from sk_mr.adversarial.pgd import PGDAdversarialTraining
from sk_mr.adversarial.trades import TRADES, trades_kl

__all__ = [
    "ATTACKS",
    "AdversarialTraining",
    "AttackTraining",
    "FreeAdversarialTraining",
    "PGDAdversarialTraining",
    "RobustScorer",
    "TRADES",
    "check_unit_interval",
    "format_robustness_table",
    "linf_pgd",
    "make_robust_scorer",
    "robustness_report",
    "trades_kl",
]
