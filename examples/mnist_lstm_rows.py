"""An LSTM reads each MNIST digit row by row (28 steps of 28 pixels); a linear layer
classifies its last hidden state. MNIST-5k (4,000 training, 1,000 test images).

    python examples/mnist_lstm_rows.py --hidden 128 --epochs 30 --lr 3e-3 --batch-size 64

The defaults (seed 0) reach the accuracy quoted in docs/recurrent.md.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

# One BLAS thread unless the environment says otherwise, set before NumPy loads: the per-step
# products are small (64 x 128 by 128 x 512), and on the 2-core machine, shared, a forward
# took 147 ms with OpenBLAS's default threads against 5 ms with one.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

import autodiff as ad  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.optim.clip import clip_grad_norm_  # noqa: E402
from nn.vision import datasets  # noqa: E402


@dataclass
class Result:
    test_accuracy: float
    seconds: float


class RowLSTM(nn.Module):
    """(B, 28, 28) images as 28 steps of 28 pixels -> LSTM -> Linear on the last h."""

    def __init__(self, hidden: int, layers: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(28, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 500) -> float:
    model.eval()
    with ad.no_grad():
        pred = np.concatenate([model(ad.tensor(x[i:i + batch])).data.argmax(1)
                               for i in range(0, len(x), batch)])
    model.train()
    return float((pred == y).mean())


def main(argv: list[str] | None = None) -> Result:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--clip", type=float, default=1.0, help="gradient norm clip")
    p.add_argument("--train-images", type=int, default=None, help="use the first N (a smoke run)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    data = datasets.mnist("5k", seed=args.seed)
    x_train, y_train = data.x_train[:args.train_images, 0], data.y_train[:args.train_images]
    x_test, y_test = data.x_test[:, 0], data.y_test
    ad.manual_seed(args.seed)
    model = RowLSTM(args.hidden, args.layers)
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loader = nn.data.DataLoader(nn.data.TensorDataset(x_train, y_train), args.batch_size,
                                shuffle=True, seed=args.seed)
    start = time.perf_counter()
    for _ in range(args.epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
        sched.step()
    seconds = time.perf_counter() - start
    acc = accuracy(model, x_test, y_test)
    print(f"row-by-row LSTM (hidden {args.hidden}, {args.layers} layer(s)) on MNIST-5k: test "
          f"accuracy {acc:.1%} on {len(y_test)} images, {seconds:.1f} s for {args.epochs} "
          f"epochs of {len(y_train)} images")
    return Result(acc, seconds)


if __name__ == "__main__":
    main()
