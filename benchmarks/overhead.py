"""Overhead of MR: fit time against plain skorch and a hand-written loop.

Compares, on the same module, data and epochs, in one run with interleaved
repetitions (so machine load drifts hit every variant alike) and medians:

* ``plain``: ``skorch.NeuralNetClassifier``;
* ``mr_full``: ``MRClassifier(loss_pass='full', eta=0.01)`` (Algorithm 1
  exactly);
* ``mr_online``: ``MRClassifier(loss_pass='online', eta=0.01)``;
* ``hand_full``: a hand-written PyTorch loop doing the same MR as
  ``mr_full`` (weighted batch loss + an eval-mode loss pass per epoch), with
  batches sliced directly from the tensors;
* ``plain_small_shuffled`` and ``mr_online_small_shuffled``: the per-batch
  path where it weighs most, a small, cheap CNN
  (:class:`sk_mr.models.SmallCNN` with 16 and 32 channels) with shuffled
  batches (``iterator_train__shuffle=True``, as most users train), so that
  MR's per-batch work (looking up the batch's weights, recording its
  losses) is a larger share of each step than with ``BenchCNN``.

* ``mr_auto`` and ``mr_correcting``: the cost of label correction
  (``relabel='auto'``) while it runs. ``mr_auto`` is ``eta='auto'`` without
  it (``relabel=None``; on these clean labels its weights stay uniform);
  ``mr_correcting`` the same net with the gate open from the first batch
  (:class:`AlwaysCorrecting`): every batch gets an extra eval-mode forward
  pass (the prediction), corrected targets and mixup. Its ratio is the
  price of the epochs a fit spends correcting, not of a whole default fit
  (which corrects only once its weights leave uniform and the gate opens).

The other MR variants set eta 0.01, the paper's, like the hand-written
loop, so they do not run the ``eta='auto'`` rule.

The settings are compute-bound on the CPU: CNNs on digits as 1x8x8 images.
Run ``python benchmarks/overhead.py`` (``--repeats``, ``--epochs``,
``--threads``); it prints the medians and the ratios with their targets:
mr_full <= 1.35x plain, mr_online <= 1.05x plain, mr_full <= 1.10x hand_full,
and, shuffled on the small CNN, mr_online <= 1.03x plain; mr_correcting /
mr_auto is printed without a target.
"""

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from skorch import NeuralNetClassifier

from sk_mr import MRClassifier, MultiplicativeReweighting
from sk_mr.models import SmallCNN
from sk_mr.mw import mw_probabilities


class AlwaysCorrecting(MultiplicativeReweighting):
    """MR's callback with the gate of ``relabel='auto'`` open from the start
    (for timing the corrected batches; not a method), correcting towards the
    aligned classes as the default does, from digits' uniform class
    frequencies (the one pass that reads them where the gate opens is not
    timed, as the gate's own is not)."""

    def initialize(self):
        super().initialize()
        self.relabel_ratio_, self.relabeling_ = 1.0, True
        if self.relabel_alignment is not None:
            self.label_frequencies_ = torch.full((10,), 0.1)
            self.predicted_frequencies_ = self.label_frequencies_.clone()
        return self


class BenchCNN(torch.nn.Module):
    """Conv-BN-ReLU 1->64->128 (3x3) on 8x8 images, max-pool, linear head.

    Batch normalization is there because the paper's networks (ResNets) all
    have it, and it is what makes eval-mode forward passes cheaper than
    train-mode ones.
    """

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 64, 3, padding=1, bias=False), torch.nn.BatchNorm2d(64),
            torch.nn.ReLU(),
            torch.nn.Conv2d(64, 128, 3, padding=1, bias=False), torch.nn.BatchNorm2d(128),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2))
        self.head = torch.nn.Linear(128 * 4 * 4, n_classes)

    def forward(self, X):
        return self.head(self.features(X).flatten(1))


def load_data():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32).reshape(-1, 1, 8, 8), y.astype(np.int64)


def skorch_fit(cls, X, y, epochs, seed, module=BenchCNN, **kwargs):
    torch.manual_seed(seed)
    net = cls(module, criterion=torch.nn.CrossEntropyLoss, lr=0.05,
              optimizer__momentum=0.9, batch_size=128, max_epochs=epochs,
              train_split=None, verbose=0, **kwargs)
    start = time.perf_counter()
    net.fit(X, y)
    return time.perf_counter() - start


def hand_full(X, y, epochs, seed, eta=0.01, batch_size=128, loss_pass_batch_size=256):
    """Algorithm 1 written directly in PyTorch, the reference for overhead."""
    torch.manual_seed(seed)
    module = BenchCNN()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05, momentum=0.9)
    X_t, y_t = torch.as_tensor(X), torch.as_tensor(y)
    n = len(X_t)
    cumulative = torch.zeros(n, dtype=torch.float64)
    weights = torch.ones(n)
    start = time.perf_counter()
    for _ in range(epochs):
        module.train()
        # batches sliced directly from the tensors: no per-item fetching
        order = torch.randperm(n)
        for i in range(0, n, batch_size):
            ib = order[i:i + batch_size]
            xb, yb = X_t[ib], y_t[ib]
            optimizer.zero_grad()
            losses = torch.nn.functional.cross_entropy(module(xb), yb, reduction="none")
            w = weights[ib]
            loss = (w * losses).sum() / w.sum()
            loss.backward()
            optimizer.step()
        module.eval()
        with torch.inference_mode():
            epoch_losses = torch.cat([
                torch.nn.functional.cross_entropy(
                    module(X_t[i:i + loss_pass_batch_size]),
                    y_t[i:i + loss_pass_batch_size], reduction="none")
                for i in range(0, n, loss_pass_batch_size)])
        cumulative += epoch_losses.double()
        weights = (mw_probabilities(cumulative, eta) * n).float()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = load_data()
    small_shuffled = dict(module=SmallCNN, module__channels=(16, 32),
                          iterator_train__shuffle=True)
    variants = {
        "plain": lambda s: skorch_fit(NeuralNetClassifier, X, y, args.epochs, s),
        "mr_full": lambda s: skorch_fit(MRClassifier, X, y, args.epochs, s, eta=0.01,
                                        loss_pass="full", loss_pass_batch_size=256),
        "mr_online": lambda s: skorch_fit(MRClassifier, X, y, args.epochs, s, eta=0.01,
                                          loss_pass="online"),
        "hand_full": lambda s: hand_full(X, y, args.epochs, s),
        "plain_small_shuffled": lambda s: skorch_fit(
            NeuralNetClassifier, X, y, args.epochs, s, **small_shuffled),
        "mr_online_small_shuffled": lambda s: skorch_fit(
            MRClassifier, X, y, args.epochs, s, eta=0.01, loss_pass="online",
            **small_shuffled),
        "mr_auto": lambda s: skorch_fit(MRClassifier, X, y, args.epochs, s, eta="auto",
                                        relabel=None),
        "mr_correcting": lambda s: skorch_fit(
            MRClassifier, X, y, args.epochs, s, eta="auto",
            callbacks__reweighting=AlwaysCorrecting()),
    }
    for fn in variants.values():  # warm-up: allocator, thread pools, caches
        fn(0)
    times = {name: [] for name in variants}
    for rep in range(args.repeats):
        for name, fn in variants.items():  # interleaved
            times[name].append(fn(rep))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"digits 1x8x8, BenchCNN, {args.epochs} epochs, batch 128, "
          f"{args.repeats} interleaved repeats, torch threads {torch.get_num_threads()}")
    for name, value in med.items():
        spread = max(times[name]) - min(times[name])
        print(f"  {name:<24} median {value:7.3f}s  (range {spread:.3f}s)")
    ratios = [("mr_full / plain", med["mr_full"] / med["plain"], 1.35),
              ("mr_online / plain", med["mr_online"] / med["plain"], 1.05),
              ("mr_full / hand_full", med["mr_full"] / med["hand_full"], 1.10),
              ("mr_online / plain, small CNN shuffled",
               med["mr_online_small_shuffled"] / med["plain_small_shuffled"], 1.03)]
    for label, ratio, target in ratios:
        verdict = "ok" if ratio <= target else "ABOVE TARGET"
        print(f"  {label:<38} {ratio:5.3f}x  (target <= {target}x: {verdict})")
    correcting = med["mr_correcting"] / med["mr_auto"]
    print(f"  {'mr_correcting / mr_auto':<38} {correcting:5.3f}x  (no target: the price "
          "of the epochs spent correcting labels)")
    return ratios + [("mr_correcting / mr_auto", correcting, None)]


if __name__ == "__main__":
    main()
