"""One SGD step of the row-by-row MNIST LSTM (28 steps of 28 pixels, hidden 128, a linear head
on the last hidden state, softmax cross-entropy), batch 64, float32: this engine, the LSTM's
forward and BPTT written out in NumPy, and PyTorch.

    python benchmarks/lstm_step.py        # make bench runs every workload

Writes benchmarks/results/lstm_step.json (medians in ms, and the dtypes the step computed in).
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

STEPS, INPUT, HIDDEN, CLASSES, BATCH, LR = 28, 28, 128, 10, 64, 0.01


class RowLSTM(nn.Module):
    """x (B, 28, 28) -> LSTM over the rows -> Linear on the last hidden state."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(INPUT, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * np.tanh(0.5 * z) + 0.5


class HandLSTM:
    """The LSTM's equations and their BPTT in NumPy, with PyTorch's layout (gates i, f, g, o
    stacked in W's rows), then the head, cross-entropy and SGD."""

    def __init__(self, model: RowLSTM) -> None:
        lstm, head = model.lstm, model.head
        self.p = {"w_ih": lstm.weight_ih_l0.data.copy(), "w_hh": lstm.weight_hh_l0.data.copy(),
                  "b": lstm.bias_ih_l0.data + lstm.bias_hh_l0.data,
                  "w": head.weight.data.copy(), "c": head.bias.data.copy()}

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        p, h = self.p, HIDDEN
        b, t = x.shape[:2]
        xs = x.transpose(1, 0, 2)  # (T, B, I)
        gi = (xs.reshape(t * b, -1) @ p["w_ih"].T + p["b"]).reshape(t, b, 4 * h)
        hs = np.zeros((t + 1, b, h), np.float32)
        cs = np.zeros((t + 1, b, h), np.float32)
        acts = np.empty_like(gi)
        for k in range(t):
            z = gi[k] + hs[k] @ p["w_hh"].T
            a = acts[k]
            a[:, :2 * h] = _sigmoid(z[:, :2 * h])
            a[:, 2 * h:3 * h] = np.tanh(z[:, 2 * h:3 * h])
            a[:, 3 * h:] = _sigmoid(z[:, 3 * h:])
            cs[k + 1] = a[:, h:2 * h] * cs[k] + a[:, :h] * a[:, 2 * h:3 * h]
            hs[k + 1] = a[:, 3 * h:] * np.tanh(cs[k + 1])
        logits = hs[t] @ p["w"].T + p["c"]
        e = np.exp(logits - logits.max(1, keepdims=True))
        dlog = e / e.sum(1, keepdims=True)
        dlog[np.arange(b), y] -= 1
        dlog /= b
        grads = {"w": dlog.T @ hs[t], "c": dlog.sum(0)}
        dh, dc = dlog @ p["w"], np.zeros((b, h), np.float32)
        dz = np.empty_like(gi)
        for k in reversed(range(t)):
            a, tc = acts[k], np.tanh(cs[k + 1])
            i, f, g, o = a[:, :h], a[:, h:2 * h], a[:, 2 * h:3 * h], a[:, 3 * h:]
            dc = dc + dh * o * (1 - tc * tc)
            dz[k, :, :h] = dc * g * i * (1 - i)
            dz[k, :, h:2 * h] = dc * cs[k] * f * (1 - f)
            dz[k, :, 2 * h:3 * h] = dc * i * (1 - g * g)
            dz[k, :, 3 * h:] = dh * tc * o * (1 - o)
            dh = dz[k] @ p["w_hh"]
            dc = dc * f
        flat = dz.reshape(t * b, 4 * h)
        grads |= {"w_ih": flat.T @ xs.reshape(t * b, -1), "b": flat.sum(0),
                  "w_hh": flat.T @ hs[:-1].reshape(t * b, h)}
        for name, g in grads.items():
            p[name] -= LR * g


def torch_model():
    T = torch.nn

    class TorchRowLSTM(T.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = T.LSTM(INPUT, HIDDEN, batch_first=True)
            self.head = T.Linear(HIDDEN, CLASSES)

        def forward(self, x):
            return self.head(self.lstm(x)[1][0][-1])

    torch.manual_seed(0)
    return TorchRowLSTM()


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, STEPS, INPUT), dtype=np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    ad.manual_seed(0)
    model = RowLSTM()
    return timing.compare_steps(
        "lstm_step", f"LSTM {INPUT}-{HIDDEN} over {STEPS} rows + linear head, batch {BATCH}, "
        "one SGD step", args.repeats, model, nn.optim.SGD(model.parameters(), lr=LR),
        HandLSTM(model).step, x, y,
        lambda: (tm := torch_model(), torch.optim.SGD(tm.parameters(), lr=LR)))


if __name__ == "__main__":
    main()
