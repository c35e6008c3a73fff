"""See the graph: DOT text (`to_dot`, no Graphviz needed), Graphviz drawings (`draw`,
`render`), layers as clusters (`trace`), forward and backward views; an exported ONNX
file's graph in the same style (`onnx_to_dot`, `draw_onnx`, `render_onnx`; they need the
`onnx` package, imported only when a file is drawn).

>>> import autodiff as ad
>>> from autodiff import viz
>>> W = ad.tensor([[0.5, -1.0]], requires_grad=True, name="W")
>>> x = ad.tensor([[1.0], [2.0]], name="x")
>>> text = viz.to_dot(ad.tanh(W @ x), names={"W": W, "x": x})
>>> "matmul" in text and "tanh" in text
True
"""

from autodiff.viz.dot import to_dot
from autodiff.viz.onnx_graph import draw_onnx, onnx_to_dot, render_onnx
from autodiff.viz.render import GraphvizMissing, dot_available, draw, render
from autodiff.viz.trace import trace

__all__ = ["GraphvizMissing", "dot_available", "draw", "draw_onnx", "onnx_to_dot", "render",
           "render_onnx", "to_dot", "trace"]
