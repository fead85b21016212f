"""One process of a data-parallel MR fit (run by tests/test_distributed.py).

Launched by ``torch.distributed.run`` with N processes (gloo on the CPU):
every process fits the same AcceleratedMRClassifier on the same data and
writes its MR state to ``OUT/rank{r}.pt``; ``--task`` picks the estimator
(classifier, regressor or binary classifier).
"""

import argparse
import os
import sys
from pathlib import Path

import torch
from accelerate import Accelerator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import N_EXAMPLES, TASKS, estimator_class, make_data, mr_params  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--updates-per-epoch", type=int, default=1)
    parser.add_argument("--loss-pass", default="full")
    parser.add_argument("--task", default="classifier", choices=list(TASKS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    accelerator = Accelerator(cpu=True)
    X, y = make_data(args.task)
    per_process = mr_params(args.updates_per_epoch, args.loss_pass,
                            n_processes=accelerator.num_processes, task=args.task)
    net = estimator_class(args.task, accelerated=True)(accelerator=accelerator, device=None,
                                                        **per_process)
    net.fit(X, y)
    assert len(X) == N_EXAMPLES
    # written whole or not at all (rename after the save): a file that exists
    # holds this process's finished fit
    path = Path(args.out) / f"rank{accelerator.process_index}.pt"
    torch.save({"cumulative_losses": torch.from_numpy(net.cumulative_losses_),
                "sample_weights": torch.from_numpy(net.sample_weights_),
                "n_processes": accelerator.num_processes,
                "batch_train_loss": torch.tensor([[b["train_loss"] for b in epoch["batches"]]
                                                  for epoch in net.history])},
               path.with_suffix(".tmp"))
    os.replace(path.with_suffix(".tmp"), path)
    # leave the process group before exiting: a gloo group torn down by the
    # interpreter's exit can abort a process ("terminate called without an
    # active exception") after its work is done
    accelerator.wait_for_everyone()
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
