"""Reductions: sum, max, min (primitives); mean, var, std, logsumexp (composites);
argmax, argmin and argsort, which return integer tensors that carry no gradient.

Ties in max/min share the gradient evenly among the tied elements (as PyTorch's amax/amin).

>>> import autodiff as ad
>>> x = ad.tensor([[1.0, 3.0], [3.0, 3.0]], requires_grad=True)
>>> x.max().backward()
>>> x.grad
tensor([[0.      , 0.333333],
        [0.333333, 0.333333]])
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.elementwise import exp, log, sqrt
from autodiff.ops.indexing import where
from autodiff.ops.registry import register
from autodiff.ops.shape import broadcast_to, reshape
from autodiff.tensor import Tensor

Axis = int | Sequence[int] | None

__all__ = ["argmax", "argmin", "argsort", "logsumexp", "max", "mean", "min", "std", "sum",
           "var"]


def _axes(op: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes, sorted; None means all. A 0-d tensor takes axis 0 or -1 (reducing
    nothing), as NumPy's reductions do."""
    if axis is None:
        return tuple(range(ndim))
    if ndim == 0 and hasattr(axis, "__index__") and operator.index(axis) in (0, -1):
        return ()
    return tuple(sorted(normalize_axes(op, axis, ndim)))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x, *, axes, keepdims):
        ctx.shape = x.shape
        ctx.kept = _kept_shape(x.shape, axes)
        return x.sum(axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        if isinstance(grad, np.ndarray):  # a read-only broadcast view: no copy
            return np.broadcast_to(grad.reshape(ctx.kept), ctx.shape)
        return broadcast_to(reshape(grad, ctx.kept), ctx.shape)


class Max(Function):
    """The largest value over axes; the gradient goes to the largest elements, shared evenly
    among ties."""

    array_backward = True
    pick = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, *, axes, keepdims):
        out = ctx.pick(x, axis=axes, keepdims=True)
        hit = x == out
        ctx.share = (hit / hit.sum(axis=axes, keepdims=True)).astype(x.dtype)
        ctx.kept = out.shape
        return out if keepdims else out.reshape([n for i, n in enumerate(x.shape)
                                                 if i not in axes])

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.kept) * ctx.share


class Min(Max):
    """The smallest value over axes: Max's forward and backward with np.min."""

    pick = staticmethod(np.min)


@register(np.sum, method=True)
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over `axis` (all axes when None).

    >>> import autodiff as ad
    >>> x = ad.ones((2, 3), requires_grad=True)
    >>> ad.sum(x, axis=1)
    tensor([3., 3.], grad_fn=<sum>)
    >>> ad.sum(x).backward()
    >>> x.grad
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    x = as_tensor(x)
    return Sum.apply(x, axes=_axes("sum", axis, x.ndim), keepdims=keepdims)


@register(np.max, np.amax, method=True)
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Largest value over `axis`; tied maxima share the gradient evenly.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> ad.max(x).backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5])
    """
    x = as_tensor(x)
    axes = _axes("max", axis, x.ndim)
    _nonempty("max", x, axes)
    return Max.apply(x, axes=axes, keepdims=keepdims)


@register(np.min, np.amin, method=True)
def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Smallest value over `axis`; tied minima share the gradient evenly.

    >>> import autodiff as ad
    >>> ad.min(ad.tensor([[1.0, -2.0], [0.5, 4.0]]), axis=1)
    tensor([-2. ,  0.5])
    """
    x = as_tensor(x)
    axes = _axes("min", axis, x.ndim)
    _nonempty("min", x, axes)
    return Min.apply(x, axes=axes, keepdims=keepdims)


def _nonempty(op: str, x: Tensor, axes: tuple[int, ...]) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: reduction over an empty axis of shape {x.shape}")


def _count(x: Tensor, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


@register(np.mean, method=True)
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Average over `axis` (a composite: sum / count). Over no element it is NaN, with NumPy's
    RuntimeWarning "Mean of empty slice".

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> ad.mean(x, axis=0)
    tensor([2., 3.], grad_fn=<mul>)
    >>> ad.mean(x).backward()
    >>> x.grad
    tensor([[0.25, 0.25],
            [0.25, 0.25]])
    """
    x = as_tensor(x)
    axes = _axes("mean", axis, x.ndim)
    n = _count(x, axes)
    if not n:
        warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
    return sum(x, axes, keepdims) * (1.0 / n if n else math.nan)


@register(np.var, method=True)
def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over `axis` with `ddof` as NumPy (0: divide by n; 1: by n - 1). With no degree
    of freedom left (n <= ddof) it is NaN (or inf, dividing a positive sum by 0), with NumPy's
    RuntimeWarning "Degrees of freedom <= 0 for slice".

    The values are first shifted by one of them (a constant: the variance does not change), so
    that equal values give exactly 0 whatever the rounding of their mean.

    >>> import autodiff as ad
    >>> ad.var(ad.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.25)
    >>> ad.var(ad.tensor([0.1, 0.1, 0.1]))
    tensor(0.)
    """
    x = as_tensor(x)
    axes = _axes("var", axis, x.ndim)
    n = _count(x, axes)
    if n <= ddof:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
    if n:
        x = x - x.data[tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
    d = x - sum(x, axes, keepdims=True) * (1.0 / n if n else math.nan)
    # sum / 0 as NumPy: 0 / 0 is NaN, a positive sum / 0 is inf: the same as times inf.
    return sum(d * d, axes, keepdims) * (1.0 / (n - ddof) if n > ddof else math.inf)


@register(np.std, method=True)
def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation: sqrt(var). Where the variance is 0 the gradient is 0, as PyTorch's
    (the derivative of sqrt is infinite there, and var's gradient is 0).

    >>> import autodiff as ad
    >>> ad.std(ad.tensor([1.0, 3.0]))
    tensor(1.)
    >>> ad.std(ad.tensor([1.0, 3.0]), ddof=1)
    tensor(1.4142135)
    >>> x = ad.tensor([2.0], requires_grad=True)
    >>> ad.std(x).backward(); x.grad
    tensor([0.])
    """
    x = as_tensor(x)
    v = var(x, _axes("std", axis, x.ndim), keepdims, ddof)
    zero = v.data == 0
    if not zero.any():
        return sqrt(v)
    # Both branches finite: the zero gradient the unselected sqrt(1) gets never meets an inf.
    return where(zero, 0, sqrt(where(zero, 1, v)))


def max_shift(x: Tensor, axes: tuple[int, ...]) -> np.ndarray:
    """The largest value over `axes` (kept as size-1 axes), as a constant: subtracting it keeps
    exp from overflowing and changes neither softmax nor logsumexp. 0 where it is not finite
    (a row of -inf) and over empty axes."""
    if not x.size:
        return np.zeros(_kept_shape(x.shape, axes), x.dtype)
    m = np.asarray(np.maximum.reduce(x.data, axis=axes, keepdims=True))  # 0-d: a scalar
    m[~np.isfinite(m)] = 0
    return m


@register(method=True)
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over `axis`, stable for large magnitudes (the max is shifted out).

    >>> import autodiff as ad
    >>> ad.logsumexp(ad.tensor([1000.0, 1000.0]))
    tensor(1000.6932)
    """
    x = as_tensor(x)
    axes = _axes("logsumexp", axis, x.ndim)
    shift = max_shift(x, axes)
    out = log(sum(exp(x - shift), axes, keepdims=True)) + shift
    return out if keepdims else reshape(out, [n for i, n in enumerate(x.shape) if i not in axes])


# -- positions: integer tensors with no gradient --------------------------------------------


def _position_axis(op: str, axis: Any, ndim: int) -> int | None:
    """argmax's and argsort's axis: an int or None; a 0-d tensor counts as 1-d (as NumPy)."""
    return None if axis is None else normalize_axis(op, axis, builtins.max(ndim, 1))


@register(np.argmax, method=True, differentiable=False)
def argmax(x: Any, axis: int | None = None, *, keepdims: bool = False) -> Tensor:
    """Index of the largest value along `axis` (of the flattened tensor when None; the first
    among ties), as np.argmax: an integer tensor, with no gradient.

    >>> import autodiff as ad
    >>> ad.argmax(ad.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([1, 0])
    """
    x = as_tensor(x)
    axis = _position_axis("argmax", axis, x.ndim)
    return Tensor._make(np.argmax(x.data, axis=axis, keepdims=keepdims), None, 0)


@register(np.argmin, method=True, differentiable=False)
def argmin(x: Any, axis: int | None = None, *, keepdims: bool = False) -> Tensor:
    """Index of the smallest value along `axis` (the first among ties), as np.argmin: an
    integer tensor, with no gradient.

    >>> import autodiff as ad
    >>> ad.argmin(ad.tensor([3.0, 1.0, 1.0]))
    tensor(1)
    """
    x = as_tensor(x)
    axis = _position_axis("argmin", axis, x.ndim)
    return Tensor._make(np.argmin(x.data, axis=axis, keepdims=keepdims), None, 0)


@register(np.argsort, method=True, differentiable=False)
def argsort(x: Any, axis: int | None = -1, kind: str | None = None, order: Any = None, *,
            stable: bool | None = None) -> Tensor:
    """The indices that sort `x` along `axis` (the flattened tensor when None), as np.argsort
    (`kind`, `stable`); an integer tensor, with no gradient.

    >>> import autodiff as ad
    >>> ad.argsort(ad.tensor([3.0, 1.0, 2.0]))
    tensor([1, 2, 0])
    """
    x = as_tensor(x)
    if order is not None:
        raise ValueError("argsort: order= sorts structured arrays by their fields; a tensor "
                         "has none")
    axis = _position_axis("argsort", axis, x.ndim)
    extra = {} if stable is None else {"stable": stable}  # NumPy >= 2.0
    return Tensor._make(np.argsort(x.data, axis=axis, kind=kind, **extra), None, 0)
