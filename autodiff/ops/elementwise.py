"""Elementwise functions of one array, or two that broadcast together: exp, log, sqrt, abs,
tanh, sin, cos, clip; NumPy's other math ufuncs (log1p, expm1, log2, log10, exp2, the
trigonometric and hyperbolic functions and their inverses, arctan2, hypot, logaddexp,
logaddexp2, sinc, cbrt, copysign, deg2rad, rad2deg); the step functions (sign, floor, ceil,
round, rint, trunc, heaviside), whose gradient is 0; and real, imag, conj of a real tensor.

Each forward is NumPy's own function, so values are NumPy's to the last bit (log1p, expm1,
logaddexp, hypot keep their accuracy); each backward is written so that it neither overflows
nor loses digits where the forward does not. Where the math has no derivative (a jump, a
pole, the origin of arctan2) the gradient is PyTorch's, named in the op's `convention`.

>>> import autodiff as ad
>>> x = ad.tensor([0.0, 1.0], requires_grad=True)
>>> x.exp().sum().backward()
>>> x.grad
tensor([1.      , 2.718282])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from autodiff.dtypes import get_default_dtype
from autodiff.function import Function
from autodiff.ops._convert import as_tensor, binary
from autodiff.ops.indexing import where
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
           "cbrt", "ceil", "clip", "conj", "copysign", "cos", "cosh", "deg2rad", "exp", "exp2",
           "expm1", "floor", "heaviside", "hypot", "imag", "log", "log1p", "log2", "log10",
           "logaddexp", "logaddexp2", "rad2deg", "real", "rint", "round", "sign", "sin", "sinc",
           "sinh", "sqrt", "tan", "tanh", "trunc"]

LN2 = float(np.log(2))
LN10 = float(np.log(10))


class Exp(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Abs(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        # d|x|/dx = sign(x), 0 at 0 (as PyTorch)
        return grad * ctx.sign


class Tanh(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Clip(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x, *, lo, hi):
        # The gradient passes where lo <= x <= hi, bounds included (as PyTorch's clamp).
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        ctx.inside = inside.astype(x.dtype)
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.inside


@register(np.exp, method=True)
def exp(x: Any) -> Tensor:
    """e ** x, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> ad.exp(x).sum().backward()
    >>> x.grad
    tensor([1.      , 2.718282])
    """
    return Exp.apply(as_tensor(x))


@register(np.log, method=True)
def log(x: Any) -> Tensor:
    """Natural logarithm, elementwise (-inf at 0, nan below).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 4.0], requires_grad=True)
    >>> ad.log(x).sum().backward()
    >>> x.grad
    tensor([1.  , 0.25])
    """
    return Log.apply(as_tensor(x))


@register(np.sqrt, method=True)
def sqrt(x: Any) -> Tensor:
    """Square root, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([4.0], requires_grad=True)
    >>> ad.sqrt(x).sum().backward()
    >>> x.grad
    tensor([0.25])
    """
    return Sqrt.apply(as_tensor(x))


@register(np.absolute, method=[True, "__abs__"])
def abs(x: Any) -> Tensor:
    """|x|, elementwise; its gradient at 0 is 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> ad.abs(x).sum().backward()
    >>> x.grad
    tensor([-1.,  0.,  1.])
    """
    x = as_tensor(x)
    if x.dtype == bool:  # NumPy's abs of booleans is themselves (they have no sign)
        return Tensor._make(np.abs(x.data), None, 0)
    return Abs.apply(x)


@register(np.tanh, method=True)
def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> ad.tanh(x).sum().backward()
    >>> x.grad
    tensor([1.])
    """
    return Tanh.apply(as_tensor(x))


@register(np.sin, method=True)
def sin(x: Any) -> Tensor:
    """Sine, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> ad.sin(x).sum().backward()
    >>> x.grad
    tensor([1.])
    """
    return Sin.apply(as_tensor(x))


@register(np.cos, method=True)
def cos(x: Any) -> Tensor:
    """Cosine, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.5], requires_grad=True)
    >>> ad.cos(x).sum().backward()
    >>> x.grad
    tensor([-0.47942555])
    """
    return Cos.apply(as_tensor(x))


@register(np.clip, method=True, convention="the gradient passes to x where min <= x <= max, "
          "bounds included; to a bound that requires grad where it is the value (min where "
          "x < min < max, max where x > max or max < min), as PyTorch's clamp")
def clip(a: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None,
         max: Any = None) -> Tensor:
    """Limit values to [min, max] (NumPy's clip, PyTorch's clamp); either bound may be None
    (both None: a copy, as NumPy 2). The bounds go by NumPy's names, positional `a_min`,
    `a_max` or NumPy 2.1's keywords `min`, `max` (not both kinds), and broadcast with `a`;
    where min > max the result is max. A bound that requires grad gets its gradient.

    >>> import autodiff as ad
    >>> ad.clip(ad.tensor([-2.0, 0.5, 3.0]), -1, 1).tolist()
    [-1.0, 0.5, 1.0]
    >>> ad.tensor([-2.0, 0.5, 3.0]).clip(max=1).tolist()
    [-2.0, 0.5, 1.0]
    """
    if (a_min is not None or a_max is not None) and (min is not None or max is not None):
        raise ValueError("clip: give the bounds as a_min, a_max or as min, max, not both")
    lo, hi = (a_min, a_max) if a_min is not None or a_max is not None else (min, max)
    x = as_tensor(a)
    if lo is None and hi is None:
        return x.copy()
    if any(isinstance(b, Tensor) and b.requires_grad for b in (lo, hi)):
        xd = x.data
        lod = np.asarray(-np.inf if lo is None else lo.data if isinstance(lo, Tensor) else lo)
        hid = np.asarray(np.inf if hi is None else hi.data if isinstance(hi, Tensor) else hi)
        out = where((xd >= lod) & (xd <= hid), x, np.clip(xd, lod, hid))
        if lo is not None:  # the value where x < min < max
            out = where((xd < lod) & (lod < hid), lo, out)
        if hi is not None:  # the value where x > max, and wherever max < min
            out = where((xd > hid) | (hid < lod), hi, out)
        return out
    lo = None if lo is None else lo.data if isinstance(lo, Tensor) else lo
    hi = None if hi is None else hi.data if isinstance(hi, Tensor) else hi
    x = _float_for_float_bounds(x, lo, hi)
    dt = x.data.dtype
    lo = None if lo is None else np.asarray(lo, dt)
    hi = None if hi is None else np.asarray(hi, dt)
    return Clip.apply(x, lo=lo, hi=hi)


def _float_for_float_bounds(x: Tensor, lo: Any, hi: Any) -> Tensor:
    """An integer or boolean `x` clipped to a fractional bound becomes floating, as in a binary
    op (a float array's dtype, else the default dtype), instead of the bound being truncated to
    x's dtype: clip([2, 3], 0.5, 2.5) is [2.0, 2.5], as NumPy's and PyTorch's."""
    if x.data.dtype.kind == "f":
        return x
    floats = [np.asarray(b) for b in (lo, hi) if b is not None]
    floats = [b for b in floats if b.dtype.kind == "f"]
    if not floats:
        return x
    arrays = [b.dtype for b in floats if b.ndim]
    dt = np.result_type(*arrays) if arrays else get_default_dtype()
    return Tensor._make(x.data.astype(dt), None, 0)


# -- NumPy's math ufuncs of one array: its value, and one backward formula each ---------------


class Log1p(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)  # inf at -1 (as PyTorch)


@register(np.log1p)
def log1p(x: Any) -> Tensor:
    """log(1 + x), accurate for tiny x (NumPy's log1p).

    >>> import autodiff as ad
    >>> x = ad.tensor([1e-10, 1.0], dtype="float64", requires_grad=True)
    >>> ad.log1p(x).sum().backward()
    >>> ad.log1p(x).tolist()[0], x.grad.tolist()
    (9.9999999995e-11, [0.9999999999, 0.5])
    """
    return Log1p.apply(as_tensor(x))


class Expm1(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.expm1(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.exp(x)  # not out + 1: that rounds e^x to 0 for x below about -37


@register(np.expm1)
def expm1(x: Any) -> Tensor:
    """e ** x - 1, accurate for tiny x (NumPy's expm1).

    >>> import autodiff as ad
    >>> ad.expm1(ad.tensor([1e-10], dtype="float64")).tolist()
    [1.00000000005e-10]
    """
    return Expm1.apply(as_tensor(x))


class Log2(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * LN2)


@register(np.log2)
def log2(x: Any) -> Tensor:
    """Base-2 logarithm, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([8.0], requires_grad=True)
    >>> ad.log2(x).sum().backward()
    >>> ad.log2(x).tolist(), x.grad
    ([3.0], tensor([0.18033688]))
    """
    return Log2.apply(as_tensor(x))


class Log10(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (x * LN10)


@register(np.log10)
def log10(x: Any) -> Tensor:
    """Base-10 logarithm, elementwise.

    >>> import autodiff as ad
    >>> ad.log10(ad.tensor([1000.0])).tolist()
    [3.0]
    """
    return Log10.apply(as_tensor(x))


class Exp2(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * LN2


@register(np.exp2)
def exp2(x: Any) -> Tensor:
    """2 ** x, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([3.0], requires_grad=True)
    >>> ad.exp2(x).sum().backward()
    >>> ad.exp2(x).tolist(), x.grad
    ([8.0], tensor([5.5451775]))
    """
    return Exp2.apply(as_tensor(x))


class Tan(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)


@register(np.tan)
def tan(x: Any) -> Tensor:
    """Tangent, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> ad.tan(x).sum().backward()
    >>> x.grad
    tensor([1.])
    """
    return Tan.apply(as_tensor(x))


class Arcsin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / sqrt((1 - x) * (1 + x))  # (1 - x)(1 + x): no digit lost near |x| = 1


@register(np.arcsin, convention="inf at x = -1 and 1 (as PyTorch); nan outside [-1, 1]")
def arcsin(x: Any) -> Tensor:
    """Inverse sine, elementwise (nan outside [-1, 1]); the gradient is inf at -1 and 1.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> ad.arcsin(x).sum().backward()
    >>> x.grad
    tensor([ 1., inf])
    """
    return Arcsin.apply(as_tensor(x))


class Arccos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / sqrt((1 - x) * (1 + x))


@register(np.arccos, convention="-inf at x = -1 and 1 (as PyTorch); nan outside [-1, 1]")
def arccos(x: Any) -> Tensor:
    """Inverse cosine, elementwise (nan outside [-1, 1]); the gradient is -inf at -1 and 1.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, -1.0], requires_grad=True)
    >>> ad.arccos(x).sum().backward()
    >>> x.grad
    tensor([ -1., -inf])
    """
    return Arccos.apply(as_tensor(x))


class Arctan(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)


@register(np.arctan)
def arctan(x: Any) -> Tensor:
    """Inverse tangent, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0], requires_grad=True)
    >>> ad.arctan(x).sum().backward()
    >>> x.grad
    tensor([0.5])
    """
    return Arctan.apply(as_tensor(x))


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * cosh(x)


@register(np.sinh)
def sinh(x: Any) -> Tensor:
    """Hyperbolic sine, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0], requires_grad=True)
    >>> ad.sinh(x).sum().backward()
    >>> x.grad
    tensor([1.])
    """
    return Sinh.apply(as_tensor(x))


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sinh(x)


@register(np.cosh)
def cosh(x: Any) -> Tensor:
    """Hyperbolic cosine, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 1.0], requires_grad=True)
    >>> ad.cosh(x).sum().backward()
    >>> x.grad
    tensor([0.       , 1.1752012])
    """
    return Cosh.apply(as_tensor(x))


class Arcsinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / hypot(x, 1)  # 1 / sqrt(x^2 + 1), with no overflow in x^2


@register(np.arcsinh)
def arcsinh(x: Any) -> Tensor:
    """Inverse hyperbolic sine, elementwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 1e30], requires_grad=True)
    >>> ad.arcsinh(x).sum().backward()
    >>> x.grad
    tensor([1.e+00, 1.e-30])
    """
    return Arcsinh.apply(as_tensor(x))


class Arccosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (sqrt(x - 1) * sqrt(x + 1))  # 1 / sqrt(x^2 - 1): exact near 1, no overflow


@register(np.arccosh, convention="inf at x = 1 (as PyTorch); nan below 1")
def arccosh(x: Any) -> Tensor:
    """Inverse hyperbolic cosine, elementwise (nan below 1); the gradient is inf at 1.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.arccosh(x).sum().backward()
    >>> x.grad
    tensor([       inf, 0.57735026])
    """
    return Arccosh.apply(as_tensor(x))


class Arctanh(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ((1 - x) * (1 + x))


@register(np.arctanh, convention="inf at x = -1 and 1 (as PyTorch); outside [-1, 1] the value "
                                "is nan (NumPy) and the gradient 1 / (1 - x^2), as PyTorch's")
def arctanh(x: Any) -> Tensor:
    """Inverse hyperbolic tangent, elementwise (±inf at ±1, nan beyond).

    >>> import autodiff as ad
    >>> x = ad.tensor([0.5], requires_grad=True)
    >>> ad.arctanh(x).sum().backward()
    >>> x.grad
    tensor([1.3333334])
    """
    return Arctanh.apply(as_tensor(x))


class Sinc(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.sinc(x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        # sinc'(x) = (cos(pi x) - sinc(x)) / x loses digits near 0, so below |x| = eps^(1/6) it
        # is its series -pi^2 x / 3 + pi^4 x^3 / 30: relative error under eps^(2/3) either
        # side, 0 at 0 (as PyTorch), and the right second derivative there, -pi^2 / 3.
        small = np.abs(x.data) < np.finfo(x.dtype).eps ** (1 / 6)
        if not small.any():
            return grad * (cos(np.pi * x) - out) / x
        safe = where(small, 1, x)  # the other branch never sees 0 (no 0 / 0 in its gradient)
        series = x * x * x * (np.pi ** 4 / 30) - x * (np.pi ** 2 / 3)
        return grad * where(small, series, (cos(np.pi * safe) - out) / safe)


@register(np.sinc, convention="0 at x = 0 (as PyTorch), with its second derivative -pi^2 / 3")
def sinc(x: Any) -> Tensor:
    """The normalized sinc, sin(pi x) / (pi x), and 1 at 0 (NumPy's sinc).

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 0.5], requires_grad=True)
    >>> ad.sinc(x).sum().backward()
    >>> x.grad
    tensor([ 0.       , -1.2732396])
    """
    return Sinc.apply(as_tensor(x))


class Cbrt(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.cbrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (3 * out * out)


@register(np.cbrt, convention="inf at x = 0, the derivative's limit (as JAX; PyTorch has no "
          "cbrt)")
def cbrt(x: Any) -> Tensor:
    """Cube root, elementwise (negative for negative x); the gradient is inf at 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([-8.0, 0.0], requires_grad=True)
    >>> ad.cbrt(x).sum().backward()
    >>> ad.cbrt(x).tolist(), x.grad
    ([-2.0, 0.0], tensor([0.08333334,        inf]))
    """
    return Cbrt.apply(as_tensor(x))


class Deg2rad(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return np.deg2rad(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (np.pi / 180)


@register(np.deg2rad, np.radians)
def deg2rad(x: Any) -> Tensor:
    """Degrees to radians (NumPy's deg2rad, also np.radians).

    >>> import autodiff as ad
    >>> ad.deg2rad(ad.tensor([180.0])).tolist()
    [3.1415927410125732]
    """
    return Deg2rad.apply(as_tensor(x))


class Rad2deg(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return np.rad2deg(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * (180 / np.pi)


@register(np.rad2deg, np.degrees)
def rad2deg(x: Any) -> Tensor:
    """Radians to degrees (NumPy's rad2deg, also np.degrees).

    >>> import autodiff as ad
    >>> ad.rad2deg(ad.tensor([0.5], dtype="float64")).tolist()
    [28.64788975654116]
    """
    return Rad2deg.apply(as_tensor(x))


# -- NumPy's math ufuncs of two arrays -----------------------------------------------------------


class Arctan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        # d/da = b / r^2 and d/db = -a / r^2, as (b / r) / r with r = hypot(a, b): r^2 would
        # overflow or underflow first. 0 at the origin (as PyTorch): a double where, so that
        # the other branch sees r = sqrt(2) there and its gradient no 0 / 0.
        origin = (a.data == 0) & (b.data == 0)
        if origin.any():
            a, b = where(origin, 1, a), where(origin, 1, b)
        r = hypot(a, b)
        need_a, need_b = ctx.needs_input_grad
        ga = grad * (b / r) / r if need_a else None
        gb = -grad * (a / r) / r if need_b else None
        if origin.any():
            ga = where(origin, 0, ga) if need_a else None
            gb = where(origin, 0, gb) if need_b else None
        return ga, gb


@register(np.arctan2, convention="0 for both inputs at the origin (as PyTorch)")
def arctan2(a: Any, b: Any) -> Tensor:
    """The angle of the point (b, a): arctan(a / b) in the right quadrant, in [-pi, pi].

    >>> import autodiff as ad
    >>> a = ad.tensor([1.0, 0.0], requires_grad=True)
    >>> b = ad.tensor([1.0, 0.0], requires_grad=True)
    >>> ad.arctan2(a, b).sum().backward()
    >>> a.grad, b.grad
    (tensor([0.5, 0. ]), tensor([-0.5,  0. ]))
    """
    return binary(Arctan2, np.arctan2, a, b)


class Hypot(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return grad * (a / out) if need_a else None, grad * (b / out) if need_b else None


@register(np.hypot, convention="nan at the origin (0 / 0, as PyTorch)")
def hypot(a: Any, b: Any) -> Tensor:
    """sqrt(a^2 + b^2) without overflow or underflow (NumPy's hypot).

    >>> import autodiff as ad
    >>> a = ad.tensor([3.0, 3e200], dtype="float64", requires_grad=True)
    >>> ad.hypot(a, ad.tensor([4.0, 4e200], dtype="float64")).sum().backward()
    >>> a.grad
    tensor([0.6, 0.6], dtype=float64)
    """
    return binary(Hypot, np.hypot, a, b)


class Logaddexp(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp(a, b)

    @staticmethod
    def backward(ctx, grad):
        # d/da = e^a / (e^a + e^b) = sigmoid(a - b): never overflows, and a - b is exact where
        # it matters (a, b within a factor of 2); a - out would carry out's rounding error.
        # (sigmoid as a method: activation.py, its home, imports this module.)
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * (a - b).sigmoid() if need_a else None,
                grad * (b - a).sigmoid() if need_b else None)


@register(np.logaddexp, convention="nan where a = b = -inf or +inf (as PyTorch)")
def logaddexp(a: Any, b: Any) -> Tensor:
    """log(e^a + e^b) without overflow (NumPy's logaddexp); its gradients are sigmoid(a - b)
    and sigmoid(b - a), computed stably.

    >>> import autodiff as ad
    >>> a = ad.tensor([1000.0, 0.0], requires_grad=True)
    >>> ad.logaddexp(a, ad.tensor([-1000.0, 0.0])).sum().backward()
    >>> a.grad
    tensor([1. , 0.5])
    """
    return binary(Logaddexp, np.logaddexp, a, b)


class Logaddexp2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.logaddexp2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors  # d/da = 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2)
        need_a, need_b = ctx.needs_input_grad
        return (grad * ((a - b) * LN2).sigmoid() if need_a else None,
                grad * ((b - a) * LN2).sigmoid() if need_b else None)


@register(np.logaddexp2, convention="nan where a = b = -inf or +inf (as PyTorch)")
def logaddexp2(a: Any, b: Any) -> Tensor:
    """log2(2^a + 2^b) without overflow (NumPy's logaddexp2).

    >>> import autodiff as ad
    >>> a = ad.tensor([1.0], requires_grad=True)
    >>> y = ad.logaddexp2(a, 1.0)
    >>> y.backward(ad.ones(1))
    >>> y.tolist(), a.grad
    ([2.0], tensor([0.5]))
    """
    return binary(Logaddexp2, np.logaddexp2, a, b)


class Copysign(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0]:  # d/da: sign(a) times the sign b gives (0 at a = 0)
            ctx.slope = np.sign(a) * np.copysign(1, b)
        return np.copysign(a, b)

    @staticmethod
    def backward(ctx, grad):
        need_a, need_b = ctx.needs_input_grad
        return grad * ctx.slope if need_a else None, _zero_grad(ctx, 1) if need_b else None


@register(np.copysign, convention="0 for a at a = 0 (as PyTorch); 0 for b, which only gives "
          "its sign")
def copysign(a: Any, b: Any) -> Tensor:
    """|a| with the sign of b (NumPy's copysign: -0.0 counts as negative).

    >>> import autodiff as ad
    >>> a = ad.tensor([2.0, -3.0], requires_grad=True)
    >>> ad.copysign(a, ad.tensor([-1.0, -0.0])).sum().backward()
    >>> a.grad
    tensor([-1.,  1.])
    """
    return binary(Copysign, np.copysign, a, b)


def _zero_grad(ctx: Function, i: int) -> np.ndarray:
    """The gradient of an input the output does not vary with: zeros of its shape and dtype
    (an array: the engine takes it as a constant in a graph of the backward)."""
    return np.zeros(ctx._shapes[i], ctx._dtypes[i])


# -- step functions: NumPy's value, and a gradient of 0 -------------------------------------


class Step(Function):
    """A step function (sign, floor, round, floor_divide, ...): flat everywhere but at its
    jumps, so its gradient is 0 for every input, at the jumps too (PyTorch's convention for
    floor, ceil, round, sign, trunc). It is recorded all the same, as in PyTorch: a graph
    through it stays connected, its inputs get zeros rather than nothing (`grad` of a function
    that rounds returns zeros, not an error). A subclass defines the forward."""

    array_backward = True

    @staticmethod
    def backward(ctx, grad):
        return tuple(_zero_grad(ctx, i) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


STEP = "0 everywhere, at the jumps too (as PyTorch)"


class Sign(Step):
    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


@register(np.sign, convention=STEP)
def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x (nan for nan); its gradient is 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> ad.sign(x).sum().backward()
    >>> ad.sign(x).tolist(), x.grad
    ([-1.0, 0.0, 1.0], tensor([0., 0., 0.]))
    """
    return Sign.apply(as_tensor(x))


class Floor(Step):
    @staticmethod
    def forward(ctx, x):
        return np.floor(x)


@register(np.floor, convention=STEP)
def floor(x: Any) -> Tensor:
    """The largest integer <= x, elementwise; its gradient is 0.

    >>> import autodiff as ad
    >>> ad.floor(ad.tensor([-1.5, 1.5])).tolist()
    [-2.0, 1.0]
    """
    return Floor.apply(as_tensor(x))


class Ceil(Step):
    @staticmethod
    def forward(ctx, x):
        return np.ceil(x)


@register(np.ceil, convention=STEP)
def ceil(x: Any) -> Tensor:
    """The smallest integer >= x, elementwise; its gradient is 0.

    >>> import autodiff as ad
    >>> ad.ceil(ad.tensor([-1.5, 1.5])).tolist()
    [-1.0, 2.0]
    """
    return Ceil.apply(as_tensor(x))


class Trunc(Step):
    @staticmethod
    def forward(ctx, x):
        return np.trunc(x)


@register(np.trunc, np.fix, convention=STEP)
def trunc(x: Any) -> Tensor:
    """x rounded toward 0 (NumPy's trunc, and np.fix); its gradient is 0.

    >>> import autodiff as ad
    >>> ad.trunc(ad.tensor([-1.5, 1.5])).tolist()
    [-1.0, 1.0]
    """
    return Trunc.apply(as_tensor(x))


class Rint(Step):
    @staticmethod
    def forward(ctx, x):
        return np.rint(x)


@register(np.rint, convention=STEP)
def rint(x: Any) -> Tensor:
    """x rounded to the nearest integer, halves to even (NumPy's rint); its gradient is 0.

    >>> import autodiff as ad
    >>> ad.rint(ad.tensor([0.5, 1.5, 2.7])).tolist()
    [0.0, 2.0, 3.0]
    """
    return Rint.apply(as_tensor(x))


class Round(Step):
    @staticmethod
    def forward(ctx, x, *, decimals):
        return np.round(x, decimals)


@register(np.round, np.around, method=True, convention=STEP)
def round(x: Any, decimals: int = 0) -> Tensor:
    """x rounded to `decimals` decimal places (negative: to tens, hundreds, ...), halves to
    even, as NumPy's round; its gradient is 0.

    >>> import autodiff as ad
    >>> ad.tensor([1.25, 2.5, 13.0]).round(1).tolist(), ad.round(ad.tensor([13.0]), -1).tolist()
    ([1.2, 2.5, 13.0], [10.0])
    """
    try:
        decimals = operator.index(decimals)
    except TypeError:
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}") from None
    return Round.apply(as_tensor(x), decimals=decimals)


class Heaviside(Step):
    @staticmethod
    def forward(ctx, x, at_zero):
        return np.heaviside(x, at_zero)


@register(np.heaviside, convention=STEP)
def heaviside(x: Any, at_zero: Any) -> Tensor:
    """The Heaviside step: 0 where x < 0, 1 where x > 0, `at_zero` where x == 0 (NumPy's
    heaviside(x1, x2)); its gradient is 0 for both inputs.

    >>> import autodiff as ad
    >>> ad.heaviside(ad.tensor([-1.0, 0.0, 2.0]), 0.5).tolist()
    [0.0, 0.5, 1.0]
    """
    return binary(Heaviside, np.heaviside, x, at_zero)


# -- the parts of a real tensor ---------------------------------------------------------------


@register(np.real, method=("real", property(lambda self: real(self))))
def real(x: Any) -> Tensor:
    """The real part: a real tensor itself (as PyTorch's real; `t.real` as NumPy's). Nothing is
    recorded: its gradient passes unchanged. Complex values are refused (tensors are real).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, -2.0], requires_grad=True)
    >>> ad.real(x) is x, x.real is x
    (True, True)
    """
    return as_tensor(x)


@register(np.imag, method=("imag", property(lambda self: imag(self))), differentiable=False)
def imag(x: Any) -> Tensor:
    """The imaginary part of a real tensor: zeros of its shape and dtype, which do not require
    grad (they do not depend on x at all, as ad.zeros_like(x); unlike floor, whose value does
    and whose gradient is 0, there is nothing to differentiate).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, -2.0], requires_grad=True)
    >>> ad.imag(x), x.imag.requires_grad
    (tensor([0., 0.]), False)
    """
    x = as_tensor(x)
    return Tensor._make(np.zeros(x.shape, x.dtype), None, 0)


@register(np.conjugate, method=["conj", "conjugate"])
def conj(x: Any) -> Tensor:
    """The complex conjugate: a real tensor itself (as PyTorch's conj), also
    `t.conj()`, `t.conjugate()` and np.conj. Nothing is recorded.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, -2.0], requires_grad=True)
    >>> ad.conj(x) is x, x.conjugate() is x
    (True, True)
    """
    return as_tensor(x)
