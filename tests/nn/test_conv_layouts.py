"""The matrix-product layouts the convolutions choose by shape: the per-sample weight
gradient as (K, Ho Wo) @ (Ho Wo, O/g) for a wide K (DW_TALL_MIN_K), against the (O/g, Ho Wo)
@ (Ho Wo, K) form on the same inputs, in float64; to second order on the tall form; PyTorch on
LeNet-5's second convolution (K = 150, the tall form by default) when installed; col2im by
phases of the stride against one strided add per kernel offset."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
import nn.functional.conv as C
from autodiff.testing import gradcheck, gradgradcheck


@pytest.fixture
def im2col_only(monkeypatch):
    monkeypatch.setattr(C, "SHIFT_MIN_CHANNELS", 10**9)
    monkeypatch.setattr(C, "CL_MIN_OUT_CHANNELS", 10**9)


@pytest.mark.parametrize("params, c, o, kernel", [
    (((1, 1), (0, 0, 0, 0), (1, 1), 1), 6, 16, (5, 5)),  # LeNet-5's conv2, K = 150
    (((2, 1), (1, 0, 2, 1), (1, 2), 2), 4, 6, (3, 2)),  # strided, dilated, grouped
    (((1, 1), (0, 0, 0, 0), (1, 1), 1), 3, 2, (1, 1)),  # 1x1: the patches are x itself
])
def test_tall_weight_gradient_matches(monkeypatch, im2col_only, params, c, o, kernel):
    rng = np.random.default_rng(0)
    g = params[3]
    x = rng.standard_normal((3, c, 9, 8))
    w_shape = (o, c // g, *kernel)
    y = C._conv(x, rng.standard_normal(w_shape), params)
    gy = rng.standard_normal(y.shape)
    monkeypatch.setattr(C, "DW_TALL_MIN_K", 1)
    tall = C._conv_weight(x, gy, w_shape, params)
    monkeypatch.setattr(C, "DW_TALL_MIN_K", 10**9)
    wide = C._conv_weight(x, gy, w_shape, params)
    assert tall.shape == w_shape and tall.flags.c_contiguous
    np.testing.assert_allclose(tall, wide, rtol=0, atol=1e-12)


def test_tall_form_second_order(monkeypatch, im2col_only):
    monkeypatch.setattr(C, "DW_TALL_MIN_K", 1)
    rng = np.random.default_rng(1)
    x = ad.tensor(rng.standard_normal((2, 4, 5, 5)))
    w = ad.tensor(rng.standard_normal((2, 2, 3, 2)))
    b = ad.tensor(rng.standard_normal(2))

    def f(x, w, b):
        return F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2)

    assert gradcheck(f, x, w, b) and gradgradcheck(f, x, w, b)


def test_lenet_conv2_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 6, 14, 14)), rng.standard_normal((16, 6, 5, 5)), \
        rng.standard_normal(16)
    assert C.DW_TALL_MIN_K <= 6 * 5 * 5  # the tall form
    assert not C._shifted(x.shape, w.shape, ((1, 1), (0,) * 4, (1, 1), 1))
    wt, bt = ad.tensor(w, requires_grad=True), ad.tensor(b, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    y = F.conv2d(ad.tensor(x), wt, bt)
    ty = torch.nn.functional.conv2d(torch.tensor(x), tw, tb)
    gy = rng.standard_normal(y.shape)
    gw, gb = ad.gradients(y, [wt, bt], ad.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(gw.data, tw.grad.numpy(), rtol=0, atol=1e-11)
    np.testing.assert_allclose(gb.data, tb.grad.numpy(), rtol=0, atol=1e-11)


def strided_col2im(y, w, x_shape, params):
    """The reference: one strided add per kernel offset into the padded (N, C, Hp, Wp)."""
    (sh, sw), pads, (dh, dw), g = params
    n, o, ho, wo = y.shape
    c = x_shape[1]
    kh, kw = w.shape[2:]
    hp, wp = C._padded_size(x_shape, pads)
    out = np.zeros((n, c, hp, wp))
    for gi in range(g):
        yg = y[:, gi * (o // g):(gi + 1) * (o // g)]
        wg = w[gi * (o // g):(gi + 1) * (o // g)]  # (O/g, C/g, kh, kw)
        for i in range(kh):
            for j in range(kw):
                part = np.einsum("nohw,oc->nchw", yg, wg[:, :, i, j])
                out[:, gi * (c // g):(gi + 1) * (c // g), i * dh:i * dh + sh * (ho - 1) + 1:sh,
                    j * dw:j * dw + sw * (wo - 1) + 1:sw] += part
    return out


@pytest.mark.parametrize("seed", range(12))
def test_col2im_by_phases_matches_strided_adds(seed):
    """col2im by phases of the stride, each offset one contiguous add, against one strided
    add per offset: random strides (1 to 3), groups, dilations and pads, a negative bottom or
    right pad (conv_transpose2d's output_padding) included, in float64."""
    rng = np.random.default_rng(seed)
    g = int(rng.integers(1, 3))
    c, o = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    stride = tuple(int(v) for v in rng.integers(1, 4, size=2))
    dil = tuple(int(v) for v in rng.integers(1, 3, size=2))
    pads = (int(rng.integers(0, 3)), int(rng.integers(-1, 3)), int(rng.integers(0, 3)),
            int(rng.integers(-1, 3)))
    h, wd = (int(v) for v in rng.integers(7, 10, size=2))
    params = (stride, pads, dil, g)
    ho = C._out_size(h, kh, stride[0], dil[0], pads[0], pads[1])
    wo = C._out_size(wd, kw, stride[1], dil[1], pads[2], pads[3])
    y, w = rng.standard_normal((2, o, ho, wo)), rng.standard_normal((o, c // g, kh, kw))
    x_shape = (2, c, h, wd)
    np.testing.assert_allclose(C._col2im(y, w, x_shape, params),
                               strided_col2im(y, w, x_shape, params), rtol=0, atol=1e-12)
