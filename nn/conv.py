"""Convolution layers: Conv2d and ConvTranspose2d (PyTorch's arguments, defaults and
initialization: kaiming_uniform(a=sqrt(5)) weights, uniform(+-1/sqrt(fan_in)) bias).
Conv2d takes (N, C, H, W), or (C, H, W) unbatched as PyTorch's.

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
from nn.functional.padding import pad
from nn.module import Module, Parameter


class _ConvBase(Module):
    transposed = False  # a transposed convolution's weight is (in, out / groups, ...)

    def extra_repr(self) -> str:
        """PyTorch's, for 1, 2 and 3 spatial axes: channels, kernel_size and stride as tuples,
        then padding, dilation, output_padding, groups, bias and padding_mode only where they
        are not the defaults."""
        n = len(self.kernel_size)

        def sizes(value: Any) -> Any:  # an int as n of it; 'same' / 'valid' as they are
            return value if isinstance(value, str) else (
                tuple(value) if isinstance(value, (tuple, list)) else (value,) * n)

        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={sizes(self.stride)}")
        for name, default in (("padding", 0), ("dilation", 1), ("output_padding", 0)):
            value = sizes(getattr(self, name, default))
            if value != (default,) * n:
                s += f", {name}={value}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += ", bias=False" if self.bias is None else ""
        mode = getattr(self, "padding_mode", "zeros")
        return s + (f", padding_mode={mode}" if mode != "zeros" else "")

    def _batched(self, x: Tensor, ndim: int) -> tuple[Tensor, bool]:
        """x with a batch axis of 1 in front when it has ndim - 1 axes (PyTorch's unbatched
        input), and whether one was added; any other rank raises, naming the input's shape
        (before padding_mode pads it)."""
        if x.ndim == ndim - 1:
            return x[None], True
        if x.ndim != ndim:
            axes = {3: "(N, C, L)", 4: "(N, C, H, W)", 5: "(N, C, D, H, W)"}[ndim]
            raise ValueError(f"{type(self).__name__}: expected input of shape {axes} or "
                             f"{'(' + axes[4:]} unbatched, got {x.shape}")
        return x, False

    def _pad_input(self, x: Tensor) -> tuple[Tensor, Any]:
        """x padded by `padding_mode` (F.pad's widths, last axis first) and the padding left
        for the convolution: 0 then; x as it is and `padding` for 'zeros'."""
        mode = getattr(self, "padding_mode", "zeros")
        if mode == "zeros":
            return x, self.padding
        widths = padding_widths(self.padding, self.kernel_size, self.dilation)
        try:
            return pad(x, widths, mode=mode), 0
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}(padding_mode={mode!r}): {e}") from None

    def _init(self, weight_shape: tuple[int, ...], fan_in: int, bias: bool,
              dtype: Any = None) -> None:
        self.weight = Parameter(ad.zeros(weight_shape, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            self.bias = Parameter(ad.zeros(weight_shape[1] * self.groups if self.transposed
                                           else weight_shape[0], dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)


class Conv2d(_ConvBase):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        super().__init__()
        check_layer_args("Conv2d", in_channels, out_channels, groups, padding, stride,
                         padding_mode)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.padding_mode = padding_mode
        kh, kw = self.kernel_size
        self._init((out_channels, in_channels // groups, kh, kw),
                   (in_channels // groups) * kh * kw, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        x, unbatched = self._batched(x, 4)
        x, padding = self._pad_input(x)
        out = conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                     self.groups)
        return out[0] if unbatched else out


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def check_layer_args(layer: str, in_channels: int, out_channels: int, groups: int,
                     padding: Any, stride: Any, padding_mode: str) -> None:
    """PyTorch's checks when a convolution layer is made (the function checks the rest)."""
    if not isinstance(groups, int) or groups <= 0:
        raise ValueError(f"{layer}: groups must be a positive integer, got {groups!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{layer}: groups={groups} must divide in_channels={in_channels} "
                         f"and out_channels={out_channels}")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"{layer}: invalid padding string {padding!r}, should be 'same' "
                             "or 'valid'")
        strides = (stride,) if isinstance(stride, int) else tuple(stride)
        if padding == "same" and any(s != 1 for s in strides):
            raise ValueError(f"{layer}: padding='same' is not supported for strided "
                             f"convolutions (stride={stride!r})")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{layer}: padding_mode must be one of {PADDING_MODES}, but got "
                         f"padding_mode={padding_mode!r}")


def padding_widths(padding: Any, kernel_size: tuple[int, ...], dilation: Any) -> list[int]:
    """F.pad's widths (last axis first, (before, after) each) for a convolution's padding:
    p on both sides, none for 'valid', and for 'same' d (k - 1) split with the odd one
    after (PyTorch's _reversed_padding_repeated_twice)."""
    n = len(kernel_size)
    dil = (dilation,) * n if isinstance(dilation, int) else tuple(dilation)
    if padding == "valid":
        pairs = [(0, 0)] * n
    elif padding == "same":
        pairs = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for d, k in zip(dil, kernel_size)]
    else:
        pads = (padding,) * n if isinstance(padding, int) else tuple(padding)
        pairs = [(p, p) for p in pads]
    return [w for pair in pairs[::-1] for w in pair]


class ConvTranspose2d(_ConvBase):
    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, dtype: Any = None) -> None:
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
                   (out_channels // groups) * kh * kw, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)
