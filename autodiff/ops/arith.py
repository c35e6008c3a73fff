"""Arithmetic: add, sub, mul, div, neg, pow, maximum, minimum (and comparisons, no grad),
and the operators + - * / ** (with their reflected forms) generated from one table.

Each backward is one line per input; the engine sums broadcast gradients back to shape.

>>> import autodiff as ad
>>> a = ad.tensor([1.0, 2.0], requires_grad=True)
>>> (a * a + 1 / a).sum().backward()
>>> a.grad
tensor([1.  , 3.75])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff.function import Function
from autodiff.ops._convert import binary, broadcast_check
from autodiff.ops.elementwise import log
from autodiff.ops.indexing import where
from autodiff.ops.registry import register, register_method
from autodiff.tensor import Tensor

__all__ = ["add", "div", "maximum", "minimum", "mul", "neg", "positive", "pow", "sub"]


class Add(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class Mul(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return grad * b if need_a else None, grad * a if need_b else None


class Div(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = grad / b if need_a else None
        gb = -grad * a / (b * b) if need_b else None
        return ga, gb


class Neg(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    @staticmethod
    def forward(ctx, a, p):
        out = a ** p
        ctx.save_for_backward(a, p, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, p, out = ctx.saved_tensors
        need_a, need_p = ctx.needs_input_grad
        ga = _base_grad(grad, a, p) if need_a else None
        gp = None
        if need_p:
            # d(a^p)/dp = a^p log a; 0 where a == 0 and p >= 0 (as PyTorch).
            zero = (a.data == 0) & (p.data >= 0)
            safe_a = where(zero, 1, a) if zero.any() else a
            gp = grad * out * log(safe_a)
        return ga, gp


def _base_grad(grad: Tensor, a: Tensor, p: Tensor) -> Tensor:
    """grad * p * a ** (p - 1), and 0 where p == 0 and a == 0 (PyTorch's value: 0 * 0 ** -1
    would be NaN). That rule applies again at every order, for the next backward differentiates
    a ** (p - 1), whose exponent reaches 0 in turn (x ** 3 at 0: 0, 0, 6, 0, ...). Where p is
    0 elsewhere the formula already gives 0, with the right mixed derivative d/dp = 1 / a."""
    zero = (p.data == 0) & (a.data == 0)
    if not zero.any():
        return grad * p * a ** (p - 1)
    # The double where: the unselected branch takes the exponent 1 there (a ** 1 = 0, finite),
    # so the zero gradient it gets never meets 0 ** -2 = inf in its own backward.
    return where(zero, 0, grad * p * a ** where(zero, 1, p - 1))


class Maximum(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        # Ties split the gradient evenly between the two inputs (as PyTorch).
        ctx.share = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(
            np.result_type(a, b))
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, grad * (1 - ctx.share)


class Minimum(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.share = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(
            np.result_type(a, b))
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, grad * (1 - ctx.share)


@register(np.add)
def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting as NumPy.

    >>> import autodiff as ad
    >>> ad.add(ad.tensor([[1.0], [2.0]]), ad.tensor([10.0, 20.0]))
    tensor([[11., 21.],
            [12., 22.]])
    """
    return binary(Add, np.add, a, b)


@register(np.subtract)
def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting as NumPy.

    >>> import autodiff as ad
    >>> ad.sub(5.0, ad.tensor([1.0, 2.0]))
    tensor([4., 3.])
    """
    return binary(Sub, np.subtract, a, b)


@register(np.multiply)
def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting as NumPy.

    >>> import autodiff as ad
    >>> a = ad.tensor([2.0, 3.0], requires_grad=True)
    >>> ad.mul(a, a).sum().backward()
    >>> a.grad
    tensor([4., 6.])
    """
    return binary(Mul, np.multiply, a, b)


@register(np.true_divide)
def div(a: Any, b: Any) -> Tensor:
    """a / b (true division; integer inputs give the default float dtype).

    >>> import autodiff as ad
    >>> ad.div(ad.tensor([1, 2]), 4)
    tensor([0.25, 0.5 ])
    """
    return binary(Div, np.true_divide, a, b, floats=True)


@register(np.negative, method="__neg__")
def neg(a: Any) -> Tensor:
    """-a.

    >>> import autodiff as ad
    >>> ad.neg(ad.tensor([1.0, -2.0]))
    tensor([-1.,  2.])
    """
    return Neg.apply(a if isinstance(a, Tensor) else Tensor(a))


@register(np.power)
def pow(a: Any, p: Any) -> Tensor:
    """a ** p; the exponent may be a tensor (then it gets a gradient too). The gradient
    p * a ** (p - 1) is 0 where p == 0 and a == 0, at every order (as PyTorch).

    >>> import autodiff as ad
    >>> (ad.tensor([2.0, 3.0]) ** 2).tolist()
    [4.0, 9.0]
    >>> ad.grad(ad.grad(ad.grad(lambda x: x ** 3)))(0.0)
    tensor(6.)
    """
    return binary(Pow, np.power, a, p)


@register(np.maximum, method=True)
def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; where a == b each input gets half the gradient (as PyTorch).

    >>> import autodiff as ad
    >>> a = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.maximum(a, 1.5).sum().backward()
    >>> a.grad
    tensor([0., 1.])
    """
    return binary(Maximum, np.maximum, a, b)


@register(np.minimum, method=True)
def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; where a == b each input gets half the gradient (as PyTorch).

    >>> import autodiff as ad
    >>> ad.minimum(ad.tensor([1.0, 5.0]), ad.tensor([2.0, 3.0]))
    tensor([1., 3.])
    """
    return binary(Minimum, np.minimum, a, b)


@register(np.positive, method="__pos__")
def positive(a: Any) -> Tensor:
    """+a: the tensor itself.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0])
    >>> ad.positive(x) is x
    True
    """
    return a if isinstance(a, Tensor) else Tensor(a)


@register(np.square, public=False)
def _square(x: Any) -> Tensor:
    return mul(x, x)


@register(np.reciprocal, public=False)
def _reciprocal(x: Any) -> Tensor:
    return div(1.0, x)


def _reflected(fn: Any, name: str) -> Any:
    """The reflected operator: `other (op) self`, for `2 - t` (t.__rsub__(2))."""

    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    reflected.__name__ = reflected.__qualname__ = name
    return reflected


# The operators, from one table: each calls the op itself, or with its operands swapped.
for _op, _name in ((add, "add"), (sub, "sub"), (mul, "mul"), (div, "truediv"), (pow, "pow")):
    register_method(f"__{_name}__", _op)
    register_method(f"__r{_name}__", _reflected(_op, f"__r{_name}__"))


def compare(ufunc: Callable[..., np.ndarray], a: Any, b: Any) -> Tensor:
    """A comparison (==, <, ...): a boolean tensor, never differentiable."""
    ad = a.data if isinstance(a, Tensor) else a
    bd = b.data if isinstance(b, Tensor) else b
    try:
        return Tensor._make(ufunc(ad, bd), None, 0)
    except ValueError:
        broadcast_check(ufunc.__name__, a, b)
        raise
