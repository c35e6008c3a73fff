"""3-d pooling (N, C, D, H, W), PyTorch's: max_pool3d, avg_pool3d, adaptive_avg_pool3d,
adaptive_max_pool3d.

max_pool3d is the 2-d max pool of every depth slice (the (N, C D, H, W) view of the input)
followed by the maximum over each depth window of those results, taken as a gather at the
chosen depths: the 3-d window's first maximum in (d, h, w) order is the first maximum of the
first depth slice that holds it, and the gradient goes there through the gather and the
2-d pool, whose derivatives of any order are already exact. adaptive_max_pool3d is the same
with the 2-d adaptive max pool and PyTorch's adaptive bins along depth. avg_pool3d is conv3d with a
constant depthwise kernel and PyTorch's divisor; adaptive_avg_pool3d multiplies by the
averaging matrices of PyTorch's bins along each axis.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.max_pool3d(ad.arange(8.0).reshape(1, 1, 2, 2, 2), 2).tolist()
[[[[[7.0]]]]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.adaptive_pool import AdaptiveMaxPool2d, _bin_edges, _output_size
from nn.functional.conv_3d import conv3d_padded, triple
from nn.functional.pooling import (
    MaxPool2d,
    _bins,
    _Indices,
    _window_counts,
    pool_out_size,
    pool_pads,
    require_floating,
    unbatched_too,
)
from nn.functional.separable import resample3d


def _pool3d_args(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, ceil_mode: bool) -> tuple[tuple[int, ...], ...]:
    """kernel, stride, padding, dilation (triples) and the (before, after) pads per axis."""
    if x.ndim != 5:
        raise ValueError(f"{op}: expected input of shape (N, C, D, H, W) or (C, D, H, W), got "
                         f"{x.shape}")
    k = triple(kernel_size, "kernel_size", op)
    s = k if stride is None else triple(stride, "stride", op)
    p, d = triple(padding, "padding", op), triple(dilation, "dilation", op)
    pads = pool_pads(op, x.shape[2:], k, s, p, d, ceil_mode)
    return k, s, p, d, pads


@unbatched_too(5)
def max_pool3d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """The maximum of each (kd, kh, kw) window; arguments as max_pool2d's, ints or triples
    (stride defaults to kernel_size, padding counts as -inf). The first maximum in (d, h, w)
    order wins a tie and gets the gradient; a NaN wins its window (the last one in that order
    when there are several, as PyTorch's loop). `return_indices=True` also returns PyTorch's
    int64 indices d H W + h W + w into each (D, H, W) input volume.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.arange(27.0).reshape(1, 1, 3, 3, 3)
    >>> F.max_pool3d(x, 2, stride=1, return_indices=True)[1][0, 0, 0]
    tensor([[13, 14],
            [16, 17]])
    >>> F.max_pool3d(x, 2, ceil_mode=True).shape
    (1, 1, 2, 2, 2)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    k, s, p, d, pads = _pool3d_args("max_pool3d", x, kernel_size, stride, padding, dilation,
                                    ceil_mode)
    n, c, depth, h, w = x.shape
    found: list[_Indices] = []  # the 2-d argmax, asked for only with return_indices
    planes = MaxPool2d.apply(x.reshape(n, c * depth, h, w), kernel=k[1:], stride=s[1:],
                             pads=(*pads[1], *pads[2]), dilation=d[1:],
                             **({"found": found} if return_indices else {}))
    planes = planes.reshape(n, c, depth, *planes.shape[2:])
    do = pool_out_size(depth, k[0], s[0], p[0], d[0], ceil_mode)
    src = np.arange(do)[:, None] * s[0] - p[0] + np.arange(k[0]) * d[0]  # (Do, kd) depths
    chosen = _depth_argmax(planes.data, src)  # (N, C, Do, Ho, Wo): the depth of each maximum
    out = ad.take_along_axis(planes, chosen, axis=2)
    if not return_indices:
        return out
    in_plane = found[0].flat().reshape(planes.shape)  # h W + w in each depth slice
    where = chosen * (h * w) + np.take_along_axis(in_plane, chosen, axis=2)
    return out, Tensor._make(where.astype(np.int64), None, 0)


def _depth_argmax(planes: np.ndarray, src: np.ndarray) -> np.ndarray:
    """For each output depth o and cell, the input depth among src[o] (only those inside
    [0, D)) whose 2-d maximum is the first maximum (strictly greater keeps the first; a NaN
    takes over, so the last NaN wins, as the 2-d pool's)."""
    depth = planes.shape[2]
    inside = (src >= 0) & (src < depth)
    first = inside.argmax(axis=1)  # every window has an input depth (pool_pads checks)
    rows = np.arange(len(src))
    best = planes[:, :, src[rows, first]].copy()
    chosen = np.broadcast_to(src[rows, first][:, None, None], best.shape).copy()
    for i in range(src.shape[1]):
        at = np.clip(src[:, i], 0, depth - 1)
        v = planes[:, :, at]
        hit = (v > best) | np.isnan(v)
        hit &= (inside[:, i] & (i > first))[:, None, None]
        np.copyto(best, v, where=hit)
        np.copyto(chosen, at[:, None, None], where=hit)
    return chosen


@unbatched_too(5)
def avg_pool3d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """The mean of each (kd, kh, kw) window; arguments as avg_pool2d's, ints or triples, and
    PyTorch's divisor: the window's cells inside the padded input, only the input's cells with
    count_include_pad=False, or `divisor_override`. Floating input only (PyTorch truncates
    integer means).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.avg_pool3d(ad.arange(8.0).reshape(1, 1, 2, 2, 2), 2).tolist()
    [[[[[3.5]]]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    k, s, p, _, pads = _pool3d_args("avg_pool3d", x, kernel_size, stride, padding, 1,
                                    ceil_mode)
    require_floating("avg_pool3d", x)
    if divisor_override is not None and (
            not isinstance(divisor_override, int | np.integer) or divisor_override == 0):
        raise ValueError(f"avg_pool3d: divisor_override must be a nonzero integer, got "
                         f"{divisor_override!r}")
    c, size = x.shape[1], math.prod(k)
    w = ad.tensor(np.full((c, 1, *k), 1.0 / size, dtype=x.dtype))
    out = conv3d_padded(x, w, None, s, pads, (1, 1, 1), c)
    if divisor_override is not None:
        divisor = np.full(out.shape[2:], float(divisor_override))
    else:
        counts = [_window_counts(n, ki, si, pi, o, count_include_pad)
                  for n, ki, si, pi, o in zip(x.shape[2:], k, s, p, out.shape[2:])]
        divisor = np.multiply.outer(np.multiply.outer(counts[0], counts[1]), counts[2])
    if (divisor != size).any():
        out = out * ad.tensor((size / divisor).astype(x.dtype))
    return out


@unbatched_too(5)
def adaptive_avg_pool3d(x: Any, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive bins to reach `output_size` (an int, or a triple whose
    None entries keep the input's size).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.adaptive_avg_pool3d(ad.arange(8.0).reshape(1, 1, 2, 2, 2), (1, None, 1)).tolist()
    [[[[[2.5], [4.5]]]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 5:
        raise ValueError(f"adaptive_avg_pool3d: expected input of shape (N, C, D, H, W) or "
                         f"(C, D, H, W), got {x.shape}")
    require_floating("adaptive_avg_pool3d", x)
    do, ho, wo = _output_size("adaptive_avg_pool3d", output_size, x.shape[2:])
    depth, h, w = x.shape[2:]
    return resample3d(x, _bins(depth, do, x.dtype), _bins(h, ho, x.dtype),
                      _bins(w, wo, x.dtype))


@unbatched_too(5)
def adaptive_max_pool3d(x: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive bins to reach `output_size` (an int, or a triple
    whose None entries keep the input's size): the 2-d adaptive max pool of every depth
    slice, then the maximum over each depth bin. Ties go to the first maximum in (d, h, w)
    order, a NaN wins its bin (the last one), as PyTorch's loop. `return_indices=True` also
    returns PyTorch's int64 indices d H W + h W + w into each (D, H, W) input volume.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.arange(27.0).reshape(1, 1, 3, 3, 3)
    >>> F.adaptive_max_pool3d(x, (2, 1, None), return_indices=True)[1].tolist()
    [[[[[15, 16, 17]], [[24, 25, 26]]]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 5:
        raise ValueError(f"adaptive_max_pool3d: expected input of shape (N, C, D, H, W) or "
                         f"(C, D, H, W), got {x.shape}")
    do, ho, wo = _output_size("adaptive_max_pool3d", output_size, x.shape[2:])
    n, c, depth, h, w = x.shape
    found: list[np.ndarray] = []  # the 2-d argmax, asked for only with return_indices
    planes = AdaptiveMaxPool2d.apply(x.reshape(n, c * depth, h, w), output_size=(ho, wo),
                                     **({"found": found} if return_indices else {}))
    planes = planes.reshape(n, c, depth, ho, wo)
    edges = _bin_edges(depth, do)
    width = max(b - a for a, b in edges)
    src = np.array([[a + i if a + i < b else -1 for i in range(width)] for a, b in edges])
    chosen = _depth_argmax(planes.data, src)  # -1 marks the cells past a shorter bin
    out = ad.take_along_axis(planes, chosen, axis=2)
    if not return_indices:
        return out
    in_plane = found[0].reshape(planes.shape)  # h W + w in each depth slice
    where = chosen * (h * w) + np.take_along_axis(in_plane, chosen, axis=2)
    return out, Tensor._make(where.astype(np.int64), None, 0)
