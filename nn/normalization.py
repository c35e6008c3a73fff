"""BatchNorm1d and LayerNorm.

>>> import autodiff as ad, nn
>>> bn = nn.BatchNorm1d(3)
>>> bn(ad.randn(8, 3)).shape, bn.running_mean.shape
((8, 3), (3,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.normalization import batch_norm, layer_norm
from nn.module import Module, Parameter


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share, as PyTorch's _NormBase: `weight` (ones) and
    `bias` (zeros) when affine, `running_mean` and `running_var` buffers (or None), and the
    printed form. PyTorch counts batches for momentum=None (a cumulative average); this one
    always uses `momentum`, so a PyTorch state's count loads and is ignored
    (Module.load_state_dict)."""

    ignored_on_load = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float, momentum: float, affine: bool,
                 track_running_stats: bool, bias: bool, dtype: Any = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        n, dt = num_features, dtype
        self.register_parameter("weight", Parameter(ad.ones(n, dtype=dt)) if affine else None)
        self.register_parameter("bias", Parameter(ad.zeros(n, dtype=dt))
                                if affine and bias else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", ad.zeros(n, dtype=dt) if tracked else None)
        self.register_buffer("running_var", ad.ones(n, dtype=dt) if tracked else None)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_NormBase):
    """Batch normalization of (N, C) or (N, C, L) inputs over the batch (and length) axes.

    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(ad.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> y
    tensor([[-0.999995, -1.      ],
            [ 0.999995,  1.      ]], grad_fn=<batch_norm>)
    """

    expected_ndim: tuple[int, ...] = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *,
                 bias: bool = True, dtype: Any = None) -> None:
        if momentum is None:  # PyTorch's cumulative average needs the count this one does not keep
            raise ValueError(f"{type(self).__name__}: momentum=None (PyTorch's cumulative "
                             "moving average) is not supported: give a number such as 0.1")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias, dtype)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.expected_ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"{' or '.join(map(str, self.expected_ndim))} dimensions with "
                             f"{self.num_features} channels on axis 1, got shape {x.shape}")
        use_batch = self.training or not self.track_running_stats
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch, momentum=self.momentum, eps=self.eps)


class LayerNorm(Module):
    """Normalize each example over its last axes, with a learned scale and shift.

    >>> import autodiff as ad, nn
    >>> ln = nn.LayerNorm(3)
    >>> ln(ad.tensor([[1.0, 2.0, 3.0]]))
    tensor([[-1.2247356,  0.       ,  1.2247356]], grad_fn=<layer_norm>)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(
            normalized_shape)
        self.normalized_shape, self.eps = ns, eps
        self.elementwise_affine = elementwise_affine
        self.register_parameter("weight", Parameter(ad.ones(ns, dtype=dtype))
                                if elementwise_affine else None)
        self.register_parameter("bias", Parameter(ad.zeros(ns, dtype=dtype))
                                if elementwise_affine and bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class BatchNorm2d(BatchNorm1d):
    """Batch normalization of (N, C, H, W) inputs over the batch and spatial axes.

    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm2d(3)
    >>> y = bn(ad.randn(4, 3, 5, 5))
    >>> y.shape, bool(abs(y.detach().numpy().mean()) < 1e-4), bn.running_mean.shape
    ((4, 3, 5, 5), True, (3,))
    """

    expected_ndim = (4,)


class BatchNorm3d(BatchNorm1d):
    """Batch normalization of (N, C, D, H, W) inputs over the batch and the three spatial axes
    (PyTorch's BatchNorm3d: 5-d input only).

    >>> import autodiff as ad, nn
    >>> bn = nn.BatchNorm3d(3)
    >>> y = bn(ad.randn(4, 3, 2, 5, 5))
    >>> y.shape, bool(abs(y.detach().numpy().mean()) < 1e-4), bn.running_var.shape
    ((4, 3, 2, 5, 5), True, (3,))
    """

    expected_ndim = (5,)
