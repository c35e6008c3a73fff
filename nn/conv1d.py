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
from nn.functional.conv_1d import conv1d
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

    def extra_repr(self) -> str:
        """PyTorch's: sizes as 1-tuples; padding, dilation, groups, bias and padding_mode
        only where they are not the defaults."""
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += ", bias=False" if self.bias is None else ""
        return s + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros"
                    else "")
