"""Power-average pooling, PyTorch's lp_pool1d, lp_pool2d and lp_pool3d: (sum of x^p over each
window)^(1/p), composed as PyTorch's from avg_pool (no padding) times the kernel size, so every
derivative comes with it; with ceil_mode a last window hanging off the end is the mean of the
cells it covers times k, as if the missing cells held that mean (PyTorch's numbers). p = 1 is
sum pooling, a large p nears max pooling. A window whose sum of x^p is 0 gets the gradient 0, as
PyTorch's (the p-th root has no derivative there); x^p of a negative x with a fractional p is
NaN, as in PyTorch. norm_type = inf is PyTorch's max pool of |x| (and -inf minus the max pool
of -|x|, the smallest |x|), the limits of the p-norm.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.lp_pool1d(ad.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2).tolist()  # sqrt(9 + 16), sqrt(2)
[[[5.0, 1.4142135381698608]]]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.conv import _pair
from nn.functional.conv_3d import triple
from nn.functional.pooling import avg_pool2d, max_pool2d
from nn.functional.pooling1d import avg_pool1d, max_pool1d, single
from nn.functional.pooling3d import avg_pool3d, max_pool3d


def _lp_pool(x: Tensor, norm_type: float, k: Any, stride: Any, ceil_mode: bool,
             avg_pool: Callable[..., Tensor], max_pool: Callable[..., Tensor], cells: int
             ) -> Tensor:
    """The pool of each lp_poolNd given its dimension's average and max pools: the p-th
    root of cells times the mean of x^p, or for p = +-inf PyTorch's max pool of +-|x|."""
    if norm_type == math.inf:
        return max_pool(abs(x), k, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool(-abs(x), k, stride, 0, 1, ceil_mode)
    return _root(avg_pool(x ** norm_type, k, stride, 0, ceil_mode), cells, norm_type)


def _root(mean: Tensor, cells: int, norm_type: float) -> Tensor:
    """(cells * mean)^(1/p) with gradient 0 where the mean is 0, as PyTorch's (its
    sign(m) relu(|m|) before the root is m, and relu's backward masks m = 0 where the root's
    derivative is infinite). The double where keeps that infinity out of the gradient."""
    nonzero = mean.data != 0
    root = (ad.where(nonzero, mean, 1.0) * cells) ** (1.0 / norm_type)
    return ad.where(nonzero, root, 0.0)


def lp_pool2d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) for p = `norm_type`, on (N, C, H, W) or (C, H, W);
    stride defaults to kernel_size; no padding.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.lp_pool2d(ad.tensor([[[[1.0, 2.0], [2.0, 4.0]]]]), 2, 2).tolist()  # sqrt(1+4+4+16)
    [[[[5.0]]]]
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    kh, kw = _pair(kernel_size, "kernel_size", "lp_pool2d")
    return _lp_pool(x, norm_type, (kh, kw), stride, ceil_mode, avg_pool2d, max_pool2d, kh * kw)


def lp_pool1d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) for p = `norm_type`, on (N, C, L) or (C, L);
    stride defaults to kernel_size; no padding.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.lp_pool1d(ad.tensor([[[1.0, 2.0, 3.0]]]), 1, 2, stride=1).tolist()  # sums
    [[[3.0, 5.0]]]
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    k = single("lp_pool1d", "kernel_size", kernel_size)
    return _lp_pool(x, norm_type, k, stride, ceil_mode, avg_pool1d, max_pool1d, k)


def lp_pool3d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each window of x^p)^(1/p) for p = `norm_type`, on (N, C, D, H, W) or
    (C, D, H, W); kernel_size and stride ints or triples, stride defaulting to kernel_size;
    no padding.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.lp_pool3d(ad.full((1, 1, 2, 2, 2), 2.0), 2, 2).tolist()  # sqrt(8 * 4)
    [[[[[5.656854152679443]]]]]
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    k = triple(kernel_size, "kernel_size", "lp_pool3d")
    return _lp_pool(x, norm_type, k, stride, ceil_mode, avg_pool3d, max_pool3d, math.prod(k))
