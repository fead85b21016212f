"""
Data-parallel MR with Accelerate (several GPUs or machines)
===========================================================

:class:`sk_mr.distributed.AcceleratedMRClassifier` is
:class:`~sk_mr.MRClassifier` on Hugging Face Accelerate, through skorch's
:class:`~skorch.hf.AccelerateMixin`: the same script runs on one CPU, on
one machine with several GPUs and on several machines, launched by
``accelerate launch`` (or ``torchrun``). Each process trains on its shard
of every batch (DistributedDataParallel) and scores its shard in MR's loss
pass; MR's per-example losses are gathered, so every process ends each MW
update with the same weights, exactly those of a single-process run on the
global batch.

Launch commands (``batch_size`` is per process; the global batch is
``batch_size`` times the number of processes):

* one CPU, or one GPU: ``python examples/scaling/distributed_training.py``
* two CPU processes (gloo): ``torchrun --nproc_per_node 2 examples/scaling/distributed_training.py``
* one machine, 4 GPUs: ``accelerate launch --multi_gpu --num_processes 4 examples/scaling/distributed_training.py``
* two machines with 4 GPUs each, on machine 0 (machine 1: ``--machine_rank 1``)::

      accelerate launch --multi_gpu --num_machines 2 --num_processes 8 \\
          --machine_rank 0 --main_process_ip 10.0.0.1 --main_process_port 29500 \\
          examples/scaling/distributed_training.py

* mixed precision: add ``--mixed_precision bf16`` (Accelerate's autocast;
  MR's losses and weights stay float32/float64).

Only the main process prints.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch
from accelerate import Accelerator
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sk_mr import add_label_noise
from sk_mr.distributed import AcceleratedMRClassifier
from sk_mr.models import MLP

EPOCHS = 30
NOISE_RATE = 0.4
SEED = 0

accelerator = Accelerator(cpu=not torch.cuda.is_available())
torch.set_num_threads(1)  # several CPU processes share the cores

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                    random_state=SEED)
y_noisy, is_noisy = add_label_noise(y_train, NOISE_RATE, random_state=SEED)

# %%
# Training
# --------
# Every process builds the same net; ``random_state`` makes their initial
# weights identical (DDP would also broadcast them). ``device=None``:
# Accelerate places the tensors.

net = AcceleratedMRClassifier(
    MLP, module__in_features=64, module__n_classes=10, accelerator=accelerator,
    device=None, eta=0.01, lr=0.05, optimizer__momentum=0.9,
    batch_size=128 // accelerator.num_processes, max_epochs=EPOCHS,
    train_split=None, random_state=SEED, verbose=0,
    callbacks__print_log__sink=print)
net.fit(X_train, y_noisy)

# %%
# Results
# -------
# The weights are the same on every process. Prediction is data-parallel
# too (skorch's AccelerateMixin gathers the shards' outputs), so every
# process calls ``score``; the main process reports.

accuracy = net.score(X_test, y_test)
weights = net.sample_weights_
if accelerator.is_main_process:
    print(f"{accelerator.num_processes} process(es), {accelerator.device} device(s)")
    print(f"clean test accuracy {accuracy:.3f}")
    print(f"weight on the {is_noisy.mean():.0%} wrong labels: {weights[is_noisy].sum():.3f}")

# %%
# Each training example's weight relative to uniform (``n * p_i``): MR has
# moved the weight off the wrong labels. The main process draws the
# figure (with several processes, each holds the same weights).

if accelerator.is_main_process:
    relative = len(weights) * np.asarray(weights, dtype=float)
    bins = np.logspace(np.log10(max(relative.min(), 1e-3)), np.log10(relative.max()), 40)
    fig, ax = plt.subplots(figsize=(6.4, 3.2), layout="constrained")
    ax.hist(relative[~is_noisy], bins=bins, alpha=0.7, label="correct labels")
    ax.hist(relative[is_noisy], bins=bins, alpha=0.7, label="wrong labels")
    ax.set_xscale("log")
    ax.set_xlabel("weight x number of training examples (1 = uniform)")
    ax.set_ylabel("training examples")
    ax.legend()
    plt.show()
