"""MR for any scikit-learn estimator whose ``fit`` accepts ``sample_weight``.

:class:`MRMetaClassifier` and :class:`MRMetaRegressor` alternate two steps,
as Algorithm 1 alternates SGD epochs and MW updates::

    p_0 = uniform
    for r = 0 .. n_rounds - 1:
        estimator.fit(X, y, sample_weight=n * p_r)       # weighted fit
        l_i   = loss of example i under the fitted estimator
        L     = L + l                                    # cumulative losses
        p_r+1 = softmax(-eta * L)                        # MW (sk_mr.mw)

The per-example loss is the log-loss ``-log p(y_i | x_i)`` from
``predict_proba`` for classifiers and the least-squares loss
``||y_i - f(x_i)||^2 / 2`` for regressors (the loss of the paper's
Algorithm 3, so that ``MRMetaRegressor(LinearRegression(fit_intercept=False))``
*is* Algorithm 3 with the same ``eta``; see :func:`sk_mr.theory.mr_least_squares`).
Examples whose labels disagree with what the model can fit keep a high loss
round after round, and their weight decays exponentially.

The weights are passed as ``n * p`` (they sum to ``n``, the number of
samples), so that regularization strengths such as ``C`` or ``alpha`` keep
the meaning they have for an unweighted fit.
"""

import warnings

import numpy as np
import torch
from sklearn.base import (BaseEstimator, ClassifierMixin, MetaEstimatorMixin,
                          RegressorMixin, clone)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from sk_mr.exceptions import MRParameterWarning
from sk_mr.mw import MultiplicativeWeights, check_eta, mw_probabilities, resolve_eta
from sk_mr.regressor import robust_target_scale
from sk_mr.validation import check_int, warn_ignored

__all__ = ["MRMetaClassifier", "MRMetaRegressor"]

# Probabilities are clipped to [_PROBA_FLOOR, 1] before the log, as in
# sklearn.metrics.log_loss: a confidently wrong prediction costs at most
# -log(eps) ~ 36, never inf.
_PROBA_FLOOR = np.finfo(np.float64).eps

_DEFAULT_ETA = 1.0


def _estimator_has(attr):
    """For ``available_if``: the fitted (or, before fit, the given) estimator has ``attr``."""

    def check(self):
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
        else:
            getattr(self._get_estimator(), attr)
        return True

    return check


class _MRMetaEstimator(MetaEstimatorMixin, BaseEstimator):
    """Shared fit loop of :class:`MRMetaClassifier` and :class:`MRMetaRegressor`."""

    _default_estimator = None  # a class, set by subclasses

    def __init__(self, estimator=None, *, eta=_DEFAULT_ETA, n_rounds=5):
        self.estimator = estimator
        self.eta = eta
        self.n_rounds = n_rounds

    # -- hooks for subclasses ------------------------------------------------

    def _validate_y(self, y):
        raise NotImplementedError

    def _example_losses(self, estimator, X, y):
        raise NotImplementedError

    def _check_estimator_interface(self, estimator):
        pass

    # -- validation ----------------------------------------------------------

    def _get_estimator(self):
        if self.estimator is None:
            return self._default_estimator()
        return self.estimator

    def _validate_params(self):
        """Validate the parameters before ``fit`` changes anything.

        scikit-learn's hook, overridden as skorch's nets override it: the
        checks are the shared validators of :mod:`sk_mr.validation` rather
        than ``_parameter_constraints`` (see there why). Returns None.

        Raises
        ------
        TypeError, ValueError
          Naming the parameter, its value and the fix.

        Warns
        -----
        sk_mr.exceptions.MRParameterWarning
          For an ``eta`` set with ``n_rounds=1``, where no MW update runs.
        """
        name = type(self).__name__
        estimator = self._get_estimator()
        if not hasattr(estimator, "fit"):
            raise TypeError(
                f"{name}'s estimator must be a scikit-learn estimator with a fit "
                f"method, got {estimator!r}.")
        if not has_fit_parameter(estimator, "sample_weight"):
            raise ValueError(
                f"{name} reweights examples through sample_weight, but "
                f"{type(estimator).__name__}.fit does not accept sample_weight "
                f"(estimator={estimator!r}). Choose an estimator that supports "
                "sample weights; for preprocessing, put the steps in a Pipeline "
                f"*around* the {name} rather than inside it.")
        self._check_estimator_interface(estimator)
        eta = check_eta(self.eta)
        n_rounds = check_int("n_rounds", self.n_rounds, low=1, hint=(
            "n_rounds=1 fits the estimator once with uniform weights (no reweighting)."))
        if n_rounds == 1 and (callable(eta) or eta not in (0, _DEFAULT_ETA)):
            warn_ignored("eta", self.eta, "n_rounds=1 fits the estimator once, with "
                         "uniform weights, and makes no MW update",
                         "Set n_rounds >= 2 to reweight, or leave eta at its default.",
                         stacklevel=4)  # the caller of _MRMetaEstimator.fit

    @staticmethod
    def _check_prior(sample_weight, n_samples):
        """Validate user sample weights; they act as a prior on the MW weights."""
        if sample_weight is None:
            return None
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim == 0:
            sample_weight = np.full(n_samples, float(sample_weight))
        if sample_weight.shape != (n_samples,):
            raise ValueError(
                f"sample_weight must have shape ({n_samples},), got "
                f"{sample_weight.shape}.")
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError("sample_weight must be finite and non-negative.")
        if sample_weight.sum() <= 0:
            raise ValueError(
                "sample_weight is all zero; at least one weight must be positive.")
        return sample_weight

    def _require_y(self, y):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, "
                "but the target y is None.")

    # -- the MR loop ---------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fit the estimator ``n_rounds`` times, reweighting examples with MW.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
          Training data, passed to the estimator unchanged.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
          Targets (class labels of any type for the classifier).

        sample_weight : array-like of shape (n_samples,) or None (default=None)
          Optional non-negative prior weights ``s_i``: the MW distribution
          becomes ``p_i ~ s_i * exp(-eta * L_i)`` and the estimator receives
          ``sum(s) * p``. Integer weights are then equivalent to repeating
          rows.

        Returns
        -------
        self : object
          The fitted meta-estimator.

        Warns
        -----
        sk_mr.exceptions.MRParameterWarning
          From :class:`MRMetaRegressor`, where y's robust variance is outside
          [0.1, 10] and ``eta`` times it (its eta on standardized targets)
          outside [0.01, 100].
        """
        self._validate_params()
        estimator, eta, n_rounds = self._get_estimator(), self.eta, int(self.n_rounds)
        self._require_y(y)
        y = self._validate_y(y)
        n_samples = y.shape[0]
        if n_samples == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={y.shape}) while a minimum "
                f"of 1 is required by {type(self).__name__}.")
        prior = self._check_prior(sample_weight, n_samples)

        mw = MultiplicativeWeights(n_samples)
        if prior is None:
            total, log_prior = float(n_samples), None
            probabilities = np.full(n_samples, 1.0 / n_samples)
        else:
            total = float(prior.sum())
            probabilities = prior / total
            with np.errstate(divide="ignore"):
                log_prior = np.log(prior)

        self.estimator_ = clone(estimator)
        for round_ in range(n_rounds):
            # Refitting one clone: estimators with warm_start=True continue
            # from their previous solution (closer to Algorithm 1's alternation);
            # others are refitted from scratch (Algorithm 3).
            self.estimator_.fit(X, y, sample_weight=total * probabilities)
            if round_ == n_rounds - 1:
                break  # the next weights would fit nothing
            losses = self._example_losses(self.estimator_, X, y)
            if not np.all(np.isfinite(losses)):
                raise ValueError(
                    f"{type(self.estimator_).__name__} produced non-finite "
                    f"per-example losses in round {round_ + 1}; MW needs finite "
                    "losses. Check the data for inf/NaN targets or predictions.")
            eta_value = resolve_eta(eta, round_ + 1)
            mw.update(torch.from_numpy(losses), eta_value)
            probabilities = self._mw_distribution(mw, eta_value, log_prior)

        self.sample_weights_ = probabilities
        self.cumulative_losses_ = mw.cumulative_losses_.numpy().copy()
        self.n_rounds_ = n_rounds
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))
        return self

    @staticmethod
    def _mw_distribution(mw, eta, log_prior):
        if log_prior is None:
            return mw.probabilities_.numpy().copy()
        # p_i ~ s_i exp(-eta L_i) = softmax(-(eta L_i - log s_i)) over s_i > 0.
        probabilities = np.zeros(mw.n)
        positive = np.isfinite(log_prior)
        shifted = eta * mw.cumulative_losses_.numpy()[positive] - log_prior[positive]
        probabilities[positive] = mw_probabilities(torch.from_numpy(shifted), 1.0).numpy()
        return probabilities

    # -- delegation ----------------------------------------------------------

    def predict(self, X):
        """Predict with the final estimator.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        y_pred : numpy.ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def score(self, X, y, sample_weight=None):
        """Score of the final estimator, by its own ``score`` method.

        For scikit-learn classifiers this is the accuracy, for regressors R^2.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)

        sample_weight : array-like of shape (n_samples,) or None (default=None)

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        base_tags = get_tags(self._get_estimator())
        tags.input_tags.sparse = base_tags.input_tags.sparse
        tags.input_tags.allow_nan = base_tags.input_tags.allow_nan
        return tags


class MRMetaClassifier(ClassifierMixin, _MRMetaEstimator):
    """Multiplicative Reweighting around any probabilistic scikit-learn classifier.

    Fits ``estimator`` ``n_rounds`` times. Before each refit, every training
    example is reweighted by ``p_i ~ exp(-eta * L_i)``, where ``L_i`` is the
    sum of its log-losses ``-log P(y_i | x_i)`` (from ``predict_proba``,
    clipped at machine epsilon so it is never infinite) under all previous
    fits. Examples with wrong labels that the model cannot fit keep a high
    loss and lose their weight. See :mod:`sk_mr.meta` for the loop.

    Parameters
    ----------
    estimator : classifier or None (default=None)
      The base classifier; its ``fit`` must accept ``sample_weight`` and it
      must have ``predict_proba``. It is cloned. None means
      ``LogisticRegression()``. With ``warm_start=True`` each round continues
      from the previous solution; otherwise each round refits from scratch.

    eta : float >= 0 or callable (default=1.0)
      MW step size; it multiplies the whole cumulative loss. A callable is
      called with the number of completed rounds (e.g.
      :class:`sk_mr.MultiStepEta`). ``eta=0`` is the plain estimator.

    n_rounds : int >= 1 (default=5)
      Number of fits (``n_rounds - 1`` MW updates).

    Attributes
    ----------
    estimator_ : classifier
      The last fit, trained with ``sample_weight = n * sample_weights_``.

    classes_ : numpy.ndarray of shape (n_classes,)
      Class labels (any type), as in ``estimator_.classes_``.

    sample_weights_ : numpy.ndarray of float64, shape (n_samples,)
      The MW distribution ``p`` (sums to one) that ``estimator_`` was fitted
      with; as :attr:`sk_mr.MRClassifier.sample_weights_`.

    cumulative_losses_ : numpy.ndarray of float64, shape (n_samples,)
      ``L_i``: the sum of each example's log-losses over the first
      ``n_rounds - 1`` fits, so ``sample_weights_ = softmax(-eta * L)``.

    n_rounds_ : int
      Number of fits performed.

    n_features_in_ : int
      Number of features seen by ``estimator_`` (when it defines it).

    feature_names_in_ : numpy.ndarray of str
      Feature names seen by ``estimator_`` (when X had string column names).

    See Also
    --------
    sk_mr.MRClassifier : MR inside neural network training (Algorithm 1).
    MRMetaRegressor : the same for regressors (Algorithm 3).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sk_mr.meta import MRMetaClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> labels = np.array(["benign", "malignant"])[y]
    >>> model = make_pipeline(StandardScaler(),
    ...                       MRMetaClassifier(LogisticRegression(), eta=1.0, n_rounds=5))
    >>> model.fit(X, labels).predict(X[:2]).tolist()
    ['benign', 'benign']
    >>> float(model[-1].sample_weights_.sum())
    1.0
    """

    _default_estimator = LogisticRegression

    def _check_estimator_interface(self, estimator):
        if not hasattr(estimator, "predict_proba"):
            raise TypeError(
                f"MRMetaClassifier computes per-example log-losses from "
                f"predict_proba, which {type(estimator).__name__} does not "
                f"provide (estimator={estimator!r}). Use a probabilistic "
                "classifier (e.g. SVC(probability=True), SGDClassifier("
                "loss='log_loss'), or wrap the model in "
                "sklearn.calibration.CalibratedClassifierCV).")

    def _validate_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def _label_columns(self, estimator, y):
        """Column of ``predict_proba`` that holds each example's label."""
        classes = np.asarray(estimator.classes_)
        order = np.argsort(classes, kind="stable")
        position = np.searchsorted(classes, y, sorter=order)
        columns = order[np.clip(position, 0, len(classes) - 1)]
        unknown = classes[columns] != y
        if np.any(unknown):
            raise ValueError(
                f"Labels {np.unique(y[unknown])[:5].tolist()} are missing from "
                f"{type(estimator).__name__}.classes_ = {classes.tolist()}; "
                "MRMetaClassifier needs a probability for every training label.")
        return columns

    def _example_losses(self, estimator, X, y):
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        columns = self._label_columns(estimator, y)
        p_true = proba[np.arange(len(y)), columns]
        return -np.log(np.clip(p_true, _PROBA_FLOOR, 1.0))

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.estimator_.classes_
        return self

    fit.__doc__ = _MRMetaEstimator.fit.__doc__

    # Delegate, rather than inherit ClassifierMixin.score (first in the MRO).
    score = _MRMetaEstimator.score

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the final estimator.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        proba : numpy.ndarray of shape (n_samples, n_classes)
          Columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the final estimator.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        log_proba : numpy.ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the final estimator (when it has one).

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)

        Returns
        -------
        scores : numpy.ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)


class MRMetaRegressor(RegressorMixin, _MRMetaEstimator):
    """Multiplicative Reweighting around any scikit-learn regressor.

    Fits ``estimator`` ``n_rounds`` times. Before each refit, every training
    example is reweighted by ``p_i ~ exp(-eta * L_i)``, where ``L_i`` is the
    sum of its least-squares losses ``||y_i - f(x_i)||^2 / 2`` under all
    previous fits. With ``LinearRegression(fit_intercept=False)`` this is
    the paper's Algorithm 3 (:func:`sk_mr.theory.mr_least_squares`): outliers
    in ``y`` lose their weight and the fit converges to the clean solution.

    Parameters
    ----------
    estimator : regressor or None (default=None)
      The base regressor; its ``fit`` must accept ``sample_weight``. It is
      cloned. None means ``LinearRegression()``.

    eta : float >= 0 or callable (default=1.0)
      MW step size, in units of the squared target scale, as in Algorithm 3
      (standardize ``y`` or scale ``eta`` with ``1 / var(y)``; a fit warns
      where y's robust variance is outside [0.1, 10] and ``eta`` times it,
      the eta it amounts to on standardized targets, outside [0.01, 100]),
      unlike :class:`~sk_mr.MRRegressor`, which divides by the targets'
      scale. A callable is called with the number of completed rounds.
      ``eta=0`` is the plain estimator.

    n_rounds : int >= 1 (default=5)
      Number of fits (``n_rounds - 1`` MW updates).

    Attributes
    ----------
    estimator_ : regressor
      The last fit, trained with ``sample_weight = n * sample_weights_``.

    sample_weights_ : numpy.ndarray of float64, shape (n_samples,)
      The MW distribution (sums to one) ``estimator_`` was fitted with.

    cumulative_losses_ : numpy.ndarray of float64, shape (n_samples,)
      Sum of each example's losses over the first ``n_rounds - 1`` fits.

    n_rounds_ : int
      Number of fits performed.

    n_features_in_ : int
      Number of features seen by ``estimator_`` (when it defines it).

    feature_names_in_ : numpy.ndarray of str
      Feature names seen by ``estimator_`` (when X had string column names).

    See Also
    --------
    MRMetaClassifier : the same for classifiers.
    sk_mr.theory.mr_least_squares : Algorithm 3 written out.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> from sk_mr.meta import MRMetaRegressor
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> y = 2 * X[:, 0]
    >>> y[:3] += 5.0                       # three outliers
    >>> model = MRMetaRegressor(LinearRegression(), eta=1.0, n_rounds=20).fit(X, y)
    >>> round(float(model.estimator_.coef_[0]), 3)
    2.0
    """

    _default_estimator = LinearRegression

    # Delegate, rather than inherit RegressorMixin.score (first in the MRO).
    score = _MRMetaEstimator.score

    def _validate_y(self, y):
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        self._check_target_scale(y)
        return y

    def _check_target_scale(self, y):
        """Warn where y's scale makes ``eta`` far stronger or weaker than it
        reads: eta is in units of the squared target scale (Algorithm 3's),
        unlike MRRegressor's, which divides by it."""
        eta = self.eta
        if callable(eta) or not eta or int(self.n_rounds) < 2 or len(y) < 2:
            return
        variance = float(np.mean(robust_target_scale(y.reshape(len(y), -1)) ** 2))
        # the scale's fault only: far from standardized, and eta not scaled to it
        if not 0.1 <= variance <= 10 and not 0.01 <= eta * variance <= 100:
            warnings.warn(
                f"eta={eta!r} is in units of the squared target scale, and y's (robust) "
                f"variance is {variance:.3g}: this eta reweights as eta={eta * variance:.3g} "
                "would on standardized targets, outside [0.01, 100] (the weights "
                f"{'collapse onto a few rows' if eta * variance > 100 else 'barely move'}). "
                "Standardize y (e.g. sklearn.compose.TransformedTargetRegressor with a "
                f"StandardScaler around this estimator) or divide eta by {variance:.3g}.",
                MRParameterWarning, stacklevel=4)  # the caller of fit

    def _example_losses(self, estimator, X, y):
        n = y.shape[0]
        residuals = (np.asarray(estimator.predict(X), dtype=np.float64).reshape(n, -1)
                     - y.astype(np.float64).reshape(n, -1))
        return 0.5 * np.sum(residuals ** 2, axis=1)

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = get_tags(
            self._get_estimator()).target_tags.multi_output
        return tags
