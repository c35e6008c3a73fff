"""1-d pooling layers (N, C, L): MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d,
PyTorch's arguments and printed forms.

>>> import autodiff as ad, nn
>>> nn.MaxPool1d(2)(ad.ones((1, 3, 8))).shape
(1, 3, 4)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.adaptive_pool import adaptive_avg_pool1d, adaptive_max_pool1d
from nn.functional.pooling1d import avg_pool1d, max_pool1d, single
from nn.module import Module
from nn.pooling import AdaptivePoolNd, MaxPoolNd


class MaxPool1d(MaxPoolNd):
    """The maximum of each window (F.max_pool1d).

    >>> import autodiff as ad, nn
    >>> nn.MaxPool1d(3, stride=2, ceil_mode=True)
    MaxPool1d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)
    >>> nn.MaxPool1d(3, stride=2, ceil_mode=True)(ad.ones((1, 1, 6))).shape
    (1, 1, 3)
    """

    def forward(self, x: Tensor) -> Any:
        return max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool1d(Module):
    """The mean of each window (F.avg_pool1d); sizes kept as 1-tuples, as PyTorch's.

    >>> import autodiff as ad, nn
    >>> nn.AvgPool1d(2)
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    >>> nn.AvgPool1d(2)(ad.tensor([[[1.0, 3.0, 5.0, 7.0]]])).tolist()
    [[[2.0, 6.0]]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = (single("AvgPool1d", "kernel_size", kernel_size),)
        self.stride = self.kernel_size if stride is None else (
            single("AvgPool1d", "stride", stride),)
        self.padding = (single("AvgPool1d", "padding", padding),)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)

    def extra_repr(self) -> str:
        """PyTorch's."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(AdaptivePoolNd):
    """The mean over PyTorch's adaptive bins (F.adaptive_avg_pool1d).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveAvgPool1d(1)(ad.tensor([[[1.0, 2.0, 6.0]]])).tolist()
    [[[3.0]]]
    """

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool1d(x, self.output_size)


class AdaptiveMaxPool1d(AdaptivePoolNd):
    """The maximum over PyTorch's adaptive bins (F.adaptive_max_pool1d); with
    return_indices=True, (values, indices).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveMaxPool1d(2)(ad.tensor([[[1.0, 5.0, 2.0, 0.0]]])).tolist()
    [[[5.0, 2.0]]]
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Any:
        return adaptive_max_pool1d(x, self.output_size, self.return_indices)
