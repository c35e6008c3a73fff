"""Per-op overhead and a deep chain, side by side: this engine, plain NumPy, PyTorch (CPU).

    python benchmarks/op_overhead.py            # or: make bench

- op_overhead: 200 chained small elementwise ops (mul, add, tanh, mul by a constant in turn)
  on a length-16 float32 vector, forward + backward, microseconds per op. NumPy runs the
  forward only: the floor any engine pays for the arithmetic itself.
- deep_chain: 1,000,000 sequential scalar ops (y = y * c + d, counted as two ops), forward +
  backward, seconds and the growth of the process's peak resident memory (ru_maxrss).

Warm-up first, then the median of repeats; the implementations alternate inside each repeat so
a slow moment on a shared machine hits all of them. Writes benchmarks/results/op_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import autodiff as ad

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # optional extra `bench`
    torch = None

N_OPS = 200


def chain_autodiff(x0: np.ndarray, w: np.ndarray) -> None:
    x = ad.tensor(x0, requires_grad=True)
    c = ad.tensor(w)
    y = x
    for _i in range(N_OPS // 4):
        y = y * c
        y = y + x
        y = y.tanh()
        y = y * 0.5
    y.sum().backward()


def chain_numpy(x0: np.ndarray, w: np.ndarray) -> None:
    x = x0
    y = x
    for _i in range(N_OPS // 4):
        y = y * w
        y = y + x
        y = np.tanh(y)
        y = y * np.float32(0.5)


def chain_torch(x0: np.ndarray, w: np.ndarray) -> None:
    x = torch.tensor(x0, requires_grad=True)
    c = torch.tensor(w)
    y = x
    for _i in range(N_OPS // 4):
        y = y * c
        y = y + x
        y = y.tanh()
        y = y * 0.5
    y.sum().backward()


def deep_autodiff(n: int) -> None:
    x = ad.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n // 2):
        y = y * 0.999999 + 1e-7
    y.backward()


def deep_torch(n: int) -> None:
    x = torch.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n // 2):
        y = y * 0.999999 + 1e-7
    y.backward()


def median_us_per_op(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    for fn in fns.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():  # alternate implementations
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) / N_OPS * 1e6 for k, v in times.items()}


def timed_with_memory(fn: Callable[[], None]) -> tuple[float, float]:
    """Seconds, and how much the process's peak resident memory grew (MiB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return seconds, (after - before) / 1024


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description="per-op overhead and deep chain")
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--deep", type=int, default=1_000_000, help="ops in the deep chain")
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)
    w = (rng.standard_normal(16) * 0.5).astype(np.float32)
    fns = {"autodiff": lambda: chain_autodiff(x0, w), "numpy (forward only)":
           lambda: chain_numpy(x0, w)}
    if torch is not None:
        fns["pytorch"] = lambda: chain_torch(x0, w)
    per_op = median_us_per_op(fns, args.repeats)

    deep = {"autodiff": timed_with_memory(lambda: deep_autodiff(args.deep))}
    if torch is not None:
        deep["pytorch"] = timed_with_memory(lambda: deep_torch(args.deep))

    print(f"op_overhead: {N_OPS} chained ops on a length-16 float32 vector, forward + backward "
          f"(median of {args.repeats})")
    base = per_op.get("pytorch")
    for name, us in per_op.items():
        ratio = f"{us / base:5.2f}x PyTorch" if base else ""
        print(f"  {name:22s} {us:8.2f} us/op  {ratio}")
    print(f"deep_chain: {args.deep:,} scalar ops, forward + backward")
    for name, (s, mb) in deep.items():
        mem = f"peak RSS +{mb:7.1f} MiB"
        print(f"  {name:22s} {s:8.2f} s   {mem}")

    result = {"machine": {"cpus": os.cpu_count(), "numpy": np.__version__,
                          "torch": torch.__version__ if torch else None,
                          "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")},
              "op_overhead_us_per_op": per_op,
              "deep_chain": {k: {"seconds": s, "peak_mib": mb} for k, (s, mb) in deep.items()},
              "ops": args.deep}
    out = Path(__file__).resolve().parent / "results" / "op_overhead.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
