"""Pooling layers (max, average, adaptive average) over nn.functional.pooling.

>>> import autodiff as ad, nn
>>> nn.MaxPool2d(2)(ad.ones((1, 3, 8, 8))).shape
(1, 3, 4, 4)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.adaptive_pool import adaptive_max_pool2d
from nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from nn.module import Module


class MaxPoolNd(Module):
    """The arguments and printed form of MaxPool1d and MaxPool2d (PyTorch's); with
    return_indices=True the layer returns (values, indices), for MaxUnpool1d/2d.

    >>> import autodiff as ad, nn
    >>> nn.MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False
                 ) -> None:
        super().__init__()
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.stride = kernel_size if stride is None else stride
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        """PyTorch's."""
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(MaxPoolNd):
    """The maximum of each window (F.max_pool2d).

    >>> import autodiff as ad, nn
    >>> nn.MaxPool2d(3, stride=2, ceil_mode=True)(ad.ones((1, 1, 6, 6))).shape
    (1, 1, 3, 3)
    >>> nn.MaxPool2d(2, return_indices=True)(ad.ones((1, 1, 4, 4)))[1].shape
    (1, 1, 2, 2)
    """

    def forward(self, x: Tensor) -> Any:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)


class AvgPool2d(Module):
    """The mean of each window (F.avg_pool2d), PyTorch's arguments.

    >>> import autodiff as ad, nn
    >>> nn.AvgPool2d(2, ceil_mode=True)(ad.ones((1, 1, 5, 5))).shape
    (1, 1, 3, 3)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        """PyTorch's (without ceil_mode, count_include_pad and divisor_override, as its)."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptivePoolNd(Module):
    """The argument and printed form of the adaptive pools (PyTorch's).

    >>> import nn
    >>> nn.AdaptiveAvgPool2d((2, 3))
    AdaptiveAvgPool2d(output_size=(2, 3))
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(AdaptivePoolNd):
    """The mean over PyTorch's adaptive bins (F.adaptive_avg_pool2d).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveAvgPool2d(1)(ad.ones((2, 3, 5, 5))).shape
    (2, 3, 1, 1)
    """

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool2d(AdaptivePoolNd):
    """The maximum over PyTorch's adaptive bins (F.adaptive_max_pool2d); with
    return_indices=True, (values, indices).

    >>> import autodiff as ad, nn
    >>> nn.AdaptiveMaxPool2d((1, 2))(ad.arange(16.0).reshape(1, 1, 4, 4)).tolist()
    [[[[13.0, 15.0]]]]
    """

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Any:
        return adaptive_max_pool2d(x, self.output_size, self.return_indices)
