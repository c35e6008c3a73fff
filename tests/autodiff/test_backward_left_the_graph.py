"""Reverse over reverse (create_graph=True, grad of grad, hessian) through a user's Function
whose backward left the graph: an error naming the Function, never a second derivative with
terms missing. And no false alarm for a Function whose gradient is rightly a constant."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


class DetachedCube(ad.Function):
    """x^3 whose backward makes a new tensor of arrays: right first derivative, no second."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ad.tensor(3 * x.data ** 2 * grad.data)


class ArraySin(ad.Function):
    """sin whose backward returns a NumPy array."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.data * np.cos(x.data)


class Cube(ad.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class Double(ad.Function):
    """2x: its gradient 2 g does not depend on x, a constant under a constant seed."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)  # saved (and unused): the walk asks its backward again
        return 2 * x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class Scale(ad.Function):
    """x * w: w is a constant here, so the gradient of x, g w, is a constant; w's gradient
    leaves the graph, but w needs none."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad * w, ad.tensor(grad.data * x.data)


X = ad.tensor([1.0, 2.0], dtype="float64")


def _plus_square(fn):
    return lambda a: (fn(a) + a * a).sum()


def _gradients(f):
    x = X.clone().requires_grad_()
    return ad.gradients(f(x), x, create_graph=True)


def _backward(f):
    f(X.clone().requires_grad_()).backward(create_graph=True)


@pytest.mark.parametrize("fn, name", [(DetachedCube.apply, "detachedcube"),
                                      (ArraySin.apply, "arraysin")], ids=["tensor", "array"])
@pytest.mark.parametrize("transform", [
    lambda f: ad.hessian(f)(X),
    lambda f: ad.grad(lambda a: ad.grad(f)(a).sum())(X),
    lambda f: ad.jacobian(ad.grad(f))(X),
    _gradients,
    _backward,
], ids=["hessian", "grad-of-grad", "jacobian-of-grad", "gradients", "backward"])
def test_reverse_over_reverse_names_a_backward_that_left_the_graph(fn, name, transform):
    # Before: hessian of (x^3 + x^2).sum() gave diag(2, 2) (the 6x of x^3 missing), grad of
    # grad of x^3 gave [0, 0], backward(create_graph=True) a .grad without those terms.
    with pytest.raises(RuntimeError, match=rf"'{name}' \(\w+\).*input 0.*left the graph"):
        transform(_plus_square(fn))


def test_a_correct_function_has_its_second_derivatives():
    h = ad.hessian(_plus_square(Cube.apply))(X)
    np.testing.assert_array_equal(h.data, np.diag(6 * X.data + 2))
    x = X.clone().requires_grad_()
    _plus_square(Cube.apply)(x).backward(create_graph=True)
    x.grad.sum().backward()  # x.grad was 3x^2 + 2x: now x.grad + 6x + 2
    np.testing.assert_array_equal(x.grad.data, 3 * X.data ** 2 + 2 * X.data + 6 * X.data + 2)


def test_a_gradient_that_rightly_does_not_depend_on_the_inputs_is_no_error():
    np.testing.assert_array_equal(ad.hessian(lambda a: Double.apply(a).sum())(X).data,
                                  np.zeros((2, 2)))
    np.testing.assert_array_equal(ad.hessian(_plus_square(Double.apply))(X).data,
                                  2 * np.eye(2))
    w = ad.tensor([3.0, -1.0], dtype="float64")
    np.testing.assert_array_equal(
        ad.hessian(lambda a: (Scale.apply(a, w) * a).sum())(X).data, np.diag(2 * w.data))
    x = X.clone().requires_grad_()
    (g,) = ad.gradients(Scale.apply(x, w).sum(), x, create_graph=True)
    assert g.tolist() == [3.0, -1.0] and not g.requires_grad


def test_the_first_answer_is_kept_and_the_backward_asked_again_only_when_ambiguous():
    calls = []

    class CountedDouble(Double):
        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.requires_grad)
            return grad * 2

    x = X.clone().requires_grad_()
    (g,) = ad.gradients(CountedDouble.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 2.0] and not g.requires_grad
    assert calls == [False, True]  # the answer, then the probe
    calls.clear()
    ad.gradients(CountedDouble.apply(x).sum(), x)  # no create_graph: nothing to check
    assert calls == [False]


def test_a_class_is_asked_again_once_per_walk():
    calls = []

    class CountedDouble(Double):
        @staticmethod
        def backward(ctx, grad):
            calls.append(grad.requires_grad)
            return grad * 2

    x = X.clone().requires_grad_()
    (g,) = ad.gradients(CountedDouble.apply(CountedDouble.apply(x)).sum(), x,
                        create_graph=True)
    assert g.tolist() == [4.0, 4.0]
    assert calls == [False, True, False]  # the outer node, its probe, the inner node


class HalfLeftCube(ad.Function):
    """x^3 whose backward is linear in grad but takes 3 x^2 from NumPy: recorded through grad,
    left the graph through x (the second derivative 6 x g is lost)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ad.tensor(3 * x.data ** 2)


@pytest.mark.xfail(strict=True, reason="known hole (integration audit): the probe replaces only "
                   "the incoming gradients, and this backward's answer depends on them, so it "
                   "passes; it looks like a custom ReLU's `grad * ad.tensor(x.data > 0)`, which "
                   "is right. The hessian is silently 0 instead of diag(6x)")
def test_backward_linear_in_grad_but_left_the_graph_through_x():
    x = ad.tensor([0.5, -1.5, 2.0], dtype="float64")
    try:
        h = ad.hessian(lambda t: HalfLeftCube.apply(t).sum())(x)
    except RuntimeError:
        return  # refused: what a fix would do
    np.testing.assert_allclose(h.data, np.diag(6 * x.data))
