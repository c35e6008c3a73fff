"""The Vision Transformer (Dosovitskiy et al., 2021) with torchvision's parameter names, so a
torchvision state dict loads as it is: conv_proj, class_token, encoder.pos_embedding,
encoder.layers.encoder_layer_{i}.(ln_1, self_attention, ln_2, mlp.0, mlp.3), encoder.ln,
heads.head.

>>> import autodiff as ad
>>> from nn.vision.vit import vit_small_mnist
>>> vit_small_mnist()(ad.zeros((2, 1, 28, 28))).shape
(2, 10)
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

import autodiff as ad
import nn
from autodiff import Tensor
from nn.vision.resnet import _positive


class MLPBlock(nn.Sequential):
    """Linear(dim, mlp_dim), GELU, Dropout, Linear(mlp_dim, dim), Dropout (torchvision's
    MLPBlock: xavier_uniform weights, N(0, 1e-6) biases).

    >>> import autodiff as ad
    >>> from nn.vision.vit import MLPBlock
    >>> MLPBlock(4, 8, 0.0)(ad.ones((2, 4))).shape
    (2, 4)
    """

    def __init__(self, in_dim: int, mlp_dim: int, dropout: float) -> None:
        super().__init__(nn.Linear(in_dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                         nn.Linear(mlp_dim, in_dim), nn.Dropout(dropout))
        for m in (self[0], self[3]):
            nn.init.xavier_uniform_(m.weight)
            nn.init.normal_(m.bias, std=1e-6)


class EncoderBlock(nn.Module):
    """Pre-norm transformer block: x + attention(ln_1(x)), then + mlp(ln_2(.)).

    >>> import autodiff as ad
    >>> from nn.vision.vit import EncoderBlock
    >>> EncoderBlock(2, 8, 16, 0.0, 0.0)(ad.ones((1, 3, 8))).shape
    (1, 3, 8)
    """

    def __init__(self, num_heads: int, hidden_dim: int, mlp_dim: int, dropout: float,
                 attention_dropout: float, eps: float = 1e-6) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.ln_1 = nn.LayerNorm(hidden_dim, eps=eps)
        self.self_attention = nn.MultiheadAttention(hidden_dim, num_heads,
                                                    dropout=attention_dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.ln_2 = nn.LayerNorm(hidden_dim, eps=eps)
        self.mlp = MLPBlock(hidden_dim, mlp_dim, dropout)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3:
            raise ValueError(f"EncoderBlock: expected (batch, length, hidden_dim), got "
                             f"{x.shape}")
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = self.dropout(y) + x
        return x + self.mlp(self.ln_2(x))


class Encoder(nn.Module):
    """Position embedding (N(0, 0.02)), dropout, `num_layers` EncoderBlocks, a final LayerNorm.

    >>> import autodiff as ad
    >>> from nn.vision.vit import Encoder
    >>> Encoder(5, 2, 2, 8, 16, 0.0, 0.0).pos_embedding.shape
    (1, 5, 8)
    """

    def __init__(self, seq_length: int, num_layers: int, num_heads: int, hidden_dim: int,
                 mlp_dim: int, dropout: float, attention_dropout: float,
                 eps: float = 1e-6) -> None:
        super().__init__()
        self.pos_embedding = nn.Parameter(ad.zeros((1, seq_length, hidden_dim)))
        nn.init.normal_(self.pos_embedding, std=0.02)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.Sequential(OrderedDict(
            (f"encoder_layer_{i}", EncoderBlock(num_heads, hidden_dim, mlp_dim, dropout,
                                                attention_dropout, eps))
            for i in range(num_layers)))
        self.ln = nn.LayerNorm(hidden_dim, eps=eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.ln(self.layers(self.dropout(x + self.pos_embedding)))


class VisionTransformer(nn.Module):
    """Patches of `patch_size` embedded by one strided convolution, a class token prepended,
    the encoder, and a linear head on the class token's output. Initialization as
    torchvision's (the head starts at zero).

    >>> import autodiff as ad
    >>> from nn.vision.vit import VisionTransformer
    >>> model = VisionTransformer(image_size=8, patch_size=4, num_layers=1, num_heads=2,
    ...                           hidden_dim=8, mlp_dim=16, num_classes=3, in_channels=1)
    >>> model(ad.zeros((2, 1, 8, 8))).shape, model.encoder.pos_embedding.shape
    ((2, 3), (1, 5, 8))
    """

    def __init__(self, image_size: int, patch_size: int, num_layers: int, num_heads: int,
                 hidden_dim: int, mlp_dim: int, dropout: float = 0.0,
                 attention_dropout: float = 0.0, num_classes: int = 1000,
                 in_channels: int = 3) -> None:
        super().__init__()
        for name, value in (("image_size", image_size), ("patch_size", patch_size),
                            ("num_heads", num_heads), ("hidden_dim", hidden_dim),
                            ("mlp_dim", mlp_dim), ("num_classes", num_classes),
                            ("in_channels", in_channels)):
            _positive("VisionTransformer", name, value)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"VisionTransformer: num_layers must be an integer >= 0, got "
                             f"{num_layers!r}")
        if hidden_dim % num_heads:
            raise ValueError(f"VisionTransformer: hidden_dim {hidden_dim} is not a multiple of "
                             f"num_heads {num_heads} (each head gets hidden_dim / num_heads)")
        if image_size % patch_size:
            raise ValueError(f"VisionTransformer: image_size {image_size} is not a multiple "
                             f"of patch_size {patch_size}")
        self.image_size, self.patch_size = image_size, patch_size
        self.hidden_dim, self.mlp_dim = hidden_dim, mlp_dim
        self.num_classes = num_classes
        self.conv_proj = nn.Conv2d(in_channels, hidden_dim, patch_size, stride=patch_size)
        fan_in = in_channels * patch_size * patch_size
        _trunc_normal_(self.conv_proj.weight, std=math.sqrt(1 / fan_in))
        nn.init.zeros_(self.conv_proj.bias)
        self.class_token = nn.Parameter(ad.zeros((1, 1, hidden_dim)))
        seq_length = (image_size // patch_size) ** 2 + 1
        self.seq_length = seq_length
        self.encoder = Encoder(seq_length, num_layers, num_heads, hidden_dim, mlp_dim,
                               dropout, attention_dropout)
        self.heads = nn.Sequential(OrderedDict(head=nn.Linear(hidden_dim, num_classes)))
        nn.init.zeros_(self.heads.head.weight)
        nn.init.zeros_(self.heads.head.bias)

    def tokens(self, x: Tensor) -> Tensor:
        """The encoder's input: the class token and one embedding per patch,
        (N, 1 + patches, hidden_dim), before the position embedding."""
        n, _, h, w = x.shape
        if h != self.image_size or w != self.image_size:
            raise ValueError(f"VisionTransformer: expected {self.image_size}x"
                             f"{self.image_size} images, got {h}x{w} (input shape {x.shape})")
        x = self.conv_proj(x)  # (N, hidden, h / p, w / p)
        x = x.reshape((n, self.hidden_dim, self.seq_length - 1)).swapaxes(1, 2)
        cls = ad.broadcast_to(self.class_token, (n, 1, self.hidden_dim))
        return ad.concatenate([cls, x], axis=1)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"VisionTransformer: expected (N, C, H, W), got {x.shape}")
        return self.heads(self.encoder(self.tokens(x))[:, 0])


def _trunc_normal_(t: Tensor, std: float) -> Tensor:
    """N(0, std) truncated to [-2, 2] (PyTorch's trunc_normal_ defaults: absolute bounds),
    drawn by redrawing the values outside."""
    rng = ad.generator()
    values = rng.standard_normal(t.shape) * std
    while (out := np.abs(values) > 2.0).any():
        values[out] = rng.standard_normal(int(out.sum())) * std
    with ad.no_grad():
        t.data[...] = values
    return t


def vit_tiny(num_classes: int = 1000, in_channels: int = 3, image_size: int = 224,
             patch_size: int = 16, **kw: Any) -> VisionTransformer:
    """ViT-Ti/16 (DeiT-Tiny's shape): dim 192, depth 12, 3 heads, MLP 768; 5,717,416
    parameters at 224x224 with 1,000 classes.

    >>> from nn.vision.vit import vit_tiny
    >>> model = vit_tiny(num_classes=10, image_size=32, patch_size=8)
    >>> model.encoder.pos_embedding.shape
    (1, 17, 192)
    """
    return VisionTransformer(image_size, patch_size, num_layers=12, num_heads=3,
                             hidden_dim=192, mlp_dim=768, num_classes=num_classes,
                             in_channels=in_channels, **kw)


def vit_small_mnist(num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                    patch_size: int = 7, dropout: float = 0.0, width: int = 64,
                    depth: int = 4, num_heads: int = 4, mlp_dim: int | None = None
                    ) -> VisionTransformer:
    """A small ViT for 28x28 digits: 16 patches of 7x7, dim `width` 64, `depth` 4, 4 heads,
    MLP 2 * width (`width` and `depth` are the training command's --width and --depth).

    >>> from nn.vision.vit import vit_small_mnist
    >>> sum(p.size for p in vit_small_mnist().parameters())
    139018
    """
    return VisionTransformer(image_size, patch_size, num_layers=depth, num_heads=num_heads,
                             hidden_dim=width, mlp_dim=2 * width if mlp_dim is None else mlp_dim,
                             dropout=dropout, num_classes=num_classes, in_channels=in_channels)
