"""Models for small images, built from nn layers only: LeNet-5, ResNet-8/20 (basic blocks with
identity and projection shortcuts) and a MobileNet-style network (depthwise separable blocks).

>>> import autodiff as ad
>>> from nn.vision import models
>>> models.LeNet5()(ad.zeros((2, 1, 28, 28))).shape
(2, 10)
"""

from __future__ import annotations

from typing import Any

import autodiff as ad
import nn
from autodiff import Tensor


class LeNet5(nn.Module):
    """conv 6@5x5 pad 2, relu, maxpool 2, conv 16@5x5, relu, maxpool 2, fc 120, fc 84, fc 10.

    Inputs smaller than 28x28 (the 8x8 digits) are resized to 28x28 first (bilinear), so the
    layer sizes are LeNet's for every dataset.

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> model = models.LeNet5()
    >>> model(ad.zeros((2, 1, 28, 28))).shape
    (2, 10)
    >>> sum(p.size for p in model.parameters())
    61706
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, dropout: float = 0.0,
                 width: int = 1) -> None:
        super().__init__()
        c1, c2 = 6 * width, 16 * width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 5 * 5, 120), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(120, 84), nn.ReLU(), nn.Dropout(dropout), nn.Linear(84, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != 28 or x.shape[-2] != 28:
            x = nn.functional.interpolate(x, size=(28, 28), mode="bilinear")
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """conv3x3-bn-relu-conv3x3-bn plus a shortcut (identity, or 1x1 conv + bn when the shape
    changes), then relu.

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> block = models.BasicBlock(8, 16, stride=2)
    >>> block(ad.zeros((1, 8, 8, 8))).shape
    (1, 16, 4, 4)
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        out = ad.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return ad.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """A ResNet for small images: a 3x3 stem, three stages of `blocks` basic blocks
    (width, 2 width, 4 width; the later stages halve the resolution), global average pooling
    and a linear classifier. depth = 6 * blocks + 2 (ResNet-8: 1 block, ResNet-20: 3).

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> models.ResNet(blocks=1, width=8)(ad.zeros((2, 1, 28, 28))).shape
    (2, 10)
    """

    def __init__(self, blocks: int = 1, in_channels: int = 1, num_classes: int = 10,
                 width: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        layers: list[nn.Module] = []
        c = width
        for stage in range(3):
            c_out = width * 2 ** stage
            for b in range(blocks):
                layers.append(BasicBlock(c, c_out, stride=2 if stage > 0 and b == 0 else 1))
                c = c_out
        self.stages = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(c, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.stages(self.stem(x)))


def resnet8(**kw: Any) -> ResNet:
    """ResNet-8: one basic block per stage (depth 6 * 1 + 2).

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> model = models.resnet8()
    >>> len(model.stages), model(ad.zeros((1, 1, 28, 28))).shape
    (3, (1, 10))
    """
    return ResNet(blocks=1, **kw)


def resnet20(**kw: Any) -> ResNet:
    """ResNet-20: three basic blocks per stage (depth 6 * 3 + 2).

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> model = models.resnet20(width=4)
    >>> len(model.stages)
    9
    """
    return ResNet(blocks=3, **kw)


class DepthwiseSeparable(nn.Module):
    """depthwise 3x3 (groups = channels) + bn + relu, then pointwise 1x1 + bn + relu.

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> models.DepthwiseSeparable(4, 8)(ad.zeros((1, 4, 6, 6))).shape
    (1, 8, 6, 6)
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in), nn.ReLU())
        self.pointwise = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False),
                                       nn.BatchNorm2d(c_out), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.pointwise(self.depthwise(x))


class MobileNet(nn.Module):
    """A MobileNet-style network for small images: a stem and depthwise separable blocks.

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> models.MobileNet(width=8, depth=2)(ad.zeros((2, 1, 28, 28))).shape
    (2, 10)
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16,
                 depth: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        blocks: list[nn.Module] = []
        c = width
        for i in range(depth):
            c_out = c * 2 if i % 2 == 1 else c
            blocks.append(DepthwiseSeparable(c, c_out, stride=2 if i % 2 == 1 else 1))
            c = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(c, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.blocks(self.stem(x)))


class MLP(nn.Module):
    """A multilayer perceptron on flattened images (the digits baseline).

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> models.MLP(in_features=64, width=32, depth=2)(ad.zeros((5, 1, 8, 8))).shape
    (5, 10)
    """

    def __init__(self, in_features: int = 64, num_classes: int = 10, width: int = 128,
                 depth: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        n = in_features
        for _ in range(depth):
            layers += [nn.Linear(n, width), nn.ReLU(), nn.Dropout(dropout)]
            n = width
        layers.append(nn.Linear(n, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


MODELS = {"lenet5": LeNet5, "resnet8": resnet8, "resnet20": resnet20, "mobilenet": MobileNet,
          "mlp": MLP}


def get_model(name: str, **kw: Any) -> nn.Module:
    """A model by name (a key of MODELS: lenet5, resnet8, ...) with its keyword options.

    >>> import autodiff as ad
    >>> from nn.vision import models
    >>> type(models.get_model('lenet5', dropout=0.1)).__name__
    'LeNet5'
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name](**kw)

from nn.vision.vit import VisionTransformer, vit_small_mnist, vit_tiny  # noqa: E402, F401

MODELS["vit_small_mnist"] = vit_small_mnist

# The model zoo: torchvision's architectures, names and parameter counts (own files).
from nn.vision.mobilenet import InvertedResidual, MobileNetV2, mobilenet_v2  # noqa: E402,F401
from nn.vision.resnet import (  # noqa: E402,F401
    Bottleneck,
    ImageNetBasicBlock,
    ImageNetResNet,
    resnet18,
    resnet18_cifar,
    resnet34,
    resnet50,
)

MODELS["resnet18"] = resnet18_cifar  # the command's images are small: the CIFAR stem
