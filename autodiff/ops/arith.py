"""Arithmetic: add, sub, mul, div, neg, pow, float_power, maximum, minimum, fmax, fmin,
remainder, fmod, floor_divide, divmod (and comparisons, no grad), and the operators
+ - * / ** % // divmod() (with their reflected forms) generated from one table.

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
from autodiff.ops.elementwise import STEP, Step, log
from autodiff.ops.indexing import where
from autodiff.ops.registry import register, register_method
from autodiff.ops.shape import astype
from autodiff.tensor import Tensor

__all__ = ["add", "div", "divmod", "float_power", "floor_divide", "fmax", "fmin", "fmod",
           "maximum", "minimum", "mul", "neg", "positive", "pow", "remainder", "sub"]


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
        # Each gradient needs only the other operand: keep only what a backward will read
        # (as PyTorch), so a later write into an operand without gradient (y[1:] = y[:-1] * 2)
        # does not make the backward refuse.
        edges = ctx._edges
        ctx.save_for_backward(a if edges[1] is not None else None,
                              b if edges[0] is not None else None)
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
        ctx.save_for_backward(a if ctx._edges[1] is not None else None, b)  # as Mul's
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
        # Ties split the gradient evenly between the two inputs (as PyTorch); a NaN is the
        # result, so it gets the gradient (a's when both are NaN, the one NumPy returns).
        ctx.share = np.where((a > b) | np.isnan(a), 1.0, np.where(a == b, 0.5, 0.0)).astype(
            np.result_type(a, b))
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, grad * (1 - ctx.share)


class Minimum(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.share = np.where((a < b) | np.isnan(a), 1.0, np.where(a == b, 0.5, 0.0)).astype(
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


@register(np.maximum, method=True, convention="1/2 to each input where a == b (as PyTorch); "
          "a NaN result's gradient to the NaN input (a when both are NaN)")
def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; where a == b each input gets half the gradient (as PyTorch).

    >>> import autodiff as ad
    >>> a = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.maximum(a, 1.5).sum().backward()
    >>> a.grad
    tensor([0., 1.])
    """
    return binary(Maximum, np.maximum, a, b)


@register(np.minimum, method=True, convention="1/2 to each input where a == b (as PyTorch); "
          "a NaN result's gradient to the NaN input (a when both are NaN)")
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


@register(np.float_power, convention="as pow's: d/da is 0 where a = 0 and p = 0, d/dp is 0 "
          "where a = 0 and p >= 0 (as PyTorch)")
def float_power(a: Any, p: Any) -> Tensor:
    """a ** p computed in float64, as NumPy's float_power: its result is float64 whatever the
    inputs' dtype, float32 included (NumPy's contract, and the one op whose float32 graph
    becomes float64 on purpose; each input's gradient keeps the input's dtype). Gradients as
    pow's.

    >>> import autodiff as ad
    >>> a = ad.tensor([2.0, 3.0], requires_grad=True)
    >>> y = ad.float_power(a, 2)
    >>> y.sum().backward()
    >>> y.dtype, a.grad
    (dtype('float64'), tensor([4., 6.]))
    """
    return pow(_in_float64(a), _in_float64(p))


def _in_float64(x: Any) -> Tensor:
    t = x if isinstance(x, Tensor) else Tensor(np.asarray(x))  # a Python number stays exact
    return t if t.dtype == np.float64 else astype(t, np.float64)


class Fmax(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        # NaN is ignored: the whole gradient goes to a where a >= b (ties included, as
        # PyTorch) or b is NaN, to b elsewhere.
        ctx.share = ((a >= b) | np.isnan(b)).astype(np.result_type(a, b))
        return np.fmax(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, grad * (1 - ctx.share)


@register(np.fmax, convention="a gets the whole gradient where a == b (as PyTorch), and where "
          "b is NaN")
def fmax(a: Any, b: Any) -> Tensor:
    """Elementwise maximum that ignores NaN (NumPy's fmax): a NaN loses to a number. Where
    a == b the whole gradient goes to a (as PyTorch's fmax; maximum splits it).

    >>> import autodiff as ad
    >>> a = ad.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    >>> y = ad.fmax(a, ad.tensor([1.0, 3.0, float("nan")]))
    >>> y.sum().backward()
    >>> y.tolist(), a.grad
    ([1.0, 3.0, 2.0], tensor([1., 0., 1.]))
    """
    return binary(Fmax, np.fmax, a, b)


class Fmin(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.share = ((a <= b) | np.isnan(b)).astype(np.result_type(a, b))
        return np.fmin(a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.share, grad * (1 - ctx.share)


@register(np.fmin, convention="a gets the whole gradient where a == b (as PyTorch), and where "
          "b is NaN")
def fmin(a: Any, b: Any) -> Tensor:
    """Elementwise minimum that ignores NaN (NumPy's fmin); ties give a the gradient.

    >>> import autodiff as ad
    >>> ad.fmin(ad.tensor([1.0, float("nan")]), ad.tensor([2.0, 3.0])).tolist()
    [1.0, 3.0]
    """
    return binary(Fmin, np.fmin, a, b)


class Remainder(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        # a - b floor(a / b): d/da = 1, d/db = -floor(a / b) (as PyTorch), the quotient from
        # NumPy's floor_divide, which agrees with its remainder.
        if ctx.needs_input_grad[1]:
            ctx.quotient = np.floor_divide(a, b)
        return np.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return grad if need_a else None, -grad * ctx.quotient if need_b else None


@register(np.remainder, convention="1 for a and -floor(a / b) for b, the right-hand limit at the "
          "jumps (as PyTorch)")
def remainder(a: Any, b: Any) -> Tensor:
    """a mod b with the sign of b, as Python's % (NumPy's remainder, also np.mod, and the `%`
    operator). Gradients: 1 for a, -floor(a / b) for b.

    >>> import autodiff as ad
    >>> b = ad.tensor([0.75, -0.75], requires_grad=True)
    >>> y = ad.tensor([2.0, 2.0]) % b
    >>> y.sum().backward()
    >>> y.tolist(), b.grad
    ([0.5, -0.25], tensor([-2.,  3.]))
    """
    return binary(Remainder, np.remainder, a, b)


class Fmod(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        # a - b trunc(a / b): d/da = 1, d/db = -trunc(a / b) (as PyTorch), the quotient fmod
        # took, recovered exactly from its result (trunc(1 / 0.1) is 10, fmod took 9).
        out = np.fmod(a, b)
        if ctx.needs_input_grad[1]:
            ctx.quotient = np.rint((a - out) / b)
        return out

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return grad if need_a else None, -grad * ctx.quotient if need_b else None


@register(np.fmod, convention="1 for a and -trunc(a / b) for b, the quotient fmod took (as "
          "PyTorch)")
def fmod(a: Any, b: Any) -> Tensor:
    """a mod b with the sign of a, as C's fmod (NumPy's fmod). Gradients: 1 for a,
    -trunc(a / b) for b.

    >>> import autodiff as ad
    >>> b = ad.tensor([0.75, -0.75], requires_grad=True)
    >>> y = ad.fmod(ad.tensor([-2.0, 2.0]), b)
    >>> y.sum().backward()
    >>> y.tolist(), b.grad
    ([-0.5, 0.5], tensor([2., 2.]))
    """
    return binary(Fmod, np.fmod, a, b)


class FloorDivide(Step):
    name = "floor_divide"

    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a, b)


@register(np.floor_divide, convention=STEP)
def floor_divide(a: Any, b: Any) -> Tensor:
    """floor(a / b), as Python's // (NumPy's floor_divide, and the `//` operator); a step
    function, its gradient is 0 for both inputs.

    >>> import autodiff as ad
    >>> (ad.tensor([7.0, -7.0]) // 2).tolist()
    [3.0, -4.0]
    """
    return binary(FloorDivide, np.floor_divide, a, b)


@register(np.divmod, convention="floor_divide's (0) and remainder's")
def divmod(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """(a // b, a % b), as Python's divmod (NumPy's divmod): floor_divide and remainder.

    >>> import autodiff as ad
    >>> q, r = ad.divmod(ad.tensor([7.0, -7.0]), 2)
    >>> q.tolist(), r.tolist()
    ([3.0, -4.0], [1.0, 1.0])
    """
    return floor_divide(a, b), remainder(a, b)


def _reflected(fn: Any, name: str) -> Any:
    """The reflected operator: `other (op) self`, for `2 - t` (t.__rsub__(2))."""

    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    reflected.__name__ = reflected.__qualname__ = name
    return reflected


# The operators, from one table: each calls the op itself, or with its operands swapped.
for _op, _name in ((add, "add"), (sub, "sub"), (mul, "mul"), (div, "truediv"), (pow, "pow"),
                   (remainder, "mod"), (floor_divide, "floordiv"), (divmod, "divmod")):
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
