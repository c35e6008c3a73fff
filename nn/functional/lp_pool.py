"""Power-average pooling, PyTorch's lp_pool1d and lp_pool2d: (sum of x^p over each window)^(1/p),
composed as PyTorch's from avg_pool (no padding) times the kernel size, so every derivative
comes with it; with ceil_mode a last window hanging off the end is the mean of the cells it
covers times k, as if the missing cells held that mean (PyTorch's numbers). p = 1 is sum
pooling, a large p nears max pooling. A window whose sum of x^p is 0 gets the gradient 0, as
PyTorch's (the p-th root has no derivative there); x^p of a negative x with a fractional p is
NaN, as in PyTorch.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.lp_pool1d(ad.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2).tolist()  # sqrt(9 + 16), sqrt(2)
[[[5.0, 1.4142135381698608]]]
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.conv import _pair
from nn.functional.pooling import avg_pool2d
from nn.functional.pooling1d import avg_pool1d, single


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
    mean = avg_pool2d(x ** norm_type, (kh, kw), stride, 0, ceil_mode)
    return _root(mean, kh * kw, norm_type)


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
    mean = avg_pool1d(x ** norm_type, k, stride, 0, ceil_mode)
    return _root(mean, k, norm_type)
