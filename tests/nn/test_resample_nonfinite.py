"""interpolate and the adaptive average pools are products by constant matrices; a NaN or inf
input cell must reach only the outputs that weigh it (as PyTorch's kernels), not every output
of its rows and columns (0 * NaN and 0 * inf are NaN in a matrix product)."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


def bin_means(x: np.ndarray, out: tuple[int, int]) -> np.ndarray:
    """adaptive_avg_pool2d by its definition: the plain mean of each of PyTorch's bins."""
    h, w = x.shape[-2:]
    y = np.empty(x.shape[:-2] + out)
    for i in range(out[0]):
        a, b = i * h // out[0], -(-(i + 1) * h // out[0])
        for j in range(out[1]):
            c, d = j * w // out[1], -(-(j + 1) * w // out[1])
            y[..., i, j] = x[..., a:b, c:d].sum(axis=(-2, -1)) / ((b - a) * (d - c))
    return y


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("out", [(1, 1), (2, 3), (3, 2), (5, 7), (6, 4)])
def test_adaptive_avg_pool2d_keeps_a_nonfinite_cell_in_its_bins(bad, out):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    x[1, 2, 3, 4] = bad
    x[0, 0, 0, 0] = -bad  # inf and -inf in one bin make NaN there, as in a sum
    got = F.adaptive_avg_pool2d(ad.tensor(x), out).data
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(got, bin_means(x, out), rtol=1e-13, atol=1e-15)
    assert np.isfinite(got[0, 1:]).all() and np.isfinite(got[1, :2]).all()


def test_adaptive_avg_pool1d_keeps_a_nan_in_its_bins():
    x = np.arange(10.0).reshape(1, 2, 5)
    x[0, 0, 4] = np.nan
    got = F.adaptive_avg_pool1d(ad.tensor(x), 3).data  # bins [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(got, [[[0.5, 2.0, np.nan], [5.5, 7.0, 8.5]]])
    got = nn.AdaptiveAvgPool1d(3)(ad.tensor(x[0])).data  # unbatched, through the module
    np.testing.assert_allclose(got, [[0.5, 2.0, np.nan], [5.5, 7.0, 8.5]])


def test_interpolate_keeps_a_nonfinite_pixel_local():
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    x[0, 0, 1, 2] = np.inf
    near = F.interpolate(ad.tensor(x), scale_factor=2).data  # a gather: 4 copies of inf
    np.testing.assert_array_equal(near, x.repeat(2, axis=2).repeat(2, axis=3))
    x[0, 0, 1, 2] = np.nan
    up = F.interpolate(ad.tensor(x), size=(5, 7), mode="bilinear", align_corners=True).data
    # align_corners: output (2i, 2j) samples input (i, j); (2i + 1, .) mixes rows i and i + 1
    nan = np.zeros((5, 7), bool)
    nan[1:4, 3:6] = True  # the outputs whose bilinear weights touch input (1, 2)
    np.testing.assert_array_equal(np.isnan(up[0, 0]), nan)
    finite = x[0, 0].copy()
    finite[1, 2] = 0.0
    ref = F.interpolate(ad.tensor(finite[None, None]), size=(5, 7), mode="bilinear",
                        align_corners=True).data
    np.testing.assert_allclose(up[0, 0][~nan], ref[0, 0][~nan], rtol=1e-14)
    np.testing.assert_array_equal(
        nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True)(ad.tensor(x)).data, up)


@pytest.mark.parametrize("f", [lambda t: F.adaptive_avg_pool2d(t, (3, 2)),
                               lambda t: F.interpolate(t, size=(4, 6), mode="bilinear"),
                               lambda t: F.interpolate(t, scale_factor=1.7)])
def test_a_nan_input_stays_local_and_the_gradient_is_the_linear_maps(f):
    """Outputs that do not weigh the NaN stay numbers; the map is linear, so its gradient
    does not depend on the input, NaN or not (the tap-by-tap path gives the matrices')."""
    rng = np.random.default_rng(1)
    finite = rng.standard_normal((2, 2, 4, 5))
    x = finite.copy()
    x[1, 0, 2, 3] = np.nan
    g = rng.standard_normal(f(ad.tensor(finite)).shape)
    a = ad.tensor(finite, requires_grad=True)
    (expected,) = ad.gradients(f(a), [a], ad.tensor(g))
    b = ad.tensor(x, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = f(b)
        (got,) = ad.gradients(y, [b], ad.tensor(g))
    assert np.isnan(y.data[1, 0]).any() and np.isfinite(y.data[1, 0]).any()
    np.testing.assert_allclose(got.data, expected.data, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_nonfinite_inputs_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, int(rng.integers(2, 7)), int(rng.integers(2, 9))))
    x.flat[rng.integers(0, x.size, 2)] = [np.nan, np.inf, -np.inf][seed % 3]
    out = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    t = torch.tensor(x)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(F.adaptive_avg_pool2d(ad.tensor(x), out).data,
                                   torch.nn.functional.adaptive_avg_pool2d(t, out).numpy(),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(F.adaptive_avg_pool1d(ad.tensor(x[0]), out[1]).data,
                                   torch.nn.functional.adaptive_avg_pool1d(t[0], out[1]).numpy(),
                                   rtol=1e-12, atol=1e-14)
        got = F.interpolate(ad.tensor(x), size=out, mode="nearest").data
        np.testing.assert_array_equal(got, torch.nn.functional.interpolate(t, size=out).numpy())
        got = F.interpolate(ad.tensor(x), size=out, mode="bilinear").data
        theirs = torch.nn.functional.interpolate(t, size=out, mode="bilinear").numpy()
    # equal wherever PyTorch's is a number; where it is NaN and ours is not, PyTorch multiplied
    # a NaN or inf pixel by a weight of exactly 0 (0 * inf), a pixel the sample does not use
    number = ~np.isnan(theirs)
    np.testing.assert_allclose(got[number], theirs[number], rtol=1e-12, atol=1e-14)
    assert np.isnan(got).sum() <= np.isnan(theirs).sum()
