"""Conv3d and ConvTranspose3d: PyTorch's 3-D convolution layers (N, C, D, H, W), or
(C, D, H, W) unbatched: weights laid out as PyTorch's, so state dicts load across, and
PyTorch's initialization (kaiming_uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) bias).

>>> import autodiff as ad, nn
>>> nn.Conv3d(4, 8, 3, padding=1)(ad.ones((2, 4, 6, 6, 6))).shape
(2, 8, 6, 6, 6)
"""

from __future__ import annotations

import math
from typing import Any

from autodiff import Tensor
from nn.conv import _ConvBase, check_layer_args
from nn.functional.conv_3d import conv3d, conv_transpose3d, triple


class Conv3d(_ConvBase):
    """3-D cross-correlation with learned weight (O, C/groups, kd, kh, kw) and bias (O,);
    padding an int, a triple, 'same' or 'valid'; padding_mode 'zeros', 'reflect', 'replicate'
    or 'circular' (F.pad's modes before a convolution with no padding of its own, as PyTorch).

    >>> import autodiff as ad, nn
    >>> conv = nn.Conv3d(2, 4, (1, 3, 3), padding=(0, 1, 1), padding_mode="replicate")
    >>> conv.weight.shape, conv(ad.ones((1, 2, 3, 5, 5))).shape
    ((4, 2, 1, 3, 3), (1, 4, 3, 5, 5))
    >>> conv
    Conv3d(2, 4, kernel_size=(1, 3, 3), stride=(1, 1, 1), padding=(0, 1, 1), padding_mode=replicate)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        check_layer_args("Conv3d", in_channels, out_channels, groups, padding, stride,
                         padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = triple(kernel_size, "kernel_size", "Conv3d")
        self.stride = triple(stride, "stride", "Conv3d")
        self.padding = padding if isinstance(padding, str) else triple(padding, "padding",
                                                                      "Conv3d")
        self.dilation = triple(dilation, "dilation", "Conv3d")
        self.groups, self.padding_mode = groups, padding_mode
        fan_in = (in_channels // groups) * math.prod(self.kernel_size)
        self._init((out_channels, in_channels // groups, *self.kernel_size), fan_in, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        x, unbatched = self._batched(x, 5)
        x, padding = self._pad_input(x)
        out = conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                     self.groups)
        return out[0] if unbatched else out



class ConvTranspose3d(_ConvBase):
    """The transposed 3-D convolution layer (F.conv_transpose3d) with learned weight
    (in_channels, out_channels / groups, kd, kh, kw) and bias (out_channels,), PyTorch's
    arguments, initialization and printed form; padding_mode 'zeros' only, as PyTorch's.

    >>> import autodiff as ad, nn
    >>> layer = nn.ConvTranspose3d(2, 4, 3, stride=2, output_padding=1)
    >>> layer.weight.shape, layer(ad.ones((1, 2, 2, 3, 3))).shape
    ((2, 4, 3, 3, 3), (1, 4, 6, 8, 8))
    >>> layer
    ConvTranspose3d(2, 4, kernel_size=(3, 3, 3), stride=(2, 2, 2), output_padding=(1, 1, 1))
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        who = "ConvTranspose3d"
        if padding_mode != "zeros":
            raise ValueError(f"{who}: only padding_mode='zeros' is supported (as PyTorch's), "
                             f"got {padding_mode!r}")
        check_layer_args(who, in_channels, out_channels, groups, 0, 1, "zeros")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = triple(kernel_size, "kernel_size", who)
        self.stride, self.padding = triple(stride, "stride", who), triple(padding, "padding", who)
        self.output_padding = triple(output_padding, "output_padding", who)
        self.dilation = triple(dilation, "dilation", who)
        self.groups, self.padding_mode = groups, padding_mode
        fan_in = (out_channels // groups) * math.prod(self.kernel_size)
        self._init((in_channels, out_channels // groups, *self.kernel_size), fan_in, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose3d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
