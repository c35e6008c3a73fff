"""Activations: softmax and log_softmax are composites of primitives (no backward of their
own); both subtract the max (a constant), so logits of magnitude 1e4 stay finite.
sigmoid is a primitive, for its two-branch forward accurate in both tails. relu is a
primitive, max(x, 0) with a saved mask (NumPy's `where` is slow here; figures in
docs/performance.md).

>>> import autodiff as ad
>>> ad.softmax(ad.tensor([1e4, 0.0]), axis=-1).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff.dtypes import get_default_dtype
from autodiff.function import Function
from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axis
from autodiff.ops.elementwise import exp, log
from autodiff.ops.reduce import max_shift, sum
from autodiff.ops.registry import register
from autodiff.ops.shape import astype
from autodiff.tensor import Tensor

__all__ = ["log_softmax", "relu", "sigmoid", "softmax"]


class Sigmoid(Function):
    """1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0: one exp of -|x|, which never
    overflows, and no cancellation in either tail (float32: relative error below 1e-6 over
    [-88, 88]). The backward uses the saved output: out * (1 - out)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # in (0, 1]
        # The numerator, 1 where x >= 0 and e^x elsewhere, as a maximum (np.where is slow on
        # random signs).
        out = np.maximum(e, x >= 0) / (1 + e)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


@register(method=True)
def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e^-x), accurate in both tails (no overflow, no cancellation).

    >>> import autodiff as ad
    >>> x = ad.tensor([0.0, 1000.0, -1000.0, -30.0], requires_grad=True)
    >>> ad.sigmoid(x)
    tensor([5.000000e-01, 1.000000e+00, 0.000000e+00, 9.357623e-14], grad_fn=<sigmoid>)
    >>> ad.sigmoid(x).sum().backward()
    >>> x.grad
    tensor([2.500000e-01, 0.000000e+00, 0.000000e+00, 9.357623e-14])
    """
    x = as_tensor(x)
    if x.dtype.kind != "f":  # integer or boolean input: the default floating dtype
        x = Tensor._make(x.data.astype(get_default_dtype()), None, 0)
    return Sigmoid.apply(x)


class ReLU(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.mask = x > 0
        return np.maximum(x, _zeros_like(x) if x.size <= _CACHED_ZEROS else
                          np.zeros((), x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask


# NumPy's maximum runs its vectorized loop only when both operands are arrays of the same
# shape; against a 0-d zero it takes a slower scalar loop (docs/performance.md). So relu
# compares with zeros of x's shape: a view of one read-only
# buffer per dtype, grown to the largest size seen, up to 2**20 numbers (4 MiB of float32).
_CACHED_ZEROS = 1 << 20
_ZEROS: dict[np.dtype, np.ndarray] = {}


def _zeros_like(x: np.ndarray) -> np.ndarray:
    zeros = _ZEROS.get(x.dtype)
    if zeros is None or zeros.size < x.size:
        zeros = _ZEROS[x.dtype] = np.zeros(x.size, x.dtype)
        zeros.flags.writeable = False
    return zeros[:x.size].reshape(x.shape)


@register(method=True)
def relu(x: Any) -> Tensor:
    """max(x, 0); its gradient at 0 is 0 (as PyTorch).

    >>> import autodiff as ad
    >>> x = ad.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> ad.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 0., 1.])
    """
    return ReLU.apply(as_tensor(x))


@register(method=True)
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log(softmax(x)) along `axis`, as (x - m) - log(sum(exp(x - m))) with m the max (a
    constant): no overflow, no digit lost to a large common offset (logits of -1e6 in float32),
    and finite gradients at masked logits (-inf). float16 is computed in float32.

    >>> import autodiff as ad
    >>> ad.log_softmax(ad.tensor([0.0, 0.0]))
    tensor([-0.6931472, -0.6931472])
    >>> ad.log_softmax(ad.tensor([-1e6, -1e6]))
    tensor([-0.6931472, -0.6931472])
    """
    x = as_tensor(x)
    axis = normalize_axis("log_softmax", axis, x.ndim)
    if x.dtype == np.float16:  # in float32 inside, returned in float16 (as PyTorch)
        return astype(log_softmax(astype(x, np.float32), axis), np.float16)
    d = x - max_shift(x, (axis,))
    return d - log(sum(exp(d), axis, keepdims=True))


@register(method=True)
def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, as e / sum(e) with e = exp(x - m), m the max (a
    constant): rows sum to 1 within an epsilon, masked logits (-inf) give 0 with gradient 0.
    float16 is computed in float32.

    >>> import autodiff as ad
    >>> ad.softmax(ad.tensor([[1.0, 1.0], [0.0, 1e4]]), axis=1)
    tensor([[0.5, 0.5],
            [0. , 1. ]])
    >>> ad.softmax(ad.tensor([0.0, float("-inf")]))
    tensor([1., 0.])
    """
    x = as_tensor(x)
    axis = normalize_axis("softmax", axis, x.ndim)
    if x.dtype == np.float16:
        return astype(softmax(astype(x, np.float32), axis), np.float16)
    e = exp(x - max_shift(x, (axis,)))
    return e / sum(e, axis, keepdims=True)
