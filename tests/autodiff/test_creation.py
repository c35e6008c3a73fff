"""Making tensors from a tensor (zeros_like, ones_like, full_like, empty_like) through NumPy's
names, and the spaced-value functions that refuse tensor bounds (issue 14)."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import registry


@pytest.mark.parametrize("make, expected", [
    (lambda x: np.zeros_like(x), np.zeros((2, 3), np.float32)),
    (lambda x: np.ones_like(x, dtype=np.float64), np.ones((2, 3))),
    (lambda x: np.full_like(x, 0.5), np.full((2, 3), 0.5, np.float32)),
    (lambda x: np.full_like(x, ad.tensor(2.0), shape=(4,)), np.full(4, 2.0, np.float32)),
    (lambda x: np.empty_like(x, shape=(3, 1)), None),
    (lambda x: ad.zeros_like(x, np.int64), np.zeros((2, 3), np.int64)),
    (lambda x: ad.ones_like([[1, 2]]), np.ones((1, 2), int)),
])
def test_like_functions_reach_numpys_names_and_make_tensors_without_a_graph(make, expected):
    x = ad.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = make(x)
    assert isinstance(y, ad.Tensor) and not y.requires_grad and y.grad_fn is None
    if expected is None:  # empty_like: only the shape and dtype mean something
        assert y.shape == (3, 1) and y.dtype == np.float32
    else:
        assert y.dtype == expected.dtype
        np.testing.assert_array_equal(y.data, expected)


def test_like_functions_keep_the_dtype_and_take_requires_grad():
    x = ad.tensor(np.ones(2, np.float32), requires_grad=True)
    assert np.zeros_like(x).dtype == np.float32 and np.ones_like(x).dtype == np.float32
    assert ad.full_like(x, 3, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="full_like: fill_value is a tensor that requires grad"):
        np.full_like(x, x[0])
    with pytest.raises(ValueError, match="zeros_like: device must be 'cpu'"):
        ad.zeros_like(x, device="gpu")
    for op in ("zeros_like", "ones_like", "full_like", "empty_like"):
        assert not registry.OPS[op].differentiable


@pytest.mark.parametrize("func", [np.linspace, np.logspace, np.geomspace])
def test_spaced_values_with_tensor_bounds_raise_naming_the_function(func):
    for bound in (ad.tensor(1.0, requires_grad=True), ad.tensor(1.0)):
        with pytest.raises(TypeError, match=rf"np\.{func.__name__}: its bounds are tensors.*"
                                            r"\.item\(\)"):
            func(bound, 2.0, 5)
        with pytest.raises(TypeError, match=rf"np\.{func.__name__}"):
            func(0.5, bound)


def test_arange_with_tensor_bounds():
    with pytest.raises(TypeError, match=r"arange: its bounds are tensors.*\.item\(\)"):
        ad.arange(ad.tensor(3))
    # np.arange converts its bounds without asking the tensor's __array_function__: a tensor
    # that requires grad refuses to become an array there (it cannot be told apart).
    with pytest.raises(RuntimeError, match="cannot become a NumPy array"):
        np.arange(ad.tensor(3.0, requires_grad=True))
