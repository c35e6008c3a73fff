"""max_pool3d, avg_pool3d, adaptive_avg_pool3d and their layers: against PyTorch over random
configurations (values, PyTorch's flat indices, gradients; ties, NaN and -inf windows), and
without it: brute-force NumPy loops, hand-computed cases, gradcheck and gradgradcheck in both
modes, float32 kept, unbatched input, every error."""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _config(rng):
    k = tuple(int(v) for v in rng.integers(1, 4, 3))
    s = tuple(int(v) for v in rng.integers(1, 4, 3))
    d = tuple(int(v) for v in rng.integers(1, 3, 3))
    p = tuple(int(rng.integers(0, ki // 2 + 1)) for ki in k)
    return k, s, p, d, bool(rng.integers(2))


def _input(rng, t):
    x = rng.standard_normal((2, 3, *(int(v) for v in rng.integers(4, 8, 3))))
    if t % 3 == 0:
        x = np.round(x)  # ties
    if t % 5 == 0:
        x[rng.random(x.shape) < 0.05] = np.nan
    if t % 7 == 0:
        x[rng.random(x.shape) < 0.5] = -np.inf  # windows of -inf only, padding or not
    return x


def test_max_pool3d_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(0)
    checked = 0
    for t in range(150):
        k, s, p, d, ceil = _config(rng)
        x = _input(rng, t)
        tx = torch.tensor(x, requires_grad=True)
        try:
            ty, ti = torch.nn.functional.max_pool3d(tx, k, s, p, d, ceil, True)
        except RuntimeError:  # PyTorch refuses it: so must we
            with pytest.raises(ValueError):
                F.max_pool3d(ad.tensor(x), k, s, p, d, ceil)
            continue
        xa = ad.tensor(x, requires_grad=True)
        y, i = F.max_pool3d(xa, k, s, p, d, ceil, return_indices=True)
        np.testing.assert_array_equal(y.data, ty.detach().numpy())
        np.testing.assert_array_equal(i.data, ti.numpy())
        assert i.dtype == np.int64
        g = rng.standard_normal(y.shape)
        y.backward(ad.tensor(g))  # (not <y, g>: a -inf window would make it NaN)
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
        checked += 1
    assert checked > 100


def test_avg_pool3d_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(1)
    for t in range(100):
        k, s, p, _, ceil = _config(rng)
        x = rng.standard_normal((2, 3, *(int(v) for v in rng.integers(4, 8, 3))))
        kw = dict(ceil_mode=ceil, count_include_pad=bool(t % 2),
                  divisor_override=None if t % 3 else int(rng.integers(1, 5)))
        tx, xa = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        ty, y = (torch.nn.functional.avg_pool3d(tx, k, s, p, **kw),
                 F.avg_pool3d(xa, k, s, p, **kw))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(y.shape)
        (y * ad.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xa.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_adaptive_avg_pool3d_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(2)
    for _ in range(40):
        x = rng.standard_normal((2, 3, *(int(v) for v in rng.integers(1, 8, 3))))
        size = tuple(None if rng.random() < 0.2 else int(v) for v in rng.integers(1, 9, 3))
        tx, xa = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        ty, y = (torch.nn.functional.adaptive_avg_pool3d(tx, size),
                 F.adaptive_avg_pool3d(xa, size))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(y.shape)
        (y * ad.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xa.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_layers_match_pytorch_unbatched_and_printed():
    torch = _torch()
    x = np.random.default_rng(3).standard_normal((3, 5, 6, 7))  # (C, D, H, W)
    pairs = [(nn.MaxPool3d(2, stride=1, padding=1, ceil_mode=True),
              torch.nn.MaxPool3d(2, stride=1, padding=1, ceil_mode=True)),
             (nn.AvgPool3d((1, 2, 3), count_include_pad=False),
              torch.nn.AvgPool3d((1, 2, 3), count_include_pad=False)),
             (nn.AdaptiveAvgPool3d((2, None, 3)), torch.nn.AdaptiveAvgPool3d((2, None, 3)))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(ad.tensor(x)).data,
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)
    y, i = nn.MaxPool3d(2, return_indices=True)(ad.tensor(x))
    ty, ti = torch.nn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(y.data, ty.numpy())
    np.testing.assert_array_equal(i.data, ti.numpy())


def _max_reference(x, k, s, p, d):
    """max_pool3d by brute force: every window's cells in the input, in (d, h, w) order;
    the first maximum (a NaN, the last one, wins) and its flat index."""
    n, c, *size = x.shape
    out = [(size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in range(3)]
    y, where = np.empty((n, c, *out)), np.empty((n, c, *out), dtype=np.int64)
    for b, ch, *o in itertools.product(range(n), range(c), *map(range, out)):
        best, at = -np.inf, None
        for off in itertools.product(*map(range, k)):
            cell = [o[a] * s[a] - p[a] + off[a] * d[a] for a in range(3)]
            if all(0 <= cell[a] < size[a] for a in range(3)):
                v = x[b, ch, cell[0], cell[1], cell[2]]
                if at is None or v > best or np.isnan(v):
                    best, at = v, (cell[0] * size[1] + cell[1]) * size[2] + cell[2]
        y[(b, ch, *o)], where[(b, ch, *o)] = best, at
    return y, where


def test_max_pool3d_matches_brute_force():
    rng = np.random.default_rng(4)
    checked = 0
    for t in range(40):
        k, s, p, d, _ = _config(rng)
        x = _input(rng, t)[:1, :2, :5, :5, :5]
        try:
            y, i = F.max_pool3d(ad.tensor(x), k, s, p, d, return_indices=True)
        except ValueError:  # a window past the input or covering only padding (test_errors)
            continue
        checked += 1
        want, where = _max_reference(x, k, s, p, d)
        np.testing.assert_array_equal(y.data, want)
        np.testing.assert_array_equal(i.data, where)
    assert checked > 20


def test_hand_computed():
    x = ad.arange(64.0).reshape(1, 1, 4, 4, 4)
    y, i = F.max_pool3d(x, 2, return_indices=True)
    want = np.array([21.0, 23.0, 29.0, 31.0, 53.0, 55.0, 61.0, 63.0]).reshape(2, 2, 2)
    np.testing.assert_array_equal(y.data[0, 0], want)
    np.testing.assert_array_equal(i.data[0, 0], want.astype(np.int64))  # the value is its index
    # a tie: every cell 1, so each window's first cell (d, h, w order) takes the gradient
    xt = ad.ones((1, 1, 2, 2, 2), dtype=np.float64, requires_grad=True)
    F.max_pool3d(xt, 2).sum().backward()
    assert xt.grad.data.ravel().tolist() == [1.0] + [0.0] * 7
    # avg over a (2, 2, 2) window with padding 1: the corner window holds x[0, 0, 0] and
    # seven pad zeros; count_include_pad=False divides by 1 instead of 8
    ones = ad.ones((1, 1, 2, 2, 2), dtype=np.float64)
    assert F.avg_pool3d(ones, 2, 1, 1).data[0, 0, 0, 0, 0] == 1 / 8
    assert F.avg_pool3d(ones, 2, 1, 1, count_include_pad=False).data[0, 0, 0, 0, 0] == 1.0
    assert F.avg_pool3d(ones, 2, divisor_override=2).item() == 4.0
    np.testing.assert_allclose(F.adaptive_avg_pool3d(x, (1, 2, 1)).data.ravel(),
                               [x.data[0, 0, :, :2].mean(), x.data[0, 0, :, 2:].mean()])


@pytest.mark.parametrize("pool", [
    lambda x: F.max_pool3d(x, 2, stride=1, padding=1),
    lambda x: F.max_pool3d(x, (2, 1, 2), stride=(1, 2, 1), dilation=(1, 1, 2), ceil_mode=True),
    lambda x: F.avg_pool3d(x, 2, stride=1, padding=1, ceil_mode=True, count_include_pad=False),
    lambda x: F.adaptive_avg_pool3d(x, (2, None, 3)),
])
def test_gradcheck_and_gradgradcheck(pool):
    rng = np.random.default_rng(5)  # distinct values: no ties to break the max's derivative
    x = ad.tensor(rng.permutation(2 * 3 * 4 * 5).reshape(2, 3, 4, 5) / 7.0, requires_grad=True)
    assert gradcheck(pool, x[None], modes=("rev", "fwd"))
    assert gradgradcheck(pool, x[None], modes=("rev", "fwd"))
    assert gradcheck(pool, x)  # unbatched (C, D, H, W)


def test_float32_stays_float32():
    x = ad.ones((1, 2, 4, 4, 4), dtype=np.float32, requires_grad=True)
    for pool in (nn.MaxPool3d(2), nn.AvgPool3d(3, 1, 1), nn.AdaptiveAvgPool3d((2, 3, None))):
        y = pool(x)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
        x.grad = None


def test_errors():
    x = ad.ones((1, 2, 4, 4, 4))
    for pool in (F.max_pool3d, F.avg_pool3d):
        name = pool.__name__
        with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(N, C, D, H, W\)"):
            pool(ad.ones((2, 4, 4)), 2)
        with pytest.raises(ValueError, match="kernel_size must be an int or a tuple of three"):
            pool(x, (2, 2))
        with pytest.raises(ValueError, match="kernel_size must be positive"):
            pool(x, 0)
        with pytest.raises(ValueError, match="stride must be positive"):
            pool(x, 2, stride=(1, 0, 1))
        with pytest.raises(ValueError, match="at most half the kernel"):
            pool(x, 2, padding=2)
        with pytest.raises(ValueError, match="larger than the padded input"):
            pool(x, 5)
    with pytest.raises(ValueError, match="dilation must be positive"):
        F.max_pool3d(x, 2, dilation=0)
    with pytest.raises(ValueError, match="covers only padding"):
        F.max_pool3d(ad.ones((1, 1, 2, 4, 4)), 2, stride=1, padding=1, dilation=(3, 1, 1))
    with pytest.raises(ValueError, match="divisor_override must be a nonzero integer"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="avg_pool3d: expected a floating input"):
        F.avg_pool3d(ad.tensor(np.ones((1, 1, 2, 2, 2), dtype=np.int64)), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d: expected input of shape"):
        F.adaptive_avg_pool3d(ad.ones((4, 4)), 2)
    with pytest.raises(ValueError, match="output_size must be an int or a tuple of 3"):
        F.adaptive_avg_pool3d(x, (2, 2))
    with pytest.raises(ValueError, match="output size must be positive"):
        F.adaptive_avg_pool3d(x, (2, 0, 2))
