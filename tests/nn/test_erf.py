"""The vectorized erf behind F.gelu against math.erf (exact to double precision): every piece
of Cody's approximation, both dtypes, the special values."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck
from nn.functional._erf import erf_array, erf_float32

POINTS = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 0.5, 300),
                         -np.geomspace(1e-300, 0.5, 300), [0.46875, 4.0, 4.0001, 26.0]])


def test_erf_float64_within_four_ulp_of_math_erf():
    want = np.array([math.erf(v) for v in POINTS])
    got = erf_array(POINTS)
    assert got.dtype == np.float64
    assert (np.abs(got - want) <= 4 * np.spacing(np.abs(want))).all()


def test_erf_float32_within_six_ulp():
    x = POINTS.astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    got = erf_array(x)
    assert got.dtype == np.float32
    assert (np.abs(got - want) <= 6 * np.spacing(np.abs(want))).all()
    dense = np.linspace(-0.6, -0.4, 200001, dtype=np.float32)  # around the 0.46875 switch
    want = np.array([math.erf(float(v)) for v in dense]).astype(np.float32)
    assert (np.abs(erf_array(dense) - want) <= 6 * np.spacing(np.abs(want))).all()


def test_fast_float32_erf_is_odd_and_within_4_5e_7():
    x = np.concatenate([np.linspace(-6, 6, 200001), np.geomspace(1e-30, 6, 20001)]
                       ).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    got = erf_float32(x)
    assert got.dtype == np.float32
    assert np.abs(got - want).max() <= 4.5e-7
    tiny = x[(x > 0) & (x < 1e-3)]  # near 0 the error is relative: x P/Q, no 1 - ... there
    np.testing.assert_allclose(erf_float32(tiny), [math.erf(float(v)) for v in tiny], rtol=3e-7)
    np.testing.assert_array_equal(erf_float32(-x), -got)
    special = erf_float32(np.array([np.inf, -np.inf, np.nan, -0.0], np.float32))
    np.testing.assert_array_equal(special[:2], [1.0, -1.0])
    assert np.isnan(special[2]) and np.signbit(special[3])


def test_erf_special_values():
    got = erf_array(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e308]))
    np.testing.assert_array_equal(got[[0, 2, 3, 5]], [0.0, 1.0, -1.0, 1.0])
    assert np.signbit(got[1]) and np.isnan(got[4])
    assert erf_array(np.zeros((0, 3), np.float32)).shape == (0, 3)


def test_gelu_float64_uses_it():
    x = np.linspace(-5, 5, 41)
    want = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    got = F.gelu(ad.tensor(x))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data, want, rtol=1e-15, atol=1e-16)


def test_gelu_float32_is_as_accurate_as_pytorchs():
    # Exact GELU by erfc (no cancellation); PyTorch 2.13's float32 GELU is within 1.1e-6 of it
    # on this grid, and within 2.4e-4 relative for |x| < 3.
    x = np.linspace(-8, 8, 40001).astype(np.float32)
    exact = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(float)])
    got = F.gelu(ad.tensor(x))
    assert got.dtype == np.float32
    err = np.abs(got.data - exact)
    assert err.max() <= 1.4e-6
    near = np.abs(x) < 3
    assert (err[near] / np.abs(exact[near]).clip(1e-30)).max() <= 1e-4


def test_gelu_is_one_node_and_twice_differentiable():
    from autodiff.testing import gradcheck, gradgradcheck

    x = np.linspace(-4, 4, 9)
    assert F.gelu(ad.tensor(x, requires_grad=True)).grad_fn.op_name() == "gelu"
    assert gradcheck(F.gelu, x) and gradgradcheck(F.gelu, x)


def test_gelu_matches_pytorch_to_second_order():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.linspace(-6, 6, 25)
    tx = torch.tensor(x, requires_grad=True)
    (g1,) = torch.autograd.grad(torch.nn.functional.gelu(tx).sum(), tx, create_graph=True)
    (g2,) = torch.autograd.grad(g1.sum(), tx)
    ax = ad.tensor(x, requires_grad=True)
    (a1,) = ad.gradients(F.gelu(ax).sum(), [ax], create_graph=True)
    (a2,) = ad.gradients(a1.sum(), [ax])
    np.testing.assert_allclose(a1.data, g1.detach().numpy(), atol=1e-15)
    np.testing.assert_allclose(a2.data, g2.numpy(), atol=1e-15)


def test_gelu_float32_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.linspace(-8, 8, 40001).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.gelu(tx).sum().backward()
    ax = ad.tensor(x, requires_grad=True)
    y = F.gelu(ax)
    y.sum().backward()
    np.testing.assert_allclose(y.data, torch.nn.functional.gelu(tx).detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), atol=2e-6)


def test_a_0d_input_float64_too():
    """A 0-d float64 input (NumPy's clip makes it a scalar) raised inside the erf pieces."""
    x = ad.tensor(np.float64(0.3), requires_grad=True)
    y = F.gelu(x)
    assert y.shape == () and y.dtype == np.float64
    assert abs(y.item() - 0.3 * (1 + math.erf(0.3 / math.sqrt(2))) / 2) < 1e-16
    assert gradcheck(F.gelu, x)
    assert erf_array(np.float64(-0.5)).shape == ()
