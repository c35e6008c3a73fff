"""Sliding-block and sub-pixel layers over nn.functional.unfold: Unfold, Fold, PixelShuffle,
PixelUnshuffle (no parameters), as PyTorch's.

>>> import autodiff as ad, nn
>>> nn.Unfold(kernel_size=2)(ad.ones((1, 3, 4, 4))).shape
(1, 12, 9)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.sliding_blocks import fold, unfold
from nn.functional.sub_pixel import pixel_shuffle, pixel_unshuffle
from nn.module import Module


class Unfold(Module):
    """Sliding local blocks (im2col), as torch.nn.Unfold: (N, C, H, W) -> (N, C kh kw, L).

    >>> import autodiff as ad, nn
    >>> nn.Unfold(kernel_size=(2, 3), stride=2)(ad.ones((2, 1, 5, 7))).shape
    (2, 6, 6)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Combine sliding local blocks (col2im, overlaps summed), as torch.nn.Fold:
    (N, C kh kw, L) -> (N, C, *output_size).

    >>> import autodiff as ad, nn
    >>> nn.Fold(output_size=(3, 3), kernel_size=2)(ad.ones((1, 4, 4)))[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r), as torch.nn.PixelShuffle.

    >>> import autodiff as ad, nn
    >>> nn.PixelShuffle(3)(ad.ones((1, 18, 4, 5))).shape
    (1, 2, 12, 15)
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), as torch.nn.PixelUnshuffle.

    >>> import autodiff as ad, nn
    >>> nn.PixelUnshuffle(2)(ad.ones((1, 3, 4, 6))).shape
    (1, 12, 2, 3)
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
