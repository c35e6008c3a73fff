"""ONNX export: a model as an ONNX file that ONNX Runtime (servers, phones, browsers) runs.

`export` reads the graph of one forward pass in evaluation mode (`trace.py`), maps each
recorded op to ONNX ops through one table (`ops.py`), and writes the model with the `onnx`
package (`writer.py`). The optional extra `export` installs `onnx` and `onnxruntime`
(`pip install 'autodiff-nn[export]'`); `import nn` does not need them.

>>> import os, tempfile
>>> import autodiff as ad, nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> path = nn.onnx.export(model, ad.randn(2, 4), os.path.join(tempfile.mkdtemp(), "m.onnx"))
>>> path.name
'm.onnx'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from autodiff import Tensor
from autodiff.viz.render import check_path

__all__ = ["export"]

MIN_OPSET = 13  # single-axis Softmax, ReduceSum's axes as an input


def export(model: Any, example_input: Any, path: str | os.PathLike[str], *,
           dynamic_batch: bool = True, opset: int = 17) -> Path:
    """Write `model` to `path` as an ONNX model; returns the path.

    Runs the model once in evaluation mode on `example_input` (a batch, batch axis first;
    each layer's mode is restored after) and exports the ops it recorded: parameters and
    buffers become initializers named as in `state_dict()`, nodes are named by the layer
    that made them (`features.0/Conv`). With `dynamic_batch`, the batch axis of the input
    and the output is symbolic ("batch"): the file runs on any batch size. A second pass, on
    another batch, checks that nothing else changes with the input. The model may return
    several values, nested tuples flattened in order (`output`, `output_1`, ...: an LSTM's
    (output, (h_n, c_n)) is three). An op without an ONNX mapping raises
    NotImplementedError naming the op and the layer that made it.

    >>> import os, tempfile
    >>> import numpy as np, onnxruntime as ort
    >>> import autodiff as ad, nn
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
    ...                       nn.Linear(4 * 8 * 8, 10))
    >>> path = nn.onnx.export(model, ad.randn(2, 1, 8, 8),
    ...                       os.path.join(tempfile.mkdtemp(), "model.onnx"))
    >>> x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    >>> (y,) = ort.InferenceSession(path).run(None, {"input": x})
    >>> with ad.no_grad():
    ...     expected = model(ad.tensor(x)).numpy()
    >>> y.shape, bool(np.allclose(y, expected, rtol=1e-5, atol=1e-6))
    ((5, 10), True)
    """
    try:
        import onnx.defs
    except ImportError as e:
        raise ImportError("nn.onnx.export needs the onnx package, which is not installed: "
                          "pip install 'autodiff-nn[export]' (the optional extra 'export')"
                          ) from e
    from nn.onnx.trace import trace_model
    from nn.onnx.writer import build, save

    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int | np.integer) or not (
            MIN_OPSET <= opset <= newest):
        raise ValueError(f"nn.onnx.export: opset must be between {MIN_OPSET} and {newest} "
                         f"(this onnx package's newest), an integer; got {opset!r}")
    check_path(path, "nn.onnx.export")
    x = np.asarray(example_input.data if isinstance(example_input, Tensor) else example_input)
    if x.ndim < 1 or x.dtype.kind != "f":
        raise ValueError(f"nn.onnx.export: example_input must be a floating batch (batch "
                         f"axis first), got shape {x.shape} and dtype {x.dtype}")
    traced = trace_model(model, x, dynamic_batch)
    return save(build(traced, opset, type(model).__name__), path)
