"""A multi-class MLP on scikit-learn's 8x8 digits (1,797 images, 10 classes).

    python examples/digits_mlp.py --hidden 128 --epochs 20 --lr 2e-3 --batch-size 64

Seed 0 (the default, and the test) reaches 97.8% test accuracy; the test split is drawn from
the seed, and seeds 1 and 2 gave 96.7% and 95.8%.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import autodiff as ad
import nn
import nn.functional as F


@dataclass
class Result:
    test_accuracy: float
    seconds: float


def main(argv: list[str] | None = None) -> Result:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--depth", type=int, default=2, help="hidden layers")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    te, tr = order[:360], order[360:]
    ad.manual_seed(args.seed)
    layers: list[nn.Module] = []
    width = 64
    for _ in range(args.depth):
        layers += [nn.Linear(width, args.hidden), nn.ReLU(), nn.Dropout(args.dropout)]
        width = args.hidden
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    opt = nn.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loader = nn.data.DataLoader(nn.data.TensorDataset(X[tr], y[tr]), args.batch_size,
                                shuffle=True, seed=args.seed)
    start = time.perf_counter()
    for _ in range(args.epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    seconds = time.perf_counter() - start
    model.eval()
    with ad.no_grad():
        pred = model(ad.tensor(X[te])).data.argmax(1)
    acc = float((pred == y[te]).mean())
    print(f"digits MLP {[64] + [args.hidden] * args.depth + [10]}: test accuracy {acc:.1%} "
          f"on {len(te)} images, {seconds:.1f} s for {args.epochs} epochs")
    return Result(acc, seconds)


if __name__ == "__main__":
    main()
