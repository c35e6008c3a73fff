"""Training throughput of `make demo`'s recipe, in images per second: this engine's training
loop (the one `python -m nn.vision train` runs) beside a PyTorch script of the same recipe
(LeNet-5 with the same initial weights, AdamW, cosine schedule, dropout, batch 32, MNIST-5k
with the same random-affine augmentation from the same loader). Epochs alternate between the
two; validation and checkpoints are left out (the demo's printed img/s leaves them out too).
There is no hand-written NumPy column: no one writes a whole training run by hand.

    python benchmarks/demo_throughput.py            # make bench runs every workload

The recipe is the Makefile's `demo` line (tests/benchmarks check that they agree). Writes
benchmarks/results/demo_throughput.json.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch

# isort: on
from nn.vision import runs
from nn.vision.train import _start, _train_epoch, train_args

# `make demo`'s flags, as train's arguments (the Makefile's demo line: tests compare them).
RECIPE = {"model": "lenet5", "data": "mnist-5k", "epochs": 40, "batch_size": 32,
          "optimizer": "adamw", "lr": 3e-3, "weight_decay": 1e-2, "dropout": 0.1,
          "schedule": "cosine", "augment": True}


def engine_epoch(run: Any) -> int:
    """One epoch of `make demo`'s own loop (nn.vision.train's `_train_epoch`), then the
    schedule's step; the images seen."""
    before = run.progress.seen
    _train_epoch(run, runs.StopSignals())  # not entered: nothing asks it to stop
    run.sched.step()
    return run.progress.seen - before


def torch_lenet5(dropout: float) -> Any:
    """LeNet-5 in PyTorch, with nn.vision.models.LeNet5's layers and parameter names."""
    T = torch.nn
    model = T.Module()
    model.features = T.Sequential(T.Conv2d(1, 6, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                                  T.Conv2d(6, 16, 5), T.ReLU(), T.MaxPool2d(2))
    model.classifier = T.Sequential(T.Flatten(), T.Linear(400, 120), T.ReLU(), T.Dropout(dropout),
                                    T.Linear(120, 84), T.ReLU(), T.Dropout(dropout),
                                    T.Linear(84, 10))
    model.forward = lambda x: model.classifier(model.features(x))  # type: ignore[method-assign]
    return model


def torch_run(run: Any) -> Callable[[], int]:
    """The PyTorch script of the recipe, started from the engine run's initial weights and fed
    by a loader like the engine's (same order and augmentation); returns its epoch function."""
    args = run.args
    model = torch_lenet5(args.dropout)
    model.load_state_dict({k: torch.from_numpy(v.copy())
                           for k, v in run.model.state_dict().items()})
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(args.momentum, 0.999),
                            weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loader = _start(args).loader  # a second loader: its own generators, the same seeds

    def epoch() -> int:
        model.train()
        seen = correct = 0
        loss_sum = 0.0
        for xb, yb in loader:
            x, y = torch.from_numpy(xb.data), torch.from_numpy(yb.data)
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
        sched.step()
        return seen

    return epoch


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5, help="timed epochs of each (after one "
                   "untimed epoch each)")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error(f"--epochs must be at least 1, got {args.epochs}")
    with tempfile.TemporaryDirectory() as out:  # _start claims a run folder; none is written
        return _measure(_start(train_args(**RECIPE, out=out, no_progress=True)), args.epochs)


def _measure(run: Any, epochs: int) -> dict[str, object]:
    fns: dict[str, Callable[[], int]] = {"autodiff": lambda: engine_epoch(run)}
    if torch is not None:
        fns["pytorch"] = torch_run(run)
    rates: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # untimed: warm caches, first-call costs
        fn()
    for _ in range(epochs):
        for name, fn in fns.items():
            t = time.perf_counter()
            n = fn()
            rates[name].append(n / (time.perf_counter() - t))
    med = {name: statistics.median(v) for name, v in rates.items()}
    res = timing.report(
        "demo_throughput", f"`make demo`'s training loop (LeNet-5, MNIST-5k, batch 32, AdamW, "
        f"augmented), images/s, higher is better (median of {epochs} epochs)", "img/s",
        med, {"epoch_img_s": rates, "recipe": RECIPE}, ratios=False)
    if "pytorch" in med:
        print(f"  autodiff takes {med['pytorch'] / med['autodiff']:.2f}x PyTorch's time per image")
    return res


if __name__ == "__main__":
    main()
