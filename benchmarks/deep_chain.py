"""A chain of 1,000,000 sequential scalar ops (y = y * c + d, two ops a step), forward and
backward: seconds, and how much the process's peak resident memory grew. Each length runs in
a fresh process per implementation, so one's memory never hides another's; three lengths show
whether the time is linear in the number of ops. No recursion limit is touched: the walk is
iterative.

    python benchmarks/deep_chain.py                 # 250k, 500k and 1M ops
    python benchmarks/deep_chain.py --ops 20000     # one quick length

Writes benchmarks/results/deep_chain.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
import numpy as np

# isort: on


def chain(impl: str, n: int) -> dict[str, float]:
    """Build and differentiate the chain in this process; seconds and peak RSS growth."""
    if impl == "autodiff":
        import autodiff as lib

        x = lib.tensor(0.5, requires_grad=True)
    else:
        import torch as lib

        x = lib.tensor(0.5, requires_grad=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    y = x
    for _ in range(n // 2):
        y = y * 0.999999 + 1e-7
    forward = time.perf_counter() - t
    y.backward()
    seconds = time.perf_counter() - t
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    expected = float(np.float32(0.999999)) ** (n // 2)  # float32 rounding adds up: 1% slack
    assert abs(float(x.grad) / expected - 1) < 1e-2, f"{impl}: d/dx = {float(x.grad)}"
    return {"seconds": seconds, "forward_seconds": forward, "peak_mib": peak,
            "recursion_limit": sys.getrecursionlimit()}


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, nargs="+", default=[250_000, 500_000, 1_000_000])
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: run one chain, print JSON
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(chain(args.child, args.ops[0])))
        return {}
    impls = ["autodiff"] + (["pytorch"] if timing.torch is not None else [])
    runs: dict[str, dict[int, dict[str, float]]] = {impl: {} for impl in impls}
    for n in args.ops:
        for impl in impls:  # alternate, each in a fresh process
            out = subprocess.run([sys.executable, __file__, "--child", impl, "--ops", str(n)],
                                 capture_output=True, text=True, check=True).stdout
            runs[impl][n] = json.loads(out)
    longest = max(args.ops)
    figures = {impl: runs[impl][longest]["seconds"] for impl in impls}
    extra: dict[str, object] = {"runs": {i: {str(n): r for n, r in v.items()}
                                         for i, v in runs.items()}}
    for impl in impls:
        r = runs[impl][longest]
        line = f"  {impl:10s} {longest:,} ops: peak RSS +{r['peak_mib']:.0f} MiB"
        if len(args.ops) > 1:
            shortest = min(args.ops)
            growth = (r["seconds"] / runs[impl][shortest]["seconds"]) / (longest / shortest)
            line += f"; time per op at {longest:,} / at {shortest:,} = {growth:.2f} (1 = linear)"
            extra[f"{impl}_linearity"] = growth
        extra[f"{impl}_peak_mib"] = r["peak_mib"]
        print(line)
    return timing.report("deep_chain", f"{longest:,} sequential scalar ops, forward + backward",
                         "s", figures, extra)


if __name__ == "__main__":
    main()
