"""Indexing: getitem (slices, integer arrays, boolean masks), its adjoint index_add, where.

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

from autodiff.function import Function
from autodiff.ops._convert import as_tensor, pair
from autodiff.tensor import Tensor


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


def _plain_index(index: Any) -> Any:
    """Tensors inside an index become arrays; lists become arrays (NumPy's advanced indexing)."""
    if type(index) is tuple:
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


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
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"getitem: index {index!r} does not fit shape {x.shape}: {e}") from None


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Elementwise choice: a where cond is true, else b (np.where); broadcasts all three.

    >>> import autodiff as ad
    >>> x = ad.tensor([-1.0, 2.0])
    >>> ad.where(x > 0, x, 0).tolist()
    [0.0, 2.0]
    """
    c = np.asarray(cond.data if isinstance(cond, Tensor) else cond, dtype=bool)
    a, b = pair(a, b, "where")
    try:
        return Where.apply(a, b, cond=c)
    except ValueError:
        sa = a.shape if isinstance(a, Tensor) else np.shape(a)
        sb = b.shape if isinstance(b, Tensor) else np.shape(b)
        raise ValueError(f"where: shapes {c.shape}, {sa} and {sb} cannot be broadcast "
                         "together") from None
