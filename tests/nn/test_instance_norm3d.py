"""InstanceNorm3d (PyTorch's): against PyTorch (float64 values and gradients to 1e-12, running
statistics over training steps then evaluation, state dicts loaded across, unbatched input,
printed form), and without it: the closed form, hand-computed running statistics,
gradcheck and gradgradcheck, float32 kept, every error, the ONNX export."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck

TOL = dict(rtol=1e-12, atol=1e-12)


def _compare(ours, theirs, x, torch, pairs=()):
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yt = ours(xa), theirs(xt)
    np.testing.assert_allclose(ya.data, yt.detach().numpy(), **TOL)
    g = np.random.default_rng(9).standard_normal(ya.shape)
    (ya * ad.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, t in [(xa, xt), *pairs]:
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **TOL)


@pytest.mark.parametrize("shape", [(3, 4, 2, 3, 5), (4, 3, 2, 4)], ids=str)
@pytest.mark.parametrize("affine,track", [(False, False), (True, False), (False, True),
                                          (True, True)], ids=str)
def test_matches_pytorch_over_steps(shape, affine, track):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    theirs = torch.nn.InstanceNorm3d(4, momentum=0.3, affine=affine,
                                     track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    ours = nn.InstanceNorm3d(4, momentum=0.3, affine=affine, track_running_stats=track)
    ours.double().load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    # and back: PyTorch loads ours (its num_batches_tracked, which it does not use in
    # InstanceNorm, filled in by its loader)
    again = torch.nn.InstanceNorm3d(4, affine=affine, track_running_stats=track).double()
    again.load_state_dict({k: torch.tensor(np.asarray(v.data if hasattr(v, "data") else v))
                           for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(2)
    pairs = [(ours.weight, theirs.weight), (ours.bias, theirs.bias)] if affine else []
    for step in range(3):
        for p, q in pairs:
            p.grad, q.grad = None, None
        _compare(ours, theirs, rng.standard_normal(shape) * (step + 1) + step, torch, pairs)
        if track:
            np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(),
                                       **TOL)
            np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), **TOL)
    ours.eval()
    theirs.eval()
    _compare(ours, theirs, rng.standard_normal(shape), torch, [])


def test_defaults_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    assert repr(nn.InstanceNorm3d(5)) == repr(torch.nn.InstanceNorm3d(5))
    assert repr(nn.InstanceNorm3d(5, 1e-3, None)) == repr(torch.nn.InstanceNorm3d(5, 1e-3, None))


def test_closed_form_and_running_statistics_by_hand():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 2, 3, 4)) * 4 + 2
    y = nn.InstanceNorm3d(3, eps=0.0)(ad.tensor(x)).data.reshape(2, 3, -1)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1, rtol=1e-12)
    # running statistics: the batch mean of the per-example means, and of the unbiased
    # per-example variances (PyTorch's), moved by momentum 0.5 from (0, 1)
    layer = nn.InstanceNorm3d(3, momentum=0.5, track_running_stats=True)
    layer.double()
    layer(ad.tensor(x))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_allclose(layer.running_mean.data, 0.5 * flat.mean(axis=(0, 2)), **TOL)
    np.testing.assert_allclose(layer.running_var.data,
                               0.5 + 0.5 * flat.var(axis=2, ddof=1).mean(axis=0), **TOL)
    # evaluation with the running statistics: (x - mean) / sqrt(var + eps)
    layer.eval()
    out = layer(ad.tensor(x)).data
    want = (x - layer.running_mean.data.reshape(1, 3, 1, 1, 1)) / np.sqrt(
        layer.running_var.data.reshape(1, 3, 1, 1, 1) + 1e-5)
    np.testing.assert_allclose(out, want, **TOL)


@pytest.mark.parametrize("affine", [False, True])
def test_gradcheck_and_gradgradcheck(affine):
    rng = np.random.default_rng(6)
    layer = nn.InstanceNorm3d(2, affine=affine).double()
    if affine:
        layer.weight.data[...] = rng.standard_normal(2)
        layer.bias.data[...] = rng.standard_normal(2)
    x = ad.tensor(rng.standard_normal((2, 2, 2, 2, 3)), requires_grad=True)
    assert gradcheck(layer, x, modes=("rev", "fwd"))
    assert gradgradcheck(layer, x, modes=("rev", "fwd"))
    assert gradcheck(layer, x[0])  # unbatched (C, D, H, W)


def test_float32_stays_float32():
    x = ad.randn(2, 3, 2, 3, 4, requires_grad=True)
    y = nn.InstanceNorm3d(3, affine=True, track_running_stats=True)(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_errors():
    x = ad.ones((2, 4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"InstanceNorm3d\(4\): expected input of 4 or 5 "
                                         r"dimensions, got shape \(3, 3, 3\)"):
        nn.InstanceNorm3d(4)(x[0, 0])
    with pytest.raises(ValueError, match=r"InstanceNorm3d\(3\): expected 3 channels on axis 1"):
        nn.InstanceNorm3d(3, affine=True)(x)
    with pytest.raises(ValueError, match="expected more than 1 spatial element"):
        nn.InstanceNorm3d(4)(ad.ones((2, 4, 1, 1, 1)))
    with pytest.warns(UserWarning, match=r"InstanceNorm3d\(3\): the input's 4 channels do not "
                                         "match num_features"):
        nn.InstanceNorm3d(3)(x)


def test_onnx_export(tmp_path):
    """ONNX's InstanceNormalization with the input's statistics; the running ones op by op."""
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    rng = np.random.default_rng(0)
    tracked = nn.InstanceNorm3d(3, affine=True, track_running_stats=True)
    tracked(ad.tensor(rng.standard_normal((4, 3, 3, 4, 5)).astype(np.float32)))
    for i, layer in enumerate([nn.InstanceNorm3d(3), nn.InstanceNorm3d(3, affine=True),
                               tracked]):
        model = layer.eval()
        path = nn.onnx.export(model, rng.standard_normal((2, 3, 3, 4, 5)).astype(np.float32),
                              tmp_path / f"{i}.onnx")
        types = [n.op_type for n in onnx.load(str(path)).graph.node]
        assert ("InstanceNormalization" in types) == (layer is not tracked), types
        x = rng.standard_normal((3, 3, 3, 4, 5)).astype(np.float32)
        (got,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
            None, {"input": x})
        with ad.no_grad():
            np.testing.assert_allclose(got, model(ad.tensor(x)).data, rtol=1e-4, atol=1e-5)
