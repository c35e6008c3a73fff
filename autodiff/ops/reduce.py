"""Reductions and scans, with NumPy's arguments (axis, keepdims, dtype, initial, where).

Primitives: sum, prod, cumsum, cumprod, max/min/nanmax/nanmin, median/quantile/percentile and
their nan-versions.
Composites: mean, average, nansum, nanmean, ptp, var, std, logsumexp. argmax, argmin and
argsort return integer tensors that carry no gradient.

Where the math has no derivative (ties, kinks) the gradient is shared evenly: among tied
maxima (as PyTorch's amax), and among tied elements of a median or quantile. prod and cumprod
never divide by the input, so zeros get their exact gradient.

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
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.dtypes import get_default_dtype
from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.elementwise import abs, exp, log, sqrt
from autodiff.ops.indexing import where as _where
from autodiff.ops.registry import register
from autodiff.ops.shape import astype, broadcast_to, pad, reshape, transpose
from autodiff.tensor import Tensor

Axis = int | Sequence[int] | None

__all__ = ["argmax", "argmin", "argsort", "average", "cumprod", "cumsum", "logsumexp", "max",
           "mean", "median", "min", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile",
           "nanquantile", "nanstd", "nansum", "nanvar", "percentile", "prod", "ptp", "quantile",
           "std", "sum", "var"]


# -- arguments ------------------------------------------------------------------------------


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


def _dropped_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def with_dtype(op: str, x: Tensor, dtype: Any, floating: bool = False) -> Tensor:
    """NumPy's dtype= of a reduction: the values converted first (differentiable between
    floating dtypes; to an integer dtype the result is a constant, as astype's)."""
    if dtype is None:
        return x
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: dtype={dtype!r} is not a NumPy dtype") from None
    if dt.kind not in ("f" if floating else "fiub"):
        raise TypeError(f"{op}: dtype={dt} is not supported (tensors are real; "
                        f"{'a floating dtype' if floating else 'a number dtype'} is needed)")
    return x if dt == x.dtype else astype(x, dt)


def _in_dtype(out: Tensor, dtype: Any) -> Tensor:
    """A sum's or product's result in the integer (or boolean) `dtype=` asked for: NumPy
    computes small integers in int64, and wrapping that result to `dtype` gives what NumPy's
    arithmetic in `dtype` gives (sums and products modulo 2^k agree), so
    `sum(uint8 [200, 100], dtype=uint8)` is 44, as np.sum's. Floating results are left
    alone: `with_dtype` converted the values first."""
    if dtype is None or out.dtype.kind not in "iub":
        return out
    dt = np.dtype(dtype)
    return out if dt == out.dtype else Tensor._make(out.data.astype(dt), None, 0)


def _mask(op: str, where: Any, shape: tuple[int, ...]) -> Any:
    """NumPy's where= of a reduction: True (everything), or a boolean array that broadcasts
    to the tensor's shape (a copy: a backward may keep it, the caller may write into theirs)."""
    if where is True:
        return True
    m = np.array(where.data if isinstance(where, Tensor) else where)
    if m.dtype != bool:
        raise TypeError(f"{op}: where= must be booleans, got dtype {m.dtype}")
    try:
        fits = np.broadcast_shapes(m.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: where= of shape {m.shape} does not broadcast to the tensor's "
                         f"shape {shape}")
    return m


def _initial(op: str, initial: Any, dtype: np.dtype) -> Any:
    """NumPy's initial= (a number, None when not given), in the result's dtype as NumPy casts
    it; an integer out of an integer dtype's range is refused (OverflowError), as NumPy's
    Python-integer rule does, not wrapped around. A tensor that requires grad is refused: the
    reduction gives it no gradient."""
    if initial is None:
        return None
    if isinstance(initial, Tensor):
        if initial.requires_grad:
            raise TypeError(f"{op}: initial= gets no gradient; pass a number (or "
                            "initial.detach())")
        initial = initial.data
    v = np.asarray(initial)
    if v.ndim or v.dtype.kind not in "fiub":
        raise ValueError(f"{op}: initial= must be a real number, got {initial!r}")
    if v.dtype.kind in "iu" and dtype.kind in "iu":  # NumPy refuses what would wrap around
        info = np.iinfo(dtype)
        if not info.min <= int(v) <= info.max:
            raise OverflowError(f"{op}: initial={int(v)} is out of range for the result's "
                                f"dtype {dtype} [{info.min}, {info.max}]")
    return v.astype(dtype)


def _warn(message: str) -> None:
    """NumPy's RuntimeWarning `message`, attributed to the first caller outside autodiff (the
    user's line, however many of the engine's functions lie between)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("autodiff."):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def _nonempty(op: str, x: Tensor, axes: tuple[int, ...]) -> None:
    if any(x.shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: reduction over an empty axis of shape {x.shape} (give "
                         "initial= for the value of an empty slice)")


def _count(x: Tensor, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def _float_dtype(x: Tensor) -> np.dtype:
    """The dtype of a result that is a fraction of the input (a mean, a median): the input's
    when floating, else the default floating dtype (as mean)."""
    return x.dtype if x.dtype.kind == "f" else get_default_dtype()


# -- sum and prod ---------------------------------------------------------------------------


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


class Prod(Function):
    """The product over axes. The gradient at an element is the product of the others in its
    slice: left and right exclusive products, multiplied, never a division, so it is exact
    with zeros (one zero: the others' product at its place; two or more: 0 everywhere)."""

    @staticmethod
    def forward(ctx, x, *, axes, keepdims):
        ctx.save_for_backward(x)
        ctx.axes, ctx.kept = axes, _kept_shape(x.shape, axes)
        return np.prod(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return reshape(grad, ctx.kept) * _others_product(x, ctx.axes)


def _others_product(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """At each element, the product of the other elements of its slice over `axes`."""
    if not x.size:
        return Tensor._make(np.zeros(x.shape, x.dtype), None, 0)
    perm = (*[i for i in range(x.ndim) if i not in axes], *axes)
    moved = perm != tuple(range(x.ndim))
    t = transpose(x, perm) if moved else x
    flat = reshape(t, (*t.shape[:x.ndim - len(axes)], _count(x, axes)))
    left = _exclusive_cumprod(flat)
    right = _exclusive_cumprod(flat[..., ::-1])[..., ::-1]
    others = reshape(left * right, t.shape)
    return transpose(others, tuple(np.argsort(perm))) if moved else others


@register(np.sum, method=True)
def sum(x: Any, axis: Axis = None, dtype: Any = None, *, keepdims: bool = False,
        initial: Any = None, where: Any = True) -> Tensor:
    """Sum over `axis` (all axes when None), as np.sum: `dtype` converts first, `initial` is
    added, `where` (a boolean mask broadcast to x) selects the elements summed.

    >>> import autodiff as ad
    >>> x = ad.ones((2, 3), requires_grad=True)
    >>> ad.sum(x, axis=1)
    tensor([3., 3.], grad_fn=<sum>)
    >>> ad.sum(x, where=[True, False, True], initial=10.0)
    tensor(14., grad_fn=<add>)
    >>> ad.sum(x).backward()
    >>> x.grad
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """
    x = as_tensor(x) if dtype is None else with_dtype("sum", as_tensor(x), dtype)
    axes = _axes("sum", axis, x.ndim)
    mask = True if where is True else _mask("sum", where, x.shape)
    return _masked_sum("sum", x, axes, keepdims, initial, mask, dtype)


def _masked_sum(op: str, x: Tensor, axes: tuple[int, ...], keepdims: bool, initial: Any,
                mask: Any, dtype: Any = None) -> Tensor:
    """The sum of the elements where `mask` (True: all of them), plus `initial`, in the
    integer `dtype` when one is asked for."""
    if mask is not True:
        x = _where(mask, x, 0)
    out = _in_dtype(Sum.apply(x, axes=axes, keepdims=keepdims), dtype)
    return out if initial is None else out + _initial(op, initial, out.dtype)


@register(np.prod, method=True, convention="exact at zeros: the product of the others (no "
                                           "division by the input)")
def prod(x: Any, axis: Axis = None, dtype: Any = None, *, keepdims: bool = False,
         initial: Any = None, where: Any = True) -> Tensor:
    """Product over `axis` (all axes when None), as np.prod (`dtype`, `initial` a factor,
    `where` a mask). Exact gradients with zeros: no division by the input.

    >>> import autodiff as ad
    >>> x = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> ad.prod(x).backward()
    >>> x.grad
    tensor([0., 6., 0.])
    >>> ad.prod(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([3., 8.])
    """
    x = with_dtype("prod", as_tensor(x), dtype)
    axes = _axes("prod", axis, x.ndim)
    if where is not True:
        x = _where(_mask("prod", where, x.shape), x, 1)
    out = _in_dtype(Prod.apply(x, axes=axes, keepdims=keepdims), dtype)
    return out if initial is None else out * _initial("prod", initial, out.dtype)


# -- cumulative sums and products -----------------------------------------------------------


class Cumsum(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x, *, axis):
        ctx.reverse = (slice(None),) * axis + (slice(None, None, -1),)
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):  # the sums from each place to the end
        return grad[ctx.reverse].cumsum(axis=ctx.axis)[ctx.reverse]


class Cumprod(Function):
    """Running products. The gradient at x_i is (x_0 ... x_{i-1}) r_i, with
    r_i = sum over j >= i of g_j x_{i+1} ... x_j: no division, so exact with zeros."""

    @staticmethod
    def forward(ctx, x, *, axis):
        out = np.cumprod(x, axis=axis)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axis = ctx.axis
        before = _shift(out, axis, 1, 1.0)
        return before * _reverse_scan(grad, _shift(x, axis, -1, 0.0), axis)


def _shift(t: Tensor, axis: int, k: int, fill: float) -> Tensor:
    """`t` moved k places along `axis` (towards the end when k > 0), `fill` where it left."""
    n = t.shape[axis]
    k = builtins.max(-n, builtins.min(n, k))
    pre = (slice(None),) * axis
    widths = [(0, 0)] * t.ndim
    widths[axis] = (k, 0) if k > 0 else (0, -k)
    kept = t[(*pre, slice(0, n - k))] if k > 0 else t[(*pre, slice(-k, n))]
    return pad(kept, widths, constant_values=fill)


def _reverse_scan(g: Tensor, a: Tensor, axis: int) -> Tensor:
    """r with r_i = g_i + a_i r_{i+1} along `axis` (0 past the end), in ceil(log2 n) steps of
    whole-tensor products and sums (Hillis and Steele's scan): after the step of width w,
    g_i holds the terms j < i + 2w and a_i the product a_i ... a_{i+2w-1}."""
    n, w = g.shape[axis], 1
    while w < n:
        g = g + a * _shift(g, axis, -w, 0.0)
        if 2 * w < n:
            a = a * _shift(a, axis, -w, 0.0)
        w *= 2
    return g


def _exclusive_cumprod(t: Tensor) -> Tensor:
    """[1, t_0, t_0 t_1, ...] along the last axis: the product of the elements before each."""
    return cumprod(_shift(t, t.ndim - 1, 1, 1.0), axis=-1)


def _scan_axis(op: str, x: Tensor, axis: Any) -> tuple[Tensor, int]:
    """cumsum's and cumprod's axis: None flattens; a 0-d tensor counts as 1-d (as NumPy)."""
    if axis is None or x.ndim == 0:
        x = reshape(x, (-1,))
    return x, normalize_axis(op, 0 if axis is None else axis, x.ndim)


@register(np.cumsum, method=True)
def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Running sums along `axis` (of the flattened tensor when None), as np.cumsum.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> ad.cumsum(x)
    tensor([1., 3., 6.], grad_fn=<cumsum>)
    >>> ad.cumsum(x).sum().backward()
    >>> x.grad
    tensor([3., 2., 1.])
    """
    x, axis = _scan_axis("cumsum", with_dtype("cumsum", as_tensor(x), dtype), axis)
    return _in_dtype(Cumsum.apply(x, axis=axis), dtype)


@register(np.cumprod, method=True, convention="exact at zeros (no division by the input)")
def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Running products along `axis` (of the flattened tensor when None), as np.cumprod;
    exact gradients with zeros (no division by the input).

    >>> import autodiff as ad
    >>> x = ad.tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> ad.cumprod(x)
    tensor([2., 0., 0.], grad_fn=<cumprod>)
    >>> ad.cumprod(x).sum().backward()
    >>> x.grad
    tensor([1., 8., 0.])
    """
    x, axis = _scan_axis("cumprod", with_dtype("cumprod", as_tensor(x), dtype), axis)
    return _in_dtype(Cumprod.apply(x, axis=axis), dtype)


# -- max, min and their NaN-skipping forms ---------------------------------------------------


class Max(Function):
    """The largest value over axes (with NumPy's initial= and where=). The gradient goes to
    the elements equal to it, shared evenly among ties (an `initial` equal to it counts as
    one of them, and keeps its share); a NaN result's gradient goes to the NaN elements."""

    array_backward = True
    pick = staticmethod(np.max)

    @staticmethod
    def forward(ctx, x, *, axes, keepdims, initial=None, where=True):
        extra = {} if initial is None else {"initial": initial}
        if where is not True:
            extra["where"] = where
        out = ctx.pick(x, axis=axes, keepdims=True, **extra)
        hit = x == out
        count = _candidates(hit, out, axes, initial, where)
        if not count.all() and x.dtype.kind == "f":  # a NaN result (NaN == NaN is False)
            hit |= np.isnan(x) & np.isnan(out)
            count = np.maximum(_candidates(hit, out, axes, initial, where), 1)
        ctx.share = (hit / count).astype(x.dtype)
        ctx.kept = out.shape
        return out if keepdims else out.reshape(_dropped_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.kept) * ctx.share


def _candidates(hit: np.ndarray, out: np.ndarray, axes: tuple[int, ...], initial: Any,
                where: Any) -> np.ndarray:
    """How many share the gradient in each slice: the elements `hit` (masked by `where`, in
    place), and `initial` when it equals the result."""
    if where is not True:
        hit &= where
    count = hit.sum(axis=axes, keepdims=True)
    if initial is not None:
        count += out == initial
    return count


class Min(Max):
    """The smallest value over axes: Max's forward and backward with np.min."""

    pick = staticmethod(np.min)


class NanMax(Max):
    """The largest value over axes, NaNs skipped (np.nanmax): Max's forward and backward."""

    name = "nanmax"
    pick = staticmethod(np.nanmax)


class NanMin(Max):
    """The smallest value over axes, NaNs skipped (np.nanmin): Max's forward and backward."""

    name = "nanmin"
    pick = staticmethod(np.nanmin)


def _extremum(op: str, fn: type[Max], x: Any, axis: Axis, keepdims: bool, initial: Any,
              where: Any) -> Tensor:
    x = as_tensor(x)
    axes = _axes(op, axis, x.ndim)
    if initial is None and where is True:
        _nonempty(op, x, axes)
        return fn.apply(x, axes=axes, keepdims=keepdims)
    mask = _mask(op, where, x.shape)
    if initial is None:
        raise ValueError(f"{op}: where= needs initial= (the value of a slice where nothing is "
                         "selected), as in NumPy")
    return fn.apply(x, axes=axes, keepdims=keepdims, initial=_initial(op, initial, x.dtype),
                    where=mask)


@register(np.max, np.amax, method=True,
          convention="shared evenly among tied maxima (as PyTorch's amax); a NaN result: "
                     "among the NaNs")
def max(x: Any, axis: Axis = None, *, keepdims: bool = False, initial: Any = None,
        where: Any = True) -> Tensor:
    """Largest value over `axis`, as np.max (`initial` a lower bound, `where` a mask, which
    needs `initial`); tied maxima share the gradient evenly.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> ad.max(x).backward()
    >>> x.grad
    tensor([0. , 0.5, 0.5])
    >>> ad.max(x, initial=5.0)
    tensor(5., grad_fn=<max>)
    """
    return _extremum("max", Max, x, axis, keepdims, initial, where)


@register(np.min, np.amin, method=True,
          convention="shared evenly among tied minima (as PyTorch's amin); a NaN result: "
                     "among the NaNs")
def min(x: Any, axis: Axis = None, *, keepdims: bool = False, initial: Any = None,
        where: Any = True) -> Tensor:
    """Smallest value over `axis`, as np.min; tied minima share the gradient evenly.

    >>> import autodiff as ad
    >>> ad.min(ad.tensor([[1.0, -2.0], [0.5, 4.0]]), axis=1)
    tensor([-2. ,  0.5])
    """
    return _extremum("min", Min, x, axis, keepdims, initial, where)


@register(np.nanmax, convention="NaNs skipped; shared evenly among tied maxima; an all-NaN "
                                 "slice (value NaN): among its NaNs")
def nanmax(x: Any, axis: Axis = None, *, keepdims: bool = False, initial: Any = None,
           where: Any = True) -> Tensor:
    """Largest value over `axis` skipping NaNs, as np.nanmax (an all-NaN slice gives NaN,
    with NumPy's RuntimeWarning).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, float("nan"), 3.0], requires_grad=True)
    >>> ad.nanmax(x).backward()
    >>> x.grad
    tensor([0., 0., 1.])
    """
    return _extremum("nanmax", NanMax, x, axis, keepdims, initial, where)


@register(np.nanmin, convention="NaNs skipped; shared evenly among tied minima; an all-NaN "
                                 "slice (value NaN): among its NaNs")
def nanmin(x: Any, axis: Axis = None, *, keepdims: bool = False, initial: Any = None,
           where: Any = True) -> Tensor:
    """Smallest value over `axis` skipping NaNs, as np.nanmin.

    >>> import autodiff as ad
    >>> ad.nanmin(ad.tensor([[1.0, float("nan")], [float("nan"), 4.0]]), axis=1)
    tensor([1., 4.])
    """
    return _extremum("nanmin", NanMin, x, axis, keepdims, initial, where)


@register(np.ptp, convention="max - min: each shared evenly among its ties")
def ptp(x: Any, axis: Axis = None, *, keepdims: bool = False) -> Tensor:
    """Range (peak to peak) over `axis`: max - min, as np.ptp.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 5.0], [2.0, 3.0]], requires_grad=True)
    >>> ad.ptp(x, axis=0)
    tensor([1., 2.], grad_fn=<sub>)
    >>> ad.ptp(x).backward()
    >>> x.grad
    tensor([[-1.,  1.],
            [ 0.,  0.]])
    """
    return (_extremum("ptp", Max, x, axis, keepdims, None, True)
            - _extremum("ptp", Min, x, axis, keepdims, None, True))


# -- means and spreads ----------------------------------------------------------------------


@register(np.mean, method=True)
def mean(x: Any, axis: Axis = None, dtype: Any = None, *, keepdims: bool = False,
         where: Any = True) -> Tensor:
    """Average over `axis` (a composite: sum / count), as np.mean: `dtype` (floating) converts
    first, `where` selects the elements averaged. Over no element it is NaN, with NumPy's
    RuntimeWarning "Mean of empty slice". float16 is computed in float32 and rounded once, as
    NumPy's.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> ad.mean(x, axis=0)
    tensor([2., 3.], grad_fn=<mul>)
    >>> ad.mean(x, axis=1, where=[True, False])
    tensor([1., 3.], grad_fn=<div>)
    >>> ad.mean(x).backward()
    >>> x.grad
    tensor([[0.25, 0.25],
            [0.25, 0.25]])
    """
    x = as_tensor(x) if dtype is None else with_dtype("mean", as_tensor(x), dtype,
                                                       floating=True)
    axes = _axes("mean", axis, x.ndim)
    return _masked_mean(x, axes, keepdims, True if where is True else
                        _mask("mean", where, x.shape))


def _masked_mean(x: Tensor, axes: tuple[int, ...], keepdims: bool, mask: Any) -> Tensor:
    """The mean of the elements where `mask` (True: all of them); float16 in float32."""
    x, narrow = _widened(x)
    if mask is True:
        n = _count(x, axes)
        if not n:
            _warn("Mean of empty slice")
        out = sum(x, axes, keepdims=keepdims) * (1.0 / n if n else math.nan)
    else:
        n = np.broadcast_to(mask, x.shape).sum(axis=axes, keepdims=keepdims)
        empty = n == 0
        if empty.any():
            _warn("Mean of empty slice")
        out = sum(_where(mask, x, 0), axes, keepdims=keepdims) / np.where(empty, 1, n)
        if empty.any():
            out = _nan_where(empty, out)
    return out if narrow is None else astype(out, narrow)


def _nan_where(empty: np.ndarray, out: Tensor) -> Tensor:
    """`out` with NaN in the slices where nothing was selected (their 0 / 0): the sum there (0)
    was divided by 1, so that no backward divides by 0 (the gradient in those slices is 0
    either way: no element is selected)."""
    return _where(empty, np.array(np.nan, out.dtype), out)


def _widened(x: Tensor) -> tuple[Tensor, np.dtype | None]:
    """A float16 tensor as float32, and float16 to round the result to once: NumPy's mean
    and PyTorch's mean, var and std compute float16 in float32 (a float16 sum of 65504 and
    65504 is inf, and its rounding error grows with the count). Recorded casts: the gradient
    comes back float16. Other tensors as they are, and None."""
    if x.dtype != np.float16:
        return x, None
    return astype(x, np.float32), x.dtype


@register(np.average)
def average(a: Any, axis: Axis = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Weighted average over `axis`: sum(a * w) / sum(w), as np.average; differentiable in
    `a` and in `weights` (a tensor of a's shape, or of the shape of a's `axis`). With
    `returned=True`, also the sum of the weights (broadcast to the average's shape).

    >>> import autodiff as ad
    >>> ad.average(ad.tensor([1.0, 2.0, 4.0]), weights=[1.0, 1.0, 2.0])
    tensor(2.75)
    >>> w = ad.tensor([1.0, 3.0], requires_grad=True)
    >>> avg, total = ad.average(ad.tensor([[1.0, 2.0]]), axis=1, weights=w, returned=True)
    >>> avg, total
    (tensor([1.75], grad_fn=<div>), tensor([4.], grad_fn=<sum>))
    """
    a = as_tensor(a)
    axes = _axes("average", axis, a.ndim)
    if weights is None:
        avg = mean(a, axes, keepdims=keepdims)
        if not returned:
            return avg
        return avg, Tensor._make(np.full(avg.shape, a.size / avg.size, avg.dtype), None, 0)
    w = _weights("average", weights, a, axis)
    total = sum(w, axes, keepdims=keepdims)
    if (total.data == 0).any():
        raise ZeroDivisionError(f"average: the weights sum to zero over axis {axis} (shape "
                                f"{a.shape}), can't be normalized")
    avg = sum(a * w, axes, keepdims=keepdims) / total
    return (avg, broadcast_to(total, avg.shape)) if returned else avg


def _weights(op: str, weights: Any, a: Tensor, axis: Axis) -> Any:
    """np.average's weights, shaped to broadcast against `a`: a's shape, or the shape of
    a's `axis` (in the order given)."""
    w = weights if isinstance(weights, Tensor) else Tensor(
        np.asarray(weights, dtype=a.dtype if a.dtype.kind == "f" else None))
    if w.shape == a.shape:
        return w
    if axis is None:
        raise TypeError(f"{op}: axis must be given when the weights' shape {w.shape} differs "
                        f"from a's shape {a.shape}")
    given = normalize_axes(op, axis, a.ndim)
    if w.shape != tuple(a.shape[i] for i in given):
        raise ValueError(f"{op}: weights of shape {w.shape} do not fit a of shape {a.shape} "
                         f"along axis {axis}")
    w = transpose(w, tuple(np.argsort(given)))
    return reshape(w, tuple(n if i in given else 1 for i, n in enumerate(a.shape)))


def _not_nan(op: str, x: Tensor, where: Any) -> Any:
    """The where= mask of a nan-function: not NaN, and in `where`."""
    mask = _mask(op, where, x.shape)
    if x.dtype.kind != "f":
        return mask
    keep = ~np.isnan(x.data)
    return keep if mask is True else keep & mask


@register(np.nansum, convention="0 at NaN elements (as PyTorch's nansum)")
def nansum(x: Any, axis: Axis = None, dtype: Any = None, *, keepdims: bool = False,
           initial: Any = None, where: Any = True) -> Tensor:
    """Sum over `axis` treating NaNs as 0, as np.nansum; their gradient is 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    >>> ad.nansum(x).backward()
    >>> x.grad
    tensor([1., 0., 1.])
    """
    x = as_tensor(x)
    keep = _not_nan("nansum", x, where)  # before dtype=: a NaN has no integer value
    x = with_dtype("nansum", x, dtype)
    return _masked_sum("nansum", x, _axes("nansum", axis, x.ndim), keepdims, initial, keep,
                       dtype)


@register(np.nanmean, convention="0 at NaN elements (as PyTorch's nanmean)")
def nanmean(x: Any, axis: Axis = None, dtype: Any = None, *, keepdims: bool = False,
            where: Any = True) -> Tensor:
    """Average over `axis` of the elements that are not NaN, as np.nanmean (an all-NaN slice
    gives NaN, with NumPy's RuntimeWarning "Mean of empty slice"); float16 is computed in
    float32 and rounded once, as mean (NumPy's nanmean sums in float16).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, float("nan"), 2.0], requires_grad=True)
    >>> ad.nanmean(x).backward()
    >>> x.grad
    tensor([0.5, 0. , 0.5])
    """
    x = as_tensor(x)
    keep = _not_nan("nanmean", x, where)
    x = with_dtype("nanmean", x, dtype, floating=True)
    return _masked_mean(x, _axes("nanmean", axis, x.ndim), keepdims, keep)


@register(np.var, method=True)
def var(x: Any, axis: Axis = None, dtype: Any = None, *, ddof: float = 0,
        keepdims: bool = False, where: Any = True, correction: float | None = None) -> Tensor:
    """Variance over `axis` with `ddof` as NumPy (0: divide by n; 1: by n - 1; NumPy 2's and
    PyTorch's `correction=` is the same number); `dtype` (floating) converts first, `where`
    selects the elements. With no degree of freedom left (n <= ddof) it is NaN (or inf,
    dividing a positive sum by 0), with NumPy's RuntimeWarning "Degrees of freedom <= 0 for
    slice".

    The values are first shifted by one of them (a constant: the variance does not change), so
    that equal values give exactly 0 whatever the rounding of their mean. Integer and boolean
    tensors are converted to the default floating dtype first, as mean's result; float16 is
    computed in float32 and rounded once, as PyTorch's (NumPy's sums its squares in float16).

    >>> import autodiff as ad
    >>> ad.var(ad.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.25)
    >>> ad.var(ad.tensor([0.1, 0.1, 0.1]))
    tensor(0.)
    >>> ad.var(ad.tensor([1.0, 2.0, 9.0]), where=[True, True, False], correction=1)
    tensor(0.5)
    """
    ddof = _ddof("var", ddof, correction)
    x = with_dtype("var", as_tensor(x), dtype, floating=True)
    if x.dtype.kind != "f":  # integers and booleans: shifted in uint8 they would wrap around
        x = astype(x, _float_dtype(x))
    x, narrow = _widened(x)
    axes = _axes("var", axis, x.ndim)
    if where is True:
        out = _variance(x, axes, keepdims, ddof)
    else:
        out = _masked_variance(x, axes, keepdims, ddof, _mask("var", where, x.shape))
    return out if narrow is None else astype(out, narrow)


def _ddof(op: str, ddof: Any, correction: Any) -> Any:
    """ddof, or NumPy 2's correction= (the same number; both given is refused, as NumPy)."""
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"{op}: ddof={ddof!r} and correction={correction!r} can't be provided "
                         "simultaneously (they are the same number)")
    return correction


def _variance(x: Tensor, axes: tuple[int, ...], keepdims: bool, ddof: Any) -> Tensor:
    n = _count(x, axes)
    if n <= ddof:
        _warn("Degrees of freedom <= 0 for slice")
    if n:
        x = x - x.data[tuple(slice(0, 1) if i in axes else slice(None) for i in range(x.ndim))]
    d = x - sum(x, axes, keepdims=True) * (1.0 / n if n else math.nan)
    # sum / 0 as NumPy: 0 / 0 is NaN, a positive sum / 0 is inf: the same as times inf.
    return sum(d * d, axes, keepdims=keepdims) * (1.0 / (n - ddof) if n > ddof else math.inf)


def _masked_variance(x: Tensor, axes: tuple[int, ...], keepdims: bool, ddof: Any,
                     mask: np.ndarray) -> Tensor:
    """The variance of the elements where `mask`, each slice with its own count (NumPy's
    where=): a slice with no degree of freedom left is NaN or inf, warned as NumPy."""
    n = np.broadcast_to(mask, x.shape).sum(axis=axes, keepdims=True)
    free = np.maximum(n - ddof, 0)
    if not free.all():
        _warn("Degrees of freedom <= 0 for slice")
    # A slice with nothing selected (all NaN, for nanvar) divides 0 by 1, its NaN added after
    # (_nan_where): a 0 / 0 here would divide by 0 again in the backward, and warn.
    empty = (n == 0) & (free == 0)
    m = sum(_where(mask, x, 0), axes, keepdims=True) / np.where(n == 0, 1, n).astype(x.dtype)
    d = _where(mask, x - m, 0)
    with np.errstate(invalid="ignore", divide="ignore"):  # n <= ddof: 0 / 0 or S / 0, warned
        out = sum(d * d, axes, keepdims=True) / np.where(empty, 1, free).astype(x.dtype)
    if empty.any():
        out = _nan_where(empty, out)
    return out if keepdims else reshape(out, _dropped_shape(x.shape, axes))


@register(np.std, method=True, convention="0 where the variance is 0 (as PyTorch)")
def std(x: Any, axis: Axis = None, dtype: Any = None, *, ddof: float = 0,
        keepdims: bool = False, where: Any = True, correction: float | None = None) -> Tensor:
    """Standard deviation: sqrt(var), with var's arguments. Where the variance is 0 the
    gradient is 0, as PyTorch's (the derivative of sqrt is infinite there, and var's gradient
    is 0).

    >>> import autodiff as ad
    >>> ad.std(ad.tensor([1.0, 3.0]))
    tensor(1.)
    >>> ad.std(ad.tensor([1.0, 3.0]), ddof=1)
    tensor(1.4142135)
    >>> x = ad.tensor([2.0], requires_grad=True)
    >>> ad.std(x).backward(); x.grad
    tensor([0.])
    """
    x = with_dtype("std", as_tensor(x), dtype, floating=True)
    v = var(x, _axes("std", axis, x.ndim), ddof=_ddof("std", ddof, correction),
            keepdims=keepdims, where=where if where is True else _mask("std", where, x.shape))
    zero = v.data == 0
    if not zero.any():
        return sqrt(v)
    # Both branches finite: the zero gradient the unselected sqrt(1) gets never meets an inf.
    return _where(zero, 0, sqrt(_where(zero, 1, v)))


@register(np.nanvar, convention="0 at NaN elements")
def nanvar(x: Any, axis: Axis = None, dtype: Any = None, *, ddof: float = 0,
           keepdims: bool = False, where: Any = True, correction: float | None = None
           ) -> Tensor:
    """Variance over `axis` of the elements that are not NaN, as np.nanvar: `var` with the
    NaNs left out of `where` (a slice with no degree of freedom left is NaN, with NumPy's
    warning); their gradient is 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, float("nan"), 3.0], requires_grad=True)
    >>> ad.nanvar(x).item()
    1.0
    >>> ad.nanvar(x).backward(); x.grad
    tensor([-1.,  0.,  1.])
    """
    x = as_tensor(x)
    return var(x, axis, dtype, ddof=ddof, keepdims=keepdims, where=_not_nan("nanvar", x, where),
               correction=correction)


@register(np.nanstd, convention="0 at NaN elements, and where the variance is 0")
def nanstd(x: Any, axis: Axis = None, dtype: Any = None, *, ddof: float = 0,
           keepdims: bool = False, where: Any = True, correction: float | None = None
           ) -> Tensor:
    """Standard deviation over `axis` of the elements that are not NaN, as np.nanstd:
    sqrt(nanvar), `std` with the NaNs left out of `where`.

    >>> import autodiff as ad
    >>> ad.nanstd(ad.tensor([[1.0, float("nan"), 3.0], [2.0, 2.0, float("nan")]]), axis=1)
    tensor([1., 0.])
    """
    x = as_tensor(x)
    return std(x, axis, dtype, ddof=ddof, keepdims=keepdims, where=_not_nan("nanstd", x, where),
               correction=correction)


# -- order statistics: median, quantile, percentile -----------------------------------------


class Quantile(Function):
    """NumPy's quantile over axes (its value, its interpolation `method`). The gradient is the
    weight the interpolation gives each sorted element, each tie's total shared evenly among
    its elements; a NaN result's gradient is shared among the slice's NaNs. A subclass with
    `skip_nan` reads each slice's numbers alone (np.nanquantile).

    A primitive: the value is NumPy's own, and the gradient multiplies the incoming gradient
    by fixed weights, where a composite sum(w * x) would turn 0 * inf into NaN."""

    array_backward = True
    scale = 1.0  # q's unit: a fraction (quantile), or percent (percentile)
    skip_nan = False  # True: NaNs are left out of each slice (nanquantile)

    @staticmethod
    def value(x, q, axis, method):
        return np.quantile(x, q, axis=axis, method=method, keepdims=True)

    @staticmethod
    def forward(ctx, x, *, q, axes, keepdims, method, dtype):
        # q of 2 or more dimensions goes in flat: over several axes np.nanquantile puts their
        # axes last, not first (NumPy 2.4), a reshape would mix the values up
        flat = q if np.ndim(q) < 2 else np.ravel(q)
        out = ctx.value(x, flat, None if len(axes) == x.ndim else axes, method)
        fractions = np.asarray(q, np.float64) / ctx.scale
        out = np.asarray(out).astype(dtype, copy=False).reshape(
            fractions.shape + _kept_shape(x.shape, axes))
        if ctx.needs_input_grad[0]:
            ctx.weights = _order_weights(x, fractions, axes, method,
                                         ctx.skip_nan).astype(dtype)
        ctx.kept, ctx.q_axes = out.shape, tuple(range(fractions.ndim))
        return out if keepdims else out.reshape(
            fractions.shape + _dropped_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        g = grad.reshape(ctx.kept) * ctx.weights
        return g.sum(axis=ctx.q_axes) if ctx.q_axes else g


class Percentile(Quantile):
    """Quantile with q in percent: NumPy's np.percentile value, the same gradient."""

    scale = 100.0

    @staticmethod
    def value(x, q, axis, method):
        return np.percentile(x, q, axis=axis, method=method, keepdims=True)


class Median(Quantile):
    """The median: NumPy's np.median value (the mean of the two middle values of an even
    count), the gradient of the quantile at 1/2."""

    @staticmethod
    def value(x, q, axis, method):
        return np.median(x, axis=axis, keepdims=True)


class NanQuantile(Quantile):
    """Quantile of each slice's numbers, its NaNs left out: np.nanquantile's value. The
    weights are read at each slice's own count; an all-NaN slice (NaN) has gradient 0."""

    skip_nan = True

    @staticmethod
    def value(x, q, axis, method):
        return _nan_order_value(np.nanquantile, x, q, axis, method)


class NanPercentile(NanQuantile):
    """NanQuantile with q in percent: np.nanpercentile's value."""

    scale = 100.0

    @staticmethod
    def value(x, q, axis, method):
        return _nan_order_value(np.nanpercentile, x, q, axis, method)


class NanMedian(NanQuantile):
    """The median of each slice's numbers: np.nanmedian's value (the mean of the two middle
    numbers of an even count), the gradient of the nanquantile at 1/2."""

    @staticmethod
    def value(x, q, axis, method):
        return np.nanmedian(x, axis=axis, keepdims=True)


def _nan_order_value(f: Any, x: np.ndarray, q: Any, axis: Any, method: str) -> np.ndarray:
    """np.nanquantile's (np.nanpercentile's) value, q's axes first. On an empty x NumPy drops
    q's axes (NumPy 2.4): then its value for one q (NaN, with its warning) for every q."""
    if x.size:
        return f(x, q, axis=axis, method=method, keepdims=True)
    one = np.asarray(f(x, np.ravel(q)[0], axis=axis, method=method, keepdims=True))
    return np.broadcast_to(one, np.shape(q) + one.shape)


# Where NumPy's method puts the weight, from the virtual index v = (n - 1) q, as
# (weight on floor(v), weight on ceil(v)) (the same place when v is whole).
_METHODS = {
    "linear": lambda v, lo: (1 - (v - lo), v - lo),
    "lower": lambda v, lo: (np.ones_like(v), np.zeros_like(v)),
    "higher": lambda v, lo: (np.zeros_like(v), np.ones_like(v)),
    "midpoint": lambda v, lo: (np.full_like(v, 0.5), np.full_like(v, 0.5)),
    "nearest": lambda v, lo: ((np.around(v) == lo) * 1.0, (np.around(v) != lo) * 1.0),
}
# NumPy's continuous methods (Hyndman and Fan's 4 to 9, 7 being 'linear'): linear
# interpolation at the virtual index n q + alpha + q (1 - alpha - beta) - 1, clipped to the
# slice, each with its (alpha, beta).
_PLOTTING_POSITIONS = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
                       "weibull": (0.0, 0.0), "median_unbiased": (1 / 3, 1 / 3),
                       "normal_unbiased": (3 / 8, 3 / 8)}


def _virtual_index(n: Any, q: np.ndarray, method: str) -> np.ndarray:
    """Where in the sorted slice of n elements NumPy's `method` reads quantile q (n and q
    arrays that broadcast: one count per slice, one q per layer)."""
    if method not in _PLOTTING_POSITIONS:
        return (n - 1) * q
    alpha, beta = _PLOTTING_POSITIONS[method]
    return np.clip(n * q + (alpha + q * (1 - alpha - beta)) - 1, 0, n - 1)


def _order_weights(x: np.ndarray, fractions: np.ndarray, axes: tuple[int, ...],
                   method: str, skip_nan: bool = False) -> np.ndarray:
    """d quantile / d x for each q in `fractions`: shape (*fractions.shape, *x.shape).
    `skip_nan`: each slice's NaNs left out (nanquantile), so each has its own count."""
    if not x.size:
        return np.zeros(fractions.shape + x.shape)
    perm = (*[i for i in range(x.ndim) if i not in axes], *axes)
    moved = np.transpose(x, perm)
    n = math.prod(x.shape[a] for a in axes)
    rows = moved.reshape(-1, n)  # one slice per row
    m = rows.shape[0]
    order = np.argsort(rows, axis=1, kind="stable")
    ranked = np.take_along_axis(rows, order, axis=1)  # NaNs last
    # The interpolation's weights on the sorted slice, one layer per q (axis 0) and slice.
    counts = (~np.isnan(ranked)).sum(axis=1) if skip_nan else np.full(m, n)
    v = _virtual_index(np.maximum(counts, 1), fractions.reshape(-1, 1), method)
    lo = np.floor(v)
    w_lo, w_hi = _METHODS.get(method, _METHODS["linear"])(v, lo)
    k, r = np.arange(v.shape[0])[:, None], np.arange(m)
    w = np.zeros((v.shape[0], m, n))
    w[k, r, lo.astype(np.intp)] += w_lo
    w[k, r, np.ceil(v).astype(np.intp)] += w_hi
    if skip_nan:
        w[:, counts == 0, :] = 0  # an all-NaN slice: NaN, and no gradient
    else:
        nan_rows = np.isnan(ranked[:, -1])
        w[:, nan_rows, :] = 0
        w[:, nan_rows, -1] = 1  # the last NaN, shared among the NaNs below
    # Ties: equal neighbours in the sorted slice form a group (NaNs one group); each group's
    # weight is shared evenly among its elements.
    same = (ranked[:, 1:] == ranked[:, :-1]) | (np.isnan(ranked[:, 1:])
                                                & np.isnan(ranked[:, :-1]))
    group = np.concatenate([np.zeros((m, 1), np.intp), np.cumsum(~same, axis=1)], axis=1)
    group += np.arange(m)[:, None] * n  # unique over rows
    size = np.bincount(group.ravel(), minlength=m * n)
    layers = group[None] + (np.arange(len(k)) * m * n)[:, None, None]
    totals = np.bincount(layers.ravel(), weights=w.ravel(), minlength=len(k) * m * n)
    shared = totals[layers] / size[group][None]
    # Back to each element's own place, then to x's axes.
    w = np.take_along_axis(shared, np.argsort(order, axis=1)[None], axis=2)
    w = w.reshape((len(k), *moved.shape)).transpose((0, *(1 + np.argsort(perm))))
    return w.reshape(fractions.shape + x.shape)


def _fractions(op: str, q: Any, scale: float) -> Any:
    """q as given (a number or an array of them), checked to lie in [0, scale]."""
    if isinstance(q, Tensor):
        if q.requires_grad:
            raise TypeError(f"{op}: q gets no gradient; pass q.detach() or an array")
        q = q.data
    arr = np.asarray(q)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{op}: q must be real numbers, got {q!r}")
    if not ((arr >= 0) & (arr <= scale)).all():
        raise ValueError(f"{op}: q must be in [0, {scale:g}], got {q!r}")
    return q if isinstance(q, int | float) else arr.copy()


def _order_statistic(op: str, fn: type[Quantile], x: Any, q: Any, axis: Axis,
                     keepdims: bool, method: str, weights: Any) -> Tensor:
    x = as_tensor(x)
    if method not in _METHODS and method not in _PLOTTING_POSITIONS:
        raise ValueError(f"{op}: method={method!r} is not supported; the supported methods "
                         f"are {', '.join(repr(m) for m in [*_METHODS, *_PLOTTING_POSITIONS])}"
                         " ('linear' is NumPy's default; the discontinuous 'inverted_cdf', "
                         "'averaged_inverted_cdf' and 'closest_observation' are not)")
    if weights is not None:
        raise ValueError(f"{op}: weights= is not supported (NumPy takes it only for "
                         "method='inverted_cdf')")
    axes = _axes(op, axis, x.ndim)
    if q is not None and not fn.skip_nan and any(x.shape[a] == 0 for a in axes):
        raise IndexError(f"{op}: cannot take a {op} over an empty axis of shape {x.shape}")
    q = 0.5 if q is None else _fractions(op, q, fn.scale)
    return fn.apply(x, q=q, axes=axes, keepdims=keepdims, method=method,
                    dtype=_float_dtype(x))


_ORDER = ("shared evenly among tied elements (PyTorch's median over all elements does so; "
          "its quantile and median over an axis give it to one of them); a NaN result: among "
          "the NaNs")


@register(np.median, convention="the two middle values of an even count get 1/2 each; "
                                "ties: " + _ORDER)
def median(x: Any, axis: Axis = None, *, overwrite_input: bool = False,
           keepdims: bool = False) -> Tensor:
    """Median over `axis`, as np.median: the mean of the two middle values when the count is
    even, so each gets half the gradient. Tied elements share their gradient evenly. The
    input is never overwritten (`overwrite_input` lets NumPy do so, and is accepted).

    >>> import autodiff as ad
    >>> x = ad.tensor([3.0, 1.0, 4.0, 2.0], requires_grad=True)
    >>> ad.median(x)
    tensor(2.5, grad_fn=<median>)
    >>> ad.median(x).backward()
    >>> x.grad
    tensor([0.5, 0. , 0. , 0.5])
    """
    return _order_statistic("median", Median, x, None, axis, keepdims, "linear", None)


@register(np.quantile, convention="the interpolation's weights; ties: " + _ORDER)
def quantile(x: Any, q: Any, axis: Axis = None, *, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, weights: Any = None) -> Tensor:
    """The q-th quantiles over `axis`, as np.quantile (q in [0, 1], a number or an array,
    whose shape leads the result's). `method`: 'linear' (NumPy's default: interpolation
    between the two nearest sorted values), 'lower', 'higher', 'midpoint', 'nearest', or
    one of NumPy's other continuous methods ('weibull', 'hazen', 'median_unbiased',
    'normal_unbiased', 'interpolated_inverted_cdf').
    The gradient is the interpolation's weights; tied elements share theirs evenly.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0, 3.0, 5.0], requires_grad=True)
    >>> ad.quantile(x, [0.5, 0.9])
    tensor([2.5, 4.4], grad_fn=<quantile>)
    >>> ad.quantile(x, 0.9).backward()
    >>> x.grad
    tensor([0. , 0. , 0.3, 0.7])
    """
    return _order_statistic("quantile", Quantile, x, q, axis, keepdims, method, weights)


@register(np.percentile, convention="the interpolation's weights; ties: " + _ORDER)
def percentile(x: Any, q: Any, axis: Axis = None, *, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False, weights: Any = None) -> Tensor:
    """The q-th percentiles over `axis` (q in [0, 100]), as np.percentile: quantile(x, q/100).

    >>> import autodiff as ad
    >>> ad.percentile(ad.tensor([[1.0, 3.0], [2.0, 8.0]]), 50, axis=1)
    tensor([2., 5.])
    """
    return _order_statistic("percentile", Percentile, x, q, axis, keepdims, method, weights)


_NAN_ORDER = ("the NaNs left out; ties: shared evenly among tied elements; 0 at NaN elements, "
              "and over an all-NaN slice (value NaN)")


@register(np.nanmedian, convention="the two middle numbers of an even count get 1/2 each "
                                   "(PyTorch's nanmedian takes the lower one); " + _NAN_ORDER)
def nanmedian(x: Any, axis: Axis = None, *, overwrite_input: bool = False,
              keepdims: bool = False) -> Tensor:
    """Median over `axis` of the numbers that are not NaN, as np.nanmedian: the mean of the
    two middle numbers when their count is even (PyTorch's nanmedian takes the lower one), so
    each gets half the gradient; NaNs get none. An all-NaN (or empty) slice gives NaN, with
    NumPy's RuntimeWarning, and gradient 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([3.0, float("nan"), 1.0, 4.0, 2.0], requires_grad=True)
    >>> ad.nanmedian(x)
    tensor(2.5, grad_fn=<nanmedian>)
    >>> ad.nanmedian(x).backward()
    >>> x.grad
    tensor([0.5, 0. , 0. , 0. , 0.5])
    """
    return _order_statistic("nanmedian", NanMedian, x, None, axis, keepdims, "linear", None)


@register(np.nanquantile, convention="the interpolation's weights; " + _NAN_ORDER)
def nanquantile(x: Any, q: Any, axis: Axis = None, *, overwrite_input: bool = False,
                method: str = "linear", keepdims: bool = False, weights: Any = None) -> Tensor:
    """The q-th quantiles over `axis` of the numbers that are not NaN, as np.nanquantile (q,
    `method` and the result's shape as `quantile`): each slice is read at its own count of
    numbers. NaNs get no gradient; an all-NaN (or empty) slice gives NaN, with NumPy's
    RuntimeWarning, and gradient 0.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, float("nan"), 2.0, 5.0], [4.0, 3.0, float("nan"), float("nan")]],
    ...               requires_grad=True)
    >>> ad.nanquantile(x, 0.75, axis=1)
    tensor([3.5 , 3.75], grad_fn=<nanquantile>)
    >>> ad.nanquantile(x, 0.75, axis=1).sum().backward()
    >>> x.grad
    tensor([[0.  , 0.  , 0.5 , 0.5 ],
            [0.75, 0.25, 0.  , 0.  ]])
    """
    return _order_statistic("nanquantile", NanQuantile, x, q, axis, keepdims, method, weights)


@register(np.nanpercentile, convention="the interpolation's weights; " + _NAN_ORDER)
def nanpercentile(x: Any, q: Any, axis: Axis = None, *, overwrite_input: bool = False,
                  method: str = "linear", keepdims: bool = False, weights: Any = None
                  ) -> Tensor:
    """The q-th percentiles over `axis` (q in [0, 100]) of the numbers that are not NaN, as
    np.nanpercentile: nanquantile(x, q/100).

    >>> import autodiff as ad
    >>> ad.nanpercentile(ad.tensor([[1.0, float("nan"), 3.0], [2.0, 8.0, 6.0]]), 50, axis=1)
    tensor([2., 6.])
    """
    return _order_statistic("nanpercentile", NanPercentile, x, q, axis, keepdims, method,
                            weights)


# -- logsumexp ------------------------------------------------------------------------------


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
def logsumexp(x: Any, axis: Axis = None, *, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """log(sum(b * exp(x))) over `axis`, stable for large magnitudes (the max is shifted out),
    as scipy.special.logsumexp: `b` (weights, broadcast with x; differentiable; where b is 0
    x does not count), and `return_sign` (then log|s| and the sign of s, a constant; without
    it a negative sum gives NaN).

    >>> import autodiff as ad
    >>> ad.logsumexp(ad.tensor([1000.0, 1000.0]))
    tensor(1000.6932)
    >>> ad.logsumexp(ad.tensor([0.0, 0.0]), b=[2.0, -1.0], return_sign=True)
    (tensor(0.), tensor(1.))
    """
    x = as_tensor(x)
    if b is None:
        axes = _axes("logsumexp", axis, x.ndim)
        shift = max_shift(x, axes)
        s = sum(exp(x - shift), axes, keepdims=True)
        sign = None
    else:
        x, b = _with_weights(x, b)
        axes = _axes("logsumexp", axis, x.ndim)
        x = _where(b.data != 0, x, -math.inf)  # a weight of 0 drops its term, even inf
        shift = max_shift(x, axes)
        s = sum(b * exp(x - shift), axes, keepdims=True)
        sign = np.sign(s.data)
        s = abs(s)
    with np.errstate(divide="ignore"):  # a sum of 0: -inf, as SciPy (no warning)
        out = log(s) + shift
    if sign is not None and not return_sign and (sign < 0).any():
        out = _where(sign < 0, math.nan, out)  # the log of a negative sum, as SciPy
    if not keepdims:
        out = reshape(out, _dropped_shape(x.shape, axes))
    if not return_sign:
        return out
    sign = np.ones(out.shape, out.dtype) if sign is None else sign.reshape(out.shape)
    return out, Tensor._make(sign.astype(out.dtype), None, 0)


def _with_weights(x: Tensor, b: Any) -> tuple[Tensor, Tensor]:
    """x and logsumexp's weights b, broadcast together (as SciPy)."""
    b = b if isinstance(b, Tensor) else Tensor(np.asarray(b, dtype=_float_dtype(x)))
    try:
        shape = np.broadcast_shapes(x.shape, b.shape)
    except ValueError:
        raise ValueError(f"logsumexp: b of shape {b.shape} does not broadcast with x of shape "
                         f"{x.shape}") from None
    return broadcast_to(x, shape), broadcast_to(b, shape)


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
