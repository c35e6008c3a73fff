"""A tiny U-Net (conv, transposed conv, skip concatenation) segmenting a synthetic shapes
dataset the script makes: noisy images with a disc or a square; the mask is the shape.

    python examples/unet_shapes.py --epochs 15 --out unet.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autodiff as ad
import nn
import nn.functional as F


def make_shapes(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, 1, size, size), np.float32)
    masks = np.zeros((n, 1, size, size), np.float32)
    for i in range(n):
        r = rng.integers(size // 6, size // 3)
        cy, cx = rng.integers(r, size - r, 2)
        if rng.random() < 0.5:
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            m = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        masks[i, 0] = m
        images[i, 0] = m * rng.uniform(0.5, 1.0) + rng.normal(0, 0.25, (size, size))
    return images, masks


class TinyUNet(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.down1 = nn.Sequential(nn.Conv2d(1, w, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.out = nn.Sequential(nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(w, 1, 1))

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        a = self.down1(x)
        b = self.down2(a)
        u = self.up(b)
        return self.out(ad.concatenate([u, a], axis=1))  # the skip connection


def iou(logits: np.ndarray, masks: np.ndarray) -> float:
    pred = logits > 0
    truth = masks > 0.5
    return float((pred & truth).sum() / max((pred | truth).sum(), 1))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--train", type=int, default=256)
    p.add_argument("--size", type=int, default=24)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="unet.png")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    x, m = make_shapes(args.train + 64, args.size, rng)
    xtr, mtr, xte, mte = x[:args.train], m[:args.train], x[args.train:], m[args.train:]
    ad.manual_seed(args.seed)
    model = TinyUNet(args.width)
    opt = nn.optim.Adam(model.parameters(), lr=args.lr)
    loader = nn.data.DataLoader(nn.data.TensorDataset(xtr, mtr), 32, shuffle=True,
                                seed=args.seed)
    for _epoch in range(args.epochs):
        for xb, mb in loader:
            loss = F.binary_cross_entropy_with_logits(model(xb), mb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with ad.no_grad():
        logits = model(ad.tensor(xte)).data
    score = iou(logits, mte)
    print(f"tiny U-Net after {args.epochs} epochs: test IoU {score:.2f} "
          f"(baseline of thresholding the noisy image: {iou(xte - 0.25, mte):.2f})")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 4, figsize=(6, 4.6))
    for j in range(4):
        for i, (img, title) in enumerate([(xte[j, 0], "image"), (mte[j, 0], "mask"),
                                          (logits[j, 0] > 0, "predicted")]):
            axes[i, j].imshow(img, cmap="gray")
            axes[i, j].axis("off")
            if j == 0:
                axes[i, j].set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    plt.close(fig)
    return {"iou": score}


if __name__ == "__main__":
    main()
