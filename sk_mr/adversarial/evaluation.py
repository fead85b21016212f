"""Robust accuracy of a fitted net under l-inf attacks, built on torchattacks.

:func:`robustness_report` evaluates a net on clean inputs and under PGD,
FGSM and (optionally) AutoAttack at several ``eps``;
:func:`format_robustness_table` prints records in the layout of the paper's
Table 4; :func:`make_robust_scorer` turns one attack into a scorer for
``GridSearchCV``.

Inputs must lie in ``[0, 1]`` with any normalization inside the model (e.g.
:class:`sk_mr.models.Normalize` as its first layer): torchattacks clips the
perturbed inputs to ``[0, 1]``, and ``eps`` is measured in input units.
"""

import contextlib
import numbers
from collections.abc import Mapping

import numpy as np
import torch
import torchattacks

from sk_mr._stats import mean_std
from sk_mr.adversarial.base import check_unit_interval
from sk_mr.validation import (check_fit_inputs, check_int, check_option, check_real,
                              encode_labels, warn_ignored)

__all__ = ["ATTACKS", "RobustScorer", "format_robustness_table", "make_robust_scorer",
           "robustness_report"]

#: Attack names accepted by :func:`robustness_report`.
ATTACKS = ("pgd", "fgsm", "autoattack")
_LABELS = {"none": "Natural", "pgd": "PGD", "fgsm": "FGSM", "autoattack": "AutoAttack"}


class _Logits(torch.nn.Module):
    """The net's module as torchattacks sees it: inputs in [0, 1] -> logits.

    Goes through ``net.infer`` (device, autocast), with ``fit_params``
    passed to the module's forward; a module returning a tuple contributes
    its first element. Built in eval mode (which it sets on the module), so
    that torchattacks restores eval mode after each attack unless told to
    attack in train mode (see :class:`sk_mr.adversarial.AttackTraining`).
    """

    def __init__(self, net, **fit_params):
        super().__init__()
        self.module = net.module_
        self.net = net
        self.fit_params = fit_params
        self.eval()

    def forward(self, x):
        y_pred = self.net.infer(x, **self.fit_params)
        return y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred


@contextlib.contextmanager
def _seeded_rng(device, seed):
    """Seed the default generators of the CPU and ``device`` inside a fork.

    torchattacks draws its random starts from the global generators; the fork
    restores them afterwards, so no caller-visible RNG state changes.
    """
    device = torch.device(device)
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            torch.cuda.default_generators[cuda[0]].manual_seed(seed)
        yield


def _batch_seed(base_seed, restart, batch_index):
    return int(np.random.default_rng([base_seed, restart, batch_index]).integers(2 ** 62))


def _check_net(net):
    if not hasattr(net, "infer") or not hasattr(net, "check_is_fitted"):
        raise TypeError(
            "Robustness is evaluated on a fitted skorch net (e.g. sk_mr.MRClassifier) "
            f"whose module returns logits, got {type(net).__name__}. Attacking a "
            "Pipeline would perturb its transformed features; put the preprocessing "
            "inside the module instead (e.g. sk_mr.models.Normalize).")
    net.check_is_fitted()


def _as_inputs(X, y, net=None):
    if isinstance(X, Mapping) or not (isinstance(X, (np.ndarray, torch.Tensor))
                                      or hasattr(X, "__array__")):
        raise TypeError(
            "robustness_report attacks one input array; X must be a numpy array or a "
            f"torch tensor, got {type(X).__name__}.")
    check_fit_inputs(X, y)
    X = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.asarray(X))
    check_unit_interval(X)
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    label_classes = getattr(net, "label_classes_", None)
    if label_classes is not None:  # the net maps labels to its outputs
        y = encode_labels(y, label_classes)
    return X, torch.as_tensor(y).to(torch.int64)


#: The defaults of the options only PGD reads (robustness_report's signature).
_PGD_DEFAULTS = {"steps": 20, "step_size": None, "restarts": 1}


def _check_options(attacks, eps, steps, step_size, restarts, batch_size, stacklevel=4):
    """Validate the attack options; warn for PGD options set without PGD.

    ``stacklevel`` points the warning at the user's call (4: the caller of
    the function that calls this one).
    """
    name = "attacks" if isinstance(attacks, str) else "each of attacks"
    attacks = (attacks,) if isinstance(attacks, str) else tuple(attacks)
    for attack in attacks:
        check_option(name, attack, ATTACKS)
    eps = (eps,) if isinstance(eps, numbers.Real) else tuple(eps)
    for value in eps:
        check_real("eps", value, low=0.0, high=1.0)
    check_int("steps", steps, low=1)
    check_real("step_size", step_size, low=0.0, low_open=True,
               none_means="2.5 * eps / steps")
    check_int("restarts", restarts, low=1)
    check_int("batch_size", batch_size, low=1)
    if "pgd" not in attacks:
        given = {"steps": steps, "step_size": step_size, "restarts": restarts}
        for option, value in given.items():
            if value != _PGD_DEFAULTS[option]:
                warn_ignored(option, value, f"only PGD reads it, and attacks={attacks!r} "
                             "has no 'pgd'", "Leave it at its default, or add 'pgd' to "
                             "attacks.", stacklevel=stacklevel)
    return attacks, eps


def _make_attack(name, model, eps, steps, step_size, n_classes, seed, device):
    if name == "fgsm":
        attack = torchattacks.FGSM(model, eps=eps)
    elif name == "pgd":
        alpha = 2.5 * eps / steps if step_size is None else step_size
        attack = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps,
                                  random_start=True)
    else:
        attack = torchattacks.AutoAttack(model, norm="Linf", eps=eps, version="standard",
                                         n_classes=n_classes, seed=seed)
    # torchattacks reads the device off the parameters when it is built (and
    # finds none for a parameter-free module): set the net's explicitly.
    attack.set_device(device)
    return attack


def _evaluate(net, X, y, specs, *, steps, step_size, restarts, batch_size, random_state):
    """Return ``[(attack, eps, n_correct, n)]`` for ``specs = [(attack, eps)]``."""
    device = torch.device(net.device or "cpu")
    base_seed = int(np.random.default_rng(random_state).integers(2 ** 62))
    was_training = net.module_.training
    model = _Logits(net)
    n = len(X)
    dtype = next((p.dtype for p in net.module_.parameters() if p.is_floating_point()),
                 None)
    if dtype is not None and X.is_floating_point():
        X = X.to(dtype)

    def batches():  # moved to the device one at a time
        for i in range(0, n, batch_size):
            yield X[i:i + batch_size].to(device), y[i:i + batch_size].to(device)

    try:
        net.module_.eval()
        with torch.no_grad():
            n_classes = model(X[:1].to(device)).shape[1]
        if int(y.max()) >= n_classes:
            raise ValueError(
                f"y holds class index {int(y.max())}, but the module returns "
                f"{n_classes} logits; y must hold class indices 0..{n_classes - 1}.")
        if n_classes < 4 and any(name == "autoattack" for name, _ in specs):
            raise ValueError(
                f"attacks='autoattack' needs a model with at least 4 classes (its "
                f"APGD-T and FAB-T attacks target the runner-up classes with the DLR "
                f"loss), but the module returns {n_classes} logits. Use "
                "attacks=('pgd', 'fgsm') with restarts instead.")
        results = []
        for name, eps in specs:
            if name == "none":
                correct = torch.zeros((), dtype=torch.int64, device=device)
                with torch.no_grad():
                    for Xb, yb in batches():
                        correct += (model(Xb).argmax(1) == yb).sum()
                results.append((name, eps, correct, n))
                continue
            # FGSM is deterministic and AutoAttack restarts internally.
            n_restarts = restarts if name == "pgd" else 1
            correct = torch.zeros((), dtype=torch.int64, device=device)
            attack = None
            for b, (Xb, yb) in enumerate(batches()):
                robust = torch.ones_like(yb, dtype=torch.bool)
                for r in range(n_restarts):
                    seed = _batch_seed(base_seed, r, b)
                    if attack is None or name == "autoattack":
                        attack = _make_attack(name, model, eps, steps, step_size,
                                              n_classes, seed, device)
                    with _seeded_rng(device, seed):
                        X_adv = attack(Xb, yb)
                    with torch.no_grad():
                        robust &= model(X_adv).argmax(1) == yb
                correct += robust.sum()
            results.append((name, eps, correct, n))
    finally:
        net.module_.train(was_training)
    return [(name, eps, int(correct), count) for name, eps, correct, count in results]


def robustness_report(net, X, y, *, attacks=("pgd", "fgsm"), eps=(0.01, 0.02, 8 / 255),
                      steps=20, step_size=None, restarts=1, batch_size=256,
                      random_state=None):
    """Accuracy of a fitted net on clean inputs and under l-inf attacks.

    The attacks come from torchattacks and run on the net's module in eval
    mode, on the net's device (CUDA when the net is there): ``'pgd'``
    (Madry et al., random start), ``'fgsm'`` (Goodfellow et al.) and
    ``'autoattack'`` (Croce & Hein's standard ensemble: APGD-CE, APGD-T,
    FAB-T, Square; stronger and much slower). The paper's Table 4 reports
    PGD and FGSM at ``eps`` in ``{0.01, 0.02, 8/255}``.

    An example counts as robust under PGD with ``restarts > 1`` only if
    every restart leaves it correctly classified.

    Parameters
    ----------
    net : skorch net
      A fitted net (e.g. :class:`sk_mr.MRClassifier`) whose module returns
      logits and takes inputs in ``[0, 1]``.

    X : numpy.ndarray or torch.Tensor
      Inputs in ``[0, 1]`` (normalization belongs inside the model, e.g.
      :class:`sk_mr.models.Normalize`).

    y : array-like of int
      Class indices.

    attacks : str or sequence of {'pgd', 'fgsm', 'autoattack'} (default=('pgd', 'fgsm'))

    eps : float or sequence of float (default=(0.01, 0.02, 8/255))
      l-inf radii, in input units.

    steps : int (default=20)
      PGD steps.

    step_size : float or None (default=None)
      PGD step size; None uses ``2.5 * eps / steps`` (Madry et al.'s rule).

    restarts : int (default=1)
      PGD random restarts (FGSM is deterministic; AutoAttack has its own).

    batch_size : int (default=256)

    random_state : int, numpy.random.Generator or None (default=None)
      Seeds the random starts. torchattacks draws them from the global
      generators, so each batch runs inside :func:`torch.random.fork_rng`
      seeded from this: the caller's RNG state is left unchanged.

    Returns
    -------
    records : list of dict
      One per (attack, eps), the clean accuracy first as
      ``{'attack': 'none', 'eps': 0.0, ...}``; keys ``attack``, ``eps``,
      ``accuracy`` (fraction in [0, 1]) and ``n`` (number of examples).

    Raises
    ------
    ValueError
      If ``X`` has values outside ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.models import SmallCNN
    >>> from sk_mr.adversarial import robustness_report, format_robustness_table
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    >>> net = MRClassifier(SmallCNN, module__in_channels=1, module__n_classes=10,
    ...                    max_epochs=3, lr=0.05, train_split=None, random_state=0,
    ...                    verbose=0).fit(X[:1500], y[:1500])
    >>> records = robustness_report(net, X[1500:], y[1500:], eps=(0.1,), steps=5,
    ...                             random_state=0)
    >>> [(r['attack'], r['eps']) for r in records]
    [('none', 0.0), ('pgd', 0.1), ('fgsm', 0.1)]
    >>> print(format_robustness_table({'MR': records}))  # doctest: +ELLIPSIS
    Method  Natural    PGD   FGSM
    eps           0    0.1    0.1
    MR          ...
    """
    _check_net(net)
    attacks, eps = _check_options(attacks, eps, steps, step_size, restarts, batch_size)
    X, y = _as_inputs(X, y, net)
    specs = [("none", 0.0)] + [(name, float(e)) for name in attacks for e in eps]
    results = _evaluate(net, X, y, specs, steps=steps, step_size=step_size,
                        restarts=restarts, batch_size=batch_size,
                        random_state=random_state)
    return [{"attack": name, "eps": e, "accuracy": correct / n, "n": n}
            for name, e, correct, n in results]


def _format_eps(eps):
    k = eps * 255
    if eps > 0 and abs(k - round(k)) < 1e-6 and abs(eps * 100 - round(eps * 100)) > 1e-6:
        return f"{round(k)}/255"
    return f"{eps:g}"


def format_robustness_table(results, *, digits=2, title=None):
    """Format robustness records as the paper's Table 4 (accuracies in %).

    Methods are rows; the columns are the clean accuracy ("Natural") and
    each attack at each eps, grouped by attack in the order they appear and
    by increasing eps within an attack. Records that repeat an (attack, eps)
    for one method (e.g. several seeds concatenated) are shown as
    ``mean ± std`` (sample standard deviation); missing cells as ``-``.

    Parameters
    ----------
    results : list of dict or dict of str to list of dict
      Records of :func:`robustness_report`, or ``{method: records}``.

    digits : int (default=2)
      Decimals of the percentages.

    title : str or None (default=None)
      A line printed above the table.

    Returns
    -------
    table : str

    Examples
    --------
    >>> from sk_mr.adversarial import format_robustness_table
    >>> records = [{'attack': 'none', 'eps': 0.0, 'accuracy': 0.9, 'n': 10},
    ...            {'attack': 'pgd', 'eps': 8 / 255, 'accuracy': 0.4, 'n': 10}]
    >>> print(format_robustness_table({'Adv.': records}))
    Method  Natural    PGD
    eps           0  8/255
    Adv.      90.00  40.00
    """
    rows = dict(results) if isinstance(results, Mapping) else {"model": list(results)}
    attack_order, eps_by_attack, cells = [], {}, {}
    for method, records in rows.items():
        for record in records:
            attack, eps = record["attack"], float(record["eps"])
            if attack not in eps_by_attack:
                attack_order.append(attack)
                eps_by_attack[attack] = set()
            eps_by_attack[attack].add(eps)
            cells.setdefault((method, attack, eps), []).append(100.0 * record["accuracy"])
    attack_order.sort(key=lambda a: a != "none")  # Natural first, others as met
    columns = [(a, e) for a in attack_order for e in sorted(eps_by_attack[a])]

    def cell(method, column):
        values = cells.get((method,) + column)
        if not values:
            return "-"
        if len(values) == 1:
            return f"{values[0]:.{digits}f}"
        mean, std = mean_std(values)
        return f"{mean:.{digits}f} ± {std:.{digits}f}"

    table = [["Method"] + [_LABELS.get(a, a) for a, _ in columns],
             ["eps"] + [_format_eps(e) for _, e in columns]]
    table += [[str(method)] + [cell(method, c) for c in columns] for method in rows]
    widths = [max(len(line[j]) for line in table) for j in range(len(table[0]))]
    lines = ["  ".join([line[0].ljust(widths[0])]
                       + [v.rjust(w) for v, w in zip(line[1:], widths[1:])])
             for line in table]
    if title:
        lines.insert(0, title)
    return "\n".join(lines)


class RobustScorer:
    """Robust accuracy under one attack, as a scikit-learn scorer.

    Made by :func:`make_robust_scorer`; ``scorer(estimator, X, y)`` returns
    the accuracy of the fitted net on ``X`` attacked by ``attack`` at
    ``eps`` (higher is better).

    Parameters
    ----------
    attack : {'pgd', 'fgsm', 'autoattack'}
    eps : float
    **attack_kwargs
      ``steps``, ``step_size``, ``restarts``, ``batch_size``,
      ``random_state`` of :func:`robustness_report`.
    """

    _options = ("steps", "step_size", "restarts", "batch_size", "random_state")

    def __init__(self, attack="pgd", eps=8 / 255, **attack_kwargs):
        unknown = sorted(set(attack_kwargs) - set(self._options))
        if unknown:
            raise TypeError(
                f"make_robust_scorer got unexpected argument(s) {unknown}; the attack "
                f"options are {list(self._options)}.")
        check_option("attack", attack, ATTACKS)  # one name, not a sequence
        options = {**_PGD_DEFAULTS, "batch_size": 256}
        options.update(attack_kwargs)
        # warns at the user's make_robust_scorer call, once
        _check_options((attack,), (eps,), options["steps"], options["step_size"],
                       options["restarts"], options["batch_size"], stacklevel=5)
        self.attack = attack
        self.eps = eps
        self.attack_kwargs = attack_kwargs

    def __call__(self, estimator, X, y):
        kwargs = self.attack_kwargs
        if self.attack != "pgd":  # PGD's options were warned about once, in __init__
            kwargs = {k: v for k, v in kwargs.items() if k not in _PGD_DEFAULTS}
        records = robustness_report(estimator, X, y, attacks=(self.attack,),
                                    eps=(self.eps,), **kwargs)
        return records[-1]["accuracy"]

    def __repr__(self):
        options = "".join(f", {k}={v!r}" for k, v in self.attack_kwargs.items())
        return f"make_robust_scorer(attack={self.attack!r}, eps={self.eps!r}{options})"


def make_robust_scorer(attack="pgd", eps=8 / 255, **attack_kwargs):
    """Return a scorer ``scorer(estimator, X, y) -> robust accuracy``.

    For ``GridSearchCV(net, ..., scoring=make_robust_scorer(...))`` or
    ``cross_val_score``: each fitted net is scored by its accuracy on the
    held-out fold under ``attack`` at ``eps`` (see :func:`robustness_report`).

    Parameters
    ----------
    attack : {'pgd', 'fgsm', 'autoattack'} (default='pgd')

    eps : float (default=8/255)
      l-inf radius, in input units.

    **attack_kwargs
      ``steps``, ``step_size``, ``restarts``, ``batch_size`` and
      ``random_state`` of :func:`robustness_report`.

    Returns
    -------
    scorer : RobustScorer

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sk_mr import MRClassifier
    >>> from sk_mr.models import SmallCNN
    >>> from sk_mr.adversarial import make_robust_scorer
    >>> X, y = load_digits(return_X_y=True)
    >>> X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
    >>> net = MRClassifier(SmallCNN, module__in_channels=1, module__n_classes=10,
    ...                    max_epochs=2, lr=0.05, train_split=None, random_state=0,
    ...                    verbose=0)
    >>> scorer = make_robust_scorer('pgd', eps=0.1, steps=5, random_state=0)
    >>> search = GridSearchCV(net, {'eta': [0.0, 0.1]}, scoring=scorer, cv=2)
    >>> search.fit(X[:600], y[:600]).best_params_['eta'] in (0.0, 0.1)
    True
    """
    return RobustScorer(attack, eps, **attack_kwargs)
