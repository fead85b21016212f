"""What the reproduction grids share: the grid runner, run settings, estimator options.

Both ``reproduce`` commands are one flow: :func:`grid_config` and
:func:`load_grid_data` set a grid up from the command line, :func:`run_grid`
trains the cells its results file lacks (:func:`run_cells` in processes or
on a Dask cluster, :func:`fit_cell` for each fit) and saves each as it
finishes, and :func:`table_order` orders the methods of its tables. A
command module adds only what its experiment is: its methods, recipes,
estimators, the training of one cell, and its table.
"""

import contextlib
import hashlib
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable

import torch

__all__ = ["GridPlan", "base_estimator_params", "cluster_backend", "environment_config",
           "fit_cell", "grid_config", "load_grid_data", "net_options", "recipe_config",
           "run_cells", "run_grid", "table_order"]


def environment_config(device="cpu", amp=False, num_workers=0, weights_path=None):
    """Settings outside the recipe that change a grid's numbers.

    A results file records them in its configuration, so that a rerun with
    another device type, precision, worker count, initialization or torch
    version is refused instead of being mixed into the same table.

    Parameters
    ----------
    device : str or torch.device (default='cpu')
      Only the device type counts ('cuda:0' and 'cuda:1' give the same
      numbers; 'cpu' and 'cuda' do not).
    amp : bool (default=False)
      bfloat16 autocast.
    num_workers : int (default=0)
      DataLoader workers: each worker draws its own augmentation stream.
    weights_path : str or None (default=None)
      Pretrained weights the model starts from; identified by the SHA-256 of
      the file's content, so a moved copy of the same file still matches.

    Returns
    -------
    config : dict
      ``device_type``, ``amp``, ``num_workers``, ``pretrained_sha256`` (None
      without pretrained weights) and ``torch_version``.

    Examples
    --------
    >>> config = environment_config("cuda:1", amp=True)
    >>> config["device_type"], config["amp"], config["pretrained_sha256"]
    ('cuda', True, None)
    """
    return dict(device_type=torch.device(device).type, amp=bool(amp),
                num_workers=int(num_workers or 0),
                pretrained_sha256=_file_sha256(weights_path) if weights_path else None,
                torch_version=torch.__version__)


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def base_estimator_params(parts, recipe, *, n_classes, seed, epochs, device="cpu",
                          module_kwargs=None, iterator_kwargs=None, verbose=0):
    """MRClassifier parameters every grid builds the same way.

    The module and its arguments, cross-entropy and the full loss pass
    (Algorithm 1 exactly),
    the optimizer (SGD with momentum or Adam, with weight decay), MR's eta
    when ``'mr'`` is in ``parts`` (0 otherwise: plain training), mixup's
    alpha for ``'mixup'`` and the random-weighting callback for ``'random'``. Grids add their own schedulers, strategies and
    baselines on top.

    Parameters
    ----------
    parts : set of str
      The components of a method name.
    recipe : dataclass
      With ``arch``, ``batch_size``, ``optimizer``, ``lr``, ``adam_lr``,
      ``weight_decay``, ``momentum``, ``eta``, ``mixup_alpha`` and
      ``mixup_alpha_adam`` (and optionally ``eta_adam``).
    n_classes, seed, epochs : int
    device : str (default='cpu')
    module_kwargs, iterator_kwargs : dict or None
    verbose : int (default=0)

    Returns
    -------
    params : dict
    """
    from sk_mr.callbacks import RandomReweighting
    from sk_mr.losses import AutoCrossEntropyLoss
    from sk_mr.paper.models import make_model_class

    adam = recipe.optimizer == "adam"
    # the paper's experiments: Algorithm 1 exactly (the full loss pass, on
    # cross-entropy, named: it is the paper's criterion whatever the default)
    params = dict(module=make_model_class(recipe.arch), module__n_classes=n_classes,
                  criterion=AutoCrossEntropyLoss,
                  max_epochs=epochs, batch_size=recipe.batch_size, device=device,
                  random_state=seed, verbose=verbose, callbacks=[], loss_pass="full")
    if adam:
        params.update(optimizer=torch.optim.Adam, lr=recipe.adam_lr,
                      optimizer__weight_decay=recipe.weight_decay)
    else:
        params.update(optimizer=torch.optim.SGD, lr=recipe.lr,
                      optimizer__momentum=recipe.momentum,
                      optimizer__weight_decay=recipe.weight_decay)
    eta = getattr(recipe, "eta_adam", recipe.eta) if adam else recipe.eta
    params["eta"] = eta if "mr" in parts else 0.0
    if "mixup" in parts:
        params["mixup_alpha"] = recipe.mixup_alpha_adam if adam else recipe.mixup_alpha
    if "random" in parts:
        params["callbacks__reweighting"] = RandomReweighting(random_state=seed)
    for key, value in (module_kwargs or {}).items():
        params[f"module__{key}"] = value
    params.update(iterator_kwargs or {})
    return params


@dataclass
class GridPlan:
    """A grid set up from a command's arguments, ready to run and report.

    What a command's ``prepare_*`` function returns to the one command flow
    (:func:`sk_mr.paper.reproduce.cli.run_grid_command`).

    Parameters
    ----------
    store : ResultStore
      The results file, opened (its configuration checked).
    summary : str
      What the grid trains, for the line printed before it starts.
    run : callable
      ``run(log) -> records``: trains the missing cells (with
      :func:`run_grid`) and returns all records.
    report : callable
      ``report(records) -> (wanted, text)``: the records of this run's
      cells and the tables that show them.
    """

    store: object
    summary: str
    run: Callable
    report: Callable


def recipe_config(recipe):
    """JSON-friendly dict of a recipe dataclass (for the results file's configuration).

    Examples
    --------
    >>> from sk_mr.paper.reproduce.noisy_labels import RECIPES
    >>> recipe_config(RECIPES["cifar10"])["recipe_milestones"]
    [80, 120]
    """
    return {f"recipe_{k}": (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(recipe).items()}


def grid_config(args, data, recipe, **settings):
    """The configuration a grid's results file records and checks on a rerun.

    Parameters
    ----------
    args : argparse.Namespace
      The command's arguments (``dataset``, ``device``, ``amp``,
      ``num_workers``).
    data : ExperimentData
    recipe : dataclass
      Recorded field by field (:func:`recipe_config`).
    **settings
      The command's own settings that change its numbers.

    Returns
    -------
    config : dict
      ``dataset``, the settings, ``n_train``, ``n_test``, the recipe and
      :func:`environment_config`.
    """
    return dict(dataset=args.dataset, **settings, n_train=len(data.y_train),
                n_test=data.n_test, **recipe_config(recipe),
                **environment_config(args.device, args.amp, args.num_workers,
                                     data.module_kwargs.get("weights_path")))


def load_grid_data(args, arch, pretrained=None):
    """Check the model name, then load the data of ``args.dataset`` for it.

    The model name is checked first, so an unknown ``--arch`` is reported
    before a data set loads.

    Returns
    -------
    data : ExperimentData
    """
    from sk_mr.paper.models import make_model_class
    from sk_mr.paper.reproduce.data import load_experiment_data

    make_model_class(arch)
    return load_experiment_data(args.dataset, root=args.root, download=args.download,
                                pretrained=pretrained, limit_train=args.limit_train,
                                limit_test=args.limit_test, arch=arch)


def net_options(data, args):
    """Options every net of a grid gets: DataLoader workers, pinned memory, amp."""
    options = data.iterator_kwargs(args.num_workers, args.device)
    if args.amp:
        options["amp"] = True
    return options


def table_order(methods, table_methods):
    """The methods in the paper's table order, then the others as given.

    Examples
    --------
    >>> table_order(["mr", "gce", "base"], ("base", "random", "mr"))
    ['base', 'mr', 'gce']
    """
    return [m for m in table_methods if m in methods] + [
        m for m in methods if m not in table_methods]


def fit_cell(net, data, y, seed):
    """Fit ``net`` on ``data``'s training set with labels ``y``, torch seeded.

    ``torch.manual_seed(seed)`` fixes the initialization and the batch
    order (sk_mr's own randomness is seeded by the net's ``random_state``).

    Returns
    -------
    seconds : float
      The time ``fit`` took.
    """
    torch.manual_seed(seed)
    X_fit, y_fit = data.training_set(y)
    start = time.perf_counter()
    net.fit(X_fit, y_fit)
    return time.perf_counter() - start


@contextlib.contextmanager
def cluster_backend(scheduler=None):
    """Run joblib's work on a Dask cluster for the duration (None: no change).

    Parameters
    ----------
    scheduler : str or None
      The address of the cluster's scheduler (``tcp://host:8786``).
    """
    if scheduler is None:
        yield
        return
    import joblib
    from dask.distributed import Client
    client = Client(scheduler)
    try:
        with joblib.parallel_backend("dask"):
            yield
    finally:
        client.close()


def _in_worker(train_cell, cell):
    # small CPU models train faster with one thread each than with contending ones
    torch.set_num_threads(1)
    return train_cell(**cell)


def run_cells(train_cell, cells, n_jobs=1):
    """Yield ``train_cell(**cell)`` for each cell as it finishes.

    With ``n_jobs != 1`` the cells run in joblib workers (processes, or a
    Dask cluster's workers inside :func:`cluster_backend`; ``-1``: all of
    them) with one torch thread each; results then arrive in completion
    order, and the caller saves each as it comes, so an interrupted grid
    resumes. ``train_cell`` must then be picklable (a module-level function
    or a :func:`functools.partial` of one).
    """
    if n_jobs == 1:
        return (train_cell(**cell) for cell in cells)
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(_in_worker)(train_cell, cell) for cell in cells)


def run_grid(train_cell, cells, store, *, describe, n_jobs=1, log=sys.stderr):
    """Train every cell of a grid that ``store`` lacks; save each as it finishes.

    The one grid runner of both ``reproduce`` commands.

    Parameters
    ----------
    train_cell : callable
      ``train_cell(**cell)`` trains one cell and returns its record (a dict)
      or records (a list of dicts, e.g. one per attack).
    cells : list of dict
      Each cell's keys (``store.cell_keys``), in the order to run them.
    store : ResultStore
      Cells it holds are skipped; new ones are added (and saved) as they
      finish.
    describe : callable
      ``describe(records)``: the progress line of a finished cell.
    n_jobs : int (default=1)
      Cells at once (see :func:`run_cells`).
    log : file-like or None (default=sys.stderr)
      Progress; None is silent.

    Returns
    -------
    records : list of dict
      All the store's records, the earlier and the new.

    Examples
    --------
    >>> from sk_mr.paper.reproduce.results import ResultStore
    >>> store = ResultStore(None, {}, ("seed",))
    >>> records = run_grid(lambda seed: {"seed": seed, "twice": 2 * seed},
    ...                    [{"seed": 0}, {"seed": 1}], store,
    ...                    describe=lambda r: f"seed {r['seed']}", log=None)
    >>> [r["twice"] for r in records]
    [0, 2]
    """
    pending = [cell for cell in cells if not store.has(**cell)]
    if log is not None and len(pending) < len(cells):
        print(f"{len(cells) - len(pending)} of {len(cells)} cells are in the results "
              "file already; skipping them", file=log, flush=True)
    for done, records in enumerate(run_cells(train_cell, pending, n_jobs), start=1):
        store.add(records)
        if log is not None:
            print(f"[{done}/{len(pending)}] {describe(records)}", file=log, flush=True)
    return store.records
