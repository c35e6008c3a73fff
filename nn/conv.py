"""Convolution layers: Conv2d and ConvTranspose2d (PyTorch's arguments, defaults and
initialization: kaiming_uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) bias).

>>> import autodiff as ad, nn
>>> nn.Conv2d(1, 6, 5, padding=2)(ad.ones((2, 1, 28, 28))).shape
(2, 6, 28, 28)
"""

from __future__ import annotations

import math
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn import init
from nn.functional.conv import _pair, conv2d, conv_transpose2d
from nn.module import Module, Parameter


class _ConvBase(Module):
    def extra_repr(self) -> str:
        """PyTorch's: channels, kernel_size and stride as pairs, then padding, dilation,
        output_padding, groups and bias only where they are not the defaults."""
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={_pair(self.stride, 'stride')}")
        padding = self.padding if isinstance(self.padding, str) else _pair(self.padding,
                                                                            "padding")
        if padding != (0, 0):
            s += f", padding={padding}"
        if _pair(self.dilation, "dilation") != (1, 1):
            s += f", dilation={_pair(self.dilation, 'dilation')}"
        output_padding = _pair(getattr(self, "output_padding", 0), "output_padding")
        if output_padding != (0, 0):
            s += f", output_padding={output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + (", bias=False" if self.bias is None else "")

    def _init(self, weight_shape: tuple[int, ...], fan_in: int, bias: bool) -> None:
        self.weight = Parameter(ad.zeros(*weight_shape))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            self.bias = Parameter(ad.zeros(weight_shape[0] if isinstance(self, Conv2d)
                                           else weight_shape[1] * self.groups))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)


class Conv2d(_ConvBase):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True
                 ) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} "
                             f"and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        kh, kw = self.kernel_size
        self._init((out_channels, in_channels // groups, kh, kw),
                   (in_channels // groups) * kh * kw, bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class ConvTranspose2d(_ConvBase):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1) -> None:
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: groups={groups} must divide in_channels="
                             f"{in_channels} and out_channels={out_channels}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.output_padding = stride, padding, output_padding
        self.groups, self.dilation = groups, dilation
        kh, kw = self.kernel_size
        self._init((in_channels, out_channels // groups, kh, kw),
                   (out_channels // groups) * kh * kw, bias)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
