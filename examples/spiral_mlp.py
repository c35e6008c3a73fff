"""A define-by-run two-layer network on a 3-class spiral, with raw autodiff tensors.

Every hyperparameter is a flag:

    python examples/spiral_mlp.py --lr 1.0 --iterations 2000 --hidden 64 --l2 1e-3 --seed 0

The forward pass is ordinary code; `loss.backward()` differentiates whatever ran.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

import autodiff as ad


def spiral(n_per_class: int, classes: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """CS231n's spiral: `classes` interleaved arms of noisy points in the plane."""
    X = np.zeros((n_per_class * classes, 2), np.float32)
    y = np.zeros(n_per_class * classes, np.int64)
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(k * 4, (k + 1) * 4, n_per_class) + rng.standard_normal(n_per_class) * 0.2
        idx = slice(n_per_class * k, n_per_class * (k + 1))
        X[idx] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[idx] = k
    return X, y


@dataclass
class Result:
    train_accuracy: float
    test_accuracy: float
    final_loss: float
    seconds: float


def forward(params: dict[str, ad.Tensor], X: ad.Tensor) -> ad.Tensor:
    h = ad.relu(X @ params["W1"].T + params["b1"])
    return h @ params["W2"].T + params["b2"]


def cross_entropy(logits: ad.Tensor, y: np.ndarray) -> ad.Tensor:
    logp = ad.log_softmax(logits, axis=1)
    return -logp[np.arange(len(y)), y].mean()


def accuracy(params: dict[str, ad.Tensor], X: np.ndarray, y: np.ndarray) -> float:
    with ad.no_grad():
        return float((forward(params, ad.tensor(X)).data.argmax(axis=1) == y).mean())


def main(argv: list[str] | None = None) -> Result:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lr", type=float, default=1.0, help="learning rate")
    p.add_argument("--iterations", type=int, default=2000, help="gradient-descent steps")
    p.add_argument("--hidden", type=int, default=64, help="hidden units")
    p.add_argument("--l2", type=float, default=1e-3, help="L2 regularization strength")
    p.add_argument("--points", type=int, default=200, help="points per class")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--print-every", type=int, default=250)
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    X, y = spiral(args.points, 3, rng)
    order = rng.permutation(len(y))
    split = int(0.8 * len(y))
    tr, te = order[:split], order[split:]
    ad.manual_seed(args.seed)
    params = {
        "W1": ad.randn(args.hidden, 2) * np.sqrt(2.0 / 2),
        "b1": ad.zeros(args.hidden),
        "W2": ad.randn(3, args.hidden) * np.sqrt(1.0 / args.hidden),
        "b2": ad.zeros(3),
    }
    for t in params.values():
        t.requires_grad_()

    Xtr = ad.tensor(X[tr])
    start = time.perf_counter()
    loss = ad.tensor(np.nan)
    for it in range(args.iterations):
        data_loss = cross_entropy(forward(params, Xtr), y[tr])
        reg = 0.5 * args.l2 * ((params["W1"] ** 2).sum() + (params["W2"] ** 2).sum())
        loss = data_loss + reg
        loss.backward()
        with ad.no_grad():  # the course's update, in place: each W keeps its identity
            for t in params.values():
                t -= args.lr * t.grad
                t.grad = None
        if args.print_every and (it % args.print_every == 0 or it == args.iterations - 1):
            print(f"iteration {it:5d}  loss {loss.item():.4f}")
    seconds = time.perf_counter() - start
    result = Result(accuracy(params, X[tr], y[tr]), accuracy(params, X[te], y[te]),
                    float(loss.item()), seconds)
    print(f"trained {args.iterations} iterations in {seconds:.1f} s "
          f"({1e3 * seconds / max(args.iterations, 1):.2f} ms per step)")
    print(f"train accuracy {result.train_accuracy:.1%}, test accuracy {result.test_accuracy:.1%} "
          f"(chance: 33.3%)")
    print("what it learned: a non-linear boundary separating the three spiral arms; the "
          f"first-layer weights have norm {np.linalg.norm(params['W1'].data):.2f}")
    return result


if __name__ == "__main__":
    main()
