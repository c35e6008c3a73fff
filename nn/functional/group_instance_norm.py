"""Per-example normalizations: group_norm, and instance_norm (group norm with one channel per
group, plus PyTorch's optional running statistics).

group_norm: the C channels of each example split into G groups of C/G consecutive channels;
each group (its channels and every spatial cell) is normalized by its own mean and biased
variance, y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias per channel.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.group_norm(ad.tensor([[1.0, 3.0, 10.0, 30.0]]), 2)
tensor([[-0.999995,  0.999995, -1.      ,  1.      ]])
"""

from __future__ import annotations

import math
from typing import Any

import autodiff as ad
from autodiff import Tensor
from nn.functional.normalization import batch_norm


def _affine(op: str, y: Tensor, c: int, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """y * weight + bias, both per channel (axis 1)."""
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"{op}: {name} must have shape ({c},) for {c} channels, got "
                             f"{t.shape}")
    shape = (1, c) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def group_norm(x: Any, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalize each example's groups of channels ((N, C, *) input, C divisible by
    num_groups) over the group's channels and spatial cells; then the per-channel affine.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> y = F.group_norm(ad.randn(2, 4, 3, 3), 2)
    >>> y.shape, round(float(y[0, :2].mean().item()), 6)
    ((2, 4, 3, 3), 0.0)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected input of shape (N, C, *), got {x.shape}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {c} channels "
                         f"of the input (shape {x.shape})")
    per_group = c // num_groups * math.prod(x.shape[2:])
    if n * per_group == 1:
        raise ValueError(f"group_norm: expected more than 1 value per group (as PyTorch: one "
                         f"example, one value per group normalizes to 0), got input shape "
                         f"{x.shape} for {num_groups} groups")
    if x.size == 0:  # nothing to normalize (and no mean of an empty group to warn about)
        return _affine("group_norm", x, c, weight, bias)
    xg = x.reshape(n, num_groups, per_group)  # (not -1: an empty batch has no size to infer)
    xc = xg - xg.mean(axis=-1, keepdims=True)
    var = (xc * xc).mean(axis=-1, keepdims=True)
    y = (xc / ad.sqrt(var + eps)).reshape(x.shape)
    return _affine("group_norm", y, c, weight, bias)


def instance_norm(x: Any, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each (example, channel) of (N, C, *) over its spatial cells; then the
    per-channel affine. With running statistics and use_input_stats (PyTorch's training),
    they are updated as PyTorch's: running = (1 - momentum) running + momentum * (the mean
    over the batch of each instance's mean, or unbiased variance). With
    use_input_stats=False the running statistics normalize instead.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.instance_norm(ad.tensor([[[1.0, 3.0], [10.0, 30.0]]]))
    tensor([[[-0.999995,  0.999995],
             [-1.      ,  1.      ]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *) with at least one "
                         f"spatial axis, got {x.shape}")
    n, c = x.shape[:2]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"instance_norm: {name} must have shape ({c},) for {c} channels, "
                             f"got {t.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False normalizes with the running "
                             "statistics: running_mean and running_var are needed")
        return _affine("instance_norm", batch_norm(x, running_mean, running_var, eps=eps), c,
                       weight, bias)
    cells = math.prod(x.shape[2:])
    if cells <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                         f"normalizing with the input's statistics, got input shape {x.shape}")
    if x.size == 0:  # an empty batch: an empty output, running statistics untouched
        return _affine("instance_norm", x, c, weight, bias)
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    y = xc / ad.sqrt(var + eps)
    if running_mean is not None and running_var is not None:
        batch_mean = mean.data.reshape(n, c).mean(axis=0)
        unbiased = var.data.reshape(n, c).mean(axis=0) * (cells / (cells - 1))
        running_mean.data[...] = (1 - momentum) * running_mean.data + momentum * batch_mean
        running_var.data[...] = (1 - momentum) * running_var.data + momentum * unbiased
        ad.increment_version(running_mean)
        ad.increment_version(running_var)
    return _affine("instance_norm", y, c, weight, bias)
