"""What activation checkpointing saves and costs: tracemalloc's peak and the median time of
one training step (forward, cross-entropy, backward, SGD step), float32, with and without
`autodiff.checkpoint`:

- a deep MLP (32 Linear(256, 256) + ReLU, batch 512): plain, and `checkpoint_sequential` in
  2, 4, 8 and 16 segments;
- ResNet-8 (`nn.vision.models.resnet8`, batch 64, 28x28): plain, and each of its three
  stages checkpointed.

    python benchmarks/checkpoint_step.py

The peak is the one of a step run alone after a warm-up step (NumPy reports its arrays to
tracemalloc), above the memory traced before it: the model, its gradients from the previous
step and the batch are not counted twice. Times are medians over alternating rounds, of the
wall clock (`timing.medians`) and of the process's CPU time (steadier on a shared machine:
the BLAS runs on one thread). Writes benchmarks/results/checkpoint_step.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
import numpy as np

# isort: on
import autodiff as ad
import nn
import nn.functional as F
from autodiff.checkpoint import checkpoint, checkpoint_sequential
from nn.vision import models


def mlp_case(segments: int | None) -> tuple[object, object]:
    ad.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(32):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    body, head = nn.Sequential(*layers), nn.Linear(256, 10)
    model = nn.Sequential(body, head)
    x = ad.tensor(np.random.default_rng(0).normal(size=(512, 256)).astype(np.float32))

    def forward() -> ad.Tensor:
        h = body(x) if segments is None else checkpoint_sequential(body, segments, x)
        return head(h)

    return model, forward


def resnet_case(per_stage: bool) -> tuple[object, object]:
    ad.manual_seed(0)
    model = models.resnet8()
    x = ad.tensor(np.random.default_rng(0).normal(size=(64, 1, 28, 28)).astype(np.float32))

    def forward() -> ad.Tensor:
        h = model.stem(x)
        for stage in model.stages:
            h = checkpoint(stage, h) if per_stage else stage(h)
        return model.head(h)

    return model, forward


def step_of(model: nn.Module, forward: object) -> object:
    opt = nn.optim.SGD(model.parameters(), lr=1e-3)
    labels = np.arange(512) % 10

    def step() -> None:
        out = forward()  # type: ignore[operator]
        loss = F.cross_entropy(out, labels[:out.shape[0]])
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def peak_mib(step: object) -> float:
    step()  # type: ignore[operator]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    step()  # type: ignore[operator]
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak / 2**20


def cpu_medians(steps: dict[str, object], repeats: int) -> dict[str, float]:
    """Median CPU seconds (time.process_time) of each step, the steps alternating."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            t = time.process_time()
            step()  # type: ignore[operator]
            times[name].append(time.process_time() - t)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    cases = {"mlp plain": mlp_case(None)}
    cases.update({f"mlp {s} segments": mlp_case(s) for s in (2, 4, 8, 16)})
    cases["resnet8 plain"] = resnet_case(False)
    cases["resnet8 per stage"] = resnet_case(True)
    steps = {name: step_of(*case) for name, case in cases.items()}
    peaks = {name: peak_mib(step) for name, step in steps.items()}
    results = {}
    for family in ("mlp", "resnet8"):
        mine = {n: s for n, s in steps.items() if n.startswith(family)}
        times = timing.medians(mine, repeats=args.repeats, warmup=1, steps=2)
        cpu = cpu_medians(mine, repeats=3 * args.repeats)
        base = f"{family} plain"
        for name in mine:
            results[name] = {"peak_mib": round(peaks[name], 2), "ms": round(1e3 * times[name], 1),
                             "cpu_ms": round(1e3 * cpu[name], 1),
                             "peak_ratio": round(peaks[name] / peaks[base], 3),
                             "time_ratio": round(times[name] / times[base], 3),
                             "cpu_ratio": round(cpu[name] / cpu[base], 3)}
            r = results[name]
            print(f"{name:20s} peak {r['peak_mib']:8.2f} MiB ({r['peak_ratio']:.2f}x)  "
                  f"step {r['ms']:8.1f} ms ({r['time_ratio']:.2f}x)  "
                  f"cpu {r['cpu_ms']:8.1f} ms ({r['cpu_ratio']:.2f}x)")
    timing.report("checkpoint_step", "one training step, with and without checkpointing",
                  "ms", {n: r["ms"] for n, r in results.items()}, extra={"cases": results},
                  ratios=False)


if __name__ == "__main__":
    main()
