"""A small Vision Transformer on MNIST-5k, and where its heads look.

    python examples/vit_mnist.py --out vit_attention.png

Trains `vit_small_mnist` (16 patches of 7x7, dim 64, depth 4, 4 heads) on MNIST-5k's 4,000
training digits: AdamW with weight decay, a linear warmup then a cosine decay per step, random
rotations and shifts (nn.vision.transforms.RandomAffine), label smoothing. Prints the test
accuracy on the 1,000 test digits, then draws, for a few test digits, the attention of the
class token in the last layer, one map per head (which of the 4x4 patches it reads), and the
attention rollout through every layer (Abnar and Zuidema, 2020), as a PNG grid.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import datasets
from nn.vision import transforms as T
from nn.vision.vit import VisionTransformer, vit_small_mnist

MEAN, STD = 0.1307, 0.3081  # MNIST's pixel mean and standard deviation


def train(data: datasets.Split, epochs: int, batch_size: int, lr: float, seed: int,
          log: bool = True) -> VisionTransformer:
    """AdamW, warmup + cosine per step, augmentation, label smoothing 0.1."""
    ad.manual_seed(seed)
    model = vit_small_mnist()
    opt = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    steps = epochs * math.ceil(len(data.y_train) / batch_size)
    warmup = max(1, steps // 10)
    sched = nn.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup
        else 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, steps - warmup))))
    augment = T.RandomAffine(degrees=10, translate=0.1, seed=seed)
    loader = nn.data.DataLoader(nn.data.TensorDataset(data.x_train, data.y_train), batch_size,
                                shuffle=True, seed=seed)
    for epoch in range(epochs):
        model.train()
        start, total = time.perf_counter(), 0.0
        for xb, yb in loader:
            x = (augment(np.asarray(xb)) - MEAN) / STD
            loss = F.cross_entropy(model(ad.tensor(x)), yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(yb)
        if log:
            print(f"epoch {epoch + 1}/{epochs}: loss {total / len(data.y_train):.3f} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    return model.eval()


def accuracy(model: VisionTransformer, x: np.ndarray, y: np.ndarray) -> float:
    with ad.no_grad():
        pred = np.concatenate([model(ad.tensor((x[i:i + 500] - MEAN) / STD)).data.argmax(1)
                               for i in range(0, len(x), 500)])
    return float((pred == y).mean())


def attention_maps(model: VisionTransformer, images: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(last, rollout): the class token's attention over the patches in the last layer,
    per head, (N, heads, patches), and the rollout through all layers (the head-averaged
    attention plus the residual identity, renormalized and multiplied layer by layer),
    (N, patches)."""
    weights = []
    with ad.no_grad():
        h = model.encoder.dropout(model.tokens(ad.tensor((images - MEAN) / STD))
                                  + model.encoder.pos_embedding)
        for block in model.encoder.layers:
            y = block.ln_1(h)
            _, w = block.self_attention(y, y, y, average_attn_weights=False)
            weights.append(w.data)  # (N, heads, L, L)
            h = block(h)
    n, length = len(images), weights[0].shape[-1]
    rollout = np.broadcast_to(np.eye(length), (n, length, length))
    for w in weights:
        a = w.mean(1) + np.eye(length)
        rollout = (a / a.sum(-1, keepdims=True)) @ rollout
    return weights[-1][:, :, 0, 1:], rollout[:, 0, 1:]


def draw(images: np.ndarray, last: np.ndarray, rollout: np.ndarray, pred: np.ndarray,
         out: str) -> None:
    """A grid: one row per digit; the image, the last layer's class-token attention of each
    head, the rollout, each map upsampled from the patch grid and laid over the digit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, heads, patches = last.shape
    side = math.isqrt(patches)
    fig, axes = plt.subplots(n, heads + 2, figsize=(1.5 * (heads + 2), 1.5 * n + 0.3),
                             squeeze=False)
    for i in range(n):
        maps = [*last[i], rollout[i]]
        axes[i, 0].imshow(images[i, 0], cmap="gray")
        axes[i, 0].set_title(f"pred {pred[i]}", fontsize=8)
        for j, m in enumerate(maps, start=1):
            grid = np.kron(m.reshape(side, side), np.ones((28 // side, 28 // side)))
            axes[i, j].imshow(images[i, 0], cmap="gray")
            axes[i, j].imshow(grid, cmap="inferno", alpha=0.6)
            if i == 0:
                axes[i, j].set_title(f"head {j}" if j <= heads else "rollout", fontsize=8)
    for ax in axes.ravel():
        ax.axis("off")
    fig.suptitle("class-token attention over the 4x4 patches (last layer; rollout: all "
                 "layers)", fontsize=8)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--limit", type=int, default=0, help="training images to use (0: all)")
    p.add_argument("--count", type=int, default=4, help="test digits to draw")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="vit_attention.png")
    args = p.parse_args(argv)
    data = datasets.mnist("5k", seed=args.seed)
    if args.limit:
        data.x_train, data.y_train = data.x_train[:args.limit], data.y_train[:args.limit]
    start, cpu = time.perf_counter(), time.process_time()
    model = train(data, args.epochs, args.batch_size, args.lr, args.seed)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    acc = accuracy(model, data.x_test, data.y_test)
    print(f"test accuracy {acc:.2%} on {len(data.y_test)} digits after {args.epochs} epochs "
          f"({seconds:.0f} s of training, {cpu:.0f} s of CPU time)")
    images = data.x_test[:args.count]
    last, rollout = attention_maps(model, images)
    with ad.no_grad():
        pred = model(ad.tensor((images - MEAN) / STD)).data.argmax(1)
    draw(images, last, rollout, pred, args.out)
    print(f"attention maps of {args.count} test digits written to {args.out}")
    return {"accuracy": acc, "seconds": seconds, "cpu_seconds": cpu, "last": last,
            "rollout": rollout, "out": args.out}


if __name__ == "__main__":
    main()
