"""The vectorized erf behind F.gelu against math.erf (exact to double precision): every piece
of Cody's approximation, both dtypes, the special values."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from nn.functional._erf import erf_array

POINTS = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 0.5, 300),
                         -np.geomspace(1e-300, 0.5, 300), [0.46875, 4.0, 4.0001, 26.0]])


def test_erf_float64_within_four_ulp_of_math_erf():
    want = np.array([math.erf(v) for v in POINTS])
    got = erf_array(POINTS)
    assert got.dtype == np.float64
    assert (np.abs(got - want) <= 4 * np.spacing(np.abs(want))).all()


def test_erf_float32_within_three_ulp():
    x = POINTS.astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x]).astype(np.float32)
    got = erf_array(x)
    assert got.dtype == np.float32
    assert (np.abs(got - want) <= 3 * np.spacing(np.abs(want))).all()


def test_erf_special_values():
    got = erf_array(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e308]))
    np.testing.assert_array_equal(got[[0, 2, 3, 5]], [0.0, 1.0, -1.0, 1.0])
    assert np.signbit(got[1]) and np.isnan(got[4])
    assert erf_array(np.zeros((0, 3), np.float32)).shape == (0, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_uses_it(dtype):
    x = np.linspace(-5, 5, 41).astype(dtype)
    want = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(float)]
    got = F.gelu(ad.tensor(x))
    assert got.dtype == dtype
    np.testing.assert_allclose(got.data, want, rtol=1e-6 if dtype == "float32" else 1e-15,
                               atol=1e-7 if dtype == "float32" else 1e-16)


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
