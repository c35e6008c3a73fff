"""One Adam step of ResNet-8 (a 3x3 stem and three stages of one basic block, batch norm,
global average pooling; nn.vision.models.resnet8) on 1x28x28, batch 64, float32: this engine,
the same network with forward and backward written out in NumPy, and PyTorch.

    python benchmarks/resnet_step.py      # make bench runs every workload

Writes benchmarks/results/resnet_step.json.
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
from nn.vision.models import resnet8

BATCH, LR = 64, 1e-3



class Conv:
    def __init__(self, w: np.ndarray, stride: int, pad: int) -> None:
        self.w, self.params = w, ((stride, stride), (pad,) * 4, (1, 1), 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x, keep = x, []
        out = _conv(x, self.w, self.params, keep)
        self.cols = keep[0] if keep else None  # none on the shifted path: no patch matrix
        return out

    def backward(self, gy: np.ndarray) -> np.ndarray:
        self.gw = _conv_weight(self.x, gy, self.w.shape, self.params, self.cols)
        return _conv_transpose(gy, self.w, self.x.shape, self.params)


class BatchNorm:
    def __init__(self, c: int) -> None:
        self.w, self.b = np.ones(c, np.float32), np.zeros(c, np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        mean = x.mean((0, 2, 3), keepdims=True)
        self.xc = x - mean
        self.inv = 1 / np.sqrt((self.xc * self.xc).mean((0, 2, 3), keepdims=True) + 1e-5)
        self.xhat = self.xc * self.inv
        return self.xhat * self.w[:, None, None] + self.b[:, None, None]

    def backward(self, gy: np.ndarray) -> np.ndarray:
        self.gw, self.gb = (gy * self.xhat).sum((0, 2, 3)), gy.sum((0, 2, 3))
        d = gy * self.w[:, None, None]
        return self.inv * (d - d.mean((0, 2, 3), keepdims=True)
                           - self.xhat * (d * self.xhat).mean((0, 2, 3), keepdims=True))


class HandResNet8:
    """ResNet-8 with every forward and backward written out; Adam by hand."""

    def __init__(self, model: nn.Module) -> None:
        sd = {k: v.copy() for k, v in model.state_dict().items()}
        self.stem = (Conv(sd["stem.0.weight"], 1, 1), BatchNorm(16))
        self.blocks = []
        for i, (c_in, c_out, s) in enumerate([(16, 16, 1), (16, 32, 2), (32, 64, 2)]):
            k = f"stages.{i}."
            short = None
            if s != 1 or c_in != c_out:
                short = (Conv(sd[k + "shortcut.0.weight"], s, 0), BatchNorm(c_out))
            self.blocks.append((Conv(sd[k + "conv1.weight"], s, 1), BatchNorm(c_out),
                                Conv(sd[k + "conv2.weight"], 1, 1), BatchNorm(c_out), short))
        self.fc_w, self.fc_b = sd["head.3.weight"], sd["head.3.bias"]
        self.state: dict[int, list[np.ndarray]] = {}
        self.t = 0

    def layers(self) -> list[object]:
        out: list[object] = list(self.stem)
        for c1, b1, c2, b2, short in self.blocks:
            out += [c1, b1, c2, b2, *(short or ())]
        return out

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        conv, bn = self.stem
        h = np.maximum(bn.forward(conv.forward(x)), 0)
        masks = [h > 0]
        for c1, b1, c2, b2, short in self.blocks:
            a = np.maximum(b1.forward(c1.forward(h)), 0)
            masks.append(a > 0)
            z = b2.forward(c2.forward(a))
            s = h if short is None else short[1].forward(short[0].forward(h))
            h = np.maximum(z + s, 0)
            masks.append(h > 0)
        pooled = h.mean((2, 3))
        logits = pooled @ self.fc_w.T + self.fc_b
        e = np.exp(logits - logits.max(1, keepdims=True))
        d = e / e.sum(1, keepdims=True)
        d[np.arange(len(y)), y] -= 1
        d /= len(y)
        grads = [(self.fc_w, d.T @ pooled), (self.fc_b, d.sum(0))]
        g = np.broadcast_to((d @ self.fc_w)[:, :, None, None] / (h.shape[2] * h.shape[3]),
                            h.shape)
        for c1, b1, c2, b2, short in reversed(self.blocks):
            g = g * masks.pop()
            gs = g if short is None else short[0].backward(short[1].backward(g))
            ga = b1.backward(c2.backward(b2.backward(g)) * masks.pop())
            g = c1.backward(ga) + gs
        conv.backward(bn.backward(g * masks.pop()))
        for layer in self.layers():
            if isinstance(layer, Conv):
                grads.append((layer.w, layer.gw))
            else:
                grads += [(layer.w, layer.gw), (layer.b, layer.gb)]
        self.adam(grads)

    def adam(self, grads: list[tuple[np.ndarray, np.ndarray]], b1: float = 0.9,
             b2: float = 0.999) -> None:
        self.t += 1
        for i, (p, g) in enumerate(grads):
            m, v = self.state.setdefault(i, [np.zeros_like(p), np.zeros_like(p)])
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            step = LR / (1 - b1 ** self.t)
            p -= step * m / (np.sqrt(v / (1 - b2 ** self.t)) + 1e-8)


def torch_resnet8():
    T = torch.nn

    class Block(T.Module):
        def __init__(self, c_in, c_out, stride):
            super().__init__()
            self.c1 = T.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.b1 = T.BatchNorm2d(c_out)
            self.c2 = T.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.b2 = T.BatchNorm2d(c_out)
            self.short = T.Identity()
            if stride != 1 or c_in != c_out:
                self.short = T.Sequential(T.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          T.BatchNorm2d(c_out))

        def forward(self, x):
            out = torch.relu(self.b1(self.c1(x)))
            return torch.relu(self.b2(self.c2(out)) + self.short(x))

    return T.Sequential(T.Conv2d(1, 16, 3, 1, 1, bias=False), T.BatchNorm2d(16), T.ReLU(),
                        Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                        T.AdaptiveAvgPool2d(1), T.Flatten(), T.Linear(64, 10))



def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    ad.manual_seed(0)
    model = resnet8()
    model.train()
    return timing.compare_steps(
        "resnet_step", f"ResNet-8 on 1x28x28, batch {BATCH}, one Adam step", args.repeats,
        model, nn.optim.Adam(model.parameters(), lr=LR), HandResNet8(model).step, x, y,
        lambda: (tm := torch_resnet8(), torch.optim.Adam(tm.parameters(), lr=LR)))

if __name__ == "__main__":
    main()
