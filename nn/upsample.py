"""Upsample: the resizing layer over nn.functional.interpolate (its modes: nearest,
nearest-exact, area, linear on (N, C, L), bilinear and bicubic on (N, C, H, W), trilinear on
(N, C, D, H, W)).

>>> import autodiff as ad, nn
>>> nn.Upsample(scale_factor=2)(ad.ones((1, 3, 4, 5))).shape
(1, 3, 8, 10)
"""

from __future__ import annotations

from typing import Any

from autodiff import Tensor
from nn.functional.interpolate import interpolate
from nn.module import Module


class Upsample(Module):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size` or by `scale_factor`, as
    torch.nn.Upsample.

    >>> import autodiff as ad, nn
    >>> nn.Upsample(scale_factor=2)(ad.ones((1, 1, 2, 3))).shape
    (1, 1, 4, 6)
    >>> nn.Upsample(size=(2, 3, 4), mode='trilinear')(ad.ones((1, 1, 1, 2, 2))).shape
    (1, 1, 2, 3, 4)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x: Tensor) -> Tensor:
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self) -> str:
        if self.scale_factor is None:
            return f"size={self.size!r}, mode={self.mode!r}"
        sf = self.scale_factor  # shown as floats, as PyTorch stores them
        sf = tuple(float(f) for f in sf) if isinstance(sf, tuple | list) else float(sf)
        return f"scale_factor={sf!r}, mode={self.mode!r}"
