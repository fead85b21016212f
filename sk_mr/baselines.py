"""Baselines the paper compares MR against.

:class:`BetaMixtureBootstrapping` is the unsupervised loss-correction method
of Arazo et al., "Unsupervised Label Noise Modeling and Loss Correction"
(ICML 2019), in its M-DYR-H variant (mixup, dynamic hard bootstrapping, beta
mixture model), the "Arazo et al. [4]" column of the paper's Tables 1, 3 and
5. It follows the authors' code (``PaulAlbert31/LabelNoiseCorrection``:
``BetaMixture1D``, ``track_training_loss``, ``compute_probabilities_batch``,
``train_mixUp_HardBootBeta``, ``reg_loss_class``):

1. After every epoch, each training example's loss is computed in eval mode
   on un-augmented inputs; losses between the 5th and 95th percentiles are
   scaled to ``[0, 1]`` and a two-component beta mixture is fitted to them by
   EM (:class:`BetaMixture1D`). The high-loss component models noisy labels.
2. After ``warmup_epochs`` epochs of plain training (mixup, when the net's
   ``mixup_alpha > 0``), every batch first evaluates its un-mixed examples in
   eval mode: ``B_i = P(noisy | loss_i)`` and the hard pseudo-label
   ``z_i = argmax p(x_i)``. It then trains on the soft target
   ``(1 - B_i) onehot(y_i) + B_i onehot(z_i)``; cross-entropy being linear in
   the target, mixing these targets gives exactly the paper's
   ``lam [(1 - B_a) CE(y_a) + B_a CE(z_a)] + (1 - lam) [(1 - B_b) CE(y_b) + B_b CE(z_b)]``.
3. A regularizer ``reg_term * KL(uniform || mean prediction of the batch)``
   keeps the network from predicting a single class.

The method is a :class:`~sk_mr.SampleReweighting` callback with uniform
weights: MRClassifier's mixup, label smoothing and training step are reused
unchanged (see :meth:`SampleReweighting.correct_targets` and
:meth:`SampleReweighting.batch_regularizer`).
"""

import math

import torch
import torch.nn.functional as F

from sk_mr.callbacks import SampleReweighting
from sk_mr.validation import check_int, check_real

__all__ = ["BetaMixture1D", "BetaMixtureBootstrapping", "make_arazo_classifier"]

# Constants of the reference implementation, named.
_FIT_EPS = 1e-4            # BetaMixture1D.fit clips x to [eps, 1 - eps]
_NORMALIZED_EDGE = 1e-3    # normalized losses <= 0 / >= 1 become 1e-3 / 1 - 1e-3
_RANGE_EPS = 1e-6          # (l - min) / (max - min + 1e-6)
_MIN_OFFSET = 1e-5         # min loss = 5th percentile + 1e-5
_RESPONSIBILITY_FLOOR = 1e-12
_POSTERIOR_CLIP = 1e-4     # B is clipped to [1e-4, 1 - 1e-4]
_LOW_PERCENTILE, _HIGH_PERCENTILE = 5.0, 95.0
# Guards absent from the reference code; they only act on degenerate data
# (all weight on one value), where the moment equations divide by zero.
_MIN_VARIANCE = 1e-12
_MIN_SHAPE = 1e-6
_MAX_LOG_PDF = 700.0       # exp() stays finite in float64


def _beta_log_pdf(x, alphas, betas):
    """Log-density of Beta(alpha_k, beta_k) at x: shape (n_components, n)."""
    a, b = alphas[:, None], betas[:, None]
    log_norm = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
    return (a - 1) * torch.log(x) + (b - 1) * torch.log1p(-x) - log_norm


class BetaMixture1D:
    """Two-component beta mixture on ``(0, 1)`` fitted by EM, in torch.

    The EM of Arazo et al.'s ``BetaMixture1D``: the E-step computes the
    responsibilities ``r_k(x) = w_k Beta(x; a_k, b_k)`` (floored at 1e-12,
    then normalized); the M-step sets each component's shapes by the weighted
    method of moments (``a = m (m (1 - m) / v - 1)``, ``b = a (1 - m) / m``
    with the responsibility-weighted mean ``m`` and variance ``v``) and its
    weight to its share of the responsibilities. Everything runs in float64
    on the device of ``x``.

    After fitting, the components are ordered by mean, so that component 1
    is the high-value one (the noisy, high-loss component of
    :class:`BetaMixtureBootstrapping`). With the default initialization EM
    keeps this order anyway; sorting only makes it certain.

    Parameters
    ----------
    max_iters : int (default=10)
      Number of EM iterations (the reference code uses 10).

    alphas_init, betas_init : pair of float (default=(1, 2) and (2, 1))
      Initial shapes: component 0 starts as Beta(1, 2) (mass near 0),
      component 1 as Beta(2, 1) (mass near 1). The initialization is
      deterministic; no random state is involved.

    weights_init : pair of float (default=(0.5, 0.5))
      Initial mixing weights.

    Attributes
    ----------
    alphas_, betas_ : torch.Tensor of float64, shape (2,)
      Fitted shapes, components ordered by mean.

    weights_ : torch.Tensor of float64, shape (2,)
      Fitted mixing weights, summing to one.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.beta(2, 8, 700), rng.beta(8, 2, 300)])
    >>> bmm = BetaMixture1D(max_iters=30).fit(torch.from_numpy(x))
    >>> [round(w, 1) for w in bmm.weights_.tolist()]
    [0.7, 0.3]
    >>> posterior = bmm.posterior(torch.tensor([0.1, 0.9]))[1]
    >>> bool(posterior[0] < 0.01 and posterior[1] > 0.99)
    True
    """

    def __init__(self, max_iters=10, alphas_init=(1.0, 2.0), betas_init=(2.0, 1.0),
                 weights_init=(0.5, 0.5)):
        self.max_iters = max_iters
        self.alphas_init = alphas_init
        self.betas_init = betas_init
        self.weights_init = weights_init

    def fit(self, x):
        """Fit the mixture to values in ``[0, 1]``.

        Parameters
        ----------
        x : torch.Tensor or array-like, shape (n,)
          Values in ``[0, 1]``; they are clipped to ``[1e-4, 1 - 1e-4]``
          (EM on beta densities is unstable at 0 and 1).

        Returns
        -------
        self : BetaMixture1D
        """
        check_int("max_iters", self.max_iters, low=1)
        x = torch.as_tensor(x).to(torch.float64).reshape(-1)
        if x.numel() < 2:
            raise ValueError(f"BetaMixture1D needs at least 2 values, got {x.numel()}.")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("BetaMixture1D got non-finite values; pass values in [0, 1].")
        x = x.clamp(_FIT_EPS, 1.0 - _FIT_EPS)
        options = dict(dtype=torch.float64, device=x.device)
        self.alphas_ = torch.as_tensor(self.alphas_init, **options).clone()
        self.betas_ = torch.as_tensor(self.betas_init, **options).clone()
        self.weights_ = torch.as_tensor(self.weights_init, **options).clone()
        for _ in range(self.max_iters):
            r = self._responsibilities(x)                      # E-step
            total = r.sum(dim=1)
            mean = (r * x).sum(dim=1) / total                  # M-step
            var = (r * (x - mean[:, None]) ** 2).sum(dim=1) / total
            var = var.clamp_min(_MIN_VARIANCE)
            self.alphas_ = (mean * (mean * (1 - mean) / var - 1)).clamp_min(_MIN_SHAPE)
            self.betas_ = (self.alphas_ * (1 - mean) / mean).clamp_min(_MIN_SHAPE)
            self.weights_ = total / total.sum()
        order = torch.argsort(self.alphas_ / (self.alphas_ + self.betas_))
        self.alphas_, self.betas_, self.weights_ = (
            self.alphas_[order], self.betas_[order], self.weights_[order])
        return self

    def weighted_likelihoods(self, x):
        """Return ``w_k Beta(x; a_k, b_k)`` for both components.

        Parameters
        ----------
        x : torch.Tensor, shape (n,)
          Values in ``(0, 1)``.

        Returns
        -------
        likelihoods : torch.Tensor of float64, shape (2, n)
        """
        x = torch.as_tensor(x, device=self.alphas_.device).to(torch.float64)
        log_pdf = _beta_log_pdf(x, self.alphas_, self.betas_)
        return self.weights_[:, None] * torch.exp(log_pdf.clamp_max(_MAX_LOG_PDF))

    def _responsibilities(self, x):
        r = self.weighted_likelihoods(x).clamp_min(_RESPONSIBILITY_FLOOR)
        return r / r.sum(dim=0)

    def posterior(self, x):
        """Return ``P(component k | x)`` for both components.

        Parameters
        ----------
        x : torch.Tensor, shape (n,)
          Values in ``(0, 1)``.

        Returns
        -------
        posterior : torch.Tensor of float64, shape (2, n)
          ``w_k f_k(x) / (sum_j w_j f_j(x) + 1e-12)``, as in the reference.
        """
        likelihoods = self.weighted_likelihoods(x)
        return likelihoods / (likelihoods.sum(dim=0) + _RESPONSIBILITY_FLOOR)

    def lookup_table(self, resolution=100):
        """Tabulate the high component's posterior, made non-decreasing.

        As the reference ``create_lookup``: the posterior of component 1 on
        ``resolution`` evenly spaced points of ``[1e-12, 1 - 1e-12]``, held at
        its maximum from the argmax on (the density ratio may turn down at the
        far right, but a larger loss should never look cleaner). Additionally
        (not in the reference), values left of the argmax are lowered to the
        running minimum from the right, which changes nothing unless the
        posterior rises again towards loss 0.

        Parameters
        ----------
        resolution : int (default=100)

        Returns
        -------
        table : torch.Tensor of float64, shape (resolution,)
          Entry ``j`` is used for normalized losses in
          ``[j / resolution, (j + 1) / resolution)``.
        """
        grid = torch.linspace(_RESPONSIBILITY_FLOOR, 1 - _RESPONSIBILITY_FLOOR, resolution,
                              dtype=torch.float64, device=self.alphas_.device)
        table = self.posterior(grid)[1]
        peak = int(torch.argmax(table))
        table[peak:] = table[peak]
        return torch.flip(torch.cummin(torch.flip(table, [0]), dim=0).values, [0])


class BetaMixtureBootstrapping(SampleReweighting):
    """Arazo et al.'s M-DYR-H: beta-mixture noise model + dynamic hard bootstrapping.

    A reweighting callback for :class:`~sk_mr.MRClassifier` that keeps the
    weights uniform and instead corrects the targets (see the module
    docstring for the method). Put it in place of the MR callback and turn
    on mixup; M-DYR-H is mixup + dynamic hard bootstrapping + the prior
    regularizer::

        MRClassifier(module, eta=0.0, mixup_alpha=32.0,
                     callbacks__reweighting=BetaMixtureBootstrapping(warmup_epochs=10))

    :func:`make_arazo_classifier` builds exactly this. ``eta`` is ignored
    (the weights stay uniform); with ``mixup_alpha=0`` the method is dynamic
    hard bootstrapping without mixup.

    Per batch after warm-up, the un-mixed batch is forwarded once more in
    eval mode under :func:`torch.no_grad` for both the losses and the
    pseudo-labels (the reference takes the pseudo-labels from a separate
    train-mode forward). This changes neither the modules' train/eval flags
    nor batch-norm statistics nor any RNG; the posterior is a lookup on the
    device, with no host synchronization.

    Parameters
    ----------
    warmup_epochs : int (default=10)
      Epochs trained on the given labels (with the net's mixup) before
      bootstrapping starts. The BMM is fitted after every epoch, warm-up
      included, so :attr:`noise_probabilities_` is available throughout.

    reg_term : float (default=1.0)
      Weight of ``KL(uniform || mean softmax of the batch)`` after warm-up
      (``--reg-term 1.0`` for M-DYR-H in the reference code). 0 disables it.

    bmm_max_iters : int (default=10)
      EM iterations per fit.

    lookup_resolution : int (default=100)
      Number of bins of the posterior lookup table.

    Attributes
    ----------
    bmm_alphas_, bmm_betas_, bmm_weights_ : torch.Tensor of float64, shape (2,) or None
      The last fitted mixture, in normalized-loss space; component 1 is the
      noisy (high-loss) one.

    loss_min_, loss_max_ : torch.Tensor of float64, shape () or None
      The normalization ``(l - loss_min_) / (loss_max_ - loss_min_ + 1e-6)``
      (5th percentile + 1e-5 and 95th percentile of the last loss pass).

    posterior_lookup_ : torch.Tensor of float64, shape (lookup_resolution,) or None
      ``P(noisy | normalized loss)`` by bin (see :meth:`BetaMixture1D.lookup_table`).

    noise_probabilities_ : torch.Tensor of float64 or None
      ``P(noisy | loss)`` of each training example at the last fit; rows of
      X via ``net.mr_.full_length(net.mr_.noise_probabilities_)``.

    training_losses_ : torch.Tensor of float64 or None
      Every training example's loss in the last loss pass (the mixture is
      fitted to those between the 5th and 95th percentiles).

    probabilities_ : torch.Tensor of float64
      Uniform weights (this method does not reweight).

    n_updates_ : int
      Number of epochs completed (one mixture fit each).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_mr import MRClassifier, add_label_noise
    >>> from sk_mr.baselines import BetaMixtureBootstrapping
    >>> from sk_mr.models import MLP
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32)
    >>> y_noisy, is_noisy = add_label_noise(y, 0.4, random_state=0)
    >>> net = MRClassifier(MLP, module__in_features=64, module__n_classes=10,
    ...                    eta=0.0, mixup_alpha=32.0, max_epochs=8, lr=0.05,
    ...                    optimizer__momentum=0.9, train_split=None, verbose=0,
    ...                    callbacks__reweighting=BetaMixtureBootstrapping(warmup_epochs=4))
    >>> _ = net.fit(X, y_noisy)
    >>> p_noisy = net.mr_.full_length(net.mr_.noise_probabilities_)  # one per row of X
    >>> bool(p_noisy[is_noisy].mean() > p_noisy[~is_noisy].mean())
    True
    """

    _tensor_attributes = SampleReweighting._tensor_attributes + (
        "bmm_alphas_", "bmm_betas_", "bmm_weights_", "loss_min_", "loss_max_",
        "posterior_lookup_", "noise_probabilities_", "training_losses_")

    _state_kind = "BetaMixtureBootstrapping"

    _state_keys = ("bmm_alphas", "bmm_betas", "bmm_weights", "loss_min", "loss_max",
                   "posterior_lookup", "noise_probabilities", "training_losses")

    def __init__(self, warmup_epochs=10, reg_term=1.0, bmm_max_iters=10,
                 lookup_resolution=100):
        self.warmup_epochs = warmup_epochs
        self.reg_term = reg_term
        self.bmm_max_iters = bmm_max_iters
        self.lookup_resolution = lookup_resolution

    def initialize(self):
        self._check_params()
        super().initialize()
        for key in self._state_keys:
            setattr(self, key + "_", None)
        return self

    def _check_params(self):
        check_int("warmup_epochs", self.warmup_epochs, low=0)
        check_int("bmm_max_iters", self.bmm_max_iters, low=1)
        check_int("lookup_resolution", self.lookup_resolution, low=2)
        check_real("reg_term", self.reg_term, low=0,
                   hint="0 disables the prior regularizer; M-DYR-H uses 1.0.")

    def _init_state(self, n_train):
        super()._init_state(n_train)
        self.noise_probabilities_ = None
        self.training_losses_ = None

    @property
    def bootstrapping_(self):
        """Whether the warm-up is over (targets are corrected)."""
        return self.n_updates_ >= self.warmup_epochs

    # -- the noise model --------------------------------------------------------
    def noise_posterior(self, losses):
        """Return ``B = P(noisy | loss)`` for per-example losses, on their device.

        Losses are normalized with :attr:`loss_min_` / :attr:`loss_max_`,
        looked up in :attr:`posterior_lookup_` and clipped to
        ``[1e-4, 1 - 1e-4]``. Before the first fit (only with
        ``warmup_epochs=0``, during the first epoch) every example gets 0.5,
        as in the reference's soft-bootstrapping variants (its hard variant
        never runs without a fitted mixture).

        Parameters
        ----------
        losses : torch.Tensor, shape (n,)

        Returns
        -------
        B : torch.Tensor of float64, shape (n,)
        """
        losses = losses.detach().to(torch.float64)
        if self.posterior_lookup_ is None:
            return torch.full_like(losses, 0.5)
        lookup = self.posterior_lookup_.to(losses.device)
        x = _normalize_losses(losses, self.loss_min_.to(losses.device),
                              self.loss_max_.to(losses.device))
        resolution = lookup.shape[0]
        bins = (resolution * x).long().clamp(0, resolution - 1)
        return lookup[bins].clamp(_POSTERIOR_CLIP, 1 - _POSTERIOR_CLIP)

    def fit_noise_model(self, losses):
        """Fit the beta mixture to per-example training losses.

        Losses outside the 5th-95th percentile range are left out of the fit
        (outliers); the others are normalized to ``[0, 1]``. Sets the
        ``bmm_*_``, ``loss_min_``, ``loss_max_``, ``posterior_lookup_``,
        ``training_losses_`` and ``noise_probabilities_`` attributes.

        Parameters
        ----------
        losses : torch.Tensor, shape (n_train,)
          One loss per training example, in training-dataset order.

        Returns
        -------
        self : BetaMixtureBootstrapping
        """
        losses = losses.detach().to(torch.float64)
        low = _percentile(losses, _LOW_PERCENTILE)
        high = _percentile(losses, _HIGH_PERCENTILE)
        kept = losses[(losses >= low) & (losses <= high)]
        if kept.numel() < 2:  # tiny training sets: nothing between the percentiles
            kept = losses
        self.loss_min_ = low + _MIN_OFFSET
        self.loss_max_ = high
        bmm = BetaMixture1D(max_iters=self.bmm_max_iters).fit(
            _normalize_losses(kept, self.loss_min_, self.loss_max_))
        self.bmm_alphas_, self.bmm_betas_, self.bmm_weights_ = (
            bmm.alphas_, bmm.betas_, bmm.weights_)
        self.posterior_lookup_ = bmm.lookup_table(self.lookup_resolution)
        self.training_losses_ = losses
        self.noise_probabilities_ = self.noise_posterior(losses)
        return self

    # -- the per-batch hooks ----------------------------------------------------
    def correct_targets(self, net, X, y):
        """Return the labels during warm-up, bootstrapped soft targets after.

        Parameters
        ----------
        net : MRClassifier

        X : torch.Tensor
          The un-mixed batch, on the net's device.

        y : torch.Tensor of int64, shape (batch,)
          Its (possibly noisy) labels.

        Returns
        -------
        targets : torch.Tensor
          ``y`` unchanged during warm-up; afterwards the soft targets
          ``(1 - B) onehot(y) + B onehot(z)``, shape ``(batch, n_classes)``,
          rows summing to one, with ``z`` the eval-mode prediction.
        """
        if not self.bootstrapping_:
            return y
        logits = net.evaluate_batch(X)
        with torch.no_grad():
            losses = net.get_example_losses(logits, y, X=X, training=False)
        n_classes = logits.shape[-1]
        noisy = self.noise_posterior(losses).to(logits.dtype)[:, None]
        labels = F.one_hot(y.long(), n_classes).to(logits.dtype)
        predicted = F.one_hot(logits.argmax(dim=-1), n_classes).to(logits.dtype)
        return (1 - noisy) * labels + noisy * predicted

    def batch_regularizer(self, net, y_pred):
        """Return ``reg_term * KL(uniform || mean softmax)`` after warm-up.

        The reference ``reg_loss_class``:
        ``sum_c (1 / C) log((1 / C) / mean_i softmax(y_pred)_ic)`` over the
        (mixed) training batch.

        Parameters
        ----------
        net : MRClassifier

        y_pred : torch.Tensor, shape (batch, n_classes)
          Logits of the training forward pass.

        Returns
        -------
        penalty : torch.Tensor (scalar) or None
          None during warm-up or when ``reg_term == 0``.
        """
        if not self.bootstrapping_ or not self.reg_term:
            return None
        log_probs = F.log_softmax(y_pred.float(), dim=-1)
        # log of the batch-mean probability, computed stably
        log_mean = torch.logsumexp(log_probs, dim=0) - math.log(log_probs.shape[0])
        n_classes = log_probs.shape[-1]
        kl = (-math.log(n_classes) - log_mean).sum() / n_classes
        return self.reg_term * kl

    # -- epoch hooks ------------------------------------------------------------
    def on_train_begin(self, net, **kwargs):
        if not isinstance(net.criterion_, torch.nn.CrossEntropyLoss):
            raise TypeError(
                f"{type(self).__name__} trains on soft targets, which needs "
                f"criterion=torch.nn.CrossEntropyLoss (or a subclass); got "
                f"{type(net.criterion_).__name__}.")

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        losses = net.example_losses(dataset_train)  # finite, or the net refuses
        self.fit_noise_model(losses)
        self.n_updates_ += 1
        self._record_history(net)
        net.history.record("bmm_noise_fraction", float(self.bmm_weights_[1]))

    # -- persistence ------------------------------------------------------------
    def state_dict(self):
        """Return the state (uniform weights and the noise model) as CPU tensors."""
        state = super().state_dict()
        if state:
            for key in self._state_keys:
                value = getattr(self, key + "_")
                if value is not None:
                    state[key] = value.detach().cpu()
        return state

    def load_state_dict(self, state_dict):
        """Restore the state saved by :meth:`state_dict`."""
        super().load_state_dict(state_dict)
        for key in self._state_keys:
            value = state_dict.get(key)
            setattr(self, key + "_", None if value is None else value.to(torch.float64))


def make_arazo_classifier(module, *, warmup_epochs=10, reg_term=1.0, mixup_alpha=32.0,
                          **kwargs):
    """Build an :class:`~sk_mr.MRClassifier` that trains with Arazo et al.'s M-DYR-H.

    Shorthand for ``MRClassifier(module, eta=0.0, mixup_alpha=mixup_alpha,
    criterion=AutoCrossEntropyLoss,
    callbacks__reweighting=BetaMixtureBootstrapping(warmup_epochs, reg_term))``:
    the method as published, on cross-entropy (``criterion`` may be passed
    to try it on another :class:`torch.nn.CrossEntropyLoss` subclass).

    Parameters
    ----------
    module : torch module (class or instance)
      Returns logits.

    warmup_epochs : int (default=10)
      Epochs of plain mixup training before bootstrapping.

    reg_term : float (default=1.0)
      Weight of the prior regularizer.

    mixup_alpha : float (default=32.0)
      Mixup's ``Beta(alpha, alpha)`` parameter; 32 is the reference code's
      default for M-DYR-H.

    **kwargs
      Any other :class:`~sk_mr.MRClassifier` / skorch parameter (not ``eta``,
      which MR uses and this method does not).

    Returns
    -------
    net : MRClassifier

    Examples
    --------
    >>> from sk_mr.baselines import make_arazo_classifier
    >>> from sk_mr.models import MLP
    >>> net = make_arazo_classifier(MLP, warmup_epochs=10, max_epochs=100,
    ...                             module__in_features=64, module__n_classes=10)
    >>> net.eta, net.mixup_alpha
    (0.0, 32.0)
    """
    from sk_mr.classifier import MRClassifier
    from sk_mr.losses import AutoCrossEntropyLoss

    if "eta" in kwargs:
        raise TypeError(
            "make_arazo_classifier got eta: the M-DYR-H baseline keeps uniform "
            "weights; build MRClassifier directly to combine it with anything else.")
    kwargs.setdefault("criterion", AutoCrossEntropyLoss)
    return MRClassifier(
        module, eta=0.0, mixup_alpha=mixup_alpha,
        callbacks__reweighting=BetaMixtureBootstrapping(
            warmup_epochs=warmup_epochs, reg_term=reg_term),
        **kwargs)


# -- helpers ----------------------------------------------------------------------
def _percentile(values, q):
    """numpy.percentile(values, q) (linear interpolation), on the device."""
    ordered = torch.sort(values).values
    position = q / 100.0 * (ordered.shape[0] - 1)
    lower = math.floor(position)
    upper = min(lower + 1, ordered.shape[0] - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _normalize_losses(losses, loss_min, loss_max):
    """Scale losses to (0, 1) as the reference code does."""
    x = (losses - loss_min) / (loss_max - loss_min + _RANGE_EPS)
    x = torch.where(x >= 1, torch.full_like(x, 1 - _NORMALIZED_EDGE), x)
    return torch.where(x <= 0, torch.full_like(x, _NORMALIZED_EDGE), x)
