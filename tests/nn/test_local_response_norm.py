"""local_response_norm and LocalResponseNorm: values, gradients and second gradients equal to
PyTorch's (float64; 3-D, 4-D and 5-D inputs, windows wider than the channels), a hand-computed
case, finite differences, dtype, empty batch, errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 6, 3, 3), (1, 4, 2, 2, 3), (2, 1, 3)])
@pytest.mark.parametrize("size", [1, 2, 5, 8])
def test_matches_pytorch_to_second_order(shape, size):
    torch = _torch()
    alpha, beta, k = [(1e-4, 0.75, 1.0), (0.5, 1.3, 2.0), (2.0, 0.5, 0.3)][(size + len(shape)) % 3]
    rng = np.random.default_rng(size)
    x, v = rng.standard_normal(shape), rng.standard_normal(shape)
    t, a = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
    ty = torch.nn.functional.local_response_norm(t, size, alpha, beta, k)
    y = F.local_response_norm(a, size, alpha, beta, k)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, atol=1e-15)
    (tg,) = torch.autograd.grad((ty * torch.tensor(v)).sum(), [t], create_graph=True)
    (g,) = ad.gradients((y * v).sum(), [a], create_graph=True)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-13, atol=1e-14)
    (t2,) = torch.autograd.grad((tg * tg).sum(), [t])
    (g2,) = ad.gradients((g * g).sum(), [a])
    np.testing.assert_allclose(g2.data, t2.numpy(), rtol=1e-12, atol=1e-12)


def test_layer_matches_pytorch():
    torch = _torch()
    x = np.random.default_rng(1).standard_normal((2, 7, 3, 2)) * 3
    ours = nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=1.5)(ad.tensor(x))
    theirs = torch.nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=1.5)(torch.tensor(x))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-14)
    assert repr(nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))


def test_hand_computed_window_and_zero_padding():
    # channels 1, 2, 3; size 3 -> windows {0,1}, {0,1,2}, {1,2} of squares 1, 4, 9
    x = ad.tensor(np.array([[[1.0], [2.0], [3.0]]]))
    y = F.local_response_norm(x, size=3, alpha=3.0, beta=1.0, k=0.0)
    np.testing.assert_allclose(y.data.ravel(), [1 / 5, 2 / 14, 3 / 13], rtol=1e-15)
    # size 2: the window is c - 1 .. c (size // 2 before, (size - 1) // 2 after)
    y = F.local_response_norm(x, size=2, alpha=2.0, beta=0.5, k=1.0)
    np.testing.assert_allclose(y.data.ravel(), [1 / np.sqrt(2), 2 / np.sqrt(6), 3 / np.sqrt(14)],
                               rtol=1e-15)


def test_each_spatial_position_is_normalized_alone():
    x = np.random.default_rng(2).standard_normal((2, 4, 3, 5))
    y = F.local_response_norm(x, 3, 0.7, 0.9, 1.2).data
    y_one = F.local_response_norm(x[:, :, 1:2, 3:4], 3, 0.7, 0.9, 1.2).data
    np.testing.assert_allclose(y[:, :, 1:2, 3:4], y_one, rtol=1e-15)


@pytest.mark.parametrize("shape, size", [((2, 3, 2), 2), ((1, 4, 2, 2), 3), ((1, 3, 1, 2, 2), 5)])
def test_gradcheck_and_gradgradcheck(shape, size):
    x = ad.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    f = lambda t: F.local_response_norm(t, size, alpha=0.8, beta=0.7, k=1.1)  # noqa: E731
    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


def test_float32_stays_float32_and_empty_batch():
    x = ad.tensor(np.ones((2, 3, 4), dtype=np.float32), requires_grad=True)
    y = nn.LocalResponseNorm(2)(x)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    empty = ad.zeros((0, 3, 4))
    assert F.local_response_norm(empty, 2).shape == (0, 3, 4)


def test_errors_name_the_function_argument_and_value():
    with pytest.raises(ValueError, match=r"local_response_norm: .*3 or more.*\(2, 3\)"):
        F.local_response_norm(ad.ones((2, 3)), 2)
    with pytest.raises(ValueError, match="local_response_norm: size must be at least 1, got 0"):
        F.local_response_norm(ad.ones((1, 3, 2)), 0)
    with pytest.raises(TypeError, match=r"local_response_norm: size must be an int, got 2\.5"):
        F.local_response_norm(ad.ones((1, 3, 2)), 2.5)
    with pytest.raises(ValueError, match="LocalResponseNorm: size must be at least 1, got -1"):
        nn.LocalResponseNorm(-1)
