"""max_unpool1d, max_unpool2d and max_unpool3d (PyTorch's): a max pool undone from the
indices it returned. Each value goes to its index in an output of zeros; the output size is
the pool's input size, (L - 1) s - 2 p + k along each axis, or `output_size` when the pool's
input had one of the sizes that round to the same pooled size.

>>> import autodiff as ad
>>> import nn.functional as F
>>> x = ad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
>>> y, i = F.max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
>>> F.max_unpool2d(y, i, 2, stride=1, padding=1)
tensor([[[[1., 2.],
          [3., 4.]]]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.conv import _pair
from nn.functional.conv_3d import triple
from nn.functional.pooling1d import single


class MaxUnpool(ad.Function):
    """Each value of x (N, C, M) written at its index along axis 2 of a zero (N, C, size)
    output. A repeated index keeps the last value written there, and each value's gradient
    is the output's gradient at its index, as PyTorch (a max pool repeats an index only
    where overlapping windows share a maximum, whose values are equal). The backward is
    `take_along_axis`, so derivatives of any order follow.

    >>> import autodiff as ad
    >>> import numpy as np
    >>> MaxUnpool.apply(ad.tensor([[[5.0]]]), indices=np.array([[[2]]]), size=3)
    tensor([[[0., 0., 5.]]])
    """

    name = "max_unpool"

    @staticmethod
    def forward(ctx, x, *, indices, size):
        ctx.indices = indices
        out = np.zeros((*x.shape[:2], size), x.dtype)
        np.put_along_axis(out, indices, x, axis=2)
        return out

    @staticmethod
    def backward(ctx, grad):
        return ad.take_along_axis(grad, ctx.indices, axis=2)


def _unpool(op: str, x: Any, indices: Any, k: tuple[int, ...], s: tuple[int, ...],
            p: tuple[int, ...], output_size: Any) -> Tensor:
    """The checks and the call shared by the 1-d, 2-d and 3-d unpools (nd = len(k) axes)."""
    nd = len(k)
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected input of {nd + 2} dimensions (or {nd + 1} "
                         f"unbatched), got shape {x.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (what max_pool{nd}d returned with "
                        f"return_indices=True), got dtype {idx.dtype}")
    if idx.shape != x.shape:
        raise ValueError(f"{op}: indices have shape {idx.shape} but the input has shape "
                         f"{x.shape}; they must match")
    if min(k) <= 0 or min(s) <= 0 or min(p) < 0:
        raise ValueError(f"{op}: kernel_size {k} and stride {s} must be positive and padding "
                         f"{p} >= 0")
    size = _output_size(op, x.shape[-nd:], k, s, p, output_size)
    cells = int(np.prod(size))
    if idx.size and (idx.min() < 0 or idx.max() >= cells):
        bad = int(idx[(idx < 0) | (idx >= cells)].flat[0])
        raise ValueError(f"{op}: index {bad} is out of range for an output of size {size} "
                         f"({cells} cells per channel)")
    lead = x.shape[:-nd] if x.ndim == nd + 2 else (1, *x.shape[:-nd])
    m = int(np.prod(x.shape[-nd:]))  # (not -1: an empty batch has no size to infer)
    flat = x.reshape((*lead, m))
    y = MaxUnpool.apply(flat, indices=idx.reshape((*lead, m)).astype(np.intp, copy=False),
                        size=cells)
    return y.reshape(x.shape[:-nd] + size)


def _output_size(op: str, sizes: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...],
                 p: tuple[int, ...], output_size: Any) -> tuple[int, ...]:
    """(L - 1) s - 2 p + k per axis, or `output_size` (its last len(k) entries when it
    also names the batch and channel sizes), which must lie strictly within one stride of
    that size (PyTorch's rule)."""
    default = tuple((n - 1) * si - 2 * pi + ki for n, ki, si, pi in zip(sizes, k, s, p))
    if output_size is None:
        if min(default) <= 0:
            raise ValueError(f"{op}: the output size {default} is not positive (input sizes "
                             f"{sizes}, kernel {k}, stride {s}, padding {p})")
        return default
    want = tuple(int(v) for v in output_size)
    if len(want) == len(k) + 2:
        want = want[2:]
    if len(want) != len(k):
        raise ValueError(f"{op}: output_size must have {len(k)} or {len(k) + 2} entries, got "
                         f"{tuple(output_size)}")
    for axis, (w, dflt, si) in enumerate(zip(want, default, s)):
        if not dflt - si < w < dflt + si:
            raise ValueError(f"{op}: invalid output_size {want} (axis {axis} must be between "
                             f"{dflt - si} and {dflt + si}, both excluded)")
    return want


def max_unpool2d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Each value of input (N, C, H, W) (or (C, H, W)) at its index h * W_out + w in a zero
    output plane: the inverse of `max_pool2d(..., return_indices=True)` with the same
    kernel, stride and padding (stride defaults to kernel_size).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> y, i = F.max_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)[0, 0]
    tensor([[ 0.,  0.,  0.,  0.],
            [ 0.,  5.,  0.,  7.],
            [ 0.,  0.,  0.,  0.],
            [ 0., 13.,  0., 15.]])
    """
    op = "max_unpool2d"
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None else _pair(stride, "stride", op)
    return _unpool(op, input, indices, k, s, _pair(padding, "padding", op), output_size)


def max_unpool1d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Each value of input (N, C, L) (or (C, L)) at its index in a zero output: the inverse
    of `max_pool1d(..., return_indices=True)`.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> y, i = F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    tensor([[[0., 3., 0., 5.]]])
    """
    op = "max_unpool1d"
    k = single(op, "kernel_size", kernel_size)
    s = k if stride is None else single(op, "stride", stride)
    return _unpool(op, input, indices, (k,), (s,), (single(op, "padding", padding),),
                   output_size)


def max_unpool3d(input: Any, indices: Any, kernel_size: Any, stride: Any = None,
                 padding: Any = 0, output_size: Any = None) -> Tensor:
    """Each value of input (N, C, D, H, W) (or (C, D, H, W)) at its index d H W + h W + w in
    a zero output volume: the inverse of `max_pool3d(..., return_indices=True)` with the
    same kernel, stride and padding (ints or triples; stride defaults to kernel_size).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> y, i = F.max_pool3d(ad.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> F.max_unpool3d(y, i, 2).flatten().tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 7.0]
    """
    op = "max_unpool3d"
    k = triple(kernel_size, "kernel_size", op)
    s = k if stride is None else triple(stride, "stride", op)
    return _unpool(op, input, indices, k, s, triple(padding, "padding", op), output_size)
