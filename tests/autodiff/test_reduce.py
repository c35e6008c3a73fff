"""argmax, argmin and argsort (autodiff/ops/reduce.py): integer tensors with no gradient,
reached as NumPy's functions and as Tensor methods through the op registry."""

import numpy as np
import pytest
from numpy.exceptions import AxisError

import autodiff as ad
from autodiff.ops import registry


def t64(values, requires_grad=True):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# -- argmax, argmin, argsort: integer tensors with no gradient ------------------------------


def test_positions_are_integer_tensors_without_gradient():
    x = t64([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]])
    for call, ref in [(lambda: np.argmax(x, axis=1), [0, 1]), (lambda: x.argmax(1), [0, 1]),
                      (lambda: ad.argmin(x), 3), (lambda: np.argmin(x, axis=0), [1, 0, 0]),
                      (lambda: np.argsort(x), [[1, 2, 0], [0, 1, 2]]),
                      (lambda: x.argsort(axis=None), [3, 1, 2, 0, 4, 5]),
                      (lambda: np.argsort(x, axis=0, stable=True), [[1, 0, 0], [0, 1, 1]])]:
        got = call()
        assert isinstance(got, ad.Tensor) and got.dtype.kind == "i"
        assert not got.requires_grad and got.tolist() == ref
    assert ad.argmax(x, axis=0, keepdims=True).shape == (1, 3)
    for name in ("argmax", "argmin", "argsort"):
        assert not registry.OPS[name].differentiable
        assert registry.NUMPY_FUNCTIONS[getattr(np, name)] is getattr(ad, name)
    with pytest.raises(ValueError, match="argsort: order="):
        ad.argsort(x, order="f")


@pytest.mark.parametrize("op", ["argmax", "argmin", "argsort"])
def test_a_bad_axis_raises_axis_error_naming_the_op(op):
    with pytest.raises(AxisError, match=rf"^{op}: axis 2 is out of bounds for array of "
                                        "dimension 2"):
        getattr(ad, op)(ad.ones((2, 3)), axis=2)
    # a 0-d tensor counts as 1-d, as in NumPy
    assert getattr(ad, op)(t64(5.0), axis=0).tolist() == getattr(np, op)(np.float64(5), axis=0)
