"""Shape operations: reshape, ravel, flatten and unflatten (PyTorch's), transpose, swapaxes,
moveaxis, rollaxis, broadcasting
(broadcast_to and sum_to, each other's adjoint; broadcast_arrays, meshgrid), expand_dims,
squeeze, atleast_1d/2d/3d, joining and splitting (concatenate, stack, vstack, hstack, dstack,
column_stack, split, array_split), tile, repeat, flip, fliplr, flipud, roll, diff, pad, astype.

Most are composites of a few primitives (reshape, transpose, broadcast_to, concatenate, pad's
constant mode, and the gathers of indexing.py): they need no backward of their own.

>>> import autodiff as ad
>>> x = ad.arange(6.0).reshape(2, 3)
>>> x.T.shape, ad.concatenate([x, x], axis=0).shape
((3, 2), (4, 3))
"""

from __future__ import annotations

import itertools
import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.exceptions import AxisError

from autodiff.dtypes import constant_like
from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.indexing import getitem, integer_array, take
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["array_split", "astype", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays",
           "broadcast_to", "column_stack", "concatenate", "diff", "dstack", "expand_dims",
           "flatten", "flip", "fliplr", "flipud", "hstack", "meshgrid", "moveaxis", "pad", "ravel",
           "repeat", "reshape", "roll", "rollaxis", "split", "squeeze", "stack", "swapaxes", "tile",
           "transpose", "unflatten", "vstack"]


class Reshape(Function):
    array_backward = True
    _view_op = True  # (when the memory allows it: otherwise reshape copies)

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
    _view_op = True

    @staticmethod
    def forward(ctx, x, *, axes):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        axes = ctx.axes
        inverse = None if axes is None else tuple(np.argsort(axes))
        return transpose(grad, inverse)


class BroadcastTo(Function):
    @staticmethod
    def forward(ctx, x, *, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums the gradient back to the input's shape


class SumTo(Function):
    """Sum a broadcast array back to `shape`: the adjoint of broadcast_to."""

    name = "sum_to"

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return sum_to_shape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.shape)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        axis = ctx.axis % grad.ndim
        grads = []
        start = 0
        for n in ctx.sizes:
            index = (slice(None),) * axis + (slice(start, start + n),)
            grads.append(getitem(grad, index))
            start += n
        return tuple(grads)


class Pad(Function):
    @staticmethod
    def forward(ctx, x, *, widths, value):
        ctx.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        if not widths:  # a 0-d tensor: nothing to pad (np.pad rejects empty widths)
            return x.copy()
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        return getitem(grad, ctx.index)


class Cast(Function):
    array_backward = True

    name = "astype"

    @staticmethod
    def forward(ctx, x, *, dtype, order="K"):
        ctx.dtype = x.dtype
        return x.astype(dtype, order=order)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.dtype)


def sum_to_shape(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum an array over the axes that broadcasting to its shape added (arrays only)."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(shape) if lead else out


def _reshape_method(self: Tensor, *shape: Any, order: str = "C", copy: bool | None = None
                    ) -> Tensor:
    """t.reshape(2, 3) or t.reshape((2, 3)), as ndarray's method (its order= and copy=)."""
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    return reshape(self, shape, order=order, copy=copy)


@register(np.reshape, method=[("reshape", _reshape_method)])
def reshape(x: Any, shape: int | Sequence[int], order: str = "C", *,
            copy: bool | None = None) -> Tensor:
    """The same values in a new shape (one dimension may be -1), read and written row by row
    (order 'C'), column by column ('F'), or 'F' for a Fortran-contiguous tensor ('A'), as
    np.reshape. `copy=True` copies; `copy=False` refuses, as NumPy, a reshape that is no view.

    >>> import autodiff as ad
    >>> ad.reshape(ad.arange(6.0), (2, -1)).shape
    (2, 3)
    >>> ad.reshape(ad.arange(6.0), (2, 3), order="F")
    tensor([[0., 2., 4.],
            [1., 3., 5.]])
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    if order == "A":
        order = "F" if x.data.flags.f_contiguous and not x.data.flags.c_contiguous else "C"
    if copy is False:
        try:
            np.reshape(x.data, shape, order=order, copy=False)
        except ValueError as e:
            raise ValueError(f"reshape: copy=False, but the tensor of shape {x.shape} cannot "
                             f"be reshaped to {shape} without a copy ({e})") from None
    try:
        if order == "F":  # column by column: the reversed axes, reshaped row by row
            out = transpose(Reshape.apply(transpose(x), shape=shape[::-1]))
        else:
            out = Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None
    return out.copy() if copy else out


def _flatten_method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """t.flatten(): given an order (a string, or order=), NumPy's ndarray.flatten(order='C')
    (see ravel); otherwise PyTorch's Tensor.flatten(start_dim=0, end_dim=-1) (see flatten).
    Without arguments the two agree: a 1-D tensor."""
    if (args and isinstance(args[0], str)) or "order" in kwargs:
        return ravel(self, *args, **kwargs)
    return flatten(self, *args, **kwargs)


@register(method=("flatten", _flatten_method))
def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """The axes from `start_dim` to `end_dim` (both included) merged into one, as
    torch.flatten (NumPy has no such function; `t.flatten('F')`, given an order, is ndarray's
    method). A 0-d tensor becomes 1-d. The result is a view (PyTorch returns the input itself
    when there is nothing to merge; here, a view of it).

    >>> import autodiff as ad
    >>> x = ad.ones((2, 3, 4, 5))
    >>> ad.flatten(x).shape, ad.flatten(x, 1).shape, x.flatten(1, 2).shape
    ((120,), (2, 60), (2, 12, 5))
    """
    x = as_tensor(x)
    n = x.ndim or 1
    start, end = (normalize_axis("flatten", d, n) for d in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"(a tensor of {x.ndim} dimensions)")
    if x.ndim == 0:
        return reshape(x, (1,))
    merged = int(np.prod(x.shape[start:end + 1]))
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1:]))


@register(method=True)
def unflatten(x: Any, axis: int, sizes: Sequence[int]) -> Tensor:
    """Axis `axis` split into axes of `sizes` (one of them may be -1), as torch.unflatten: the
    inverse of flatten. (PyTorch calls the axis `dim`; so does `t.unflatten(1, (2, 3))`,
    positionally.)

    >>> import autodiff as ad
    >>> ad.unflatten(ad.ones((2, 12)), 1, (3, -1)).shape
    (2, 3, 4)
    """
    x = as_tensor(x)
    a = normalize_axis("unflatten", axis, x.ndim)
    try:
        sizes = tuple(operator.index(s) for s in sizes)
    except TypeError:
        raise TypeError(f"unflatten: sizes must be a sequence of integers, got {sizes!r}") \
            from None
    n = x.shape[a]
    known = int(np.prod([s for s in sizes if s != -1]))
    if not sizes or sizes.count(-1) > 1 or any(s < -1 for s in sizes) or (
            n != known if -1 not in sizes else known == 0 or n % known):
        raise ValueError(f"unflatten: sizes {sizes} do not split axis {axis} of size {n} "
                         f"(shape {x.shape}); their product must be {n}, one of them may be -1")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(x, (*x.shape[:a], *sizes, *x.shape[a + 1:]))


def _transpose_method(self: Tensor, *axes: Any) -> Tensor:
    """t.transpose(), t.transpose(1, 0, 2) or t.transpose((1, 0, 2)), as ndarray's method.
    t.transpose(0, 1) of a 2-D tensor, which NumPy reads as "leave the axes as they are" and
    PyTorch as "swap them", warns and does NumPy's: say t.T or t.swapaxes(0, 1) to swap,
    t.transpose((0, 1)) to keep them."""
    if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
        axes = tuple(axes[0])
    elif self.ndim == 2 and len(axes) == 2 and normalize_axes("transpose", axes, 2) == (0, 1):
        warnings.warn(
            f"transpose{axes} of a 2-D tensor leaves its axes where they are: NumPy's "
            "transpose takes the order of all the axes. PyTorch's transpose(0, 1) swaps two "
            "axes: that is t.T or t.swapaxes(0, 1) here. To mean NumPy's without this "
            "warning, give the order as one tuple: t.transpose((0, 1)).", stacklevel=2)
    return transpose(self, axes or None)


@register(np.transpose, method=("transpose", _transpose_method))
def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when `axes` is None), as np.transpose.

    >>> import autodiff as ad
    >>> ad.transpose(ad.ones((2, 3, 4))).shape
    (4, 3, 2)
    >>> ad.transpose(ad.ones((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    x = as_tensor(x)
    if axes is not None:
        axes = normalize_axes("transpose", axes, x.ndim)
        if len(axes) != x.ndim:
            swap = " (PyTorch's transpose(dim0, dim1) swaps two axes: that is swapaxes(dim0, " \
                "dim1) here)" if len(axes) == 2 else ""
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of shape {x.shape}{swap}")
    return Transpose.apply(x, axes=axes)


@register(np.swapaxes, method=True)
def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes.

    >>> import autodiff as ad
    >>> ad.swapaxes(ad.ones((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    x = as_tensor(x)
    axis1, axis2 = (normalize_axis("swapaxes", a, x.ndim) for a in (axis1, axis2))
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@register(np.moveaxis)
def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions; the others keep their order (np.moveaxis).

    >>> import autodiff as ad
    >>> ad.moveaxis(ad.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    >>> ad.moveaxis(ad.ones((2, 3, 4)), (0, 1), (2, 0)).shape
    (3, 4, 2)
    """
    a = as_tensor(a)
    src = normalize_axes("moveaxis", source, a.ndim)
    dst = normalize_axes("moveaxis", destination, a.ndim)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have "
                         "the same number of elements")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


@register(np.rollaxis)
def rollaxis(a: Any, axis: int, start: int = 0) -> Tensor:
    """Move `axis` to sit before the axis now at `start` (np.rollaxis; moveaxis says it more
    plainly).

    >>> import autodiff as ad
    >>> ad.rollaxis(ad.ones((2, 3, 4)), 2).shape
    (4, 2, 3)
    >>> ad.rollaxis(ad.ones((2, 3, 4)), 0, 2).shape
    (3, 2, 4)
    """
    a = as_tensor(a)
    n = a.ndim
    axis = normalize_axis("rollaxis", axis, n)
    at = operator.index(start)
    at += n if at < 0 else 0
    if not 0 <= at <= n:
        raise AxisError(f"rollaxis: start {start} is out of range for a tensor of {n} "
                        f"dimensions ({-n} <= start <= {n})")
    order = [i for i in range(n) if i != axis]
    order.insert(at - 1 if axis < at else at, axis)
    return transpose(a, order)


@register(np.broadcast_to, method=True)
def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Repeat along new or size-1 axes to `shape` (a view); the gradient sums back.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> ad.broadcast_to(x, (3, 2)).sum().backward()
    >>> x.grad
    tensor([3., 3.])
    """
    x = as_tensor(x)
    shape = tuple(shape) if not isinstance(shape, int) else (shape,)
    if x.shape == shape:
        return x
    try:
        return BroadcastTo.apply(x, shape=shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}") from None


@register(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape (read-only views, as NumPy's); each
    gradient sums back to its input's shape. `subok` has no effect: the results are tensors.

    >>> import autodiff as ad
    >>> a, b = ad.broadcast_arrays(ad.ones((2, 1)), ad.zeros(3))
    >>> a.shape, b.shape
    ((2, 3), (2, 3))
    """
    ts = [as_tensor(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise ValueError(f"broadcast_arrays: shapes {[t.shape for t in ts]} cannot be "
                         "broadcast together") from None
    return tuple(BroadcastTo.apply(t, shape=shape) for t in ts)


@register(np.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False,
             indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate tensors from 1-D coordinate vectors (np.meshgrid): with indexing 'xy' the
    first two axes are (y, x), as in plotting; with 'ij', (x, y). `sparse=True` leaves them
    unbroadcast (each has one axis longer than 1); `copy=False` gives broadcast views.

    >>> import autodiff as ad
    >>> X, Y = ad.meshgrid(ad.tensor([1.0, 2.0, 3.0]), ad.tensor([10.0, 20.0]))
    >>> X.shape, Y.shape
    ((2, 3), (2, 3))
    >>> Y
    tensor([[10., 10., 10.],
            [20., 20., 20.]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [as_tensor(x) for x in xi]
    shapes = [[-1 if i == j else 1 for j in range(len(ts))] for i in range(len(ts))]
    if indexing == "xy" and len(ts) > 1:
        shapes[0][:2], shapes[1][:2] = [1, -1], [-1, 1]
    out = [reshape(t, tuple(s)) for t, s in zip(ts, shapes)]
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(o.copy() for o in out) if copy else tuple(out)


def sum_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum `x` over the axes that broadcasting added, back to `shape`."""
    if x.shape == shape:
        return x
    return SumTo.apply(x, shape=shape)


@register(np.expand_dims, method=True)
def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert axes of size 1 at `axis`.

    >>> import autodiff as ad
    >>> ad.expand_dims(ad.ones((2, 3)), 0).shape
    (1, 2, 3)
    """
    x = as_tensor(x)
    n_new = 1 if hasattr(axis, "__index__") else len(axis)  # type: ignore[arg-type]
    new = normalize_axes("expand_dims", axis, x.ndim + n_new)
    sizes = iter(x.shape)
    return reshape(x, tuple(1 if i in new else next(sizes) for i in range(x.ndim + n_new)))


@register(np.squeeze, method=True)
def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove axes of size 1 (only `axis` when given; it must have size 1).

    >>> import autodiff as ad
    >>> ad.squeeze(ad.ones((1, 3, 1))).shape
    (3,)
    >>> ad.squeeze(ad.ones((1, 3, 1)), axis=0).shape
    (3, 1)
    """
    x = as_tensor(x)
    if axis is None:
        drop = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        drop = normalize_axes("squeeze", axis, x.ndim)
        if any(x.shape[i] != 1 for i in drop):
            raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have size 1 "
                             "(NumPy's squeeze refuses it; PyTorch's squeeze(dim) would leave "
                             "it as it is)")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


@register(np.ravel, method=True)
def ravel(a: Any, order: str = "C") -> Tensor:
    """The elements as a 1-D tensor (np.ravel), read row by row (order 'C'), column by
    column ('F'), or as NumPy reads the tensor's memory ('A': 'F' when the data is
    Fortran-contiguous, else 'C'; 'K': in memory order). `t.flatten(order)` is the same.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.ravel(x), ad.ravel(x, order="F")
    (tensor([1., 2., 3., 4.]), tensor([1., 3., 2., 4.]))
    """
    a = as_tensor(a)
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"ravel: order must be 'C', 'F', 'A' or 'K', got {order!r}")
    data = a.data
    if order == "A":
        order = "F" if data.flags.f_contiguous and not data.flags.c_contiguous else "C"
    if order == "C":
        return reshape(a, (-1,))
    return reshape(transpose(a, None if order == "F" else _memory_order(data)), (-1,))


def _memory_order(data: np.ndarray) -> list[int]:
    """The axes, outermost first, in the order NumPy's order='K' reads `data`: by decreasing
    |stride|, C order where that says nothing (a stride 0 or an axis of size 1); negative
    strides are read in index order. (NumPy's nditer's insertion sort, for one operand.)"""
    strides = [0 if n == 1 else s for n, s in zip(data.shape, data.strides)]
    perm = list(range(data.ndim))[::-1]  # innermost first
    for i0 in range(1, data.ndim):
        at, s0 = i0, strides[perm[i0]]
        for i1 in range(i0 - 1, -1, -1):
            s1 = strides[perm[i1]]
            if s0 and s1:
                if abs(s1) <= abs(s0):
                    break
                at = i1
        perm.insert(at, perm.pop(i0))
    return perm[::-1]


def _at_least(arys: Sequence[Any], ndim: int) -> list[Tensor]:
    """Each as a tensor of at least `ndim` dimensions, with NumPy's placement of the new
    axes: () -> (1, 1, 1); (n,) -> (1, n) and (1, n, 1); (m, n) -> (m, n, 1)."""
    out = []
    for a in arys:
        t = as_tensor(a)
        s = t.shape
        if len(s) < ndim:
            s = (1,) * ndim if not s else (1, *s, 1)[:ndim] if len(s) == 1 else (*s, 1)
        out.append(reshape(t, s))
    return out


@register(np.atleast_1d)
def atleast_1d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least one dimension (a 0-d one becomes shape (1,)); one tensor for
    one input, a tuple for several (np.atleast_1d).

    >>> import autodiff as ad
    >>> ad.atleast_1d(ad.tensor(2.0)).shape
    (1,)
    """
    out = _at_least(arys, 1)
    return out[0] if len(out) == 1 else tuple(out)


@register(np.atleast_2d)
def atleast_2d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least two dimensions: (n,) becomes (1, n) (np.atleast_2d).

    >>> import autodiff as ad
    >>> ad.atleast_2d(ad.ones(3)).shape
    (1, 3)
    """
    out = _at_least(arys, 2)
    return out[0] if len(out) == 1 else tuple(out)


@register(np.atleast_3d)
def atleast_3d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least three dimensions: (n,) becomes (1, n, 1) and (m, n) becomes
    (m, n, 1) (np.atleast_3d).

    >>> import autodiff as ad
    >>> [t.shape for t in ad.atleast_3d(ad.ones(3), ad.ones((2, 3)))]
    [(1, 3, 1), (2, 3, 1)]
    """
    out = _at_least(arys, 3)
    return out[0] if len(out) == 1 else tuple(out)


@register(np.concatenate)
def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (np.concatenate; axis None joins them flattened).

    >>> import autodiff as ad
    >>> ad.concatenate([ad.ones((1, 2)), ad.zeros((2, 2))], axis=0).shape
    (3, 2)
    """
    ts = _as_same_dtype(tensors, "concatenate")
    shapes = [t.shape for t in ts]
    if axis is None:  # NumPy's rule: flatten first (0-d tensors too)
        return concatenate([reshape(t, (-1,)) for t in ts], axis=0)
    if any(not t.ndim for t in ts):
        raise ValueError(f"concatenate: zero-dimensional arrays cannot be concatenated "
                         f"(shapes {shapes})")
    axis = normalize_axis("concatenate", axis, ts[0].ndim)
    try:
        return Concatenate.apply(*ts, axis=axis)
    except ValueError as e:
        raise ValueError(f"concatenate along axis {axis}: shapes {shapes} do not fit "
                         f"({e})") from None


@register(np.stack)
def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis (np.stack).

    >>> import autodiff as ad
    >>> ad.stack([ad.ones(2), ad.zeros(2)], axis=1)
    tensor([[1., 0.],
            [1., 0.]])
    """
    ts = _as_same_dtype(tensors, "stack")
    shapes = {t.shape for t in ts}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors need the same shape, got {[t.shape for t in ts]}")
    axis = normalize_axis("stack", axis, ts[0].ndim + 1)
    return concatenate([expand_dims(t, axis) for t in ts], axis=axis)


def _joined(op: str, ts: list[Tensor], axis: int, dtype: Any = None,
            casting: str = "same_kind") -> Tensor:
    """concatenate for the stacking functions, with NumPy's dtype= and casting= checks and
    errors that name `op`."""
    if dtype is not None or casting != "same_kind":
        target = np.dtype(dtype) if dtype is not None else np.result_type(*(t.dtype for t in ts))
        for t in ts:
            if not np.can_cast(t.dtype, target, casting):
                raise TypeError(f"{op}: cannot cast a tensor of dtype {t.dtype} to {target} "
                                f"with casting={casting!r}")
        ts = [t if t.dtype == target else astype(t, target) for t in ts]
    try:
        return concatenate(ts, axis=axis)
    except ValueError as e:
        raise ValueError(f"{op}: {e}") from None


def _sequence(op: str, tup: Any) -> Sequence[Any]:
    if isinstance(tup, Tensor | np.ndarray) or not isinstance(tup, Sequence) or not tup:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors, got "
                        f"{type(tup).__name__}")
    return tup


@register(np.vstack)
def vstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    """Join along the first axis, 1-D tensors as rows (np.vstack).

    >>> import autodiff as ad
    >>> ad.vstack([ad.ones(2), ad.zeros((2, 2))])
    tensor([[1., 1.],
            [0., 0.],
            [0., 0.]])
    """
    ts = _at_least(_weak_constants(_sequence("vstack", tup)), 2)
    return _joined("vstack", ts, 0, dtype, casting)


@register(np.hstack)
def hstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    """Join along the second axis (the first for 1-D tensors), as np.hstack.

    >>> import autodiff as ad
    >>> ad.hstack([ad.ones(2), ad.zeros(1)])
    tensor([1., 1., 0.])
    """
    ts = _at_least(_weak_constants(_sequence("hstack", tup)), 1)
    return _joined("hstack", ts, 0 if ts[0].ndim == 1 else 1, dtype, casting)


@register(np.dstack)
def dstack(tup: Sequence[Any]) -> Tensor:
    """Join along the third axis, after atleast_3d (np.dstack).

    >>> import autodiff as ad
    >>> ad.dstack([ad.ones((2, 3)), ad.zeros((2, 3))]).shape
    (2, 3, 2)
    """
    return _joined("dstack", _at_least(_weak_constants(_sequence("dstack", tup)), 3), 2)


@register(np.column_stack)
def column_stack(tup: Sequence[Any]) -> Tensor:
    """Join 1-D tensors as columns (and 2-D ones as blocks of columns), as np.column_stack.

    >>> import autodiff as ad
    >>> ad.column_stack([ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0])])
    tensor([[1., 3.],
            [2., 4.]])
    """
    ts = _weak_constants(_sequence("column_stack", tup))
    return _joined("column_stack", [t if t.ndim >= 2 else reshape(t, (-1, 1)) for t in ts], 1)


@register(np.split)
def split(ary: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int) or at the given indices (np.split).

    >>> import autodiff as ad
    >>> [t.shape for t in ad.split(ad.arange(6.0), [1, 4])]
    [(1,), (3,), (2,)]
    """
    return _split("split", ary, indices_or_sections, axis)


@register(np.array_split)
def array_split(ary: Any, indices_or_sections: int | Sequence[int],
                axis: int = 0) -> list[Tensor]:
    """np.array_split: as split, but n sections need not be equal: the first size % n get
    one element more.

    >>> import autodiff as ad
    >>> [t.tolist() for t in ad.array_split(ad.arange(5.0), 3)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    return _split("array_split", ary, indices_or_sections, axis)


def _split(op: str, ary: Any, indices_or_sections: Any, axis: int) -> list[Tensor]:
    """The pieces between the indices, sliced as NumPy slices them (negative indices count
    from the end; an index below the previous one gives an empty piece)."""
    x = as_tensor(ary)
    axis = normalize_axis(op, axis, x.ndim)
    n = x.shape[axis]
    try:
        cuts = list(indices_or_sections)
    except TypeError:  # not a sequence: a number of sections
        k = operator.index(indices_or_sections)
        if k <= 0:
            raise ValueError(f"{op}: the number of sections must be > 0, got {k}") from None
        if op == "split" and n % k:
            raise ValueError(f"split: axis {axis} of size {n} does not divide into {k} "
                             "equal sections (array_split allows unequal ones)") from None
        size, extra = divmod(n, k)
        bounds = np.cumsum([0] + [size + 1] * extra + [size] * (k - extra)).tolist()
    else:
        bounds = [0, *(operator.index(i) for i in cuts), n]
    pre = (slice(None),) * axis
    return [getitem(x, (*pre, slice(lo, hi))) for lo, hi in itertools.pairwise(bounds)]


def _tile_method(self: Tensor, *reps: Any) -> Tensor:
    """t.tile(2, 1) or t.tile((2, 1)), as PyTorch's Tensor.tile (NumPy's ndarray has none)."""
    return tile(self, reps[0] if len(reps) == 1 else reps)


@register(np.tile, method=("tile", _tile_method))
def tile(A: Any, reps: int | Sequence[int]) -> Tensor:
    """The whole tensor repeated `reps` times along each axis (np.tile); `reps` and the shape
    are padded with leading 1s to the same length. The gradient sums the copies.

    >>> import autodiff as ad
    >>> ad.tile(ad.tensor([1.0, 2.0]), (2, 2))
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    A = as_tensor(A)
    try:
        reps = tuple(operator.index(r) for r in ((reps,) if hasattr(reps, "__index__")
                                                  else reps))
    except TypeError:
        raise TypeError(f"tile: reps must be an integer or a sequence of integers, got "
                        f"{reps!r}") from None
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be >= 0, got {reps}")
    d = max(A.ndim, len(reps))
    shape = (1,) * (d - A.ndim) + A.shape
    reps = (1,) * (d - len(reps)) + reps
    x = reshape(A, tuple(itertools.chain.from_iterable((1, n) for n in shape)))
    x = broadcast_to(x, tuple(itertools.chain.from_iterable(zip(reps, shape))))
    return reshape(x, tuple(r * n for r, n in zip(reps, shape)))


def _repeat_method(self: Tensor, repeats: Any, *more: Any, axis: int | None = None) -> Tensor:
    """t.repeat(repeats, axis=None): NumPy's ndarray.repeat, each element repeated. The axis is
    keyword-only here: PyTorch's t.repeat(2, 1) tiles the whole tensor, so a second positional
    argument is refused, with both spellings in the message."""
    if more:
        sizes = ", ".join(repr(r) for r in (repeats, *more))
        raise TypeError(
            f"repeat: t.repeat({sizes}) is PyTorch's spelling, which tiles the whole tensor: "
            f"that is t.tile({sizes}) here. This method is NumPy's ndarray.repeat, which "
            f"repeats each element, and takes the axis by keyword: t.repeat({repeats!r}, "
            f"axis={more[0]!r})")
    return repeat(self, repeats, axis)


@register(np.repeat, method=("repeat", _repeat_method))
def repeat(a: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Each element repeated `repeats` times (an int, or one count per element along `axis`),
    along `axis` (of the flattened tensor when None), as np.repeat. A gather (take): the
    gradient sums the copies.

    >>> import autodiff as ad
    >>> ad.repeat(ad.tensor([1.0, 2.0]), [1, 3])
    tensor([1., 2., 2., 2.])
    >>> ad.repeat(ad.tensor([[1.0, 2.0]]), 2, axis=0)
    tensor([[1., 2.],
            [1., 2.]])
    """
    a = as_tensor(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    axis = normalize_axis("repeat", axis, a.ndim)
    n = a.shape[axis]
    counts = integer_array("repeat", "repeats", repeats)
    if counts.ndim > 1 or counts.size not in (1, n):
        raise ValueError(f"repeat: repeats of shape {counts.shape} do not fit axis {axis} of "
                         f"size {n} (one count, or one per element; PyTorch's t.repeat(sizes), "
                         "the whole tensor tiled, is t.tile(sizes) here)")
    if counts.min() < 0:
        raise ValueError(f"repeat: repeats must be >= 0, got {counts.min()}")
    return take(a, np.repeat(np.arange(n), np.broadcast_to(counts, (n,))), axis=axis)


@register(np.flip)
def flip(m: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """The elements in reverse order along `axis` (all axes when None), as np.flip.

    >>> import autodiff as ad
    >>> ad.flip(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([[2., 1.],
            [4., 3.]])
    """
    m = as_tensor(m)
    axes = range(m.ndim) if axis is None else normalize_axes("flip", axis, m.ndim)
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(m.ndim)))


@register(np.fliplr)
def fliplr(m: Any) -> Tensor:
    """Reverse the columns, axis 1 (np.fliplr; at least 2-D).

    >>> import autodiff as ad
    >>> ad.fliplr(ad.tensor([[1.0, 2.0]]))
    tensor([[2., 1.]])
    """
    m = as_tensor(m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: needs at least 2 dimensions, got shape {m.shape}")
    return flip(m, 1)


@register(np.flipud)
def flipud(m: Any) -> Tensor:
    """Reverse the rows, axis 0 (np.flipud; at least 1-D).

    >>> import autodiff as ad
    >>> ad.flipud(ad.tensor([1.0, 2.0]))
    tensor([2., 1.])
    """
    m = as_tensor(m)
    if m.ndim < 1:
        raise ValueError("flipud: needs at least 1 dimension, got a 0-d tensor")
    return flip(m, 0)


@register(np.roll)
def roll(a: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """Shift the elements cyclically by `shift` along `axis` (np.roll): those that leave one
    end come back at the other. Several axes take one shift each (shifts of a repeated axis
    add up); axis None rolls the flattened tensor.

    >>> import autodiff as ad
    >>> ad.roll(ad.tensor([1.0, 2.0, 3.0, 4.0]), 1)
    tensor([4., 1., 2., 3.])
    """
    a = as_tensor(a)
    if axis is None:
        return reshape(roll(reshape(a, (-1,)), shift, 0), a.shape)
    shifts, axes = np.asarray(shift), np.asarray(axis)
    if shifts.dtype.kind not in "iu" or axes.dtype.kind not in "iu":
        raise TypeError(f"roll: shift and axis must be integers, got shift={shift!r}, "
                        f"axis={axis!r}")
    try:
        pairs = np.broadcast(shifts, axes)
    except ValueError:
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} do not pair up") from None
    if pairs.ndim > 1:
        raise ValueError("roll: shift and axis must be integers or 1-D sequences")
    total = [0] * a.ndim
    for s, ax in pairs:
        total[normalize_axis("roll", ax, a.ndim)] += int(s)
    out = a
    for ax, s in enumerate(total):
        n = a.shape[ax]
        if n and s % n:
            k = n - s % n  # the first k elements move to the end
            pre = (slice(None),) * ax
            out = concatenate([getitem(out, (*pre, slice(k, None))),
                               getitem(out, (*pre, slice(None, k)))], axis=ax)
    return out if out is not a else getitem(a, Ellipsis)


@register(np.diff)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The n-th difference along `axis`: out[i] = a[i + 1] - a[i], applied n times, after
    joining `prepend` and `append` to the ends (a number fills one slice), as np.diff (None,
    the default, joins nothing). Boolean tensors give a != as NumPy's.

    >>> import autodiff as ad
    >>> ad.diff(ad.tensor([1.0, 4.0, 9.0, 16.0]))
    tensor([3., 5., 7.])
    >>> ad.diff(ad.tensor([1.0, 4.0, 9.0]), n=2, prepend=0)
    tensor([2., 2.])
    """
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: the order n must be >= 0, got {n}")
    x = as_tensor(a)
    if n == 0:
        return x
    if x.ndim == 0:
        raise ValueError("diff: needs a tensor of at least 1 dimension, got a 0-d tensor")
    axis = normalize_axis("diff", axis, x.ndim)
    parts = [x]
    if prepend is not None:
        parts.insert(0, _end_slice(prepend, x, axis))
    if append is not None:
        parts.append(_end_slice(append, x, axis))
    if len(parts) > 1:
        x = concatenate(parts, axis=axis)
    pre = (slice(None),) * axis
    for _ in range(n):
        hi, lo = getitem(x, (*pre, slice(1, None))), getitem(x, (*pre, slice(None, -1)))
        x = hi != lo if x.dtype == np.bool_ else hi - lo
    return x


def _end_slice(value: Any, x: Tensor, axis: int) -> Tensor:
    """diff's prepend or append: a constant takes x's dtype; a number fills one slice."""
    t = value if isinstance(value, Tensor) else Tensor._make(constant_like(value, x.dtype),
                                                              None, 0)
    return broadcast_to(t, (*x.shape[:axis], 1, *x.shape[axis + 1:])) if t.ndim == 0 else t


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "empty")


@register(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", *, constant_values: Any = None,
        reflect_type: str | None = None) -> Tensor:
    """Pad every axis as np.pad does, in the modes a gradient makes sense for: 'constant'
    (`constant_values`, 0 by default), 'edge', 'reflect' and 'symmetric' (`reflect_type`
    'even', the default, or 'odd'), 'wrap', and 'empty' (zeros; NumPy leaves them unset).
    `pad_width` and `constant_values` take NumPy's forms: a number, a (before, after) pair,
    one pair per axis; `pad_width` also a dict {axis: width or pair}. Each output element's
    gradient goes to the input elements it was made from; a constant padding gets none.
    Modes 'linear_ramp', 'maximum', 'mean', 'median', 'minimum' and callables are refused.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0]], requires_grad=True)
    >>> ad.pad(x, 1)
    tensor([[0., 0., 0.],
            [0., 1., 0.],
            [0., 0., 0.]], grad_fn=<pad>)
    >>> ad.pad(x, 1).sum().backward()
    >>> x.grad
    tensor([[1.]])
    >>> ad.pad(ad.tensor([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    tensor([3., 2., 1., 2., 3., 2.])
    """
    x = as_tensor(array)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; the modes are "
                         f"{', '.join(_PAD_MODES)}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values is an argument of mode 'constant', not {mode!r}")
    if reflect_type is not None and mode not in ("reflect", "symmetric"):
        raise ValueError(f"pad: reflect_type is an argument of modes 'reflect' and "
                         f"'symmetric', not {mode!r}")
    if reflect_type not in (None, "even", "odd"):
        raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {reflect_type!r}")
    widths = _pad_widths(pad_width, x)
    if mode in ("constant", "empty") or not x.ndim:
        return Pad.apply(x, widths=widths, value=_constant_values(constant_values, x))
    for axis, (lo, hi) in enumerate(widths):
        if x.shape[axis] == 0 and (lo or hi):
            raise ValueError(f"pad: cannot extend axis {axis} of size 0 (shape {x.shape}) "
                             f"with mode {mode!r}; only 'constant' and 'empty' can")
    out = x
    for axis, (lo, hi) in enumerate(widths):  # one axis after the other, as NumPy
        if lo or hi:
            out = _pad_axis(out, axis, lo, hi, mode, reflect_type == "odd")
    return out if out is not x else x.copy()


def _pad_axis(x: Tensor, axis: int, lo: int, hi: int, mode: str, odd: bool) -> Tensor:
    """x padded along one axis. Each output element is an input element: a gather at the
    positions np.pad itself gives to np.arange(n). With reflect_type='odd' each is a
    combination of input elements (2 * edge - reflection, repeatedly): a product with the
    matrix np.pad makes of the identity, exact, (n + lo + hi) x n per line along the axis."""
    n = x.shape[axis]
    if not odd or n == 1:  # (NumPy extends an axis of size 1 by its edge, odd or not)
        return take(x, np.pad(np.arange(n), (lo, hi), mode=mode), axis=axis)
    weights = np.pad(np.eye(n, dtype=x.dtype), ((lo, hi), (0, 0)), mode=mode,
                     reflect_type="odd")
    return moveaxis(moveaxis(x, axis, -1) @ weights.T, -1, axis)


def _pairs(op: str, what: str, value: Any, ndim: int) -> list[tuple[Any, Any]]:
    """NumPy's forms of a per-axis, per-side argument (np.pad's pad_width, constant_values)
    as one (before, after) pair per axis: a number, a pair, or one pair per axis."""
    v = np.asarray(value)
    if v.ndim < 3 and v.size == 1:
        return [(v.ravel()[0], v.ravel()[0])] * ndim
    if v.ndim < 3 and v.size == 2 and v.shape != (2, 1):
        return [(v.ravel()[0], v.ravel()[1])] * ndim
    try:
        return [tuple(p) for p in np.broadcast_to(v, (ndim, 2)).tolist()]
    except ValueError:
        raise ValueError(f"{op}: {what} {value!r} does not fit a tensor of {ndim} dimensions "
                         "(a number, a (before, after) pair, or one pair per axis)") from None


def _pad_widths(pad_width: Any, x: Tensor) -> tuple[tuple[int, int], ...]:
    if isinstance(pad_width, dict):
        seq = [(0, 0)] * x.ndim
        for axis, w in pad_width.items():
            seq[normalize_axis("pad", axis, x.ndim)] = (w, w) if hasattr(w, "__index__") else w
        pad_width = seq
    try:
        kind = np.asarray(pad_width).dtype.kind
    except ValueError:  # ragged
        kind = "O"
    if kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers (a number, a pair, one pair per "
                        f"axis), got {pad_width!r}")
    widths = tuple((int(a), int(b)) for a, b in _pairs("pad", "pad_width", pad_width, x.ndim))
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError(f"pad: widths must be >= 0, got {pad_width!r}")
    return widths


def _constant_values(values: Any, x: Tensor) -> Any:
    if values is None:
        return 0
    if isinstance(values, Tensor):
        if values.requires_grad:
            raise TypeError("pad: constant_values is a tensor that requires grad; the padding "
                            "carries no gradient back to it. Pass values.detach(), or join "
                            "the tensors with ad.concatenate to differentiate the padding")
        values = values.data
    return _pairs("pad", "constant_values", values, x.ndim)


def _copy_method(self: Tensor, order: str = "C") -> Tensor:
    """A copy of the data, differentiable: ndarray's `copy(order='C')`, laid out in memory as
    `order` says ('C' row by row, 'F' column by column, 'A' or 'K' as the tensor is), and
    PyTorch's `clone()`."""
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"copy: order must be 'C', 'F', 'A' or 'K', got {order!r}")
    if self.dtype.kind != "f":
        return Tensor._make(self.data.copy(order), None, 0)
    return Cast.apply(self, dtype=self.dtype, order=order)


@register(np.astype, method=[True, ("copy", _copy_method), ("clone", _copy_method)])
def astype(x: Any, dtype: Any) -> Tensor:
    """Convert to `dtype`; differentiable between floating dtypes, a constant otherwise.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.5, 2.5], requires_grad=True)
    >>> y = ad.astype(x, 'float64')
    >>> y.dtype
    dtype('float64')
    >>> y.sum().backward()
    >>> x.grad.dtype
    dtype('float32')
    """
    x = as_tensor(x)
    dt = np.dtype(dtype)
    if dt.kind == "c":
        raise TypeError(f"astype: tensors are real, so {dt} is refused (a tensor that requires "
                        "grad would also lose its graph); keep the real and imaginary parts as "
                        "two tensors")
    if dt.kind != "f":
        return Tensor._make(x.data.astype(dt), None, 0)
    return Cast.apply(x, dtype=dt)


def _as_same_dtype(tensors: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    ts = _weak_constants(tensors)
    floats = [t.data.dtype for t in ts if t.data.dtype.kind == "f"]
    if floats:
        target = np.result_type(*floats)
        ts = [t if t.data.dtype == target else astype(t, target) for t in ts]
    return ts


def _weak_constants(items: Sequence[Any]) -> list[Tensor]:
    """Tensors as they are; constants (numbers, lists, arrays) as tensors of the floating
    tensors' dtype, as in a binary op (joined with float64 tensors, 0.1 stays 0.1; a float64
    array joined with float32 tensors does not make the result float64); without a floating
    tensor, as they make tensors on their own."""
    floats = [t.data.dtype for t in items if isinstance(t, Tensor) and t.data.dtype.kind == "f"]
    target = np.result_type(*floats) if floats else None
    return [t if isinstance(t, Tensor) else
            Tensor(constant_like(t, target)) if target is not None else as_tensor(t)
            for t in items]

