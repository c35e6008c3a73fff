"""The affine map of a dense layer, batch-first: x @ W.T + b, as one fused primitive (one
node in the graph instead of transpose, matmul and add).

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.linear(ad.ones((2, 3)), ad.ones((4, 3)), ad.zeros(4)).shape
(2, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor

# A product of at most FEW_ROWS rows into at least MANY_OUTPUTS outputs, of at least
# BIG_PRODUCT multiply-adds, runs as (W @ x.T).T: OpenBLAS is faster with the long side
# first; smaller products lose the copy back (figures: docs/performance.md).
FEW_ROWS, MANY_OUTPUTS, BIG_PRODUCT = 32, 64, 1 << 19


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias; weight has shape (out_features, in_features) (the course's W).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.linear(ad.ones((2, 3)), ad.ones((4, 3)), ad.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    xs, ws = x.data.shape, weight.data.shape  # (arrays: checked on every call, so kept cheap)
    if len(ws) != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape "
                         f"{ws}")
    if not xs or xs[-1] != ws[1]:
        raise ValueError(f"linear: the input has {xs[-1] if xs else 0} features "
                         f"(shape {xs}) but the layer expects in_features="
                         f"{ws[1]} (weight shape {ws})")
    if bias is not None and bias.data.shape != ws[:1]:
        raise ValueError(f"linear: bias has shape {bias.shape} but the layer has "
                         f"out_features={ws[0]} (weight shape {ws})")
    if weight.data.dtype is not x.data.dtype:
        return x @ weight.T if bias is None else x @ weight.T + bias  # promotes as @ and +
    return Affine.apply(x, weight, bias)


class Affine(ad.Function):
    """x @ W.T + b for x of shape (..., in), W (out, in), b (out,) or None. Backward, written
    in operations arrays and Tensors share so it can be differentiated again:
    dx = g @ W, dW = g^T x and db = sum of g over the leading axes (g, x as 2-D).

    >>> import autodiff as ad
    >>> W = ad.ones((2, 3), requires_grad=True)
    >>> Affine.apply(ad.tensor([[1.0, 2.0, 3.0]]), W, None).sum().backward()
    >>> W.grad
    tensor([[1., 2., 3.],
            [1., 2., 3.]])
    """

    name = "linear"
    array_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # One product over all rows: NumPy runs (N, L, in) @ W.T as N products.
        rows = math.prod(x.shape[:-1])  # (not -1: no size to infer when in_features is 0)
        x2 = x.reshape((rows, x.shape[-1])) if x.ndim != 2 else x
        rows, n_out = x2.shape[0], weight.shape[0]
        if rows <= FEW_ROWS and n_out >= MANY_OUTPUTS and x2.size * n_out >= BIG_PRODUCT:
            out = np.ascontiguousarray((weight @ x2.T).T)
        else:
            out = x2 @ weight.T
        if bias is not None:
            out += bias  # the product is a new array: add in place
        return out.reshape(x.shape[:-1] + weight.shape[:1]) if x.ndim != 2 else out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        rows = math.prod(x.shape[:-1])
        g2 = grad.reshape((rows, weight.shape[0]))
        gx = (g2 @ weight).reshape(x.shape) if need_x else None
        gw = g2.T @ x.reshape((rows, weight.shape[1])) if need_w else None
        gb = g2.sum(0) if need_b else None
        return gx, gw, gb
