"""Shape operations: reshape, transpose, broadcast_to / sum_to (each other's adjoint),
expand_dims, squeeze, concatenate, stack, split, pad, astype.

>>> import autodiff as ad
>>> x = ad.arange(6.0).reshape(2, 3)
>>> x.T.shape, ad.concatenate([x, x], axis=0).shape
((3, 2), (4, 3))
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.indexing import getitem
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["astype", "broadcast_to", "concatenate", "expand_dims", "pad", "reshape", "split",
           "squeeze", "stack", "swapaxes", "transpose"]


class Reshape(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Transpose(Function):
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
    def forward(ctx, x, *, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

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


def _reshape_method(self: Tensor, *shape: Any) -> Tensor:
    """t.reshape(2, 3) or t.reshape((2, 3)), as ndarray's method."""
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    return reshape(self, shape)


def _flatten_method(self: Tensor) -> Tensor:
    """t.flatten(): a 1-D tensor (ndarray's method)."""
    return reshape(self, (-1,))


@register(np.reshape, method=[("reshape", _reshape_method), ("flatten", _flatten_method)])
def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """The same values in a new shape (one dimension may be -1).

    >>> import autodiff as ad
    >>> ad.reshape(ad.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    x = as_tensor(x)
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
    try:
        return Reshape.apply(x, shape=shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({x.size} elements) into shape {shape}") from None


def _transpose_method(self: Tensor, *axes: Any) -> Tensor:
    """t.transpose(), t.transpose(1, 0, 2) or t.transpose((1, 0, 2)), as ndarray's method."""
    if len(axes) == 1 and not isinstance(axes[0], int | np.integer):
        axes = tuple(axes[0])
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
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.ndim} axes of shape {x.shape}")
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
            raise ValueError(f"squeeze: axis {axis} of shape {x.shape} does not have size 1")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


@register(np.concatenate)
def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (np.concatenate; axis None joins them flattened).

    >>> import autodiff as ad
    >>> ad.concatenate([ad.ones((1, 2)), ad.zeros((2, 2))], axis=0).shape
    (3, 2)
    """
    ts = _as_same_dtype(tensors, "concatenate")
    shapes = [t.shape for t in ts]
    if any(not t.ndim for t in ts):
        raise ValueError(f"concatenate: zero-dimensional arrays cannot be concatenated "
                         f"(shapes {shapes})")
    if axis is None:  # NumPy's rule: flatten first
        return concatenate([reshape(t, (-1,)) for t in ts], axis=0)
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


@register(np.split)
def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int) or at the given indices (np.split).

    >>> import autodiff as ad
    >>> [t.shape for t in ad.split(ad.arange(6.0), [1, 4])]
    [(1,), (3,), (2,)]
    """
    x = as_tensor(x)
    axis = normalize_axis("split", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, int | np.integer):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {axis} of size {n} does not divide into {k} "
                             "equal sections")
        bounds = list(range(0, n + 1, n // k))
    else:
        bounds = [0, *(min(int(i), n) for i in indices_or_sections), n]
    pre = (slice(None),) * axis
    return [getitem(x, (*pre, slice(lo, max(lo, hi)))) for lo, hi in itertools.pairwise(bounds)]


@register(np.pad)
def pad(x: Any, pad_width: Any, constant_values: float = 0) -> Tensor:
    """Pad with a constant (np.pad's `pad_width`: an int, a pair, or a pair per axis).

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0]], requires_grad=True)
    >>> ad.pad(x, 1)
    tensor([[0., 0., 0.],
            [0., 1., 0.],
            [0., 0., 0.]], grad_fn=<pad>)
    >>> ad.pad(x, 1).sum().backward()
    >>> x.grad
    tensor([[1.]])
    """
    x = as_tensor(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width} does not fit a tensor of shape "
                         f"{x.shape} (an int, a pair, or one pair per axis)") from None
    if (widths < 0).any():
        raise ValueError(f"pad: widths must be >= 0, got {pad_width}")
    widths = tuple((int(a), int(b)) for a, b in widths)
    return Pad.apply(x, widths=widths, value=constant_values)


def _copy_method(self: Tensor) -> Tensor:
    """A copy of the data, differentiable (ndarray's `copy`, PyTorch's `clone`)."""
    return astype(self, self.data.dtype)


@register(*([np.astype] if hasattr(np, "astype") else []),
          method=[True, ("copy", _copy_method), ("clone", _copy_method)])
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
    if dt.kind != "f":
        return Tensor._make(x.data.astype(dt), None, 0)
    return Cast.apply(x, dtype=dt)


def _as_same_dtype(tensors: Sequence[Any], op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    ts = [as_tensor(t) for t in tensors]
    floats = [t.data.dtype for t in ts if isinstance(t, Tensor) and t.data.dtype.kind == "f"]
    if floats:
        target = np.result_type(*floats)
        ts = [t if t.data.dtype == target else astype(t, target) for t in ts]
    return ts
