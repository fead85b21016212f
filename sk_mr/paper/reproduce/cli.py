"""``python -m sk_mr reproduce {noisy-labels,adversarial} ...``."""

import argparse
import contextlib
import math
import sys
import time

__all__ = ["add_reproduce_parser", "run_grid_command", "usage_errors"]


@contextlib.contextmanager
def usage_errors(args):
    """Report a bad setting found while a command is set up as argparse does.

    A ValueError, TypeError, OSError or ImportError raised inside (an unknown
    method, a missing data folder, a results file of another configuration,
    a missing optional dependency) prints the
    subcommand's usage and ``prog: error: message`` (on one line) to stderr and
    exits with status 2, without a traceback. Training runs outside it, so
    its errors keep their traceback. Without a parser in ``args`` (a
    programmatic call) the exception propagates.
    """
    try:
        yield
    except (ValueError, TypeError, OSError, ImportError) as exc:
        parser = getattr(args, "_parser", None)
        if parser is None:
            raise
        parser.error(" ".join(str(exc).split()))


def _number(convert, text, what):
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def _noise_rate(text):
    value = _number(float, text, "a noise rate in [0, 1)")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"noise rates must lie in [0, 1), got {text}")
    return value


def _positive_int(text):
    value = _number(int, text, "an int >= 1")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text}")
    return value


def _non_negative_int(text):
    value = _number(int, text, "an int >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text}")
    return value


def _jobs(text):
    value = _number(int, text, "an int >= 1, or -1 for all cores")
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"must be an int >= 1, or -1 for all cores, got {text}")
    return value


def _non_negative_float(text):
    value = _number(float, text, "a finite float >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite float >= 0, got {text}")
    return value


def _positive_float(text):
    value = _number(float, text, "a finite float > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite float > 0, got {text}")
    return value


def _eps(text):
    value = _number(float, text, "a perturbation size in [0, 1] (input units)")
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be a perturbation size in [0, 1] (inputs lie in [0, 1]), got {text}")
    return value


def _device(text):
    import torch
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"must be a torch device such as cpu, cuda or cuda:1, got {text!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(
            f"{text!r} asks for CUDA, which this machine's torch cannot use; pass cpu")
    return text


def _add_common(parser, datasets):
    parser.add_argument("--dataset", required=True, choices=datasets)
    parser.add_argument("--root", default=None,
                        help="data folder (CIFAR, Clothing1M); embedded sets need none")
    parser.add_argument("--download", action="store_true",
                        help="let torchvision download CIFAR into --root")
    parser.add_argument("--arch", default=None, help="model (default: the dataset's recipe)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--epochs", type=_positive_int, default=None)
    parser.add_argument("--batch-size", type=_positive_int, default=None)
    parser.add_argument("--lr", type=_positive_float, default=None)
    parser.add_argument("--eta", type=_non_negative_float, default=None)
    parser.add_argument("--seeds", type=_positive_int, default=3,
                        help="number of seeds (0..K-1)")
    parser.add_argument("--device", type=_device, default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--num-workers", type=_non_negative_int, default=0,
                        help="DataLoader workers for image data")
    parser.add_argument("--amp", action="store_true",
                        help="bfloat16 autocast for forward passes (CUDA)")
    parser.add_argument("--pretrained", default=None,
                        help="file with ImageNet weights for ResNet-50 (Clothing1M)")
    parser.add_argument("--jobs", type=_positive_int, default=1,
                        help="cells trained at once in separate processes with one "
                             "torch thread each (CPU; keep 1 on a GPU)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the cells on a Dask cluster, given its scheduler's "
                             "address (tcp://host:8786); results are saved as cells "
                             "finish, so a rerun resumes")
    parser.add_argument("--out", default="results.json",
                        help="JSON results file; finished cells are skipped on rerun")
    parser.add_argument("--limit-train", type=_positive_int, default=None,
                        help="use only the first N training examples (smoke runs)")
    parser.add_argument("--limit-test", type=_positive_int, default=None,
                        help="use only the first N test examples (smoke runs)")


def run_grid_command(args, name, prepare):
    """Set up, run and report one grid: the flow of every ``reproduce`` subcommand.

    ``prepare(args)`` checks the settings, loads the data and opens the
    results file; what it raises is a usage error (:func:`usage_errors`),
    before any training. The grid then runs (training errors keep their
    traceback) and its tables are printed.

    Parameters
    ----------
    args : argparse.Namespace
    name : str
      The subcommand, for the line printed before the grid starts.
    prepare : callable
      ``prepare(args) -> GridPlan`` (:class:`sk_mr.paper.reproduce.common.GridPlan`).

    Returns
    -------
    status : int
      0, or 1 when no record of the asked cells exists.
    """
    with usage_errors(args):  # bad settings: a usage error, before any training
        plan = prepare(args)
    report_incomplete(plan.store)
    print(f"reproduce {name}: {plan.summary} -> {args.out}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    wanted, tables = plan.report(plan.run(sys.stderr))
    print()
    print(tables)
    n_cells = len({plan.store.key(r) for r in wanted})
    print(f"\n{n_cells} cells, {time.perf_counter() - start:.0f}s; records in {args.out}")
    return 0 if wanted else 1


def report_incomplete(store):
    """Say on stderr which records of the results file are incomplete (rerun)."""
    if store.incomplete:
        print(f"{len(store.incomplete)} record(s) in {store.path} lack "
              f"{' or '.join(store.result_keys) or 'their cell keys'}: their cells "
              "are not done and run again", file=sys.stderr, flush=True)


def _noisy_labels(args):
    from sk_mr.paper.reproduce.noisy_labels import prepare_noisy_labels
    return run_grid_command(args, "noisy-labels", prepare_noisy_labels)


def _adversarial(args):
    from sk_mr.paper.reproduce.adversarial import prepare_adversarial
    return run_grid_command(args, "adversarial", prepare_adversarial)


def _on_cluster(run):
    """Run a subcommand's cells on the Dask cluster of ``--scheduler``, if any."""
    def run_on_cluster(args):
        from sk_mr.paper.reproduce.common import cluster_backend
        if args.scheduler is not None:
            args.jobs = -1  # every worker of the cluster
        with contextlib.ExitStack() as stack:
            with usage_errors(args):  # no dask, or no scheduler at that address
                stack.enter_context(cluster_backend(args.scheduler))
            return run(args)
    run_on_cluster.__name__ = run.__name__
    return run_on_cluster


def add_reproduce_parser(subparsers):
    """Add ``reproduce`` and its subcommands to an argparse subparsers object."""
    from sk_mr.paper.reproduce.noisy_labels import DATASETS, TABLE1_METHODS

    reproduce = subparsers.add_parser(
        "reproduce", help="reproduce the paper's tables (noisy labels, adversarial)")
    sub = reproduce.add_subparsers(dest="experiment", required=True)

    noisy = sub.add_parser("noisy-labels", help="Tables 1, 2, 3 and 5 of the paper")
    _add_common(noisy, DATASETS)
    noisy.add_argument("--noise-rates", type=_noise_rate, nargs="+", default=None,
                       help="synthetic 'uniform' noise rates (default: 0 0.2 0.4; "
                            "0 for clothing1m, whose labels are noisy already)")
    noisy.add_argument("--methods", default=",".join(TABLE1_METHODS),
                       help="comma-separated; components base, mr, random, mixup, ls, "
                            "arazo, gce, sce joined with '+' (e.g. gce, mr+sce)")
    noisy.set_defaults(func=_on_cluster(_noisy_labels), _parser=noisy)

    adversarial = sub.add_parser("adversarial", help="Tables 4, 7 and 8 of the paper")
    _add_common(adversarial, ("digits", "cifar10", "cifar100"))
    adversarial.add_argument(
        "--methods", default="base,mr,mixup,mixup+mr,adv,adv+random,adv+mr,adv+mixup,"
                             "adv+mr+mixup,trades,trades+mr")
    adversarial.add_argument("--replays", type=_positive_int, default=None,
                             help="free adversarial training's m (default: 4, 6 on CIFAR-100)")
    adversarial.add_argument("--train-eps", type=_eps, default=None,
                             help="training perturbation size (default 8/255)")
    adversarial.add_argument("--eval-eps", type=_eps, nargs="+", default=None,
                             help="attack sizes (default 0.01 0.02 8/255)")
    adversarial.add_argument("--attacks", nargs="+", default=["pgd", "fgsm"])
    adversarial.add_argument("--pgd-steps", type=_positive_int, default=20)
    adversarial.set_defaults(func=_on_cluster(_adversarial), _parser=adversarial)
    return reproduce
