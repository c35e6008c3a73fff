"""Saliency: the gradient of the class score with respect to the input image, drawn beside it.

    python examples/saliency.py --epochs 3 --out saliency.png

Trains a small LeNet-5 on MNIST-5k (or loads --checkpoint), then for a few test digits computes
d score[class] / d image with one backward pass and plots |gradient| next to each image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import datasets, models


def train_lenet(data: datasets.Split, epochs: int, seed: int) -> nn.Module:
    ad.manual_seed(seed)
    model = models.LeNet5()
    opt = nn.optim.Adam(model.parameters(), lr=3e-3)
    loader = nn.data.DataLoader(nn.data.TensorDataset(data.x_train, data.y_train), 64,
                                shuffle=True, seed=seed)
    for _ in range(epochs):
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def saliency(model: nn.Module, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|d score[predicted class] / d image| per image, and the predicted classes."""
    x = ad.tensor(images, requires_grad=True)
    logits = model(x)
    pred = logits.data.argmax(1)
    score = (logits * np.eye(logits.shape[1], dtype=logits.dtype)[pred]).sum()
    (grad,) = ad.gradients(score, [x])
    return np.abs(grad.data), pred


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--count", type=int, default=6)
    p.add_argument("--limit", type=int, default=0, help="training images to use (0: all)")
    p.add_argument("--checkpoint", default=None, help="a best.npz from nn.vision train")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="saliency.png")
    args = p.parse_args(argv)
    data = datasets.mnist("5k", seed=args.seed)
    if args.limit:
        data.x_train, data.y_train = data.x_train[:args.limit], data.y_train[:args.limit]
    if args.checkpoint:
        model = models.LeNet5()
        model.load_state_dict(nn.load(args.checkpoint)["model"])
        model.eval()
    else:
        model = train_lenet(data, args.epochs, args.seed)
    images = data.x_test[:args.count]
    sal, pred = saliency(model, images)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, args.count, figsize=(1.6 * args.count, 3.4))
    for i in range(args.count):
        axes[0, i].imshow(images[i, 0], cmap="gray")
        axes[0, i].set_title(f"pred {pred[i]}", fontsize=9)
        axes[1, i].imshow(sal[i, 0], cmap="hot")
        for ax in axes[:, i]:
            ax.axis("off")
    axes[1, 0].set_title("|d score / d image|", fontsize=8, loc="left")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    accuracy = float((pred == data.y_test[:args.count]).mean())
    print(f"saliency maps for {args.count} test digits written to {args.out} "
          f"(correct on {accuracy:.0%} of them)")
    return {"saliency": sal, "pred": pred, "out": args.out}


if __name__ == "__main__":
    main()
