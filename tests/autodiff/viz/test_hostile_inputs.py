"""The drawing under hostile use: names that would break DOT syntax, a differential check
of the drawn graph against what backward runs, failed writes, bad arguments."""

import os
import re
import shutil
import stat
import subprocess
import warnings

import numpy as np
import pytest

import autodiff as ad
import autodiff.backward as engine_backward
import nn
from autodiff import viz
from autodiff.viz.__main__ import main

HOSTILE = 'w"]; pwned [label="x\\'  # ends a quoted string, adds a node, ends in a backslash


def outside_quotes(text):
    """The DOT text with every quoted string taken out (as Graphviz's lexer reads it: a
    backslash takes the next character with it)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text[i] == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            assert i < n, "a quoted string is never closed"
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def assert_safe(text):
    assert "pwned" not in outside_quotes(text)
    if shutil.which("dot"):  # and Graphviz itself reads no extra node
        r = subprocess.run(["dot", "-Tplain"], input=text, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "\nnode pwned " not in r.stdout


def test_hostile_names_stay_inside_their_labels():
    w = ad.tensor([1.0, 2.0], requires_grad=True, name=HOSTILE)
    y = (w * ad.tensor([3.0, 4.0], name=HOSTILE + "{}<b>é")).sum()
    for view in ("forward", "backward"):  # the backward view wrote `name.grad` unescaped
        assert_safe(viz.to_dot(y, view=view, title=HOSTILE))


@pytest.mark.parametrize("title", [HOSTILE, "<a> { pwned } <b>"])
def test_a_hostile_title_stays_inside_the_digraph_name(title):
    """draw() hands the title to the graphviz package, whose quoting broke on a final
    backslash and left <...> unquoted (an HTML-like ID that ends early)."""
    pytest.importorskip("graphviz", reason="draw() needs the graphviz Python package")
    y = ad.tensor([1.0], requires_grad=True) * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # graphviz warns of the syntax error it writes
        assert_safe(viz.draw(y, title=title).source)


def test_hostile_layer_paths_stay_inside_their_labels():
    model = nn.ModuleDict({HOSTILE: nn.Linear(2, 2)})
    with viz.trace(model):
        y = model[HOSTILE](ad.ones((3, 2))).sum()
    text = viz.to_dot(y, model=model)  # a cluster named by the path
    assert_safe(text)
    assert HOSTILE.replace("\\", "\\\\").replace('"', '\\"') in text
    assert_safe(viz.to_dot(y, model=model, depth=1))  # a collapsed layer's box


def test_hostile_onnx_node_names_stay_inside_their_labels(tmp_path):
    onnx = pytest.importorskip("onnx", reason="drawing an ONNX file needs the onnx package")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])
    relu = helper.make_node("Relu", ["input"], ["output"], name=HOSTILE + "/Relu")
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(helper.make_graph([relu], "g", [x], [y])), path)
    assert_safe(viz.onnx_to_dot(path))


# -- the drawn graph is the graph backward walks -------------------------------------------


def shared():
    x = ad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    a = x.exp()
    return [a * a + a.sin()]


def two_outputs_of_one_op():
    x = ad.tensor(np.arange(6.0), requires_grad=True)
    p, q = ad.split(x, 2)
    return [p * 2 + q]


def written_in_place():
    x = ad.tensor(np.arange(6.0), requires_grad=True)
    y = x * 2
    y[1:3] = ad.tensor([5.0, 6.0])  # y's node is re-pointed to the write
    return [y.exp()]


def detached_and_no_grad():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with ad.no_grad():
        z = x * 3
    return [x * z + (x * 2).detach()]


def hooks_and_two_roots():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.tanh()
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    return [y * y, y.exp()]


@pytest.mark.parametrize("make", [shared, two_outputs_of_one_op, written_in_place,
                                  detached_and_no_grad, hooks_and_two_roots])
def test_the_drawing_has_the_nodes_and_edges_backward_walks(make, monkeypatch):
    outs = make()
    backward_text = viz.to_dot(*outs, view="backward")
    forward_text = viz.to_dot(*outs)
    ran = []
    run_node = engine_backward._run_node
    monkeypatch.setattr(engine_backward, "_run_node",
                        lambda w, node, g: (ran.append(node), run_node(w, node, g))[1])
    newest = max(o.grad_fn._seq for o in outs)
    sum(o.sum() for o in outs).backward()  # one root for all outputs: nodes made after them
    ran = [n for n in ran if n._seq <= newest]
    gradient_edges = sum(e is not None for n in ran for e in n._edges)
    assert len(re.findall(r"^  b\d+ \[", backward_text, re.M)) == len(ran)
    assert len(re.findall(r"^  op\d+ \[", forward_text, re.M)) == len(ran)
    assert len(re.findall(r"^  b\d+ -> [bg]\d+;", backward_text, re.M)) == gradient_edges


def test_a_tensor_used_twice_by_one_op_has_two_arrows():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * x  # backward sends x two gradients
    forward = viz.to_dot(y)
    assert len(re.findall(rf"^  t{id(x)} -> op\d+;", forward, re.M)) == 2
    assert len(re.findall(rf"^  b\d+ -> g{id(x)};", viz.to_dot(y, view="backward"),
                          re.M)) == 2


# -- writing --------------------------------------------------------------------------------


def test_a_failed_write_keeps_the_earlier_file(tmp_path, monkeypatch):
    path = tmp_path / "g.dot"
    path.write_text("the earlier drawing")
    y = ad.tensor([1.0], requires_grad=True) * 2

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        viz.render(y, path=str(path))
    assert path.read_text() == "the earlier drawing"
    assert os.listdir(tmp_path) == ["g.dot"]  # no temporary file left behind


needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed here; "
                                      ".ci/run installs it")


@needs_dot
def test_a_path_without_extension_is_svg_and_an_unknown_one_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    y = ad.tensor([1.0], requires_grad=True) * 2
    viz.render(y, path="./graph")  # the '.' of './' is no extension
    assert "<svg" in (tmp_path / "graph").read_text()
    (tmp_path / "g.xyz").write_text("earlier")
    with pytest.raises(ValueError, match=r"'g.xyz': unknown format 'xyz'"):
        viz.render(y, path="g.xyz")
    assert (tmp_path / "g.xyz").read_text() == "earlier"


# -- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("options, message", [
    ({"rankdir": 'LR]; pwned [label="'}, "rankdir must be one of TB, LR, BT, RL"),
    ({"depth": 0}, "depth must be an integer of at least 1"),
    ({"max_nodes": -1}, "max_nodes must be an integer of at least 1"),
])
def test_bad_drawing_options_are_named(options, message):
    y = ad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=re.escape(message)):
        viz.to_dot(y, **options)


def test_onnx_rankdir_is_checked_before_reading_the_file(tmp_path):
    with pytest.raises(ValueError, match="onnx_to_dot: rankdir"):
        viz.onnx_to_dot(tmp_path / "absent.onnx", rankdir="sideways")


SCRIPT = "import autodiff as ad\ny = ad.tensor([1.0], requires_grad=True) * 2\n"


@pytest.mark.parametrize("args, message", [
    (["--depth", "0"], "--depth: must be at least 1, got 0"),
    (["--max-nodes", "x"], "--max-nodes: expected an integer, got 'x'"),
])
def test_cli_bad_numbers_are_named(args, message, tmp_path, capsys):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    with pytest.raises(SystemExit) as e:
        main([str(script), *args])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_cli_missing_script_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "absent.py")])
    assert e.value.code == 2 and "no such file" in capsys.readouterr().err


def test_cli_without_dot_keeps_the_directory_of_the_output(tmp_path, monkeypatch, capsys):
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # Graphviz hidden
    (tmp_path / "out").mkdir()
    assert main([str(script), "--out", "./out/graph"]) == 0  # was written to ./.dot
    assert (tmp_path / "out" / "graph.dot").read_text().startswith("digraph")
    assert not (tmp_path / ".dot").exists()


def test_the_file_mode_follows_the_umask_or_the_replaced_file(tmp_path):
    """A drawing is written as any new file (0666 through the umask), not mkstemp's 0600."""
    y = ad.tensor([1.0], requires_grad=True) * 2
    old = os.umask(0o022)
    try:
        path = viz.render(y, path=str(tmp_path / "g.dot"))
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        os.chmod(path, 0o640)
        viz.render(y, path=path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        os.umask(old)


def test_an_output_path_that_cannot_be_written_is_named(tmp_path):
    y = ad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(FileNotFoundError, match=r"viz.render: the folder '.*absent' of the output "
                                                r"path '.*g.dot' does not exist"):
        viz.render(y, path=str(tmp_path / "absent" / "g.dot"))
    with pytest.raises(IsADirectoryError, match=r"viz.render: the output path .* is a folder"):
        viz.render(y, path=str(tmp_path))
    assert os.listdir(tmp_path) == []


# -- huge graphs: Graphviz's layout time --------------------------------------------------


def fake_dot(tmp_path, monkeypatch, body):
    """A `dot` program on PATH that runs the shell `body` (no Graphviz needed)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "dot"
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


def test_a_layout_past_the_timeout_is_a_clear_error(tmp_path, monkeypatch):
    """A 40-step unrolled RNN kept `dot` busy for minutes with no word; now a TimeoutError
    that says what to do, the earlier file left whole."""
    fake_dot(tmp_path, monkeypatch, "sleep 5")
    path = tmp_path / "g.svg"
    path.write_text("earlier")
    y = ad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(TimeoutError, match=r"did not lay out the \d+ nodes of this drawing in "
                                           r"0.2 s .*max_nodes="):
        viz.render(y, path=str(path), timeout=0.2)
    assert path.read_text() == "earlier"
    with pytest.raises(ValueError, match="timeout must be a number of seconds above 0"):
        viz.render(y, path=str(path), timeout=0)


def test_dot_failing_is_named(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "echo 'Error: syntax error in line 1' >&2; exit 1")
    y = ad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"Graphviz's dot failed on .*syntax error in line 1"):
        viz.render(y, path=str(tmp_path / "g.svg"))


def test_cli_timeout(tmp_path, monkeypatch, capsys):
    fake_dot(tmp_path, monkeypatch, "sleep 5")
    script = tmp_path / "s.py"
    script.write_text(SCRIPT)
    assert main([str(script), "--out", str(tmp_path / "g.svg"), "--timeout", "0.2"]) == 1
    assert "did not lay out" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(script), "--timeout", "-1"])
    assert "--timeout: must be 0 (no limit) or more, got -1" in capsys.readouterr().err


@needs_dot
def test_an_unrolled_rnn_is_laid_out_in_seconds(tmp_path):
    """A weight shared by every step: Graphviz's placement took minutes at 40 steps until its
    passes were limited (nslimit)."""
    x = ad.tensor(np.ones((2, 4)))
    W = ad.tensor(np.eye(4) * 0.5, requires_grad=True, name="W")
    h = ad.tensor(np.zeros((2, 4)))
    for _ in range(40):
        h = ad.tanh(h @ W + x)
    assert "nslimit=5" in viz.to_dot(h)
    viz.render(h, path=str(tmp_path / "rnn.svg"), timeout=30)
    assert "<svg" in (tmp_path / "rnn.svg").read_text()
