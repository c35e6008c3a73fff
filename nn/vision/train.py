"""The training command: `python -m nn.vision train | evaluate | predict | search | sweep`.

    python -m nn.vision train --model lenet5 --data mnist-5k --epochs 10 --batch-size 64 \\
        --optimizer adam --lr 1e-3 --momentum 0.9 --weight-decay 0 --dropout 0 \\
        --schedule cosine --out runs/lenet5

writes to the output folder: best.npz (the best checkpoint by validation accuracy),
curves.png, confusion.png, graph.svg (graph.dot without Graphviz), metrics.json.
`search` (hyperparameter search on Optuna, and `sweep`, its grid form) is in nn.vision.search.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import datasets, models
from nn.vision import transforms as T

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "cosine", "step", "inverse-time", "warmup-cosine")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m nn.vision",
                                description="Train and use vision models.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--data", default="mnist-5k", help=", ".join(datasets.DATASETS))
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--batch-size", type=int, default=64)
        q.add_argument("--limit", type=int, default=0,
                       help="use only this many training and test images (quick runs)")

    t = sub.add_parser("train", help="train a model and write its outputs")
    common(t)
    t.add_argument("--model", default="lenet5", help=", ".join(models.MODELS))
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--momentum", type=float, default=0.9, help="SGD/RMSprop momentum, Adam beta1")
    t.add_argument("--weight-decay", type=float, default=0.0, help="L2 regularization")
    t.add_argument("--dropout", type=float, default=0.0)
    t.add_argument("--width", type=int, default=None, help="model width (channels/units)")
    t.add_argument("--depth", type=int, default=None, help="model depth (blocks/layers)")
    t.add_argument("--schedule", choices=SCHEDULES, default="cosine")
    t.add_argument("--augment", action="store_true", help="random crops and small affine moves")
    t.add_argument("--val-fraction", type=float, default=0.1,
                   help="part of the training set held out for validation")
    t.add_argument("--out", default="runs/train")
    t.add_argument("--no-progress", action="store_true")

    e = sub.add_parser("evaluate", help="a checkpoint on a test split")
    common(e)
    e.add_argument("checkpoint")

    r = sub.add_parser("predict", help="top-k predictions for image files or a split")
    r.add_argument("checkpoint")
    r.add_argument("images", nargs="*", help="PNG files (else the first --count test images)")
    r.add_argument("--data", default="mnist-5k")
    r.add_argument("--count", type=int, default=5)
    r.add_argument("--top-k", type=int, default=3)

    from nn.vision.search import add_search_parser  # search imports this module

    add_search_parser(sub)
    s = sub.add_parser("sweep", help="grid or random search over hyperparameters")
    common(s)
    s.add_argument("--model", default="lenet5")
    s.add_argument("--epochs", type=int, default=2)
    s.add_argument("--lr", type=float, nargs="+", default=[1e-3, 3e-3])
    s.add_argument("--batch-sizes", type=int, nargs="+", default=[64])
    s.add_argument("--momentum", type=float, nargs="+", default=[0.9])
    s.add_argument("--weight-decay", type=float, nargs="+", default=[0.0])
    s.add_argument("--width", type=int, nargs="+", default=[None])
    s.add_argument("--depth", type=int, nargs="+", default=[None])
    s.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    s.add_argument("--random", type=int, default=0, help="sample this many configurations")
    s.add_argument("--out", default="runs/sweep")
    return p


# -- pieces ------------------------------------------------------------------------------------


def load_data(name: str, seed: int, limit: int = 0) -> datasets.Split:
    d = datasets.load(name, seed)
    if limit:
        d.x_train, d.y_train = d.x_train[:limit], d.y_train[:limit]
        d.x_test, d.y_test = d.x_test[:limit], d.y_test[:limit]
    return d


def make_model(name: str, data: datasets.Split, dropout: float = 0.0, width: int | None = None,
               depth: int | None = None) -> nn.Module:
    kw: dict[str, Any] = {"num_classes": data.num_classes, "dropout": dropout}
    if name == "mlp":
        kw["in_features"] = int(np.prod(data.image_shape))
    else:
        kw["in_channels"] = data.image_shape[0]
    if width is not None:
        kw["width"] = width
    if depth is not None:
        if name in ("resnet8", "resnet20"):
            name = "resnet8"
            kw["blocks"] = depth
            return models.ResNet(**kw)
        if name == "lenet5":
            raise ValueError("lenet5 has a fixed depth; --depth applies to resnet, mobilenet, mlp")
        kw["depth"] = depth
    return models.get_model(name, **kw)


def make_optimizer(name: str, params: Any, lr: float, momentum: float,
                   weight_decay: float) -> nn.optim.Optimizer:
    if name == "sgd":
        return nn.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return nn.optim.Adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
    if name == "adamw":
        return nn.optim.AdamW(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
    return nn.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


def make_schedule(name: str, opt: nn.optim.Optimizer, epochs: int) -> Any:
    S = nn.optim.lr_scheduler
    if name == "cosine":
        return S.CosineAnnealingLR(opt, T_max=max(epochs, 1))
    if name == "step":
        return S.StepLR(opt, step_size=max(epochs // 3, 1), gamma=0.1)
    if name == "inverse-time":
        return S.InverseTimeDecay(opt, decay_rate=0.5)
    if name == "warmup-cosine":
        return S.LinearWarmup(opt, 1, 0.1, after=S.CosineAnnealingLR(opt, max(epochs - 1, 1)))
    return None


def predict(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities, in evaluation mode, without recording a graph."""
    model.eval()
    out = []
    with ad.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(F.softmax(model(ad.tensor(x[i:i + batch_size])), axis=1).data)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(model, x).argmax(1) == y).mean()) if len(y) else float("nan")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


# -- train ---------------------------------------------------------------------------------------


def train(args: argparse.Namespace, *,
          on_epoch: Callable[[int, float], None] | None = None) -> dict[str, Any]:
    from tqdm import tqdm

    ad.manual_seed(args.seed)
    data = load_data(args.data, args.seed, args.limit)
    n_val = int(len(data.y_train) * args.val_fraction)
    order = np.random.default_rng(args.seed).permutation(len(data.y_train))
    val, tr = order[:n_val], order[n_val:]
    xtr, ytr, xval, yval = data.x_train[tr], data.y_train[tr], data.x_train[val], \
        data.y_train[val]
    model = make_model(args.model, data, args.dropout, args.width, args.depth)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum,
                         args.weight_decay)
    sched = make_schedule(args.schedule, opt, args.epochs)
    augment = T.Compose([T.RandomAffine(8, 0.08, seed=args.seed)]) if args.augment else None
    loader = nn.data.DataLoader(nn.data.TensorDataset(xtr, ytr), args.batch_size, shuffle=True,
                                seed=args.seed, transform=augment)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    history: dict[str, list[float]] = {"train_loss": [], "train_accuracy": [],
                                       "val_accuracy": [], "lr": [], "seconds": []}
    best = -1.0
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", disable=args.no_progress,
                   leave=False)
        for xb, yb in bar:
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.data.argmax(1) == yb.data).sum())
            seen += len(yb)
            rate = seen / (time.perf_counter() - start)
            bar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{correct / seen:.3f}",
                            img_s=f"{rate:.0f}")
        seconds = time.perf_counter() - start
        val_acc = accuracy(model, xval, yval) if len(yval) else correct / max(seen, 1)
        history["train_loss"].append(total / max(seen, 1))
        history["train_accuracy"].append(correct / max(seen, 1))
        history["val_accuracy"].append(val_acc)
        history["lr"].append(opt.param_groups[0]["lr"])
        history["seconds"].append(seconds)
        print(f"epoch {epoch + 1:3d}  loss {total / max(seen, 1):.4f}  train "
              f"{correct / max(seen, 1):.2%}  val {val_acc:.2%}  {seconds:.1f} s "
              f"({seen / seconds:.0f} img/s)", flush=True)
        if val_acc >= best:  # on a tie the later epoch (more training, lower lr) wins
            best = val_acc
            nn.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "epoch": epoch + 1, "rng": ad.get_rng_state(),
                     "config": {k: v for k, v in vars(args).items() if k != "func"}},
                    out / "best.npz")
        if sched is not None:
            sched.step()
        if on_epoch is not None:  # the search's pruner; its TrialPruned stops the run here
            on_epoch(epoch + 1, val_acc)
    ck = nn.load(out / "best.npz")
    model.load_state_dict(ck["model"])
    probs = predict(model, data.x_test)
    pred = probs.argmax(1)
    test_acc = float((pred == data.y_test).mean())
    cm = confusion(data.y_test, pred, data.num_classes)
    metrics = {"model": args.model, "data": args.data, "test_accuracy": test_acc,
               "best_val_accuracy": best, "best_epoch": ck["epoch"],
               "seconds_per_epoch": float(np.median(history["seconds"])),
               "parameters": int(sum(p.size for p in model.parameters())),
               "history": history, "confusion": cm.tolist(),
               "config": {k: v for k, v in vars(args).items() if k != "func"}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    _plot_curves(history, out / "curves.png")
    _plot_confusion(cm, data.classes, out / "confusion.png")
    _draw_graph(model, data, out)
    print(f"test accuracy {test_acc:.2%} ({args.model} on {args.data}, best epoch "
          f"{ck['epoch']}); outputs in {out}")
    return metrics


def _plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(epochs, history["train_loss"], marker="o")
    a.set(xlabel="epoch", ylabel="training loss", title="loss")
    b.plot(epochs, history["train_accuracy"], marker="o", label="train")
    b.plot(epochs, history["val_accuracy"], marker="o", label="validation")
    b.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_confusion(cm: np.ndarray, classes: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(cm, cmap="Blues")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xlabel="predicted",
           ylabel="true", title="confusion matrix (test)")
    ax.set_xticklabels(classes, rotation=90 if max(map(len, classes)) > 2 else 0)
    ax.set_yticklabels(classes)
    for i, j in itertools.product(range(len(classes)), repeat=2):
        if cm[i, j]:
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _draw_graph(model: nn.Module, data: datasets.Split, out: Path) -> Path:
    from autodiff import viz

    model.eval()
    with viz.trace(model):
        logits = model(ad.tensor(data.x_test[:2]))
    loss = F.cross_entropy(logits, data.y_test[:2])
    path = out / ("graph.svg" if viz.dot_available() else "graph.dot")
    return Path(viz.render(loss, path=str(path), model=model, depth=1))


# -- evaluate, predict -------------------------------------------------------------------------


def _load_checkpoint(path: str, data: datasets.Split) -> tuple[nn.Module, dict[str, Any]]:
    ck = nn.load(path)
    cfg = ck.get("config", {})
    model = make_model(cfg.get("model", "lenet5"), data, cfg.get("dropout", 0.0),
                       cfg.get("width"), cfg.get("depth"))
    model.load_state_dict(ck["model"])
    return model, ck


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    data = load_data(args.data, args.seed, args.limit)
    model, ck = _load_checkpoint(args.checkpoint, data)
    pred = predict(model, data.x_test).argmax(1)
    acc = float((pred == data.y_test).mean())
    print(f"{args.checkpoint}: test accuracy {acc:.2%} on {len(pred)} {args.data} images")
    return {"test_accuracy": acc, "epoch": ck.get("epoch")}


def _read_image(path: str, shape: tuple[int, ...]) -> np.ndarray:
    import matplotlib.image as mpimg

    img = np.asarray(mpimg.imread(path), dtype=np.float32)
    if img.ndim == 3:
        img = img[..., :3].mean(-1) if shape[0] == 1 else img[..., :3].transpose(2, 0, 1)
    if img.max() > 1:
        img = img / 255.0
    img = img.reshape(-1, *img.shape[-2:]) if img.ndim == 3 else img[None]
    if img.shape[1:] != tuple(shape[1:]):
        t = F.interpolate(ad.tensor(img[None]), size=tuple(shape[1:]), mode="bilinear")
        img = t.data[0]
    return img.astype(np.float32)


def predict_command(args: argparse.Namespace) -> list[list[tuple[str, float]]]:
    data = load_data(args.data, 0)
    model, _ = _load_checkpoint(args.checkpoint, data)
    if args.images:
        x = np.stack([_read_image(p, data.image_shape) for p in args.images])
        names = args.images
    else:
        x = data.x_test[:args.count]
        names = [f"test[{i}] (label {data.classes[data.y_test[i]]})" for i in range(len(x))]
    probs = predict(model, x)
    results = []
    for name, p in zip(names, probs):
        top = np.argsort(-p)[:args.top_k]
        pairs = [(data.classes[i], float(p[i])) for i in top]
        results.append(pairs)
        print(f"{name}: " + ", ".join(f"{c} {q:.1%}" for c, q in pairs))
    return results


def main(argv: list[str] | None = None) -> Any:
    args = build_parser().parse_args(argv)
    ad.keep_freed_memory()  # a training process: reuse freed arrays (LeNet step 15.6 -> 9.9 ms)
    if args.command == "train":
        if args.model not in models.MODELS:
            raise SystemExit(f"unknown model {args.model!r}; known: {', '.join(models.MODELS)}")
        if args.data not in datasets.DATASETS:
            raise SystemExit(f"unknown dataset {args.data!r}; known: "
                             f"{', '.join(datasets.DATASETS)}")
        return train(args)
    if args.command == "evaluate":
        return evaluate(args)
    if args.command == "predict":
        return predict_command(args)
    from nn.vision import search

    return search.search(args) if args.command == "search" else search.sweep(args)
