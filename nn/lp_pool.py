"""Power-average pooling layers LPPool1d, LPPool2d and LPPool3d
(`nn.functional.lp_pool1d/2d/3d`), with
PyTorch's arguments and printed form.

>>> import autodiff as ad, nn
>>> nn.LPPool2d(2, 3, stride=2)
LPPool2d(norm_type=2, kernel_size=3, stride=2, ceil_mode=False)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.lp_pool import lp_pool1d, lp_pool2d, lp_pool3d
from nn.module import Module


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        """PyTorch's."""
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool2d(_LPPoolNd):
    """(sum over each window of x^p)^(1/p) on (N, C, H, W) (`F.lp_pool2d`).

    >>> import autodiff as ad, nn
    >>> nn.LPPool2d(1, 2)(ad.ones((1, 1, 4, 4))).tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    """

    def forward(self, x: Tensor) -> Tensor:
        return lp_pool2d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """(sum over each window of x^p)^(1/p) on (N, C, L) (`F.lp_pool1d`).

    >>> import autodiff as ad, nn
    >>> nn.LPPool1d(2, 2)(ad.tensor([[[3.0, 4.0]]])).tolist()
    [[[5.0]]]
    """

    def forward(self, x: Tensor) -> Tensor:
        return lp_pool1d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """(sum over each window of x^p)^(1/p) on (N, C, D, H, W) (`F.lp_pool3d`).

    >>> import autodiff as ad, nn
    >>> nn.LPPool3d(1, (1, 2, 2))(ad.ones((1, 1, 2, 2, 2))).tolist()
    [[[[[4.0]], [[4.0]]]]]
    """

    def forward(self, x: Tensor) -> Tensor:
        return lp_pool3d(x, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)
