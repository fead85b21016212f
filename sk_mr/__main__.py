"""Command line: ``python -m sk_mr demo`` and ``python -m sk_mr reproduce ...``."""

import argparse
import os
import sys
import time

from sk_mr.paper.reproduce.cli import (_jobs, _noise_rate, _non_negative_float,
                                       _positive_int, add_reproduce_parser)


def _demo(args):
    from sk_mr.paper.demo import format_demo_table, run_demo

    print(f"sk_mr demo: digits, 'uniform' label noise {args.noise_rates} on the "
          f"training split, {args.seeds} seeds, {args.epochs} epochs, eta={args.eta}",
          file=sys.stderr, flush=True)
    start = time.perf_counter()
    records = run_demo(noise_rates=args.noise_rates, n_seeds=args.seeds,
                       epochs=args.epochs, eta=args.eta, n_jobs=args.jobs,
                       log=sys.stderr)
    if not records:
        print("sk-mr demo: nothing was computed", file=sys.stderr)
        return 1
    print()
    print(format_demo_table(records))
    print(f"\n(clean test accuracy, mean +- std over seeds; noisy weight = MR "
          f"weight on the noisy training examples; {time.perf_counter() - start:.0f}s "
          "in total)")
    return 0


def build_parser():
    """Return the argument parser of the ``sk-mr`` command."""
    parser = argparse.ArgumentParser(
        prog="sk-mr", description="Multiplicative Reweighting (MR) for robust training.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="plain vs random weighting vs MR on noisy digits")
    demo.add_argument("--noise-rates", type=_noise_rate, nargs="+", default=[0.0, 0.4])
    demo.add_argument("--seeds", type=_positive_int, default=3)
    demo.add_argument("--epochs", type=_positive_int, default=100)
    demo.add_argument("--eta", type=_non_negative_float, default=0.01)
    demo.add_argument("--jobs", type=_jobs, default=min(2, os.cpu_count() or 1),
                      help="parallel fits (processes with one torch thread each; "
                           "-1: one per core)")
    demo.set_defaults(func=_demo, _parser=demo)
    add_reproduce_parser(sub)
    return parser


def main(argv=None):
    """Entry point of ``python -m sk_mr`` and the ``sk-mr`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
