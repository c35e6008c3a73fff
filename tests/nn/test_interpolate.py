"""interpolate (nearest, bilinear) against a per-pixel loop of PyTorch's index formulas,
gradients to second order, PyTorch, the Upsample layer and bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def naive_interpolate(x, ho, wo, scale, mode, align_corners):
    """One output pixel at a time, PyTorch's source-index formulas written out."""
    n, c, h, w = x.shape
    out = np.zeros((n, c, ho, wo))

    def ratio(n_in, n_out, s):
        return 1.0 / s if s is not None else n_in / n_out

    def src(i, n_in, n_out, s):
        if align_corners:
            return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        return max((i + 0.5) * ratio(n_in, n_out, s) - 0.5, 0.0)

    for i in range(ho):
        for j in range(wo):
            if mode == "nearest":
                si = min(math.floor(i * ratio(h, ho, scale)), h - 1)
                sj = min(math.floor(j * ratio(w, wo, scale)), w - 1)
                out[:, :, i, j] = x[:, :, si, sj]
                continue
            y, xx = src(i, h, ho, scale), src(j, w, wo, scale)
            y0, x0 = min(int(y), h - 1), min(int(xx), w - 1)
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            ly, lx = y - y0, xx - x0
            out[:, :, i, j] = ((1 - ly) * ((1 - lx) * x[:, :, y0, x0] + lx * x[:, :, y0, x1])
                               + ly * ((1 - lx) * x[:, :, y1, x0] + lx * x[:, :, y1, x1]))
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), ho=st.integers(1, 9), wo=st.integers(1, 9),
       mode=st.sampled_from(["nearest", "bilinear"]), ac=st.booleans(), seed=st.integers(0, 99))
def test_size_matches_naive_loops(h, w, ho, wo, mode, ac, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    align = ac if mode == "bilinear" else None
    got = F.interpolate(ad.tensor(x), size=(ho, wo), mode=mode, align_corners=align).data
    np.testing.assert_allclose(got, naive_interpolate(x, ho, wo, None, mode, bool(align)),
                               atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 6), w=st.integers(1, 6), s=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
       mode=st.sampled_from(["nearest", "bilinear"]), seed=st.integers(0, 99))
def test_scale_factor_matches_naive_loops(h, w, s, mode, seed):
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    ho, wo = math.floor(h * s), math.floor(w * s)
    if ho == 0 or wo == 0:
        with pytest.raises(ValueError, match="interpolate: output size must be positive"):
            F.interpolate(ad.tensor(x), scale_factor=s, mode=mode)
        return
    got = F.interpolate(ad.tensor(x), scale_factor=s, mode=mode).data
    np.testing.assert_allclose(got, naive_interpolate(x, ho, wo, s, mode, False), atol=1e-12)


def test_float32_stays_float32_and_gradients_to_second_order():
    x32 = ad.tensor(np.ones((1, 1, 3, 3), dtype=np.float32))
    assert F.interpolate(x32, scale_factor=2, mode="bilinear").dtype == np.float32
    assert F.interpolate(x32, size=(5, 2)).dtype == np.float32
    x = ad.tensor(np.random.default_rng(3).standard_normal((1, 2, 3, 2)))
    for kw in [dict(size=(5, 4), mode="nearest"), dict(size=(4, 5), mode="bilinear"),
               dict(scale_factor=2, mode="bilinear", align_corners=True)]:
        assert gradcheck(lambda t, kw=kw: F.interpolate(t, **kw), x)
        assert gradgradcheck(lambda t, kw=kw: F.interpolate(t, **kw) ** 2, x)


def test_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    T = torch.nn.functional
    rng = np.random.default_rng(4)
    for shape, kw in [((2, 3, 5, 7), dict(size=(11, 3), mode="nearest")),
                      ((1, 2, 4, 4), dict(scale_factor=2.5, mode="nearest")),
                      ((2, 1, 6, 5), dict(size=(3, 9), mode="bilinear")),
                      ((1, 3, 3, 8), dict(scale_factor=(2, 0.5), mode="bilinear")),
                      ((1, 1, 5, 5), dict(size=(8, 2), mode="bilinear", align_corners=True))]:
        x = rng.standard_normal(shape)
        tx = torch.tensor(x, requires_grad=True)
        ty = T.interpolate(tx, **kw)
        gy = rng.standard_normal(ty.shape)
        ty.backward(torch.tensor(gy))
        xt = ad.tensor(x, requires_grad=True)
        y = F.interpolate(xt, **kw)
        np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-12)
        (gx,) = ad.gradients(y, [xt], ad.tensor(gy))
        np.testing.assert_allclose(gx.data, tx.grad.numpy(), atol=1e-12)


def test_upsample_layer():
    layer = nn.Upsample(scale_factor=2, mode="bilinear")
    x = ad.tensor(np.random.default_rng(5).standard_normal((1, 2, 3, 4)))
    np.testing.assert_allclose(layer(x).data, F.interpolate(x, scale_factor=2,
                                                            mode="bilinear").data)
    assert "scale_factor=2" in repr(layer) and "bilinear" in repr(layer)
    assert nn.Upsample(size=(5, 6))(x).shape == (1, 2, 5, 6)
    assert list(layer.parameters()) == []


def test_bad_input():
    x = ad.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"interpolate: expected \(N, C, L\), \(N, C, H, W\) or "
                                         r"\(N, C, D, H, W\), got \(4, 4\)"):
        F.interpolate(ad.ones((4, 4)), size=2)
    with pytest.raises(ValueError, match=r"mode must be one of 'nearest', .*, got 'cubic'"):
        F.interpolate(x, size=2, mode="cubic")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners only applies"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(ValueError, match=r"output size must be positive, got \(0, 3\)"):
        F.interpolate(x, size=(0, 3))
