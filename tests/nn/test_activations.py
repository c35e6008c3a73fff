"""silu, mish, hardswish, relu6, selu, prelu, logsigmoid and their modules: values and
gradients equal to PyTorch's (float64, the kinks included), closed forms, finite differences
to second order; softmax's dim= alias."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

# the kinks (relu6 at 0 and 6, hardswish at -3 and 3, selu at 0), tails, and random points
POINTS = np.concatenate([[-800.0, -30.0, -6.0, -3.0, -2.5, -1e-10, 0.0, 1e-10, 1.0, 3.0, 6.0,
                          7.0, 25.0, 800.0], np.random.default_rng(0).standard_normal(20) * 4])
NAMES = ["silu", "mish", "hardswish", "relu6", "selu", "logsigmoid"]


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


@pytest.mark.parametrize("name", NAMES)
def test_activations_match_pytorch_values_and_gradients(name):
    torch = _torch()
    t = torch.tensor(POINTS, requires_grad=True)
    y = getattr(torch.nn.functional, name)(t)
    y.sum().backward()
    x = ad.tensor(POINTS, requires_grad=True)
    out = getattr(F, name)(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, y.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape, weight_shape", [((5, 3, 2), (3,)), ((5, 3), (1,)),
                                                 ((4,), (1,)), ((2, 3, 2, 2), (3,))])
def test_prelu_matches_pytorch(shape, weight_shape):
    torch = _torch()
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    x.flat[0] = 0.0
    w = rng.random(weight_shape)
    v = rng.standard_normal(shape)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.prelu(tx, tw)
    (ty * torch.tensor(v)).sum().backward()
    ax, aw = ad.tensor(x, requires_grad=True), ad.tensor(w, requires_grad=True)
    y = F.prelu(ax, aw)
    (y * v).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(aw.grad.data, tw.grad.numpy(), rtol=1e-14)


def test_closed_forms():
    x = np.array([-4.0, -3.0, -1.0, 0.0, 2.0, 3.0, 7.0])
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(F.silu(x).data, x * sig, rtol=1e-15)
    np.testing.assert_allclose(F.mish(x).data, x * np.tanh(np.log1p(np.exp(x))), rtol=1e-15)
    np.testing.assert_allclose(F.hardswish(x).data, x * np.clip(x + 3, 0, 6) / 6, rtol=1e-15)
    np.testing.assert_allclose(F.relu6(x).data, np.clip(x, 0, 6))
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(F.selu(x).data,
                               scale * np.where(x > 0, x, alpha * np.expm1(x)), rtol=1e-15)
    np.testing.assert_allclose(F.prelu(x, np.array([0.1])).data, np.where(x > 0, x, 0.1 * x))


def test_gradients_at_the_kinks_are_pytorchs():
    x = ad.tensor([-3.0, 3.0, 0.0, 6.0], requires_grad=True)
    F.hardswish(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1.0, 0.5, 1.0])  # outer pieces at +-3
    x.grad = None
    F.relu6(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1.0, 0.0, 0.0])  # 0 at 0 and at 6
    x.grad = None
    F.selu(x).sum().backward()
    assert x.grad.data[2] == pytest.approx(1.6732632423543772 * 1.0507009873554805)


@pytest.mark.parametrize("name", NAMES)
def test_second_order(name):
    x = ad.tensor(np.array([-2.0, -0.7, 0.4, 1.3, 2.2, 5.1]))  # away from the kinks
    assert gradcheck(getattr(F, name), x)
    assert gradgradcheck(getattr(F, name), x)


def test_prelu_second_order_and_errors():
    x = ad.tensor(np.random.default_rng(2).standard_normal((3, 2)) + 0.05)
    w = ad.tensor(np.array([0.2, 0.4]))
    assert gradcheck(F.prelu, x, w)
    assert gradgradcheck(F.prelu, x, w)
    with pytest.raises(ValueError, match=r"prelu: weight must hold 1 slope or one per channel "
                                         r"\(2 for input shape \(3, 2\)\), got weight shape "
                                         r"\(3,\)"):
        F.prelu(x, ad.ones(3))


def test_prelu_of_no_channels():
    """An input of 0 channels takes 0 slopes, as PyTorch's (the reshape to a scalar raised)."""
    x = ad.tensor(np.ones((2, 0, 3)), requires_grad=True)
    y = F.prelu(x, ad.ones(0))
    assert y.shape == (2, 0, 3)
    y.sum().backward()
    assert x.grad.shape == (2, 0, 3)


def test_modules():
    x = ad.tensor(np.linspace(-5, 5, 11))
    for module, fn in [(nn.SiLU(), F.silu), (nn.Mish(), F.mish), (nn.Hardswish(), F.hardswish),
                       (nn.ReLU6(), F.relu6), (nn.SELU(), F.selu),
                       (nn.LogSigmoid(), F.logsigmoid)]:
        np.testing.assert_array_equal(module(x).data, fn(x).data)
        assert repr(module) == f"{type(module).__name__}()"
    act = nn.PReLU(3, init=0.1)
    assert act.weight.tolist() == pytest.approx([0.1] * 3) and repr(act) == \
        "PReLU(num_parameters=3)"
    y = act(ad.ones((2, 3)) * -1)
    y.sum().backward()
    np.testing.assert_allclose(act.weight.grad.data, [-2.0, -2.0, -2.0])
    with pytest.raises(ValueError, match="PReLU: num_parameters must be at least 1, got 0"):
        nn.PReLU(0)


def test_softmax_takes_dim_as_axis():
    x = ad.tensor(np.random.default_rng(3).standard_normal((2, 3)))
    np.testing.assert_array_equal(F.softmax(x, dim=0).data, F.softmax(x, axis=0).data)
    np.testing.assert_array_equal(F.log_softmax(x, dim=1).data, F.log_softmax(x, 1).data)
    assert nn.LogSoftmax(dim=0).axis == 0
    with pytest.raises(TypeError, match="softmax: got axis=0 and dim=1; dim is PyTorch's name "
                                        "for axis, give one of them"):
        F.softmax(x, axis=0, dim=1)
    with pytest.raises(TypeError, match="Softmax: got axis=0 and dim=1"):
        nn.Softmax(0, dim=1)


def test_softplus_beta_zero_is_refused():
    """beta = 0 divides by zero (PyTorch returns inf everywhere); a negative beta is legal."""
    with pytest.raises(ValueError, match="softplus: beta must be nonzero"):
        F.softplus(ad.ones(3), beta=0)
    np.testing.assert_allclose(F.softplus(ad.tensor([1.0]), beta=-2.0).data,
                               [-np.log1p(np.exp(-2.0)) / 2], rtol=1e-6)
