"""Per-op overhead: 200 chained small elementwise ops (mul, add, tanh, mul by a constant in
turn) on a length-16 float32 vector, forward + backward, microseconds per op: this engine,
PyTorch (CPU), and NumPy running the forward alone (the floor any engine pays for the
arithmetic itself; there is no backward to write by hand that would be cheaper).

    python benchmarks/op_overhead.py            # make bench runs every workload

Writes benchmarks/results/op_overhead.json.
"""

from __future__ import annotations

import argparse

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch
import numpy as np

# isort: on
import autodiff as ad

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
        y = y * 0.5


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


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=100)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)
    w = (rng.standard_normal(16) * 0.5).astype(np.float32)
    fns = {"autodiff": lambda: chain_autodiff(x0, w), "numpy": lambda: chain_numpy(x0, w)}
    if torch is not None:
        fns["pytorch"] = lambda: chain_torch(x0, w)
    med = timing.medians(fns, args.repeats)
    return timing.report(
        "op_overhead", f"{N_OPS} chained ops on 16 float32s, forward + backward (NumPy: "
        f"forward only; median of {args.repeats} rounds x {timing.STEPS})", "us/op",
        {k: v / N_OPS * 1e6 for k, v in med.items()})


if __name__ == "__main__":
    main()
