"""softmax and log_softmax take PyTorch's `dtype=`: the input is cast first, by a recorded
cast, so the result has that dtype and the gradient comes back in the input's."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_cast_first_gradient_in_the_input_dtype(op):
    x32 = np.array([[1.0, 2.0, 30.0], [0.5, -1.0, 0.0]], np.float32)
    x = ad.tensor(x32, requires_grad=True)
    y = op(x, dim=1, dtype=np.float64)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.data, op(ad.tensor(x32.astype(np.float64)), axis=1).data)
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert op(x, dtype="float32").dtype == np.float32


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax])
def test_gradients_to_second_order(op):
    x = ad.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: op(t, axis=0, dtype=np.float64), x)
    assert gradgradcheck(lambda t: op(t, axis=0, dtype=np.float64), x)


def test_a_dtype_that_is_not_floating_is_refused_by_name():
    with pytest.raises(TypeError, match="softmax: dtype=int32 is not supported"):
        F.softmax(ad.ones(3), dtype="int32")
    with pytest.raises(TypeError, match=r"log_softmax: dtype=.* is not a NumPy dtype"):
        F.log_softmax(ad.ones(3), dtype=object())


def test_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        t = torch.tensor(x, requires_grad=True)
        expected = getattr(torch.nn.functional, name)(t, dim=0, dtype=torch.float64)
        ours = ad.tensor(x, requires_grad=True)
        got = getattr(F, name)(ours, dim=0, dtype=np.float64)
        np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-14)
        g = np.random.default_rng(2).standard_normal((3, 4))
        expected.backward(torch.tensor(g))
        got.backward(ad.tensor(g))
        np.testing.assert_allclose(ours.grad.data, t.grad.numpy(), rtol=1e-6)
