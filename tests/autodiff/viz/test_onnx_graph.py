"""An exported ONNX file drawn as the engine draws its graphs: the DOT text parsed (op
ellipses, boxes, shapes on the edges, clusters from the node names), rendering, the command
line, and autodiff never importing onnx itself."""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import autodiff as ad
from autodiff import viz
from autodiff.viz.dot import STYLE

onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
pytest.importorskip("onnxruntime", reason="nn.onnx's doctests need the extra 'export'")

ROOT = Path(__file__).resolve().parents[3]
NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$', re.M)
EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[label="([^"]*)"\])?;$', re.M)
CLUSTER = re.compile(r'^\s*subgraph "cluster_([^"]+)" \{\n(.*?)^\s*\}$', re.M | re.S)


def parse(text):
    nodes = {nid: (label.split("\\n"), style) for nid, label, style in NODE.findall(text)}
    clusters = {name: set(re.findall(r"^\s*(\w+) \[", body, re.M))
                for name, body in CLUSTER.findall(text)}
    return nodes, EDGE.findall(text), clusters


@pytest.fixture(scope="module")
def lenet(tmp_path_factory):
    import nn
    from nn.vision.models import LeNet5

    ad.manual_seed(0)
    return nn.onnx.export(LeNet5(), ad.randn(2, 1, 28, 28),
                          tmp_path_factory.mktemp("onnx") / "lenet5.onnx")


def test_lenet5_op_boxes_shapes_and_clusters(lenet):
    nodes, edges, clusters = parse(viz.onnx_to_dot(lenet))
    ops = {nid: label for nid, (label, style) in nodes.items() if style == STYLE["op"]}
    assert Counter(label[0] for label in ops.values()) == {
        "Conv": 2, "Relu": 4, "MaxPool": 2, "Flatten": 1, "Gemm": 3}
    conv = next(label for label in ops.values() if label[0] == "Conv")
    assert "kernel_shape=(5, 5)" in conv and "pads=(2, 2, 2, 2)" in conv
    assert set(clusters) == {"features.0", "features.1", "features.2", "features.3",
                             "features.4", "features.5", "classifier.0", "classifier.1",
                             "classifier.2", "classifier.4", "classifier.5", "classifier.7"}
    assert all(len(members) == 1 and members <= set(ops) for members in clusters.values())
    assert ops[next(iter(clusters["features.2"]))][0] == "MaxPool"
    assert ops[next(iter(clusters["classifier.7"]))][0] == "Gemm"

    boxes = {label[0]: (label[1], style) for label, style in nodes.values()
             if style != STYLE["op"]}
    assert boxes["input"] == ("(batch, 1, 28, 28) float32", STYLE["data"])
    assert boxes["output"] == ("(batch, 10) float32", STYLE["output"])
    assert boxes["features.0.weight"] == ("(6, 1, 5, 5) float32", STYLE["parameter"])
    assert len(boxes) == 12  # input, output, 10 parameters
    # every op's inputs, and the output: 3 + 1 + 1 + 3 + 1 + 1 + 1 + 3 + 1 + 3 + 1 + 3 + 1
    assert len(edges) == 23
    labels = Counter(label for _, _, label in edges)
    assert labels["(batch, 6, 28, 28)"] == 2 and labels["(batch, 16, 5, 5)"] == 1
    assert labels["(batch, 400)"] == 1 and labels[""] == 1  # the output's edge: no label


def test_a_file_without_layer_names_or_shapes(tmp_path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("LeakyRelu", ["x"], ["h"], alpha=0.2),
             helper.make_node("Identity", ["h"], ["y"], name='say "hi"')]
    path = tmp_path / "plain.onnx"
    onnx.save(helper.make_model(helper.make_graph(nodes, "plain", [x], [y])), str(path))
    nodes, edges, clusters = parse(viz.onnx_to_dot(path, title="mine"))
    assert not clusters and ["LeakyRelu", "alpha=0.2"] in [label for label, _ in
                                                           nodes.values()]
    assert [label for _, _, label in edges] == ["", "", ""]  # x, h, y: no shapes known
    assert viz.onnx_to_dot(path, title="mine").startswith('digraph "mine"')


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not "
                                                        "installed here; .ci/run installs it")
def test_render_and_draw(lenet, tmp_path):
    svg = Path(viz.render_onnx(lenet, path=str(tmp_path / "g.svg"))).read_text()
    assert "features.0.weight" in svg and "MaxPool" in svg and "(batch, 400)" in svg
    assert "Gemm" in viz.draw_onnx(lenet)._repr_mimebundle_()["image/svg+xml"]


def run(*args, block_onnx=False):
    code = ("import sys\n" + ("sys.modules['onnx'] = None\n" if block_onnx else "")
            + "sys.argv[1:] = " + repr(list(args)) + "\n"
            + "from autodiff.viz.__main__ import main\nsys.exit(main())\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_command_line(lenet, tmp_path):
    r = run(str(lenet), "--out", str(tmp_path / "g.dot"))
    assert r.returncode == 0, r.stderr
    assert "Conv" in (tmp_path / "g.dot").read_text() and "wrote" in r.stdout


def test_autodiff_never_imports_onnx_and_drawing_names_the_extra(lenet):
    r = subprocess.run([sys.executable, "-c", "import sys, autodiff, autodiff.viz\n"
                        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                        "('onnx', 'onnxruntime', 'nn')))"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
    r = run(str(lenet), "--out", "never.dot", block_onnx=True)
    assert r.returncode != 0 and "pip install 'autodiff-nn[export]'" in r.stderr
