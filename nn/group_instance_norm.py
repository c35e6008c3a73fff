"""GroupNorm, InstanceNorm1d, InstanceNorm2d and InstanceNorm3d (per-example normalizations),
PyTorch's arguments, defaults, parameter and buffer names, so state dicts load across.

>>> import autodiff as ad, nn
>>> nn.GroupNorm(2, 4)(ad.randn(3, 4, 5, 5)).shape
(3, 4, 5, 5)
"""

from __future__ import annotations

import warnings
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.group_instance_norm import group_norm, instance_norm
from nn.module import Module, Parameter
from nn.normalization import _NormBase


class GroupNorm(Module):
    """Normalize each example's groups of num_channels / num_groups channels (F.group_norm),
    then a learned per-channel scale `weight` (ones) and shift `bias` (zeros).

    >>> import autodiff as ad, nn
    >>> gn = nn.GroupNorm(2, 4)
    >>> gn
    GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)
    >>> gn.weight.shape, gn(ad.randn(3, 4, 5)).shape
    ((4,), (3, 4, 5))
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, *, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.register_parameter("weight", Parameter(ad.ones(num_channels, dtype=dtype))
                                if affine else None)
        self.register_parameter("bias", Parameter(ad.zeros(num_channels, dtype=dtype))
                                if affine and bias else None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected "
                             f"input of shape (N, {self.num_channels}, *), got {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class InstanceNorm1d(_NormBase):
    """Normalize each example's channels over the length axis (F.instance_norm): (N, C, L),
    or (C, L) unbatched. PyTorch's defaults: affine=False, track_running_stats=False; with
    track_running_stats=True the running statistics are updated in training and used in
    evaluation, as PyTorch's. `momentum=None` leaves them as they are (PyTorch's InstanceNorm
    reads None as 0; only its BatchNorm makes None a cumulative average).

    >>> import autodiff as ad, nn
    >>> nn.InstanceNorm1d(3)
    InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    >>> nn.InstanceNorm1d(3)(ad.tensor([[[1.0, 3.0]] * 3])).tolist()[0][0]
    [-0.999995, 0.999995]
    """

    spatial_axes = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, *,
                 bias: bool = True, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        name = f"{type(self).__name__}({self.num_features})"
        batched = self.spatial_axes + 2
        if x.ndim not in (batched - 1, batched):
            raise ValueError(f"{name}: expected input of {batched - 1} or {batched} "
                             f"dimensions, got shape {x.shape}")
        if x.ndim == batched - 1:  # unbatched
            return self.forward(x.reshape(1, *x.shape)).reshape(x.shape)
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(f"{name}: expected {self.num_features} channels on axis 1, "
                                 f"got shape {x.shape}")
            warnings.warn(f"{name}: the input's {x.shape[1]} channels do not match "
                          "num_features, which is not used (affine=False, "
                          "track_running_stats=False)", stacklevel=2)
        momentum = 0.0 if self.momentum is None else self.momentum  # (PyTorch's reading)
        return instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                             self.training or not self.track_running_stats, momentum,
                             self.eps)


class InstanceNorm2d(InstanceNorm1d):
    """Normalize each example's channels over the spatial axes (F.instance_norm):
    (N, C, H, W), or (C, H, W) unbatched; as InstanceNorm1d otherwise.

    >>> import autodiff as ad, nn
    >>> y = nn.InstanceNorm2d(3, affine=True)(ad.randn(2, 3, 4, 4))
    >>> y.shape, round(float(y[0, 0].mean().item()), 5)
    ((2, 3, 4, 4), 0.0)
    """

    spatial_axes = 2


class InstanceNorm3d(InstanceNorm1d):
    """Normalize each example's channels over the depth and spatial axes (F.instance_norm):
    (N, C, D, H, W), or (C, D, H, W) unbatched; as InstanceNorm1d otherwise.

    >>> import autodiff as ad, nn
    >>> nn.InstanceNorm3d(2, affine=True, track_running_stats=True)
    InstanceNorm3d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> nn.InstanceNorm3d(2)(ad.randn(2, 4, 3, 3)).shape
    (2, 4, 3, 3)
    """

    spatial_axes = 3
