"""Matrix product: 1-D, 2-D and batched with broadcasting (np.matmul's rules).

>>> import autodiff as ad
>>> W = ad.ones((2, 3), requires_grad=True)
>>> x = ad.tensor([1.0, 2.0, 3.0])
>>> (W @ x).sum().backward()
>>> W.grad
tensor([[1., 2., 3.],
        [1., 2., 3.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff.function import Function
from autodiff.ops._convert import pair
from autodiff.ops.arith import mul
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["matmul"]


class MatMul(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        # Only operators and methods Tensors and arrays share, so it runs on either.
        if a.ndim == 1 and b.ndim == 1:  # inner product
            ga = grad * b if need_a else None
            gb = grad * a if need_b else None
        elif a.ndim == 1:  # (n,) @ (..., n, k) -> (..., k)
            g = grad.reshape((*grad.shape[:-1], 1, grad.shape[-1]))  # (..., 1, k)
            ga = g @ b.swapaxes(-1, -2) if need_a else None  # (..., 1, n), summed to (n,)
            gb = a.reshape((-1, 1)) * g if need_b else None  # (..., n, k)
        elif b.ndim == 1:  # (..., m, n) @ (n,) -> (..., m)
            g = grad.reshape((*grad.shape, 1))  # (..., m, 1)
            ga = g * b if need_a else None  # (..., m, n)
            gb = (a.swapaxes(-1, -2) @ g).squeeze(-1) if need_b else None  # (..., n)
        else:
            ga = grad @ b.swapaxes(-1, -2) if need_a else None
            gb = a.swapaxes(-1, -2) @ grad if need_b else None
        return ga, gb


@register(np.matmul, method="__matmul__")
def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    >>> import autodiff as ad
    >>> W = ad.ones((2, 3), requires_grad=True)
    >>> ad.matmul(W, ad.ones((3, 4))).shape
    (2, 4)
    """
    a, b = pair(a, b, "matmul")
    sa, sb = np.shape(a.data if isinstance(a, Tensor) else a), np.shape(
        b.data if isinstance(b, Tensor) else b)
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {sa} "
                         f"and {sb} (use * for scalars)")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {ka} (last axis of "
                         f"the first) != {kb} ({'only' if len(sb) == 1 else 'second-to-last'} "
                         "axis of the second)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch axes of shapes {sa} and {sb} cannot be broadcast "
                         "together") from None


@register(method="__rmatmul__", public=False)
def _rmatmul(b: Any, a: Any) -> Tensor:
    """other @ tensor (the reflected operator)."""
    return matmul(a, b)


@register(np.dot, public=False)
def _dot(a: Any, b: Any) -> Tensor:
    """np.dot for what the engine has: 0-D operands multiply, 1-D and 2-D go through matmul."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return mul(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError(f"np.dot on autodiff Tensors takes 0-D, 1-D or 2-D operands, got shapes "
                        f"{np.shape(a)} and {np.shape(b)}; use autodiff.matmul for batches")
    return matmul(a, b)
