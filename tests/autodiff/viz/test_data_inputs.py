"""Data inputs (Tensor arguments that need no gradient) are drawn: name, shape, dtype."""

import re

import numpy as np

import autodiff as ad
import nn
from autodiff import viz

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", ([^\]]*)\];', re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+);", re.M)


def parse(text):
    nodes = {k: (label, style) for k, label, style in NODE.findall(text)}
    return nodes, EDGE.findall(text)


def boxes(nodes, label):
    return [k for k, (lab, _) in nodes.items() if lab == label]


def data_boxes(nodes):
    return sorted(lab for lab, style in nodes.values() if "#e0f2f1" in style)


def test_the_course_input_x_is_drawn_like_a0_equals_x():
    W = ad.tensor(np.ones((4, 2), np.float32), requires_grad=True, name="W")
    x = ad.tensor(np.ones((2, 3), np.float32), name="x")
    y = ad.tanh(W @ x)
    nodes, edges = parse(viz.to_dot(y))
    (xid,) = boxes(nodes, "x\\n(2, 3) float32")
    (mm,) = [k for k, (lab, _) in nodes.items() if lab == "matmul"]
    assert (xid, mm) in edges
    assert "#e0f2f1" in nodes[xid][1]  # the data style, not a leaf's
    backward = viz.to_dot(y, view="backward")
    assert "W.grad" in backward and "x.grad" not in backward  # no gradient goes to the data


def test_a_named_input_used_twice_is_one_box_even_when_no_op_saved_it():
    b = ad.tensor([1.0, 2.0], requires_grad=True, name="b")
    x = ad.tensor([3.0, 4.0], name="x")
    y = (x + b) + (b - x)  # add and sub save nothing: only the metadata is left
    del x
    nodes, edges = parse(viz.to_dot(y))
    (xid,) = boxes(nodes, "x\\n(2,) float32")
    assert sum(1 for a, _ in edges if a == xid) == 2


def test_an_unnamed_input_is_drawn_and_names_label_it_when_the_op_saved_it():
    w = ad.tensor([1.0, 2.0], requires_grad=True, name="w")
    batch = ad.tensor([3.0, 4.0])
    y = (w * batch).sum()  # mul saves its inputs: the graph holds `batch`
    assert data_boxes(parse(viz.to_dot(y))[0]) == ["(2,) float32"]
    assert boxes(parse(viz.to_dot(y, names={"batch": batch}))[0], "batch\\n(2,) float32")


def test_zero_d_engine_constants_are_left_out_and_show_data_false_hides_inputs():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * ad.tensor(0.5)).sum() * ad.tensor(2.0, name="scale")
    assert data_boxes(parse(viz.to_dot(y))[0]) == ["scale\\n() float32"]  # not the 0.5
    hidden = [lab for lab, _ in parse(viz.to_dot(y, show_data=False))[0].values()]
    assert not any(lab.startswith("scale") for lab in hidden)
    assert hidden.count("const") == 0
    shown = [lab for lab, _ in parse(viz.to_dot(y, show_data=False, hide_constants=False))[0]
             .values()]
    assert shown.count("const") == 2


def test_a_named_input_enters_its_collapsed_layer_an_unnamed_one_is_folded_in():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    x = ad.tensor(np.ones((5, 3), np.float32), name="x")
    with viz.trace(model):
        loss = model(x).sum()
        unnamed = model(ad.ones((5, 3))).sum()
    nodes, edges = parse(viz.to_dot(loss, model=model, depth=1))
    (xid,) = boxes(nodes, "x\\n(5, 3) float32")
    (layer,) = [k for k, (lab, _) in nodes.items() if lab.startswith("0: Linear")]
    assert (xid, layer) in edges
    assert nodes[layer][0].endswith("\\n16 parameters")  # 4 x 3 + 4: x is not counted
    nodes, _ = parse(viz.to_dot(unnamed, model=model, depth=1))
    assert data_boxes(nodes) == []
    assert any(lab.endswith("\\n16 parameters") for lab, _ in nodes.values())


def test_the_backward_view_calls_a_saved_data_input_data():
    W = ad.tensor(np.ones((4, 2), np.float32), requires_grad=True, name="W")
    x = ad.tensor(np.ones((2, 3), np.float32), name="x")
    text = viz.to_dot((W @ x).sum(), view="backward")
    assert "saved: input (4, 2) float32; data (2, 3) float32" in text
