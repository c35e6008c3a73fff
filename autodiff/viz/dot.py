"""DOT text for a graph: tensors as boxes (name, shape, dtype), ops as ellipses (name and
attributes), layers as clusters. Needs no Graphviz binary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autodiff.tensor import Tensor
from autodiff.viz.graph import (
    DataKey,
    Graph,
    OpNode,
    TensorNode,
    build,
    saved_summary,
    walk_order,
)
from autodiff.viz.trace import module_of, trace

STYLE = {
    "leaf": 'shape=box, style="rounded,filled", fillcolor="#dbeafe"',
    "data": 'shape=box, style="rounded,filled", fillcolor="#e0f2f1", color="#0f766e"',
    "parameter": 'shape=box, style="rounded,filled,bold", fillcolor="#fde68a"',
    "constant": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6", fontcolor="#6b7280"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#bbf7d0"',
    "intermediate": 'shape=box, style="rounded", color="#6b7280"',
    "op": 'shape=ellipse, style=filled, fillcolor="#ede9fe"',
    "backward": 'shape=ellipse, style=filled, fillcolor="#fee2e2"',
    "module": 'shape=box3d, style=filled, fillcolor="#e0f2fe"',
    "bad": 'shape=box, style="rounded,filled,bold", fillcolor="#fca5a5", color="#dc2626"',
}


RANKDIRS = ("TB", "LR", "BT", "RL")

# Graphviz's placement (network simplex) stops after 5 passes per node: it converges long
# before on a layered network (the same picture), and a weight shared by every step of an
# unrolled RNN (long edges) took it minutes at 40 steps (0.9 s with the limit).
NSLIMIT = "nslimit=5"


def check_rankdir(rankdir: str, where: str) -> None:
    """A clear error for a rankdir Graphviz does not know (it is written into the DOT)."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"{where}: rankdir must be one of {', '.join(RANKDIRS)}, got "
                         f"{rankdir!r}")


def _escape(text: str) -> str:
    """Text made safe inside a quoted DOT string: backslashes and double quotes escaped (a
    name can never end the string and add DOT of its own)."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _q(text: str) -> str:
    return '"' + _escape(text) + '"'


def _stats(data: np.ndarray) -> str:
    if data.size == 0 or data.dtype.kind not in "fiub":
        return ""
    d = data.astype(np.float64)
    finite = d[np.isfinite(d)]
    if finite.size == 0:
        return "min/mean/max: not finite"
    return f"min {finite.min():.3g}  mean {finite.mean():.3g}  max {finite.max():.3g}"


def _style(tn: TensorNode) -> str:
    """Red when a NaN/inf was seen; a dotted outline when the value could not be seen."""
    if tn.finite is False:
        return STYLE["bad"]
    if tn.finite is None:
        return STYLE[tn.kind].replace('style="rounded', 'style="rounded,dotted', 1)
    return STYLE[tn.kind]


_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    """str(dtype), cached: NumPy's dtype __str__ is slow enough to show on 100,000 nodes."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def _tensor_label(tn: TensorNode, show_values: bool, show_grads: bool) -> str:
    lines = []
    if tn.name:
        lines.append(tn.name)
    lines.append(f"{tuple(tn.shape)} {_dtype_name(tn.dtype)}")
    if show_values:
        lines.append(_stats(tn.value) if tn.value is not None else "value not kept")
    t = tn.tensor
    if show_grads and t is not None and t.grad is not None:
        s = _stats(t.grad.data)
        lines.append("grad " + s if s else "")
    if tn.finite is False:
        lines.append("NaN/inf!")
    return "\\n".join(_escape(x) for x in lines if x)


def _tid(key: Any) -> str:
    if type(key) is tuple:
        return f"t{id(key[0])}_{key[1]}"
    if isinstance(key, DataKey):
        return f"d{key.n}"
    return f"t{key}"


def _module_paths(graph: Graph, model: Any) -> dict[int, str]:
    """id(op node) -> module path: from a trace if there is one, else by parameter use."""
    out: dict[int, str] = {}
    if model is None:
        return out
    records = trace.records(model)
    if records:
        for op in graph.ops:
            r = module_of(op.node._seq, records)
            if r is not None:
                out[id(op.node)] = r.path
        return out
    owner = {}
    if hasattr(model, "named_modules"):
        for path, m in model.named_modules():
            for _, p in getattr(m, "_parameters", {}).items():
                if p is not None and path:
                    owner.setdefault(id(p), path)
    for op in graph.ops:
        for key in op.inputs:
            if key is not None and type(key) is not tuple and key in owner:
                out[id(op.node)] = owner[key]
                break
    return out


def to_dot(*outputs: Tensor, names: Mapping[str, Any] | None = None, model: Any = None,
           view: str = "forward", depth: int | None = None, show_values: bool = False,
           show_grads: bool = False, show_data: bool = True, hide_constants: bool = True,
           max_nodes: int | None = None, rankdir: str = "TB", title: str | None = None) -> str:
    """The graph that made `outputs`, as DOT text.

    - `names`: a mapping name -> tensor (e.g. `locals()`) to label tensors;
    - `model`: an nn.Module (anything with `named_parameters` / `named_modules`): parameter
      names, and its layers as clusters (after a forward run inside `viz.trace(model)`,
      exactly; otherwise an op joins the layer whose parameter it consumes);
    - `view`: "forward" (tensors and ops) or "backward" (the gradient functions in the order
      backward visits them, and what each saved);
    - `depth`: collapse every layer at that depth (1: `features`, 2: `features.0`) into one
      node with its input and output shapes (needs a trace);
    - `show_values` / `show_grads`: min/mean/max of the data / gradient where known;
    - `show_data`: draw the data inputs, the Tensor arguments that need no gradient (an input
      batch `x`, targets, masks), with their name (`name=` at creation, or `names=` when an op
      saved the tensor for backward), shape and dtype (default). 0-d unnamed ones (the
      constants inside composites) are left out, and so are unnamed ones used only inside a
      collapsed layer;
    - `hide_constants`: leave out the other arguments that need no gradient (default; else
      drawn as `const` boxes, options such as `axis` included);
    - `max_nodes`: draw the op nodes met first (from the outputs) until the drawing holds this
      many nodes, and say how many op nodes were left out (an exact count).

    >>> import autodiff as ad
    >>> from autodiff import viz
    >>> w = ad.tensor([1.0, 2.0], requires_grad=True, name="w")
    >>> text = viz.to_dot((w * w).sum())
    >>> "mul" in text and '"w' in text
    True
    """
    if view not in ("forward", "backward"):
        raise ValueError(f"to_dot: view must be 'forward' or 'backward', got {view!r}")
    check_rankdir(rankdir, "to_dot")
    for arg, v in (("depth", depth), ("max_nodes", max_nodes)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer)
                              or v < 1):
            raise ValueError(f"to_dot: {arg} must be an integer of at least 1 (or None), "
                             f"got {v!r}")
    graph = build(outputs, names, model, max_nodes, show_data)
    lines = [f"digraph {_q(title or 'autodiff')} {{",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=11, {NSLIMIT}];",
             "  node [fontname=Helvetica, fontsize=10];",
             "  edge [fontname=Helvetica, fontsize=9, color=\"#4b5563\"];"]
    if view == "backward":
        lines += _backward_lines(graph, outputs)
    else:
        lines += _forward_lines(graph, model, depth, show_values, show_grads, hide_constants)
    if graph.omitted:
        lines.append(f'  omitted [shape=note, label="{graph.omitted} more op nodes not shown '
                     f'(max_nodes={max_nodes})"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


UNSEEN_NOTE = "dotted: value no longer held by the graph, not checked for NaN/inf"


def _forward_lines(graph: Graph, model: Any, depth: int | None, show_values: bool,
                   show_grads: bool, hide_constants: bool) -> list[str]:
    records = {r.path: r for r in trace.records(model)} if model is not None else {}
    layout = _layout(graph, model, depth)
    clusters: dict[str, list[str]] = defaultdict(list)
    unseen = _tensor_lines(graph, layout, show_values, show_grads, clusters)
    edges = _op_lines(graph, layout, records, hide_constants, clusters)
    lines = clusters.pop("", [])
    for path in sorted(clusters):
        r = records.get(path)
        label = f"{path}: {r.type}" if r else path
        lines.append(f"  subgraph {_q('cluster_' + path)} {{")
        lines.append(f'    label={_q(label)}; style="rounded,dashed"; color="#0284c7";')
        lines += ["  " + line for line in clusters[path]]
        lines.append("  }")
    lines += [f"  {a} -> {b};" for (a, b), n in sorted(edges.items()) if a != b
              for _ in range(n)]
    if unseen:
        lines.append(f'  label="{UNSEEN_NOTE}"; labelloc=b; labeljust=l; fontsize=9;')
    return lines


@dataclass
class _Layout:
    """Where the ops and tensors of a forward view go once layers are collapsed."""

    paths: dict[int, str]         # id(op node) -> module path
    collapsed: dict[int, str]     # id(op node) -> the collapsed layer it disappears into
    producer: dict[Any, OpNode]   # tensor key -> the op that made it
    leaving: set[Any]             # results of a collapsed layer used outside it (and outputs)
    inside: set[Any]              # leaves folded into the one collapsed layer that uses them
    folded: dict[str, int]        # collapsed layer -> number of parameters folded into it

    def visible(self, key: Any) -> bool:
        if key in self.inside:
            return False
        p = self.producer.get(key)
        return p is None or id(p.node) not in self.collapsed or key in self.leaving

    def home(self, key: Any, tn: TensorNode) -> str:
        """The cluster of a tensor's box: an op's result sits in the op's layer."""
        p = self.producer.get(key)
        if p is None or tn.kind == "output" or id(p.node) in self.collapsed:
            return ""
        return self.paths.get(id(p.node), "")


def _layout(graph: Graph, model: Any, depth: int | None) -> _Layout:
    paths = _module_paths(graph, model)
    collapsed: dict[int, str] = {}
    if depth is not None:
        for op in graph.ops:
            parts = (paths.get(id(op.node)) or "").split(".")
            if parts[0] and len(parts) >= depth:
                collapsed[id(op.node)] = ".".join(parts[:depth])
    producer: dict[Any, OpNode] = {k: op for op in graph.ops for k in op.outputs}
    leaving = {key for key, tn in graph.tensors.items() if tn.kind == "output"}
    consumers: dict[Any, set[Any]] = defaultdict(set)
    for op in graph.ops:
        here = collapsed.get(id(op.node))
        for k in op.inputs:
            if k in producer and collapsed.get(id(producer[k].node)) != here:
                leaving.add(k)
            if k is not None:
                consumers[k].add(collapsed.get(id(op.node), id(op.node)))
    # Leaves used only inside one collapsed layer are folded into it: its parameters (counted)
    # and its unnamed data (a pooling's averaging matrices); a named data input stays drawn.
    folded: dict[str, int] = defaultdict(int)
    inside: set[Any] = set()
    for key, users in consumers.items():
        (user,) = users if len(users) == 1 else (None,)
        tn = graph.tensors[key]
        if isinstance(user, str) and key not in producer and not (tn.kind == "data" and tn.name):
            inside.add(key)
            folded[user] += int(np.prod(tn.shape)) if tn.kind != "data" else 0
    return _Layout(paths, collapsed, producer, leaving, inside, folded)


def _tensor_lines(graph: Graph, layout: _Layout, show_values: bool, show_grads: bool,
                  clusters: dict[str, list[str]]) -> bool:
    """A box per visible tensor, into its cluster; True when a value could not be seen."""
    unseen = False
    for key, tn in graph.tensors.items():
        if not layout.visible(key):
            continue
        unseen = unseen or tn.finite is None
        label = _tensor_label(tn, show_values, show_grads)
        clusters[layout.home(key, tn)].append(f'  {_tid(key)} [label="{label}", {_style(tn)}];')
    return unseen


def _op_lines(graph: Graph, layout: _Layout, records: dict[str, Any], hide_constants: bool,
              clusters: dict[str, list[str]]) -> dict[tuple[str, str], int]:
    """An ellipse per op (or one box per collapsed layer), into its cluster; the edges, with
    how many times each is drawn: a tensor an op takes twice (x * x) has two arrows into it,
    as backward sends it two gradients; into a collapsed layer, one."""
    drawn_modules: dict[str, str] = {}  # collapsed layer -> its node id (m0, m1, ...)
    edges: dict[tuple[str, str], int] = {}
    for op in graph.ops:
        mod = layout.collapsed.get(id(op.node))
        if mod is not None:
            nid = drawn_modules.get(mod, f"m{len(drawn_modules)}")
            if mod not in drawn_modules:
                drawn_modules[mod] = nid
                clusters[""].append(_module_line(nid, mod, records.get(mod),
                                                 layout.folded.get(mod)))
        else:
            nid = f"op{id(op.node)}"
            label = "\\n".join(_escape(x) for x in [op.name, *(f"{k}={v}" for k, v in
                                                                   op.attrs.items())])
            cl = layout.paths.get(id(op.node), "")
            clusters[cl].append(f'  {nid} [label="{label}", {STYLE["op"]}];')
        for i, key in enumerate(op.inputs):
            if key is None:
                if not hide_constants:
                    cid = f"c{id(op.node)}_{i}"
                    clusters[""].append(f'  {cid} [label="const", {STYLE["constant"]}];')
                    edges[cid, nid] = 1
            elif layout.visible(key):
                e = (_tid(key), nid)
                edges[e] = 1 if mod is not None else edges.get(e, 0) + 1
        for key in op.outputs:
            if key in graph.tensors and layout.visible(key):
                edges[nid, _tid(key)] = 1
    return edges


def _module_line(nid: str, mod: str, r: Any, folded: int | None) -> str:
    """The box of a collapsed layer: its type, input and output shapes, parameters."""
    lines = [f"{mod}: {r.type if r else 'module'}"]
    if r:
        lines += [f"in {', '.join(map(str, r.in_shapes))}",
                  f"out {', '.join(map(str, r.out_shapes))}"]
    if folded:
        lines.append(f"{folded:,} parameters")
    label = "\\n".join(map(_escape, lines))
    return f'  {nid} [label="{label}", {STYLE["module"]}];'


def _backward_lines(graph: Graph, outputs: tuple[Tensor, ...]) -> list[str]:
    order = walk_order(outputs)
    position = {id(n): i for i, n in enumerate(order)}
    lines, edges = [], []  # boxes drawn once; an edge per input (x * x: two)
    for op in graph.ops:
        n = op.node
        step = position.get(id(n))
        label = _escape(f"{step + 1}. {op.name} backward" if step is not None else
                        f"{op.name} backward") + "\\n" + _escape(f"saved: {saved_summary(n)}")
        lines.append(f'  b{id(n)} [label="{label}", {STYLE["backward"]}];')
        for key in op.inputs:
            if key is None:
                continue
            if type(key) is tuple:
                edges.append(f"  b{id(n)} -> b{id(key[0])};")
            else:
                tn = graph.tensors[key]
                if tn.kind == "data":
                    continue  # no gradient flows to the data
                name = _escape(f"{tn.name or 'leaf'}.grad")
                lines.append(f'  g{key} [label="{name}\\n{tuple(tn.shape)} {tn.dtype}", '
                             f"{STYLE[tn.kind if tn.kind != 'output' else 'leaf']}];")
                edges.append(f"  b{id(n)} -> g{key};")
    return list(dict.fromkeys(lines)) + edges
