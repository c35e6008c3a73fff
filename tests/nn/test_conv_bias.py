"""The bias inside the convolution primitives (Conv2d, ConvTranspose2d): one node, added in
place into the fresh output on every path (per-sample im2col, shifted, channels-last, and the
transposed convolution), its gradient the output gradient summed over (N, H, W); to second
order; PyTorch in float64 when installed."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
import nn.functional.conv as C
from autodiff.testing import gradcheck, gradgradcheck

STRIDE1 = ((1, 1), (1, 1, 1, 1), (1, 1), 1)


def force(monkeypatch, path):
    """Make every eligible convolution take `path` ("im2col", "shifted" or "last")."""
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 1 if path == "shifted" else 10**9)
    monkeypatch.setattr(C, "SHIFT_MIN_PIXELS", 1)
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 1 if path == "last" else 10**9)
    monkeypatch.setattr(C, "CL_MAX_PIXELS", 10**9)


def taken(x_shape, w_shape, params):
    if C._shifted(x_shape, w_shape, params):
        return "shifted"
    return "last" if C._channels_last(x_shape, w_shape, params) else "im2col"


PATHS = ["im2col", "shifted", "last"]


@pytest.mark.parametrize("path", PATHS)
def test_value_and_bias_gradient_closed_form(monkeypatch, path):
    """conv2d(x, w, b) = conv2d(x, w) + b per channel, bitwise; db = sum of the output
    gradient over (N, H, W); dx and dw as without the bias."""
    force(monkeypatch, path)
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((2, 3, 5, 6)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    b = ad.tensor(rng.standard_normal(4), requires_grad=True)
    assert taken(x.shape, w.shape, STRIDE1) == path
    y = F.conv2d(x, w, b, padding=1)
    plain = F.conv2d(x, w, padding=1)
    np.testing.assert_array_equal(y.data, plain.data + b.data[:, None, None])
    gy = rng.standard_normal(y.shape)
    gx, gw, gb = ad.gradients(y, [x, w, b], ad.tensor(gy))
    gx0, gw0 = ad.gradients(plain, [x, w], ad.tensor(gy))
    np.testing.assert_allclose(gb.data, gy.sum(axis=(0, 2, 3)), rtol=1e-13)
    np.testing.assert_array_equal(gx.data, gx0.data)
    np.testing.assert_array_equal(gw.data, gw0.data)


@pytest.mark.parametrize("path", PATHS)
def test_second_order(monkeypatch, path):
    force(monkeypatch, path)
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((2, 2, 4, 4)))
    w = ad.tensor(rng.standard_normal((3, 2, 3, 2)))
    b = ad.tensor(rng.standard_normal(3))

    def f(x, w, b):
        return F.conv2d(x, w, b, padding=1)

    assert taken(x.shape, w.shape, STRIDE1) == path
    assert gradcheck(f, x, w, b) and gradgradcheck(f, x, w, b)


def test_conv_transpose2d_bias_second_order():
    rng = np.random.default_rng(2)
    y = ad.tensor(rng.standard_normal((2, 2, 3, 3)))
    w = ad.tensor(rng.standard_normal((2, 3, 2, 3)))
    b = ad.tensor(rng.standard_normal(3))

    def t(y, w, b):
        return F.conv_transpose2d(y, w, b, stride=2, padding=1, output_padding=1)

    out = t(y, w, b)
    np.testing.assert_array_equal(
        out.data, t(y, w, None).data + b.data[:, None, None])
    assert gradcheck(t, y, w, b) and gradgradcheck(t, y, w, b)


def test_one_node_and_a_fresh_output():
    """The layer records one conv2d node (no add after it), whose output shares memory with
    none of its inputs: here a 1x1 kernel at stride 1, whose patch matrix is x itself."""
    x = ad.tensor(np.random.default_rng(3).standard_normal((2, 3, 4, 4)))
    conv = nn.Conv2d(3, 5, 1)
    y = conv(x)
    assert y.grad_fn.op_name() == "conv2d"
    for a in (x, conv.weight, conv.bias):
        assert not np.shares_memory(y.data, a.data)


@pytest.mark.parametrize("stride, size", [(1, 3), (2, 2)])
def test_empty_batch(stride, size):
    """A batch of no samples: an empty output, zero bias and weight gradients."""
    x = ad.ones((0, 2, 5, 5), requires_grad=True)
    w, b = ad.ones((3, 2, 3, 3), requires_grad=True), ad.ones(3, requires_grad=True)
    y = F.conv2d(x, w, b, stride=stride)
    assert y.shape == (0, 3, size, size)
    y.sum().backward()
    assert x.grad.shape == x.shape and not w.grad.data.any() and not b.grad.data.any()
    t = F.conv_transpose2d(ad.ones((0, 3, 2, 2)), w, ad.ones(2), stride=stride)
    assert t.shape[:2] == (0, 2)


def test_float32_stays_float32():
    y = F.conv2d(ad.ones((1, 2, 4, 4), dtype=np.float32), ad.ones((3, 2, 3, 3), dtype=np.float32),
                 ad.ones(3, dtype=np.float32))
    assert y.dtype == np.float32 and float(y.data[0, 0, 0, 0]) == 19.0


def test_bad_bias():
    x, w = ad.ones((1, 2, 4, 4), dtype=np.float32), ad.ones((3, 2, 3, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(3,\).*got \(2,\)"):
        F.conv2d(x, w, ad.ones(2, dtype=np.float32))
    with pytest.raises(ValueError, match=r"conv2d: bias of dtype float64 would widen the "
                                         r"output's float32"):
        F.conv2d(x, w, ad.ones(3, dtype=np.float64))
    wt = ad.ones((2, 3, 3, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias must have shape \(3,\)"):
        F.conv_transpose2d(x, wt, ad.ones((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias of dtype float64"):
        F.conv_transpose2d(x, wt, ad.ones(3, dtype=np.float64))


@pytest.mark.parametrize("path", PATHS)
def test_against_pytorch(monkeypatch, path):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    force(monkeypatch, path)
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s) for s in ((3, 4, 6, 5), (6, 4, 3, 3), (6,)))
    xt, wt, bt = (ad.tensor(v, requires_grad=True) for v in (x, w, b))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    assert taken(x.shape, w.shape, STRIDE1) == path
    y = F.conv2d(xt, wt, bt, padding=1)
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=1)
    gy = rng.standard_normal(y.shape)
    grads = ad.gradients(y, [xt, wt, bt], ad.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=0, atol=1e-12)
    for g, t in zip(grads, (tx, tw, tb)):
        np.testing.assert_allclose(g.data, t.grad.numpy(), rtol=0, atol=1e-11)


def test_conv_transpose2d_bias_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    rng = np.random.default_rng(5)
    y, w, b = (rng.standard_normal(s) for s in ((2, 4, 4, 4), (4, 3, 3, 3), (6,)))
    yt, wt, bt = (ad.tensor(v, requires_grad=True) for v in (y, w, b))
    ty, tw, tb = (torch.tensor(v, requires_grad=True) for v in (y, w, b))
    kw = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}
    out = F.conv_transpose2d(yt, wt, bt, **kw)
    tout = torch.nn.functional.conv_transpose2d(ty, tw, tb, **kw)
    g = rng.standard_normal(out.shape)
    grads = ad.gradients(out, [yt, wt, bt], ad.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=0, atol=1e-12)
    for got, t in zip(grads, (ty, tw, tb)):
        np.testing.assert_allclose(got.data, t.grad.numpy(), rtol=0, atol=1e-11)


def test_mixed_dtypes_promote_as_numpy_and_each_gradient_keeps_its_dtype():
    """A float32 input with a float64 weight (or the reverse, or uint8 images) computes in
    the promoted dtype, as NumPy; each gradient comes back in its own tensor's dtype (the
    backward raised a gradient-dtype error before)."""
    rng = np.random.default_rng(9)
    for xd, wd in [(np.float32, np.float64), (np.float64, np.float32), (np.uint8, np.float32)]:
        x = ad.tensor((rng.random((1, 2, 5, 5)) * 5).astype(xd),
                      requires_grad=np.dtype(xd).kind == "f")
        w = ad.tensor(rng.standard_normal((3, 2, 3, 3)).astype(wd), requires_grad=True)
        common = np.result_type(xd, wd)
        want = F.conv2d(ad.tensor(x.data.astype(common)), ad.tensor(w.data.astype(common)))
        for y in (F.conv2d(x, w), F.conv_transpose2d(x, w.swapaxes(0, 1))):
            assert y.dtype == common
            y.sum().backward()
        np.testing.assert_allclose(F.conv2d(x, w).data, want.data, rtol=1e-6)
        assert w.grad.dtype == wd and (x.grad is None or x.grad.dtype == xd)
        x1 = ad.tensor(x.data[:, :, 0], requires_grad=x.requires_grad)
        assert F.conv1d(x1, w[:, :, 0]).dtype == common


def test_a_narrower_bias_is_cast_up_and_its_gradient_keeps_its_dtype():
    rng = np.random.default_rng(10)
    x = ad.tensor(rng.random((1, 2, 5, 5)), requires_grad=True)
    w = ad.tensor(rng.random((3, 2, 3, 3)), requires_grad=True)
    b = ad.tensor(rng.random(3).astype(np.float32), requires_grad=True)
    for y in (F.conv2d(x, w, b), F.conv_transpose2d(x, w.swapaxes(0, 1), b)):
        assert y.dtype == np.float64
        y.sum().backward()
        assert b.grad.dtype == np.float32
    np.testing.assert_allclose(b.grad.data, [9 + 49] * 3, rtol=1e-6)  # 3x3 and 7x7 outputs
