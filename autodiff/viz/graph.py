"""The drawable graph: an iterative walk from output tensors to a list of nodes and edges.

Kept free of Graphviz: `dot.py` turns it into DOT text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autodiff.function import Function, _Output
from autodiff.tensor import Tensor


@dataclass
class TensorNode:
    key: Any                      # id(tensor), (op node, output index) or a DataKey
    shape: tuple[int, ...]
    dtype: Any
    name: str | None = None
    kind: str = "intermediate"    # leaf, parameter, data, constant, output, intermediate
    tensor: Tensor | None = None  # the tensor object, when known (its gradient, for show_grads)
    value: np.ndarray | None = None  # its array, when the drawing can see it
    finite: bool | None = None    # False: NaN/inf seen; True: seen, all finite; None: not seen


@dataclass(frozen=True)
class DataKey:
    """The key of a data input's box when the graph holds no reference to the tensor (its
    number in the drawing): one box per name (with shape and dtype), else one per use."""

    n: int


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
    omitted: int = 0  # op nodes reachable from the outputs but not drawn (max_nodes)


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


def tensor_key(t: Tensor) -> Any:
    """The key of a tensor's box: id(t) for a leaf, (op node, output index) for a result."""
    return id(t) if t.grad_fn is None else (t.grad_fn, t._index)


def reachable(starts: Iterable[Function]) -> Iterator[Function]:
    """Every op node reachable from `starts`, each once, depth first (iteratively)."""
    stack = list(dict.fromkeys(starts))
    seen = set(stack)
    while stack:
        node = stack.pop()
        yield node
        for e in node._edges:
            if type(e) is tuple and e[0] not in seen:
                seen.add(e[0])
                stack.append(e[0])


def drawn_data(meta: tuple[int, str | None, tuple[int, ...], Any]) -> bool:
    """Whether a data input is drawn: when it has a name or at least one axis. The 0-d
    constants the engine and composites make themselves (the 0.5 of a mean) are not."""
    _, name, shape, _ = meta
    return name is not None or len(shape) >= 1


def build(outputs: Iterable[Tensor], names: Mapping[str, Any] | None = None, model: Any = None,
          max_nodes: int | None = None, show_data: bool = True) -> Graph:
    """Walk from `outputs` to the leaves (iteratively, each node once). With `max_nodes`, the
    op nodes met first are drawn until the drawing holds that many boxes and ellipses, and
    `omitted` counts the reachable op nodes left out. Each box gets the value the drawing can
    see (the tensor, or the copy a node saved for backward) and whether it is finite.

    >>> import autodiff as ad
    >>> w = ad.tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> g = build([(w * ad.tensor([3.0, 4.0], name="x")).sum()])
    >>> [op.name for op in g.ops], g.omitted
    (['mul', 'sum'], 0)
    >>> sorted((t.name, t.kind, t.finite) for t in g.tensors.values() if t.name)
    [('w', 'leaf', True), ('x', 'data', True)]
    """
    b = _Builder(names, model, show_data)
    starts = [b.output(t) for t in outputs]
    omitted = 0
    for node in reachable(n for n in starts if n is not None):
        if max_nodes is not None and len(b.ops) + len(b.tensors) >= max_nodes:
            omitted += 1
        else:
            b.add(node)
    b.check_values()
    b.ops.sort(key=lambda o: o.node._seq)
    return Graph(b.tensors, b.ops, omitted)


class _Builder:
    """The boxes (tensors) and ellipses (ops) of one drawing, filled by `build`."""

    def __init__(self, names: Mapping[str, Any] | None, model: Any, show_data: bool) -> None:
        self.labels = name_map(names, model)
        self.param_ids = ({id(p) for _, p in model.named_parameters()}
                          if model is not None and hasattr(model, "named_parameters") else set())
        self.known = {tensor_key(t): t for t in (names or {}).values() if isinstance(t, Tensor)}
        self.show_data = show_data
        self.tensors: dict[Any, TensorNode] = {}
        self.ops: list[OpNode] = []
        self.data_keys: dict[tuple[Any, ...], DataKey] = {}
        self.arrays: dict[Any, dict[int, np.ndarray]] = {}  # key -> the arrays seen, by id

    def box(self, key: Any, shape: tuple[int, ...], dtype: Any, kind: str,
            tensor: Tensor | None = None, name: str | None = None) -> None:
        """A tensor's box, made once (the first kind given wins: outputs come first)."""
        tn = self.tensors.get(key)
        if tn is None:
            tensor = tensor if tensor is not None else self.known.get(key)
            tn = self.tensors[key] = TensorNode(key, shape, dtype, self.labels.get(key) or name,
                                                kind)
        if tensor is not None:
            if tn.tensor is None:
                tn.tensor = tensor
            self.see(key, tensor.data)

    def see(self, key: Any, array: np.ndarray) -> None:
        """Note an array the drawing can see for a box (to show it and check it)."""
        self.arrays.setdefault(key, {})[id(array)] = array

    def see_saved(self, node: Function) -> None:
        """Note what a node still holds for backward: its saved outputs (arrays) and its
        saved inputs (Tensors); nothing once a backward has freed them."""
        saved = node._saved
        if saved is None or isinstance(saved, str):  # nothing saved, or freed
            return
        for s, raw in zip(saved, node._saved_arrays or ()):
            if type(s) is _Output:
                self.see((node, s.index), raw)
            elif isinstance(s, Tensor) and s.requires_grad and tensor_key(s) in self.tensors:
                self.box(tensor_key(s), s.shape, s.dtype, "intermediate", s)

    def check_values(self) -> None:
        """Each box's value (the first array seen) and whether it is finite: False when a
        NaN/inf was seen, True when every array seen is finite (or the dtype cannot hold
        NaN), None when the drawing could not see the value."""
        for key, tn in self.tensors.items():
            seen = list(self.arrays.get(key, {}).values())
            tn.value = seen[0] if seen else None
            if np.dtype(tn.dtype).kind not in "fc":
                tn.finite = True
            elif seen:
                tn.finite = all(bool(np.isfinite(a).all()) for a in seen)

    def output(self, t: Any) -> Function | None:
        if not isinstance(t, Tensor):
            raise TypeError(f"viz: expected Tensors to draw, got {type(t).__name__}")
        self.box(tensor_key(t), t.shape, t.dtype, "output", t, t.name)
        return t.grad_fn

    def add(self, node: Function) -> None:
        """Draw an op node: its ellipse, its output boxes, and the boxes of its inputs."""
        op = OpNode(node, node.op_name(), op_attributes(node))
        for i, (shape, dtype) in enumerate(node._out_meta):
            op.outputs.append((node, i))
            self.box((node, i), shape, dtype, "intermediate")
        data = {m[0]: m for m in node._data_inputs or () if self.show_data and drawn_data(m)}
        for i, e in enumerate(node._edges):
            if e is not None:
                op.inputs.append(self.edge(e))
            else:
                op.inputs.append(self.data(node, data[i]) if i in data else None)
        self.see_saved(node)
        self.ops.append(op)

    def edge(self, e: Any) -> Any:
        """The box of an input that needs a gradient: an op's result, or a leaf."""
        if type(e) is tuple:
            shape, dtype = e[0]._out_meta[e[1]]
            self.box(e, shape, dtype, "intermediate")
            return e
        kind = "parameter" if id(e) in self.param_ids or type(e) is not Tensor else "leaf"
        self.box(id(e), e.shape, e.dtype, kind, e, e.name)
        return id(e)

    def data(self, node: Function, meta: tuple[Any, ...]) -> Any:
        """The box of a data input (see `DataKey`); keyed by the tensor itself when the
        node saved it for backward, so that `names=` can name it."""
        i, name, shape, dtype = meta
        t = held_data(node).get((name, shape, dtype))
        if name is None and t is not None:
            key: Any = id(t)
        else:
            ident = ("name", name, shape, dtype) if name is not None else ("use", id(node), i)
            key = self.data_keys.setdefault(ident, DataKey(len(self.data_keys)))
        self.box(key, shape, dtype, "data", t, name)
        return key


def held_data(node: Function) -> dict[tuple[Any, ...], Tensor]:
    """The data inputs a node saved for backward (so the graph still holds them), by (name,
    shape, dtype); left out when that metadata does not tell which input a tensor was."""
    saved, metas = node._saved, node._data_inputs
    if saved is None or isinstance(saved, str) or not metas:
        return {}
    inputs = Counter((name, shape, dtype) for _, name, shape, dtype in metas)
    out: dict[tuple[Any, ...], Tensor] = {}
    for s in saved:
        if isinstance(s, Tensor) and not s.requires_grad:
            meta = (s.name, s.data.shape, s.data.dtype)
            if inputs.get(meta) == 1 and out.get(meta, s) is s:
                out[meta] = s
            else:
                inputs[meta] = 0  # two tensors, or two inputs, alike: which one is unknown
                out.pop(meta, None)
    return out


def walk_order(outputs: Iterable[Tensor]) -> list[Function]:
    """The order in which backward() runs the nodes: newest first, by creation number (a
    node is made after the tensors it consumes, so its consumers have all run before it).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> b = x.exp()
    >>> a = x.tanh()
    >>> [n.op_name() for n in walk_order([(a * b).sum()])]
    ['sum', 'mul', 'tanh', 'exp']
    """
    return sorted(reachable(t.grad_fn for t in outputs if t.grad_fn is not None),
                  key=lambda n: -n._seq)


def saved_summary(node: Function) -> str:
    """What a node saved for backward, e.g. 'input (3, 4) float32' per item ('input': a
    tensor that needs a gradient, 'data': one that does not, 'output', 'const': an array the
    op made), or 'nothing', or 'freed'."""
    saved = node._saved
    if saved is None:
        return "nothing"
    if isinstance(saved, str):
        return saved
    parts = []
    for s, raw in zip(saved, node._saved_arrays or ()):
        if s is None:  # a place the op left empty (nothing its backward will read)
            continue
        if isinstance(s, _Output):
            arr, what = raw, "output"
        elif isinstance(s, Tensor):
            arr, what = s.data, "input" if s.requires_grad else "data"
        else:
            arr, what = np.asarray(s), "const"
        parts.append(f"{what} {tuple(arr.shape)} {arr.dtype}")
    return "; ".join(parts) if parts else "nothing"
