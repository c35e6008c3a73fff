"""Batch norm in training (`BatchNormTrain`): its per-channel sums against NumPy's, values and
gradients against the composed formula (float64, tight) and PyTorch when installed, the
variance computed in two passes (float32 with a large mean), float32 kept float32."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from nn.functional.channel_sums import channel_dots, channel_sums

SHAPES = [(5, 3), (4, 3, 6), (3, 2, 4, 5)]


@pytest.mark.parametrize("shape", [(4, 3, 1), (4, 3, 7), (2, 5, 64)])
def test_channel_sums_and_dots_match_numpy(shape):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    np.testing.assert_allclose(channel_sums(a), a.sum(axis=(0, 2)), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(channel_dots(a, b), (a * b).sum(axis=(0, 2)), rtol=1e-13,
                               atol=1e-13)


def reference(x, w, b, dy):
    """y and (dx, dw, db) of batch norm written out in float64 (the course's formulas)."""
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = [1] * x.ndim
    shape[1] = -1
    m = x.size // x.shape[1]
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    inv = 1 / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    d = dy * w.reshape(shape)
    dx = inv * (d - d.sum(axes, keepdims=True) / m
                - xhat * (d * xhat).sum(axes, keepdims=True) / m)
    return (xhat * w.reshape(shape) + b.reshape(shape), dx, (dy * xhat).sum(axes),
            dy.sum(axes))


def run(x, w, b, dy):
    xt = ad.tensor(x, requires_grad=True)
    wt = None if w is None else ad.tensor(w, requires_grad=True)
    bt = None if b is None else ad.tensor(b, requires_grad=True)
    y = F.batch_norm(xt, None, None, wt, bt, training=True)
    y.backward(ad.tensor(dy))
    return (y.data, xt.grad.data, None if wt is None else wt.grad.data,
            None if bt is None else bt.grad.data)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_values_and_gradients_match_the_formula(shape, affine):
    rng = np.random.default_rng(1)
    x, dy = rng.standard_normal(shape) * 3 + 2, rng.standard_normal(shape)
    w = rng.standard_normal(shape[1]) if affine else np.ones(shape[1])
    b = rng.standard_normal(shape[1]) if affine else np.zeros(shape[1])
    want = reference(x, w, b, dy)
    got = run(x, w if affine else None, b if affine else None, dy)
    for g, r in zip(got, want, strict=True):
        if g is not None:
            np.testing.assert_allclose(g, r, rtol=1e-11, atol=1e-12)


def test_variance_in_two_passes_in_float32():
    """A large mean: E[x^2] - mean^2 would lose every digit of a unit variance in float32
    (x^2 ~ 1e8, float32's spacing there 8); x - mean first keeps them."""
    rng = np.random.default_rng(2)
    x = (1e4 + rng.standard_normal((64, 4, 8, 8))).astype(np.float32)
    y, mean, var = (t.data for t in F.normalization.BatchNormTrain.apply(
        ad.tensor(x), None, None, axes=(0, 2, 3), eps=1e-5))
    want = x.astype(np.float64).var(axis=(0, 2, 3))
    np.testing.assert_allclose(var.reshape(-1), want, rtol=1e-4)
    assert y.dtype == mean.dtype == var.dtype == np.float32
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, rtol=1e-3)


def test_float32_stays_float32():
    rng = np.random.default_rng(3)
    got = run(rng.standard_normal((4, 3, 5, 5)).astype(np.float32),
              np.ones(3, np.float32), np.zeros(3, np.float32),
              rng.standard_normal((4, 3, 5, 5)).astype(np.float32))
    assert {a.dtype for a in got} == {np.dtype(np.float32)}


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_pytorch(shape):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference here; CI has none")
    rng = np.random.default_rng(4)
    x, dy = rng.standard_normal(shape) * 2 - 1, rng.standard_normal(shape)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    rm, rv = ad.tensor(np.zeros(shape[1])), ad.tensor(np.ones(shape[1]))
    xt, wt, bt = (ad.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.batch_norm(xt, rm, rv, wt, bt, training=True, momentum=0.1)
    y.backward(ad.tensor(dy))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    trm, trv = torch.zeros(shape[1], dtype=torch.float64), torch.ones(shape[1],
                                                                     dtype=torch.float64)
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=0.1)
    ty.backward(torch.tensor(dy))
    for ours, theirs in [(y, ty), (xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad),
                         (rm, trm), (rv, trv)]:
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_batch_norm_mixed_dtypes_promote_and_each_gradient_keeps_its_dtype():
    """float32 input with float64 weight and bias: computed in float64 (NumPy's promotion),
    the gradients in each tensor's own dtype (the backward raised a gradient-dtype error),
    the running statistics keep their dtype."""
    rng = np.random.default_rng(3)
    x = ad.tensor(rng.random((4, 3, 5, 5)).astype(np.float32), requires_grad=True)
    w, b = (ad.tensor(rng.random(3), requires_grad=True) for _ in range(2))
    rm, rv = ad.zeros(3), ad.ones(3)
    y = F.batch_norm(x, rm, rv, w, b, training=True)
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    assert rm.dtype == rv.dtype == np.float32
    want = F.batch_norm(ad.tensor(x.data.astype(np.float64)), None, None, w.detach(),
                        b.detach(), training=True)
    np.testing.assert_allclose(y.data, want.data, rtol=1e-12)
