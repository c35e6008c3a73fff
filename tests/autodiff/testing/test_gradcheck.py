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


# -- empty and 0-d inputs and outputs: a Jacobian with no columns is (out.size, 0) -------------

EMPTY_AND_0D = {  # name: (function, input arrays)
    "sum of an empty axis": (lambda x: x.sum(axis=1), [np.zeros((1, 0))]),
    "sum over a (0, 2)": (lambda x: x.sum(axis=0), [np.zeros((0, 2))]),
    "sum of everything, empty": (lambda x: x.sum(), [np.zeros((0, 2))]),
    "exp, empty": (ad.exp, [np.zeros((1, 0))]),
    "an empty slice": (lambda x: x[1:1], [np.arange(3.0)]),
    "an empty column slice": (lambda x: x[:, :0], [np.ones((2, 3))]),
    "tile 0 times": (lambda x: ad.tile(x, 0), [np.ones(3)]),
    "broadcast with an empty input": (lambda x, y: x * y, [np.ones((1,)), np.zeros((0,))]),
    "0-d": (lambda x: x.exp() * x, [np.array(0.3)]),
    "0-d to a vector": (lambda x: x * ad.tensor([1.0, 2.0], dtype="float64"), [np.array(0.3)]),
}


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name", list(EMPTY_AND_0D))
def test_empty_and_0d_inputs_and_outputs_pass(name, mode, check):
    """The numeric Jacobian with respect to an empty input (or the empty cotangent of an empty
    output, in gradgradcheck) has out.size rows, as the analytic one: it had none."""
    f, xs = EMPTY_AND_0D[name]
    assert check(f, *[ad.tensor(x) for x in xs], modes=(mode,))


def test_a_wrong_gradient_beside_an_empty_input_is_still_caught():
    with pytest.raises(GradcheckError, match="gradient check failed for input 1"):
        gradcheck(lambda e, x: HalfGradient.apply(x) + e.sum(), ad.tensor(np.zeros((2, 0))), X)


def test_a_failure_at_a_kink_or_a_jump_says_so():
    # relu at 0: the central difference is 0.5, the average of the slopes 0 and 1.
    with pytest.raises(GradcheckError, match=r"one-sided slopes there differ \(left 0, right 1\)"
                                             r".*kink or a jump"):
        gradcheck(ad.relu, ad.tensor([0.0, 1.0], dtype="float64"))
    with pytest.raises(GradcheckError, match=r"left 1e\+06, right 0"):
        gradcheck(ad.floor, ad.tensor([0.5, 1.0], dtype="float64"))


def test_a_wrong_gradient_at_a_smooth_point_gets_no_kink_hint():
    with pytest.raises(GradcheckError) as e:
        gradcheck(HalfGradient.apply, X)
    assert "one-sided" not in str(e.value) and "dtype" not in str(e.value)


def test_a_function_computing_in_float32_is_told_so():
    # The inputs are copied to float64; a cast inside makes the central differences noise
    # (0.238 for 0.27), which said nothing of why before.
    with pytest.raises(GradcheckError, match="Output 0 has dtype float32 although the inputs "
                                             "were copied to float64") as e:
        gradcheck(lambda x: (x.astype(np.float32) ** 3).sum(), X)
    assert "one-sided" not in str(e.value)  # float32 rounding steps are not kinks
    with pytest.raises(GradcheckError, match="dtype float32"):
        gradcheck(lambda x: (x.astype(np.float32) ** 3).sum(), X, modes="fwd")


def test_modes_may_be_one_string_and_python_numbers_are_explained():
    assert gradcheck(lambda x: x.sin(), X, modes="fwd")  # was ('f', 'w', 'd'): an error
    with pytest.raises(GradcheckError, match="forward-mode"):
        gradcheck(HalfGradient.apply, X, modes="fwd")
    with pytest.raises(ValueError, match=r"Python numbers .* constants"):
        gradcheck(lambda x: x * 2, 1.5)


def _draw(strategy, dtype, check):
    from hypothesis import given, settings

    @settings(max_examples=15, deadline=None, database=None)
    @given(strategy)
    def draw(x):
        assert x.dtype == dtype and x.ndim <= 2 and check(x)

    draw()


def test_the_strategies_draw_what_they_promise_for_every_dtype():
    from autodiff.testing import shapes, tensors  # shapes: the docs table promised it here

    checks = {np.uint8: lambda x: (x.data >= 0).all() and (x.data <= 10).all(),
              np.int16: lambda x: (np.abs(x.data) <= 10).all(),
              np.bool_: lambda x: x.data.dtype == np.bool_,
              np.float16: lambda x: np.isfinite(x.data).all() and (np.abs(x.data) <= 10).all(),
              np.float32: lambda x: np.isfinite(x.data).all() and (np.abs(x.data) <= 10).all()}
    for dtype, check in checks.items():  # uint8 and bool raised inside hypothesis before
        _draw(tensors(shape=shapes(max_dims=2), dtype=dtype), dtype, check)
    with pytest.raises(ValueError, match="requires_grad=True needs a floating dtype, got int64"):
        tensors(dtype=np.int64, requires_grad=True)
    with pytest.raises(ValueError, match="dtype must be floating, integer or bool"):
        tensors(dtype=np.complex128)


@pytest.mark.parametrize("modes", ["rev", "fwd"])
def test_a_function_that_is_nan_everywhere_fails(modes):
    # sqrt(x - 10) at x < 10: value, gradient and central difference all NaN. Before, NaN
    # matched NaN and gradcheck returned True (PyTorch's raises).
    with np.errstate(invalid="ignore"), pytest.raises(GradcheckError, match="A NaN never matches"):
        gradcheck(lambda x: ad.sqrt(x - 10), X, modes=modes)
    with np.errstate(invalid="ignore"), pytest.raises(GradcheckError, match="NaN never matches"):
        gradgradcheck(lambda x: ad.sqrt(x - 10), X, modes=modes)


def test_pytorchs_raise_exception_and_tuple_of_inputs():
    assert gradcheck(HalfGradient.apply, X, raise_exception=False) is False
    assert gradgradcheck(WrongSecond.apply, X, raise_exception=False) is False
    assert gradcheck(lambda a, b: a * b, (X, X + 1))  # torch.autograd.gradcheck(f, (a, b))
    assert gradgradcheck(lambda a, b: a * b.sin(), (X, X + 1))
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * HalfGradient.apply(b), (X, X + 1))


def test_outputs_may_be_a_dict_or_nested():
    def f(x):
        return {"sin": x.sin(), "pair": (x * x, HalfGradient.apply(x))}

    # (before: "output 0 of the function is a dict, not a Tensor")
    with pytest.raises(GradcheckError, match="output 2"):
        gradcheck(f, X, modes=("rev", "fwd"))
    assert gradcheck(lambda x: {"a": x.sin(), "b": [x.exp()]}, X, modes=("rev", "fwd"))
    assert gradgradcheck(lambda x: {"a": x.sin(), "b": [x.exp()]}, X, modes=("rev", "fwd"))
