"""An ONNX file's graph drawn as the engine draws its own: op ellipses (the op type and its
attributes), the graph's input, output and initializers as boxes (name, shape, dtype), each
edge labeled with the shape of the tensor it carries where shape inference knows it, and
clusters by layer path, read from the node names (`features.0/Conv` is in `features.0`, as
`nn.onnx.export` names them). So what was exported can be set beside what was trained.

The `onnx` package is imported when a file is drawn, never with autodiff (it comes with the
optional extra 'export').
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from autodiff.viz.dot import NSLIMIT, STYLE, _escape, _q, check_rankdir
from autodiff.viz.render import LAYOUT_TIMEOUT, check_path, digraph, write


def onnx_to_dot(path: str | os.PathLike[str], *, rankdir: str = "TB",
                title: str | None = None) -> str:
    """The graph of the ONNX model at `path` (a file `nn.onnx.export` wrote, or any), as DOT
    text: the style of `to_dot`, layers as clusters by node name, shapes on the edges.

    >>> import os, tempfile, onnx
    >>> from onnx import TensorProto, helper
    >>> from autodiff import viz
    >>> x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3])
    >>> y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])
    >>> relu = helper.make_node("Relu", ["input"], ["output"], name="act/Relu")
    >>> path = os.path.join(tempfile.mkdtemp(), "relu.onnx")
    >>> onnx.save(helper.make_model(helper.make_graph([relu], "relu", [x], [y])), path)
    >>> text = viz.onnx_to_dot(path)
    >>> 'subgraph "cluster_act"' in text and "Relu" in text and "(batch, 3)" in text
    True
    """
    check_rankdir(rankdir, "onnx_to_dot")
    graph = _load(path).graph
    shapes = _shapes(graph)
    lines = [f"digraph {_q(title or graph.name or 'onnx')} {{",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=11, {NSLIMIT}];",
             "  node [fontname=Helvetica, fontsize=10];",
             "  edge [fontname=Helvetica, fontsize=9, color=\"#4b5563\"];"]
    clusters: dict[str, list[str]] = defaultdict(list)
    source: dict[str, str] = {}  # value name -> the id of the box or op that makes it
    inits = {t.name for t in graph.initializer}
    for i, v in enumerate(x for x in graph.input if x.name not in inits):
        source[v.name] = f"i{i}"
        clusters[""].append(_box(f"i{i}", v.name, shapes.get(v.name), "data"))
    for i, t in enumerate(graph.initializer):
        source[t.name] = f"w{i}"
        clusters[""].append(_box(f"w{i}", t.name, shapes.get(t.name), "parameter"))
    edges = []
    for i, node in enumerate(graph.node):
        clusters[_layer(node.name)].append(
            f'  n{i} [label="{_op_label(node)}", {STYLE["op"]}];')
        edges += [_edge(source[v], f"n{i}", shapes.get(v)) for v in node.input if v in source]
        source.update((v, f"n{i}") for v in node.output)
    for i, v in enumerate(graph.output):
        clusters[""].append(_box(f"o{i}", v.name, shapes.get(v.name), "output"))
        if v.name in source:
            edges.append(_edge(source[v.name], f"o{i}", None))
    lines += clusters.pop("", [])
    for layer in sorted(clusters):
        lines.append(f"  subgraph {_q('cluster_' + layer)} {{")
        lines.append(f'    label={_q(layer)}; style="rounded,dashed"; color="#0284c7";')
        lines += ["  " + line for line in clusters[layer]]
        lines.append("  }")
    lines += list(dict.fromkeys(edges))
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_onnx(path: str | os.PathLike[str], **options: Any) -> Any:
    """The graph of the ONNX model at `path` as a `graphviz.Digraph` (shown inline in
    Jupyter; same options as `onnx_to_dot`).

    >>> import os, tempfile, onnx
    >>> from onnx import TensorProto, helper
    >>> from autodiff import viz
    >>> x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3])
    >>> y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])
    >>> relu = helper.make_node("Relu", ["input"], ["output"], name="act/Relu")
    >>> path = os.path.join(tempfile.mkdtemp(), "relu.onnx")
    >>> onnx.save(helper.make_model(helper.make_graph([relu], "relu", [x], [y])), path)
    >>> "Relu" in viz.draw_onnx(path).source
    True
    """
    return digraph(onnx_to_dot(path, **options), options.get("title") or "onnx")


def render_onnx(model: str | os.PathLike[str], *, path: str,
                timeout: float | None = LAYOUT_TIMEOUT, **options: Any) -> str:
    """Draw the ONNX model in the file `model` into `path`, as `render` draws a tensor's
    graph: the format from the extension (.svg, .png, .pdf, .dot), laid out within `timeout`
    seconds (None: no limit). Returns the path written.

    >>> import os, tempfile, onnx
    >>> from onnx import TensorProto, helper
    >>> from autodiff import viz
    >>> x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3])
    >>> y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])
    >>> relu = helper.make_node("Relu", ["input"], ["output"], name="act/Relu")
    >>> model = os.path.join(tempfile.mkdtemp(), "relu.onnx")
    >>> onnx.save(helper.make_model(helper.make_graph([relu], "relu", [x], [y])), model)
    >>> out = viz.render_onnx(model, path=model.replace(".onnx", ".dot"))
    >>> open(out).read().startswith("digraph")
    True
    """
    check_path(path, "viz.render_onnx")
    return write(path, onnx_to_dot(model, **options), options.get("title") or "onnx", timeout)


def _load(path: str | os.PathLike[str]) -> Any:
    """The model, with the shapes ONNX's shape inference finds."""
    try:
        import onnx
    except ImportError as e:
        raise ImportError("drawing an ONNX file needs the onnx package, which is not "
                          "installed: pip install 'autodiff-nn[export]'") from e
    return onnx.shape_inference.infer_shapes(onnx.load(os.fspath(path)))


Shape = tuple[tuple[str, ...], str]  # (dims as text, dtype name)


def _shapes(graph: Any) -> dict[str, Shape]:
    """Value name -> (dims, dtype), for every value whose type the file or inference gives."""
    from onnx import helper

    out: dict[str, Shape] = {}
    for v in (*graph.input, *graph.value_info, *graph.output):
        t = v.type.tensor_type
        if t.HasField("shape"):
            dims = tuple(d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?")
                         for d in t.shape.dim)
            out[v.name] = (dims, str(helper.tensor_dtype_to_np_dtype(t.elem_type)))
    for t in graph.initializer:
        out[t.name] = (tuple(map(str, t.dims)),
                       str(helper.tensor_dtype_to_np_dtype(t.data_type)))
    return out


def _text(shape: Shape | None) -> str:
    if shape is None:
        return ""
    dims = shape[0]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _box(nid: str, name: str, shape: Shape | None, kind: str) -> str:
    lines = [name] if shape is None else [name, f"{_text(shape)} {shape[1]}"]
    label = "\\n".join(map(_escape, lines))
    return f'  {nid} [label="{label}", {STYLE[kind]}];'


def _edge(a: str, b: str, shape: Shape | None) -> str:
    return f'  {a} -> {b} [label="{_escape(_text(shape))}"];' if shape else f"  {a} -> {b};"


def _layer(name: str) -> str:
    """The layer path of a node named `<path>/<op>` ("" for a name without one)."""
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _op_label(node: Any) -> str:
    """The op type, then its attributes that are short (numbers, strings, lists of ints)."""
    from onnx import helper

    lines = [node.op_type]
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode(errors="replace")
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(value, int | float | str) or (
                isinstance(value, tuple) and all(isinstance(v, int) for v in value)):
            text = (f"{a.name}={value!r}" if isinstance(value, str) else
                    f"{a.name}={value:.6g}" if isinstance(value, float) else f"{a.name}={value}")
            lines.append(text if len(text) <= 40 else text[:37] + "...")
    return "\\n".join(_escape(line) for line in lines)
