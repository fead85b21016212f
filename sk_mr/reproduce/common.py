"""What the reproduction grids share: estimator options, run settings, the cell runner."""

import contextlib
import hashlib

import torch

__all__ = ["base_estimator_params", "environment_config", "run_cells"]


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
    the optimizer (SGD with momentum or Adam, with weight decay), MR's eta when ``'mr'`` is in ``parts`` (0 otherwise:
    plain training), mixup's alpha for ``'mixup'`` and the random-weighting
    callback for ``'random'``. Grids add their own schedulers, strategies and
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
    from sk_mr.models import make_model_class

    adam = recipe.optimizer == "adam"
    # the paper's experiments: Algorithm 1 exactly (the full loss pass, on
    # cross-entropy, named: MRClassifier's default criterion is not the paper's)
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


def run_cells(run_cell, cells, n_jobs=1):
    """Yield ``run_cell(*cell, threads)`` for each cell as it finishes.

    With ``n_jobs != 1`` the cells run in joblib workers (processes, or a
    Dask cluster's workers inside :func:`cluster_backend`; ``-1``: all of
    them) with one torch thread each (small CPU models train faster so than
    with contending threads); results then arrive in completion order, and
    the caller saves each as it comes, so an interrupted grid resumes.
    """
    if n_jobs == 1:
        return (run_cell(*cell, None) for cell in cells)
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_cell)(*cell, 1) for cell in cells)
