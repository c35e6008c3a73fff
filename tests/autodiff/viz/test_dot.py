"""DOT text, parsed: counts, labels, clusters, each tensor once, NaN, collapsing, caps."""

import re
import time

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff import viz

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+);", re.M)


def parse(text):
    nodes = dict(NODE.findall(text))
    edges = EDGE.findall(text)
    return nodes, edges


def test_single_neuron_counts_and_labels():
    w = ad.tensor([[0.5, -0.3]], requires_grad=True, name="w")
    b = ad.tensor([0.1], requires_grad=True, name="b")
    x = ad.tensor([[1.0], [2.0]])
    z = w @ x + b
    a = ad.tanh(z)
    text = viz.to_dot(a, names={"z": z, "a": a})
    nodes, edges = parse(text)
    ops = [label for label in nodes.values() if label.split("\\n")[0] in ("matmul", "add", "tanh")]
    assert sorted(o.split("\\n")[0] for o in ops) == ["add", "matmul", "tanh"]
    labels = "|".join(nodes.values())
    assert "w\\n(1, 2) float32" in labels and "b\\n(1,) float32" in labels
    assert "z\\n(1, 1) float32" in labels and "a\\n(1, 1) float32" in labels
    assert "(2, 1) float32" in labels  # the data input x, drawn by default
    # tensors: x, w, b, matmul output, z, a = 6; ops 3; edges: x->mm, w->mm, mm->t, t->add,
    # b->add, add->z, z->tanh, tanh->a
    assert len(nodes) == 9 and len(edges) == 8
    assert text.startswith("digraph") and text.rstrip().endswith("}")


def test_each_tensor_drawn_once_and_shared_inputs():
    x = ad.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * x + x.exp() * x
    nodes, edges = parse(viz.to_dot(y))
    assert list(nodes.values()).count("x\\n(2,) float32") == 1
    x_id = next(k for k, v in nodes.items() if v.startswith("x\\n"))
    assert sum(1 for a, _ in edges if a == x_id) == 4  # mul (an arrow per side), exp, mul


def test_styles_and_nan_highlight():
    p = nn.Parameter([1.0, -1.0])
    leaf = ad.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        bad = ad.log(leaf)  # -inf at 0
    text = viz.to_dot((bad * p)[1:].sum(), names={"bad": bad}, model=None)
    assert "#fde68a" in text  # a parameter
    assert "#bbf7d0" in text  # the output
    assert "NaN/inf!" in text and "#fca5a5" in text


def test_values_and_grads_statistics():
    w = ad.tensor([1.0, 3.0], requires_grad=True, name="w")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    text = viz.to_dot(loss, show_values=True, show_grads=True)
    assert "min 1  mean 2  max 3" in text and "grad min 2  mean 4  max 6" in text


def test_model_names_and_clusters_without_trace():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    loss = model(ad.ones((2, 3))).sum()
    text = viz.to_dot(loss, model=model)
    assert "0.weight\\n(4, 3) float32" in text and "2.bias\\n(2,) float32" in text
    assert 'subgraph "cluster_0"' in text and 'subgraph "cluster_2"' in text


def test_trace_clusters_and_collapse_by_depth():
    model = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.Tanh()), nn.Linear(4, 2))
    with viz.trace(model):
        out = model(ad.ones((5, 3)))
    assert "forward" not in model[0][0].__dict__  # wrappers removed
    loss = F.mse_loss(out, ad.zeros((5, 2)))
    full = viz.to_dot(loss, model=model)
    assert 'subgraph "cluster_0.1"' in full and 'label="0.1: Tanh"' in full
    collapsed = viz.to_dot(loss, model=model, depth=1)
    nodes, _ = parse(collapsed)
    modules = [v for v in nodes.values() if v.startswith(("0: ", "1: "))]
    assert sorted(modules) == ["0: Sequential\\nin (5, 3)\\nout (5, 4)\\n16 parameters",
                               "1: Linear\\nin (5, 4)\\nout (5, 2)\\n10 parameters"]
    assert "0.0.weight" not in collapsed  # folded into its layer
    assert "tanh" not in "|".join(nodes.values())  # inside the collapsed layer
    assert len(nodes) < len(parse(full)[0])


def test_backward_view_in_walk_order_with_saved():
    x = ad.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x.exp() * 3).sum()
    nodes, _edges = parse(viz.to_dot(loss, view="backward"))
    labels = sorted(nodes.values())
    assert labels[0].startswith("1. sum backward") and labels[1].startswith("2. mul backward")
    assert labels[2].startswith("3. exp backward\\nsaved: output (2,) float32")
    assert "x.grad\\n(2,) float32" in labels
    loss.backward()
    assert "saved: freed" in viz.to_dot(loss, view="backward")


def test_max_nodes_note_and_hide_constants():
    x = ad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.5
    text = viz.to_dot(y, max_nodes=10)
    assert "more op nodes not shown (max_nodes=10)" in text
    assert len(parse(text)[0]) <= 12
    shown = viz.to_dot(x * 2.0, hide_constants=False)
    assert 'label="const"' in shown and 'label="const"' not in viz.to_dot(x * 2.0)


@pytest.mark.slow
def test_hundred_thousand_nodes_in_linear_time():
    """Deeper than any recursion limit, and linear: ten times the nodes cost about ten times
    the CPU time (quadratic would be a hundred). CPU time of this process, so a busy machine
    does not fail it; the ratio, so a slow one does not either."""

    def chain(n: int) -> ad.Tensor:
        y = ad.tensor(1.0, requires_grad=True)
        for _ in range(n):
            y = y * 1.0
        return y

    small, large = chain(10_000), chain(100_000)
    start = time.process_time()
    viz.to_dot(small)
    mid = time.process_time()
    text = viz.to_dot(large)
    end = time.process_time()
    assert text.count("->") == 200_000
    ratio = (end - mid) / max(mid - start, 1e-3)
    assert ratio < 40, f"100k nodes took {ratio:.0f}x the CPU time of 10k"


def test_errors():
    with pytest.raises(ValueError, match="view"):
        viz.to_dot(ad.ones(1, requires_grad=True) * 2, view="sideways")
    with pytest.raises(TypeError, match="Tensors"):
        viz.to_dot(np.ones(2))
    with pytest.raises(TypeError, match="named_modules"):
        viz.trace(object())


def test_max_nodes_counts_exactly_the_op_nodes_left_out():
    x = ad.tensor(1.0, requires_grad=True)
    shared = x.exp()  # reachable through every branch: counted once
    y = shared * 1.0
    for i in range(2, 11):
        y = y + shared * float(i)
    n_ops = 1 + 10 + 9  # exp, 10 mul, 9 add
    for max_nodes in (1, 4, 10, 25, 1000):
        text = viz.to_dot(y, max_nodes=max_nodes)
        drawn = [v for v in parse(text)[0].values() if v.split("\\n")[0] in ("exp", "mul", "add")]
        note = re.search(r"(\d+) more op nodes not shown", text)
        left_out = int(note.group(1)) if note else 0
        assert len(drawn) + left_out == n_ops, max_nodes


def test_backward_view_numbers_the_nodes_in_the_order_backward_runs_them():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    b = x.exp()
    a = x.tanh()  # made after b: backward runs it first
    loss = (a * b).sum()
    ran = []
    a.register_hook(lambda g: ran.append("tanh"))
    b.register_hook(lambda g: ran.append("exp"))
    labels = parse(viz.to_dot(loss, view="backward"))[0].values()
    steps = {label.split("\\n")[0].split(". ")[1]: int(label.split(".")[0])
             for label in labels if label[0].isdigit()}
    loss.backward()
    assert ran == ["tanh", "exp"]
    assert steps == {"sum backward": 1, "mul backward": 2, "tanh backward": 3,
                     "exp backward": 4}
