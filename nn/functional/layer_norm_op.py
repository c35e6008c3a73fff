"""layer_norm as one primitive: composed, it recorded nine nodes over full-size arrays per
call (mean, subtract, square, mean, add, sqrt, divide, multiply, add), and a Vision
Transformer calls it twice per block.

>>> import autodiff as ad
>>> from nn.functional.layer_norm_op import LayerNormOp
>>> LayerNormOp.apply(ad.tensor([[1.0, 3.0]]), None, None, axes=(1,), eps=0.0)
tensor([[-1.,  1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad


class LayerNormOp(ad.Function):
    """y = xhat * w + b with xhat = (x - mean) / sqrt(var + eps), the statistics over the
    trailing `axes` of each example; w and b (the shape of those axes) may be None. Backward,
    in operations arrays and Tensors share so that it can be differentiated again:
    dx = inv * (d - mean(d) - xhat * mean(d * xhat)) with d = dy * w, inv = 1 / sqrt(var + eps)
    (means over `axes`); dw = sum(dy * xhat), db = sum(dy) over the leading axes.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 3.0]], requires_grad=True)
    >>> y = LayerNormOp.apply(x, None, None, axes=(1,), eps=0.0)
    >>> (y * ad.tensor([1.0, 0.0])).sum().backward()
    >>> x.grad
    tensor([[0., 0.]])
    """

    name = "layer_norm"
    array_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, *, axes, eps):
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = np.square(xhat).mean(axis=axes, keepdims=True)
        var += eps
        inv = 1 / np.sqrt(var)
        xhat *= inv
        ctx.axes, ctx.eps, ctx.xhat, ctx.inv = axes, eps, xhat, inv  # reused on arrays
        ctx.save_for_backward(x, weight)
        if weight is None:
            return xhat.copy() if bias is None else xhat + bias
        y = xhat * weight
        if bias is not None:
            y += bias
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        axes = ctx.axes
        xhat, inv = saved_normalization(ctx, dy, x, axes)
        need_x, need_w, need_b = ctx.needs_input_grad
        lead = tuple(range(x.ndim - len(axes)))
        dw = (dy * xhat).sum(axis=lead) if need_w else None
        db = dy.sum(axis=lead) if need_b else None
        dx = None
        if need_x:
            d = dy if weight is None else dy * weight
            dx = inv * (d - d.mean(axis=axes, keepdims=True)
                        - xhat * (d * xhat).mean(axis=axes, keepdims=True))
        return dx, dw, db


def saved_normalization(ctx: Any, dy: Any, x: Any, axes: tuple[int, ...]) -> tuple[Any, Any]:
    """(xhat, 1 / sqrt(var + eps)) of a normalization's forward: the arrays it saved when the
    backward runs on arrays, else recomputed from the x Tensor so that the gradient can be
    differentiated again (layer_norm's and batch_norm's backward)."""
    if isinstance(dy, np.ndarray):
        return ctx.xhat, ctx.inv
    xc = x - x.mean(axis=axes, keepdims=True)
    inv = ((xc * xc).mean(axis=axes, keepdims=True) + ctx.eps) ** -0.5
    return xc * inv, inv
