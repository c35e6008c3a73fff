"""nn.functional losses and pieces against NumPy references; stability; clear errors."""

import importlib

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(0)


def np_log_softmax(z):
    m = z.max(1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(1, keepdims=True))


def test_cross_entropy_labels_probabilities_smoothing_reductions():
    z = rng.standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    lp = np_log_softmax(z)
    per = -lp[np.arange(5), y]
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y).item(), per.mean())
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y, reduction="sum").item(),
                               per.sum())
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y, reduction="none").data, per)
    probs = np.eye(4)[y] * 0.9 + 0.1 / 4
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y, label_smoothing=0.1).item(),
                               -(lp * probs).sum(1).mean())
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), probs).item(),
                               -(lp * probs).sum(1).mean())
    assert gradcheck(lambda t: F.cross_entropy(t, y), ad.tensor(z))
    assert gradgradcheck(lambda t: F.cross_entropy(t, y), ad.tensor(z))
    # labels written as a Python list (float32 tensor of whole numbers) still work
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), ad.tensor(y.tolist())).item(),
                               per.mean())


def test_cross_entropy_fused_gradients_spatial_and_unnormalized_targets():
    # (N, C, d) logits with labels, and probability targets that do not sum to one:
    # the fused backward is softmax * sum(p) - p, checked to second order.
    z = ad.tensor(rng.standard_normal((3, 4, 2)))
    y = np.array([[0, 3], [1, 1], [2, 0]])
    per = -(np_log_softmax(z.data) * np.eye(4)[y].transpose(0, 2, 1)).sum(1)
    np.testing.assert_allclose(F.cross_entropy(z, y, reduction="none").data, per, rtol=1e-6)
    assert gradcheck(lambda t: F.cross_entropy(t, y), z)
    assert gradgradcheck(lambda t: F.cross_entropy(t, y), z)
    p = rng.random((3, 4))  # rows sum to about 2, not 1
    zz = ad.tensor(rng.standard_normal((3, 4)))
    np.testing.assert_allclose(F.cross_entropy(zz, p, reduction="sum").item(),
                               -(np_log_softmax(zz.data) * p).sum(), rtol=1e-6)
    assert gradcheck(lambda t: F.cross_entropy(t, p), zz)
    assert gradgradcheck(lambda t: F.cross_entropy(t, p), zz)


def test_linear_on_3d_4d_empty_and_strided_inputs_is_one_product_with_numpys_values():
    """(N, L, in) inputs run as one (N*L, in) product (NumPy loops over N for a 3-D @ 2-D
    product); the values, shapes and gradients are those of x @ W.T + b."""
    rng = np.random.default_rng(3)
    w, b = ad.tensor(rng.standard_normal((5, 3)), requires_grad=True), ad.tensor(np.ones(5))
    for shape in [(2, 4, 3), (2, 2, 2, 3), (2, 0, 3), (0, 3)]:
        x = ad.tensor(rng.standard_normal(shape), requires_grad=True)
        y = F.linear(x, w, b)
        np.testing.assert_allclose(y.data, x.data @ w.data.T + b.data, rtol=1e-14)
        assert y.shape == (*shape[:-1], 5)
        y.sum().backward()
        assert x.grad.shape == shape
    strided = ad.tensor(rng.standard_normal((4, 2, 3)).transpose(1, 0, 2), requires_grad=True)
    np.testing.assert_allclose(F.linear(strided, w).data, strided.data @ w.data.T, rtol=1e-14)
    assert gradcheck(lambda v: F.linear(v, w, b), strided)
    assert gradgradcheck(lambda v: F.linear(v, w, b), strided)


def test_linear_few_rows_into_many_outputs_runs_transposed_with_the_same_values(monkeypatch):
    """A small batch into many outputs is multiplied as (W @ x.T).T (faster in OpenBLAS):
    the result is C-ordered and equal to x @ W.T + b, with the same gradients, for 2-D,
    3-D and float32 inputs; the threshold constants decide the path."""
    lin = importlib.import_module("nn.functional.linear")  # the module, not the function
    rng = np.random.default_rng(4)
    for shape, dt in [((16, 784), np.float32), ((2, 8, 784), np.float32), ((3, 40), np.float64)]:
        x = ad.tensor(rng.standard_normal(shape).astype(dt), requires_grad=True)
        w = ad.tensor(rng.standard_normal((96, shape[-1])).astype(dt), requires_grad=True)
        b = ad.tensor(rng.standard_normal(96).astype(dt), requires_grad=True)
        rows = int(np.prod(shape[:-1]))
        monkeypatch.setattr(lin, "BIG_PRODUCT", 1 if dt == np.float64 else 1 << 19)
        assert rows <= lin.FEW_ROWS and rows * shape[-1] * 96 >= lin.BIG_PRODUCT  # the path
        y = F.linear(x, w, b)
        assert y.data.flags.c_contiguous and y.dtype == dt and y.shape == (*shape[:-1], 96)
        want = x.data.astype(np.float64) @ w.data.T.astype(np.float64) + b.data
        np.testing.assert_allclose(y.data, want, rtol=1e-4 if dt == np.float32 else 1e-13,
                                   atol=1e-3 if dt == np.float32 else 1e-12)
        if dt == np.float64:
            assert gradcheck(F.linear, x, w, b)
            assert gradgradcheck(F.linear, x, w, b)
        monkeypatch.setattr(lin, "FEW_ROWS", 0)  # the plain product gives the same
        np.testing.assert_allclose(F.linear(x, w, b).data, y.data, rtol=1e-5, atol=1e-4)
        monkeypatch.setattr(lin, "FEW_ROWS", 32)


def test_linear_fused_gradients_match_the_composed_ops():
    x = ad.tensor(rng.standard_normal((2, 3, 4)))
    w = ad.tensor(rng.standard_normal((5, 4)))
    b = ad.tensor(rng.standard_normal(5))
    np.testing.assert_allclose(F.linear(x, w, b).data, x.data @ w.data.T + b.data)
    assert gradcheck(F.linear, x, w, b)
    assert gradgradcheck(F.linear, x, w, b)
    assert gradcheck(lambda v, u: F.linear(v, u), ad.tensor(rng.standard_normal(4)), w)
    with pytest.raises(ValueError, match=r"linear: bias has shape \(4,\).*out_features=5"):
        F.linear(x, w, ad.zeros(4))
    with pytest.raises(ValueError, match="linear: the input has 3 features"):
        F.linear(ad.zeros((2, 3)), w)


def test_cross_entropy_stable_for_huge_logits():
    z = ad.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 0]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isclose(loss.item(), 1e4)
    assert np.isfinite(z.grad.data).all()


def test_cross_entropy_errors():
    z = ad.ones((2, 3))
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        F.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1"):
        F.cross_entropy(z, np.array([-1, 0]))
    with pytest.raises(ValueError, match="target shape"):
        F.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, np.array([0, 1]), reduction="avg")


def test_nll_mse_bce():
    z = rng.standard_normal((3, 4))
    y = np.array([1, 0, 3])
    lp = np_log_softmax(z)
    np.testing.assert_allclose(F.nll_loss(ad.tensor(lp), y).item(), -lp[np.arange(3), y].mean())
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    np.testing.assert_allclose(F.mse_loss(ad.tensor(a), ad.tensor(b)).item(),
                               ((a - b) ** 2).mean())
    p = rng.uniform(0.05, 0.95, 6)
    t = (rng.random(6) > 0.5).astype(np.float64)
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(ad.tensor(p), ad.tensor(t)).item(),
                               bce.mean())
    x = rng.standard_normal(6) * 3
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(ad.tensor(x), ad.tensor(t)).item(),
        (-(t * np.log(s) + (1 - t) * np.log(1 - s))).mean())
    assert gradcheck(lambda u: F.binary_cross_entropy_with_logits(u, t), ad.tensor(x))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(ad.tensor([1.5]), ad.tensor([1.0]))
    with pytest.raises(ValueError, match="shape"):
        F.mse_loss(ad.ones(3), ad.ones(4))


def test_bce_with_logits_stable_and_exact_at_zero():
    x = ad.tensor([-1e4, 0.0, 1e4], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, ad.tensor([1.0, 1.0, 0.0]), reduction="sum")
    loss.backward()
    assert np.isclose(loss.item(), 2e4 + np.log(2))
    np.testing.assert_allclose(x.grad.data, [-1.0, -0.5, 1.0])


def test_float32_losses_stay_float32():
    z = ad.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(z, np.array([0, 1, 2, 0]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
