"""Losses on pairs, as PyTorch's: cosine_embedding_loss (are two embeddings alike, y = 1, or
unlike, y = -1?) and margin_ranking_loss (should x1 rank above x2, y = 1, or below, y = -1?);
and on triplets: triplet_margin_loss (is the anchor nearer the positive than the negative?),
triplet_margin_with_distance_loss (the same with a distance of your own).
The hinge max(0, .) passes its gradient where its argument is exactly 0 (PyTorch's
clamp_min). The labels y are constants.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.margin_ranking_loss(ad.tensor([2.0, 1.0]), ad.tensor([1.0, 2.0]), ad.tensor([1.0, 1.0]),
...                       reduction="none")
tensor([0., 1.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.distance import pairwise_distance
from nn.functional.loss import EPSILON, as_tensor, reduce_loss


def _hinge(u: Tensor) -> Tensor:
    """max(u, 0) with gradient 1 where u >= 0 (PyTorch's clamp_min(0))."""
    return ad.where(u.data >= 0, u, 0.0)


def cosine_embedding_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, *,
                          reduction: str = "mean") -> Tensor:
    """With cos = x1 . x2 / sqrt((|x1|^2 + e)(|x2|^2 + e)) along the last axis of
    (N, D) inputs (or of (D,) inputs with a 0-d target): 1 - cos where y = 1, max(0,
    cos - margin) where y = -1. A label other than 1 or -1 is an error (PyTorch counts it
    as 0). e is PyTorch's 1e-12 in float32, added to each squared norm.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> a = ad.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> b = ad.tensor([[0.0, 1.0], [1.0, 1.0]])
    >>> F.cosine_embedding_loss(a, b, ad.tensor([1.0, -1.0]), reduction="none")
    tensor([1.       , 0.7071068])
    """
    op = "cosine_embedding_loss"
    x1, x2 = as_tensor(input1), as_tensor(input2)
    y = np.asarray(target.data if isinstance(target, Tensor) else target)
    if x1.shape != x2.shape or x1.ndim not in (1, 2) or y.shape != x1.shape[:-1]:
        raise ValueError(f"{op}: expected inputs of one shape (N, D) with target (N,), or "
                         f"(D,) with a 0-d target; got {x1.shape}, {x2.shape} and target "
                         f"{y.shape}")
    if not np.isin(y, (1, -1)).all():
        raise ValueError(f"{op}: target values must be 1 (alike) or -1 (unlike), got "
                         f"{np.unique(y[~np.isin(y, (1, -1))]).tolist()}")
    dot = (x1 * x2).sum(axis=-1)
    cos = dot / ad.sqrt(((x1 * x1).sum(axis=-1) + EPSILON) * ((x2 * x2).sum(axis=-1) + EPSILON))
    loss = ad.where(y == 1, 1 - cos, _hinge(cos - margin))
    return reduce_loss(loss, reduction, op)


def margin_ranking_loss(input1: Any, input2: Any, target: Any, margin: float = 0.0, *,
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin), elementwise; the three must have the same number of
    dimensions (sizes broadcast, as PyTorch's). Every input, y included, gets a gradient.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.margin_ranking_loss(ad.tensor([3.0]), ad.tensor([2.5]), ad.tensor([1.0]), margin=1.0)
    tensor(0.5)
    """
    x1, x2, y = as_tensor(input1), as_tensor(input2), as_tensor(target)
    _same_rank_broadcasting("margin_ranking_loss", "the inputs and the target", x1, x2, y)
    return reduce_loss(_hinge(-y * (x1 - x2) + margin), reduction, "margin_ranking_loss")


def triplet_margin_loss(anchor: Any, positive: Any, negative: Any, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, *,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the `pairwise_distance` (the p-norm of the
    difference plus eps, along the last axis); with `swap`, d(a, n) is replaced by
    min(d(a, n), d(p, n)) (ties split the gradient, as PyTorch's). The three must have the same
    number of dimensions (sizes broadcast); all three get gradients.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> a, p, n = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[0.0, 1.0]])
    >>> F.triplet_margin_loss(a, p, n, eps=0.0)
    tensor(5.)
    """
    op = "triplet_margin_loss"
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    _same_rank_broadcasting(op, "anchor, positive and negative", a, pos, neg)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = ad.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return reduce_loss(_hinge(d_pos - d_neg + margin), reduction, op)


def triplet_margin_with_distance_loss(anchor: Any, positive: Any, negative: Any, *,
                                      distance_function: Callable[[Tensor, Tensor], Tensor]
                                      | None = None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with a distance of your own, `distance_function`
    (two tensors to one distance per sample; `pairwise_distance` without it); with `swap`,
    d(a, n) is replaced by min(d(a, n), d(p, n)). As PyTorch's.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> a, p, n = ad.tensor([[0.0, 0.0]]), ad.tensor([[3.0, 4.0]]), ad.tensor([[0.0, 1.0]])
    >>> F.triplet_margin_with_distance_loss(
    ...     a, p, n, distance_function=lambda u, v: ad.abs(u - v).sum(axis=-1))  # 7 - 1 + 1
    tensor(7.)
    """
    op = "triplet_margin_with_distance_loss"
    if not margin > 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    if len({a.ndim, pos.ndim, neg.ndim}) != 1:
        raise ValueError(f"{op}: anchor, positive and negative must have the same number of "
                         f"dimensions, got shapes {a.shape}, {pos.shape} and {neg.shape}")
    distance = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = distance(a, pos), distance(a, neg)
    if swap:
        d_neg = ad.minimum(d_neg, distance(pos, neg))
    return reduce_loss(_hinge(d_pos - d_neg + margin), reduction, op)


def _same_rank_broadcasting(op: str, what: str, *ts: Tensor) -> None:
    """Refuse tensors of different ranks, or shapes that do not broadcast together (as
    PyTorch's ranking losses), naming the op and `what` they are."""
    shapes = ", ".join(str(t.shape) for t in ts[:-1]) + f" and {ts[-1].shape}"
    if len({t.ndim for t in ts}) != 1:
        raise ValueError(f"{op}: {what} must have the same number of dimensions, got shapes "
                         f"{shapes}")
    try:
        np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise ValueError(f"{op}: the shapes of {what} do not broadcast together: "
                         f"{shapes}") from None
