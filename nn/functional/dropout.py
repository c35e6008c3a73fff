"""Inverted dropout: zero each element with probability p, scale the rest by 1 / (1 - p).

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.dropout(ad.ones(4), p=0.5, training=False).tolist()
[1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor


def dropout(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, a random mask from autodiff's seeded generator; the identity otherwise.
    `inplace=True` multiplies x by the mask in place (x's memory, as `x.mul_`: on a leaf
    that requires grad only under no_grad) and returns x.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> ad.manual_seed(0)
    >>> F.dropout(ad.ones(6), p=0.5)
    tensor([2., 0., 0., 0., 2., 2.])
    >>> F.dropout(ad.ones(2), p=0.5, training=False)
    tensor([1., 1.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return _times(x, 0.0, inplace)
    keep = (ad.generator().random(x.shape) >= p).astype(x.dtype)
    return _times(x, keep * np.asarray(1.0 / (1.0 - p), dtype=x.dtype), inplace)


def _times(x: Tensor, mask: Any, inplace: bool) -> Tensor:
    return x.mul_(mask) if inplace else x * mask


def dropout2d(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Channel dropout for (N, C, H, W): zero whole feature maps with probability p
    (`inplace` as `dropout`'s).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> ad.manual_seed(0)
    >>> y = F.dropout2d(ad.ones((1, 4, 2, 2)), p=0.5)
    >>> [float(c.max()) for c in y.numpy()[0]]
    [2.0, 0.0, 0.0, 0.0]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 4:
        raise ValueError(f"dropout2d: expected (N, C, H, W), got {x.shape}")
    return _channel_dropout("dropout2d", x, p, training, inplace, 2)


def dropout3d(x: Any, p: float = 0.5, training: bool = True, inplace: bool = False
              ) -> Tensor:
    """Channel dropout for (N, C, D, H, W), or (C, D, H, W) unbatched (PyTorch's, without
    its warning): zero whole feature volumes with probability p, scale the rest by
    1 / (1 - p) (`inplace` as `dropout`'s).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> ad.manual_seed(0)
    >>> y = F.dropout3d(ad.ones((4, 2, 2, 2)), p=0.5)
    >>> [float(c.max()) for c in y.numpy()]
    [2.0, 0.0, 0.0, 0.0]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim not in (4, 5):
        raise ValueError(f"dropout3d: expected (N, C, D, H, W) or (C, D, H, W) unbatched, got "
                         f"{x.shape} (PyTorch's deprecated other shapes are refused: use "
                         "dropout)")
    return _channel_dropout("dropout3d", x, p, training, inplace, 3)


def _channel_dropout(op: str, x: Tensor, p: float, training: bool, inplace: bool,
                     spatial: int) -> Tensor:
    """One draw per channel (each index of the axes before the last `spatial` ones), its
    mask broadcast over those axes."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return _times(x, 0.0, inplace)
    keep = (ad.generator().random((*x.shape[:-spatial], *(1,) * spatial)) >= p
            ).astype(x.dtype)
    return _times(x, keep * np.asarray(1.0 / (1.0 - p), dtype=x.dtype), inplace)
