"""Regenerate the pictures of docs/visualization.md, docs/deploy.md (SVG in docs/images/) and
docs/optim.md (the learning-rate schedules, a PNG drawn by matplotlib):

    python docs/make_pictures.py [--out docs/images]

Needs Graphviz's `dot`; without it the DOT text is written instead. The exported LeNet-5's
picture needs the `onnx` package (the extra 'export'); without it, it is left out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import autodiff as ad
import nn
import nn.functional as F
from autodiff import viz


def save(out: Path, name: str, *tensors: ad.Tensor, **options: object) -> Path:
    ext = "svg" if viz.dot_available() else "dot"
    path = out / f"{name}.{ext}"
    viz.render(*tensors, path=str(path), **options)
    return path


def single_neuron(out: Path) -> Path:
    w = ad.tensor([[0.8, -0.4, 0.3]], requires_grad=True, name="w")
    b = ad.tensor([[0.1]], requires_grad=True, name="b")
    x = ad.tensor([[1.0], [2.0], [-1.0]], name="x")
    z = w @ x + b
    a = ad.sigmoid(z)
    return save(out, "neuron", a, names={"z": z, "a": a}, show_values=True)


def two_layer(out: Path) -> Path:
    ad.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    x = ad.randn(8, 2)
    x.name = "x"
    y = ad.tensor((np.arange(8) % 2).reshape(8, 1).astype(np.float32), name="y")
    with viz.trace(model):
        logits = model(x)
    loss = F.binary_cross_entropy_with_logits(logits, y)
    return save(out, "two_layer", loss, model=model, names={"loss": loss, "logits": logits})


def one_layer(out: Path) -> list[Path]:
    """The course's layer, Z = W A_prev + b, A = relu(Z), J = mean cost: forward, backward,
    and the graph of the gradients themselves (dZ, dW, db as nodes)."""
    rng = np.random.default_rng(0)
    W = ad.tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    b = ad.tensor(np.zeros((3, 1)), requires_grad=True, name="b")
    A_prev = ad.tensor(rng.standard_normal((2, 4)), name="A_prev")
    Z = W @ A_prev + b
    A = ad.relu(Z)
    J = (A * A).sum() / 4
    names = {"W": W, "b": b, "Z": Z, "A": A, "J": J}
    paths = [save(out, "layer_forward", J, names=names),
             save(out, "layer_backward", J, names=names, view="backward")]
    seen = {}
    Z.register_hook(lambda g: seen.setdefault("dZ", g))
    dW, db = ad.gradients(J, [W, b], create_graph=True)
    paths.append(save(out, "layer_gradients", dW, db,
                      names={"dW": dW, "db": db, "dZ": seen["dZ"], "W": W, "b": b}))
    return paths


def collapsed(out: Path) -> Path:
    """A ResNet-8 with every layer below depth 2 collapsed into one node (blocks stay whole)."""
    from nn.vision.models import resnet8

    ad.manual_seed(0)
    model = resnet8(width=8)
    images = ad.randn(2, 1, 28, 28)
    images.name = "images"
    with viz.trace(model):
        logits = model(images)
    loss = F.cross_entropy(logits, np.array([3, 7]))
    return save(out, "collapsed_cnn", loss, model=model, depth=2)


def exported(out: Path) -> list[Path]:
    """LeNet-5 as the engine records it (evaluation mode) and as nn.onnx.export writes it."""
    from nn.vision.models import LeNet5

    ad.manual_seed(0)
    model = LeNet5()
    model.eval()
    images = ad.randn(2, 1, 28, 28)
    images.name = "input"
    with viz.trace(model):
        logits = model(images)
    paths = [save(out, "lenet5_engine", logits, model=model)]
    try:
        import onnx  # noqa: F401
    except ImportError:
        print("onnx is not installed: lenet5_onnx left out (pip install 'autodiff-nn[export]')")
        return paths
    onnx_file = nn.onnx.export(model, images, out / "lenet5.onnx")
    ext = "svg" if viz.dot_available() else "dot"
    paths.append(Path(viz.render_onnx(onnx_file, path=str(out / f"lenet5_onnx.{ext}"))))
    onnx_file.unlink()
    return paths


def schedule_curves() -> dict[str, tuple[list[float], list[float] | None]]:
    """Every schedule of nn.optim.lr_scheduler stepped through, from lr 1 (SGD, momentum 0.9):
    {title: (learning rates, momenta where the schedule sets them)}."""
    S = nn.optim.lr_scheduler
    plateau_metric = [1 / (1 + e) if e < 12 else 1 / 13 + 0.001 * (e % 2) for e in range(60)]
    makers = {
        "StepLR(step_size=15, gamma=0.5)": lambda o: S.StepLR(o, 15, 0.5),
        "MultiStepLR([10, 25, 45], 0.5)": lambda o: S.MultiStepLR(o, [10, 25, 45], 0.5),
        "ExponentialLR(0.95)": lambda o: S.ExponentialLR(o, 0.95),
        "CosineAnnealingLR(T_max=60)": lambda o: S.CosineAnnealingLR(o, 60),
        "LinearWarmup(10, after=Cosine)": lambda o: S.LinearWarmup(
            o, 10, 0.1, after=S.CosineAnnealingLR(o, 50)),
        "InverseTimeDecay(0.1)": lambda o: S.InverseTimeDecay(o, 0.1),
        "LambdaLR(0.9 ** (e // 5))": lambda o: S.LambdaLR(o, lambda e: 0.9 ** (e // 5)),
        "CosineAnnealingWarmRestarts(5, 2)": lambda o: S.CosineAnnealingWarmRestarts(o, 5, 2),
        "OneCycleLR(max_lr=1, 60 steps)": lambda o: S.OneCycleLR(o, 1.0, total_steps=60),
        "SequentialLR(Lambda, Exponential)": lambda o: S.SequentialLR(
            o, [S.LambdaLR(o, lambda e: (e + 1) / 10), S.ExponentialLR(o, 0.95)], [10]),
        "ChainedScheduler(Exp, Step)": lambda o: S.ChainedScheduler(
            [S.ExponentialLR(o, 0.98), S.StepLR(o, 20, 0.5)]),
        "ReduceLROnPlateau(patience=5)": lambda o: S.ReduceLROnPlateau(o, patience=5,
                                                                      factor=0.5),
    }
    curves: dict[str, tuple[list[float], list[float] | None]] = {}
    for title, make in makers.items():
        opt = nn.optim.SGD([ad.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
        sched = make(opt)
        lrs, momenta = [], []
        for epoch in range(60):
            lrs.append(opt.param_groups[0]["lr"])
            momenta.append(opt.param_groups[0]["momentum"])
            if epoch < 59:
                if isinstance(sched, S.ReduceLROnPlateau):
                    sched.step(plateau_metric[epoch])
                else:
                    sched.step()
        curves[title] = (lrs, momenta if len(set(momenta)) > 1 else None)
    return curves


def schedules(out: Path) -> Path:
    """One panel per learning-rate schedule: its rate over 60 steps (and OneCycleLR's
    momentum, dashed, on the right axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = schedule_curves()
    fig, axes = plt.subplots(3, 4, figsize=(14, 8), sharex=True)
    for ax, (title, (lrs, momenta)) in zip(axes.flat, curves.items()):
        ax.plot(lrs, color="tab:blue")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 1.05)
        if momenta is not None:
            twin = ax.twinx()
            twin.plot(momenta, color="tab:orange", linestyle="--")
            twin.set_ylabel("momentum", fontsize=8, color="tab:orange")
    for ax in axes[-1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("lr / initial lr")
    fig.tight_layout()
    path = out / "schedules.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> list[Path]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "images"))
    args = p.parse_args(argv)
    out = Path(args.out)
    os.makedirs(out, exist_ok=True)
    paths = [single_neuron(out), two_layer(out), *one_layer(out), collapsed(out),
             *exported(out), schedules(out)]
    for path in paths:
        print(f"wrote {path}")
    return paths


if __name__ == "__main__":
    main()
