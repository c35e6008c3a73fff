"""NumPy functions on tensors: differentiable where the op exists, a TypeError otherwise."""

import numpy as np
import pytest

import autodiff as ad


def test_asarray_and_facts():
    t = ad.tensor([[1.0, 2.0]])
    assert isinstance(np.asarray(t), np.ndarray) and np.shape(t) == (1, 2) and np.ndim(t) == 2
    assert np.allclose(t, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_ufuncs_and_functions_are_differentiable():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    ys = [np.exp(x), np.log(x), np.sqrt(x), np.tanh(x), np.abs(x), np.sin(x),
          np.sum(x, axis=0), np.mean(x), np.max(x), np.matmul(x, x), np.concatenate([x, x]),
          np.stack([x, x]), np.reshape(x, (2, 1)), np.transpose(x), np.where(x.data > 0.7, x, 0),
          np.clip(x, 0, 0.8), np.maximum(x, 0.7), x + np.ones(2), np.ones(2) * x]
    for y in ys:
        assert isinstance(y, ad.Tensor) and y.requires_grad
    np.exp(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.5, 1.0]), rtol=1e-6)


def test_unsupported_raise_a_clear_type_error():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.cumsum is not supported"):
        np.cumsum(x)
    with pytest.raises(TypeError, match="not supported"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match="not supported"):
        np.exp(x, out=np.empty(2))
    with pytest.raises(TypeError, match="not supported"):
        np.arctan(x)


def test_non_differentiable_ufuncs_return_boolean_tensors():
    x = ad.tensor([1.0, np.nan])
    assert np.isnan(x).data.tolist() == [False, True]
