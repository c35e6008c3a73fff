"""lp_pool1d/lp_pool2d and LPPool1d/LPPool2d: the p-norm of each window, as PyTorch's."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def windows_norm(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: float) -> np.ndarray:
    """The p-norm of each (full) window, by its definition."""
    ho, wo = (x.shape[-2] - k[0]) // s[0] + 1, (x.shape[-1] - k[1]) // s[1] + 1
    out = np.empty((*x.shape[:-2], ho, wo))
    for i in range(ho):
        for j in range(wo):
            win = x[..., i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            out[..., i, j] = (win ** p).sum(axis=(-2, -1)) ** (1 / p)
    return out


@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5])
def test_window_norms(p):
    x = np.abs(np.random.default_rng(0).standard_normal((2, 3, 7, 6))) + 0.1
    np.testing.assert_allclose(F.lp_pool2d(ad.tensor(x), p, (3, 2), (2, 1)).data,
                               windows_norm(x, (3, 2), (2, 1), p), rtol=1e-13)
    np.testing.assert_allclose(F.lp_pool1d(ad.tensor(x[:, :, 0]), p, 3).data,
                               windows_norm(x[:, :, :1], (1, 3), (1, 3), p)[:, :, 0],
                               rtol=1e-13)
    np.testing.assert_allclose(nn.LPPool2d(p, 2)(ad.tensor(x[0])).data,  # unbatched
                               windows_norm(x[0], (2, 2), (2, 2), p), rtol=1e-13)


def test_ceil_mode_scales_a_last_partial_window_as_pytorch():
    """PyTorch's lp_pool is avg_pool times the kernel size: a last window hanging off the end
    is the mean of the cells it covers times k, as if the missing cells held that mean."""
    x = ad.tensor(np.array([[[3.0, 4.0, 12.0]]]))
    np.testing.assert_allclose(F.lp_pool1d(x, 2, 2, ceil_mode=True).data,
                               [[[5.0, np.sqrt(2 * 144.0)]]])


def test_a_zero_window_gets_a_zero_gradient_as_pytorch():
    x = ad.tensor(np.array([[[0.0, 0.0, 3.0, 4.0]]]), requires_grad=True)
    F.lp_pool1d(x, 2, 2).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[[0.0, 0.0, 0.6, 0.8]]])  # not NaN


def test_second_order():
    rng = np.random.default_rng(1)
    x = ad.tensor(np.abs(rng.standard_normal((1, 2, 5, 4))) + 0.1)  # x^p, p-th roots defined
    for p in (1, 2, 3):
        def f(a, p=p):
            return F.lp_pool2d(a, p, 2, 1, ceil_mode=True)

        def g(a, p=p):
            return F.lp_pool1d(a, p, 3, 2)

        assert gradcheck(f, x) and gradgradcheck(f, x)
        assert gradcheck(g, x[0]) and gradgradcheck(g, x[0])


def test_modules_print_as_pytorch():
    assert repr(nn.LPPool2d(2, 3, stride=2)) == (
        "LPPool2d(norm_type=2, kernel_size=3, stride=2, ceil_mode=False)")
    assert repr(nn.LPPool1d(1.5, 2)) == (
        "LPPool1d(norm_type=1.5, kernel_size=2, stride=None, ceil_mode=False)")


@pytest.mark.parametrize("seed", range(10))
def test_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(seed)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s = [None, (int(rng.integers(1, 3)), int(rng.integers(1, 4))), 2][seed % 3]
    x = rng.standard_normal((2, 2, int(rng.integers(k[0], 8)), int(rng.integers(k[1], 8))))
    p = [1, 2, 3, 1.5, 4.0][seed % 5]
    x = np.abs(x) + 0.1 if p == 1.5 else x
    x[..., :k[0], :k[1]] = 0 if seed % 2 else x[..., :k[0], :k[1]]  # a zero window
    cm = bool(seed % 3 == 1)
    a, b = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, expected = F.lp_pool2d(a, p, k, s, cm), torch.nn.functional.lp_pool2d(b, p, k, s, cm)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = rng.standard_normal(got.shape)
    (ga,) = ad.gradients(got, [a], ad.tensor(g))
    (gb,) = torch.autograd.grad(expected, [b], torch.tensor(g))
    np.testing.assert_allclose(ga.data, gb.numpy(), rtol=1e-12, atol=1e-14)
    got = nn.LPPool1d(p, k[1], None if s is None else 2, cm)(ad.tensor(x[:, :, 0]))
    expected = torch.nn.LPPool1d(p, k[1], None if s is None else 2, cm)(torch.tensor(x[:, :, 0]))
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-12, atol=1e-14)
