"""Distances between pairs of vectors, as PyTorch's: cosine_similarity (each norm clamped at
eps on its own, PyTorch 2.x's rule) and pairwise_distance (the p-norm of x1 - x2 + eps). Both
inputs broadcast together (NumPy's rules, as PyTorch's) and both get gradients.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.cosine_similarity(ad.tensor([[1.0, 0.0]]), ad.tensor([[1.0, 1.0]]))
tensor([0.70710677])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.activation import axis_or_dim
from nn.functional.promotion import promoted


def _pair(op: str, x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """x1 and x2 as float tensors of one dtype (integers: float32, as PyTorch's default),
    broadcast to one shape."""
    a, b = promoted(_as_tensor(x1), _as_tensor(x2))
    if a.dtype.kind != "f":
        a, b = a.astype(np.float32), b.astype(np.float32)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{op}: the shapes of x1 {a.shape} and x2 {b.shape} do not broadcast "
                         "together") from None
    return ad.broadcast_to(a, shape), ad.broadcast_to(b, shape)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else ad.tensor(x)


def _clamped_norm(x: Tensor, axis: int, eps: float) -> Tensor:
    """||x||_2 along `axis` (kept), at least eps; as PyTorch 2.x's (an in-place clamp under
    no_grad) the clamp is a constant added, so the gradient is the unclamped norm's."""
    norm = ad.linalg.vector_norm(x, axis=axis, keepdims=True)
    return norm + (np.maximum(norm.data, eps) - norm.data)


def cosine_similarity(x1: Any, x2: Any, axis: int = 1, eps: float = 1e-8, *,
                      dim: int | None = None) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along `axis` of the broadcast
    inputs, as PyTorch 2.x's: each norm is clamped on its own, and the clamp passes the
    gradient through (PyTorch clamps in place without recording it). PyTorch's `dim=` is
    accepted as another name for `axis` (PyTorch's default 1 kept).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.cosine_similarity(ad.tensor([3.0, 4.0]), ad.tensor([4.0, 3.0]), dim=0).item()
    0.96...
    >>> F.cosine_similarity(ad.tensor([[0.0, 0.0]]), ad.tensor([[1.0, 0.0]]))
    tensor([0.])
    """
    op = "cosine_similarity"
    dim = axis_or_dim(op, axis, dim, 1)
    a, b = _pair(op, x1, x2)
    ndim = max(a.ndim, 1)
    if not -ndim <= dim < ndim:
        raise ValueError(f"{op}: axis {dim} is out of range for inputs of shape {a.shape} "
                         f"(broadcast shape; axes in [{-ndim}, {ndim - 1}])")
    if not eps >= 0:
        raise ValueError(f"{op}: eps must be >= 0, got {eps}")
    if a.ndim == 0:  # a 0-d pair is one vector of length 1, as PyTorch's
        a, b = a.reshape(1), b.reshape(1)
        return ((a / _clamped_norm(a, 0, eps)) * (b / _clamped_norm(b, 0, eps))).sum(
            axis=0)
    return ((a / _clamped_norm(a, dim, eps)) * (b / _clamped_norm(b, dim, eps))).sum(axis=dim)


def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last axis of the broadcast inputs, as PyTorch's (eps is
    added to each difference, so equal vectors are eps * n^(1/p) apart, with a gradient).
    `p` is any order `ad.linalg.vector_norm` takes (inf, -inf, 0 and negative ones too).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.pairwise_distance(ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    op = "pairwise_distance"
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: p must be a number, got {p!r}")
    a, b = _pair(op, x1, x2)
    d = a - b + eps
    if d.ndim == 0:
        d = d.reshape(1)
        out = ad.linalg.vector_norm(d, axis=0, ord=p, keepdims=keepdim)
        return out.reshape(()) if keepdim else out
    return ad.linalg.vector_norm(d, axis=-1, ord=p, keepdims=keepdim)
