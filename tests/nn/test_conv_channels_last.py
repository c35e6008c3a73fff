"""The channels-last path of the convolutions (one product for the whole batch on patches
gathered from the input laid out (N, Hp, Wp, C)) against the per-sample im2col path on the same
inputs, in float64 to 1e-12; the dispatch rule; gradients to second order on the path;
PyTorch on ResNet-8's 7x7 layer when installed."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
import nn.functional.conv as C
from autodiff.testing import gradcheck, gradgradcheck


@pytest.fixture
def last_always(monkeypatch):
    """Every groups-1 convolution with a kernel larger than 1x1 and no cropping pad takes
    the path (unless the shifted path takes it first: that one is switched off)."""
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 1)
    monkeypatch.setattr(C, "CL_MAX_PIXELS", 10**9)
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 10**9)


def both_paths(monkeypatch, fn):
    """fn() on the channels-last path (asserted taken) and on the im2col path."""
    calls = []
    real = C._columns_last
    monkeypatch.setattr(C, "_columns_last", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 10**9)
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 1)
    monkeypatch.setattr(C, "CL_MAX_PIXELS", 10**9)
    new = fn()
    assert calls, "the channels-last path was not taken"
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 10**9)
    old = fn()
    assert len(calls) == 1
    return new, old


def test_dispatch_rule():
    p1 = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    p2 = ((2, 2), (1, 1, 1, 1), (1, 1), 1)
    assert C._channels_last((2, 64, 7, 7), (64, 64, 3, 3), p1)  # ResNet-8's last stage
    assert C._channels_last((2, 32, 14, 14), (64, 32, 3, 3), p2)  # its 7x7 output
    assert C._channels_last((2, 16, 28, 28), (32, 16, 3, 3), p2)  # 14x14 = 196 pixels
    assert not C._channels_last((2, 16, 30, 30), (32, 16, 3, 3), p2)  # 15x15: too many
    assert not C._channels_last((2, 64, 7, 7), (16, 64, 3, 3), p1)  # 16 output channels
    assert not C._channels_last((2, 32, 14, 14), (64, 32, 1, 1), p2)  # 1x1: strided copy
    assert not C._channels_last((2, 64, 7, 7), (64, 32, 3, 3), (*p1[:3], 2))  # groups
    assert not C._channels_last((2, 64, 7, 7), (64, 64, 3, 3), (p1[0], (1, -1, 1, 1),
                                                                 *p1[2:]))  # a crop


@pytest.mark.parametrize("seed", range(6))
def test_arrays_match_im2col(monkeypatch, seed):
    """Forward and weight gradient (with and without the forward's patches), random shapes,
    strides, paddings and dilations; the input gradient through the flipped kernel."""
    rng = np.random.default_rng(seed)
    n, c, o = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    if kh * kw == 1:
        kw = 2
    stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
    dil = tuple(int(v) for v in rng.integers(1, 3, size=2))
    pads = tuple(int(v) for v in rng.integers(0, 3, size=4))
    h, w = (int(v) for v in rng.integers(dil[0] * (kh - 1) + 3, 10, size=2))
    params = (stride, pads, dil, 1)
    x, wt = rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c, kh, kw))
    keep: list = []
    y, y_old = both_paths(monkeypatch, lambda: C._conv(x, wt, params, keep))
    np.testing.assert_allclose(y, y_old, rtol=0, atol=1e-12)
    assert y.flags.c_contiguous
    gy = rng.standard_normal(y.shape)
    gw, gw_old = both_paths(monkeypatch, lambda: C._conv_weight(x, gy, wt.shape, params))
    np.testing.assert_allclose(gw, gw_old, rtol=0, atol=1e-12)
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 1)
    np.testing.assert_allclose(C._conv_weight(x, gy, wt.shape, params, keep[0]), gw_old,
                               rtol=0, atol=1e-12)


def test_float32_stays_float32(last_always):
    x = ad.tensor(np.ones((2, 3, 5, 5), np.float32), requires_grad=True)
    w = ad.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1, stride=2)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_gradients_second_order(last_always):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)

    def f(x, w):
        return F.conv2d(x, w, padding=1, stride=(2, 1), dilation=(1, 2))

    assert gradcheck(f, x, w) and gradgradcheck(f, x, w)


def test_pytorch_on_the_default_dispatch():
    """ResNet-8's last stage, 64 channels at 7x7 (the path by default): values and both
    gradients equal PyTorch's in float64."""
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 64, 7, 7)), rng.standard_normal((64, 64, 3, 3))
    assert C._channels_last(x.shape, w.shape, ((1, 1), (1, 1, 1, 1), (1, 1), 1))
    xt, wt = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
    gy = rng.standard_normal((2, 64, 7, 7))
    F.conv2d(xt, wt, padding=1).backward(ad.tensor(gy))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, padding=1)
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(F.conv2d(ad.tensor(x), ad.tensor(w), padding=1).data,
                               ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(wt.grad.data, tw.grad.numpy(), rtol=1e-12, atol=1e-11)
