"""nn.onnx.export of the 3-d layers, checked by ONNX Runtime (float32, rtol=1e-5, atol=1e-6
as tests/nn/test_onnx.py): each layer one node (Conv, ConvTranspose, MaxPool, AveragePool,
BatchNormalization), and each option ONNX cannot express refused by name."""

import numpy as np
import pytest

import autodiff as ad
import nn

onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
ort = pytest.importorskip("onnxruntime",
                          reason="the optional extra 'export' (onnxruntime) is not installed")

SHAPE = (2, 6, 7, 8)  # (C, D, H, W)

LAYERS = [
    (lambda: nn.Conv3d(2, 4, 3, padding=1), "Conv"),
    (lambda: nn.Conv3d(2, 4, (1, 2, 3), stride=(1, 2, 1), padding=(0, 1, 1),
                       dilation=(2, 1, 1), groups=2, bias=False), "Conv"),
    (lambda: nn.Conv3d(2, 4, 2, padding="same"), "Conv"),
    (lambda: nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=1),
     "ConvTranspose"),
    (lambda: nn.MaxPool3d(3, 2, 1, dilation=(1, 2, 1)), "MaxPool"),
    (lambda: nn.AvgPool3d(3, 2, 1), "AveragePool"),
    (lambda: nn.AvgPool3d(2, 1, 1, count_include_pad=False), "AveragePool"),
    (lambda: nn.Sequential(nn.Conv3d(2, 4, 3), nn.BatchNorm3d(4), nn.ReLU(), nn.MaxPool3d(2),
                           nn.AdaptiveAvgPool3d(1)), "BatchNormalization"),
]


@pytest.mark.parametrize(("make", "op"), LAYERS)
def test_3d_layers_run_in_onnx_runtime(make, op, tmp_path):
    model = make().eval()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, *SHAPE)).astype(np.float32)
    # the convolutions fold depth into the batch axis: a fixed batch (the error says so)
    path = nn.onnx.export(model, x, tmp_path / "m.onnx", dynamic_batch=False)
    types = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert op in types and "Reshape" not in types, types  # one node, not the engine's steps
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0]
    with ad.no_grad():
        want = model(ad.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


class _ValuesOnly(nn.Module):
    """A max pool asked for its indices, whose values alone are returned."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool3d(2, return_indices=True)

    def forward(self, x):
        return self.pool(x)[0]


def test_max_pool3d_exports_with_a_dynamic_batch(tmp_path):
    model = nn.MaxPool3d(2)
    rng = np.random.default_rng(1)
    path = nn.onnx.export(model, rng.standard_normal((2, *SHAPE)).astype(np.float32),
                          tmp_path / "m.onnx")
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["MaxPool"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = rng.standard_normal((n, *SHAPE)).astype(np.float32)
        np.testing.assert_array_equal(session.run(None, {"input": x})[0],
                                      model(ad.tensor(x)).numpy())


@pytest.mark.parametrize(("model", "msg"), [
    (nn.MaxPool3d(2, ceil_mode=True), r"\(MaxPool3d\): ceil_mode=True is not exported"),
    (_ValuesOnly(), r"\(MaxPool3d\): return_indices=True is not exported"),
    (nn.AvgPool3d(2, divisor_override=3), r"divisor_override=3 is not exported"),
    (nn.Conv3d(2, 2, 3, padding=1, padding_mode="reflect"), "padding_mode='reflect'"),
    (nn.ConvTranspose3d(2, 2, 3, stride=1, dilation=2, output_padding=1),
     r"output_padding=\(1, 1, 1\) \(not below the stride"),
    (nn.Conv3d(2, 4, 3), "only the batch axis may change"),  # a dynamic batch: refused
])
def test_refusals_name_the_option(model, msg, tmp_path):
    x = np.ones((2, *SHAPE), np.float32)
    dynamic = "batch axis" in msg
    with pytest.raises(NotImplementedError, match=msg):
        nn.onnx.export(model, x, tmp_path / "m.onnx", dynamic_batch=dynamic)
