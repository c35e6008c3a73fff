"""Stable numerics of nn.functional: softplus, logsigmoid, the binary cross-entropies, softmax
cross-entropy and nll_loss where the textbook formulas overflow, cancel or meet 0 * inf. Each
against float64 references, and against PyTorch in float32 and float64 when it is installed."""

import math
import warnings

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-6, np.float64: 1e-14}


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _softplus64(x, beta=1.0, threshold=20.0):
    x = np.asarray(x, np.float64)
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def _sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# -- softplus and logsigmoid ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 20.0), (0.5, 5.0),
                                             (1.0, math.inf)])
def test_softplus_is_accurate_everywhere(beta, threshold, dtype):
    # beta * x in [-80, 80]: e^-80 is still a normal float32
    x = (np.linspace(-80, 80, 16001) / max(beta, 1.0)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(ad.tensor(x), beta=beta, threshold=threshold).data
    assert out.dtype == dtype
    ref = _softplus64(x, beta, threshold)
    np.testing.assert_allclose(out, ref, rtol=4 * RTOL[dtype], atol=0)
    above = beta * x > threshold
    assert (out[above] == x[above]).all()  # PyTorch's threshold: x itself


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_never_warns_at_huge_inputs(dtype):
    x = np.array([-1e4, -800.0, 800.0, 1e4, -np.inf, np.inf], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for threshold in (20.0, math.inf):
            out = F.softplus(ad.tensor(x), threshold=threshold).data
            np.testing.assert_array_equal(out, [0, 0, 800, 1e4, 0, np.inf])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 5.0)])
def test_softplus_gradient_is_sigmoid_and_one_above_the_threshold(beta, threshold, dtype):
    x = ad.tensor(np.array([-35.0, -3.0, 0.0, 2.0, 2.4, 2.6, 30.0], dtype), requires_grad=True)
    F.softplus(x, beta=beta, threshold=threshold).sum().backward()
    z = beta * x.data.astype(np.float64)
    expected = np.where(z > threshold, 1.0, _sigmoid64(z))
    np.testing.assert_allclose(x.grad.data, expected, rtol=4 * RTOL[dtype])
    assert x.grad.dtype == dtype


def test_softplus_and_logsigmoid_gradcheck_to_second_order():
    x = ad.tensor([-30.0, -2.0, -0.1, 0.0, 0.3, 4.0, 19.0, 25.0], dtype="float64")
    for f in (F.softplus, lambda x: F.softplus(x, beta=2.5, threshold=30.0), F.logsigmoid):
        assert gradcheck(f, x)
        assert gradgradcheck(f, x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsigmoid_is_accurate_in_both_tails(dtype):
    x = np.linspace(-80, 80, 16001).astype(dtype)
    out = F.logsigmoid(ad.tensor(x)).data
    assert out.dtype == dtype
    ref = -np.logaddexp(0.0, -x.astype(np.float64))
    np.testing.assert_allclose(out, ref, rtol=4 * RTOL[dtype], atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 20.0), (0.5, 5.0)])
def test_softplus_matches_pytorch_to_second_order(beta, threshold, dtype):
    torch = _torch()
    values = np.linspace(-90, 90, 1801).astype(dtype)
    x, t = ad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out = F.softplus(x, beta=beta, threshold=threshold)
    ref = torch.nn.functional.softplus(t, beta=beta, threshold=threshold)
    # Exactly at beta * x == threshold, PyTorch's second derivative is 0 (its double backward
    # masks with <, its backward with >); ours is the derivative of the first, sigmoid'.
    at = np.isclose(beta * values, threshold, rtol=0, atol=1e-9)
    _compare_to_second_order(torch, out, ref, x, t, RTOL[dtype], skip_second=at)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsigmoid_matches_pytorch_to_second_order(dtype):
    torch = _torch()
    values = np.linspace(-90, 90, 1801).astype(dtype)
    x, t = ad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    _compare_to_second_order(torch, F.logsigmoid(x), torch.nn.functional.logsigmoid(t), x, t,
                             RTOL[dtype])


def _compare_to_second_order(torch, out, ref, x, t, rtol, skip_second=False):
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=4 * rtol, atol=1e-38)
    (g,) = ad.gradients(out.sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad(ref.sum(), [t], create_graph=True)
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=10 * rtol, atol=1e-38)
    (h,) = ad.gradients(g.sum(), [x])
    (ht,) = torch.autograd.grad(gt.sum(), [t])
    # sigmoid'(z) = s (1 - s) keeps 1 - s only to an epsilon on the right (PyTorch's too)
    keep = ~np.broadcast_to(skip_second, h.shape)
    np.testing.assert_allclose(h.data[keep], ht.numpy()[keep], rtol=10 * rtol,
                               atol=np.finfo(x.dtype).eps)


# -- binary_cross_entropy_with_logits ----------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_is_accurate_where_the_loss_is_tiny_or_huge(dtype):
    x = np.array([25.0, -25.0, 80.0, -80.0, 0.0, 3.0], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.25], dtype)
    loss = F.binary_cross_entropy_with_logits(ad.tensor(x), ad.tensor(y), reduction="none")
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    # -(y log sigmoid(x) + (1 - y) log sigmoid(-x)), each log a float64 softplus
    ref = y64 * np.logaddexp(0.0, -x64) + (1 - y64) * np.logaddexp(0.0, x64)
    np.testing.assert_allclose(loss.data, ref, rtol=4 * RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_matches_pytorch(dtype):
    torch = _torch()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(64) * 30).astype(dtype)
    y = rng.uniform(0, 1, 64).astype(dtype)
    y[:16] = np.round(y[:16])
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xa, ad.tensor(y), reduction="sum")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(xt, torch.tensor(y),
                                                               reduction="sum")
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=10 * RTOL[dtype])
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=10 * RTOL[dtype],
                               atol=np.finfo(dtype).eps)
