"""The op table: each primitive the engine records, by name, and the function that builds its
ONNX node(s); then the layers exported whole (their forward is a composite with an ONNX op of
its own: batch norm, softmax, average pooling, ...).

A builder takes the graph being written (`writer.Graph`) and the recorded call (`trace.Call`:
its positional arguments, keyword options, layer path) and returns the name of each output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import nn
from nn.onnx.trace import BATCH, Call, full_slices, value, zero_state
from nn.onnx.writer import Graph
from nn.utils.rnn import PackedSequence

Builder = Callable[[Graph, Call], Any]


def _refuse(call: Call, why: str) -> Any:
    raise NotImplementedError(f"nn.onnx.export: {call.where()}: {why}")


def _shape_of(g: Graph, call: Call, i: int) -> tuple[int | str, ...]:
    key = g.traced.key(call.args[i])
    return g.shape(key) if key is not None else np.shape(value(call.args[i]))


def _out_shape(g: Graph, call: Call) -> tuple[int | str, ...]:
    return g.traced.shapes[(call.node, 0)]


def _same_op(op_type: str) -> Builder:
    """An op whose ONNX namesake takes the same inputs (elementwise ops broadcast as NumPy)."""
    def build(g: Graph, call: Call) -> str:
        return g.node(op_type, [g.input(call, i) for i in range(len(call.args))])

    return build


# -- matrices and convolutions ---------------------------------------------------------------


def _linear(g: Graph, call: Call) -> str:
    """x @ W.T + b: Gemm for a 2-D x, else MatMul by the transposed weight and Add."""
    x, w, b = (g.input(call, i) for i in range(3))
    if len(_shape_of(g, call, 0)) == 2:
        return g.node("Gemm", [x, w, b] if b else [x, w], transB=1)
    out = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return g.node("Add", [out, b]) if b else out


def conv_attrs(call: Call) -> dict[str, Any]:
    (sh, sw), (pt, pb, pl, pr), (dh, dw), groups = call.kwargs["params"]
    return {"kernel_shape": list(np.shape(value(call.args[1]))[2:]), "strides": [sh, sw],
            "pads": [pt, pl, pb, pr], "dilations": [dh, dw], "group": groups}


def _with_bias(g: Graph, call: Call) -> list[str]:
    """Input, weight and bias of a convolution; no third input when it has no bias."""
    names = [g.input(call, i) for i in range(3)]
    return names if names[2] else names[:2]


def _conv2d(g: Graph, call: Call) -> str:
    return g.node("Conv", _with_bias(g, call), **conv_attrs(call))


def conv_transpose_attrs(g: Graph, call: Call) -> tuple[dict[str, Any], list[int]]:
    """ConvTranspose's attributes for the engine's output size, and the zero rows and columns
    to add after it. The engine's result is the full transposed convolution with its first
    `pads[0]` rows (`pads[2]` columns) cropped, cut or extended with zeros to the output
    size; ONNX Runtime takes an output_padding only below the stride, so zeros past the full
    result beyond that are a Pad after the node."""
    (sh, sw), (pt, _, pl, _), (dh, dw), groups = call.kwargs["params"]
    kh, kw = np.shape(value(call.args[1]))[2:]
    h_in, w_in = _shape_of(g, call, 0)[2:]
    h, w = _out_shape(g, call)[2:]
    full_h, full_w = sh * (h_in - 1) + dh * (kh - 1) + 1, sw * (w_in - 1) + dw * (kw - 1) + 1
    end_h, end_w = max(full_h - pt - h, 0), max(full_w - pl - w, 0)
    extra_h, extra_w = h - (full_h - pt - end_h), w - (full_w - pl - end_w)
    out_pad = [extra_h if extra_h < sh else 0, extra_w if extra_w < sw else 0]
    attrs = {"kernel_shape": [kh, kw], "strides": [sh, sw], "pads": [pt, pl, end_h, end_w],
             "dilations": [dh, dw], "group": groups, "output_padding": out_pad}
    return attrs, [extra_h - out_pad[0], extra_w - out_pad[1]]


def _conv_transpose2d(g: Graph, call: Call) -> str:
    attrs, (zh, zw) = conv_transpose_attrs(g, call)
    if not (zh or zw):
        return g.node("ConvTranspose", _with_bias(g, call), **attrs)
    # The zeros past the full result are a Pad after the node; the engine adds the bias to
    # them too, so the bias goes after the Pad.
    y = g.node("ConvTranspose", [g.input(call, 0), g.input(call, 1)], **attrs)
    y = g.node("Pad", [y, g.ints([0, 0, 0, 0, 0, 0, zh, zw], "pads")], mode="constant")
    b = g.input(call, 2)
    return g.node("Add", [y, g.node("Reshape", [b, g.ints([1, -1, 1, 1], "shape")])]) if b else y


def _max_pool2d(g: Graph, call: Call) -> str:
    """MaxPool; ceil_mode's extra cells at the bottom and right are pads there (-inf)."""
    pt, pb, pl, pr = call.kwargs["pads"]
    return g.node("MaxPool", [g.input(call, 0)], kernel_shape=list(call.kwargs["kernel"]),
                  strides=list(call.kwargs["stride"]), pads=[pt, pl, pb, pr],
                  dilations=list(call.kwargs.get("dilation", (1, 1))))


# -- shapes -----------------------------------------------------------------------------------


def _reshape(g: Graph, call: Call) -> str:
    """The output shape, with -1 at the batch axis (never the batch size of the trace)."""
    shape = _out_shape(g, call)
    if list(shape).count(BATCH) > 1:
        _refuse(call, f"the result has the batch axis twice (shape {shape})")
    target = [-1 if d == BATCH else d for d in shape]
    return g.node("Reshape", [g.input(call, 0), g.ints(target, "shape")])


def _transpose(g: Graph, call: Call) -> str:
    axes = call.kwargs["axes"]
    perm = list(axes) if axes is not None else list(range(len(_shape_of(g, call, 0))))[::-1]
    return g.node("Transpose", [g.input(call, 0)], perm=perm)


def _broadcast_to(g: Graph, call: Call) -> str:
    """Expand to the output shape, 1 at the batch axis where the input carries it (Expand
    keeps the input's size there); where it does not (a ViT's class token, one per image),
    the model input's batch size, read from its shape."""
    shape, source = _out_shape(g, call), _shape_of(g, call, 0)
    lead = len(shape) - len(source)
    new_batch = [i for i, d in enumerate(shape)
                 if d == BATCH and (i < lead or source[i - lead] != BATCH)]
    target = [1 if d == BATCH else d for d in shape]
    if not new_batch:
        return g.node("Expand", [g.input(call, 0), g.ints(target, "shape")])
    if len(new_batch) > 1:
        _refuse(call, f"the result has the batch axis twice (shape {shape})")
    i = new_batch[0]
    batch = g.node("Slice", [g.node("Shape", ["input"]), g.ints([0], "start"),
                             g.ints([1], "end")])
    parts = [*([g.ints(target[:i], "shape")] if i else []), batch,
             *([g.ints(target[i + 1:], "shape")] if i + 1 < len(shape) else [])]
    dims = g.node("Concat", parts, axis=0)  # (no empty initializer left unused)
    return g.node("Expand", [g.input(call, 0), dims])


def _concatenate(g: Graph, call: Call) -> str:
    return g.node("Concat", [g.input(call, i) for i in range(len(call.args))],
                  axis=int(call.kwargs["axis"]))


def _pad(g: Graph, call: Call) -> str:
    widths = call.kwargs["widths"]
    pads = [int(lo) for lo, _ in widths] + [int(hi) for _, hi in widths]
    values = np.unique(np.asarray(call.kwargs["value"], dtype=call.args[0].dtype))
    if values.size != 1:
        _refuse(call, "ONNX's Pad takes one constant value, not one per axis and side")
    fill = g.const(values.reshape(()), "value")
    return g.node("Pad", [g.input(call, 0), g.ints(pads, "pads"), fill], mode="constant")


def _getitem(g: Graph, call: Call) -> str:
    """Basic indexing (integers, slices, None, ...) as Slice, Squeeze and Unsqueeze; one
    integer array with full slices elsewhere as Gather. Not the batch axis itself."""
    shape = _shape_of(g, call, 0)
    index = full_slices(call.kwargs["index"], np.shape(value(call.args[0])))
    items = list(index) if type(index) is tuple else [index]
    arrays = [i for i, it in enumerate(items) if isinstance(it, np.ndarray)]
    if arrays:
        return _gather(g, call, items, arrays, shape)
    real = sum(it is not None and it is not Ellipsis for it in items)
    at = next((i for i, it in enumerate(items) if it is Ellipsis), len(items))
    items[at:at + 1] = [slice(None)] * (len(shape) - real)
    starts: list[int] = []
    ends: list[int] = []
    axes: list[int] = []
    steps: list[int] = []
    squeeze: list[int] = []
    unsqueeze: list[int] = []
    axis = out = 0
    for it in items:
        if it is None:
            unsqueeze.append(out)
            out += 1
            continue
        if it != slice(None):
            if shape[axis] == BATCH:
                _refuse(call, f"it indexes the batch axis ({it!r})")
            if isinstance(it, slice):
                start, stop, step = it.indices(shape[axis])
                stop = -(2 ** 63) if step < 0 and stop < 0 else stop  # before index 0
            else:
                start, stop, step = int(it) % shape[axis], int(it) % shape[axis] + 1, 1
                squeeze.append(axis)
            for values, v in ((starts, start), (ends, stop), (axes, axis), (steps, step)):
                values.append(v)
        out += isinstance(it, slice)
        axis += 1
    y = g.input(call, 0)
    if axes:
        y = g.node("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"),
                             g.ints(axes, "axes"), g.ints(steps, "steps")])
    if squeeze:
        y = g.node("Squeeze", [y, g.ints(squeeze, "axes")])
    if unsqueeze:
        y = g.node("Unsqueeze", [y, g.ints(unsqueeze, "axes")])
    return y if y != g.input(call, 0) else g.node("Identity", [y])


def _gather(g: Graph, call: Call, items: list[Any], arrays: list[int],
            shape: tuple[int | str, ...]) -> str:
    (at,) = arrays if len(arrays) == 1 else (None,)
    rest = [it for i, it in enumerate(items) if i != at]
    if at is None or items[at].dtype.kind not in "iu" or any(it != slice(None) for it in rest):
        _refuse(call, "only one integer array, with full slices elsewhere, is exported "
                      "(Gather); boolean masks and several arrays are not")
    if shape[at] == BATCH:
        _refuse(call, "it indexes the batch axis with an array")
    return g.node("Gather", [g.input(call, 0), g.ints(items[at], "indices")], axis=at)


# -- reductions and the rest ------------------------------------------------------------------


def _sum(g: Graph, call: Call) -> str:
    axes = list(call.kwargs["axes"])
    if not axes:
        return g.node("Identity", [g.input(call, 0)])
    return g.node("ReduceSum", [g.input(call, 0), g.ints(axes, "axes")],
                  keepdims=int(call.kwargs["keepdims"]))


def _extremum(op_type: str) -> Builder:
    """ReduceMax / ReduceMin: the axes an attribute up to opset 17, an input from 18."""
    def build(g: Graph, call: Call) -> str:
        if call.kwargs.get("initial") is not None or call.kwargs.get("where", True) is not True:
            _refuse(call, "initial= and where= are not exported")
        axes, keep = list(call.kwargs["axes"]), int(call.kwargs["keepdims"])
        if not axes:  # x.max(axis=()) is x (NumPy); ONNX reduces all axes when given none
            return g.node("Identity", [g.input(call, 0)])
        if g.opset < 18:
            return g.node(op_type, [g.input(call, 0)], axes=axes, keepdims=keep)
        return g.node(op_type, [g.input(call, 0), g.ints(axes, "axes")], keepdims=keep)

    return build


def _where(g: Graph, call: Call) -> str:
    cond = g.const(np.asarray(call.kwargs["cond"], dtype=bool), "cond")
    return g.node("Where", [cond, g.input(call, 0), g.input(call, 1)])


def _clip(g: Graph, call: Call) -> str:
    dtype = call.args[0].dtype
    bounds = ["" if call.kwargs[k] is None else g.const(call.kwargs[k], k, dtype)
              for k in ("lo", "hi")]
    return g.node("Clip", [g.input(call, 0), *bounds])


def _astype(g: Graph, call: Call) -> str:
    from onnx import helper

    to = helper.np_dtype_to_tensor_dtype(np.dtype(call.kwargs["dtype"]))
    return g.node("Cast", [g.input(call, 0)], to=to)


def _softplus(g: Graph, call: Call) -> str:
    """Softplus, beta other than 1 as softplus(beta x) / beta; then x itself where beta x is
    above the threshold (Where), as the engine and PyTorch. ONNX's Softplus has no threshold:
    past the default 20 the two differ by e^-20 and less, but a small threshold (1, 5) would
    be silently ignored."""
    beta, threshold = float(call.kwargs["beta"]), float(call.kwargs["threshold"])
    x, dtype = g.input(call, 0), call.args[0].dtype
    z = x
    if beta != 1.0:
        b = g.const(np.asarray(beta, dtype), "beta")
        z = g.node("Mul", [x, b])
    y = g.node("Softplus", [z])
    if beta != 1.0:
        y = g.node("Div", [y, b])
    if math.isinf(threshold) and threshold > 0:
        return y
    above = g.node("Greater", [z, g.const(np.asarray(threshold, dtype), "threshold")])
    return g.node("Where", [above, x, y])


def _gelu(g: Graph, call: Call) -> str:
    """x * (erf(x / sqrt 2) + 1) / 2 (ONNX's own Gelu needs opset 20)."""
    x, dtype = g.input(call, 0), call.args[0].dtype
    c, one, half = (g.const(np.asarray(v, dtype), name) for v, name in
                    ((1 / np.sqrt(2.0), "inv_sqrt2"), (1.0, "one"), (0.5, "half")))
    cdf = g.node("Mul", [g.node("Add", [g.node("Erf", [g.node("Mul", [x, c])]), one]), half])
    return g.node("Mul", [x, cdf])


def _layer_norm(g: Graph, call: Call) -> str:
    """LayerNormalization (opset 17) over the trailing axes; absent scale: ones."""
    if g.opset < 17:
        _refuse(call, f"layer_norm needs opset 17 (LayerNormalization), got {g.opset}")
    axes = call.kwargs["axes"]
    x, w, b = (g.input(call, i) for i in range(3))
    if not w:
        shape = _shape_of(g, call, 0)[-len(axes):]
        w = g.const(np.ones(shape, call.args[0].dtype), "scale")
    return g.node("LayerNormalization", [x, w, b] if b else [x, w], axis=-len(axes),
                  epsilon=float(call.kwargs["eps"]))


def _attention(g: Graph, call: Call) -> list[str]:
    """softmax(Q K^T * scale + mask) V as MatMul, Mul, Add, Softmax, MatMul; both outputs
    (the result and the weights). Dropout (training) is not exported."""
    if call.args[4] is not None:
        _refuse(call, "attention dropout is not exported; call model.eval() first")
    q, k, v, mask = (g.input(call, i) for i in range(4))
    rank = len(_shape_of(g, call, 1))
    perm = [*range(rank - 2), rank - 1, rank - 2]
    scale = g.const(np.asarray(call.kwargs["scale"], call.args[0].dtype), "scale")
    s = g.node("Mul", [g.node("MatMul", [q, g.node("Transpose", [k], perm=perm)]), scale])
    weights = g.node("Softmax", [g.node("Add", [s, mask]) if mask else s], axis=-1)
    return [g.node("MatMul", [weights, v]), weights]


# -- recurrences ------------------------------------------------------------------------------

# ONNX's gate order, as PyTorch's (and the engine's) gate blocks: the LSTM's i, o, f, c from
# i, f, g, o; the GRU's z, r, h from r, z, n.
ONNX_GATES = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_RECURRENCES = {"LSTM": ("LSTM", {}), "GRU": ("GRU", {"linear_before_reset": 1}),
                "RNN_TANH": ("RNN", {"activations": ["Tanh"]}),
                "RNN_RELU": ("RNN", {"activations": ["Relu"]})}


def gate_rows(mode: str, hidden_size: int) -> np.ndarray:
    """The rows of the engine's (gates*H, ...) weights and biases in ONNX's gate order.

    >>> gate_rows("GRU", 2).tolist()            # r, z, n -> z, r, h
    [2, 3, 0, 1, 4, 5]
    """
    return np.concatenate([np.arange(k * hidden_size, (k + 1) * hidden_size)
                           for k in ONNX_GATES[mode]])


def _axis(g: Graph, axis: int) -> str:
    """The axes input [axis] of a Squeeze or Unsqueeze, one per layer (a cell in a loop)."""
    return g.once(("axes", g.scope, axis), lambda: np.asarray([axis], np.int64),
                  f"axes{axis}")


def _suffix(g: Graph, a: Any) -> str:
    """The layer and direction of a recurrent parameter ('_l0_reverse' of 'rnn.bias_ih_l0_
    reverse'), to name what is made from it; '' for a cell's or an unnamed one."""
    name = g.traced.names.get(id(a), "").rsplit(".", 1)[-1]
    return name[name.index("_l"):] if "_l" in name else ""


def _gates(g: Graph, call: Call, i: int) -> str:
    """Argument i (W_ih, W_hh, b_ih or b_hh) computed in the graph, its rows in ONNX's gate
    order (Gather)."""
    rows = gate_rows(call.kwargs["mode"], call.args[4].shape[1])
    return g.node("Gather", [g.input(call, i), g.ints(rows, "rows")], axis=0)


def _weight(g: Graph, call: Call, i: int, hint: str) -> str:
    """W (i = 3) or R (i = 4) as ONNX's (1, gates*H, in): the rows in ONNX's gate order, a
    direction axis in front; an initializer named after the parameter (`rnn/W_l0_reverse`)."""
    a, mode = call.args[i], call.kwargs["mode"]
    if g.traced.key(a) is None:
        rows = gate_rows(mode, call.args[4].shape[1])
        return g.once((hint, mode, id(a)), lambda: value(a)[rows][None], hint + _suffix(g, a))
    return g.node("Unsqueeze", [_gates(g, call, i), _axis(g, 0)])


def _bias(g: Graph, call: Call) -> str:
    """ONNX's B, (1, 2*gates*H): b_ih then b_hh, each in ONNX's gate order (zeros for an
    absent one); "" when both are absent (ONNX's default, zeros). One initializer when both
    are constants; a Concat when one is computed in the graph."""
    b_ih, b_hh, w_hh, mode = call.args[5], call.args[6], call.args[4], call.kwargs["mode"]
    if b_ih is None and b_hh is None:
        return ""
    rows = gate_rows(mode, w_hh.shape[1])

    def half(b: Any) -> np.ndarray:
        return np.zeros(rows.size, w_hh.dtype) if b is None else value(b)[rows]

    if g.traced.key(b_ih) is None and g.traced.key(b_hh) is None:
        return g.once(("B", mode, id(b_ih), id(b_hh)),
                      lambda: np.concatenate([half(b_ih), half(b_hh)])[None],
                      "B" + _suffix(g, b_ih if b_ih is not None else b_hh))
    halves = [_gates(g, call, i) if g.traced.key(b) is not None else g.const(half(b), "b")
              for i, b in ((5, b_ih), (6, b_hh))]
    return g.node("Unsqueeze", [g.node("Concat", halves, axis=0), _axis(g, 0)])


def _state(g: Graph, call: Call, i: int) -> str:
    """An initial state (B, H) as ONNX's (1, B, H): "" for the zeros the layer makes when
    none is given (ONNX's default), an initializer for another constant, else Unsqueeze."""
    a = call.args[i]
    if a is None or zero_state(g.traced, a):
        return ""
    if g.traced.key(a) is None:
        return g.const(value(a)[None], "initial_h" if i == 1 else "initial_c")
    return g.node("Unsqueeze", [g.input(call, i), _axis(g, 0)])


def _recurrence(g: Graph, call: Call) -> list[str]:
    """One layer and direction of nn.RNN, nn.LSTM or nn.GRU (or a cell's one step) as ONNX's
    RNN (tanh or relu), LSTM or GRU (linear_before_reset=1: PyTorch's r * (W_hn h + b_hn)),
    gates in ONNX's order (`gate_rows`); each result (output, h_n, c_n) the engine's shape
    by a Squeeze of ONNX's direction axis, for those used."""
    op_type, attrs = _RECURRENCES[call.kwargs["mode"]]
    lstm = op_type == "LSTM"
    inputs = [g.input(call, 0), _weight(g, call, 3, "W"), _weight(g, call, 4, "R"),
              _bias(g, call), "", _state(g, call, 1), *([_state(g, call, 2)] if lstm else [])]
    while not inputs[-1]:
        inputs.pop()
    outs = g.node(op_type, inputs, outputs=3 if lstm else 2,
                  hidden_size=int(call.args[4].shape[1]),
                  direction="reverse" if call.kwargs["reverse"] else "forward", **attrs)
    return [g.node("Squeeze", [out, _axis(g, 1 if k == 0 else 0)])
            if (call.node, k) in g.used else out for k, out in enumerate(outs)]


# The table: the engine's op name (Function.op_name()) -> its builder.
PRIMITIVES: dict[str, Builder] = {
    "add": _same_op("Add"), "sub": _same_op("Sub"), "mul": _same_op("Mul"),
    "div": _same_op("Div"), "pow": _same_op("Pow"), "neg": _same_op("Neg"),
    "maximum": _same_op("Max"), "minimum": _same_op("Min"),
    "exp": _same_op("Exp"), "log": _same_op("Log"), "sqrt": _same_op("Sqrt"),
    "abs": _same_op("Abs"), "sin": _same_op("Sin"), "cos": _same_op("Cos"),
    "tanh": _same_op("Tanh"), "sigmoid": _same_op("Sigmoid"), "relu": _same_op("Relu"),
    "erf": _same_op("Erf"), "softplus": _softplus, "clip": _clip, "where": _where,
    "matmul": _same_op("MatMul"), "linear": _linear,
    "conv2d": _conv2d, "conv_transpose2d": _conv_transpose2d, "max_pool2d": _max_pool2d,
    "reshape": _reshape, "transpose": _transpose, "broadcastto": _broadcast_to,
    "concatenate": _concatenate, "pad": _pad, "getitem": _getitem, "astype": _astype,
    "sum": _sum, "max": _extremum("ReduceMax"), "min": _extremum("ReduceMin"),
    "layer_norm": _layer_norm, "scaled_dot_product_attention": _attention, "gelu": _gelu,
    "recurrence": _recurrence,
}


# -- layers exported whole -----------------------------------------------------------------------
# A layer builder takes the graph, the layer, the name of its input and its region (the calls
# its forward made); it returns its output's name, or None to decline (its ops then go one by
# one through PRIMITIVES).

Layer = Callable[[Graph, Any, str, Any], str | None]


def _batch_norm(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """BatchNormalization with the running statistics (evaluation mode); without them the
    layer normalizes with the batch's statistics, which is not exported."""
    if m.running_mean is None:
        return None
    n, dtype = m.num_features, m.running_mean.dtype
    scale = g.const(m.weight, "scale") if m.weight is not None else g.const(
        np.ones(n, dtype), "scale")
    bias = g.const(m.bias, "bias") if m.bias is not None else g.const(np.zeros(n, dtype),
                                                                      "bias")
    return g.node("BatchNormalization", [x, scale, bias, g.const(m.running_mean, "mean"),
                                         g.const(m.running_var, "var")], epsilon=float(m.eps))


def _only(region: Any, op: str) -> Call | None:
    calls = [c for c in region.calls if c.op == op]
    return calls[0] if len(calls) == 1 else None


def _refuse_padding_mode(m: Any, region: Any) -> None:
    if getattr(m, "padding_mode", "zeros") != "zeros":
        place = f"module '{region.path}'" if region.path else "the model's own forward"
        raise NotImplementedError(f"nn.onnx.export: {place} ({type(m).__name__}): "
                                  f"padding_mode={m.padding_mode!r} is not exported (only "
                                  "'zeros')")


def _conv_layer(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """Conv with the bias as its third input (the engine's conv2d node holds it too)."""
    _refuse_padding_mode(m, region)
    call = _only(region, "conv2d")
    if call is None:
        return None
    inputs = [x, g.const(m.weight, "weight")] + ([g.const(m.bias, "bias")] if m.bias
                                                  is not None else [])
    return g.node("Conv", inputs, **conv_attrs(call))


def _conv_transpose_layer(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """ConvTranspose with the bias as its third input; declined when the output needs zeros
    past the full result (a Pad: the bias must be added after it)."""
    call = _only(region, "conv_transpose2d")
    if call is None:
        return None
    attrs, extra = conv_transpose_attrs(g, call)
    if any(extra):
        return None
    inputs = [x, g.const(m.weight, "weight")] + ([g.const(m.bias, "bias")] if m.bias
                                                  is not None else [])
    return g.node("ConvTranspose", inputs, **attrs)


def _avg_pool(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """AveragePool (the engine runs a depthwise convolution with a constant kernel); declined
    for a divisor_override or ceil_mode's windows past the end (the convolution and the
    product by the divisors then go one by one)."""
    call = _only(region, "conv2d")
    if call is None or m.divisor_override is not None:
        return None
    a = conv_attrs(call)
    pt, pl, pb, pr = a["pads"]
    if (pt, pl) != (pb, pr):
        return None
    return g.node("AveragePool", [x], kernel_shape=a["kernel_shape"], strides=a["strides"],
                  pads=a["pads"], count_include_pad=int(m.count_include_pad))


def _adaptive_avg_pool(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """GlobalAveragePool for an output of 1x1; other sizes keep the engine's two products by
    averaging matrices (MatMul)."""
    size = m.output_size
    return g.node("GlobalAveragePool", [x]) if size in (1, (1, 1), [1, 1]) else None


def _adaptive_max_pool(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """GlobalMaxPool for an output of 1x1; MaxPool when each output size divides the input's
    (PyTorch's bins are then the windows of kernel = stride = input / output); declined
    otherwise (uneven bins have no ONNX operator)."""
    if getattr(m, "return_indices", False):
        return None  # the op's own refusal names the option
    h, w = g.shape(region.input)[-2:]
    out = [h if o is None else o for o, h in zip(m.output_size if isinstance(
        m.output_size, tuple | list) else (m.output_size,) * 2, (h, w))]
    if out == [1, 1]:
        return g.node("GlobalMaxPool", [x])
    if h % out[0] or w % out[1]:
        return None
    k = [h // out[0], w // out[1]]
    return g.node("MaxPool", [x], kernel_shape=k, strides=k)


def _instance_norm(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """InstanceNormalization with the input's statistics; with the running ones (the export
    runs in evaluation mode: track_running_stats means them, even for a model left in
    training mode) the layer's ops go one by one."""
    if m.running_mean is not None:  # the export runs in evaluation mode, whatever m.training
        return None
    n, dtype = m.num_features, np.dtype(g.traced.input.dtype)
    scale = g.const(m.weight, "scale") if m.weight is not None else g.const(
        np.ones(n, dtype), "scale")
    bias = g.const(m.bias, "bias") if m.bias is not None else g.const(np.zeros(n, dtype),
                                                                      "bias")
    return g.node("InstanceNormalization", [x, scale, bias], epsilon=float(m.eps))


def _lp_pool(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """(sum of x^p over each window)^(1/p): LpPool for an even integer p without ceil_mode
    (ONNX's LpPool sums |x|^p, the engine x^p: the same only for even p); else the engine's
    composition, Pow, AveragePool (ceil_mode's last window the mean of the cells it covers:
    count_include_pad=0), Mul by the kernel size, Pow by 1/p (NaN where the engine's is: x^p
    of a negative x with a fractional p). p = inf is MaxPool of Abs (-inf: of -Abs, negated),
    as the engine's. A norm_type that is not positive is refused (the engine gives 0 where
    the sum is 0, a Pow would give inf); input without the batch axis is declined (its ops
    then go one by one)."""
    from nn.functional.conv import _pair
    from nn.functional.conv_3d import triple

    spatial = {nn.LPPool1d: 1, nn.LPPool2d: 2, nn.LPPool3d: 3}[type(m)]
    p = float(m.norm_type)
    if not p > 0 and p != -math.inf:
        place = f"module '{region.path}'" if region.path else "the model's own forward"
        raise NotImplementedError(f"nn.onnx.export: {place} ({type(m).__name__}): "
                                  f"norm_type={m.norm_type!r} is not exported (only a "
                                  "positive norm_type, or -inf)")
    if len(g.shape(region.input)) != spatial + 2:
        return None

    def sizes(v: Any, name: str) -> list[int]:
        if spatial == 1:
            return [int(np.ravel(v)[0])]
        return list(_pair(v, name, "lp_pool") if spatial == 2 else triple(v, name, "lp_pool"))

    kernel = sizes(m.kernel_size, "kernel_size")
    stride = kernel if m.stride is None else sizes(m.stride, "stride")
    if math.isinf(p):
        y = g.node("Abs", [x])
        y = g.node("Neg", [y]) if p < 0 else y
        y = g.node("MaxPool", [y], kernel_shape=kernel, strides=stride,
                   ceil_mode=int(bool(m.ceil_mode)))
        return g.node("Neg", [y]) if p < 0 else y
    if p.is_integer() and p % 2 == 0 and not m.ceil_mode:
        return g.node("LpPool", [x], kernel_shape=kernel, strides=stride, p=int(p))
    dtype = g.traced.dtypes[region.output]
    y = g.node("Pow", [x, g.const(np.asarray(p, dtype), "p")])
    y = g.node("AveragePool", [y], kernel_shape=kernel, strides=stride,
               ceil_mode=int(bool(m.ceil_mode)), count_include_pad=0)
    y = g.node("Mul", [y, g.const(np.asarray(math.prod(kernel), dtype), "cells")])
    return g.node("Pow", [y, g.const(np.asarray(1.0 / p, dtype), "inv_p")])


def _conv1d_layer(g: Graph, m: Any, x: str, region: Any) -> None:
    """Its ops go one by one (a reshape to 2-d, Conv, a reshape back), 'zeros' padding only."""
    _refuse_padding_mode(m, region)


def _flatten(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """Flatten(axis=1) when every axis after the batch is flattened; else Reshape."""
    ndim = len(g.shape(region.input))
    start, end = m.start_dim % ndim, m.end_dim % ndim
    return g.node("Flatten", [x], axis=1) if (start, end) == (1, ndim - 1) else None


def _upsample(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """Resize with the engine's index formulas: nearest as floor(dst / scale) ("asymmetric",
    "floor"), bilinear as PyTorch ("half_pixel", or "align_corners"). A given size becomes
    the sizes input (the batch and channel sizes read from the input's shape), and so does a
    scale factor with recompute_scale_factor (the samples then placed by the size ratio).
    Other modes and 1-d input are declined: their matrix products are exported as they are."""
    if m.mode not in ("nearest", "bilinear") or len(g.shape(region.input)) != 4:
        return None
    if m.mode == "nearest":
        modes = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
    else:
        modes = {"mode": "linear", "coordinate_transformation_mode":
                 "align_corners" if m.align_corners else "half_pixel"}
    size = m.size
    if size is None:
        s = m.scale_factor
        sh, sw = (s, s) if isinstance(s, int | float) else s
        h, w = g.shape(region.input)[2:]
        if getattr(m, "recompute_scale_factor", None):
            size = (math.floor(h * sh), math.floor(w * sw))
        else:  # the engine's (PyTorch's) special axes: kept size copied, nearest doubling
            sh, sw = (_resize_scale(n, float(f), m.mode) for n, f in ((h, sh), (w, sw)))
    if size is None:
        scales = g.const(np.asarray([1, 1, sh, sw], np.float32), "scales")
        return g.node("Resize", [x, "", scales], **modes)
    ho, wo = (size, size) if isinstance(size, int) else size
    lead = g.node("Slice", [g.node("Shape", [x]), g.ints([0], "start"), g.ints([2], "end")])
    sizes = g.node("Concat", [lead, g.ints([ho, wo], "size")], axis=0)
    return g.node("Resize", [x, "", "", sizes], **modes)


def _resize_scale(n: int, scale: float, mode: str) -> float:
    """The scale Resize needs to place the samples as the engine does on an axis of size n:
    1 where the size is kept (the engine copies it), 2 where nearest doubles it (the engine
    takes dst // 2), the given scale elsewhere."""
    out = math.floor(n * scale)
    if out == n:
        return 1.0
    return 2.0 if mode == "nearest" and out == 2 * n else scale


def _relu6(g: Graph, m: Any, x: str, region: Any) -> str | None:
    """Clip to [0, 6] (the engine picks x or its clip by a mask of x, which would freeze)."""
    call = _only(region, "where")
    if call is None:
        return None
    dtype = call.args[0].dtype
    return g.node("Clip", [x, g.const(0, "min", dtype), g.const(6, "max", dtype)])


def _axis_op(op_type: str) -> Layer:
    def build(g: Graph, m: Any, x: str, region: Any) -> str:
        return g.node(op_type, [x], axis=int(m.axis))

    return build


LAYERS: dict[type, Layer] = {
    nn.BatchNorm1d: _batch_norm, nn.BatchNorm2d: _batch_norm,
    nn.Conv2d: _conv_layer, nn.ConvTranspose2d: _conv_transpose_layer,
    nn.AvgPool2d: _avg_pool, nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.AdaptiveMaxPool2d: _adaptive_max_pool,
    nn.Flatten: _flatten, nn.Upsample: _upsample,
    nn.InstanceNorm1d: _instance_norm, nn.InstanceNorm2d: _instance_norm,
    nn.InstanceNorm3d: _instance_norm,
    nn.Conv1d: _conv1d_layer, nn.LPPool1d: _lp_pool, nn.LPPool2d: _lp_pool,
    nn.LPPool3d: _lp_pool,
    nn.Softmax: _axis_op("Softmax"), nn.LogSoftmax: _axis_op("LogSoftmax"),
    nn.LeakyReLU: lambda g, m, x, r: g.node("LeakyRelu", [x], alpha=float(m.negative_slope)),
    nn.ELU: lambda g, m, x, r: g.node("Elu", [x], alpha=float(m.alpha)),
    nn.ReLU6: _relu6,
}


# -- functions refused by name --------------------------------------------------------------
# nn.functional functions composed of ops at places computed outside the graph (its refusal
# would otherwise name one of those ops): any op made inside one raises with the reason.

_HINGE = ("is not exported: its hinge max(0, u) picks u or 0 by a mask computed from the "
          "input outside the graph, which an ONNX constant would freeze (the export's "
          "second pass may not see it change). A loss is rarely part of a deployed model: "
          "export the model without it")
REFUSED_FUNCTIONS: dict[str, str] = {
    "grid_sample": "grid_sample is not exported: the engine reads the input at places "
                   "computed from the grid outside the graph (which would freeze), and "
                   "ONNX's GridSample (opset 16) is not mapped. affine_grid alone is "
                   "exported (MatMul)",
    "embedding_bag": "embedding_bag is not exported (ONNX has no bag reduction; its bags, "
                     "integer indices and offsets, are not mapped to Gather and a "
                     "reduction per bag)",
    **{name: f"{name} {_HINGE}" for name in (
        "hinge_embedding_loss", "multi_margin_loss", "multilabel_margin_loss",
        "triplet_margin_with_distance_loss", "triplet_margin_loss", "margin_ranking_loss",
        "cosine_embedding_loss")},
}


# -- layers refused before they run ----------------------------------------------------------
# A check run (as a forward pre-hook, during the export's passes) on each layer of these types:
# `check(path, layer, args)` raises for what the graph would not show.


def _recurrent_layer(path: str, m: Any, args: tuple[Any, ...]) -> None:
    """A packed batch, and the LSTM's projection, are refused by name."""
    place = f"module '{path}'" if path else "the model's own forward"
    why = None
    if args and isinstance(args[0], PackedSequence):
        why = ("a PackedSequence input is not exported: each run of equal lengths is a "
               "recurrence of its own, with the lengths fixed by the example (ONNX's "
               "sequence_lens would need them as an input); export the layer on a padded "
               "batch")
    elif getattr(m, "proj_size", 0):
        why = (f"proj_size={m.proj_size} is not exported: ONNX's LSTM has no projection, and "
               "the projected h_t W_hr^T is the state the next step reads (not a MatMul "
               "after the node); export an LSTM without projection")
    if why:
        raise NotImplementedError(f"nn.onnx.export: {place} ({type(m).__name__}): {why}")


BEFORE_RUN: dict[type, Callable[[str, Any, tuple[Any, ...]], None]] = {
    nn.RNN: _recurrent_layer, nn.LSTM: _recurrent_layer, nn.GRU: _recurrent_layer,
}


# -- 3-d layers ------------------------------------------------------------------------------
# The engine computes them on the 2-d primitives over depth taps folded into the batch, which
# an ONNX graph would see as reshapes of the batch axis: each layer is one node of its own,
# with attributes from the layer's arguments.


def _refuse_option(m: Any, region: Any, option: str) -> None:
    place = f"module '{region.path}'" if region.path else "the model's own forward"
    raise NotImplementedError(f"nn.onnx.export: {place} ({type(m).__name__}): {option} is not "
                              "exported for a 3-d layer")


def _conv3d_layer(g: Graph, m: Any, x: str, region: Any) -> str:
    """Conv over (D, H, W) with the bias as its third input."""
    from nn.functional.conv_3d import _pads

    _refuse_padding_mode(m, region)
    pads = _pads(m.padding, m.stride, m.dilation, list(m.kernel_size))
    inputs = [x, g.const(m.weight, "weight")] + ([g.const(m.bias, "bias")] if m.bias
                                                  is not None else [])
    return g.node("Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                  pads=[a for a, _ in pads] + [b for _, b in pads], dilations=list(m.dilation),
                  group=m.groups)


def _conv_transpose3d_layer(g: Graph, m: Any, x: str, region: Any) -> str:
    """ConvTranspose over (D, H, W); an output_padding at or past the stride (PyTorch allows
    it below the dilation too) is refused: ONNX Runtime takes it only below the stride."""
    if any(o >= s for o, s in zip(m.output_padding, m.stride)):
        _refuse_option(m, region, f"output_padding={m.output_padding} (not below the stride "
                                  f"{m.stride})")
    inputs = [x, g.const(m.weight, "weight")] + ([g.const(m.bias, "bias")] if m.bias
                                                  is not None else [])
    return g.node("ConvTranspose", inputs, kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), pads=list(m.padding) * 2,
                  output_padding=list(m.output_padding), dilations=list(m.dilation),
                  group=m.groups)


def _pool3d_attrs(m: Any, region: Any) -> dict[str, Any]:
    from nn.functional.conv_3d import triple

    if m.ceil_mode:
        _refuse_option(m, region, "ceil_mode=True")
    k = triple(m.kernel_size, "kernel_size", type(m).__name__)
    s = triple(m.stride, "stride", type(m).__name__)
    return {"kernel_shape": list(k), "strides": list(s),
            "pads": list(triple(m.padding, "padding", type(m).__name__)) * 2}


def _max_pool3d_layer(g: Graph, m: Any, x: str, region: Any) -> str:
    """MaxPool over (D, H, W); return_indices and ceil_mode are refused by name."""
    if m.return_indices:
        _refuse_option(m, region, "return_indices=True")
    dilations = list(m.dilation) if not isinstance(m.dilation, int) else [m.dilation] * 3
    return g.node("MaxPool", [x], dilations=dilations, **_pool3d_attrs(m, region))


def _avg_pool3d_layer(g: Graph, m: Any, x: str, region: Any) -> str:
    """AveragePool over (D, H, W); divisor_override and ceil_mode are refused by name."""
    if m.divisor_override is not None:
        _refuse_option(m, region, f"divisor_override={m.divisor_override}")
    return g.node("AveragePool", [x], count_include_pad=int(m.count_include_pad),
                  **_pool3d_attrs(m, region))


def _adaptive_max_pool3d_layer(g: Graph, m: Any, x: str, region: Any) -> str:
    """GlobalMaxPool for an output of 1x1x1; MaxPool when each output size divides the
    input's (PyTorch's bins are then the windows of kernel = stride = input / output);
    return_indices, uneven bins (no ONNX operator) and unbatched input are refused by name."""
    from nn.functional.adaptive_pool import _output_size

    if m.return_indices:
        _refuse_option(m, region, "return_indices=True")
    shape = g.shape(region.input)
    if len(shape) != 5:
        _refuse_option(m, region, f"an input of shape {tuple(shape)} (not (N, C, D, H, W))")
    sizes = tuple(shape[2:])
    out = _output_size("adaptive_max_pool3d", m.output_size, sizes)
    if out == (1, 1, 1):
        return g.node("GlobalMaxPool", [x])
    if any(n % o for n, o in zip(sizes, out)):
        _refuse_option(m, region, f"output_size={m.output_size} for input sizes {sizes} "
                                  "(uneven bins)")
    k = [n // o for n, o in zip(sizes, out)]
    return g.node("MaxPool", [x], kernel_shape=k, strides=k)


LAYERS.update({nn.AdaptiveMaxPool3d: _adaptive_max_pool3d_layer})
LAYERS.update({nn.Conv3d: _conv3d_layer, nn.ConvTranspose3d: _conv_transpose3d_layer,
               nn.MaxPool3d: _max_pool3d_layer, nn.AvgPool3d: _avg_pool3d_layer,
               nn.BatchNorm3d: _batch_norm})
