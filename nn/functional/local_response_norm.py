"""local_response_norm: each element divided by a power of the sum of squares over a window
of neighbouring channels (AlexNet's normalization), as PyTorch's `F.local_response_norm`.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.local_response_norm(ad.ones((1, 3, 1)), size=2, alpha=2.0, beta=1.0, k=1.0).tolist()
[[[0.5], [0.5], [0.5]]]
"""

from __future__ import annotations

import operator
from typing import Any

import autodiff as ad
from autodiff import Tensor


def local_response_norm(input: Any, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha / size * S)^beta, S the sum of x^2 over the channels c - size // 2 to
    c + (size - 1) // 2 (axis 1; channels past either end count as zeros, so the divisor is
    always `size`, as PyTorch's average over a zero-padded window). The input is (N, C, ...)
    with at least one axis after the channels; composed from autodiff ops (gradients of any
    order).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([[[1.0], [2.0], [3.0]]])
    >>> F.local_response_norm(x, size=3, alpha=3.0, beta=1.0, k=0.0).tolist()
    [[[0.2], [0.14285714285714285], [0.23076923076923078]]]
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    size = _window(size)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of 3 or more dimensions "
                         f"(N, C, ...), got shape {x.shape}")
    if x.size == 0:
        return x
    return x / (_window_sums(x * x, size) * (alpha / size) + k) ** beta


def _window(size: Any, name: str = "local_response_norm") -> int:
    try:
        size = operator.index(size)
    except TypeError:
        raise TypeError(f"{name}: size must be an int, got {size!r}") from None
    if size < 1:
        raise ValueError(f"{name}: size must be at least 1, got {size}")
    return size


def _window_sums(sq: Tensor, size: int) -> Tensor:
    """sum of sq over channels c - size // 2 .. c + (size - 1) // 2 (zeros past the ends): the
    channel axis padded, then `size` shifted slices added."""
    channels = sq.shape[1]
    widths = [(0, 0)] * sq.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = ad.pad(sq, widths)
    total = padded[:, :channels]
    for shift in range(1, size):
        total = total + padded[:, shift:shift + channels]
    return total
