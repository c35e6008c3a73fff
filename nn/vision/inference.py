"""Using a trained model: class probabilities, accuracy, the confusion matrix, and the
`evaluate` and `predict` commands on a checkpoint (`best.npz`, `last.npz` or
`best.safetensors`).

>>> import numpy as np
>>> from nn.vision import inference
>>> inference.confusion(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
[[1, 0], [1, 1]]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
from nn.serialization import format_of
from nn.vision import datasets
from nn.vision.build import load_data, make_model
from nn.vision.transforms import Resize


def predict(model: nn.Module, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities (N, classes) of a batch of float images x (N, C, H, W) in [0, 1],
    in evaluation mode, without recording a graph. One image is a batch of one (`x[None]`);
    integer images are refused (scale them: `x / 255`).

    >>> import numpy as np
    >>> from nn.vision import inference, models
    >>> inference.predict(models.MLP(in_features=4), np.zeros((3, 1, 2, 2), np.float32)).shape
    (3, 10)
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"predict: the images are {x.dtype}; the models take float images in "
                        "[0, 1], as they were trained: pass x / 255 for 8-bit images")
    if x.ndim != 4:
        raise ValueError(f"predict: expects a batch of images (N, C, H, W), got shape "
                         f"{x.shape}" + ("; for one image (C, H, W) pass x[None]"
                                         if x.ndim == 3 else ""))
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be a positive int, got {batch_size!r}")
    model.eval()
    out = []
    with ad.no_grad():
        for i in range(0, max(len(x), 1), batch_size):  # an empty x: once, for (0, classes)
            out.append(F.softmax(model(ad.tensor(x[i:i + batch_size])), axis=1).data)
    return np.concatenate(out)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of `x` the model classifies as `y` (NaN for no examples).

    >>> import numpy as np
    >>> from nn.vision import inference, models
    >>> acc = inference.accuracy(models.MLP(in_features=4), np.zeros((4, 1, 2, 2), np.float32),
    ...                          np.zeros(4, np.int64))
    >>> 0.0 <= acc <= 1.0
    True
    """
    return float((predict(model, x).argmax(1) == y).mean()) if len(y) else float("nan")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs, a k x k integer matrix.

    >>> import numpy as np
    >>> from nn.vision import inference
    >>> inference.confusion(np.array([1]), np.array([0]), 2).tolist()
    [[0, 0], [1, 0]]
    """
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def load_checkpoint(path: str, data: datasets.Split) -> tuple[nn.Module, dict[str, Any]]:
    """The model a checkpoint of the training command holds, built as its saved config says,
    and the checkpoint: `best.npz` or `last.npz` ({"model", "config", "epoch", ...}), or a
    .safetensors file of weights, `best.safetensors` (a state dict; its metadata's "config" and
    "epoch" complete the checkpoint).

    >>> import os, tempfile, nn
    >>> from nn.vision import build, inference
    >>> d = build.load_data("digits", seed=0, limit=20)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.npz")
    >>> nn.save({"model": build.make_model("mlp", d, width=8).state_dict(), "epoch": 1,
    ...          "config": {"model": "mlp", "width": 8}}, path)
    >>> model, ck = inference.load_checkpoint(path, d)
    >>> type(model).__name__, ck["epoch"]
    ('MLP', 1)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.safetensors")
    >>> nn.save(model.state_dict(), path, metadata={"config": '{"model": "mlp", "width": 8}'})
    >>> model, ck = inference.load_checkpoint(path, d)
    >>> type(model).__name__, ck["config"]["width"], ck["epoch"] is None
    ('MLP', 8, True)
    """
    ck = read_checkpoint(path)
    return model_from_checkpoint(ck, data), ck


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A checkpoint of the training command as {"model": state dict, "config", "epoch", ...}:
    `best.npz` or `last.npz` as saved, a .safetensors file of weights completed by its
    metadata; ValueError naming the file for anything else.

    >>> import os, tempfile, nn
    >>> from nn.vision import inference
    >>> path = os.path.join(tempfile.mkdtemp(), "other.npz")
    >>> nn.save({"weights": [1.0]}, path)
    >>> inference.read_checkpoint(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../other.npz is not a checkpoint of the training command (it holds no ...)
    """
    ck = nn.load(path)
    if not (isinstance(ck, dict) and isinstance(ck.get("model"), dict)):
        if format_of(path, "load") != ".safetensors":
            raise ValueError(f"{path} is not a checkpoint of the training command (it holds no "
                             "'model' state dict)")
        ck = {"model": ck, **_architecture(os.fspath(path))}
    return ck


def model_from_checkpoint(ck: dict[str, Any], data: datasets.Split) -> nn.Module:
    """The model `read_checkpoint`'s `ck` holds, built for `data` as its config says.

    >>> import nn
    >>> from nn.vision import build, inference
    >>> d = build.load_data("digits", seed=0, limit=20)
    >>> ck = {"model": build.make_model("mlp", d, width=8).state_dict(),
    ...       "config": {"model": "mlp", "width": 8}}
    >>> type(inference.model_from_checkpoint(ck, d)).__name__
    'MLP'
    """
    cfg = ck.get("config", {})
    model = make_model(cfg.get("model", "lenet5"), data, cfg.get("dropout", 0.0),
                       cfg.get("width"), cfg.get("depth"))
    model.load_state_dict(ck["model"])
    return model


_EXAMPLE_CONFIG = """metadata={"config": '{"model": "resnet8", "width": 16}'}"""


def _architecture(path: str) -> dict[str, Any]:
    """What a .safetensors file of weights says in its metadata: {"config": its "config" (JSON
    text: the run's config, at least "model"), "epoch": its "epoch" or None}."""
    meta = nn.load_metadata(path)
    if "config" not in meta:
        raise ValueError(f"{path} does not say which model its weights are for: its metadata "
                         "has no 'config' (the training command writes one; add one to weights "
                         "saved elsewhere, as JSON text: " + _EXAMPLE_CONFIG + ")")
    try:
        config = json.loads(meta["config"])
        epoch = int(meta["epoch"]) if "epoch" in meta else None
    except ValueError as e:
        raise ValueError(f"{path}: its metadata's config or epoch is corrupt ({e})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: its metadata's config is not a JSON object: {meta['config']}")
    return {"config": config, "epoch": epoch}


def _split_of(args: argparse.Namespace, ck: dict[str, Any]) -> tuple[str, int]:
    """The dataset and seed `args` give (`--data`, `--seed`), by default the checkpoint's run's:
    its test split, which holds no image it trained on. Another seed for the same dataset draws
    another split, whose test images the model may have trained on: said on stderr."""
    cfg = ck.get("config", {})
    name = getattr(args, "data", None) or cfg.get("data", "mnist-5k")
    seed = getattr(args, "seed", None)
    seed = cfg.get("seed", 0) if seed is None else seed
    if name == cfg.get("data") and seed != cfg.get("seed", seed):
        print(f"note: the run split {name} with seed {cfg['seed']}; seed {seed} draws another "
              "test split, which may hold images the model trained on", file=sys.stderr)
    return name, seed


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """`python -m nn.vision evaluate CHECKPOINT`: test accuracy on a split, by default the test
    split of the checkpoint's run (its dataset and seed).

    >>> import argparse, os, tempfile, nn
    >>> from nn.vision import build, inference
    >>> d = build.load_data("digits", seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.npz")
    >>> nn.save({"model": build.make_model("mlp", d).state_dict(), "epoch": 1,
    ...          "config": {"model": "mlp"}}, path)
    >>> r = inference.evaluate(argparse.Namespace(data="digits", seed=0, limit=20,
    ...                                           checkpoint=path))  # doctest: +ELLIPSIS
    /...: test accuracy ...% on 20 digits images
    >>> r["epoch"]
    1
    """
    ck = read_checkpoint(args.checkpoint)
    data = load_data(*_split_of(args, ck), getattr(args, "limit", 0))
    model = model_from_checkpoint(ck, data)
    pred = predict(model, data.x_test, getattr(args, "batch_size", 256)).argmax(1)
    acc = float((pred == data.y_test).mean())
    print(f"{args.checkpoint}: test accuracy {acc:.2%} on {len(pred)} {data.name} images")
    return {"test_accuracy": acc, "epoch": ck.get("epoch")}


def _read_image(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """An image file as a float32 (C, H, W) array in [0, 1] of `shape`: grey, RGB or RGBA (alpha
    dropped) made into the model's channels, resized to its height and width as torchvision's
    Resize does (bilinear, antialiased)."""
    import matplotlib.image as mpimg

    raw = np.asarray(mpimg.imread(path))
    img = raw.astype(np.float32)
    if np.issubdtype(raw.dtype, np.integer):  # PNG comes in [0, 1]; JPEG and others as bytes
        img /= np.iinfo(raw.dtype).max
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] in (2, 4):  # grey or RGB with alpha
        img = img[..., :-1]
    if shape[0] == 1:
        img = img.mean(-1, keepdims=True)
    elif img.shape[-1] == 1:
        img = np.repeat(img, shape[0], axis=-1)
    elif img.shape[-1] != shape[0]:
        raise ValueError(f"predict: {path} has {img.shape[-1]} channels; the model takes "
                         f"{shape[0]}")
    img = img.transpose(2, 0, 1)
    if img.shape[1:] != tuple(shape[1:]):
        img = Resize(tuple(shape[1:]))(img)
    return img.astype(np.float32)


def predict_command(args: argparse.Namespace) -> list[list[tuple[str, float]]]:
    """`python -m nn.vision predict CHECKPOINT [IMAGES]`: the top-k classes of each image.

    >>> import argparse, os, tempfile, nn
    >>> from nn.vision import build, inference
    >>> d = build.load_data("digits", seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.npz")
    >>> nn.save({"model": build.make_model("mlp", d).state_dict(),
    ...          "config": {"model": "mlp"}}, path)
    >>> top = inference.predict_command(argparse.Namespace(
    ...     checkpoint=path, images=[], data="digits", count=1, top_k=2))  # doctest: +ELLIPSIS
    test[0] (label ...): ...
    >>> len(top[0])
    2
    """
    ck = read_checkpoint(args.checkpoint)
    data = load_data(*_split_of(args, ck))
    model = model_from_checkpoint(ck, data)
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
