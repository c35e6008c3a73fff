"""1-d pooling (N, C, L): max_pool1d and avg_pool1d, PyTorch's, as the 2-d pools over a unit
height axis (as PyTorch computes them): the same primitives, so values, gradients and
derivatives of any order are theirs, and the dtype is kept.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2).tolist()
[[[3.0, 5.0]]]
"""

from __future__ import annotations

import operator
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.pooling import (
    avg_pool2d,
    max_pool2d,
    pool_pads,
    require_floating,
    unbatched_too,
)


def single(op: str, name: str, v: Any) -> int:
    """An int, or a sequence of one int (PyTorch's _single)."""
    try:
        return operator.index(v)
    except TypeError:
        pass
    try:
        items = [operator.index(i) for i in v]
    except TypeError:
        items = []
    if len(items) != 1:
        raise ValueError(f"{op}: {name} must be an int or a tuple of one int, got {v!r}")
    return items[0]


def _args(op: str, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
          ceil_mode: bool) -> tuple[Tensor, int, int, int, int]:
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 3:
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), got {x.shape}")
    k = single(op, "kernel_size", kernel_size)
    s = k if stride is None else single(op, "stride", stride)
    p, d = single(op, "padding", padding), single(op, "dilation", dilation)
    pool_pads(op, x.shape[2:], (k,), (s,), (p,), (d,), ceil_mode)  # raises on bad input
    return x, k, s, p, d


@unbatched_too(3)
def max_pool1d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Any:
    """The maximum of each window of (N, C, L); arguments as max_pool2d's, one int each;
    `return_indices=True` also returns the position of each maximum in L (int64).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, ceil_mode=True).tolist()
    [[[3.0, 5.0, 4.0]]]
    >>> F.max_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2, return_indices=True)[1]
    tensor([[[1, 3]]])
    """
    x, k, s, p, d = _args("max_pool1d", x, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, length = x.shape
    y = max_pool2d(x.reshape(n, c, 1, length), (1, k), (1, s), (0, p), (1, d), ceil_mode,
                   return_indices)
    if return_indices:  # h * L + w with h = 0: the position in L
        return y[0].reshape(n, c, y[0].shape[3]), y[1].reshape(n, c, y[1].shape[3])
    return y.reshape(n, c, y.shape[3])


@unbatched_too(3)
def avg_pool1d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """The mean of each window of (N, C, L); arguments as avg_pool2d's, one int each.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.avg_pool1d(ad.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2).tolist()
    [[[2.0, 3.5]]]
    """
    x, k, s, p, _ = _args("avg_pool1d", x, kernel_size, stride, padding, 1, ceil_mode)
    require_floating("avg_pool1d", x)
    n, c, length = x.shape
    y = avg_pool2d(x.reshape(n, c, 1, length), (1, k), (1, s), (0, p), ceil_mode,
                   count_include_pad)
    return y.reshape(n, c, y.shape[3])
