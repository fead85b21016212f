"""The paper's companion: what reruns the experiments of the MR paper.

sk_mr has three layers. The paper's companion, this folder, builds on the
other two, and nothing in them builds on it:

1. **The library**: what :class:`~sk_mr.MRClassifier`, its siblings and
   their user guide need to train on a user's own data: the estimators and
   :class:`~sk_mr.MRMixin` (``sk_mr.classifier``, ``sk_mr.regressor``,
   ``sk_mr.mixin``), the multiplicative weights (:mod:`sk_mr.mw`), the
   weighting callbacks (``sk_mr.callbacks``), batching and augmentation
   seen by the loss pass (:mod:`sk_mr.batching`,
   :class:`~sk_mr.datasets.AugmentedDataset`), several processes
   (:mod:`sk_mr.distributed`), and the small models and embedded data sets a
   user starts from (:mod:`sk_mr.models`, :mod:`sk_mr.datasets`).
2. **The add-ons**: optional tools built on the library, each documented
   API in its own module: :mod:`sk_mr.adversarial`, :mod:`sk_mr.losses`,
   :mod:`sk_mr.baselines`, :mod:`sk_mr.meta`, :mod:`sk_mr.inspection`,
   :mod:`sk_mr.plotting`, :mod:`sk_mr.noise`. The library uses two of them:
   its default criterion lives with the robust losses in :mod:`sk_mr.losses`,
   and ``sk_mr`` re-exports the noise functions and the meta-estimators.
3. **The paper's companion** (this package): what exists to rerun the
   paper rather than to train on one's own data: the ``reproduce`` command
   (``sk_mr.paper.reproduce``) and the ``demo`` (:mod:`sk_mr.paper.demo`),
   the paper's algorithms 2 and 3 (:mod:`sk_mr.paper.theory`), its data sets
   (:mod:`sk_mr.paper.datasets`: CIFAR, Clothing1M) and its architectures
   (:mod:`sk_mr.paper.models`: the CIFAR ResNets, WRN-28-10, ResNet-50).

The rule: a name belongs to the library or an add-on when an estimator or
the user guide needs it for a user's own data; it belongs here when only
the paper's experiments need it (a data set of the paper, a recipe, an
architecture with the paper's statistics). Nothing in the library or the
add-ons imports from :mod:`sk_mr.paper` (the ``sk-mr`` command, whose
subcommands are the paper's, does), except the deprecation aliases
that keep the old paths (``sk_mr.theory``, ``sk_mr.models.ResNet18``, ...)
working until they are removed (``sk_mr._deprecation``).
"""
