"""nn.onnx.export's silent wrong answers and misleading errors found by a differential fuzz
(every layer kind, train and eval mode, against ONNX Runtime), each fixed and kept here.

Each file is run by onnx's own reference evaluator (`onnx.reference`, pure NumPy: no ONNX
Runtime needed) and, where it is installed, by ONNX Runtime; both are compared with the
engine's forward in evaluation mode. Tolerance as tests/nn/test_onnx.py: rtol=1e-5,
atol=1e-6 (float32)."""

import os
import stat

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
from onnx.reference import ReferenceEvaluator  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


class Fn(nn.Module):
    """A model whose forward is one function of its input."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return self.f(x)


def runners(path):
    """The reference evaluator, and ONNX Runtime when installed."""
    out = [lambda x: ReferenceEvaluator(str(path)).run(None, {"input": x})]
    try:
        import onnxruntime as ort
    except ImportError:
        return out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [*out, lambda x: session.run(None, {"input": x})]


def check(model, shape, tmp_path, scale=3.0):
    """Export (model left in its mode), run at batch sizes 1 and 3, compare with the engine's
    forward in evaluation mode; returns the model file."""
    rng = np.random.default_rng(0)
    path = nn.onnx.export(model, (rng.standard_normal((2, *shape)) * scale).astype(np.float32),
                          tmp_path / "m.onnx")
    mode = model.training
    for n in (1, 3):
        x = (rng.standard_normal((n, *shape)) * scale).astype(np.float32)
        model.eval()
        with ad.no_grad():
            want = model(ad.tensor(x))
        model.train(mode)
        want = [w.numpy() for w in want] if isinstance(want, tuple) else [want.numpy()]
        for run in runners(path):
            for got, w in zip(run(x), want, strict=True):
                np.testing.assert_allclose(got, w, rtol=RTOL, atol=ATOL)
    return path


def op_types(path):
    return [n.op_type for n in onnx.load(str(path)).graph.node]


@pytest.mark.parametrize("layer", [nn.InstanceNorm1d, nn.InstanceNorm2d])
def test_instance_norm_with_running_statistics_in_a_training_model(layer, tmp_path):
    """The export runs in evaluation mode: the running statistics. A model left in training
    mode was exported with InstanceNormalization (the input's statistics): 1e5 ulps off."""
    m = layer(3, track_running_stats=True, affine=True)
    m.running_mean.data[...] = [0.5, -1.0, 2.0]
    m.running_var.data[...] = [0.25, 4.0, 1.5]
    m.train()
    path = check(m, (3, 5) if layer is nn.InstanceNorm1d else (3, 4, 4), tmp_path)
    assert "InstanceNormalization" not in op_types(path)
    assert m.training  # the mode is restored


def test_instance_norm_without_running_statistics_is_one_node(tmp_path):
    path = check(nn.InstanceNorm2d(3, affine=True).train(), (3, 4, 4), tmp_path)
    assert op_types(path) == ["InstanceNormalization"]


@pytest.mark.parametrize("beta, threshold", [(1.0, 1.0), (2.0, 1.0), (-1.0, 0.5),
                                             (0.5, 20.0)])
def test_softplus_keeps_its_threshold(beta, threshold, tmp_path):
    """x itself where beta x > threshold: ONNX's Softplus has no threshold, and a threshold of
    1 was dropped (softplus(2) = 2.13 exported where the engine gives 2)."""
    path = check(Fn(lambda x: F.softplus(x, beta=beta, threshold=threshold)), (8,), tmp_path)
    assert "Where" in op_types(path)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_over_no_axes_is_the_input(reduce, tmp_path):
    """x.max(axis=()) is x (NumPy); ONNX reduces every axis when given none (opset 18 on),
    and onnx could not even write an empty axes attribute (opset 13 to 17)."""
    path = check(Fn(lambda x: getattr(x, reduce)(axis=()) * 2), (3, 4), tmp_path)
    assert op_types(path) == ["Identity", "Mul"]


@pytest.mark.parametrize("opset", [13, 18])
def test_max_over_no_axes_at_each_opset(opset, tmp_path):
    path = nn.onnx.export(Fn(lambda x: x.max(axis=()) + 1), np.ones((2, 3), np.float32),
                          tmp_path / "m.onnx", opset=opset)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    (got,) = ReferenceEvaluator(str(path)).run(None, {"input": x})
    np.testing.assert_array_equal(got, x + 1)


@pytest.mark.parametrize("model", [nn.Identity(), nn.Sequential(nn.Dropout(0.5)),
                                   Fn(lambda x: (x * 2, x))],
                         ids=["identity", "dropout", "input-as-second-output"])
def test_a_model_that_returns_its_input(model, tmp_path):
    """Was refused as 'not computed from the input': the input itself is returned (Identity)."""
    path = check(model, (3,), tmp_path)
    assert "Identity" in op_types(path)


def test_an_integer_output_is_named_as_such(tmp_path):
    with pytest.raises(ValueError, match=r"output 0 of Fn \(Tensor\) is not computed from the "
                                         r"input by the forward pass: a result of dtype int64"):
        nn.onnx.export(Fn(lambda x: x.astype(np.int64)), np.ones((2, 3), np.float32),
                       tmp_path / "m.onnx")


def test_the_file_mode_follows_the_umask_or_the_replaced_file(tmp_path):
    """Written as any new file (0666 through the umask), not mkstemp's 0600."""
    old = os.umask(0o022)
    try:
        path = nn.onnx.export(nn.Linear(3, 2), np.ones((2, 3), np.float32), tmp_path / "m.onnx")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
        os.chmod(path, 0o640)
        nn.onnx.export(nn.Linear(3, 2), np.ones((2, 3), np.float32), path)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    finally:
        os.umask(old)


@pytest.mark.parametrize("opset", [17.0, "17", True])
def test_an_opset_that_is_no_integer_is_named(opset, tmp_path):
    """17.0 and '17' failed inside onnx with a TypeError that named neither export nor opset."""
    with pytest.raises(ValueError, match=rf"opset must be between 13 and \d+ \(this onnx "
                                         rf"package's newest\), an integer; got {opset!r}"):
        nn.onnx.export(nn.Linear(3, 2), np.ones((2, 3), np.float32), tmp_path / "m.onnx",
                       opset=opset)


def test_an_output_path_that_cannot_be_written_is_named_before_the_trace(tmp_path):
    """The errors named the temporary file (.m.onnx.tmp-....onnx), after the whole export."""
    calls = []
    model = Fn(lambda x: (calls.append(1), x * 2)[1])
    with pytest.raises(FileNotFoundError, match=r"nn.onnx.export: the folder '.*absent' of the "
                                                r"output path '.*m.onnx' does not exist"):
        nn.onnx.export(model, np.ones((2, 3), np.float32), tmp_path / "absent" / "m.onnx")
    with pytest.raises(IsADirectoryError, match=r"nn.onnx.export: the output path .* is a "
                                                "folder"):
        nn.onnx.export(model, np.ones((2, 3), np.float32), tmp_path)
    assert calls == [] and os.listdir(tmp_path) == []


def test_a_broadcast_to_the_batch_size_leaves_no_unused_initializer(tmp_path):
    """A class token broadcast to the batch (a ViT's) left an empty, unused 'shape'
    initializer in the file (ONNX Runtime warned and removed it)."""

    class Token(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Parameter(np.arange(4, dtype=np.float32).reshape(1, 1, 4))

        def forward(self, x):
            t = ad.broadcast_to(self.token, (x.shape[0], 1, 4))
            return ad.concatenate([t, x], axis=1)

    path = check(Token(), (2, 4), tmp_path)
    graph = onnx.load(str(path)).graph
    used = {v for node in graph.node for v in node.input}
    assert [i.name for i in graph.initializer if i.name not in used] == []


@pytest.mark.parametrize("forward", [lambda x: F.pad(x, (-1, 2)),
                                     lambda x: x[:x.shape[0], 1:] * 2,
                                     lambda x: x[0:x.shape[0], ..., ::2]],
                         ids=["negative-pad", "all-examples", "all-examples-ellipsis"])
def test_a_slice_over_every_example_exports(forward, tmp_path):
    """x[:x.shape[0]] (F.pad's negative widths make one) holds the batch size: it was refused
    as 'a value computed from the input outside the graph'. It takes the whole batch axis."""
    path = check(Fn(forward), (3, 5), tmp_path)
    slices = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Slice"]
    assert len(slices) <= 1


def test_a_slice_of_some_examples_is_still_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="getitem"):
        nn.onnx.export(Fn(lambda x: x[:2] * 2), np.ones((2, 3), np.float32),
                       tmp_path / "m.onnx")
