"""One SGD step of LeNet-5 (batch 64, float32, 1x28x28): this engine, hand-written NumPy
(im2col forward and backward by hand: the no-autograd floor), and PyTorch CPU when installed.

    python benchmarks/cnn_step.py      # make bench runs every workload

Writes benchmarks/results/cnn_step.json.
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
from nn.functional.conv import _conv, _conv_transpose, _conv_weight
from nn.vision.models import LeNet5

BATCH, LR = 64, 0.01



class HandLeNet:
    """LeNet-5 with forward and backward written out in NumPy."""

    def __init__(self, model: LeNet5) -> None:
        self.p = {k: v.copy() for k, v in model.state_dict().items()}

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        p = self.p
        c1 = ((1, 1), (2, 2, 2, 2), (1, 1), 1)
        c2 = ((1, 1), (0, 0, 0, 0), (1, 1), 1)
        z1 = _conv(x, p["features.0.weight"], c1) + p["features.0.bias"][:, None, None]
        a1 = np.maximum(z1, 0)
        n, c, h, w = a1.shape
        r1 = a1.reshape(n, c, h // 2, 2, w // 2, 2)
        m1 = r1.max(axis=(3, 5))
        z2 = _conv(m1, p["features.3.weight"], c2) + p["features.3.bias"][:, None, None]
        a2 = np.maximum(z2, 0)
        n, c, h, w = a2.shape
        r2 = a2.reshape(n, c, h // 2, 2, w // 2, 2)
        m2 = r2.max(axis=(3, 5))
        f = m2.reshape(n, -1)
        h1 = np.maximum(f @ p["classifier.1.weight"].T + p["classifier.1.bias"], 0)
        h2 = np.maximum(h1 @ p["classifier.4.weight"].T + p["classifier.4.bias"], 0)
        logits = h2 @ p["classifier.7.weight"].T + p["classifier.7.bias"]
        e = np.exp(logits - logits.max(1, keepdims=True))
        prob = e / e.sum(1, keepdims=True)
        d = prob
        d[np.arange(n), y] -= 1
        d /= n
        g = {"classifier.7.weight": d.T @ h2, "classifier.7.bias": d.sum(0)}
        dh2 = (d @ p["classifier.7.weight"]) * (h2 > 0)
        g["classifier.4.weight"], g["classifier.4.bias"] = dh2.T @ h1, dh2.sum(0)
        dh1 = (dh2 @ p["classifier.4.weight"]) * (h1 > 0)
        g["classifier.1.weight"], g["classifier.1.bias"] = dh1.T @ f, dh1.sum(0)
        dm2 = (dh1 @ p["classifier.1.weight"]).reshape(m2.shape)
        mask2 = r2 == m2[:, :, :, None, :, None]
        dz2 = (mask2 * dm2[:, :, :, None, :, None]).reshape(a2.shape) * (z2 > 0)
        g["features.3.weight"] = _conv_weight(m1, dz2, p["features.3.weight"].shape, c2)
        g["features.3.bias"] = dz2.sum((0, 2, 3))
        dm1 = _conv_transpose(dz2, p["features.3.weight"], m1.shape, c2)
        mask1 = r1 == m1[:, :, :, None, :, None]
        dz1 = (mask1 * dm1[:, :, :, None, :, None]).reshape(a1.shape) * (z1 > 0)
        g["features.0.weight"] = _conv_weight(x, dz1, p["features.0.weight"].shape, c1)
        g["features.0.bias"] = dz1.sum((0, 2, 3))
        for k, v in g.items():
            p[k] -= LR * v.astype(p[k].dtype)



def torch_lenet():
    T = torch.nn
    return T.Sequential(T.Conv2d(1, 6, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
                        T.Conv2d(6, 16, 5), T.ReLU(), T.MaxPool2d(2), T.Flatten(),
                        T.Linear(400, 120), T.ReLU(), T.Linear(120, 84), T.ReLU(),
                        T.Linear(84, 10))


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    ad.manual_seed(0)
    model = LeNet5()
    return timing.compare_steps(
        "cnn_step", f"LeNet-5, batch {BATCH}, one SGD step", args.repeats, model,
        nn.optim.SGD(model.parameters(), lr=LR), HandLeNet(model).step, x, y,
        lambda: (tm := torch_lenet(), torch.optim.SGD(tm.parameters(), lr=LR)))

if __name__ == "__main__":
    main()
