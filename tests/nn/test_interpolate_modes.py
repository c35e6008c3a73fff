"""interpolate's modes beyond nearest and bilinear: nearest-exact, area, bicubic and linear
(on (N, C, L)), against per-pixel loops of PyTorch's formulas, to second order, and against
PyTorch where it is installed."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights of the taps at floor(src) - 1 .. + 2, t = src - floor."""
    def k(u):
        u = abs(u)
        if u <= 1:
            return (a + 2) * u**3 - (a + 3) * u**2 + 1
        return a * u**3 - 5 * a * u**2 + 8 * a * u - 4 * a if u < 2 else 0.0
    return [k(t + 1), k(t), k(1 - t), k(2 - t)]


def naive_bicubic(x, ho, wo, align_corners, scale=None):
    """One output pixel at a time: 16 taps, each read at its index clamped to the image. A
    size kept is resampled too (by the scale), unlike bilinear's copy."""
    n, c, h, w = x.shape

    def src(i, n_in, n_out):
        if align_corners:
            return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        ratio = n_in / n_out if scale is None else 1 / scale
        return (i + 0.5) * ratio - 0.5  # not clamped at 0, unlike bilinear

    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            y, xx = src(i, h, ho), src(j, w, wo)
            y0, x0 = math.floor(y), math.floor(xx)
            wy, wx = cubic_weights(y - y0), cubic_weights(xx - x0)
            for a in range(4):
                for b in range(4):
                    yy = min(max(y0 - 1 + a, 0), h - 1)
                    xq = min(max(x0 - 1 + b, 0), w - 1)
                    out[:, :, i, j] += wy[a] * wx[b] * x[:, :, yy, xq]
    return out


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(5, 7), (2, 3), (9, 4), (1, 1)])
def test_bicubic_matches_a_per_pixel_loop(size, align_corners):
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 5))
    got = F.interpolate(ad.tensor(x), size=size, mode="bicubic", align_corners=align_corners)
    np.testing.assert_allclose(got.data, naive_bicubic(x, *size, align_corners), atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 2, 4, 4), (1, 1, 6, 4)])
def test_bicubic_resamples_a_kept_size_by_the_scale(shape):
    """4 * 1.19 floors to 4: bilinear copies such an axis, PyTorch's bicubic samples it at
    (i + 0.5) / 1.19 - 0.5, which is not the identity."""
    x = np.random.default_rng(1).standard_normal(shape)
    got = F.interpolate(ad.tensor(x), scale_factor=1.19, mode="bicubic").data
    ho, wo = math.floor(shape[2] * 1.19), math.floor(shape[3] * 1.19)
    np.testing.assert_allclose(got, naive_bicubic(x, ho, wo, False, 1.19), atol=1e-12)
    assert not np.allclose(got[..., :4, :], x[..., :4, :])


def test_nearest_exact_takes_the_nearest_center():
    x = ad.tensor(np.arange(5.0).reshape(1, 1, 5))
    # centers (i + 0.5) * 5 / 3 = 0.83, 2.5, 4.17: floor -> 0, 2, 4 (nearest takes 0, 1, 3)
    assert F.interpolate(x, size=3, mode="nearest-exact").tolist() == [[[0.0, 2.0, 4.0]]]
    assert F.interpolate(x, size=3, mode="nearest").tolist() == [[[0.0, 1.0, 3.0]]]
    y = F.interpolate(ad.tensor(np.arange(4.0).reshape(1, 1, 2, 2)), scale_factor=1.5,
                      mode="nearest-exact")  # 2 -> 3: centers 0.33, 1, 1.67 -> 0, 1, 1
    assert y.tolist() == [[[[0.0, 1.0, 1.0], [2.0, 3.0, 3.0], [2.0, 3.0, 3.0]]]]


def test_area_is_the_adaptive_average():
    x = ad.tensor(np.random.default_rng(1).standard_normal((2, 3, 7, 5)))
    np.testing.assert_array_equal(F.interpolate(x, size=(3, 2), mode="area").data,
                                  F.adaptive_avg_pool2d(x, (3, 2)).data)
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=0.5, mode="area").data,
                                  F.adaptive_avg_pool2d(x, (3, 2)).data)  # floor(7 / 2), ...
    np.testing.assert_array_equal(F.interpolate(x[0], size=4, mode="area").data,
                                  F.adaptive_avg_pool1d(x[0], 4).data)


def test_linear_on_sequences():
    x = ad.tensor(np.array([[[0.0, 2.0, 4.0]]]))
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear", align_corners=True).data,
                               [[[0.0, 1.0, 2.0, 3.0, 4.0]]])
    np.testing.assert_allclose(nn.Upsample(scale_factor=2, mode="linear")(x).data,
                               [[[0.0, 0.5, 1.5, 2.5, 3.5, 4.0]]])  # half-pixel centers


@pytest.mark.parametrize("kw", [dict(size=(5, 3), mode="bicubic"),
                                dict(scale_factor=1.7, mode="bicubic", align_corners=True),
                                dict(size=(3, 7), mode="nearest-exact"),
                                dict(size=(2, 3), mode="area")])
def test_second_order(kw):
    x = ad.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 5)))
    assert gradcheck(lambda t: F.interpolate(t, **kw), x)
    assert gradgradcheck(lambda t: F.interpolate(t, **kw) ** 2, x)
    y = ad.tensor(np.random.default_rng(3).standard_normal((2, 2, 5)))
    assert gradgradcheck(lambda t: F.interpolate(t, size=8, mode="linear") ** 2, y)


def test_bad_modes_and_ranks():
    x4, x3 = ad.ones((1, 1, 4, 4)), ad.ones((1, 1, 4))
    with pytest.raises(ValueError, match=r"interpolate: mode 'linear' takes \(N, C, L\) input, "
                                         r"got \(1, 1, 4, 4\)"):
        F.interpolate(x4, size=2, mode="linear")
    with pytest.raises(ValueError, match=r"interpolate: mode 'bicubic' takes \(N, C, H, W\)"):
        F.interpolate(x3, size=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners only applies to modes 'linear', "
                                         "'bilinear', 'bicubic' and 'trilinear', not 'area'"):
        F.interpolate(x4, size=2, mode="area", align_corners=False)
    with pytest.raises(ValueError, match=r"size must be an int or one int \(L,\), got \(2, 2\)"):
        F.interpolate(x3, size=(2, 2))
    with pytest.raises(ValueError, match=r"mode must be one of 'nearest', 'nearest-exact', "
                                         r"'area', 'linear', 'bilinear', 'bicubic', 'trilinear', "
                                         r"got 'cubic'"):
        F.interpolate(x4, size=2, mode="cubic")
    with pytest.raises(ValueError, match=r"expected \(N, C, L\), \(N, C, H, W\) or "
                                         r"\(N, C, D, H, W\), got \(4,\)"):
        F.interpolate(ad.ones(4), size=2)


@pytest.mark.parametrize("seed", range(24))
def test_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(seed)
    mode = ["nearest-exact", "area", "bicubic", "linear"][seed % 4]
    one = mode == "linear" or (mode != "bicubic" and seed % 8 < 4)
    shape = (2, 2, int(rng.integers(3, 7))) + (() if one else (int(rng.integers(3, 9)),))
    x = rng.standard_normal(shape)
    ac = [False, True][seed // 4 % 2] if mode in ("bicubic", "linear") else None
    axes = len(shape) - 2
    if seed % 3:
        kw = dict(scale_factor=tuple(float(rng.choice([0.5, 1.19, 1.7, 2.0, 3.0, 1 / 3]))
                                     for _ in range(axes)),
                  recompute_scale_factor=[None, True][seed % 2])
    else:
        kw = dict(size=tuple(int(rng.integers(1, 12)) for _ in range(axes)))
    a, b = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = F.interpolate(a, mode=mode, align_corners=ac, **kw)
    expected = torch.nn.functional.interpolate(b, mode=mode, align_corners=ac, **kw)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12, atol=1e-13)
    g = rng.standard_normal(got.shape)
    (ga,) = ad.gradients(got, [a], ad.tensor(g))
    (gb,) = torch.autograd.grad(expected, [b], torch.tensor(g))
    np.testing.assert_allclose(ga.data, gb.numpy(), rtol=1e-12, atol=1e-13)
