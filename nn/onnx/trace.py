"""Reading a model's graph for export: one forward pass in evaluation mode, every op recorded
with the arguments of its call (`autodiff.observe_ops`: the graph keeps no constant's value
and no keyword option), every op placed in the layer that made it (`autodiff.viz.trace`, as
the drawings' clusters), the ops that reach the outputs walked as the drawings walk them
(`autodiff.viz.graph.reachable`). Each op also notes the nn.functional function that made it
(`grid_sample`), for refusals by name; a checkpointed function is traced straight through
(`autodiff.checkpoint.inline`).

A second pass, on another batch (one example more when the batch axis is dynamic, other
values), is the check: what changes with the batch size is the batch axis, and must be
nothing else; a constant or an option that changes with the values was computed from the
input outside the graph (a mask, a maximum) and cannot be exported as a constant.
"""

from __future__ import annotations

import sys
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Function, Tensor, checkpoint
from autodiff.viz import trace
from autodiff.viz.graph import reachable
from autodiff.viz.trace import ModuleRecord, module_of

BATCH = "batch"  # the symbolic size of the batch axis
Key = Any  # a graph value: "input", or (node, output index)


@dataclass
class Call:
    """One recorded op: its node, the arguments of its `apply`, the layer that made it."""

    node: Function
    op: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    module: str  # the path of the innermost layer whose forward made it ("": the model's own)
    kind: str  # that layer's type name
    function: str = ""  # the nn.functional function whose body made it ("": none)

    def where(self) -> str:
        """'op' in module 'path' (Type): how errors name a call."""
        place = f"module '{self.module}' ({self.kind})" if self.module else f"the model's own "\
            f"forward ({self.kind})"
        return f"'{self.op}' made in {place}"


@dataclass
class Region:
    """The ops one layer's forward made, to be exported as that layer (`LAYERS`)."""

    module: Any
    path: str
    calls: list[Call]
    input: Key
    output: Key


@dataclass
class Traced:
    calls: list[Call]  # the ops that reach the outputs, in the order they ran
    outputs: list[Key]
    input_shape: tuple[int | str, ...]
    shapes: dict[Key, tuple[int | str, ...]]  # BATCH where the batch axis is
    dtypes: dict[Key, np.dtype]
    names: dict[int, str]  # id(parameter or buffer) -> its name in the state dict
    input: Tensor
    twins: dict[Function, Call]  # each node -> its call in the second pass
    regions: dict[Function, list[Region]] = field(default_factory=dict)  # by first node

    def key(self, arg: Any) -> Key | None:
        """The graph value an argument is, or None for a constant."""
        if not isinstance(arg, Tensor):
            return None
        if arg is self.input:
            return "input"
        fn = arg.grad_fn
        return (fn, arg._index) if fn is not None and fn in self.twins else None


@dataclass
class _Pass:
    calls: list[Call]
    input: Tensor
    outputs: list[Tensor]
    records: list[Any]


def trace_model(model: Any, x: np.ndarray, dynamic_batch: bool) -> Traced:
    """Run `model` on `x` and on a second batch; the graph of the first, checked by the
    second (see the module docstring). The model's and its layers' modes are restored."""
    from nn.onnx.ops import BEFORE_RUN

    modes = [(m, m.training) for m in model.modules()]
    hooks = [m.register_forward_pre_hook(lambda m, args, path=path: BEFORE_RUN[type(m)](
        path, m, args)) for path, m in model.named_modules() if type(m) in BEFORE_RUN]
    model.eval()
    try:
        first = _run(model, x)
        second = _second_run(model, _other_batch(x, dynamic_batch), dynamic_batch)
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for hook in hooks:
            hook.remove()
    names = {id(t): k for k, t in (*model.named_parameters(), *model.named_buffers())}
    traced = _compare(first, second, names, x.shape[0], dynamic_batch)
    traced.regions = _regions(model, first, traced)
    return traced


def _second_run(model: Any, x: np.ndarray, dynamic_batch: bool) -> _Pass:
    """The second pass; a shape error on the larger batch is said to come from it (a
    state or a mask made for the example's batch size)."""
    try:
        return _run(model, x)
    except ValueError as e:
        if not dynamic_batch:
            raise
        raise ValueError(f"nn.onnx.export: the model fails on a batch of {x.shape[0]}, one "
                         "example more than the example's, which the export runs to find "
                         f"the batch axis: {e}. A model that holds the batch size (a state or "
                         "a mask of the example's size) exports with dynamic_batch=False"
                         ) from e


def _other_batch(x: np.ndarray, dynamic_batch: bool) -> np.ndarray:
    """The second pass's input: one example more (dynamic batch), other values. Drawn from a
    stream seeded by the example's bytes: with a fixed seed, an example drawn from that
    same seed (`default_rng(0)`, a common choice) made a second input that was an affine
    image of the first (the same draws, scaled by its spread): masks computed outside the
    graph (x > 1) came out the same in both passes and were exported frozen."""
    rng = np.random.default_rng([0x5EC0D, zlib.crc32(np.ascontiguousarray(x).tobytes())])
    n = x.shape[0] + 1 if dynamic_batch else x.shape[0]
    spread = float(np.std(x)) if x.size else 1.0
    noise = rng.standard_normal((n, *x.shape[1:])) * (spread or 1.0) + float(np.mean(x) if
                                                                             x.size else 0.0)
    return noise.astype(x.dtype)


def _run(model: Any, x: np.ndarray) -> _Pass:
    seen: dict[Function, tuple[tuple[Any, ...], dict[str, Any], str]] = {}

    def observe(node: Function, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        seen[node] = (args, kwargs, _functional_caller())

    inp = Tensor(x, requires_grad=True)
    with ad.enable_grad(), ad.observe_ops(observe), trace(model), checkpoint.inline():
        out = model(inp)
    outputs = _flat(out)
    for i, t in enumerate(outputs):
        if t is inp:  # returned as it is (nn.Identity, a Dropout in evaluation): Identity
            continue
        if not isinstance(t, Tensor) or t.grad_fn is None or t.grad_fn not in seen:
            why = ("not a Tensor" if not isinstance(t, Tensor) else
                   f"not computed from the input by the forward pass: a result of dtype "
                   f"{t.dtype} carries no graph (argmax, a comparison, an integer cast)"
                   if t.dtype.kind not in "fc" else
                   "not computed from the input by the forward pass (a parameter or a "
                   "constant, or computed under no_grad() or from a detach())")
            raise ValueError(f"nn.onnx.export: output {i} of {type(model).__name__} "
                             f"({type(t).__name__}) is {why}: nothing to export")
    records = trace.records(model)
    nodes = sorted((n for n in reachable(t.grad_fn for t in outputs if t is not inp)
                    if n in seen), key=lambda n: n._seq)
    calls = []
    for n in nodes:
        r = module_of(n._seq, records)
        args, kwargs, function = seen[n]
        calls.append(Call(n, n.op_name(), args, kwargs, r.path if r else "",
                          r.type if r else type(model).__name__, function))
    return _Pass(calls, inp, outputs, records)


def _functional_caller() -> str:
    """The name of the outermost nn.functional function on the stack (the one the model
    called, `grid_sample`), "" when the op was not made inside one."""
    name = ""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == __name__:  # the export's own frames: the model's call is below
            break
        if module.startswith("nn.functional."):
            name = frame.f_code.co_name
        frame = frame.f_back
    return name


def _flat(out: Any) -> list[Any]:
    """The values a forward returned, nested tuples and lists flattened in order (an
    LSTM's (output, (h_n, c_n)) is three outputs)."""
    if not isinstance(out, tuple | list):
        return [out]
    return [v for item in out for v in _flat(item)]


def _compare(first: _Pass, second: _Pass, names: dict[int, str], n: int,
             dynamic_batch: bool) -> Traced:
    """The first pass's graph with the batch axis found by the second; the same ops, in the
    same order, with shapes that differ only at the batch axis."""
    ops1, ops2 = [c.op for c in first.calls], [c.op for c in second.calls]
    returned = [[t is p.input for t in p.outputs] for p in (first, second)]
    if ops1 != ops2 or returned[0] != returned[1]:
        at = next((i for i, (a, b) in enumerate(zip(ops1, ops2)) if a != b),
                  min(len(ops1), len(ops2)))
        place = first.calls[at].where() if at < len(first.calls) else "the end"
        raise NotImplementedError(
            f"nn.onnx.export: the model runs other ops on another input (from {place}): its "
            "graph depends on the input's values or batch size (Python control flow), and an "
            "ONNX graph is fixed")
    n2 = second.input.shape[0]
    twins = {c1.node: c2 for c1, c2 in zip(first.calls, second.calls)}
    shapes: dict[Key, tuple[int | str, ...]] = {}
    dtypes: dict[Key, np.dtype] = {}
    for c1, c2 in zip(first.calls, second.calls):
        for i, ((s1, d1), (s2, _)) in enumerate(zip(c1.node._out_meta, c2.node._out_meta)):
            shapes[(c1.node, i)] = _symbolic(s1, s2, n, n2, c1)
            dtypes[(c1.node, i)] = np.dtype(d1)
    input_shape = _symbolic(first.input.shape, second.input.shape, n, n2, None)
    if not dynamic_batch:
        input_shape = tuple(first.input.shape)
    shapes["input"], dtypes["input"] = input_shape, np.dtype(first.input.dtype)
    outputs = ["input" if t is first.input else (t.grad_fn, t._index) for t in first.outputs]
    return Traced(first.calls, outputs, input_shape, shapes, dtypes, names, first.input, twins)


def _symbolic(s1: tuple[int, ...], s2: tuple[int, ...], n: int, n2: int,
              call: Call | None) -> tuple[int | str, ...]:
    if len(s1) == len(s2) and all(a == b or (a, b) == (n, n2) for a, b in zip(s1, s2)):
        return tuple(a if a == b else BATCH for a, b in zip(s1, s2))
    raise NotImplementedError(
        f"nn.onnx.export: the output of {call.where() if call else 'the input'} has shape "
        f"{s1} for a batch of {n} and {s2} for a batch of {n2}: only the batch axis may "
        "change with the batch size (export with dynamic_batch=False to fix every size)")


def check_constants(traced: Traced, call: Call) -> None:
    """Raise if a constant or an option of `call` differs in the second pass: a value
    computed from the input outside the graph, which an exported constant would freeze."""
    twin = traced.twins[call.node]
    for i, (a, b) in enumerate(zip(call.args, twin.args)):
        if (call.op, i) in ZERO_STATES and zero_state(traced, a) and _zeros(b):
            continue  # exported as absent: ONNX's initial state defaults to zeros
        if traced.key(a) is None and not same(value(a), value(b)):
            _refuse(call, f"its argument {i} (shape {np.shape(value(a))})")
    for k in call.kwargs:
        if (call.op, k) in NOT_EXPORTED:
            raise NotImplementedError(f"nn.onnx.export: {call.where()}: "
                                      f"{NOT_EXPORTED[call.op, k]}")
    if call.op not in SHAPE_OPTIONS:
        for k, v in call.kwargs.items():
            w = twin.kwargs.get(k)
            if call.op == "getitem" and k == "index":  # x[:n] over all n examples, each pass
                v, w = (full_slices(i, np.shape(value(c.args[0]))) for i, c in
                        ((v, call), (w, twin)))
            if not same(v, w):
                _refuse(call, f"its option {k}=")


def full_slices(index: Any, shape: tuple[int, ...]) -> Any:
    """`index` with each slice that takes a whole axis of `shape` as `slice(None)`: so
    `x[:x.shape[0]]`, or the slices F.pad's negative widths make, are the same in both passes
    (and export as no Slice at all). Left as it is with a boolean array (several axes).

    >>> full_slices((slice(0, 2), slice(1, 4), None), (2, 4))
    (slice(None, None, None), slice(1, 4, None), None)
    """
    items = list(index) if type(index) is tuple else [index]
    if any(isinstance(it, np.ndarray) and it.dtype == bool for it in items):
        return index
    real = sum(it is not None and it is not Ellipsis for it in items)
    out, axis = [], 0
    for it in items:
        if it is Ellipsis:
            axis += len(shape) - real
        elif it is not None:
            if (isinstance(it, slice) and axis < len(shape) and it.step in (None, 1)
                    and it.indices(shape[axis]) == (0, shape[axis], 1)):
                it = slice(None)
            axis += 1
        out.append(it)
    return tuple(out) if type(index) is tuple else out[0]


# Options with no ONNX counterpart, and why.
_INDICES = ("return_indices=True is not exported: ONNX MaxPool's indices count over the "
            "whole tensor, PyTorch's (and max_unpool's) over each (H, W) plane")
NOT_EXPORTED = {("max_pool2d", "found"): _INDICES, ("adaptive_max_pool2d", "found"): _INDICES}


# Arguments that may be zeros made for the batch (a recurrence's initial state h0, c0 when
# none is given): a constant of all zeros there, in both passes, is exported as absent.
ZERO_STATES = frozenset({("recurrence", 1), ("recurrence", 2)})


def zero_state(traced: Traced, a: Any) -> bool:
    """A constant (no graph value) of all zeros: what ZERO_STATES leaves out."""
    return traced.key(a) is None and _zeros(a)


def _zeros(a: Any) -> bool:
    return isinstance(a, Tensor) and not bool(np.any(a.data))


# Ops whose options hold the batch size: their ONNX nodes are built from the shapes (with the
# batch axis symbolic), not from these options.
SHAPE_OPTIONS = frozenset({"reshape", "broadcastto", "conv_transpose2d"})


def _refuse(call: Call, what: str) -> None:
    raise NotImplementedError(
        f"nn.onnx.export: {call.where()}: {what} changes with the input: a value computed "
        "from the input outside the graph (a mask, a maximum, a per-example array), which an "
        "ONNX constant would freeze. The layers nn.Softmax, nn.LogSoftmax, nn.LeakyReLU, "
        "nn.ELU and nn.ReLU6 are exported whole; call the function through them")


def value(a: Any) -> Any:
    """The array of a Tensor argument; any other argument as it is."""
    return a.data if isinstance(a, Tensor) else a


def same(a: Any, b: Any) -> bool:
    """Equal values (arrays by value, NaN equal to NaN; containers item by item)."""
    if isinstance(a, np.ndarray | np.generic) or isinstance(b, np.ndarray | np.generic):
        a, b = np.asarray(a), np.asarray(b)
        nan = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _regions(model: Any, first: _Pass, traced: Traced) -> dict[Function, list[Region]]:
    """For every layer of a type in LAYERS: the ops its forward made, with its one input and
    its one output, listed under its first op, outer layers first."""
    from nn.onnx.ops import LAYERS

    modules = dict(model.named_modules())
    out: dict[Function, list[Region]] = {}
    if not first.calls:  # the model returns its input: nothing but Identity nodes
        return out
    whole = ModuleRecord("", type(model).__name__, -1, first.calls[-1].node._seq + 1)
    for r in sorted([whole, *first.records], key=lambda r: (r.start, -r.end)):
        module = modules.get(r.path)
        if type(module) not in LAYERS:
            continue
        calls = [c for c in traced.calls if r.start < c.node._seq < r.end]
        ends = _ends(calls, traced)
        if calls and ends is not None:
            out.setdefault(calls[0].node, []).append(Region(module, r.path, calls, *ends))
    return out


def _ends(calls: list[Call], traced: Traced) -> tuple[Key, Key] | None:
    """The one value the calls consume from outside and the one value used after them, or
    None when there are more (a layer that cannot be replaced by one ONNX node)."""
    inside = {c.node for c in calls}
    produced = {(c.node, i) for c in calls for i in range(len(c.node._out_meta))}
    consumed = {k for c in calls for k in map(traced.key, c.args) if k is not None}
    inputs = consumed - produced
    used_after = {k for c in traced.calls if c.node not in inside
                  for k in map(traced.key, c.args)} | set(traced.outputs)
    outputs = produced & used_after
    if len(inputs) == 1 and len(outputs) == 1:
        return inputs.pop(), outputs.pop()
    return None

