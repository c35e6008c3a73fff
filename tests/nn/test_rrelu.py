"""rrelu and RReLU: evaluation equal to PyTorch's (a fixed slope (lower + upper) / 2), training
slopes drawn per element from [lower, upper) with autodiff's seeded generator and used by the
gradient (the same law as PyTorch's), finite differences, dtypes, errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

X = np.array([-5.0, -2.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 3.0])


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


@pytest.mark.parametrize("lower, upper", [(1 / 8, 1 / 3), (0.0, 1.0), (0.3, 0.3), (-0.5, 2.0)])
def test_evaluation_matches_pytorch(lower, upper):
    torch = _torch()
    v = np.random.default_rng(0).standard_normal(X.shape)
    t, a = torch.tensor(X, requires_grad=True), ad.tensor(X, requires_grad=True)
    ty = torch.nn.functional.rrelu(t, lower, upper)  # training=False by default, as ours
    y = F.rrelu(a, lower, upper)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-15, atol=1e-300)
    (ty * torch.tensor(v)).sum().backward()
    (y * v).sum().backward()
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-15, atol=1e-300)
    layer = nn.RReLU(lower, upper).eval()
    np.testing.assert_allclose(layer(ad.tensor(X)).data,
                               torch.nn.RReLU(lower, upper).eval()(torch.tensor(X)).numpy())


def test_training_law_is_pytorchs():
    """PyTorch's generator is not ours, so its draws differ; both outputs follow the same law:
    y = x for x > 0, y = a x with a in [lower, upper] for x <= 0, and the gradient is a."""
    torch = _torch()
    x = np.concatenate([-np.linspace(0.1, 3, 50), [0.0], np.linspace(0.1, 3, 50)])
    for y, grad in (_ours_in_training(x), _pytorchs_in_training(torch, x)):
        neg = x < 0
        np.testing.assert_array_equal(y[~neg], x[~neg])
        slopes = y[neg] / x[neg]
        assert ((slopes >= 0.2) & (slopes <= 0.6)).all() and np.unique(slopes).size > 40
        np.testing.assert_allclose(grad[neg], slopes, rtol=1e-14)
        np.testing.assert_array_equal(grad[x > 0], 1.0)
        assert 0.2 <= grad[x == 0][0] <= 0.6  # at 0: a drawn slope, not 1


def _ours_in_training(x):
    a = ad.tensor(x, requires_grad=True)
    y = F.rrelu(a, 0.2, 0.6, training=True)
    y.sum().backward()
    return y.data, a.grad.data


def _pytorchs_in_training(torch, x):
    t = torch.tensor(x, requires_grad=True)
    y = torch.nn.functional.rrelu(t, 0.2, 0.6, training=True)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def test_training_slopes_are_uniform_and_seeded():
    ad.manual_seed(3)
    y = F.rrelu(-np.ones(20000), 0.1, 0.5, training=True).data
    slopes = -y
    assert slopes.min() >= 0.1 and slopes.max() < 0.5
    assert abs(slopes.mean() - 0.3) < 5 * 0.4 / np.sqrt(12 * 20000)  # 5 standard errors
    assert abs(slopes.var() - 0.4 ** 2 / 12) < 1e-3
    ad.manual_seed(3)
    np.testing.assert_array_equal(F.rrelu(-np.ones(20000), 0.1, 0.5, training=True).data, y)


def test_closed_form_in_evaluation_and_layer_modes():
    y = F.rrelu(X, 0.2, 0.4)
    np.testing.assert_array_equal(y.data, np.where(X > 0, X, (0.2 + 0.4) / 2 * X))
    layer = nn.RReLU(0.2, 0.4)
    assert layer.training
    ad.manual_seed(0)
    drawn = layer(ad.tensor(X)).data
    assert not np.allclose(drawn[X < 0], 0.3 * X[X < 0])
    np.testing.assert_array_equal(layer.eval()(ad.tensor(X)).data, y.data)


@pytest.mark.parametrize("training", [False, True])
def test_gradcheck_and_gradgradcheck(training):
    x = ad.tensor(np.array([-1.3, -0.4, 0.7, 2.1]), requires_grad=True)

    def f(t):
        ad.manual_seed(1)  # the same slopes at every evaluation
        return F.rrelu(t, 0.1, 0.9, training=training)

    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


@pytest.mark.parametrize("training", [False, True])
def test_float32_stays_float32_and_empty_batch(training):
    a = ad.tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = F.rrelu(a, training=training)
    y.sum().backward()
    assert y.dtype == np.float32 and a.grad.dtype == np.float32
    assert F.rrelu(ad.zeros((0, 3)), training=training).shape == (0, 3)


def test_inplace_in_training_writes_the_drawn_result():
    base = ad.tensor(X, requires_grad=True)
    ad.manual_seed(2)
    expected = F.rrelu(base * 1.0, training=True)
    expected.sum().backward()
    grad, base.grad = base.grad.data.copy(), None
    y = base * 1.0
    ad.manual_seed(2)
    assert nn.RReLU(inplace=True)(y) is y
    np.testing.assert_array_equal(y.data, expected.data)
    y.sum().backward()
    np.testing.assert_array_equal(base.grad.data, grad)
    with pytest.raises(RuntimeError, match=r"rrelu\(inplace=True\): a leaf tensor"):
        F.rrelu(base, training=True, inplace=True)


@pytest.mark.parametrize("call, name", [(F.rrelu, "rrelu"), (F.rrelu_, "rrelu_"),
                                        (nn.RReLU, "RReLU")])
def test_bad_bounds_are_refused(call, name):
    args = (ad.tensor(X),) if call is not nn.RReLU else ()
    with pytest.raises(ValueError, match=rf"{name}: lower must not be greater than upper, got "
                                         r"lower=0\.5 and upper=0\.2"):
        call(*args, 0.5, 0.2)
    with pytest.raises(ValueError, match=rf"{name}: lower must be a finite number, got nan"):
        call(*args, float("nan"), 0.2)
    with pytest.raises(ValueError, match=rf"{name}: upper must be a finite number, got inf"):
        call(*args, 0.1, float("inf"))
    with pytest.raises(ValueError, match=rf"{name}: upper must be a finite number, got 'x'"):
        call(*args, 0.1, "x")


def test_repr_is_pytorchs():
    torch = _torch()
    assert repr(nn.RReLU()) == repr(torch.nn.RReLU())
    assert repr(nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))
