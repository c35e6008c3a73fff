"""The drawable graph: an iterative walk from output tensors to a list of nodes and edges.

Kept free of Graphviz: `dot.py` turns it into DOT text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autodiff.function import Function, _Output
from autodiff.tensor import Tensor


@dataclass
class TensorNode:
    key: Any                      # id(leaf) or (op node, output index)
    shape: tuple[int, ...]
    dtype: Any
    name: str | None = None
    kind: str = "intermediate"    # leaf, parameter, constant, output, intermediate
    tensor: Tensor | None = None  # when the tensor object is known (data for statistics)


@dataclass
class OpNode:
    node: Function
    name: str
    attrs: dict[str, str]
    inputs: list[Any] = field(default_factory=list)   # TensorNode keys (None: constant)
    outputs: list[Any] = field(default_factory=list)  # TensorNode keys
    module: str | None = None


@dataclass
class Graph:
    tensors: dict[Any, TensorNode]
    ops: list[OpNode]
    omitted: int = 0  # nodes left out by max_nodes


def _short(value: Any) -> str | None:
    """An op attribute worth showing (numbers, flags, small tuples), as text; else None."""
    if isinstance(value, bool | int | float | str | np.integer | np.floating) or value is None:
        text = repr(value.item() if isinstance(value, np.generic) else value)
    elif isinstance(value, tuple) and all(isinstance(v, int | np.integer | type(None) | slice)
                                          for v in value):
        text = repr(tuple(int(v) if isinstance(v, np.integer) else v for v in value))
    elif isinstance(value, np.dtype):
        text = str(value)
    else:
        return None
    return text if len(text) <= 40 else text[:37] + "..."


def op_attributes(node: Function) -> dict[str, str]:
    out = {}
    for k, v in vars(node).items():
        if k.startswith("_") or k in ("needs_input_grad",):
            continue
        text = _short(v)
        if text is not None:
            out[k] = text
    return out


def name_map(names: Mapping[str, Any] | None, model: Any) -> dict[Any, str]:
    """Tensor key -> display name, from a mapping such as locals() and a model's parameters."""
    out: dict[Any, str] = {}
    if model is not None and hasattr(model, "named_parameters"):
        for n, p in model.named_parameters():
            out[id(p)] = n
    for n, t in (names or {}).items():
        if isinstance(t, Tensor) and not n.startswith("_"):
            out[id(t) if t.grad_fn is None else (t.grad_fn, t._index)] = n
    return out


def build(outputs: Iterable[Tensor], names: Mapping[str, Any] | None = None, model: Any = None,
          max_nodes: int | None = None) -> Graph:
    """Walk from `outputs` to the leaves (iteratively, each node once)."""
    labels = name_map(names, model)
    param_ids = {id(p) for _, p in model.named_parameters()} if model is not None and hasattr(
        model, "named_parameters") else set()
    known: dict[Any, Tensor] = {}
    for t in (names or {}).values():
        if isinstance(t, Tensor):
            known[id(t) if t.grad_fn is None else (t.grad_fn, t._index)] = t
    tensors: dict[Any, TensorNode] = {}
    ops: list[OpNode] = []
    seen: set[int] = set()
    stack: list[Function] = []
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"viz: expected Tensors to draw, got {type(t).__name__}")
        key = id(t) if t.grad_fn is None else (t.grad_fn, t._index)
        tensors[key] = TensorNode(key, t.shape, t.dtype, labels.get(key) or t.name, "output", t)
        if t.grad_fn is not None and id(t.grad_fn) not in seen:
            seen.add(id(t.grad_fn))
            stack.append(t.grad_fn)
    omitted = 0
    while stack:
        node = stack.pop()
        if max_nodes is not None and len(ops) + len(tensors) >= max_nodes:
            omitted += 1
            continue
        op = OpNode(node, node.op_name(), op_attributes(node))
        for i, (shape, dtype) in enumerate(node._out_meta):
            key = (node, i)
            op.outputs.append(key)
            if key not in tensors:
                t = known.get(key)
                tensors[key] = TensorNode(key, shape, dtype, labels.get(key), "intermediate", t)
        for e in node._edges:
            if e is None:
                op.inputs.append(None)
                continue
            if type(e) is tuple:
                child, idx = e
                key = (child, idx)
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
                if key not in tensors:
                    shape, dtype = child._out_meta[idx]
                    tensors[key] = TensorNode(key, shape, dtype, labels.get(key), "intermediate",
                                              known.get(key))
            else:
                key = id(e)
                if key not in tensors:
                    kind = "parameter" if key in param_ids or type(e) is not Tensor else "leaf"
                    tensors[key] = TensorNode(key, e.shape, e.dtype, labels.get(key) or e.name,
                                              kind, e)
            op.inputs.append(key)
        ops.append(op)
    ops.sort(key=lambda o: o.node._seq)
    return Graph(tensors, ops, omitted)


def count_consumers(starts: list[Any]) -> dict[Any, int]:
    """For every node reachable from `starts`, how many edges point at it (iteratively)."""
    deps: dict[Any, int] = {}
    stack = list(starts)
    seen = set(starts)
    while stack:
        node = stack.pop()
        for e in node._edges:
            if type(e) is tuple:
                child = e[0]
                deps[child] = deps.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    return deps


def walk_order(outputs: Iterable[Tensor]) -> list[Function]:
    """The order in which backward() visits the nodes (the same Kahn walk, run dry)."""
    starts = []
    for t in outputs:
        if t.grad_fn is not None and t.grad_fn not in starts:
            starts.append(t.grad_fn)
    deps = count_consumers(starts)
    ready = [n for n in starts if deps.get(n, 0) == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for e in node._edges:
            if type(e) is tuple:
                deps[e[0]] -= 1
                if deps[e[0]] == 0:
                    ready.append(e[0])
    return order


def saved_summary(node: Function) -> str:
    """What a node saved for backward, e.g. 'x (3, 4) float32' per item, or 'freed'."""
    saved = node._saved
    if saved is None:
        return "nothing"
    if isinstance(saved, str):
        return saved
    parts = []
    for s, raw in zip(saved, node._saved_arrays or ()):
        if isinstance(s, _Output):
            arr, what = raw, "output"
        elif isinstance(s, Tensor):
            arr, what = s.data, "input" if s.requires_grad else "const"
        else:
            arr, what = np.asarray(s), "const"
        parts.append(f"{what} {tuple(arr.shape)} {arr.dtype}")
    return "; ".join(parts) if parts else "nothing"
