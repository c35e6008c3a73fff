"""F.unfold, F.fold, F.pixel_shuffle and F.pixel_unshuffle against PyTorch on random
configurations (kernel, stride, padding, dilation, non-square, batched or not): values and
gradients in float64, equal to rounding."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

torch = pytest.importorskip("torch", reason="PyTorch is the reference for these comparisons")
TF = torch.nn.functional


def random_configs(count, seed=0):
    """(shape, kernel_size, dilation, padding, stride) with at least one block, pairs or ints."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        # an int (both sides) or a pair, for each of kernel, dilation, padding, stride
        k, d, p, s = (int(rng.integers(lo, hi)) if rng.random() < 0.3
                      else tuple(int(i) for i in rng.integers(lo, hi, 2))
                      for lo, hi in ((1, 4), (1, 3), (0, 3), (1, 4)))
        kk, dd, pp = (np.broadcast_to(v, 2) for v in (k, d, p))
        hw = rng.integers(1, 9, 2)
        if np.any(hw + 2 * pp < dd * (kk - 1) + 1):
            continue
        c, n = int(rng.integers(1, 4)), int(rng.integers(0, 3))  # n = 0: unbatched
        shape = (c, *map(int, hw)) if n == 0 else (n, c, *map(int, hw))
        out.append((shape, k, d, p, s))
    return out


CONFIGS = random_configs(24)


@pytest.mark.parametrize(("shape", "k", "d", "p", "s"), CONFIGS, ids=[str(c) for c in CONFIGS])
def test_unfold_and_fold_match_pytorch(shape, k, d, p, s):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    u, ut = F.unfold(xa, k, d, p, s), TF.unfold(xt, k, d, p, s)
    np.testing.assert_array_equal(u.data, ut.detach().numpy())
    g = rng.standard_normal(u.shape)
    u.backward(ad.tensor(g))
    ut.backward(torch.tensor(g))
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-13, atol=1e-13)

    y = rng.standard_normal(u.shape)
    ya, yt = ad.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    f, ft = F.fold(ya, shape[-2:], k, d, p, s), TF.fold(yt, shape[-2:], k, d, p, s)
    np.testing.assert_allclose(f.data, ft.detach().numpy(), rtol=1e-13, atol=1e-13)
    g = rng.standard_normal(f.shape)
    f.backward(ad.tensor(g))
    ft.backward(torch.tensor(g))
    np.testing.assert_array_equal(ya.grad.data, yt.grad.numpy())


@pytest.mark.parametrize("shape", [(1, 8, 2, 3), (2, 3, 18, 2, 1), (12, 1, 4), (0, 4, 3, 3)])
def test_pixel_shuffle_and_unshuffle_match_pytorch(shape):
    r = 3 if shape[-3] % 9 == 0 else 2
    x = np.random.default_rng(1).standard_normal(shape)
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = F.pixel_shuffle(xa, r), TF.pixel_shuffle(xt, r)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    if not x.size:  # PyTorch 2.13's PixelShuffleBackward fails on an empty batch
        return
    g = np.random.default_rng(2).standard_normal(y.shape)
    y.backward(ad.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xa.grad.data, xt.grad.numpy())
    z = np.random.default_rng(3).standard_normal(yt.shape)
    np.testing.assert_array_equal(F.pixel_unshuffle(ad.tensor(z), r).data,
                                  TF.pixel_unshuffle(torch.tensor(z), r).numpy())
