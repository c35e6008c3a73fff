"""layer_norm as one primitive: values and gradients of the composed formula and PyTorch's,
second order, dtypes, and the composed path kept for mixed dtypes."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _composed(x, w, b, axes, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=axes, keepdims=True) + eps)
    return y if w is None else y * w + b


@pytest.mark.parametrize("ns", [(5,), (3, 5)])
def test_layer_norm_is_one_node_with_the_formula(ns):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 5)), rng.standard_normal(ns), rng.standard_normal(ns)
    X = ad.tensor(x, requires_grad=True)
    y = F.layer_norm(X, ns, ad.tensor(w), ad.tensor(b))
    assert y.grad_fn.op_name() == "layer_norm"
    axes = tuple(range(3 - len(ns), 3))
    np.testing.assert_allclose(y.data, _composed(x, w, b, axes), atol=1e-14)


def test_layer_norm_gradients_first_and_second_order():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 4)), rng.standard_normal(4), rng.standard_normal(4)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), x, w, b)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b), x, w, b)
    assert gradgradcheck(lambda x: F.layer_norm(x, (2, 4)), rng.standard_normal((3, 2, 4)))


def test_layer_norm_dtypes():
    x32 = ad.randn(3, 4)
    w32 = ad.ones(4, requires_grad=True)
    y = F.layer_norm(x32, 4, w32, None)
    y.sum().backward()
    assert y.dtype == np.float32 and w32.grad.dtype == np.float32
    w64 = ad.ones(4, dtype="float64", requires_grad=True)
    y = F.layer_norm(x32, 4, w64, None)  # mixed dtypes: composed, promoting as the ops do
    assert y.dtype == np.float64 and y.grad_fn.op_name() == "mul"


def test_layer_norm_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((4, 3, 6)), rng.standard_normal(6), rng.standard_normal(6)
    ours = [ad.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    g = rng.standard_normal(x.shape)
    (F.layer_norm(ours[0], 6, ours[1], ours[2]) * g).sum().backward()
    (torch.nn.functional.layer_norm(theirs[0], (6,), theirs[1], theirs[2])
     * torch.tensor(g)).sum().backward()
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), atol=1e-13)
