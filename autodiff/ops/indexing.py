"""Indexing: getitem (slices, integer arrays, boolean masks), its adjoint index_add, setitem
(out of place; `t[i] = v` writes its result in place), where, and the gathers built on
getitem: take, take_along_axis and sort (whose gradient follows its permutation).

Repeated integer indices accumulate their gradients (np.add.at).

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> x[[0, 0, 2]].sum().backward()
>>> x.grad
tensor([2., 0., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff.dtypes import constant_like
from autodiff.function import Function
from autodiff.ops._convert import as_tensor, pair
from autodiff.ops.axes import normalize_axis
from autodiff.ops.registry import register, register_method
from autodiff.tensor import Tensor

__all__ = ["getitem", "setitem", "sort", "take", "take_along_axis", "where"]


class GetItem(Function):
    name = "getitem"
    _view_op = True  # (when the index is basic: an advanced index copies)

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        ctx.shape = x.shape
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, index=ctx.index, shape=ctx.shape)


class IndexAdd(Function):
    """Scatter `x` into zeros of `shape` at `index`, adding where indices repeat."""

    name = "index_add"

    @staticmethod
    def forward(ctx, x, *, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x
        elif (rows := _row_index(index, out, x)) is not None:
            _add_rows(out, rows, x)
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index)


def _row_index(index: Any, out: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """The integer array of `index` when it picks whole rows of `out` (x[rows], take along
    axis 0, an embedding's lookup) with enough elements for `_add_rows` to pay off."""
    rows = index[0] if type(index) is tuple and len(index) == 1 else index
    if (isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and out.ndim > 1
            and x.size >= 4096):
        return rows
    return None


def _add_rows(out: np.ndarray, rows: np.ndarray, x: np.ndarray) -> None:
    """np.add.at(out, rows, x) for whole rows of a fresh `out`, as flat add.at calls on
    elements: the same sums in the same order, 3-4x faster than add.at over rows (the rows of
    x meet an index each in NumPy's slow path). Chunked to bound the flat indices' memory."""
    n, width = out.shape[0], out[0].size
    rows = np.where(rows < 0, rows + n, rows).astype(np.intp).reshape(-1)
    flat_out, flat_x = out.reshape(-1), x.reshape(len(rows), width)
    cols = np.arange(width, dtype=np.intp)
    step = max(1, (1 << 18) // max(width, 1))
    for i in range(0, len(rows), step):
        at = rows[i:i + step, None] * width + cols
        np.add.at(flat_out, at.reshape(-1), flat_x[i:i + step].reshape(-1))


class SetItem(Function):
    """x with x[index] = v: the gradient passes to x where v did not land, and to v from the
    places it landed (summed over v's broadcast by the engine)."""

    name = "setitem"

    @staticmethod
    def forward(ctx, x, v, *, index):
        out = x.copy()
        out[index] = v
        ctx.index, ctx.v_ndim = index, np.ndim(v)
        ctx.kept = np.ones(x.shape, dtype=bool)
        ctx.kept[index] = False  # the places x keeps
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_v = ctx.needs_input_grad
        gx = Where.apply(grad, np.zeros((), grad.dtype), cond=ctx.kept) if need_x else None
        gv = GetItem.apply(grad, index=ctx.index) if need_v else None
        if gv is not None and gv.ndim < ctx.v_ndim:  # NumPy let v carry leading 1s
            gv = gv.reshape((1,) * (ctx.v_ndim - gv.ndim) + gv.shape)
        return gx, gv


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, *, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad):
        cond = ctx.cond
        need_a, need_b = ctx.needs_input_grad
        ga = Where.apply(grad, np.zeros((), grad.dtype), cond=cond) if need_a else None
        gb = Where.apply(np.zeros((), grad.dtype), grad, cond=cond) if need_b else None
        return ga, gb


def _is_basic(index: Any) -> bool:
    items = index if type(index) is tuple else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, int | slice | np.integer)
               for i in items)


def plain_index(index: Any) -> Any:
    """Tensors inside an index become arrays; lists become arrays (NumPy's advanced indexing).
    Arrays are copied: the backward keeps the index, and the caller may write into theirs."""
    if type(index) is tuple:
        return tuple(plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.copy()
    if isinstance(index, list | np.ndarray):
        arr = np.array(index)
        if arr.size == 0 and type(index) is list:  # x[[]]: NumPy reads an empty list as
            arr = arr.astype(np.intp)  # integers (np.array([]) alone is float64)
        return arr
    return index


@register(method="__getitem__")
def getitem(x: Any, index: Any) -> Tensor:
    """x[index] as NumPy: slices, integers, None, Ellipsis, integer arrays, boolean masks.

    >>> import autodiff as ad
    >>> x = ad.arange(6.0).reshape(2, 3).requires_grad_()
    >>> ad.getitem(x, (slice(None), 1)).sum().backward()
    >>> x.grad
    tensor([[0., 1., 0.],
            [0., 1., 0.]])
    """
    x = as_tensor(x)
    index = plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} does not fit shape {x.shape}: {e}") from None


@register()
def setitem(x: Any, index: Any, value: Any) -> Tensor:
    """A copy of x with x[index] = value (NumPy's assignment, out of place); differentiable in
    x and value. Indices that repeat are refused (which value lands there is undefined).

    >>> import autodiff as ad
    >>> v = ad.tensor(5.0, requires_grad=True)
    >>> y = ad.setitem(ad.zeros(3), 1, v)
    >>> y
    tensor([0., 5., 0.], grad_fn=<setitem>)
    >>> (y * ad.tensor([1.0, 2.0, 3.0])).sum().backward()
    >>> v.grad
    tensor(2.)
    """
    x = as_tensor(x)
    index = plain_index(index)
    dt = x.data.dtype
    if not isinstance(value, Tensor):
        value = constant_like(value, dt)
    elif value.data.dtype != dt:
        value = value.astype(dt)
    if not _is_basic(index):
        _refuse_repeats(index, x.shape)
    try:
        return SetItem.apply(x, value, index=index)
    except (ValueError, IndexError, TypeError) as e:
        vs = value.shape
        raise type(e)(f"setitem: cannot write a value of shape {vs} into index {index!r} "
                      f"of a tensor of shape {x.shape}: {e}") from None


def _refuse_repeats(index: Any, shape: tuple[int, ...]) -> None:
    """Raise if an advanced index selects some element twice, or does not fit `shape`."""
    hits = np.zeros(shape, dtype=np.intp)
    try:
        np.add.at(hits, index, 1)
    except IndexError as e:
        raise IndexError(f"setitem: index {index!r} does not fit shape {shape}: {e}") from None
    if (hits > 1).any():
        raise ValueError(f"setitem: index {index!r} selects some elements of shape {shape} "
                         "more than once; which value lands there is undefined")


@register(np.where)
def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: a where cond is true, else b (np.where); broadcasts all three.

    >>> import autodiff as ad
    >>> x = ad.tensor([-1.0, 2.0])
    >>> ad.where(x > 0, x, 0).tolist()
    [0.0, 2.0]
    """
    # A copy: the backward keeps the condition, and the caller may write into theirs.
    c = np.array(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = pair(a, b, "where")
    try:
        return Where.apply(a, b, cond=c)
    except ValueError:
        sa = a.shape if isinstance(a, Tensor) else np.shape(a)
        sb = b.shape if isinstance(b, Tensor) else np.shape(b)
        raise ValueError(f"where: shapes {c.shape}, {sa} and {sb} cannot be broadcast "
                         "together") from None


def integer_array(op: str, what: str, values: Any) -> np.ndarray:
    """`values` (a list, an array, an integer tensor) as a new np.intp array (the backward
    keeps it, and the caller may write into theirs), cast as NumPy casts take's indices and
    repeat's counts: booleans count 0 and 1, floats truncate."""
    arr = np.asarray(values.data if isinstance(values, Tensor) else values)
    if arr.dtype.kind not in "biuf" and arr.size:
        raise TypeError(f"{op}: {what} must be integers, got dtype {arr.dtype}")
    return arr.astype(np.intp)


def _check_bounds(op: str, idx: np.ndarray, axis: int, n: int) -> None:
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"{op}: index {bad} is out of bounds for axis {axis} with size {n}")


@register(np.take, method=True)
def take(a: Any, indices: Any, axis: int | None = None, out: None = None,
         mode: str = "raise") -> Tensor:
    """Elements of `a` at `indices` along `axis` (of the flattened `a` when axis is None), as
    np.take: the result has shape a.shape[:axis] + indices.shape + a.shape[axis + 1:]. mode
    'raise': negative indices count from the end, others raise; 'wrap': indices modulo the
    size; 'clip': indices clipped into [0, size - 1] (negative ones to 0). The gradient adds
    up where an index repeats. `out` is not supported (the result is a new tensor).

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> ad.take(x, [2, 0, 2], axis=1)
    tensor([[3., 1., 3.],
            [6., 4., 6.]], grad_fn=<getitem>)
    >>> ad.take(x, [2, 0, 2], axis=1).sum().backward()
    >>> x.grad
    tensor([[1., 0., 2.],
            [1., 0., 2.]])
    """
    if out is not None:
        raise TypeError("take: out= is not supported (the result is a new tensor)")
    a = as_tensor(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    axis = normalize_axis("take", axis, a.ndim)
    n = a.shape[axis]
    idx = integer_array("take", "indices", indices)
    if mode == "raise":
        _check_bounds("take", idx, axis, n)
    elif mode in ("wrap", "clip"):
        if n == 0 and idx.size:
            raise IndexError(f"take: cannot take from axis {axis} of size 0 (shape {a.shape})")
        idx = idx % n if mode == "wrap" else np.clip(idx, 0, n - 1)
    else:
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    return GetItem.apply(a, index=(slice(None),) * axis + (idx,))


def _along_axis(idx: np.ndarray, axis: int, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """The advanced index that picks idx[..., i, ...] along `axis` of an array of `shape`:
    an arange for each other axis, shaped to broadcast against idx (np.take_along_axis's)."""
    ndim = len(shape)
    return tuple(idx if i == axis else
                 np.arange(n).reshape((1,) * i + (n,) + (1,) * (ndim - i - 1))
                 for i, n in enumerate(shape))


@register(np.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """out[..., i, ...] = arr[..., indices[..., i, ...], ...] along `axis` (the flattened
    `arr` when axis is None, with 1-D `indices`), as np.take_along_axis: `indices` has arr's
    number of dimensions, and its other axes broadcast against arr's. Pairs with argsort and
    argmax(keepdims=True); the gradient adds up where an index repeats.

    >>> import numpy as np
    >>> import autodiff as ad
    >>> x = ad.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    >>> ad.take_along_axis(x, np.argsort(x.detach().numpy(), axis=1), axis=1)
    tensor([[1., 2., 3.]], grad_fn=<getitem>)
    """
    arr = as_tensor(arr)
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be an integer array, got dtype "
                         f"{idx.dtype}")
    idx = idx.astype(np.intp)  # a copy: the backward keeps it
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None, indices must be 1-D, got shape "
                             f"{idx.shape}")
        arr, axis = arr.reshape(-1), 0
    axis = normalize_axis("take_along_axis", axis, arr.ndim)
    if idx.ndim != arr.ndim:
        raise ValueError(f"take_along_axis: indices of shape {idx.shape} and arr of shape "
                         f"{arr.shape} must have the same number of dimensions")
    _check_bounds("take_along_axis", idx, axis, arr.shape[axis])
    try:
        return GetItem.apply(arr, index=_along_axis(idx, axis, arr.shape))
    except IndexError:
        raise IndexError(f"take_along_axis: indices of shape {idx.shape} do not broadcast "
                         f"against arr of shape {arr.shape} outside axis {axis}") from None


@register(np.sort, convention="the gradient follows the permutation: each element gets the "
          "gradient of the place it was sorted to; tied elements keep their order (a stable "
          "sort, whatever `kind`), as PyTorch's sort(stable=True)")
def sort(a: Any, axis: int | None = -1, kind: str | None = None, order: None = None, *,
         stable: bool | None = None) -> Tensor:
    """A sorted copy along `axis` (of the flattened `a` when axis is None), as np.sort; NaNs
    go last. The gradient follows the permutation; tied elements keep their order (the
    permutation is a stable sort's, whatever `kind`, so the gradient is deterministic).
    `order` (for structured arrays) is refused. Tensors have no `sort` method: ndarray's
    sorts in place and PyTorch's returns (values, indices), so either would surprise someone.

    >>> import autodiff as ad
    >>> x = ad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    >>> y = ad.sort(x)
    >>> y
    tensor([1., 2., 3.], grad_fn=<getitem>)
    >>> (y * ad.tensor([1.0, 10.0, 100.0])).sum().backward()
    >>> x.grad
    tensor([100.,   1.,  10.])
    """
    if order is not None:
        raise ValueError("sort: order= applies to structured arrays; tensors have no fields")
    # NumPy's own check of kind and stable (NumPy < 2 has no stable=)
    np.sort(np.zeros(1), kind=kind, **({} if stable is None else {"stable": stable}))
    a = as_tensor(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    axis = normalize_axis("sort", axis, a.ndim)
    perm = np.argsort(a.data, axis=axis, kind="stable")
    return GetItem.apply(a, index=_along_axis(perm, axis, a.shape))


def _sort_method(self: Tensor, *args: Any, **kwargs: Any) -> None:
    """Refused: see `sort`."""
    raise TypeError(
        "Tensor.sort() is not provided: NumPy's ndarray.sort sorts in place and returns None, "
        "PyTorch's Tensor.sort returns (values, indices), and either would silently surprise "
        "users of the other. Use np.sort(t) or ad.sort(t) (a sorted copy, differentiable) and "
        "np.argsort(t.detach()) for the indices.")


register_method("sort", _sort_method)
