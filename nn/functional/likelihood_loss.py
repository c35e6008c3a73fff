"""Negative log-likelihood losses of distributions, as PyTorch's: poisson_nll_loss (a Poisson
rate, or its log, against counts) and gaussian_nll_loss (a Gaussian's mean and variance against
targets). Input and target broadcast together (as PyTorch's) and every tensor argument gets a
gradient.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.poisson_nll_loss(ad.tensor([0.0]), ad.tensor([1.0]))  # e^0 - 1 * 0
tensor(1.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.loss import as_tensor, reduce_loss

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _broadcastable(op: str, names: str, *shapes: tuple[int, ...]) -> None:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: the shapes of {names} do not broadcast together: "
                         f"{', '.join(map(str, shapes))}") from None


def poisson_nll_loss(input: Any, target: Any, log_input: bool = True, full: bool = False, *,
                     eps: float = 1e-8, reduction: str = "mean") -> Tensor:
    """The Poisson negative log-likelihood, as PyTorch's: exp(x) - y x for a log-rate x
    (`log_input`), x - y log(x + eps) for a rate x; with `full`, plus Stirling's
    approximation of log(y!), y log y - y + log(2 pi y) / 2, where y > 1 (0 elsewhere).
    `eps`, `reduction` keyword-only (PyTorch's deprecated `size_average` stood before them).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.poisson_nll_loss(ad.tensor([2.0]), ad.tensor([3.0]), log_input=False,
    ...                    eps=0.0).item()  # 2 - 3 log 2
    -0.0794415...
    """
    op = "poisson_nll_loss"
    _check_reduction(op, reduction)
    x, y = as_tensor(input), as_tensor(target)
    _broadcastable(op, "input and target", x.shape, y.shape)
    loss = ad.exp(x) - y * x if log_input else x - y * ad.log(x + eps)
    if full:
        big = y.data > 1
        safe = ad.where(big, y, 2.0)  # log of y > 1 only: no log(0) in the unused branch
        stirling = safe * ad.log(safe) - safe + ad.log(safe * (2 * math.pi)) * 0.5
        loss = loss + ad.where(big, stirling, 0.0)
    return reduce_loss(loss, reduction, op)


def _var_like(op: str, var: Any, x: Tensor) -> Tensor:
    """var checked (no negative entry) and shaped against the input as PyTorch's: a float;
    the input's shape; the input's without its last axis (one variance per vector); or the
    input's number of dimensions with the mismatched sizes summing to 1 (size 1, broadcast)."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError(f"{op}: var must be non-negative, got {var}")
        return ad.full(x.shape, var, dtype=x.dtype)
    v = as_tensor(var)
    if (v.data < 0).any():
        bad = v.data[v.data < 0]
        raise ValueError(f"{op}: var must be non-negative, got entries {bad[:5].tolist()}")
    if v.shape == x.shape:
        return v
    if v.shape == x.shape[:-1]:
        return v.reshape((*v.shape, 1))
    if v.ndim == x.ndim and sum(s for i, s in zip(x.shape, v.shape) if i != s) == 1:
        return v
    raise ValueError(f"{op}: var must have the input's shape {x.shape}, that shape without its "
                     f"last axis, or size 1 on the one axis where they differ; got var shape "
                     f"{v.shape}")


def gaussian_nll_loss(input: Any, target: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The Gaussian negative log-likelihood, as PyTorch's: (log v + (x - y)^2 / v) / 2, plus
    log(2 pi) / 2 with `full`, with v = max(var, eps). As PyTorch's (an in-place clamp under
    no_grad), the clamp passes var's gradient through. `var` is a float, or a tensor of the
    input's shape, of that shape without the last axis, or with size 1 on one axis; negative
    entries are an error.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.gaussian_nll_loss(ad.tensor([1.0]), ad.tensor([3.0]), ad.tensor([2.0])).item()
    1.3465735...
    """
    op = "gaussian_nll_loss"
    x, y = as_tensor(input), as_tensor(target)
    v = _var_like(op, var, x)
    _check_reduction(op, reduction)
    _broadcastable(op, "input, target and var", x.shape, y.shape, v.shape)
    v = v + (np.maximum(v.data, eps) - v.data)  # clamped, the gradient passed through
    d = x - y
    loss = (ad.log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction, op)
