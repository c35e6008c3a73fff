"""DOT text for a graph: tensors as boxes (name, shape, dtype), ops as ellipses (name and
attributes), layers as clusters. Needs no Graphviz binary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
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
    "bad": 'style="rounded,filled,bold", fillcolor="#fca5a5", color="#dc2626"',
}


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stats(data: np.ndarray) -> str:
    if data.size == 0 or data.dtype.kind not in "fiub":
        return ""
    d = data.astype(np.float64)
    finite = d[np.isfinite(d)]
    if finite.size == 0:
        return "min/mean/max: not finite"
    return f"min {finite.min():.3g}  mean {finite.mean():.3g}  max {finite.max():.3g}"


def _bad(t: Tensor | None) -> bool:
    return t is not None and t.data.dtype.kind in "fc" and not np.isfinite(t.data).all()


_DTYPE_NAMES: dict[Any, str] = {}


def _dtype_name(dtype: Any) -> str:
    """str(dtype), cached: NumPy's dtype __str__ is slow enough to show on 100,000 nodes."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype)
    return name


def _tensor_label(tn: TensorNode, show_values: bool, show_grads: bool) -> str:
    lines = []
    if tn.name or tn.kind == "data":
        lines.append(tn.name or "data")
    lines.append(f"{tuple(tn.shape)} {_dtype_name(tn.dtype)}")
    t = tn.tensor
    if show_values and t is not None:
        s = _stats(t.data)
        if s:
            lines.append(s)
    if show_grads and t is not None and t.grad is not None:
        s = _stats(t.grad.data)
        if s:
            lines.append("grad " + s)
    if _bad(t):
        lines.append("NaN/inf!")
    return "\\n".join(x.replace("\\", "\\\\").replace('"', '\\"') for x in lines)


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
      saved the tensor for backward; else "data"), shape and dtype (default). 0-d unnamed
      ones (the constants inside composites) are left out;
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
    graph = build(outputs, names, model, max_nodes, show_data)
    lines = [f"digraph {_q(title or 'autodiff')} {{",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=11];",
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


def _forward_lines(graph: Graph, model: Any, depth: int | None, show_values: bool,
                   show_grads: bool, hide_constants: bool) -> list[str]:
    paths = _module_paths(graph, model)
    collapsed: dict[int, str] = {}
    records = {r.path: r for r in trace.records(model)} if model is not None else {}
    if depth is not None:
        for op in graph.ops:
            p = paths.get(id(op.node))
            if p:
                parts = p.split(".")
                if len(parts) >= depth:
                    collapsed[id(op.node)] = ".".join(parts[:depth])
    lines: list[str] = []
    # tensors produced inside a collapsed module are hidden, except those leaving it
    producer: dict[Any, OpNode] = {k: op for op in graph.ops for k in op.outputs}
    used_outside: set[Any] = set()
    for op in graph.ops:
        here = collapsed.get(id(op.node))
        for k in op.inputs:
            if k in producer and collapsed.get(id(producer[k].node)) != here:
                used_outside.add(k)
    for key, tn in graph.tensors.items():
        if tn.kind == "output":
            used_outside.add(key)

    # leaves used only inside one collapsed layer (its parameters) are folded into it
    consumers: dict[Any, set[Any]] = defaultdict(set)
    for op in graph.ops:
        for k in op.inputs:
            if k is not None:
                consumers[k].add(collapsed.get(id(op.node), id(op.node)))
    folded: dict[str, int] = defaultdict(int)
    inside: set[Any] = set()
    for key, users in consumers.items():
        if key not in producer and len(users) == 1 and graph.tensors[key].kind != "data":
            (user,) = users
            if isinstance(user, str):
                inside.add(key)
                folded[user] += int(np.prod(graph.tensors[key].shape))

    def visible(key: Any) -> bool:
        if key in inside:
            return False
        p = producer.get(key)
        return p is None or id(p.node) not in collapsed or key in used_outside

    clusters: dict[str, list[str]] = defaultdict(list)
    for key, tn in graph.tensors.items():
        if not visible(key):
            continue
        style = STYLE["bad"] if _bad(tn.tensor) else STYLE[tn.kind]
        made_by = producer.get(key)
        home = ""
        if made_by is not None and tn.kind != "output" and id(made_by.node) not in collapsed:
            home = paths.get(id(made_by.node), "")  # an op's result sits in the op's layer
        label = _tensor_label(tn, show_values, show_grads)
        clusters[home].append(f'  {_tid(key)} [label="{label}", {style}];')
    drawn_modules: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for op in graph.ops:
        mod = collapsed.get(id(op.node))
        if mod is not None:
            nid = "m_" + mod.replace(".", "_")
            if mod not in drawn_modules:
                drawn_modules.add(mod)
                r = records.get(mod)
                kind = r.type if r else "module"
                shapes = (f"\\nin {', '.join(map(str, r.in_shapes))}\\nout "
                          f"{', '.join(map(str, r.out_shapes))}") if r else ""
                if folded.get(mod):
                    shapes += f"\\n{folded[mod]:,} parameters"
                clusters[""].append(f'  {nid} [label="{mod}: {kind}{shapes}", {STYLE["module"]}];')
        else:
            nid = f"op{id(op.node)}"
            attrs = "".join(f"\\n{k}={v}".replace('"', '\\"') for k, v in op.attrs.items())
            cl = paths.get(id(op.node), "")
            clusters[cl].append(f'  {nid} [label="{op.name}{attrs}", {STYLE["op"]}];')
        for i, key in enumerate(op.inputs):
            if key is None:
                if not hide_constants:
                    cid = f"c{id(op.node)}_{i}"
                    clusters[""].append(f'  {cid} [label="const", {STYLE["constant"]}];')
                    edges.add((cid, nid, ""))
                continue
            if visible(key):
                edges.add((_tid(key), nid, ""))
        for key in op.outputs:
            if key in graph.tensors and visible(key):
                edges.add((nid, _tid(key), ""))
    lines += clusters.pop("")
    for path in sorted(clusters):
        r = records.get(path)
        label = f"{path}: {r.type}" if r else path
        lines.append(f'  subgraph "cluster_{path}" {{')
        lines.append(f'    label="{label}"; style="rounded,dashed"; color="#0284c7";')
        lines += ["  " + line for line in clusters[path]]
        lines.append("  }")
    lines += [f"  {a} -> {b};" for a, b, _ in sorted(edges) if a != b]
    return lines


def _backward_lines(graph: Graph, outputs: tuple[Tensor, ...]) -> list[str]:
    order = walk_order(outputs)
    position = {id(n): i for i, n in enumerate(order)}
    lines = []
    for op in graph.ops:
        n = op.node
        step = position.get(id(n))
        label = (f"{step + 1}. {op.name} backward" if step is not None else f"{op.name} backward")
        label += f"\\nsaved: {saved_summary(n)}"
        lines.append(f'  b{id(n)} [label="{label}", {STYLE["backward"]}];')
        for key in op.inputs:
            if key is None:
                continue
            if type(key) is tuple:
                lines.append(f"  b{id(n)} -> b{id(key[0])};")
            else:
                tn = graph.tensors[key]
                if tn.kind == "data":
                    continue  # no gradient flows to the data
                name = tn.name or "leaf"
                lines.append(f'  g{key} [label="{name}.grad\\n{tuple(tn.shape)} {tn.dtype}", '
                             f"{STYLE[tn.kind if tn.kind != 'output' else 'leaf']}];")
                lines.append(f"  b{id(n)} -> g{key};")
    return list(dict.fromkeys(lines))
