"""Adversarial examples by the fast gradient sign method (FGSM): x' = x + eps * sign(dL/dx).

    python examples/fgsm.py --epochs 3 --out fgsm.png

Trains LeNet-5 on MNIST-5k, then plots test accuracy against epsilon, and a digit that the
smallest successful epsilon fools.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autodiff as ad
import nn.functional as F
from nn.vision import datasets

try:
    from saliency import train_lenet
except ImportError:  # loaded by path (tests)
    import importlib.util
    import sys

    _spec = importlib.util.spec_from_file_location("saliency", Path(__file__).with_name(
        "saliency.py"))
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["saliency"] = _mod
    _spec.loader.exec_module(_mod)
    train_lenet = _mod.train_lenet


def fgsm(model, x: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    """Perturb each image by eps in the direction that increases its loss, kept in [0, 1]."""
    xt = ad.tensor(x, requires_grad=True)
    loss = F.cross_entropy(model(xt), y, reduction="sum")
    (g,) = ad.gradients(loss, [xt])
    return np.clip(x + eps * np.sign(g.data), 0, 1).astype(x.dtype)


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    with ad.no_grad():
        return float((model(ad.tensor(x)).data.argmax(1) == y).mean())


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--eps", type=float, nargs="+", default=[0, 0.05, 0.1, 0.15, 0.2, 0.3])
    p.add_argument("--count", type=int, default=500, help="test images to attack")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="fgsm.png")
    args = p.parse_args(argv)
    data = datasets.mnist("5k", seed=args.seed)
    if args.limit:
        data.x_train, data.y_train = data.x_train[:args.limit], data.y_train[:args.limit]
    model = train_lenet(data, args.epochs, args.seed)
    x, y = data.x_test[:args.count], data.y_test[:args.count]
    accs = [accuracy(model, fgsm(model, x, y, e), y) for e in args.eps]
    for e, a in zip(args.eps, accs):
        print(f"eps {e:.2f}: accuracy {a:.1%}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # a fooled digit: the first correctly classified image that the attack flips
    fooled = None
    with ad.no_grad():
        clean = model(ad.tensor(x)).data.argmax(1)
    for e in args.eps[1:]:
        adv = fgsm(model, x, y, e)
        with ad.no_grad():
            pred = model(ad.tensor(adv)).data.argmax(1)
        hit = np.flatnonzero((clean == y) & (pred != y))
        if hit.size:
            i = hit[0]
            fooled = (x[i, 0], adv[i, 0], int(y[i]), int(pred[i]), e)
            break
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    axes[0].plot(args.eps, accs, marker="o")
    axes[0].set(xlabel="epsilon", ylabel="test accuracy", title="FGSM")
    if fooled:
        axes[1].imshow(fooled[0], cmap="gray")
        axes[1].set_title(f"clean: {fooled[2]}")
        axes[2].imshow(fooled[1], cmap="gray")
        axes[2].set_title(f"eps {fooled[4]:.2f}: predicted {fooled[3]}")
    for ax in axes[1:]:
        ax.axis("off")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    print(f"wrote {args.out}")
    return {"eps": args.eps, "accuracy": accs, "fooled": fooled is not None}


if __name__ == "__main__":
    main()
