"""Regenerate the pictures of docs/visualization.md and docs/deploy.md (SVG in docs/images/):

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


def main(argv: list[str] | None = None) -> list[Path]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "images"))
    args = p.parse_args(argv)
    out = Path(args.out)
    os.makedirs(out, exist_ok=True)
    paths = [single_neuron(out), two_layer(out), *one_layer(out), collapsed(out),
             *exported(out)]
    for path in paths:
        print(f"wrote {path}")
    return paths


if __name__ == "__main__":
    main()
