"""How MR's costs grow with the number of examples, and its memory.

For N tiny examples (20 features, 10 classes, a linear model, batches of
1024), each size in a fresh process, this measures

* ``mw update``: one MW step on N cumulative losses (add the epoch's
  losses, ``softmax(-eta L)`` in float64, the float32 batch weights);
* ``loss pass``: Algorithm 1's pass over the N examples (``example_losses``);
* ``lookup``: gathering the weights of one batch of 1024 (the per-batch cost);
* ``epoch``: one training epoch of plain skorch, MR with the full loss pass
  and MR online;
* ``state``: MR's per-example state (``state_nbytes``), and the peak resident
  memory of the MR fit above the process's baseline.

Times should grow linearly in N (constant per example), the lookup not at
all. ``--lazy`` also trains one MR epoch on memory-mapped files of 10^6
examples of 20 and of 320 features (``--lazy-features``) and reports the
anonymous memory (what was really allocated, not the file's pages the kernel
caches): the same for both widths, so the data stay on disk and only O(N)
scalars (labels, losses, MR's state) are held.

Run ``python benchmarks/scale.py`` (``--sizes 10000 100000 1000000``,
``--repeats``, ``--lazy``); on a quiet machine only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

N_FEATURES, N_CLASSES, BATCH = 20, 10, 1024


def rss_mb():
    """Current (anonymous, file-backed) resident memory in MB, from /proc."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024
    return fields


def make_net(loss_pass="full", eta=0.01, mr=True, max_epochs=1, n_features=N_FEATURES):
    from skorch import NeuralNetClassifier
    from sk_mr import MRClassifier
    params = dict(module=torch.nn.Linear, module__in_features=n_features,
                  module__out_features=N_CLASSES, criterion=torch.nn.CrossEntropyLoss,
                  batch_size=BATCH, max_epochs=max_epochs, train_split=None, verbose=0)
    if not mr:
        return NeuralNetClassifier(**params)
    return MRClassifier(eta=eta, loss_pass=loss_pass, **params)


def measure(n, repeats):
    """All measurements for one size, in this process."""
    from sk_mr.mw import mw_probabilities
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    y = rng.integers(0, N_CLASSES, size=n)
    torch.manual_seed(0)
    warm_up()
    base = rss_mb()

    out = {"n": n}
    times = {"plain": [], "mr_full": [], "mr_online": []}
    for _ in range(repeats):  # interleaved
        for name, kwargs in (("plain", dict(mr=False)), ("mr_full", {}),
                             ("mr_online", dict(loss_pass="online"))):
            net = make_net(**kwargs)
            start = time.perf_counter()
            net.fit(X, y)
            times[name].append(time.perf_counter() - start)
            if name == "mr_full":
                fitted = net
    out.update({f"epoch_{k}_s": statistics.median(v) for k, v in times.items()})
    # raw_s: every repeat's time, the numbers each median above comes from
    out["raw_s"] = {f"epoch_{k}": v for k, v in times.items()}
    peak = rss_mb()
    out["peak_rss_above_base_mb"] = peak["VmHWM"] - base["VmHWM"]
    mr = fitted.mr_
    out["state_bytes_per_example"] = mr.state_nbytes() / n

    dataset = fitted.get_dataset(X, y)
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        losses = fitted.example_losses(dataset)
        timings.append(time.perf_counter() - start)
    out["loss_pass_s"] = statistics.median(timings)
    out["raw_s"]["loss_pass"] = timings

    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        cumulative = mr.cumulative_losses_ + losses
        p = mw_probabilities(cumulative, 0.01)
        weights = (p * n).to(torch.float32)
        timings.append(time.perf_counter() - start)
    out["mw_update_s"] = statistics.median(timings)
    out["raw_s"]["mw_update"] = timings
    assert weights.shape == (n,)

    positions = torch.from_numpy(rng.integers(0, n, size=BATCH))
    calls = 2000
    start = time.perf_counter()
    for _ in range(calls):
        mr.batch_weights(positions)
    out["lookup_us"] = (time.perf_counter() - start) / calls * 1e6
    return out


def warm_up():
    """A tiny fit first: thread pools and allocator arenas are not MR's cost."""
    X = np.zeros((2 * BATCH, N_FEATURES), np.float32)
    y = np.arange(2 * BATCH) % N_CLASSES
    for kwargs in (dict(mr=False), {}, dict(loss_pass="online")):
        make_net(**kwargs).fit(X, y)


def lazy_epoch(n, directory, n_features=N_FEATURES):
    """One MR epoch on a memory-mapped file of n examples of n_features."""
    path = os.path.join(directory, "X.f32")
    X = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, n_features))
    rng = np.random.default_rng(0)
    for start in range(0, n, 100_000):  # written in chunks: never all in memory
        stop = min(n, start + 100_000)
        X[start:stop] = rng.normal(size=(stop - start, n_features))
    X.flush()
    del X
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, n_features))
    y = np.arange(n) % N_CLASSES
    warm_up()
    base = rss_mb()
    start = time.perf_counter()
    net = make_net(n_features=n_features).fit(X, y)
    seconds = time.perf_counter() - start
    after = rss_mb()
    return {"n": n, "n_features": n_features, "data_mb": n * n_features * 4 / 2 ** 20,
            "epoch_s": seconds,
            "anon_growth_mb": after["RssAnon"] - base["RssAnon"],
            "file_pages_mb": after["RssFile"], "mr_state_mb": net.mr_.state_nbytes() / 2 ** 20}


def run_in_subprocess(args):
    cmd = [sys.executable, __file__, "--child", json.dumps(args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lazy", action="store_true")
    parser.add_argument("--lazy-size", type=int, default=1_000_000)
    parser.add_argument("--lazy-features", type=int, nargs="+", default=[20, 320],
                        help="widths of the memory-mapped data (default: 20 320)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        torch.set_num_threads(spec.get("threads", torch.get_num_threads()))
        if spec["kind"] == "lazy":
            with tempfile.TemporaryDirectory() as directory:
                print(json.dumps(lazy_epoch(spec["n"], directory, spec["n_features"])))
        else:
            print(json.dumps(measure(spec["n"], spec["repeats"])))
        return None

    rows = [run_in_subprocess({"kind": "size", "n": n, "repeats": args.repeats})
            for n in args.sizes]
    print(f"{'N':>9} {'mw update':>11} {'loss pass':>11} {'lookup':>9} "
          f"{'plain epoch':>12} {'MR full':>9} {'MR online':>10} {'state B/ex':>11} "
          f"{'peak MB':>8}")
    for r in rows:
        print(f"{r['n']:>9} {1e3 * r['mw_update_s']:>9.2f}ms {r['loss_pass_s']:>10.3f}s "
              f"{r['lookup_us']:>7.1f}us {r['epoch_plain_s']:>11.3f}s "
              f"{r['epoch_mr_full_s']:>8.3f}s {r['epoch_mr_online_s']:>9.3f}s "
              f"{r['state_bytes_per_example']:>11.1f} {r['peak_rss_above_base_mb']:>8.1f}")
    first, last = rows[0], rows[-1]
    growth = last["n"] / first["n"]
    print(f"per-example cost from N={first['n']} to N={last['n']} ({growth:g}x the data): "
          f"mw update x{last['mw_update_s'] / first['mw_update_s'] / growth:.2f}, "
          f"loss pass x{last['loss_pass_s'] / first['loss_pass_s'] / growth:.2f}, "
          f"MR epoch x{last['epoch_mr_full_s'] / first['epoch_mr_full_s'] / growth:.2f} "
          "(1.00 = linear)")
    if args.lazy:
        # The memory MR adds must not grow with the width of X: the data stay
        # on disk, and only O(N) scalars are held.
        for n_features in args.lazy_features:
            lazy = run_in_subprocess({"kind": "lazy", "n": args.lazy_size,
                                      "n_features": n_features})
            print(f"memory-mapped {lazy['n']} x {n_features} examples "
                  f"({lazy['data_mb']:.0f} MB on disk): one MR epoch in "
                  f"{lazy['epoch_s']:.1f}s, anonymous memory +{lazy['anon_growth_mb']:.0f} MB "
                  f"(MR state {lazy['mr_state_mb']:.0f} MB)")
    return rows


if __name__ == "__main__":
    main()
