"""One SGD step of a 784-256-128-10 ReLU MLP with softmax cross-entropy, batch 64, float32:
this engine, the course's formulas written out in NumPy (the no-autograd floor), and PyTorch.

    python benchmarks/mlp_step.py         # make bench runs every workload

Writes benchmarks/results/mlp_step.json (medians in ms, and the dtypes the step computed in).
"""

from __future__ import annotations

import argparse

# isort: off
import timing  # first: it fixes the thread count before NumPy loads
from timing import torch
import numpy as np

# isort: on
import autodiff as ad
import nn

SIZES, BATCH, LR = (784, 256, 128, 10), 64, 0.01


def engine_model() -> nn.Module:
    ad.manual_seed(0)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)



class HandMLP:
    """The course's formulas, batch-first: Z = A W^T + b, dW = dZ^T A_prev / m, ..."""

    def __init__(self, model: nn.Module) -> None:
        self.W = [m.weight.data.copy() for m in model.modules() if isinstance(m, nn.Linear)]
        self.b = [m.bias.data.copy() for m in model.modules() if isinstance(m, nn.Linear)]

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        A = [x]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            Z = A[-1] @ W.T + b
            A.append(np.maximum(Z, 0) if i < len(self.W) - 1 else Z)
        logits = A[-1]
        e = np.exp(logits - logits.max(1, keepdims=True))
        dZ = e / e.sum(1, keepdims=True)
        m = len(y)
        dZ[np.arange(m), y] -= 1
        dZ /= m
        for i in reversed(range(len(self.W))):
            dW, db = dZ.T @ A[i], dZ.sum(0)
            if i:
                dZ = (dZ @ self.W[i]) * (A[i] > 0)
            self.W[i] -= LR * dW
            self.b[i] -= LR * db


def torch_model():
    T = torch.nn
    torch.manual_seed(0)
    return T.Sequential(T.Linear(784, 256), T.ReLU(), T.Linear(256, 128), T.ReLU(),
                        T.Linear(128, 10))



def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    model = engine_model()
    return timing.compare_steps(
        "mlp_step", f"784-256-128-10 ReLU MLP, batch {BATCH}, one SGD step", args.repeats,
        model, nn.optim.SGD(model.parameters(), lr=LR), HandMLP(model).step, x, y,
        lambda: (tm := torch_model(), torch.optim.SGD(tm.parameters(), lr=LR)))

if __name__ == "__main__":
    main()
