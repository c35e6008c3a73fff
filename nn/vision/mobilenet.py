"""MobileNetV2 (Sandler et al., 2018) as torchvision builds it: inverted residual blocks
(1x1 expansion, 3x3 depthwise, 1x1 linear projection) with torchvision's parameter names
(`features.0.0.weight`, `features.1.conv.0.0.weight`, `classifier.1.weight`, ...), its
initialization and its parameter count (3,504,872 for 1,000 classes).

>>> import autodiff as ad
>>> from nn.vision import mobilenet
>>> mobilenet.mobilenet_v2(num_classes=10, width_mult=0.25)(ad.zeros((2, 3, 32, 32))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

import nn
import nn.functional as F
from autodiff import Tensor
from nn.vision.resnet import _positive

# expansion t, output channels c, blocks n, stride of the first block s (the paper's Table 2)
SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
            (6, 160, 3, 2), (6, 320, 1, 1))


def make_divisible(v: float, divisor: int = 8) -> int:
    """`v` rounded to the nearest multiple of `divisor` (at least `divisor`), going up a
    step when rounding would lose more than 10% (torchvision's `_make_divisible`).

    >>> from nn.vision.mobilenet import make_divisible
    >>> make_divisible(32 * 0.35), make_divisible(1280 * 1.4)
    (16, 1792)
    """
    out = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * v else out


def conv_bn_relu6(c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1,
                  groups: int = 1) -> nn.Sequential:
    """conv (no bias, 'same' padding) - bn - ReLU6, as torchvision's `Conv2dNormActivation`
    (so its parameters are named `0.weight`, `1.weight`, `1.bias`, ...).

    >>> import autodiff as ad
    >>> from nn.vision import mobilenet
    >>> mobilenet.conv_bn_relu6(3, 8, stride=2)(ad.zeros((1, 3, 8, 8))).shape
    (1, 8, 4, 4)
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=(kernel_size - 1) // 2,
                  groups=groups, bias=False),
        nn.BatchNorm2d(c_out), nn.ReLU6())


class InvertedResidual(nn.Module):
    """1x1 expansion to `expand_ratio` times the channels (none when it is 1) - 3x3 depthwise
    (stride) - 1x1 projection - bn, no activation after it; plus the input when the stride is 1
    and the channels stay.

    >>> import autodiff as ad
    >>> from nn.vision import mobilenet
    >>> block = mobilenet.InvertedResidual(8, 8, stride=1, expand_ratio=6)
    >>> block(ad.zeros((1, 8, 5, 5))).shape, block.use_res_connect
    ((1, 8, 5, 5), True)
    """

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"InvertedResidual: stride must be 1 or 2, got {stride!r}")
        hidden = round(inp * expand_ratio)
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(conv_bn_relu6(inp, hidden, kernel_size=1))
        layers += [conv_bn_relu6(hidden, hidden, stride=stride, groups=hidden),
                   nn.Conv2d(hidden, oup, 1, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's `MobileNetV2`: `features` (a 3x3 stride-2 stem of 32 channels, the 17
    inverted residual blocks of SETTINGS, a 1x1 conv to 1280 channels), global average pooling,
    `classifier` (dropout, linear). `width_mult` scales every width (rounded to multiples of 8;
    the last stays at least 1280). Adds `in_channels` to torchvision's arguments.

    No small-input variant: the total stride is 32 (a 32x32 image reaches the last blocks at
    1x1) and torchvision has no standard one; it runs on 28x28 and 32x32 as it is.
    Initialization is torchvision's: kaiming_normal (fan_out) convolutions, batch norms weight 1
    and bias 0, linear weight normal(0, 0.01) and bias 0.

    >>> import autodiff as ad
    >>> from nn.vision import mobilenet
    >>> model = mobilenet.MobileNetV2(num_classes=3, width_mult=0.25)
    >>> model(ad.zeros((2, 3, 32, 32))).shape, len(model.features)
    ((2, 3), 19)
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *,
                 width_mult: float = 1.0, dropout: float = 0.2) -> None:
        super().__init__()
        _positive("MobileNetV2", "num_classes", num_classes)
        _positive("MobileNetV2", "in_channels", in_channels)
        if not (isinstance(width_mult, (int, float)) and 0 < width_mult < float("inf")):
            raise ValueError(f"MobileNetV2: width_mult must be a finite number > 0, got "
                             f"{width_mult!r}")
        c = make_divisible(32 * width_mult)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult))
        features: list[nn.Module] = [conv_bn_relu6(in_channels, c, stride=2)]
        for t, c_out, n, s in SETTINGS:
            c_out = make_divisible(c_out * width_mult)
            for i in range(n):
                features.append(InvertedResidual(c, c_out, s if i == 0 else 1, expand_ratio=t))
                c = c_out
        features.append(conv_bn_relu6(c, self.last_channel, kernel_size=1))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(dropout),
                                        nn.Linear(self.last_channel, num_classes))
        _init_as_torchvision(self)

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(x.reshape(x.shape[0], self.last_channel))  # an empty batch too


def _init_as_torchvision(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


def mobilenet_v2(num_classes: int = 1000, in_channels: int = 3, **kw: Any) -> MobileNetV2:
    """MobileNetV2 (width 1.0): 3,504,872 parameters for 1,000 classes, as torchvision's.
    Options (`width_mult`, `dropout`) as `MobileNetV2`'s.

    >>> from nn.vision import mobilenet
    >>> sum(p.size for p in mobilenet.mobilenet_v2().parameters())
    3504872
    """
    return MobileNetV2(num_classes, in_channels, **kw)
