"""The shifted-GEMM path of the convolutions (stride 1, groups 1, no patch matrix) against the
im2col path on the same inputs, in float64 to 1e-12; the dispatch rule; gradients to second
order on the shifted path."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
import nn.functional.conv as C
from autodiff.testing import gradcheck, gradgradcheck


@pytest.fixture
def shifted_always(monkeypatch):
    """Every stride-1, groups-1 convolution with a kernel larger than 1x1 takes the path."""
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 1)
    monkeypatch.setattr(C, "SHIFT_MIN_PIXELS", 1)


def both_paths(monkeypatch, fn, taken=True):
    """fn() on the shifted path (`taken`: asserted to be) and on the im2col path (the floors
    out of reach)."""
    calls = []
    for name in ("_conv_shifted", "_conv_weight_shifted"):
        real = getattr(C, name)
        monkeypatch.setattr(C, name, lambda *a, real=real: calls.append(1) or real(*a))
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 1)
    monkeypatch.setattr(C, "SHIFT_MIN_PIXELS", 1)
    new = fn()
    assert bool(calls) is taken, f"the shifted path taken: {bool(calls)}, expected {taken}"
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 10**9)
    old = fn()
    assert len(calls) == taken
    return new, old


def test_dispatch_rule():
    p = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
    assert C._shifted((2, 16, 14, 14), (16, 16, 3, 3), p)  # padded 16x16 = 256 pixels
    assert not C._shifted((2, 16, 13, 13), (16, 16, 3, 3), p)  # 15x15: too few pixels
    assert not C._shifted((2, 1, 28, 28), (16, 1, 3, 3), p)  # one input channel
    assert not C._shifted((2, 16, 28, 28), (8, 16, 3, 3), p)  # eight output channels
    assert not C._shifted((2, 16, 28, 28), (16, 16, 1, 1), p)  # 1x1: no patch copy anyway
    assert not C._shifted((2, 16, 28, 28), (16, 16, 3, 3), ((2, 2), *p[1:]))  # stride
    assert not C._shifted((2, 16, 28, 28), (16, 8, 3, 3), (*p[:3], 2))  # groups


@pytest.mark.parametrize("seed", range(6))
def test_arrays_match_im2col(monkeypatch, seed):
    """Forward, input gradient (conv_transpose) and weight gradient, random shapes, paddings
    (cropping ones too, as conv_transpose2d's output_padding makes) and dilations."""
    rng = np.random.default_rng(seed)
    n, c, o = rng.integers(1, 4), rng.integers(1, 5), rng.integers(1, 5)
    kh, kw = rng.integers(1, 4, size=2)
    if kh * kw == 1:
        kw = 2
    dil = tuple(int(v) for v in rng.integers(1, 3, size=2))
    pads = tuple(int(v) for v in rng.integers(0, 3, size=4))
    if seed % 2:
        pads = (pads[0], -1, pads[2], 0)  # a cropped bottom row
    h, w = (int(v) for v in rng.integers(dil[0] * (kh - 1) + 3, 10, size=2))
    params = ((1, 1), pads, dil, 1)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c, kh, kw))
    assert C._shifted(x.shape, wt.shape, params) is False
    y, y_old = both_paths(monkeypatch, lambda: C._conv(x, wt, params))
    np.testing.assert_allclose(y, y_old, rtol=0, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    # the input gradient is the convolution of gy with the flipped kernel (the shifted path)
    # when its "full" pads d (k - 1) - p are all >= 0, else col2im
    full = min(dil[0] * (kh - 1) - pads[0], dil[0] * (kh - 1) - pads[1],
               dil[1] * (kw - 1) - pads[2], dil[1] * (kw - 1) - pads[3])
    gx, gx_old = both_paths(monkeypatch, lambda: C._conv_transpose(gy, wt, x.shape, params),
                            taken=bool(full >= 0))
    np.testing.assert_allclose(gx, gx_old, rtol=0, atol=1e-12)
    gw, gw_old = both_paths(monkeypatch, lambda: C._conv_weight(x, gy, wt.shape, params))
    np.testing.assert_allclose(gw, gw_old, rtol=0, atol=1e-12)
    assert y.flags.c_contiguous and gw.shape == wt.shape


def test_default_dispatch_picks_each(monkeypatch):
    """With the shipped floors: 16 channels at 14x14 (padded 16x16) take the shifted path,
    one input channel the im2col path; both equal the im2col result."""
    rng = np.random.default_rng(7)
    for c, taken in ((16, True), (1, False)):
        x = rng.standard_normal((2, c, 14, 14))
        wt = rng.standard_normal((16, c, 3, 3))
        p = ((1, 1), (1, 1, 1, 1), (1, 1), 1)
        assert C._shifted(x.shape, wt.shape, p) is taken
        y = C._conv(x, wt, p)
        monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 10**9)
        np.testing.assert_allclose(y, C._conv(x, wt, p), rtol=0, atol=1e-12)
        monkeypatch.undo()


def test_blocks_of_samples(monkeypatch, shifted_always):
    """Several sample blocks (a block of 2 samples, 5 samples) give the one-block result."""
    rng = np.random.default_rng(3)
    x, wt = rng.standard_normal((5, 3, 6, 7)), rng.standard_normal((4, 3, 3, 2))
    p = ((1, 1), (1, 1, 0, 1), (1, 1), 1)
    whole = C._conv(x, wt, p)
    length = (6 - 1) * 8 + 7  # Ho = 6 rows at the padded width 8, the last one Wo = 7 long
    monkeypatch.setattr(C, "SHIFT_BLOCK_BYTES", 2 * 4 * length * 8)  # two samples a block
    np.testing.assert_allclose(C._conv(x, wt, p), whole, rtol=0, atol=1e-12)


def test_float32_stays_float32(shifted_always):
    x = ad.tensor(np.ones((2, 3, 5, 5), np.float32), requires_grad=True)
    w = ad.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


def test_gradients_second_order(shifted_always):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = ad.tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True)

    def f(x, w):
        return F.conv2d(x, w, padding=1, dilation=(1, 2))

    assert gradcheck(f, x, w) and gradgradcheck(f, x, w)
    y = ad.tensor(rng.standard_normal((2, 3, 4, 3)), requires_grad=True)

    def t(y, w):
        return F.conv_transpose2d(y, w, padding=1)

    assert gradcheck(t, y, w) and gradgradcheck(t, y, w)


def test_pytorch_on_the_default_dispatch():
    """16 channels at 14x14, padding 1 (the shifted path by default): values and both
    gradients equal PyTorch's in float64."""
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 16, 14, 14)), rng.standard_normal((16, 16, 3, 3))
    assert C._shifted(x.shape, w.shape, ((1, 1), (1, 1, 1, 1), (1, 1), 1))
    xt, wt = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
    y = F.conv2d(xt, wt, padding=1)
    g = rng.standard_normal(y.shape)
    y.backward(ad.tensor(g))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, tw, padding=1)
    ty.backward(torch.tensor(g))
    for mine, ref in ((y.data, ty), (xt.grad.data, tx.grad), (wt.grad.data, tw.grad)):
        np.testing.assert_allclose(mine, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
