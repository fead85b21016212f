"""Reproduce the paper's adversarial-robustness tables (Tables 4, 7, 8).

``python -m sk_mr reproduce adversarial --dataset cifar10 ...`` trains every
(method, seed) cell with the paper's recipe, evaluates it on the clean test
set and under PGD and FGSM attacks (torchattacks) at each eps, prints Table
4's layout (methods as rows; natural accuracy, then each attack and eps) and
saves the records of each finished cell to JSON, so an interrupted grid
resumes.

Methods are compositions of ``base``, ``mr``, ``random``, ``mixup``, ``adv``
(free adversarial training, Shafahi et al.) and ``trades`` joined with
``+``; ``adv+mr+mixup`` is one training step with all three. Following
Shafahi et al., free adversarial training with ``m`` replays runs
``ceil(epochs / m)`` epochs, so every method takes about the same number of
optimizer steps.
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
from sk_mr.paper.reproduce.results import ResultStore

__all__ = ["ADVERSARIAL_COMPONENTS", "TABLE4_METHODS", "AdversarialRecipe",
           "ADVERSARIAL_RECIPES", "parse_adversarial_methods", "make_adversarial_estimator",
           "run_adversarial", "main_adversarial", "prepare_adversarial"]

ADVERSARIAL_COMPONENTS = ("base", "mr", "random", "mixup", "adv", "trades")

#: What identifies a cell of the grid (each cell has one record per attack and eps).
CELL_KEYS = ("method", "seed")

#: Table 4's rows (and Table 8's TRADES rows), in order.
TABLE4_METHODS = ("base", "random", "mr", "mixup", "mr+mixup", "adv", "adv+random",
                  "adv+mr", "adv+mixup", "adv+mr+mixup", "trades", "trades+mr")

_DISPLAY = {"base": "Base", "random": "Random Weight.", "mr": "Base+MR",
            "mixup": "Base+mixup", "mr+mixup": "Base+mixup+MR", "adv": "Adv.",
            "adv+random": "Adv.+Random weight.", "adv+mr": "Adv.+MR",
            "adv+mixup": "Adv.+mixup", "adv+mr+mixup": "Adv.+MR+mixup",
            "trades": "TRADES", "trades+mr": "TRADES+MR"}


@dataclass(frozen=True)
class AdversarialRecipe:
    """Training and evaluation recipe of the adversarial experiments.

    Parameters
    ----------
    arch : str
      Model name in :func:`sk_mr.paper.models.make_model_class`.
    epochs, batch_size : int
    optimizer : {'sgd', 'adam'}
    lr, adam_lr, weight_decay, momentum : float
    plateau_factor : float
      ReduceLROnPlateau factor on the training loss (the paper: 0.9).
    plateau_patience : int
      Its patience (the paper: 3).
    eta, eta_adam : float
      MR step size with SGD / Adam (the paper: 0.01 / 0.001).
    replays : int
      Free adversarial training's m (4 for CIFAR-10, 6 for CIFAR-100).
    train_eps : float
      Training perturbation size in input units (8/255).
    mixup_alpha, mixup_alpha_adam : float
      Mixup's alpha with SGD / Adam (1.0 / 0.1 in the paper).
    trades_eps, trades_step_size, trades_steps, trades_beta : float, float, int, float
      TRADES' inner maximization (0.031, 0.007, 10) and 1/lambda (6).
    eval_eps : tuple of float
      Attack sizes of the evaluation.
    """

    arch: str
    epochs: int
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    adam_lr: float = 1e-3
    weight_decay: float = 1e-3
    momentum: float = 0.9
    plateau_factor: float = 0.9
    plateau_patience: int = 3
    eta: float = 0.01
    eta_adam: float = 0.001
    replays: int = 4
    train_eps: float = 8 / 255
    mixup_alpha: float = 1.0
    mixup_alpha_adam: float = 0.1
    trades_eps: float = 0.031
    trades_step_size: float = 0.007
    trades_steps: int = 10
    trades_beta: float = 6.0
    eval_eps: tuple = (0.01, 0.02, 8 / 255)


#: CIFAR follows section 5 (ResNet-34, 200 epochs, SGD lr 0.1 with
#: ReduceLROnPlateau(0.9, patience 3), weight decay 1e-3, eta 0.01, m = 4 or 6,
#: eps 8/255). Digits is a CPU-sized stand-in: 1x8x8 images in [0, 1], a small
#: CNN, eps 0.1.
ADVERSARIAL_RECIPES = {
    "digits": AdversarialRecipe(arch="smallcnn", epochs=40, lr=0.05, weight_decay=0.0,
                                eta=0.1, train_eps=0.1, eval_eps=(0.05, 0.1),
                                trades_eps=0.1, trades_step_size=0.025),
    "cifar10": AdversarialRecipe(arch="resnet34", epochs=200, replays=4),
    "cifar100": AdversarialRecipe(arch="resnet34", epochs=200, replays=6),
}


def parse_adversarial_methods(spec):
    """Parse a comma-separated list of methods into canonical names.

    Parameters
    ----------
    spec : str or sequence of str
      E.g. ``"base,adv+mr,mixup+mr"``.

    Returns
    -------
    methods : list of str

    Raises
    ------
    ValueError
      For unknown components or impossible combinations.
    """
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    order = {c: i for i, c in enumerate(("base", "adv", "trades", "random", "mr", "mixup"))}
    methods = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        parts = set(name.split("+"))
        unknown = sorted(parts - set(ADVERSARIAL_COMPONENTS))
        if unknown:
            raise ValueError(
                f"Unknown method component(s) {unknown} in {name!r}; valid components "
                f"are {list(ADVERSARIAL_COMPONENTS)} (joined with '+'), e.g. "
                f"{', '.join(TABLE4_METHODS)}.")
        if {"mr", "random"} <= parts:
            raise ValueError(f"Method {name!r} combines mr and random; use one.")
        if {"adv", "trades"} <= parts:
            raise ValueError(f"Method {name!r} combines adv and trades; use one.")
        if "trades" in parts and "mixup" in parts:
            raise ValueError(f"Method {name!r}: TRADES does not compose with mixup.")
        if len(parts) > 1:
            parts.discard("base")
        canonical = "+".join(sorted(parts, key=order.get))
        if canonical not in methods:
            methods.append(canonical)
    if not methods:
        raise ValueError(f"No method given; choose from {', '.join(TABLE4_METHODS)}.")
    return methods


def make_adversarial_estimator(method, recipe, *, n_classes, seed, device="cpu",
                               module_kwargs=None, iterator_kwargs=None, verbose=0):
    """Build the MRClassifier of one method: one training step with options.

    Parameters
    ----------
    method : str
      A name returned by :func:`parse_adversarial_methods`.
    recipe : AdversarialRecipe
    n_classes : int
    seed : int
    device : str (default='cpu')
    module_kwargs : dict or None
    iterator_kwargs : dict or None
    verbose : int (default=0)

    Returns
    -------
    net : MRClassifier
    """
    from skorch.callbacks import LRScheduler

    from sk_mr.adversarial import TRADES, FreeAdversarialTraining
    from sk_mr.classifier import MRClassifier
    from sk_mr.paper.reproduce.common import base_estimator_params

    parts = set(method.split("+"))
    epochs = recipe.epochs
    adversarial = None
    if "adv" in parts:
        adversarial = FreeAdversarialTraining(eps=recipe.train_eps, replays=recipe.replays)
        epochs = max(1, math.ceil(recipe.epochs / recipe.replays))
    elif "trades" in parts:
        adversarial = TRADES(eps=recipe.trades_eps, step_size=recipe.trades_step_size,
                             steps=recipe.trades_steps, beta=recipe.trades_beta,
                             random_state=seed)
    params = base_estimator_params(
        parts, recipe, n_classes=n_classes, seed=seed, epochs=epochs, device=device,
        module_kwargs=module_kwargs, iterator_kwargs=iterator_kwargs, verbose=verbose)
    params.update(train_split=None, adversarial=adversarial)
    params["callbacks"].append(("lr_scheduler", LRScheduler(
        policy=torch.optim.lr_scheduler.ReduceLROnPlateau, monitor="train_loss",
        factor=recipe.plateau_factor, patience=recipe.plateau_patience)))
    return MRClassifier(**params)


def _test_arrays(data):
    if data.test_set is not None:
        raise ValueError("The adversarial experiments need array test data.")
    return (np.asarray(data.X_test, dtype=np.float32),
            np.asarray(data.y_test, dtype=np.int64))


def _train_cell(data, recipe, device, attacks, pgd_steps, iterator_kwargs, *, method,
                seed):
    """Train one (method, seed) cell, attack it; return one record per attack and eps."""
    from sk_mr.adversarial import robustness_report

    net = make_adversarial_estimator(method, recipe, n_classes=data.n_classes, seed=seed,
                                     device=device, module_kwargs=data.module_kwargs,
                                     iterator_kwargs=iterator_kwargs)
    seconds = fit_cell(net, data, data.y_train, seed)
    X_test, y_test = _test_arrays(data)
    report = robustness_report(net, X_test, y_test, attacks=attacks,
                               eps=recipe.eval_eps, steps=pgd_steps, random_state=seed)
    return [dict(method=method, seed=int(seed), attack=r["attack"], eps=float(r["eps"]),
                 accuracy=float(r["accuracy"]), n=int(r["n"]), epochs=net.max_epochs,
                 fit_seconds=seconds) for r in report]


def _describe(records):
    first = records[0]
    summary = ", ".join(f"{r['attack']}@{r['eps']:.3g} {r['accuracy']:.3f}" for r in records)
    return f"{first['method']} seed={first['seed']}: {summary} ({first['fit_seconds']:.1f}s)"


def run_adversarial(data, methods, seeds, recipe, *, attacks=("pgd", "fgsm"),
                    pgd_steps=20, device="cpu", store=None, log=sys.stderr,
                    iterator_kwargs=None, n_jobs=1):
    """Train and attack every (method, seed) cell; return all records.

    Parameters
    ----------
    data : sk_mr.paper.reproduce.data.ExperimentData
      Clean training data and the clean test arrays.
    methods : list of str
    seeds : list of int
    recipe : AdversarialRecipe
    attacks : sequence of str (default=('pgd', 'fgsm'))
    pgd_steps : int (default=20)
    device : str (default='cpu')
    store : ResultStore or None
    log : file-like or None
    iterator_kwargs : dict or None
    n_jobs : int (default=1)
      Cells at once, in processes with one torch thread each (CPU only).

    Returns
    -------
    records : list of dict
      ``method``, ``seed``, ``attack`` ('none' for natural accuracy), ``eps``,
      ``accuracy`` (a fraction), ``n``, ``epochs``, ``fit_seconds``.
    """
    store = store if store is not None else ResultStore(None, {}, CELL_KEYS)
    cells = [dict(method=method, seed=seed) for seed in seeds for method in methods]
    train_cell = functools.partial(_train_cell, data, recipe, device, tuple(attacks),
                                   pgd_steps, iterator_kwargs)
    return run_grid(train_cell, cells, store, describe=_describe, n_jobs=n_jobs, log=log)


def format_adversarial_table(records, methods, title=None):
    """Table 4's layout, mean +- sample std over seeds, from the records."""
    lines = [title] if title else []
    columns = sorted({(r["attack"], r["eps"]) for r in records},
                     key=lambda c: (c[0] != "none", c[0] != "pgd", c[0], c[1]))
    names = [_DISPLAY.get(m, m) for m in methods]
    width = max(16, max(len(n) for n in names) + 1)
    header = f"{'Method':<{width}}" + "".join(
        f"{('Natural' if a == 'none' else a.upper()):>14}" for a, _ in columns)
    eps_row = f"{'eps':<{width}}" + "".join(
        f"{('0' if a == 'none' else _eps_label(e)):>14}" for a, e in columns)
    lines += [header, eps_row, "-" * len(header)]
    for method, name in zip(methods, names):
        cells = []
        for attack, eps in columns:
            values = [100 * r["accuracy"] for r in records if r["method"] == method
                      and r["attack"] == attack and math.isclose(r["eps"], eps)]
            cells.append(("{:.2f}+-{:.2f}".format(*mean_std(values)) if values
                          else "-").rjust(14))
        lines.append(f"{name:<{width}}" + "".join(cells))
    seeds = sorted({r["seed"] for r in records})
    lines.append(f"(accuracy in %, mean +- sample std over seeds {seeds})")
    return "\n".join(lines)


def _eps_label(eps):
    if math.isclose(eps * 255, round(eps * 255), abs_tol=1e-6) and round(eps * 255) > 0:
        return f"{round(eps * 255)}/255"
    return f"{eps:g}"


def prepare_adversarial(args):
    """Set up the grid of ``reproduce adversarial`` from its parsed arguments.

    Checks every setting, loads the data and opens the results file; a bad
    setting raises (ValueError, OSError, ...) before any training.

    Returns
    -------
    plan : GridPlan
    """
    from sk_mr.adversarial.evaluation import ATTACKS

    unknown = [a for a in args.attacks if a not in ATTACKS]
    if unknown:
        raise ValueError(f"Unknown attack(s) {unknown} in --attacks; valid: "
                         f"{', '.join(ATTACKS)}.")
    methods = parse_adversarial_methods(args.methods)
    if args.dataset not in ADVERSARIAL_RECIPES:
        raise ValueError(f"Unknown dataset {args.dataset!r}; valid: "
                         f"{', '.join(ADVERSARIAL_RECIPES)}.")
    overrides = dict(arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
                     optimizer=args.optimizer, eta=args.eta, replays=args.replays,
                     train_eps=args.train_eps,
                     eval_eps=tuple(args.eval_eps) if args.eval_eps else None)
    if args.lr is not None:
        overrides.update(lr=args.lr, adam_lr=args.lr)
    recipe = replace(ADVERSARIAL_RECIPES[args.dataset],
                     **{k: v for k, v in overrides.items() if v is not None})
    data = load_grid_data(args, recipe.arch)
    store = ResultStore(args.out, grid_config(args, data, recipe, attacks=list(args.attacks),
                                              pgd_steps=args.pgd_steps),
                        CELL_KEYS, result_keys=("accuracy",))

    def run(log):
        return run_adversarial(data, methods, list(range(args.seeds)), recipe,
                               attacks=args.attacks, pgd_steps=args.pgd_steps,
                               device=args.device, store=store, log=log,
                               iterator_kwargs=net_options(data, args), n_jobs=args.jobs)

    def report(records):
        wanted = [r for r in records if r["method"] in methods and r["seed"] < args.seeds]
        return wanted, format_adversarial_table(
            wanted, table_order(methods, TABLE4_METHODS), title=(
                f"{args.dataset}: robustness to l-inf attacks (PGD {args.pgd_steps} steps)"))

    summary = (f"{args.dataset}, {recipe.arch}, {recipe.optimizer}, {recipe.epochs} epochs, "
               f"methods {methods}, {args.seeds} seeds, device {args.device}")
    return GridPlan(store, summary, run, report)


def main_adversarial(args):
    """Run ``reproduce adversarial`` from parsed command-line arguments."""
    from sk_mr.paper.reproduce.cli import run_grid_command

    return run_grid_command(args, "adversarial", prepare_adversarial)
