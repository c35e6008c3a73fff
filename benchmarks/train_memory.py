"""Resident memory across 1,000 training steps of the mlp_step network (784-256-128-10, batch
64, SGD with momentum): it must stay flat, because no step may keep a graph, a gradient or a
saved array alive. Also records the dtypes the steps computed in (all float32).

    python benchmarks/train_memory.py      # make bench runs every workload

Writes benchmarks/results/train_memory.json: RSS (MiB) every 100 steps, per implementation,
each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
import numpy as np

# isort: on

PAGE = 4096


def rss_mib() -> float:
    """This process's resident memory now (not its peak), from /proc."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * PAGE / 2**20


def train(impl: str, steps: int) -> dict[str, object]:
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    if impl == "autodiff":
        import mlp_step

        import autodiff as ad
        import nn

        model = mlp_step.engine_model()
        opt = nn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        xt = ad.tensor(x)

        def step() -> set[str]:
            loss = timing.step_engine(model, opt, xt, y)
            return {str(loss.dtype)} | {str(p.grad.dtype) for p in model.parameters()}
    else:
        import mlp_step
        import torch

        model = mlp_step.torch_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.tensor(x), torch.tensor(y)

        def step() -> set[str]:
            timing.step_torch(model, opt, tx, ty)
            return {str(p.grad.dtype).replace("torch.", "") for p in model.parameters()}

    samples, dtypes = [], set()
    for i in range(1, steps + 1):
        dtypes |= step()
        if i % 100 == 0:
            samples.append(rss_mib())
    return {"rss_mib": samples, "dtypes": sorted(dtypes)}


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: train in this process
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(train(args.child, args.steps)))
        return {}
    impls = ["autodiff"] + (["pytorch"] if timing.torch is not None else [])
    runs = {}
    for impl in impls:
        out = subprocess.run([sys.executable, __file__, "--child", impl, "--steps",
                              str(args.steps)], capture_output=True, text=True, check=True)
        runs[impl] = json.loads(out.stdout)
    growth = {impl: r["rss_mib"][-1] - r["rss_mib"][0] for impl, r in runs.items()}
    for impl, r in runs.items():
        print(f"  {impl:10s} RSS every 100 steps (MiB): "
              + " ".join(f"{v:.0f}" for v in r["rss_mib"]) + f"   dtypes: {r['dtypes']}")
    assert runs["autodiff"]["dtypes"] == ["float32"], runs["autodiff"]["dtypes"]
    return timing.report("train_memory", f"RSS growth from step 100 to step {args.steps} "
                         "(flat: about 0)", "MiB", growth,
                         {"runs": runs, "dtypes": runs["autodiff"]["dtypes"]}, ratios=False)


if __name__ == "__main__":
    main()
