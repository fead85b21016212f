"""The docstring sections the MR estimators share, and how they are filled in.

The estimators' docstrings hold ``%(criterion)s``, ``%(mr_params)s`` and
``%(mr_attributes)s`` placeholders; :func:`fill_mr_doc` replaces them with the
sections below, so a parameter is documented once for every estimator.
"""

__all__ = ["MR_ATTRIBUTES_DOC", "MR_CRITERION_DOC", "MR_PARAMETERS_DOC", "fill_mr_doc"]

#: The MR parameters, shared by the docstrings of the MR estimators.
MR_PARAMETERS_DOC = """
    eta : float, callable or 'auto' (default: see below)
      The MW step size, in units of cross-entropy (see
      :meth:`~sk_mr.MRClassifier.loss_unit`; for MRRegressor, of the
      targets' scale, :meth:`~sk_mr.MRRegressor.loss_unit`). The defaults:
      ``'auto'`` for MRClassifier, 0.01 for MRBinaryClassifier and for a
      net of the mixin alone, 0.03 for MRRegressor. ``'auto'`` chooses it
      during the fit from the training losses
      (:class:`sk_mr.mw.AutoEta`: once the fraction of examples fitted
      worse than chance has settled, the weights set aside about that
      fraction, and stay uniform on clean data; the eta of each update is
      recorded in ``history[:, 'mr_eta']``); for classifiers. Each default
      is what held-out benchmarks chose (the user guide's "Which method"):
      MRBinaryClassifier keeps 0.01 because ``'auto'`` fell below plain
      training on class-dependent label flips, though it was far ahead on
      symmetric ones; MRRegressor's 0.03 is what settings with outlying
      targets chose (``benchmarks/regression.py``).
      ``criterion=torch.nn.CrossEntropyLoss, eta=0.01`` is the paper's MR.
      A float multiplies the *whole* cumulative loss
      (``p = softmax(-eta * L)``, the FTRL form of MW), so raising eta later
      sharpens the weights of all past losses at once. ``eta=0`` is plain
      training with uniform weights. A callable is called with the number of
      completed epochs at every update (1 after the first epoch; with
      ``updates_per_epoch > 1`` an update inside epoch t gets t - 1) and
      returns eta; see :class:`sk_mr.mw.MultiStepEta` for the paper's
      milestone schedule. eta's scale is that of the loss: it is the inverse
      of the cumulative-loss gap at which one example's weight is ``e``
      times another's.

    loss_pass : {'online', 'full'} (default='online')
      How each example's loss is obtained for the MW update. ``'online'``
      records each example's loss from that epoch's training forward passes
      (no extra pass; the losses come from parameters that change during
      the epoch and from augmented, train-mode forward passes). ``'full'``
      is the paper's Algorithm 1 exactly: an extra pass over the training
      split in eval mode, under inference mode, without training-time
      augmentation, with the validation iterator (``iterator_valid``) and
      the fit parameters. The default is ``'online'`` because it measured
      as accurate and faster: over the 13 settings of ``benchmarks/eta.py``
      (3 seeds each) its best-eta accuracy was 0.9 points higher on average
      than the full pass's (worst -0.25), and a fit took 0.75x the time
      (``benchmarks/overhead.py``).

    loss_pass_batch_size : int or None (default=None)
      Batch size of the full loss pass; None uses the validation iterator's
      (``iterator_valid__batch_size``, else ``batch_size``).

    updates_per_epoch : int (default=1)
      Number of MW updates per epoch, at even fractions of the epoch. The
      paper uses 2 on Clothing1M. An update falls at the end of a batch, so
      an epoch of fewer batches than ``updates_per_epoch`` updates after
      each of its batches, and an ``MRParameterWarning`` names both
      numbers (the number of batches is known only once ``train_split``
      has split the data, so this is a warning, not an error).

    mixup_alpha : float (default=0.0)
      Mixup (Zhang et al.) with ``lam ~ Beta(alpha, alpha)`` when > 0. Each
      mixed example ``k`` pairs with ``pi(k)``; the batch loss is
      ``sum_k [lam p_k l(k, y_k) + (1 - lam) p_pi(k) l(k, y_pi(k))] / sum_k p_k``:
      every target term carries the MR weight of the example the target
      came from, and since ``pi`` permutes the batch the denominator (the
      total weight of both terms) is exactly ``sum_k p_k``. With uniform
      weights this is ordinary mixup. While :class:`~sk_mr.MRClassifier`'s
      ``relabel='auto'`` corrects labels, mixup runs with ``alpha=1`` where
      this is 0 (32 on a standing pairflip latch, none after a gate read
      at or past half the planned updates: see
      :class:`~sk_mr.MultiplicativeReweighting`).

    adversarial : training strategy or None (default=None)
      An adversarial-training strategy from :mod:`sk_mr.adversarial` (e.g.
      ``FreeAdversarialTraining(eps=8/255, replays=4)``). It owns the
      optimizer steps of each batch and reuses this net's mixup and weighted
      loss, so MR, mixup, label smoothing and adversarial training compose.
      Its parameters are reachable as ``adversarial__eps`` etc. (in
      ``set_params`` and grid searches).

    amp : bool (default=False)
      Automatic mixed precision: forward passes run under
      :func:`torch.autocast` with bfloat16 (no gradient scaler needed) on the
      net's device type; losses are computed in float32. Meant for CUDA.

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds everything random in a fit: the module's initialization, the
      shuffling of batches, dropout, mixup and adversarial perturbations.
      The global torch RNG is forked, never advanced, so a seeded fit is
      reproducible whatever ran before it. None uses torch's global RNG, as
      skorch does: sk_mr's own draws (mixup's lam and pairing, an
      adversarial strategy's seed) are seeded from it when first needed, so
      ``torch.manual_seed`` makes the fit reproducible, and a fit that needs
      none draws exactly what skorch's would.
"""

#: The MR fitted attributes, shared by the docstrings of the MR estimators.
MR_ATTRIBUTES_DOC = """
    sample_weights_ : numpy.ndarray of float64, shape (n_rows,)
      Current MR weight of each row of the X given to fit; training rows sum
      to one, rows held out by ``train_split`` are NaN.

    cumulative_losses_ : numpy.ndarray of float64, shape (n_rows,)
      Cumulative loss ``L_i`` of each row (NaN for held-out rows).

    mr_ : SampleReweighting
      The weighting callback (also what ``save_params(f_mr=...)`` saves).

    n_features_in_ : int
      Number of features of a 2-dimensional X given to fit.

    history_ : skorch.History
      In addition to skorch's keys, ``mr_ess`` (effective sample size
      ``1 / sum(p^2)`` after each update) and ``mr_eta``; an epoch of
      :class:`~sk_mr.MRClassifier`'s ``fallback_loss`` records them as they
      stood, with ``mr_fallback`` (it makes no update, and trains every
      example once).
"""

#: How the criterion is used, shared by the docstrings of the MR estimators.
MR_CRITERION_DOC = """
      To get one loss per example MR calls ``get_loss`` (the net's own,
      including any override) with the ``reduction`` of every criterion
      temporarily set to ``'none'``, so a criterion must either honour a
      ``reduction`` attribute (all torch losses do) or return one loss per
      example. With several outputs or positions per example (multi-output
      regression, multilabel, sequences) an example's summed loss ``s_i`` and
      the number ``n_i`` of positions it counts in the criterion's own mean
      (its class weights for cross-entropy's ``weight``, 0 for
      ``ignore_index`` padding; ``n_i = 1`` with one position, and for
      ``KLDivLoss(reduction='batchmean')``) define its MR loss, the mean
      ``s_i / n_i`` over the positions it counts. ``criterion__reduction``
      says how the *weighted* losses of a training batch are reduced:
      ``'mean'`` (default) and ``'batchmean'`` give
      ``sum(p_i s_i) / sum(p_i n_i)``, ``'sum'`` gives the batch size times
      ``sum(p_i s_i) / sum(p_i)``, so that with uniform weights (``eta=0``)
      the batch loss and its gradient are exactly the criterion's. Outside
      training (validation, ``skorch.scoring.loss_scoring``), ``get_loss``
      is skorch's.
"""


def fill_mr_doc(doc):
    """Fill the ``%(criterion)s``, ``%(mr_params)s`` and ``%(mr_attributes)s``
    placeholders of an MR estimator's docstring with the shared sections."""
    parts = {"criterion": MR_CRITERION_DOC, "mr_params": MR_PARAMETERS_DOC,
             "mr_attributes": MR_ATTRIBUTES_DOC}
    for key, text in parts.items():
        doc = doc.replace(f"%({key})s\n", "\n" + text.strip("\n") + "\n\n")
    return doc
