"""Building the ONNX graph from a traced model: node names by layer path (`features.0/Conv`),
parameters and buffers as initializers under their state-dict names, other constants as
initializers named by the node that uses them; then the model, checked and saved atomically.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from nn.onnx import trace
from nn.onnx.trace import BATCH, Call, Key, Traced, check_constants


class Graph:
    """The nodes and initializers of the graph being written; `ops.py`'s builders call
    `node`, `input` and `const`."""

    def __init__(self, traced: Traced, opset: int) -> None:
        self.traced = traced
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: dict[str, Any] = {}
        self.values: dict[Key, str] = {"input": "input"}
        self.constants: dict[int, str] = {}  # id(parameter or buffer) -> initializer name
        self.made: dict[tuple[Any, ...], str] = {}  # see `once`
        self.counts: Counter[str] = Counter()
        self.scope = ""  # the layer path of the nodes being made

    def node(self, op_type: str, inputs: list[str], outputs: int = 1, **attrs: Any) -> Any:
        """Add a node named `<layer path>/<op_type>` (numbered when repeated); returns its
        output name (a list of names when `outputs` > 1)."""
        from onnx import helper

        base = f"{self.scope}/{op_type}" if self.scope else op_type
        self.counts[base] += 1
        name = base if self.counts[base] == 1 else f"{base}_{self.counts[base] - 1}"
        names = [f"{name}:{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=name, **attrs))
        return names[0] if outputs == 1 else names

    def input(self, call: Call, i: int) -> str:
        """The name of positional argument i of `call`: a graph value, an initializer for a
        constant, "" for None (an absent optional input)."""
        a = call.args[i]
        if a is None:
            return ""
        key = self.traced.key(a)
        if key is not None:
            return self.values[key]
        return self.const(a, f"{call.op}.arg{i}")

    def const(self, value: Any, hint: str, dtype: Any = None) -> str:
        """An initializer: a parameter or buffer under its state-dict name (once), anything
        else under `<layer path>/<hint>`."""
        from onnx import numpy_helper

        name = self.traced.names.get(id(value))
        if name is not None and id(value) in self.constants:
            return self.constants[id(value)]
        array = np.asarray(trace.value(value), dtype=dtype)
        if name is None:
            base = f"{self.scope}/{hint}" if self.scope else hint
            name, k = base, 1
            while name in self.initializers:
                name, k = f"{base}_{k}", k + 1
        else:
            self.constants[id(value)] = name
        self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def once(self, key: tuple[Any, ...], make: Any, hint: str) -> str:
        """An initializer computed from constants (`make()`: a recurrent layer's weights
        reordered), made once per `key` however many nodes use it (a cell run at each step
        of a loop)."""
        if key not in self.made:
            self.made[key] = self.const(make(), hint)
        return self.made[key]

    def ints(self, values: Any, hint: str) -> str:
        """An int64 initializer (shapes, axes, pads)."""
        return self.const(np.asarray(values, dtype=np.int64), hint)

    @functools.cached_property
    def used(self) -> set[Key]:
        """The values an op takes or the model returns (an output outside it needs no
        node to reshape it)."""
        return {k for c in self.traced.calls for k in map(self.traced.key, c.args)} | set(
            self.traced.outputs)

    def shape(self, key: Key) -> tuple[int | str, ...]:
        return self.traced.input_shape if key == "input" else self.traced.shapes[key]


def build(traced: Traced, opset: int, name: str) -> Any:
    """The ONNX model of a traced graph (checked with onnx.checker, full check)."""
    import onnx
    from onnx import helper

    from nn.onnx.ops import LAYERS, PRIMITIVES, REFUSED_FUNCTIONS

    g = Graph(traced, opset)
    done: set[Any] = set()
    for call in traced.calls:
        if call.node in done:
            continue
        region = next((r for r in traced.regions.get(call.node, []) if _emit_layer(g, r,
                                                                                   LAYERS)),
                      None)
        if region is not None:
            done.update(c.node for c in region.calls)
            continue
        g.scope = call.module
        if call.function in REFUSED_FUNCTIONS:
            raise NotImplementedError(f"nn.onnx.export: {call.where()} by "
                                      f"nn.functional.{call.function}: "
                                      f"{REFUSED_FUNCTIONS[call.function]}")
        builder = PRIMITIVES.get(call.op)
        if builder is None:  # (before the constants: an op without mapping is the reason)
            raise NotImplementedError(f"nn.onnx.export: no ONNX mapping for {call.where()} "
                                      "(see the op table in docs/deploy.md)")
        check_constants(traced, call)
        outs = builder(g, call)
        for i, out in enumerate([outs] if isinstance(outs, str) else outs):
            g.values[(call.node, i)] = out
    outputs = _name_outputs(g)
    graph = helper.make_graph(
        g.nodes, name, [_info("input", traced.input.dtype, traced.input_shape)],
        [_info(o, traced.dtypes[k], traced.shapes[k]) for o, k in zip(outputs, traced.outputs)],
        list(g.initializers.values()))
    opsets = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="autodiff-nn",
                              ir_version=helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(model, full_check=True)
    return model


def _emit_layer(g: Graph, region: Any, layers: dict[type, Any]) -> bool:
    """Export a layer whole when its builder takes it (it may decline: then its ops go one
    by one)."""
    g.scope = region.path
    out = layers[type(region.module)](g, region.module, g.values[region.input], region)
    if out is None:
        return False
    g.values[region.output] = out
    return True


def _name_outputs(g: Graph) -> list[str]:
    """Rename the values the model returns to "output" ("output_1", ... for more); a value
    returned twice, or the input returned as is, goes through an Identity node."""
    from onnx import helper

    names: list[str] = []
    renamed: dict[str, str] = {}
    for i, key in enumerate(g.traced.outputs):
        old, new = g.values[key], "output" if i == 0 else f"output_{i}"
        if old in renamed or old == "input":
            g.nodes.append(helper.make_node("Identity", [renamed.get(old, old)], [new],
                                            name=f"{new}/Identity"))
        else:
            for node in g.nodes:
                node.input[:] = [new if v == old else v for v in node.input]
                node.output[:] = [new if v == old else v for v in node.output]
            renamed[old] = new
        names.append(new)
    return names


def _info(name: str, dtype: Any, shape: tuple[int | str, ...]) -> Any:
    from onnx import helper

    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, [d if d != BATCH else "batch"
                                                      for d in shape])


def save(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write `model` to `path` atomically, as `nn.save` writes a checkpoint: a temporary file
    beside it (mode 0666 through the umask, or the replaced file's), flushed, then renamed
    over it (a failed write leaves any earlier file as it was)."""
    from nn.serialization import _write_atomically

    path = Path(path)
    _write_atomically(os.path.realpath(path), lambda f: f.write(model.SerializeToString()),
                      ".onnx")
    return path
