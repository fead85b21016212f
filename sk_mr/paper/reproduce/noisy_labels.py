"""Reproduce the paper's noisy-label tables (Tables 1, 2, 3, 5).

``python -m sk_mr reproduce noisy-labels --dataset cifar10 ...`` trains every
(method, noise rate, seed) cell of a grid with the paper's recipe for the
dataset, prints a table in Table 1's layout (noise rates as rows, methods as
columns, mean +- std over seeds of the last-epoch clean test accuracy) and
saves each finished cell to a JSON file, so an interrupted grid resumes.

Methods are compositions of ``base``, ``mr``, ``random`` (random weighting),
``mixup``, ``ls`` (label smoothing 0.1), ``arazo`` (Arazo et al.'s
M-DYR-H), ``gce`` (Generalized Cross Entropy, q = 0.7) and ``sce``
(Symmetric Cross Entropy, alpha 0.1, beta 1, A = -4), joined with ``+``:
``mr+mixup+ls`` is MR with mixup and label smoothing, in one training step;
``mr+gce`` is MR weighting the per-example GCE losses.

The results file records, besides the recipe, every run setting that changes
the numbers (device type, amp, DataLoader workers, pretrained weights, torch
version; see :func:`sk_mr.paper.reproduce.common.environment_config`) and refuses
to mix cells run under different ones.
"""

import functools
import math
import sys
from dataclasses import dataclass, replace

import numpy as np
import torch

from sk_mr._stats import mean_std
from sk_mr.paper.reproduce.common import (GridPlan, fit_cell, grid_config, load_grid_data,
                                          net_options, run_grid, table_order)
from sk_mr.paper.reproduce.common import recipe_config  # noqa: F401 (it was defined here)
from sk_mr.paper.reproduce.results import ResultStore

__all__ = ["CRITERIA", "METHOD_COMPONENTS", "TABLE1_METHODS", "Recipe", "RECIPES",
           "parse_methods", "make_estimator", "run_noisy_labels", "format_table",
           "prepare_noisy_labels"]

#: The building blocks a method name is made of.
METHOD_COMPONENTS = ("base", "mr", "random", "mixup", "ls", "arazo", "gce", "sce")

#: Components that replace the cross-entropy criterion.
CRITERIA = ("gce", "sce")

#: Table 1's columns, in order.
TABLE1_METHODS = ("base", "random", "mixup", "ls", "mixup+ls", "arazo", "mr",
                  "mr+mixup", "mr+ls", "mr+mixup+ls")

DATASETS = ("digits", "mnist1d", "cifar10", "cifar100", "clothing1m")

#: What identifies a cell of the grid (and its records in the results file).
CELL_KEYS = ("method", "noise_rate", "seed")


@dataclass(frozen=True)
class Recipe:
    """Training recipe of one dataset (the paper's, for the paper's data).

    Parameters
    ----------
    arch : str
      Model name in :func:`sk_mr.paper.models.make_model`.
    epochs, batch_size : int
    optimizer : {'sgd', 'adam'}
    lr, weight_decay, momentum : float
    milestones : tuple of int
      Epochs at which the SGD learning rate is multiplied by ``lr_gamma``.
    lr_gamma : float
    eta : float
      MR step size.
    eta_milestones : tuple of int
      Epochs after which eta is multiplied by ``eta_gamma`` (Clothing1M).
    eta_gamma : float
    updates_per_epoch : int
      MW updates per epoch.
    mixup_alpha : float
      Mixup's alpha with SGD; ``mixup_alpha_adam`` with Adam.
    label_smoothing : float
    gce_q : float
      Generalized Cross Entropy's q (Zhang & Sabuncu's 0.7).
    sce_alpha, sce_beta, sce_A : float
      Symmetric Cross Entropy's weights and log 0 (Wang et al.'s CIFAR-10
      values 0.1, 1.0 and -4).
    arazo_warmup : int
      Epochs of plain mixup before Arazo et al.'s bootstrapping starts.
    arazo_mixup_alpha : float
      Mixup's alpha for ``arazo`` (the authors' 32).
    adam_lr : float
      Learning rate with ``optimizer='adam'`` (the paper's 1e-3).
    """

    arch: str
    epochs: int
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    weight_decay: float = 0.0
    momentum: float = 0.9
    milestones: tuple = ()
    lr_gamma: float = 0.1
    eta: float = 0.01
    eta_milestones: tuple = ()
    eta_gamma: float = 1.5
    updates_per_epoch: int = 1
    mixup_alpha: float = 1.0
    mixup_alpha_adam: float = 0.5
    label_smoothing: float = 0.1
    gce_q: float = 0.7
    sce_alpha: float = 0.1
    sce_beta: float = 1.0
    sce_A: float = -4.0
    arazo_warmup: int = 10
    arazo_mixup_alpha: float = 32.0
    adam_lr: float = 1e-3


#: Per-dataset defaults. CIFAR follows section 5 (ResNet-18, 200 epochs, lr
#: 0.1 x0.1 at 80 and 120, weight decay 5e-3 / 1e-3, eta 0.01); Clothing1M
#: follows Meta-Weight-Net's recipe the paper uses (ResNet-50 from ImageNet
#: weights, 10 epochs, lr 0.01 x0.1 after 5, batch 32, weight decay 1e-3) with
#: eta 0.01 x1.5 after epochs 2 and 6 and two MW updates per epoch. The small
#: embedded sets use recipes sized for a CPU.
RECIPES = {
    "digits": Recipe(arch="mlp", epochs=100, batch_size=128, lr=0.05, eta=0.01,
                     arazo_warmup=30),
    "mnist1d": Recipe(arch="cnn1d", epochs=60, batch_size=128, lr=0.05,
                      weight_decay=5e-4, eta=0.01, arazo_warmup=20),
    "cifar10": Recipe(arch="resnet18", epochs=200, batch_size=128, lr=0.1,
                      weight_decay=5e-3, milestones=(80, 120), eta=0.01,
                      arazo_warmup=105),
    "cifar100": Recipe(arch="resnet18", epochs=200, batch_size=128, lr=0.1,
                       weight_decay=1e-3, milestones=(80, 120), eta=0.01,
                       arazo_warmup=105),
    "clothing1m": Recipe(arch="resnet50", epochs=10, batch_size=32, lr=0.01,
                         weight_decay=1e-3, milestones=(5,), eta=0.01,
                         eta_milestones=(2, 6), eta_gamma=1.5, updates_per_epoch=2,
                         arazo_warmup=1),
}


def parse_methods(spec):
    """Parse a comma-separated list of methods into normalized names.

    Parameters
    ----------
    spec : str or sequence of str
      E.g. ``"base,mr,mr+mixup+ls"``.

    Returns
    -------
    methods : list of str
      Each name's components sorted canonically (``ls+mr`` -> ``mr+ls``).

    Raises
    ------
    ValueError
      For unknown components or impossible combinations.
    """
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    methods = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        parts = name.split("+")
        unknown = [p for p in parts if p not in METHOD_COMPONENTS]
        if unknown:
            raise ValueError(
                f"Unknown method component(s) {unknown} in {name!r}; valid "
                f"components are {list(METHOD_COMPONENTS)} (joined with '+'), "
                f"e.g. {', '.join(TABLE1_METHODS)}.")
        weighting = [p for p in parts if p in ("mr", "random", "arazo")]
        if len(weighting) > 1:
            raise ValueError(
                f"Method {name!r} combines {weighting}; use at most one of mr, "
                "random and arazo.")
        criteria = [p for p in parts if p in CRITERIA]
        if len(set(criteria)) > 1:
            raise ValueError(
                f"Method {name!r} combines the criteria {criteria}; use at most one "
                "of gce and sce.")
        if criteria and "ls" in parts:
            raise ValueError(
                f"Method {name!r}: label smoothing (ls) is a cross-entropy option; "
                f"it does not compose with {criteria[0]}.")
        if criteria and "arazo" in parts:
            raise ValueError(
                f"Method {name!r}: Arazo et al.'s bootstrapping is defined with "
                f"cross-entropy; it does not compose with {criteria[0]}.")
        if "base" in parts and len(parts) > 1:
            parts = [p for p in parts if p != "base"]
        order = {c: i for i, c in enumerate(
            ("base", "random", "arazo", "mr", "mixup", "ls", "gce", "sce"))}
        canonical = "+".join(sorted(set(parts), key=order.get))
        if canonical not in methods:
            methods.append(canonical)
    if not methods:
        raise ValueError(f"No method given; choose from {', '.join(TABLE1_METHODS)}.")
    return methods


def make_estimator(method, recipe, *, n_classes, seed, device="cpu", module_kwargs=None,
                   valid_dataset=None, iterator_kwargs=None, verbose=0):
    """Build the MRClassifier for one method of the grid.

    All methods are one :class:`sk_mr.MRClassifier` with options: ``base`` is
    ``eta=0`` (plain training, uniform weights), ``mr`` sets eta, ``random``
    and ``arazo`` replace the reweighting callback, ``mixup`` and ``ls`` set
    mixup's alpha and the criterion's label smoothing, ``gce`` and ``sce``
    replace the criterion (:mod:`sk_mr.losses`).

    Parameters
    ----------
    method : str
      A name returned by :func:`parse_methods`.
    recipe : Recipe
    n_classes : int
    seed : int
      Seeds the random weights, mixup and Arazo's bootstrapping.
    device : str (default='cpu')
    module_kwargs : dict or None
      Extra ``module__*`` arguments (e.g. ``in_features``).
    valid_dataset : torch Dataset or None
      Evaluated after every epoch (the clean test set: an oracle curve).
    iterator_kwargs : dict or None
      Extra ``iterator_train__*`` / ``iterator_valid__*`` arguments.
    verbose : int (default=0)

    Returns
    -------
    net : MRClassifier
    """
    from skorch.callbacks import EpochScoring, LRScheduler
    from skorch.helper import predefined_split

    from sk_mr.classifier import MRClassifier
    from sk_mr.mw import MultiStepEta
    from sk_mr.paper.reproduce.common import base_estimator_params

    parts = set(method.split("+"))
    params = base_estimator_params(
        parts, recipe, n_classes=n_classes, seed=seed, epochs=recipe.epochs,
        device=device, module_kwargs=module_kwargs, iterator_kwargs=iterator_kwargs,
        verbose=verbose)
    params["train_split"] = (predefined_split(valid_dataset)
                             if valid_dataset is not None else None)
    if recipe.optimizer == "sgd" and recipe.milestones:
        params["callbacks"].append(("lr_scheduler", LRScheduler(
            policy=torch.optim.lr_scheduler.MultiStepLR,
            milestones=list(recipe.milestones), gamma=recipe.lr_gamma)))
    if valid_dataset is None:
        params["callbacks"].append(("train_acc", EpochScoring(
            "accuracy", on_train=True, name="train_acc", lower_is_better=False)))
    if "mr" in parts:
        if recipe.eta_milestones:
            params["eta"] = MultiStepEta(recipe.eta, milestones=recipe.eta_milestones,
                                         gamma=recipe.eta_gamma)
        params["updates_per_epoch"] = recipe.updates_per_epoch
    if "arazo" in parts:
        from sk_mr.baselines import BetaMixtureBootstrapping
        params["callbacks__reweighting"] = BetaMixtureBootstrapping(
            warmup_epochs=min(recipe.arazo_warmup, max(recipe.epochs - 1, 0)))
        # M-DYR-H trains with mixup throughout, with the authors' alpha = 32.
        params["mixup_alpha"] = recipe.arazo_mixup_alpha
    if "ls" in parts:
        params["criterion__label_smoothing"] = recipe.label_smoothing
    if "gce" in parts:
        from sk_mr.losses import GeneralizedCrossEntropy
        params.update(criterion=GeneralizedCrossEntropy, criterion__q=recipe.gce_q)
    if "sce" in parts:
        from sk_mr.losses import SymmetricCrossEntropy
        params.update(criterion=SymmetricCrossEntropy, criterion__alpha=recipe.sce_alpha,
                      criterion__beta=recipe.sce_beta, criterion__A=recipe.sce_A)
    return MRClassifier(**params)


def _train_cell(data, recipe, device, noise_kind, iterator_kwargs, *, method, noise_rate,
                seed):
    """Train one (method, noise rate, seed) cell and return its record."""
    from sk_mr.noise import add_label_noise

    if noise_rate > 0:
        y_noisy, is_noisy = add_label_noise(
            data.y_train, noise_rate, kind=noise_kind, n_classes=data.n_classes,
            random_state=seed)
    else:
        y_noisy, is_noisy = np.asarray(data.y_train), np.zeros(len(data.y_train), bool)
    net = make_estimator(
        method, recipe, n_classes=data.n_classes, seed=seed, device=device,
        module_kwargs=data.module_kwargs, valid_dataset=data.test_dataset(),
        iterator_kwargs=iterator_kwargs)
    seconds = fit_cell(net, data, y_noisy, seed)
    curve = [float(a) for a in net.history[:, "valid_acc"]]
    weights = net.sample_weights_
    return dict(
        method=method, noise_rate=float(noise_rate), seed=int(seed),
        test_accuracy=curve[-1], best_test_accuracy=max(curve),
        best_epoch=int(np.argmax(curve)) + 1, test_accuracy_curve=curve,
        realized_noise=float(is_noisy.mean()),
        noisy_weight=float(weights[is_noisy].sum()) if is_noisy.any() else 0.0,
        fit_seconds=seconds)


def _describe(record):
    return (f"{record['method']} noise={record['noise_rate']:g} seed={record['seed']}: "
            f"test acc {record['test_accuracy']:.4f} (oracle best "
            f"{record['best_test_accuracy']:.4f} at epoch {record['best_epoch']}), "
            f"{record['fit_seconds']:.1f}s")


def run_noisy_labels(data, methods, noise_rates, seeds, recipe, *, device="cpu",
                     store=None, noise_kind="uniform", log=sys.stderr,
                     iterator_kwargs=None, n_jobs=1):
    """Train every (method, noise rate, seed) cell and return the records.

    Parameters
    ----------
    data : sk_mr.paper.reproduce.data.ExperimentData
      Training and clean test data, with a way to build the training set
      from (noisy) labels.
    methods : list of str
    noise_rates : list of float
    seeds : list of int
      Each seed fixes the label noise, the initialization (``torch.manual_seed``)
      and sk_mr's own randomness of its cells.
    recipe : Recipe
    device : str (default='cpu')
    store : ResultStore or None
      Cells already in the store are skipped; new ones are saved to it as
      they finish.
    noise_kind : str (default='uniform')
    log : file-like or None
    iterator_kwargs : dict or None
    n_jobs : int (default=1)
      Cells trained at once, in separate processes with one torch thread
      each (for small models on the CPU; keep 1 on a GPU).

    Returns
    -------
    records : list of dict
      One per cell: ``method``, ``noise_rate``, ``seed``, ``test_accuracy``
      (last epoch, a fraction), ``best_test_accuracy`` and ``best_epoch`` (the
      oracle: the best epoch chosen on the clean test set),
      ``test_accuracy_curve``, ``realized_noise``, ``noisy_weight`` (MR weight
      on the noisy examples), ``fit_seconds``.
    """
    store = store if store is not None else ResultStore(None, {}, CELL_KEYS)
    cells = [dict(method=method, noise_rate=rate, seed=seed) for rate in noise_rates
             for seed in seeds for method in methods]
    train_cell = functools.partial(_train_cell, data, recipe, device, noise_kind,
                                   iterator_kwargs)
    return run_grid(train_cell, cells, store, describe=_describe, n_jobs=n_jobs, log=log)


def prepare_noisy_labels(args):
    """Set up the grid of ``reproduce noisy-labels`` from its parsed arguments.

    Checks every setting, loads the data and opens the results file; a bad
    setting raises (ValueError, OSError, ...) before any training.

    Returns
    -------
    plan : GridPlan
    """
    methods = parse_methods(args.methods)
    noise_rates = args.noise_rates
    if noise_rates is None:
        noise_rates = [0.0] if args.dataset == "clothing1m" else [0.0, 0.2, 0.4]
    recipe = recipe_for(args.dataset, arch=args.arch, epochs=args.epochs,
                        batch_size=args.batch_size, optimizer=args.optimizer,
                        eta=args.eta, **({"lr": args.lr, "adam_lr": args.lr}
                                         if args.lr is not None else {}))
    data = load_grid_data(args, recipe.arch, pretrained=args.pretrained)
    store = ResultStore(args.out, grid_config(args, data, recipe, epochs=recipe.epochs,
                                              noise_kind="uniform"),
                        CELL_KEYS, result_keys=("test_accuracy",))

    def run(log):
        return run_noisy_labels(data, methods, noise_rates, list(range(args.seeds)), recipe,
                                device=args.device, store=store,
                                iterator_kwargs=net_options(data, args), n_jobs=args.jobs,
                                log=log)

    def report(records):
        wanted = [r for r in records if r["method"] in methods
                  and r["noise_rate"] in noise_rates and r["seed"] < args.seeds]
        order = table_order(methods, TABLE1_METHODS)
        last = format_table(wanted, order, title=(
            f"{args.dataset}: clean test accuracy (%) at the last epoch"))
        oracle = format_table(wanted, order, value="best_test_accuracy", title=(
            "oracle: best epoch chosen on the clean test set (not a valid model-"
            "selection method; shown for comparison with papers that report it)"))
        return wanted, f"{last}\n\n{oracle}"

    summary = (f"{args.dataset}, {recipe.arch}, {recipe.optimizer}, {recipe.epochs} epochs, "
               f"methods {methods}, noise {noise_rates}, {args.seeds} seeds, "
               f"device {args.device}")
    return GridPlan(store, summary, run, report)


def format_table(records, methods=None, value="test_accuracy", title=None):
    """Format records in Table 1's layout: noise rates x methods, mean +- sample std.

    Parameters
    ----------
    records : list of dict
      With ``method``, ``noise_rate`` and ``value`` keys.
    methods : list of str or None
      Column order (default: order of first appearance).
    value : str (default='test_accuracy')
      Record key to aggregate (a fraction, shown in percent).
    title : str or None

    Returns
    -------
    table : str
    """
    if methods is None:
        methods = list(dict.fromkeys(r["method"] for r in records))
    rates = sorted({r["noise_rate"] for r in records})
    width = max(12, max(len(m) for m in methods) + 1)
    lines = []
    if title:
        lines.append(title)
    header = f"{'noise':>6} " + "".join(f"{m:>{width}}" for m in methods)
    lines += [header, "-" * len(header)]
    for rate in rates:
        cells = []
        for method in methods:
            values = [100 * r[value] for r in records
                      if r["method"] == method and math.isclose(r["noise_rate"], rate)]
            if values:
                mean, std = mean_std(values)
                cells.append(f"{mean:.2f}+-{std:.2f}".rjust(width))
            else:
                cells.append("-".rjust(width))
        lines.append(f"{rate:>6.0%} " + "".join(cells))
    n_seeds = sorted({len([r for r in records if r["method"] == m
                           and math.isclose(r["noise_rate"], q)]) for m in methods for q in rates})
    lines.append(f"(mean +- sample std over seeds; seeds per cell: {n_seeds})")
    return "\n".join(lines)


def recipe_for(dataset, **overrides):
    """Return the dataset's :class:`Recipe` with the given fields replaced."""
    if dataset not in RECIPES:
        raise ValueError(f"Unknown dataset {dataset!r}; valid: {', '.join(DATASETS)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    return replace(RECIPES[dataset], **overrides)
