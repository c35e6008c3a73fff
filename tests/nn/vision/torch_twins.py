"""PyTorch twins of this library's models: the same layers in the same attributes, so their
state dicts have the same names and shapes (PyTorch's BatchNorm adds num_batches_tracked).
Imported only by tests that have PyTorch; written from the architectures' descriptions in
nn/vision/models.py and examples/unet_shapes.py, not generated from them."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class LeNet5(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 1) -> None:
        super().__init__()
        c1, c2 = 6 * width, 16 * width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.0),
            nn.Linear(120, 84), nn.ReLU(), nn.Dropout(0.0), nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (28, 28):
            x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, blocks: int = 1, in_channels: int = 1, num_classes: int = 10,
                 width: int = 16) -> None:
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
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0),
                                  nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


class DepthwiseSeparable(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.depthwise = nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in), nn.ReLU())
        self.pointwise = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False),
                                       nn.BatchNorm2d(c_out), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class MobileNet(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10, width: int = 16,
                 depth: int = 4) -> None:
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
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.0),
                                  nn.Linear(c, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


class MLP(nn.Module):
    def __init__(self, in_features: int = 64, num_classes: int = 10, width: int = 128,
                 depth: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        n = in_features
        for _ in range(depth):
            layers += [nn.Linear(n, width), nn.ReLU(), nn.Dropout(0.0)]
            n = width
        layers.append(nn.Linear(n, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TinyUNet(nn.Module):
    def __init__(self, width: int = 8) -> None:
        super().__init__()
        w = width
        self.down1 = nn.Sequential(nn.Conv2d(1, w, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * w, w, 2, stride=2)
        self.out = nn.Sequential(nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(w, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.down1(x)
        u = self.up(self.down2(a))
        return self.out(torch.cat([u, a], dim=1))


def randomize_batch_norms(model: nn.Module, generator: torch.Generator) -> None:
    """Running statistics, scales and shifts away from their defaults, so that a state dict
    that lost them (or mixed them up) changes the outputs."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=generator) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(n, generator=generator) * 0.2)
                m.num_batches_tracked.fill_(17)
