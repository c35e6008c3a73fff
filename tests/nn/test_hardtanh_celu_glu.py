"""hardtanh, celu, glu and their modules: values, gradients and second gradients equal to
PyTorch's (float64, the kinks included), closed forms, finite differences, dtypes, errors."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

POINTS = np.concatenate([[-800.0, -30.0, -2.0, -1.0, -0.5, -1e-10, 0.0, 1e-10, 0.5, 1.0, 2.0,
                          30.0, 800.0], np.random.default_rng(0).standard_normal(20) * 3])


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _compare(torch, fn, tfn, x, second=True):
    v = np.random.default_rng(5).standard_normal(np.shape(fn(ad.tensor(x)).data))
    t, a = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
    ty, y = tfn(t), fn(a)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, atol=1e-300)
    (tg,) = torch.autograd.grad((ty * torch.tensor(v)).sum(), [t], create_graph=True)
    (g,) = ad.gradients((y * v).sum(), [a], create_graph=True)
    np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-14, atol=1e-300)
    if second:
        (t2,) = torch.autograd.grad((tg * tg).sum(), [t])
        (g2,) = ad.gradients((g * g).sum(), [a])
        np.testing.assert_allclose(g2.data, t2.numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (-2.0, 0.5), (0.0, 6.0), (1.0, 1.0)])
def test_hardtanh_matches_pytorch(lo, hi):
    torch = _torch()
    _compare(torch, lambda x: F.hardtanh(x, lo, hi),
             lambda x: torch.nn.functional.hardtanh(x, lo, hi), POINTS, second=False)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 0.25, -1.0, -0.5])
def test_celu_matches_pytorch(alpha):
    torch = _torch()
    x = POINTS if alpha > 0 else POINTS[np.abs(POINTS) < 30]  # alpha < 0: e^(x/alpha) overflows
    _compare(torch, lambda t: F.celu(t, alpha),
             lambda t: torch.nn.functional.celu(t, alpha), x)


def test_celu_gradient_is_exact_where_pytorchs_rounds_one_over_alpha():
    """PyTorch 2.13's float64 CELU gradient uses 1 / alpha rounded to float32 (relative
    errors of 1e-7 for alpha = 0.3); ours is exp(x / alpha) to rounding."""
    torch = _torch()
    x = np.array([-3.0, -1.0, -0.1])
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.celu(t, 0.3).sum().backward()
    a = ad.tensor(x, requires_grad=True)
    F.celu(a, 0.3).sum().backward()
    np.testing.assert_allclose(a.grad.data, np.exp(x / 0.3), rtol=1e-15)
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("shape, axis", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((8,), 0),
                                         ((0, 4), 1)])
def test_glu_matches_pytorch(shape, axis):
    torch = _torch()
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 3
    _compare(torch, lambda t: F.glu(t, axis), lambda t: torch.nn.functional.glu(t, axis), x,
             second=x.size > 0)


def test_closed_forms():
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.75, 1.0, 4.0])
    np.testing.assert_array_equal(F.hardtanh(x).data, [-1, -1, -0.25, 0, 0.75, 1, 1])
    np.testing.assert_array_equal(F.hardtanh(x, 0.0, 2.0).data, [0, 0, 0, 0, 0.75, 1, 2])
    np.testing.assert_allclose(F.celu(x, 2.0).data,
                               np.where(x > 0, x, 2 * (np.exp(x / 2) - 1)), rtol=1e-15)
    np.testing.assert_allclose(F.celu(np.array([-800.0])).data, [-1.0])  # no overflow
    y = F.glu(np.array([[1.0, -2.0, 0.0, math.log(3)]]))
    np.testing.assert_allclose(y.data, [[0.5, -2 * 0.75]], rtol=1e-15)


def test_hardtanh_gradient_is_zero_at_the_ends():
    x = ad.tensor([-1.0, -0.5, 1.0, 2.0], requires_grad=True)
    F.hardtanh(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0, 0.0])


def test_celu_gradient_at_zero_is_one_and_second_derivative_zero():
    x = ad.tensor(np.array([0.0, -1e-300]), requires_grad=True)
    (g,) = ad.gradients(F.celu(x, 3.0).sum(), [x], create_graph=True)
    assert g.data.tolist() == [1.0, 1.0]
    (g2,) = ad.gradients(g.sum(), [x])
    np.testing.assert_allclose(g2.data, [0.0, 1 / 3])  # PyTorch's: 0 at 0


def test_celu_tails():
    x = ad.tensor(np.array([-800.0, -40.0, -1e-12]), requires_grad=True)
    y = F.celu(x)
    np.testing.assert_allclose(y.data, [-1.0, np.expm1(-40.0), np.expm1(-1e-12)], rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data), rtol=1e-15)  # e^-40 to rounding


@pytest.mark.parametrize("fn", [lambda x: F.hardtanh(x, -0.7, 0.9), lambda x: F.celu(x, 0.7),
                                lambda x: F.glu(x, 0), lambda x: F.glu(x, dim=1)])
def test_gradcheck(fn):
    x = ad.tensor(np.random.default_rng(1).standard_normal((4, 6)), requires_grad=True)
    assert gradcheck(fn, x)
    assert gradgradcheck(fn, x)


def test_dtypes():
    for fn in (F.hardtanh, F.celu, F.glu):
        x = ad.tensor(np.linspace(-2, 2, 8, dtype=np.float32), requires_grad=True)
        y = fn(x)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
    assert F.hardtanh(np.array([1, 5, -3]), -2, 2).data.tolist() == [1, 2, -2]  # as PyTorch
    assert F.glu(np.ones((0, 4))).shape == (0, 2)


def test_modules():
    ht = nn.Hardtanh(-2.0, 3.0)
    assert repr(ht) == "Hardtanh(min_val=-2.0, max_val=3.0)" and repr(nn.Hardtanh()) == \
        "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert ht(np.array([-5.0, 5.0])).data.tolist() == [-2.0, 3.0]
    assert repr(nn.CELU(2.0)) == "CELU(alpha=2.0)"
    np.testing.assert_allclose(nn.CELU(2.0)(np.array([-2.0])).data, [2 * (math.exp(-1) - 1)])
    assert repr(nn.GLU()) == "GLU(axis=-1)" and nn.GLU(dim=0).axis == 0
    assert nn.GLU(0)(np.ones((4, 3))).shape == (2, 3)


def test_errors():
    with pytest.raises(ValueError, match=r"hardtanh: min_val must not be greater than max_val, "
                                         r"got min_val=2\.0 and max_val=1\.0"):
        F.hardtanh(np.ones(2), 2.0, 1.0)
    with pytest.raises(ValueError, match=r"Hardtanh: max_val must be greater than min_val, got "
                                         r"min_val=1\.0 and max_val=1\.0"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="celu: alpha must be nonzero"):
        F.celu(np.ones(2), 0.0)
    with pytest.raises(ValueError, match="celu: alpha must be nonzero"):
        nn.CELU(0.0)(np.ones(2))
    with pytest.raises(ValueError, match=r"glu: the halved axis must have an even size, but "
                                         r"axis 1 of shape \(2, 3\) has size 3"):
        F.glu(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="glu: needs a tensor of at least 1 dimension"):
        F.glu(np.ones(()))
    with pytest.raises(ValueError, match=r"glu: axis 2 is out of range for an input of shape "
                                         r"\(2, 4\)"):
        F.glu(np.ones((2, 4)), 2)
    with pytest.raises(TypeError, match="glu: got axis=0 and dim=1"):
        F.glu(np.ones((2, 4)), 0, dim=1)
    with pytest.raises(TypeError, match="GLU: got axis=0 and dim=1"):
        nn.GLU(0, dim=1)
