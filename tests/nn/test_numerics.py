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


# -- cross_entropy and nll_loss with masked logits (-inf), float16, large offsets ---------------

INF = np.inf
MASKED = np.array([[0.0, -INF, 1.0, 0.5], [-INF, 2.0, -INF, -INF], [3.0, -1.0, -INF, 0.0]])
LABELS = np.array([2, 1, 0])


def _log_softmax64(z):
    z = np.asarray(z, np.float64)
    d = z - z.max(axis=1, keepdims=True)
    return d - np.log(np.exp(d).sum(axis=1, keepdims=True))


def _reduced(per, reduction):
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_of_log_softmax"])
def test_masked_logits_give_a_finite_loss_and_gradient(loss, reduction, dtype):
    z = ad.tensor(MASKED.astype(dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if loss == "cross_entropy":
            out = F.cross_entropy(z, LABELS, reduction=reduction)
        else:
            out = F.nll_loss(F.log_softmax(z, axis=1), LABELS, reduction=reduction)
        (g,) = ad.gradients(out, [z], grad_outputs=ad.ones(out.shape, dtype=dtype))
    logp = _log_softmax64(MASKED)
    per = -logp[np.arange(3), LABELS]
    np.testing.assert_allclose(out.data, _reduced(per, reduction), rtol=4 * RTOL[dtype])
    expected = np.exp(logp) - np.eye(4)[LABELS]
    expected = expected / 3 if reduction == "mean" else expected
    assert out.dtype == g.dtype == dtype and np.isfinite(g.data).all()
    np.testing.assert_allclose(g.data, expected, rtol=10 * RTOL[dtype], atol=10 * RTOL[dtype])


def test_masked_logits_spatial_and_second_order():
    z = np.stack([MASKED, MASKED[::-1]], axis=-1)  # (N, C, 2)
    y = np.stack([LABELS, LABELS[::-1]], axis=-1)
    zt = ad.tensor(z, requires_grad=True)
    out = F.cross_entropy(zt, y)
    logp = np.moveaxis(_log_softmax64(np.moveaxis(z, -1, 1).reshape(-1, 4)).reshape(3, 2, 4), 2, 1)
    per = -np.take_along_axis(logp, y[:, None], axis=1)
    np.testing.assert_allclose(out.item(), per.mean(), rtol=1e-12)
    (g,) = ad.gradients(out, [zt], create_graph=True)
    (h,) = ad.gradients((g * g).sum(), [zt])
    assert np.isfinite(g.data).all() and np.isfinite(h.data).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_probability_targets_with_zero_mass_on_masked_logits_are_finite(dtype):
    """sum_c p_c log q_c takes 0 log 0 as 0 (PyTorch gives NaN here, its gradient finite)."""
    p = np.array([[0.5, 0.0, 0.5, 0.0], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.0, 0.5]], dtype)
    z = ad.tensor(MASKED.astype(dtype), requires_grad=True)
    for reduction in ("mean", "none"):
        out = F.cross_entropy(z, p, reduction=reduction)
        per = -np.where(p > 0, p * np.where(p > 0, _log_softmax64(MASKED), 0), 0).sum(axis=1)
        np.testing.assert_allclose(out.data, _reduced(per, reduction), rtol=4 * RTOL[dtype])
    F.cross_entropy(z, p).backward()
    assert np.isfinite(z.grad.data).all()


def test_label_smoothing_on_masked_logits_is_inf_with_a_finite_gradient():
    z = ad.tensor(MASKED, requires_grad=True)
    out = F.cross_entropy(z, LABELS, label_smoothing=0.1)  # mass on -inf logits: inf, as PyTorch
    assert out.item() == np.inf
    out.backward()
    smooth = np.eye(4)[LABELS] * 0.9 + 0.1 / 4
    np.testing.assert_allclose(z.grad.data, (np.exp(_log_softmax64(MASKED)) - smooth) / 3)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_float16_cross_entropy_is_computed_in_float32(reduction):
    logits = np.array([[-1000.0, -1001.0, -1002.0], [3.0, -60000.0, 65504.0]], np.float16)
    z = ad.tensor(logits, requires_grad=True)
    out = F.cross_entropy(z, [1, 0], reduction=reduction)
    assert out.dtype == np.float16
    per = -_log_softmax64(logits)[np.arange(2), [1, 0]]
    np.testing.assert_allclose(out.data.astype(np.float64), _reduced(per, reduction), rtol=1e-3)
    (g,) = ad.gradients(out, [z], grad_outputs=ad.ones(out.shape, dtype="float16"))
    assert g.dtype == np.float16
    expected = np.exp(_log_softmax64(logits)) - np.eye(3)[[1, 0]]
    expected = expected / 2 if reduction == "mean" else expected
    np.testing.assert_allclose(g.data.astype(np.float64), expected, rtol=1e-3, atol=1e-3)


def test_float32_logits_with_a_large_offset():
    z = ad.tensor(np.array([[-1e6, -1e6], [1e6, 1e6 - 1.0]], np.float32))
    np.testing.assert_allclose(F.cross_entropy(z, [0, 0], reduction="none").data,
                               [np.log(2.0), np.log1p(np.exp(-1.0))], rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float16, *DTYPES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_masked_and_float16_cross_entropy_matches_pytorch(reduction, dtype):
    torch = _torch()
    logits = np.concatenate([MASKED, [[-1000.0, -1001.0, -1002.0, -6e4]]]).astype(dtype)
    labels = np.array([2, 1, 0, 3])
    z, t = ad.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    out = F.cross_entropy(z, labels, reduction=reduction)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor(labels), reduction=reduction)
    # float16: PyTorch rounds log_softmax to float16 before picking (4 ulps off at 0.066);
    # ours rounds once, from float32 (test_float16_cross_entropy_is_computed_in_float32)
    rtol = 5e-3 if dtype == np.float16 else 4 * RTOL[dtype]
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data.astype(np.float64), ref.detach().numpy(), rtol=rtol)
    seed = np.full(out.shape, 0.5, dtype)
    (g,) = ad.gradients(out, [z], grad_outputs=ad.tensor(seed))
    (gt,) = torch.autograd.grad(ref, [t], grad_outputs=torch.tensor(seed))
    np.testing.assert_allclose(g.data.astype(np.float64), gt.numpy(), rtol=rtol, atol=rtol)
    logp = F.log_softmax(ad.tensor(logits), axis=1)
    np.testing.assert_allclose(
        F.nll_loss(logp, labels, reduction=reduction).data.astype(np.float64),
        torch.nn.functional.nll_loss(torch.log_softmax(torch.tensor(logits), 1),
                                     torch.tensor(labels), reduction=reduction).numpy(),
        rtol=rtol)


# -- binary_cross_entropy on saturated probabilities: PyTorch's clamped logs ---------------------

P_SATURATED = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5, 1e-7]
Y_SATURATED = [0.0, 1.0, 1.0, 0.0, 0.3, 0.6, 1.0, 0.0]


def _bce64(p, y):
    """PyTorch's definition: each log clamped at -100, in float64."""
    p, y = np.asarray(p, np.float64), np.asarray(y, np.float64)
    with np.errstate(divide="ignore"):
        log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    grad_p = (p - y) / np.maximum(p * (1 - p), float(np.float32(1e-12)))  # its float EPSILON
    return -(y * log_p + (1 - y) * log_q), grad_p, log_q - log_p


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_on_saturated_probabilities_is_finite_with_pytorchs_values(reduction, dtype):
    p = ad.tensor(np.array(P_SATURATED, dtype), requires_grad=True)
    y = ad.tensor(np.array(Y_SATURATED, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy(p, y, reduction=reduction)
        gp, gy = ad.gradients(out, [p, y], grad_outputs=ad.ones(out.shape, dtype=dtype))
    loss, grad_p, grad_y = _bce64(np.array(P_SATURATED, dtype), np.array(Y_SATURATED, dtype))
    scale = 1 / len(P_SATURATED) if reduction == "mean" else 1
    assert out.dtype == gp.dtype == gy.dtype == dtype
    assert np.isfinite(out.data).all() and np.isfinite(gp.data).all() and np.isfinite(gy.data).all()
    np.testing.assert_allclose(out.data, _reduced(loss, reduction), rtol=4 * RTOL[dtype])
    np.testing.assert_allclose(gp.data, grad_p * scale, rtol=4 * RTOL[dtype])
    np.testing.assert_allclose(gy.data, grad_y * scale, rtol=4 * RTOL[dtype], atol=1e-6)


def test_bce_keeps_small_probabilities_exact():
    """-log(1 - p) for p = 1e-7 in float32 is 1e-7 by log1p; log(1 - p) gave 1.19e-7."""
    out = F.binary_cross_entropy(ad.tensor(np.float32([1e-7, 1 - 2**-20])),
                                 ad.tensor(np.float32([0.0, 1.0])), reduction="none")
    np.testing.assert_allclose(out.data, [1e-7, -np.log1p(-(2.0**-20))], rtol=1e-6)


def test_bce_gradchecks_in_probability_and_target_to_second_order():
    p = ad.tensor([0.05, 0.3, 0.5, 0.8, 0.97], dtype="float64")
    y = ad.tensor([0.0, 1.0, 0.2, 0.5, 1.0], dtype="float64")
    for reduction in ("none", "mean"):
        def f(p, y, reduction=reduction):
            return F.binary_cross_entropy(p, y, reduction=reduction)
        assert gradcheck(f, p, y)
        assert gradgradcheck(f, p, y)


def test_bce_second_order_at_saturation_is_finite():
    p = ad.tensor(np.array(P_SATURATED), requires_grad=True)
    y = ad.tensor(np.array(Y_SATURATED), requires_grad=True)
    gp, gy = ad.gradients(F.binary_cross_entropy(p, y), [p, y], create_graph=True)
    second = ad.gradients((gp * 1e-12).sum() + gy.sum(), [p, y])
    assert all(np.isfinite(g.data).all() for g in second)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_on_saturated_probabilities_matches_pytorch(reduction, dtype):
    torch = _torch()
    values = [np.array(v, dtype) for v in (P_SATURATED, Y_SATURATED)]
    p, y = (ad.tensor(v, requires_grad=True) for v in values)
    pt, yt = (torch.tensor(v, requires_grad=True) for v in values)
    out = F.binary_cross_entropy(p, y, reduction=reduction)
    ref = torch.nn.functional.binary_cross_entropy(pt, yt, reduction=reduction)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=4 * RTOL[dtype])
    seed = np.full(out.shape, 0.5, dtype)
    gp, gy = ad.gradients(out, [p, y], grad_outputs=ad.tensor(seed))
    gpt, gyt = torch.autograd.grad(ref, [pt, yt], grad_outputs=torch.tensor(seed))
    # PyTorch divides by max(p (1 - p), eps) with eps = 1e-12 rounded to float32, in every
    # reduction and even in float64; ours too (it was 1e-12: 4e-9 relative off)
    np.testing.assert_allclose(gp.data, gpt.numpy(), rtol=4 * RTOL[dtype])
    # The target's gradient: PyTorch's is -logit(p), unclamped, so +-inf at p = 0 or 1; ours
    # is the derivative of the clamped loss, log(1 - p) - log(p) each clamped: +-100 there.
    finite = np.isfinite(gyt.numpy())
    assert not finite.all() and np.isfinite(gy.data).all()
    np.testing.assert_allclose(gy.data[finite], gyt.numpy()[finite], rtol=4 * RTOL[dtype])
