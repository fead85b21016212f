"""What the reproduction grids share: estimator options and the cell runner."""

import torch

__all__ = ["base_estimator_params", "run_cells"]


def base_estimator_params(parts, recipe, *, n_classes, seed, epochs, device="cpu",
                          module_kwargs=None, iterator_kwargs=None, verbose=0):
    """MRClassifier parameters every grid builds the same way.

    The module and its arguments, the optimizer (SGD with momentum or Adam,
    with weight decay), MR's eta when ``'mr'`` is in ``parts`` (0 otherwise:
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
    from sk_mr.models import make_model_class

    adam = recipe.optimizer == "adam"
    params = dict(module=make_model_class(recipe.arch), module__n_classes=n_classes,
                  max_epochs=epochs, batch_size=recipe.batch_size, device=device,
                  random_state=seed, verbose=verbose, callbacks=[])
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


def run_cells(run_cell, cells, n_jobs=1):
    """Yield ``run_cell(*cell, threads)`` for each cell as it finishes.

    With ``n_jobs > 1`` the cells run in joblib worker processes with one
    torch thread each (small CPU models train faster so than with contending
    threads); results then arrive in completion order.
    """
    if n_jobs == 1:
        return (run_cell(*cell, None) for cell in cells)
    from joblib import Parallel, delayed
    return Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(run_cell)(*cell, 1) for cell in cells)
