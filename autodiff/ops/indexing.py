"""Indexing: getitem (slices, integer arrays, boolean masks), its adjoint index_add, setitem
(out of place; `t[i] = v` writes its result in place) and where.

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
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["getitem", "setitem", "where"]


class GetItem(Function):
    name = "getitem"

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
        else:
            np.add.at(out, index, x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return GetItem.apply(grad, index=ctx.index)


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
        return np.array(index)
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
        hits = np.zeros(x.shape, dtype=np.intp)
        np.add.at(hits, index, 1)
        if (hits > 1).any():
            raise ValueError(f"setitem: index {index!r} selects some elements of shape "
                             f"{x.shape} more than once; which value lands there is undefined")
    try:
        return SetItem.apply(x, value, index=index)
    except (ValueError, IndexError) as e:
        vs = value.shape
        raise type(e)(f"setitem: cannot write a value of shape {vs} into index {index!r} "
                      f"of a tensor of shape {x.shape}: {e}") from None


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
