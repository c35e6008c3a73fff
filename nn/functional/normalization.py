"""Batch and layer normalization, and normalize (unit p-norm vectors). layer_norm, normalize
and batch_norm in evaluation are composed from autodiff ops; batch_norm in training is one
fused primitive (`BatchNormTrain`): composed, it recorded ten nodes over full-size arrays per
layer.

batch_norm: y = (x - mean) / sqrt(var + eps) * weight + bias over the batch (and spatial) axes;
in training the batch statistics are used and the running ones updated in place
(running = (1 - momentum) * running + momentum * batch, the variance unbiased); in evaluation
the running statistics are used.

>>> import autodiff as ad
>>> import nn.functional as F
>>> y = F.batch_norm(ad.tensor([[1.0], [3.0]]), None, None, training=True)
>>> y.tolist()
[[-0.999995], [0.999995]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import axis_or_dim
from nn.functional.channel_sums import channel_dots, channel_sums
from nn.functional.layer_norm_op import LayerNormOp, saved_normalization
from nn.functional.promotion import promoted


def _shape_for(x: Tensor, axis: int = 1) -> tuple[int, ...]:
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return tuple(shape)


def batch_norm(x: Any, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize over every axis but the channel axis 1 ((N, C), (N, C, L), (N, C, H, W)):
    with the batch's statistics in training (updating running_mean and running_var when
    given), with the running ones otherwise, which evaluation needs (as PyTorch's).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([[1.0], [3.0]])
    >>> F.batch_norm(x, None, None, training=True)
    tensor([[-0.999995],
            [ 0.999995]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected (N, C, ...) input, got shape {x.shape}")
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = _shape_for(x)
    _check_channels(x, weight=weight, bias=bias, running_mean=running_mean,
                    running_var=running_var)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be given or both "
                         f"be None, got running_mean={_described(running_mean)} and "
                         f"running_var={_described(running_var)}")
    if not training and running_mean is None:
        raise ValueError("batch_norm: evaluation (training=False) normalizes with the running "
                         "statistics: give running_mean and running_var, or training=True for "
                         "the batch's statistics")
    if training:
        n = x.size // x.shape[1] if x.shape[1] else 0
        if x.size == 0:  # an empty batch: an empty output, statistics untouched (PyTorch's)
            y = x * weight.reshape(shape) if weight is not None else x * 1.0
            return y + bias.reshape(shape) if bias is not None else y
        if training and n == 1:
            raise ValueError(f"batch_norm: training needs more than one value per channel, "
                             f"got input shape {x.shape}")
        x, weight, bias = promoted(x, weight, bias)
        y, mean, var = BatchNormTrain.apply(x, weight, bias, axes=axes, eps=eps)
        if training and running_mean is not None and running_var is not None:
            unbiased = var.data.reshape(-1) * (n / max(n - 1, 1))
            running_mean.data[...] = ((1 - momentum) * running_mean.data
                                      + momentum * mean.data.reshape(-1))
            running_var.data[...] = (1 - momentum) * running_var.data + momentum * unbiased
            ad.increment_version(running_mean)
            ad.increment_version(running_var)
        return y
    mean = ad.tensor(running_mean.data.reshape(shape))
    var = ad.tensor(running_var.data.reshape(shape))
    y = (x - mean) / ad.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _described(t: Tensor | None) -> str:
    return "None" if t is None else f"a tensor of shape {tuple(t.shape)}"


def _check_channels(x: Tensor, **per_channel: Any) -> None:
    """batch_norm's weight, bias and running statistics: each None or of shape (C,)."""
    for name, t in per_channel.items():
        if t is not None and tuple(t.shape) != (x.shape[1],):
            raise ValueError(f"batch_norm: {name} must have shape ({x.shape[1]},), one value "
                             f"per channel of the input (shape {x.shape}), got shape "
                             f"{tuple(t.shape)}")


class BatchNormTrain(ad.Function):
    """Batch statistics over `axes` (every axis but 1): y = xhat * w + b with xhat = (x - mean)
    / sqrt(var + eps); also returns mean and var (no gradient flows through those two
    outputs). With xc = x - mean, inv = 1 / sqrt(var + eps) and sums over `axes`:

        dw = inv sum(dy xc),  db = sum(dy),
        dx = inv w (dy - db / count) - xc inv^2 w dw / count  (one scale per channel on each).

    The first-order backward runs on arrays (`channel_sums`, `channel_dots`: the sums as
    matrix-vector products); a recorded one (create_graph=True) computes the same formula in
    Tensor operations from x, so that it can be differentiated again.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0], [3.0]], requires_grad=True)
    >>> y, mean, var = BatchNormTrain.apply(x, None, None, axes=(0,), eps=1e-5)
    >>> y.tolist(), mean.item(), var.item()
    ([[-0.999995], [0.999995]], 2.0, 1.0)
    """

    name = "batch_norm"
    array_backward = True

    @staticmethod
    def forward(ctx, x, weight, bias, *, axes, eps):
        x3 = x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, M): a view when x is contiguous
        count = x3.shape[0] * x3.shape[2]
        mean = channel_sums(x3) / count
        xc = x3 - mean[:, None]
        var = channel_dots(xc, xc) / count  # two passes: E[x^2] - mean^2 cancels in float32
        inv = 1 / np.sqrt(var + eps)
        ctx.axes, ctx.eps, ctx.xc, ctx.inv = axes, eps, xc, inv  # the backward's on arrays
        ctx.save_for_backward(x, weight)
        scale = inv if weight is None else inv * weight
        y = np.multiply(xc, scale[:, None])
        if bias is not None:
            y += bias[:, None]
        shape = _shape_for(x)
        return y.reshape(x.shape), mean.reshape(shape), var.reshape(shape)

    @staticmethod
    def backward(ctx, dy, _dmean, _dvar):
        if not isinstance(dy, np.ndarray):
            return _batch_norm_backward_tensors(ctx, dy)
        x, weight = ctx.saved_tensors
        xc, inv = ctx.xc, ctx.inv
        need_x, need_w, need_b = ctx.needs_input_grad
        dy3 = dy.reshape(xc.shape)
        db = channel_sums(dy3)
        dw = inv * channel_dots(dy3, xc)
        dx = None
        if need_x:  # dx = a (dy - inv dw xc / m - db / m), a = inv w: four passes, one array
            k = 1.0 / (xc.shape[0] * xc.shape[2])
            a = inv if weight is None else inv * weight
            dx = np.multiply(xc, (inv * dw * -k)[:, None])
            dx += dy3
            dx += (db * -k)[:, None]
            dx *= a[:, None]
            dx = dx.reshape(x.shape)
        return dx, dw if need_w else None, db if need_b else None


def _batch_norm_backward_tensors(ctx: Any, dy: Tensor) -> tuple[Any, Any, Any]:
    """BatchNormTrain's backward in Tensor operations (recorded: create_graph=True): the
    formula of its docstring, with xhat = xc inv recomputed from the saved x."""
    x, weight = ctx.saved_tensors
    axes = ctx.axes
    xhat, inv = saved_normalization(ctx, dy, x, axes)
    need_x, need_w, need_b = ctx.needs_input_grad
    dw = (dy * xhat).sum(axis=axes, keepdims=True)
    db = dy.sum(axis=axes, keepdims=True)
    dx = None
    if need_x:
        count = x.size // x.shape[1]
        scale = inv if weight is None else inv * weight.reshape(_shape_for(x))
        dx = scale * (dy - (xhat * (dw * (1.0 / count)) + db * (1.0 / count)))
    shape = (x.shape[1],)
    return dx, dw.reshape(shape) if need_w else None, db.reshape(shape) if need_b else None


def layer_norm(x: Any, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) axes of each example.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.layer_norm(ad.tensor([[1.0, 3.0]]), 2)
    tensor([[-0.999995,  0.999995]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(ns):] != ns:
        raise ValueError(f"layer_norm: input shape {x.shape} does not end with "
                         f"normalized_shape {ns}")
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != ns:
            raise ValueError(f"layer_norm: {name} must have the normalized_shape {ns}, got "
                             f"shape {tuple(p.shape)}")
    if all(p is None or p.dtype == x.dtype for p in (weight, bias)):
        return LayerNormOp.apply(x, weight, bias, axes=axes, eps=eps)  # one node: see its file
    mean = x.mean(axis=axes, keepdims=True)  # (mixed dtypes promote, as the ops do)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / ad.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y



def normalize(input: Any, p: float = 2.0, axis: int = 1, eps: float = 1e-12, *,
              dim: int | None = None) -> Tensor:
    """x / max(||x||_p, eps) along `axis` (PyTorch's `F.normalize`; `dim=` is accepted as
    another name for `axis`, PyTorch's default 1 kept): unit-norm vectors, and a vector whose
    norm is below eps divided by eps instead (so 0 stays 0, with gradient 1 / eps). The norm is
    `ad.linalg.vector_norm`'s (`p` any order it takes, inf included), its gradient 0 at 0.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.normalize(ad.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6, 0.8],
            [0. , 0. ]])
    >>> F.normalize(ad.tensor([[3.0, 4.0]]), p=1, dim=1)
    tensor([[0.42857143, 0.5714286 ]])
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    axis = axis_or_dim("normalize", axis, dim, 1)
    if x.ndim == 0:
        raise ValueError("normalize: needs a tensor of at least 1 dimension, got a 0-d tensor")
    norm = ad.linalg.vector_norm(x, ord=p, axis=axis, keepdims=True)
    return x / ad.where(norm.data >= eps, norm, eps)
