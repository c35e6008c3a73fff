"""gradcheck and gradgradcheck catch wrong gradients, in reverse and forward mode."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import GradcheckError, gradcheck, gradgradcheck


class HalfGradient(ad.Function):
    """x * x with a backward off by a factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x


class WrongSecond(ad.Function):
    """x ** 3 whose first derivative is right but recorded with a wrong second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ad.tensor(x.data ** 2)  # a constant: the second derivative is lost


X = ad.tensor([0.3, -0.7, 1.1], dtype="float64")


@pytest.mark.parametrize("mode, message", [("rev", "gradient check failed for input 0"),
                                           ("fwd", "forward-mode check failed")])
def test_a_wrong_first_derivative_is_caught_in_either_mode(mode, message):
    with pytest.raises(GradcheckError, match=message):
        gradcheck(HalfGradient.apply, X, modes=(mode,))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_a_wrong_second_derivative_is_caught_in_either_mode(mode):
    assert gradcheck(WrongSecond.apply, X, modes=("rev", "fwd"))
    with pytest.raises(GradcheckError, match="second-order"):
        gradgradcheck(WrongSecond.apply, X, modes=(mode,))


def test_right_gradients_pass_in_both_modes_with_several_inputs_and_outputs():
    def f(a, b):
        return a.tanh() * b, (a @ b.T).sum()

    a = ad.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
    b = ad.tensor(np.linspace(0.5, 2, 6).reshape(2, 3))
    assert gradcheck(f, a, b, modes=("rev", "fwd"))
    assert gradgradcheck(f, a, b, modes=("rev", "fwd"))


def test_modes_are_checked():
    with pytest.raises(ValueError, match="modes must be among 'rev' and 'fwd'"):
        gradcheck(lambda x: x, X, modes=("forward",))
