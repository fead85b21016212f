"""``python -m sk_mr reproduce {noisy-labels,adversarial} ...``."""

import argparse
import contextlib
import math
import sys
import time

__all__ = ["add_reproduce_parser", "usage_errors"]


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


def _noisy_labels(args):
    from sk_mr.reproduce.common import environment_config
    from sk_mr.models import make_model_class
    from sk_mr.reproduce.data import load_experiment_data
    from sk_mr.reproduce.noisy_labels import (TABLE1_METHODS, format_table, parse_methods,
                                              recipe_config, recipe_for, run_noisy_labels)
    from sk_mr.reproduce.results import ResultStore

    with usage_errors(args):  # bad settings: a usage error, before any training
        methods = parse_methods(args.methods)
        if args.noise_rates is None:
            args.noise_rates = [0.0] if args.dataset == "clothing1m" else [0.0, 0.2, 0.4]
        recipe = recipe_for(args.dataset, arch=args.arch, epochs=args.epochs,
                            batch_size=args.batch_size, optimizer=args.optimizer,
                            eta=args.eta, **({"lr": args.lr, "adam_lr": args.lr}
                                             if args.lr is not None else {}))
        make_model_class(recipe.arch)  # an unknown --arch, before the data loads
        data = load_experiment_data(args.dataset, root=args.root, download=args.download,
                                    pretrained=args.pretrained,
                                    limit_train=args.limit_train,
                                    limit_test=args.limit_test, arch=recipe.arch)
        config = dict(dataset=args.dataset, epochs=recipe.epochs, noise_kind="uniform",
                      n_train=len(data.y_train), n_test=data.n_test,
                      **recipe_config(recipe),
                      **environment_config(args.device, args.amp, args.num_workers,
                                           data.module_kwargs.get("weights_path")))
        store = ResultStore(args.out, config, ("method", "noise_rate", "seed"),
                            result_keys=("test_accuracy",))
    report_incomplete(store)
    # DataLoader options (workers, pinned memory) and amp go to every net.
    net_kwargs = data.iterator_kwargs(args.num_workers, args.device)
    if args.amp:
        net_kwargs["amp"] = True
    print(f"reproduce noisy-labels: {args.dataset}, {recipe.arch}, {recipe.optimizer}, "
          f"{recipe.epochs} epochs, methods {methods}, noise {args.noise_rates}, "
          f"{args.seeds} seeds, device {args.device} -> {args.out}",
          file=sys.stderr, flush=True)
    start = time.perf_counter()
    records = run_noisy_labels(data, methods, args.noise_rates, list(range(args.seeds)),
                               recipe, device=args.device, store=store,
                               iterator_kwargs=net_kwargs, n_jobs=args.jobs,
                               log=sys.stderr)
    wanted = [r for r in records if r["method"] in methods
              and r["noise_rate"] in args.noise_rates and r["seed"] < args.seeds]
    order = [m for m in TABLE1_METHODS if m in methods] + [
        m for m in methods if m not in TABLE1_METHODS]
    print()
    print(format_table(wanted, order, title=(
        f"{args.dataset}: clean test accuracy (%) at the last epoch")))
    print()
    print(format_table(wanted, order, value="best_test_accuracy", title=(
        "oracle: best epoch chosen on the clean test set (not a valid model-"
        "selection method; shown for comparison with papers that report it)")))
    print(f"\n{len(wanted)} cells, {time.perf_counter() - start:.0f}s; records in {args.out}")
    return 0 if wanted else 1


def report_incomplete(store):
    """Say on stderr which records of the results file are incomplete (rerun)."""
    if store.incomplete:
        print(f"{len(store.incomplete)} record(s) in {store.path} lack "
              f"{' or '.join(store.result_keys) or 'their cell keys'}: their cells "
              "are not done and run again", file=sys.stderr, flush=True)


def _adversarial(args):
    from sk_mr.reproduce.adversarial import main_adversarial
    return main_adversarial(args)


def _on_cluster(run):
    """Run a subcommand's cells on the Dask cluster of ``--scheduler``, if any."""
    def run_on_cluster(args):
        from sk_mr.reproduce.common import cluster_backend
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
    from sk_mr.reproduce.noisy_labels import DATASETS, TABLE1_METHODS

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
