"""Conv1d: PyTorch's 1-D convolution layer (N, C, L), or (C, L) unbatched: weight (out_channels,
in_channels / groups, kernel_size) as PyTorch's, so state dicts load across, and PyTorch's
initialization (kaiming_uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) bias).

>>> import autodiff as ad, nn
>>> nn.Conv1d(4, 8, 3, padding=1)(ad.ones((2, 4, 10))).shape
(2, 8, 10)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.conv import _ConvBase, check_layer_args
from nn.functional.conv_1d import conv1d, conv_transpose1d
from nn.functional.pooling1d import single


class Conv1d(_ConvBase):
    """1-D cross-correlation with learned weight (O, C/groups, k) and bias (O,);
    padding_mode 'zeros', 'reflect', 'replicate' or 'circular' (F.pad's modes before a
    convolution with no padding of its own, as PyTorch).

    >>> import autodiff as ad, nn
    >>> conv = nn.Conv1d(2, 4, 3, padding=1, padding_mode="circular")
    >>> conv.weight.shape, conv(ad.ones((1, 2, 5))).shape
    ((4, 2, 3), (1, 4, 5))
    >>> conv
    Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,), padding_mode=circular)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        check_layer_args("Conv1d", in_channels, out_channels, groups, padding, stride,
                         padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        k = single("Conv1d", "kernel_size", kernel_size)
        self.kernel_size = (k,)
        self.stride = (single("Conv1d", "stride", stride),)
        self.padding = padding if isinstance(padding, str) else (
            single("Conv1d", "padding", padding),)
        self.dilation = (single("Conv1d", "dilation", dilation),)
        self.groups, self.padding_mode = groups, padding_mode
        self._init((out_channels, in_channels // groups, k), (in_channels // groups) * k, bias,
                   dtype)

    def forward(self, x: Tensor) -> Tensor:
        x, unbatched = self._batched(x, 3)
        x, padding = self._pad_input(x)
        out = conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                     self.groups)
        return out[0] if unbatched else out



class ConvTranspose1d(_ConvBase):
    """The transposed 1-D convolution layer (F.conv_transpose1d) with learned weight
    (in_channels, out_channels / groups, kernel_size) and bias (out_channels,), PyTorch's
    arguments, initialization and printed form; padding_mode 'zeros' only, as PyTorch's.

    >>> import autodiff as ad, nn
    >>> layer = nn.ConvTranspose1d(2, 4, 3, stride=2, output_padding=1)
    >>> layer.weight.shape, layer(ad.ones((1, 2, 5))).shape
    ((2, 4, 3), (1, 4, 12))
    >>> layer
    ConvTranspose1d(2, 4, kernel_size=(3,), stride=(2,), output_padding=(1,))
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose1d: only padding_mode='zeros' is supported (as "
                             f"PyTorch's), got {padding_mode!r}")
        check_layer_args("ConvTranspose1d", in_channels, out_channels, groups, 0, 1, "zeros")
        self.in_channels, self.out_channels = in_channels, out_channels
        who = "ConvTranspose1d"
        k = single(who, "kernel_size", kernel_size)
        self.kernel_size, self.stride = (k,), (single(who, "stride", stride),)
        self.padding = (single(who, "padding", padding),)
        self.output_padding = (single(who, "output_padding", output_padding),)
        self.dilation = (single(who, "dilation", dilation),)
        self.groups, self.padding_mode = groups, padding_mode
        self._init((in_channels, out_channels // groups, k), (out_channels // groups) * k, bias,
                   dtype)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose1d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
