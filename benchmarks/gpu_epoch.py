"""One training epoch of ResNet-18 on CIFAR-shaped data: skorch, MR and a hand loop.

Times, on one device (a GPU where there is one), one epoch of
:class:`sk_mr.paper.models.ResNet18` on synthetic CIFAR-shaped data (N images of
3x32x32 in [0, 1], 10 classes; generated, nothing is downloaded):

* ``plain``: skorch's ``NeuralNetClassifier``;
* ``mr_full``: ``MRClassifier(loss_pass='full')`` (Algorithm 1: the epoch
  plus an eval-mode loss pass);
* ``mr_online``: ``MRClassifier(loss_pass='online')``;
* ``hand_full``: a hand-written PyTorch loop doing the same MR (weighted
  batch loss, eval-mode loss pass, weights gathered on the device).

All run with bfloat16 autocast (``--amp``, the default on CUDA), SGD with
momentum, the same batches (pinned host memory, non-blocking copies), in
interleaved repeats after a warm-up, and report medians, the ratios against
``plain`` and ``hand_full``, and the GPU utilization sampled during the MR
epochs (through NVML when available). ``--tiny`` runs a few images on the
CPU, which the tests do.

    python benchmarks/gpu_epoch.py                  # CUDA: 10 000 images
    python benchmarks/gpu_epoch.py --tiny           # CPU, seconds (the tests)
"""

import argparse
import statistics
import threading
import time

import numpy as np
import torch

from sk_mr import MRClassifier
from sk_mr.paper.models import ResNet18
from sk_mr.mw import mw_probabilities


def synthetic_cifar(n, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.rand((n, 3, 32, 32), generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    return X, y


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


class Utilization:
    """Samples the GPU's utilization in a thread (NVML), or reports None."""

    def __init__(self, device, interval=0.05):
        self.samples, self.interval, self.stop = [], interval, threading.Event()
        self.ok = torch.device(device).type == "cuda"
        if self.ok:
            try:
                torch.cuda.utilization(device)
            except Exception:  # pynvml missing or unsupported
                self.ok = False
        self.device = device

    def __enter__(self):
        if self.ok:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            self.samples.append(torch.cuda.utilization(self.device))
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self.stop.set()
        if self.ok:
            self.thread.join()

    @property
    def mean(self):
        return float(np.mean(self.samples)) if self.samples else None


def skorch_epoch(cls, X, y, args, **kwargs):
    torch.manual_seed(0)
    net = cls(ResNet18, module__n_classes=10, criterion=torch.nn.CrossEntropyLoss,
              lr=0.05, optimizer__momentum=0.9, batch_size=args.batch_size, max_epochs=1,
              train_split=None, verbose=0, device=args.device,
              iterator_train__shuffle=True, iterator_train__pin_memory=args.pin,
              iterator_valid__pin_memory=args.pin, **kwargs)
    net.initialize()
    sync(args.device)
    start = time.perf_counter()
    net.partial_fit(X, y)
    sync(args.device)
    return time.perf_counter() - start


#: MR's eta in every MR variant, hand-written or not: one MR to compare.
ETA = 0.01


def hand_full(X, y, args, eta=ETA):
    """Algorithm 1 written directly: the reference for MR's overhead."""
    torch.manual_seed(0)
    device = torch.device(args.device)
    module = ResNet18(n_classes=10).to(device)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05, momentum=0.9)
    n = len(X)
    Xp = X.pin_memory() if args.pin else X
    cumulative = torch.zeros(n, dtype=torch.float64, device=device)
    weights = torch.ones(n, device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp)
    sync(device)
    start = time.perf_counter()
    module.train()
    order = torch.randperm(n)
    for i in range(0, n, args.batch_size):
        index = order[i:i + args.batch_size]
        xb = Xp[index].to(device, non_blocking=True)
        yb = y[index].to(device, non_blocking=True)
        w = weights[index.to(device, non_blocking=True)]
        optimizer.zero_grad()
        with autocast:
            out = module(xb)
        losses = torch.nn.functional.cross_entropy(out.float(), yb, reduction="none")
        ((w * losses).sum() / w.sum()).backward()
        optimizer.step()
    module.eval()
    epoch_losses = torch.empty(n, dtype=torch.float64, device=device)
    with torch.inference_mode():
        for i in range(0, n, args.batch_size):
            xb = Xp[i:i + args.batch_size].to(device, non_blocking=True)
            yb = y[i:i + args.batch_size].to(device, non_blocking=True)
            with autocast:
                out = module(xb)
            epoch_losses[i:i + args.batch_size] = torch.nn.functional.cross_entropy(
                out.float(), yb, reduction="none")
    cumulative += epoch_losses
    weights = (mw_probabilities(cumulative, eta) * n).float()
    sync(device)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None,
                        help="default: cuda; without a GPU, the --tiny run on the CPU")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                        help="bfloat16 autocast (default: on CUDA)")
    parser.add_argument("--tiny", action="store_true",
                        help="16 images on the CPU, no warm-up (what the tests run)")
    args = parser.parse_args(argv)
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
        if args.device == "cpu" and not args.tiny:
            print("no GPU: running the --tiny version on the CPU")
            args.tiny = True
    if args.tiny:
        args.device, args.n, args.batch_size, args.repeats = "cpu", 16, 8, 1
    if args.amp is None:
        args.amp = torch.device(args.device).type == "cuda"
    args.pin = torch.device(args.device).type == "cuda"
    X, y = synthetic_cifar(args.n)

    from skorch import NeuralNetClassifier
    variants = {
        "plain": lambda: skorch_epoch(NeuralNetClassifier, X, y, args),
        # loss_pass and eta given: the defaults changed after this was written
        # (to 'online' and 'auto'), which made mr_full an online run
        "mr_full": lambda: skorch_epoch(MRClassifier, X, y, args, amp=args.amp,
                                        loss_pass="full", eta=ETA),
        "mr_online": lambda: skorch_epoch(MRClassifier, X, y, args, amp=args.amp,
                                          loss_pass="online", eta=ETA),
        "hand_full": lambda: hand_full(X, y, args),
    }
    if args.amp:  # skorch's plain net has no amp switch: autocast its forward
        variants["plain"] = lambda: _autocast_plain(X, y, args)
    for fn in variants.values() if not args.tiny else ():
        fn()  # warm-up: cudnn autotuning, allocator, threads
    times = {name: [] for name in variants}
    utilization = []
    for _ in range(args.repeats):
        for name, fn in variants.items():  # interleaved
            if name == "mr_full":
                with Utilization(args.device) as u:
                    times[name].append(fn())
                utilization.append(u.mean)
            else:
                times[name].append(fn())
    med = {name: statistics.median(t) for name, t in times.items()}
    device_name = (torch.cuda.get_device_name(args.device)
                   if torch.device(args.device).type == "cuda" else "CPU")
    print(f"ResNet-18, {args.n} CIFAR-shaped images, batch {args.batch_size}, "
          f"amp={args.amp}, {device_name}, {args.repeats} interleaved repeats")
    for name, value in med.items():
        print(f"  {name:<10} median {value:8.3f}s")
    ratios = {"mr_full / plain": med["mr_full"] / med["plain"],
              "mr_online / plain": med["mr_online"] / med["plain"],
              "mr_full / hand_full": med["mr_full"] / med["hand_full"]}
    for label, ratio in ratios.items():
        print(f"  {label:<20} {ratio:6.3f}x")
    util = [u for u in utilization if u is not None]
    print("  GPU utilization during mr_full: "
          + (f"{np.mean(util):.0f}%" if util else "n/a (no NVML)"))
    # times_s: each variant's time per repeat (warm-up excluded), the raw
    # numbers the medians and ratios come from
    return {"median_s": med, "ratios": ratios, "times_s": times,
            "gpu_utilization": float(np.mean(util)) if util else None}


def _autocast_plain(X, y, args):
    from skorch import NeuralNetClassifier

    class AutocastNet(NeuralNetClassifier):
        def infer(self, x, **fit_params):
            device_type = torch.device(self.device).type
            with torch.autocast(device_type, dtype=torch.bfloat16):
                out = super().infer(x, **fit_params)
            return out.float()

    return skorch_epoch(AutocastNet, X, y, args)


if __name__ == "__main__":
    main()
