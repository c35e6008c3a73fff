"""interpolate and Upsample on (N, C, D, H, W): "trilinear", "nearest", "nearest-exact" and
"area", and 1-d nearest with a scale factor (PyTorch's 1-d and 3-d nearest take
floor(dst / scale) on every axis; the copy of a kept size and dst // 2 for a doubled one are
its 2-d kernel's alone: applying them in 1-d was a silent wrong answer). Against PyTorch over
random configurations (values, gradients, second gradients), and without it: the trilinear
weights as a product of three linear ones, hand cases, gradcheck and gradgradcheck, errors,
ONNX."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

MODES_3D = ["nearest", "nearest-exact", "area", "trilinear"]


def _config(rng, t, nd=3):
    x = rng.standard_normal((2, 2, *(int(v) for v in rng.integers(1, 6, nd))))
    mode = MODES_3D[t % 4] if nd == 3 else "nearest"
    ac = [None, True, False][t % 3] if mode == "trilinear" else None
    if t % 2:
        kw = dict(size=tuple(int(v) for v in rng.integers(1, 9, nd)))
    else:
        kw = dict(scale_factor=tuple(float(v) for v in np.round(rng.uniform(0.6, 3.2, nd), 2)),
                  recompute_scale_factor=(t % 5 == 0) or None)
        if min(int(n * f) for n, f in zip(x.shape[2:], kw["scale_factor"])) <= 0:
            kw["scale_factor"] = tuple(max(f, 1.0) for f in kw["scale_factor"])
    return x, dict(mode=mode, align_corners=ac, **kw)


def _pytorch_backward_takes_the_2d_shortcut(x, y, kw):
    """PyTorch's 1-d and 3-d nearest backward (2.13) takes its 2-d kernel's dst // 2 for a
    doubled axis and the copy of a kept one, which its forward does not: there its gradient
    is not the adjoint of its own forward (checked below against that forward instead)."""
    if kw["mode"] != "nearest" or "scale_factor" not in kw or kw["recompute_scale_factor"]:
        return False
    return any(o in (n, 2 * n) and o != n * f for n, o, f in
               zip(x.shape[2:], y.shape[2:], kw["scale_factor"]))


def test_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    exact = 0
    for t in range(200):
        x, kw = _config(rng, t, nd=3 if t % 5 else 1)
        xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = F.interpolate(xa, **kw), torch.nn.functional.interpolate(xt, **kw)
        np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
        g = rng.standard_normal(y.shape)
        (y * ad.tensor(g)).sum().backward()
        # the adjoint of PyTorch's forward: <grad, v> = <interpolate(v), g> for any v
        v = rng.standard_normal(x.shape)
        moved = torch.nn.functional.interpolate(torch.tensor(v), **kw).numpy()
        np.testing.assert_allclose((xa.grad.data * v).sum(), (moved * g).sum(), rtol=1e-11)
        if not _pytorch_backward_takes_the_2d_shortcut(x, y, kw):
            (yt * torch.tensor(g)).sum().backward()
            np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
            exact += 1
    assert exact > 150


def test_second_gradient_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(1)
    for t in range(8):
        x, kw = _config(rng, t)
        xt = torch.tensor(x, requires_grad=True)
        (gt,) = torch.autograd.grad((torch.nn.functional.interpolate(xt, **kw) ** 3).sum(), xt,
                                    create_graph=True)
        (st,) = torch.autograd.grad((gt ** 2).sum(), xt)

        def energy(v, kw=kw):
            return (F.interpolate(v, **kw) ** 3).sum()

        sa = ad.grad(lambda v: (ad.grad(energy)(v) ** 2).sum())(ad.tensor(x))
        np.testing.assert_allclose(sa.data, st.numpy(), rtol=1e-10, atol=1e-12)


def test_upsample_layer_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(2).standard_normal((2, 3, 2, 3, 4))
    for kw in [dict(scale_factor=2, mode="trilinear"),
               dict(size=(3, 5, 2), mode="trilinear", align_corners=True),
               dict(scale_factor=(1.5, 2.0, 0.5)), dict(size=4, mode="nearest-exact"),
               dict(size=(1, 2, 3), mode="area")]:
        ours, theirs = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(ad.tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-14)


def _linear_1d(x, n_out):
    """PyTorch's linear (align_corners=False) along the last axis, by its formula."""
    n = x.shape[-1]
    src = np.maximum((np.arange(n_out) + 0.5) * n / n_out - 0.5, 0)
    i0 = np.minimum(np.floor(src).astype(int), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    return x[..., i0] * (1 - lam) + x[..., i1] * lam


def test_trilinear_is_linear_along_each_axis():
    x = np.random.default_rng(3).standard_normal((1, 2, 3, 4, 5))
    want = _linear_1d(x, 7)
    want = np.moveaxis(_linear_1d(np.moveaxis(want, 3, -1), 6), -1, 3)
    want = np.moveaxis(_linear_1d(np.moveaxis(want, 2, -1), 4), -1, 2)
    got = F.interpolate(ad.tensor(x), size=(4, 6, 7), mode="trilinear")
    np.testing.assert_allclose(got.data, want, rtol=1e-13, atol=1e-14)


def test_hand_cases():
    x = ad.tensor(np.arange(8.0).reshape(1, 1, 2, 2, 2))
    # align_corners: the corners kept, the center the mean of all eight
    y = F.interpolate(x, size=3, mode="trilinear", align_corners=True)
    assert y.data[0, 0, 1, 1, 1] == 3.5
    np.testing.assert_array_equal(y.data[0, 0, ::2, ::2, ::2], x.data[0, 0])
    # nearest doubling: each cell repeated twice along every axis
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).data[0, 0],
                                  x.data[0, 0].repeat(2, 0).repeat(2, 1).repeat(2, 2))
    # area to one cell: the mean
    assert F.interpolate(x, size=1, mode="area").item() == 3.5
    # 1-d and 3-d nearest with a scale factor: floor(dst / scale), no shortcut
    line = ad.arange(5.0).reshape(1, 1, 5)
    assert F.interpolate(line, scale_factor=2.16).data.ravel().tolist() == [
        0, 0, 0, 1, 1, 2, 2, 3, 3, 4]  # floor(2 / 2.16) = 0, not 2 // 2
    assert F.interpolate(line, scale_factor=1.1).data.ravel().tolist() == [0, 0, 1, 2, 3]
    vol = ad.arange(5.0).reshape(1, 1, 1, 1, 5)
    assert F.interpolate(vol, scale_factor=(1, 1, 1.1)).data.ravel().tolist() == [0, 0, 1, 2, 3]
    # the 2-d kernel keeps its shortcuts
    plane = ad.arange(5.0).reshape(1, 1, 1, 5)
    assert F.interpolate(plane, scale_factor=(1, 1.1)).data.ravel().tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kw", [dict(size=(3, 4, 2), mode="trilinear"),
                                dict(scale_factor=1.7, mode="trilinear", align_corners=True),
                                dict(size=(1, 3, 2), mode="area"),
                                dict(size=(3, 2, 5), mode="nearest-exact")], ids=str)
def test_gradcheck_and_gradgradcheck(kw):
    x = ad.tensor(np.random.default_rng(4).standard_normal((1, 2, 2, 3, 3)), requires_grad=True)

    def resize(v):
        return F.interpolate(v, **kw) ** 2

    assert gradcheck(resize, x, modes=("rev", "fwd"))
    assert gradgradcheck(resize, x, modes=("rev", "fwd"))


def test_errors():
    x5 = ad.ones((1, 1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"interpolate: mode 'trilinear' takes "
                                         r"\(N, C, D, H, W\) input, got \(1, 2, 2, 2\)"):
        F.interpolate(x5[0], size=2, mode="trilinear")
    with pytest.raises(ValueError, match=r"interpolate: mode 'bilinear' takes \(N, C, H, W\) "
                                         r"input, got \(1, 1, 2, 2, 2\)"):
        F.interpolate(x5, size=2, mode="bilinear")
    with pytest.raises(ValueError, match=r"size must be an int or a triple of ints \(D, H, W\), "
                                         r"got \(2, 2\)"):
        F.interpolate(x5, size=(2, 2))
    with pytest.raises(ValueError, match=r"scale_factor must be a number or a triple of "
                                         r"numbers \(D, H, W\)"):
        F.interpolate(x5, scale_factor=(2, 2))
    with pytest.raises(ValueError, match=r"align_corners only applies to modes .*'trilinear', "
                                         r"not 'nearest'"):
        F.interpolate(x5, size=2, align_corners=True)
    with pytest.raises(ValueError, match=r"output size must be positive, got \(0, 2, 2\)"):
        F.interpolate(x5, scale_factor=(0.4, 1, 1))
    with pytest.raises(ValueError, match=r"expected \(N, C, L\), \(N, C, H, W\) or "
                                         r"\(N, C, D, H, W\), got \(1, 1, 1, 2, 2, 2\)"):
        F.interpolate(x5[None], size=2)


@pytest.mark.parametrize("kw", [dict(scale_factor=2, mode="trilinear"),
                                dict(size=(3, 5, 4), mode="nearest")], ids=str)
def test_onnx_export(kw, tmp_path):
    """5-d resizing goes op by op (the engine's products by constant matrices)."""
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    ort = pytest.importorskip("onnxruntime",
                              reason="the optional extra 'export' (onnxruntime) is not installed")
    model = nn.Upsample(**kw)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 2, 3, 4)).astype(np.float32)
    path = nn.onnx.export(model, x, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (2, 3):
        xn = rng.standard_normal((n, 3, 2, 3, 4)).astype(np.float32)
        np.testing.assert_allclose(session.run(None, {"input": xn})[0],
                                   model(ad.tensor(xn)).numpy(), rtol=1e-5, atol=1e-6)
