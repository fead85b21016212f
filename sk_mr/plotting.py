"""Plots of what MR learned: the paper's Figures 1-5 for your own runs.

* :func:`plot_loss_curves`: loss per epoch of several nets (Figure 1 style,
  e.g. with and without MR).
* :func:`plot_mask_weight`: total weight on the noisy labels per epoch
  (Figure 2).
* :func:`plot_extreme_weight_losses`: loss of the 2% highest- and
  lowest-weighted examples per epoch (Figure 3).
* :func:`plot_noise_by_weight_percentile`: fraction of noisy labels per
  weight percentile (Figure 4).
* :func:`plot_eta_search`: score against eta from a grid search (Figure 5).

Every function draws on ``ax`` (a new figure when None) and returns it.
matplotlib is an optional dependency: ``pip install matplotlib`` (the ``plot`` extra).

The examples use ``net``, ``X``, ``y_noisy`` and ``is_noisy`` of the
example of :mod:`sk_mr.inspection` (an MLP trained with MR for ten epochs on
digits with 40% label noise, with a :class:`~sk_mr.inspection.WeightHistory`).
"""

import numbers
from collections.abc import Mapping

import numpy as np
import torch

from sk_mr.inspection import (_check_n_rows, _final_estimator, _fitted_reweighting,
                              _training_state, _weight_history,
                              noise_fraction_by_weight_percentile, weight_on_mask)
from sk_mr.validation import check_real

__all__ = [
    "plot_eta_search",
    "plot_extreme_weight_losses",
    "plot_loss_curves",
    "plot_mask_weight",
    "plot_noise_by_weight_percentile",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "sk_mr.plotting needs matplotlib, an optional dependency of sk_mr; "
            "install it with: pip install matplotlib (or, in a clone of sk_mr, "
            "pip install -e '.[plot]')") from exc
    return plt


def _axes(ax):
    plt = _pyplot()  # also when ax is given: fail early and clearly
    if ax is None:
        _, ax = plt.subplots()
    return ax


# -- Figure 1 ----------------------------------------------------------------------
def plot_loss_curves(nets, *, key="train_loss", ax=None):
    """Plot a history key per epoch for several nets (Figure 1 style).

    Typically the losses of the same model trained with and without MR.
    Note that MR's ``train_loss`` is the *weighted* training loss; to compare
    losses on the same footing, record a common quantity (``valid_loss``, or
    the loss on clean labels with an :class:`skorch.callbacks.EpochScoring`)
    and pass its name as ``key``.

    Parameters
    ----------
    nets : dict of str to net or skorch.History, or list of nets
      The runs to plot; dict keys are the legend labels. A list is labelled
      with each net's class name and eta.

    key : str (default='train_loss')
      The history key to plot.

    ax : matplotlib Axes or None (default=None)
      Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
      One line per net, in order.

    Examples
    --------
    >>> ax = plot_loss_curves({'MR': net}, key='train_loss')
    >>> len(ax.lines)
    1
    """
    if isinstance(nets, Mapping):
        items = list(nets.items())
    elif isinstance(nets, (list, tuple)):
        items = [(_net_label(net), net) for net in nets]
    else:
        raise TypeError(
            "nets must be a dict {label: net or History} or a list of nets, got "
            f"{type(nets).__name__}.")
    if not items:
        raise ValueError("nets is empty; pass at least one fitted net.")
    curves = []
    for label, net in items:
        history = getattr(net, "history", net)
        if not hasattr(history, "to_list") or not len(history):
            raise ValueError(
                f"{label!r} has no training history; pass fitted nets or their "
                "History objects.")
        rows = history.to_list()
        missing = [row["epoch"] for row in rows if key not in row]
        if missing:
            known = sorted(set().union(*(row.keys() for row in rows)) - {"batches"})
            raise ValueError(
                f"{label!r} has no history key {key!r} (epochs {missing[:5]}); "
                f"available keys: {known}.")
        curves.append((label, [row["epoch"] for row in rows], [row[key] for row in rows]))
    ax = _axes(ax)
    for label, epochs, values in curves:
        ax.plot(epochs, values, label=str(label))
    ax.set_xlabel("epoch")
    ax.set_ylabel(key)
    ax.legend()
    return ax


def _net_label(net):
    eta = getattr(net, "eta", None)
    name = type(net).__name__
    return name if eta is None else f"{name} (eta={eta})"


# -- Figure 2 ----------------------------------------------------------------------
def plot_mask_weight(net, mask="noisy", *, label=None, ax=None):
    """Plot the total MR weight on a group of rows per epoch (Figure 2).

    With ``mask`` the noisy labels, the curve starts at the noise rate
    (uniform weights) and decays as MR learns to distrust them.

    Parameters
    ----------
    net : MRClassifier
      A net fitted with a :class:`~sk_mr.inspection.WeightHistory` callback.

    mask : str or array-like of bool (default='noisy')
      A mask name given to ``WeightHistory(masks=...)``, or a boolean array
      over the rows of the ``X`` given to fit (see
      :func:`~sk_mr.inspection.weight_on_mask`).

    label : str or None (default=None)
      Legend label; the mask's name (or ``'mask'``) when None.

    ax : matplotlib Axes or None (default=None)

    Returns
    -------
    ax : matplotlib Axes
      Its last line holds epochs (from 0) and total weights.

    Examples
    --------
    >>> ax = plot_mask_weight(net, 'noisy')
    >>> epochs, weight = ax.lines[-1].get_data()
    >>> bool(weight[-1] < weight[0])
    True
    """
    epochs, totals = weight_on_mask(net, mask)
    ax = _axes(ax)
    if label is None:
        label = mask if isinstance(mask, str) else "mask"
    ax.plot(epochs, totals, marker=".", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("total MR weight")
    ax.set_ylim(bottom=0)
    ax.legend()
    return ax


# -- Figure 3 ----------------------------------------------------------------------
def _extreme_groups(weights, losses, fraction):
    """Positions of the lowest- and highest-weighted ``fraction`` of rows."""
    k = max(1, int(round(fraction * len(weights))))
    order = np.lexsort((-losses, weights))  # lowest weight first, ties: higher loss
    return order[:k], order[-k:]


def plot_extreme_weight_losses(net, *, fraction=0.02, X=None, y=None, ax=None):
    """Plot the loss of the highest- and lowest-weighted examples (Figure 3).

    The paper shows that the examples MR weights least suffer a high loss
    and the heaviest ones a low loss. The groups are the ``fraction`` of
    rows with the lowest and highest *final* weights.

    * With a :class:`~sk_mr.inspection.WeightHistory` that recorded losses
      (the default), the mean loss of each group is drawn per epoch (from
      the losses of each epoch's MW update, among the recorded rows).
    * Otherwise pass the ``X`` and ``y`` given to fit: the losses of the
      two groups at the end of training (one extra loss pass over the
      training rows) are drawn as histograms.

    Parameters
    ----------
    net : MRClassifier
      A fitted net with the default MultiplicativeReweighting.

    fraction : float in (0, 0.5] (default=0.02)
      Size of each group, as a fraction of the (recorded) training rows.

    X, y : array-like or None (default=None)
      The data given to fit; used only without a weight history.

    ax : matplotlib Axes or None (default=None)

    Returns
    -------
    ax : matplotlib Axes
      Per epoch: ``ax.lines[0]`` is the lowest-weighted group's mean loss,
      ``ax.lines[1]`` the highest-weighted group's. At the end: two bar
      containers (``ax.containers``), lowest-weighted first.

    Raises
    ------
    ValueError
      Without a weight history and without ``X`` and ``y``.

    Examples
    --------
    >>> ax = plot_extreme_weight_losses(net, fraction=0.02)
    >>> lowest, highest = ax.lines[0].get_ydata(), ax.lines[1].get_ydata()
    >>> bool(lowest[-1] > highest[-1])  # the least trusted examples keep a high loss
    True
    """
    check_real("fraction", fraction, low=0, high=0.5, low_open=True)
    net = _final_estimator(net)
    mr = _fitted_reweighting(net, need_losses=True)
    history = None
    try:
        history = _weight_history(net)
    except ValueError:
        pass
    percent = f"{100 * fraction:g}%"
    if history is not None and history.cumulative_losses_ is not None \
            and len(history.epochs_) > 1 and len(history.rows_):
        epochs, losses = history.epoch_losses()
        low, high = _extreme_groups(history.weights_[-1],
                                    history.cumulative_losses_[-1], fraction)
        ax = _axes(ax)
        ax.plot(epochs, losses[:, low].mean(axis=1), label=f"lowest {percent} weights")
        ax.plot(epochs, losses[:, high].mean(axis=1), label=f"highest {percent} weights")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        ax.legend()
        return ax
    if X is None or y is None:
        raise ValueError(
            "The net has no WeightHistory with recorded losses; add "
            "sk_mr.inspection.WeightHistory() to callbacks=[...] to plot the "
            "losses per epoch, or pass the X and y given to fit to plot the "
            "final losses.")
    _, weights, cumulative = _training_state(net)
    _check_n_rows(X, mr.n_rows_, "X")
    _check_n_rows(y, mr.n_rows_, "y")
    dataset = torch.utils.data.Subset(net.get_dataset(X, y), mr.train_rows_.tolist())
    final = net.example_losses(dataset).to("cpu", torch.float64).numpy()
    low, high = _extreme_groups(weights, cumulative, fraction)
    ax = _axes(ax)
    bins = np.linspace(0.0, max(final[low].max(), final[high].max(), 1e-12), 31)
    ax.hist(final[low], bins=bins, alpha=0.6, label=f"lowest {percent} weights")
    ax.hist(final[high], bins=bins, alpha=0.6, label=f"highest {percent} weights")
    ax.set_xlabel("loss at the end of training")
    ax.set_ylabel("number of examples")
    ax.legend()
    return ax


# -- Figure 4 ----------------------------------------------------------------------
def plot_noise_by_weight_percentile(net, is_noisy, *, n_bins=100, ax=None):
    """Plot the fraction of noisy labels per weight percentile (Figure 4).

    Bars from the lowest weights (left) to the highest; a dashed vertical
    line marks the noise rate. With MR, the percentiles below it should be
    almost all noisy.

    Parameters
    ----------
    net : MRClassifier
      A fitted net with the default MultiplicativeReweighting.

    is_noisy : array-like of bool, shape (n_rows,)
      True where the label given to fit is wrong.

    n_bins : int (default=100)
      Number of percentile bins.

    ax : matplotlib Axes or None (default=None)

    Returns
    -------
    ax : matplotlib Axes
      ``ax.patches`` are the bars (heights: fractions, see
      :func:`~sk_mr.inspection.noise_fraction_by_weight_percentile`);
      ``ax.lines[0]`` is the noise-rate marker.

    Examples
    --------
    >>> ax = plot_noise_by_weight_percentile(net, is_noisy, n_bins=10)
    >>> len(ax.patches)
    10
    """
    fractions = noise_fraction_by_weight_percentile(net, is_noisy, n_bins=n_bins)
    mr = _fitted_reweighting(net)
    noise_rate = float(np.asarray(is_noisy, dtype=bool)[mr.train_rows_].mean())
    ax = _axes(ax)
    width = 100.0 / n_bins
    centers = (np.arange(n_bins) + 0.5) * width
    ax.bar(centers, fractions, width=width, label="noisy fraction")
    ax.axvline(100 * noise_rate, color="k", linestyle="--",
               label=f"noise rate ({noise_rate:.0%})")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1)
    ax.set_xlabel("weight percentile (lowest weights left)")
    ax.set_ylabel("fraction of noisy labels")
    ax.legend()
    return ax


# -- Figure 5 ----------------------------------------------------------------------
def _param_key(results, param):
    key = f"param_{param}"
    if key in results:
        return key
    matches = [k for k in results if k.startswith("param_") and k.endswith(f"__{param}")]
    if len(matches) == 1:
        return matches[0]
    params = sorted(k[len("param_"):] for k in results if k.startswith("param_"))
    hint = f"; which one: {matches}?" if matches else ""
    raise ValueError(
        f"cv_results has no single parameter {param!r}{hint}; searched "
        f"parameters: {params}. Pass param= one of them.")


def plot_eta_search(cv_results, *, param="eta", score="mean_test_score", ax=None):
    """Plot a grid search's score against eta on a log axis (Figure 5).

    One line per combination of the other searched parameters, with a band
    of one standard deviation over the folds. ``eta=0`` (plain training)
    cannot sit on a log axis; it is drawn as a dashed horizontal line.

    Parameters
    ----------
    cv_results : dict or fitted search estimator
      ``GridSearchCV(...).cv_results_``, or the fitted search itself.

    param : str (default='eta')
      The eta parameter's name; ``'net__eta'`` in a Pipeline is found from
      ``'eta'`` when unambiguous.

    score : str (default='mean_test_score')
      The ``cv_results`` column to plot; the band uses the matching
      ``std_`` column when there is one.

    ax : matplotlib Axes or None (default=None)

    Returns
    -------
    ax : matplotlib Axes
      ``ax.lines[i]`` holds the positive etas (sorted) and their scores of
      the ``i``-th group, followed by the eta=0 reference lines.

    Examples
    --------
    >>> from sklearn.base import clone
    >>> from sklearn.model_selection import GridSearchCV
    >>> plain_net = clone(net).set_params(callbacks=None)  # no weight history
    >>> search = GridSearchCV(plain_net, {'eta': [0.0, 0.01, 0.1]}, cv=2)
    >>> ax = plot_eta_search(search.fit(X, y_noisy))
    >>> etas, scores = ax.lines[0].get_data()  # eta=0 is a dashed line apart
    >>> etas.tolist()
    [0.01, 0.1]
    """
    results = getattr(cv_results, "cv_results_", cv_results)
    if not isinstance(results, Mapping):
        raise TypeError(
            "cv_results must be a search's cv_results_ dict or a fitted search "
            f"estimator, got {type(cv_results).__name__}.")
    key = _param_key(results, param)
    if score not in results:
        scores = sorted(k for k in results if "score" in k)
        raise ValueError(f"cv_results has no column {score!r}; available: {scores}.")
    etas = np.asarray(results[key], dtype=object)
    values = np.asarray(results[score], dtype=np.float64)
    std_key = "std_" + score[len("mean_"):] if score.startswith("mean_") else None
    stds = np.asarray(results[std_key], dtype=np.float64) \
        if std_key in results else None
    others = sorted(k for k in results if k.startswith("param_") and k != key)
    groups = {}
    for i in range(len(values)):
        if not isinstance(etas[i], numbers.Real) or isinstance(etas[i], bool):
            raise ValueError(
                f"{key} must hold float etas to plot on a log axis, got "
                f"{etas[i]!r} (eta schedules cannot be plotted this way).")
        name = ", ".join(f"{k[len('param_'):]}={results[k][i]!r}" for k in others)
        groups.setdefault(name, []).append(i)
    ax = _axes(ax)
    references = []
    for name, index in groups.items():
        index = np.array(index)
        eta = np.array([float(e) for e in etas[index]])
        order = np.argsort(eta)
        index, eta = index[order], eta[order]
        positive = eta > 0
        label = name or score
        x, y = eta[positive], values[index[positive]]
        (line,) = ax.plot(x, y, marker="o", label=label)
        color = line.get_color()
        if stds is not None:
            spread = stds[index[positive]]
            ax.fill_between(x, y - spread, y + spread, color=color, alpha=0.2)
        for i in index[~positive]:
            references.append((values[i], color, name))
    for value, color, name in references:
        ax.axhline(value, color=color, linestyle="--",
                   label="eta=0" + (f" ({name})" if name else ""))
    ax.set_xscale("log")
    ax.set_xlabel(param)
    ax.set_ylabel(score)
    ax.legend()
    return ax
