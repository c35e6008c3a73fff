"""Elementwise functions: exp, log, sqrt, abs, tanh, sin, cos, clip.

>>> import autodiff as ad
>>> x = ad.tensor([0.0, 1.0], requires_grad=True)
>>> x.exp().sum().backward()
>>> x.grad
tensor([1.      , 2.718282])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["abs", "clip", "cos", "exp", "log", "sin", "sqrt", "tanh"]


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
    return Abs.apply(as_tensor(x))


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
        from autodiff.ops.indexing import where  # (indexing imports nothing of this module)

        xd = x.data
        lod = np.asarray(-np.inf if lo is None else lo.data if isinstance(lo, Tensor) else lo)
        hid = np.asarray(np.inf if hi is None else hi.data if isinstance(hi, Tensor) else hi)
        out = where((xd >= lod) & (xd <= hid), x, np.clip(xd, lod, hid))
        if lo is not None:  # the value where x < min < max
            out = where((xd < lod) & (lod < hid), lo, out)
        if hi is not None:  # the value where x > max, and wherever max < min
            out = where((xd > hid) | (hid < lod), hi, out)
        return out
    dt = x.data.dtype
    lo = None if lo is None else np.asarray(lo.data if isinstance(lo, Tensor) else lo, dt)
    hi = None if hi is None else np.asarray(hi.data if isinstance(hi, Tensor) else hi, dt)
    return Clip.apply(x, lo=lo, hi=hi)
