"""Forward mode (jvp, jacfwd, linearize, hessian(mode="fwd")) where it is built on a backward
that cannot carry it: never a silent zero or a finite guess, an error naming why."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck


class DetachedSquare(ad.Function):
    """x^2 with a backward that leaves the graph: right first derivative, no second."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ad.tensor(2 * x.data * grad.data)


class Round(ad.Function):
    """A step function: its backward is zero, a constant, and that is right."""

    @staticmethod
    def forward(ctx, x):
        return np.round(x)

    @staticmethod
    def backward(ctx, grad):
        return ad.zeros(grad.shape, dtype=grad.dtype)


X = ad.tensor([1.0, 2.0], dtype="float64")
V = ad.tensor([1.0, -0.5], dtype="float64")


@pytest.mark.parametrize("transform", [
    lambda: ad.jvp(DetachedSquare.apply, (X,), (V,)),
    lambda: ad.linearize(DetachedSquare.apply, X)[1](V),
    lambda: ad.jacfwd(DetachedSquare.apply)(X),
    lambda: ad.vjp(DetachedSquare.apply, X)[1](V.requires_grad_()),
], ids=["jvp", "linearize", "jacfwd", "vjp-differentiable-cotangent"])
def test_a_backward_that_left_the_graph_is_named_not_a_zero_tangent(transform):
    # Before: jvp returned the tangent [0, 0] (J v = [2, -2]), jacfwd zeros. (grad of grad
    # seeds a constant, so there the backward's incoming gradient does not require grad and
    # this check cannot see it: gradgradcheck below is what finds it.)
    with pytest.raises(RuntimeError, match=r"'detachedsquare' \(DetachedSquare\).*input 0.*left "
                                           r"the graph"):
        transform()


def test_the_kit_reports_a_backward_that_left_the_graph():
    assert gradcheck(DetachedSquare.apply, X)  # its first derivative is right
    with pytest.raises(RuntimeError, match="left the graph"):
        gradcheck(DetachedSquare.apply, X, modes=("fwd",))
    with pytest.raises(RuntimeError, match="left the graph"):
        gradgradcheck(DetachedSquare.apply, X)


def test_a_constant_backward_still_gives_zero_tangents():
    out, tangent = ad.jvp(Round.apply, (X,), (V,))
    assert out.tolist() == [1.0, 2.0] and tangent.tolist() == [0.0, 0.0]
    assert ad.jacfwd(Round.apply)(X).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_a_correct_custom_function_has_a_forward_mode():
    class Cube(ad.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    _, tangent = ad.jvp(Cube.apply, (X,), (V,))
    assert tangent.tolist() == [3.0, -6.0]
    assert gradcheck(Cube.apply, X, modes=("rev", "fwd"))
    assert gradgradcheck(Cube.apply, X, modes=("rev", "fwd"))


def test_forward_mode_through_eigenvalues_at_a_repeated_value_agrees_with_reverse_mode():
    # (The vectors at a tie raise in both modes: tests/autodiff/test_linalg_degenerate.py.)
    # Only the eigenvalues: no error either way, and J dA the same in both modes (whatever
    # convention the eigenvalues' gradient takes at the tie).
    a = ad.tensor(np.diag([1.0, 1.0, 3.0]), dtype="float64")
    da = ad.tensor([[0.5, 0.3, 0.0], [0.3, -1.0, 0.1], [0.0, 0.1, 2.0]], dtype="float64")
    _, tangent = ad.jvp(lambda m: ad.linalg.eigh(m)[0], (a,), (da,))
    reverse = ad.jacobian(lambda m: ad.linalg.eigh(m)[0])(a)
    np.testing.assert_allclose((reverse * da).sum(axis=(1, 2)).data, tangent.data, atol=1e-15)
    assert tangent.data[2] == 2.0


def test_an_integer_or_bool_output_gets_a_zero_tangent_of_its_dtype():
    # As torch.func.jvp; before, forward mode raised "only floating tensors can require grad".
    x = ad.tensor([1.0, 3.0, 2.0], dtype="float64")
    (_, i), (t, ti) = ad.jvp(lambda a: (a * 2, ad.argmax(a)), (x,), (x,))
    assert t.tolist() == [2.0, 6.0, 4.0] and ti.dtype == i.dtype and ti.item() == 0
    j = ad.jacfwd(ad.argmax)(x)
    assert j.dtype == i.dtype and j.tolist() == [0, 0, 0]
    assert ad.linearize(lambda a: a > 1, x)[1](x).tolist() == [False, False, False]
