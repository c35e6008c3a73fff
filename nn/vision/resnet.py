"""The ResNets of He et al. (2015) as torchvision builds them: `resnet18`, `resnet34`,
`resnet50`, with torchvision's parameter names (`conv1`, `layer1.0.bn2`, `layer2.0.downsample.0`,
`fc`, ...), its initialization and its parameter counts, so its state dicts load here.

`small_input=True` is the CIFAR stem (a 3x3 convolution with stride 1, no max pooling) for
28x28 and 32x32 images; everything after the stem is the same.

>>> import autodiff as ad
>>> from nn.vision import resnet
>>> resnet.resnet18(num_classes=10, small_input=True, width=8)(ad.zeros((2, 3, 32, 32))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

import nn
from autodiff import Tensor


def _positive(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}")
    return value


class ImageNetBasicBlock(nn.Module):
    """torchvision's `BasicBlock`: conv3x3 (stride) - bn - relu - conv3x3 - bn, plus the input
    (through `downsample`, a 1x1 conv + bn, when the shape changes), then relu.

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> block = resnet.ImageNetBasicBlock(8, 16, stride=2)
    >>> block(ad.zeros((1, 8, 8, 8))).shape, [k for k, _ in block.named_children()]
    ((1, 16, 4, 4), ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'downsample'])
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _downsample(inplanes, planes, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's `Bottleneck` (ResNet v1.5: the stride on the 3x3): conv1x1 - bn - relu -
    conv3x3 (stride) - bn - relu - conv1x1 (4 planes) - bn, plus the input (through
    `downsample` when the shape changes), then relu.

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> resnet.Bottleneck(16, 4)(ad.zeros((1, 16, 6, 6))).shape
    (1, 16, 6, 6)
    """

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = _downsample(inplanes, planes * 4, stride)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _downsample(inplanes: int, planes: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and inplanes == planes:
        return None
    return nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(planes))


class ImageNetResNet(nn.Module):
    """torchvision's `ResNet`: a stem (conv 7x7 stride 2, bn, relu, max pool 3x3 stride 2), four
    stages of `layers[i]` blocks with width, 2, 4 and 8 times width channels (times the block's
    expansion; the last three stages halve the resolution), global average pooling and `fc`.

    Beyond torchvision: `in_channels`; `width` (torchvision's is 64); `small_input=True`, the
    CIFAR stem (conv 3x3 stride 1, no max pooling: 32x32 images reach the last stage at 4x4
    instead of 1x1); `dropout` before `fc` (torchvision has none; 0, the default, is the
    identity). None of them adds or renames a parameter. Initialization is torchvision's:
    kaiming_normal (fan_out, relu) convolutions, batch norms weight 1 and bias 0, PyTorch's
    default Linear; `zero_init_residual=True` starts each block's last batch norm weight at 0.

    Named ImageNetResNet (not ResNet) because `nn.vision.models.ResNet` is the CIFAR ResNet-8/20.

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> model = resnet.ImageNetResNet(resnet.ImageNetBasicBlock, [1, 1, 1, 1], width=4,
    ...                               num_classes=5)
    >>> model(ad.zeros((2, 3, 64, 64))).shape
    (2, 5)
    """

    def __init__(self, block: type[ImageNetBasicBlock] | type[Bottleneck], layers: list[int],
                 num_classes: int = 1000, in_channels: int = 3, *, width: int = 64,
                 small_input: bool = False, zero_init_residual: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        name = type(self).__name__
        _positive(name, "num_classes", num_classes)
        _positive(name, "in_channels", in_channels)
        _positive(name, "width", width)
        if len(layers) != 4:
            raise ValueError(f"{name}: layers must hold 4 block counts, got {layers!r}")
        for n in layers:
            _positive(name, "layers[i]", n)
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.maxpool = nn.Identity() if small_input else nn.MaxPool2d(3, stride=2, padding=1)
        self.inplanes = width
        self.layer1 = self._stage(block, width, layers[0], stride=1)
        self.layer2 = self._stage(block, width * 2, layers[1], stride=2)
        self.layer3 = self._stage(block, width * 4, layers[2], stride=2)
        self.layer4 = self._stage(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)
        _init_as_torchvision(self, zero_init_residual)

    def _stage(self, block: Any, planes: int, blocks: int, stride: int) -> nn.Sequential:
        out = []
        for i in range(blocks):
            out.append(block(self.inplanes, planes, stride if i == 0 else 1))
            self.inplanes = planes * block.expansion
        return nn.Sequential(*out)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.dropout(self.flatten(self.avgpool(x))))


def _init_as_torchvision(model: nn.Module, zero_init_residual: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, ImageNetBasicBlock):
                nn.init.zeros_(m.bn2.weight)


def resnet18(num_classes: int = 1000, in_channels: int = 3, **kw: Any) -> ImageNetResNet:
    """ResNet-18 (basic blocks [2, 2, 2, 2]): 11,689,512 parameters for 1,000 classes, as
    torchvision's; with `small_input=True` (the CIFAR stem) and 10 classes, 11,173,962.
    Options as `ImageNetResNet`'s.

    >>> from nn.vision import resnet
    >>> sum(p.size for p in resnet.resnet18().parameters())
    11689512
    """
    return ImageNetResNet(ImageNetBasicBlock, [2, 2, 2, 2], num_classes, in_channels, **kw)


def resnet34(num_classes: int = 1000, in_channels: int = 3, **kw: Any) -> ImageNetResNet:
    """ResNet-34 (basic blocks [3, 4, 6, 3]): 21,797,672 parameters for 1,000 classes.

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> resnet.resnet34(num_classes=10, width=4)(ad.zeros((2, 3, 32, 32))).shape
    (2, 10)
    """
    return ImageNetResNet(ImageNetBasicBlock, [3, 4, 6, 3], num_classes, in_channels, **kw)


def resnet50(num_classes: int = 1000, in_channels: int = 3, **kw: Any) -> ImageNetResNet:
    """ResNet-50 (bottlenecks [3, 4, 6, 3], v1.5 as torchvision's): 25,557,032 parameters for
    1,000 classes.

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> resnet.resnet50(num_classes=10, width=4)(ad.zeros((2, 3, 32, 32))).shape
    (2, 10)
    """
    return ImageNetResNet(Bottleneck, [3, 4, 6, 3], num_classes, in_channels, **kw)


def resnet18_cifar(num_classes: int = 10, in_channels: int = 3, **kw: Any) -> ImageNetResNet:
    """ResNet-18 with the CIFAR stem (`small_input=True`): 11,173,962 parameters for 10
    classes. The training command's `resnet18` (its images are 8x8 to 32x32).

    >>> import autodiff as ad
    >>> from nn.vision import resnet
    >>> resnet.resnet18_cifar(in_channels=1, width=4)(ad.zeros((2, 1, 28, 28))).shape
    (2, 10)
    """
    return resnet18(num_classes, in_channels, small_input=True, **kw)
