"""Pooling and resizing against naive references, ties, gradients, PyTorch, bad input."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def naive_pool(x, k, s, p, reduce, pad_value):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=pad_value)
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, ho, wo))
    for b, ch, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        out[b, ch, i, j] = reduce(xp[b, ch, i * s:i * s + k, j * s:j * s + k])
    return out


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), h=st.integers(3, 7),
       w=st.integers(3, 7), seed=st.integers(0, 999))
def test_pools_match_naive(k, s, p, h, w, seed):
    p = min(p, k // 2)
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w))
    np.testing.assert_allclose(F.max_pool2d(ad.tensor(x), k, s, p).data,
                               naive_pool(x, k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(F.avg_pool2d(ad.tensor(x), k, s, p).data,
                               naive_pool(x, k, s, p, np.mean, 0.0), atol=1e-12)


def test_max_pool_ties_route_to_the_first_maximum_and_gradients():
    x = ad.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data.ravel(), [1, 0, 0, 0])
    xs = ad.tensor(np.random.default_rng(0).permutation(36).reshape(1, 1, 6, 6) * 0.5)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), xs)
    assert gradgradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), xs)
    assert gradgradcheck(lambda t: F.avg_pool2d(t, 2, 1, 1, count_include_pad=False), xs)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (4, 3)), xs)


def test_adaptive_and_interpolate_closed_forms():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(ad.tensor(x), 1).data, [[[[7.5]]]])
    np.testing.assert_allclose(F.adaptive_avg_pool2d(ad.tensor(x), 2).data,
                               naive_pool(x, 2, 2, 0, np.mean, 0))
    up = F.interpolate(ad.tensor([[[[0.0, 1.0]]]]), size=(1, 4), mode="bilinear",
                       align_corners=True)
    np.testing.assert_allclose(up.data.ravel(), [0, 1 / 3, 2 / 3, 1])
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=2, mode="bilinear"),
                         ad.tensor(np.random.default_rng(1).standard_normal((1, 1, 2, 3))))


def test_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    T = torch.nn.functional
    x = np.random.default_rng(2).standard_normal((2, 3, 9, 7))
    tx = torch.tensor(x)
    for args in [(3, 2, 1), (2, None, 0), ((3, 2), (2, 1), (1, 0))]:
        np.testing.assert_allclose(F.max_pool2d(ad.tensor(x), *args).data,
                                   T.max_pool2d(tx, *args).numpy())
        np.testing.assert_allclose(F.avg_pool2d(ad.tensor(x), *args).data,
                                   T.avg_pool2d(tx, *args).numpy(), atol=1e-12)
    for size in [(4, 3), (5, 5), 1]:
        np.testing.assert_allclose(F.adaptive_avg_pool2d(ad.tensor(x), size).data,
                                   T.adaptive_avg_pool2d(tx, size).numpy(), atol=1e-12)
    for kw in [dict(size=(13, 4), mode="nearest"), dict(scale_factor=1.5, mode="bilinear"),
               dict(size=(4, 10), mode="bilinear", align_corners=True)]:
        np.testing.assert_allclose(F.interpolate(ad.tensor(x), **kw).data,
                                   T.interpolate(tx, **kw).numpy(), atol=1e-12)


def test_layers_and_bad_input():
    x = ad.ones((1, 2, 6, 6))
    assert nn.MaxPool2d(2)(x).shape == (1, 2, 3, 3) and nn.AvgPool2d(3, 1, 1)(x).shape == x.shape
    assert nn.AdaptiveAvgPool2d((1, 1))(x).shape == (1, 2, 1, 1)
    assert nn.Upsample(scale_factor=2)(x).shape == (1, 2, 12, 12)
    with pytest.raises(ValueError, match="larger than the padded input"):
        F.max_pool2d(x, 7)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="trilinear")  # not implemented
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(x)


def test_batchnorm2d_and_dropout2d():
    bn = nn.BatchNorm2d(2)
    x = np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32)
    y = bn(ad.tensor(x)).data
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)
    with pytest.raises(ValueError, match="4 dimensions"):
        bn(ad.ones((4, 2)))
    ad.manual_seed(0)
    out = nn.Dropout2d(0.5)(ad.ones((8, 16, 2, 2))).data
    per_channel = out.reshape(8, 16, 4)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()


def test_max_pool_nan_propagates_and_takes_the_gradient_as_pytorch():
    """PyTorch's loop keeps a value that is greater, or NaN: the last NaN of a window (in
    row-major order) takes its gradient and its index (the first one did, before)."""
    x = ad.tensor(np.array([[[[1.0, np.nan], [3.0, np.nan]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert np.isnan(y.data).all()
    (gx,) = ad.gradients(y.sum(), [x])
    np.testing.assert_array_equal(gx.data, [[[[0.0, 0.0], [0.0, 1.0]]]])  # the last NaN
    x = np.array([[[[1.0, np.nan, 3.0, np.nan], [np.nan, 5.0, 2.0, 0.0]]]])
    for kw, want in [(dict(kernel_size=2), [4, 3]), (dict(kernel_size=(2, 4)), [4]),
                     (dict(kernel_size=2, dilation=(1, 2), stride=1), [4, 3])]:
        _, idx = F.max_pool2d(ad.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(idx.data.ravel(), want)
    _, idx = F.max_pool1d(ad.tensor(x[:, 0]), 4, return_indices=True)
    np.testing.assert_array_equal(idx.data.ravel(), [3, 0])  # two NaNs in row 0: the second


def test_window_max_matches_a_window_by_window_reference_with_ties_and_nans():
    """The running sweep (and its second, NaN-tracking sweep) against each window's
    maximum and first argmax found one window at a time, the last NaN winning its window."""
    from nn.functional.pooling import _window_max

    rng = np.random.default_rng(7)
    for k, s, p, d in [((2, 2), (2, 2), (0, 0, 0, 0), (1, 1)), ((3, 3), (2, 2), (1, 1, 1, 1),
                       (1, 1)), ((2, 3), (1, 2), (0, 1, 1, 0), (2, 1))]:
        for dtype, with_nan in [(np.float32, False), (np.float32, True), (np.int16, False)]:
            x = rng.integers(0, 3, (2, 3, 9, 8)).astype(dtype)  # many ties
            if with_nan:
                x[0, 1, 4, 4] = x[1, 2, 0, 0] = x[1, 2, 0, 1] = x[1, 2, 1, 0] = np.nan
            best, arg = _window_max(x, k, s, p, d)
            fill = -np.inf if dtype == np.float32 else np.iinfo(dtype).min
            xp = np.pad(x, ((0, 0), (0, 0), p[:2], p[2:]), constant_values=fill)
            for idx in np.ndindex(best.shape):
                i0, j0 = idx[2] * s[0], idx[3] * s[1]
                win = xp[idx[0], idx[1], i0:i0 + d[0] * (k[0] - 1) + 1:d[0],
                         j0:j0 + d[1] * (k[1] - 1) + 1:d[1]].reshape(-1)
                nans = np.flatnonzero(np.isnan(win)) if dtype == np.float32 else []
                want = nans[-1] if len(nans) else int(np.argmax(win))
                assert arg[idx] == want, (k, idx, win)
                assert best[idx] == win[want] or (np.isnan(best[idx]) and len(nans))
