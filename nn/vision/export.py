"""`python -m nn.vision export RUN_DIR --format onnx`: a training run's best checkpoint as an
ONNX file, `model.onnx` next to it, with a dynamic batch axis.

The model is rebuilt from the configuration the checkpoint saved (as `evaluate` does) and
exported with `nn.onnx.export` on two of the dataset's test images; where ONNX Runtime is
installed, the file is then run on eight test images and compared with the engine.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import autodiff as ad
import nn

FORMATS = ("onnx",)
CHECKPOINT = "best.npz"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The `export` subcommand and its arguments."""
    e = sub.add_parser("export", help="a run's best checkpoint as an ONNX file (model.onnx)")
    e.add_argument("run_dir", help=f"a training run's folder (holding {CHECKPOINT}), or a "
                                   "checkpoint file")
    e.add_argument("--format", choices=FORMATS, default="onnx")
    e.add_argument("--opset", type=int, default=17, help="the ONNX opset (13 or later)")
    return e


def export_command(args: argparse.Namespace) -> dict[str, Any]:
    """Export the run's checkpoint; returns the file's path and, when ONNX Runtime is
    installed, the largest difference from the engine on eight test images."""
    from nn.vision.build import load_data
    from nn.vision.inference import model_from_checkpoint, read_checkpoint

    source = Path(args.run_dir)
    checkpoint = source / CHECKPOINT if source.is_dir() else source
    if not checkpoint.is_file():
        raise SystemExit(f"export: {checkpoint} not found: give a training run's folder "
                         f"(python -m nn.vision train --out ...) or a checkpoint file")
    try:  # best.npz, last.npz or best.safetensors (its config in its metadata)
        ck = read_checkpoint(checkpoint)
    except ValueError as e:
        raise SystemExit(f"export: {e}") from None
    cfg = ck.get("config", {})
    data = load_data(cfg.get("data", "mnist-5k"), cfg.get("seed", 0))
    model = model_from_checkpoint(ck, data)
    path = nn.onnx.export(model, data.x_test[:2], checkpoint.parent / "model.onnx",
                          opset=args.opset)
    result: dict[str, Any] = {"path": path, "max_abs_diff": None}
    try:
        import onnxruntime
    except ImportError:
        print(f"wrote {path} (ONNX Runtime is not installed: the file was not run)")
        return result
    x = data.x_test[:8].astype(np.float32)
    (got,) = onnxruntime.InferenceSession(str(path)).run(None, {"input": x})
    model.eval()
    with ad.no_grad():
        want = model(ad.tensor(x)).numpy()
    result["max_abs_diff"] = float(np.abs(got - want).max())
    print(f"wrote {path}: {cfg.get('model', 'lenet5')} on {cfg.get('data', 'mnist-5k')} "
          f"images, any batch size; ONNX Runtime's logits on {len(x)} test images are the "
          f"engine's within {result['max_abs_diff']:.1e}")
    return result
