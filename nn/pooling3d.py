"""3-d pooling layers (N, C, D, H, W), or (C, D, H, W) unbatched, over
nn.functional.pooling3d, with PyTorch's arguments and printed forms.

>>> import autodiff as ad, nn
>>> nn.MaxPool3d(2)(ad.ones((1, 3, 8, 8, 8))).shape
(1, 3, 4, 4, 4)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.pooling3d import (
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    avg_pool3d,
    max_pool3d,
)
from nn.pooling import AdaptiveMaxPool2d, AdaptivePoolNd, AvgPool2d, MaxPoolNd


class MaxPool3d(MaxPoolNd):
    """The maximum of each (kd, kh, kw) window (F.max_pool3d); with return_indices=True,
    (values, indices).

    >>> import autodiff as ad, nn
    >>> nn.MaxPool3d(3, stride=2, ceil_mode=True)(ad.ones((1, 1, 6, 6, 6))).shape
    (1, 1, 3, 3, 3)
    >>> nn.MaxPool3d(2)
    MaxPool3d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def forward(self, x: Tensor) -> Any:
        return max_pool3d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    """The mean of each (kd, kh, kw) window (F.avg_pool3d), PyTorch's arguments.

    >>> import autodiff as ad, nn
    >>> nn.AvgPool3d((1, 2, 2), ceil_mode=True)(ad.ones((1, 1, 2, 5, 5))).shape
    (1, 1, 2, 3, 3)
    """

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool3d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(AdaptivePoolNd):
    """The mean over PyTorch's adaptive bins (F.adaptive_avg_pool3d).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveAvgPool3d((1, None, 2))(ad.ones((2, 3, 4, 5, 6))).shape
    (2, 3, 1, 5, 2)
    """

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool3d(x, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """The maximum over PyTorch's adaptive bins (F.adaptive_max_pool3d); with
    return_indices=True, (values, indices).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveMaxPool3d((1, None, 1))(ad.arange(8.0).reshape(1, 1, 2, 2, 2)).tolist()
    [[[[[5.0], [7.0]]]]]
    """

    def forward(self, x: Tensor) -> Any:
        return adaptive_max_pool3d(x, self.output_size, self.return_indices)
