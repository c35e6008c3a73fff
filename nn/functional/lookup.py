"""Index lookups: one_hot (class indices as 0/1 rows) and embedding (rows of a weight matrix),
as PyTorch's.

Indices are integer tensors or arrays; a float tensor of whole numbers (what `ad.tensor([0, 2])`
makes from a Python list) is read as integers.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.one_hot(ad.tensor([0, 2]), 3)
tensor([[1, 0, 0],
        [0, 0, 1]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor


def indices(op: str, value: Any) -> np.ndarray:
    """`value` as an integer array, or a TypeError naming `op` and the dtype."""
    a = np.asarray(value.data if isinstance(value, Tensor) else value)
    if a.dtype.kind == "f" and np.array_equal(a, np.round(a)):
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {a.dtype}")
    return a


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """An int64 tensor of shape `tensor.shape + (num_classes,)`: 1 at each index, 0 elsewhere.
    `num_classes=-1` takes the largest index + 1. Not differentiable (indices are not).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.one_hot(ad.tensor([[1], [0]]))
    tensor([[[0, 1]],
    <BLANKLINE>
            [[1, 0]]])
    """
    t = indices("one_hot", tensor)
    if num_classes == -1:
        if t.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty "
                             "tensor; give num_classes")
        num_classes = int(t.max()) + 1
    if num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 (inferred) or >= 0, got "
                         f"{num_classes}")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(t.min())}")
    if t.size and t.max() >= num_classes:
        raise ValueError(f"one_hot: class value {int(t.max())} is out of range for "
                         f"num_classes={num_classes}")
    return ad.tensor((t[..., None] == np.arange(num_classes)).astype(np.int64))


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` (num_embeddings, embedding_dim) at the integer `input`: shape
    `input.shape + (embedding_dim,)`. As PyTorch's: the rows at `padding_idx` get no gradient;
    `max_norm` first rescales, in place, each looked-up row whose `norm_type`-norm exceeds it
    to norm max_norm (by max_norm / (norm + 1e-7)); `scale_grad_by_freq` divides each row's
    gradient by how often its index occurs in `input`. Gradients are dense (`sparse=True` is
    refused).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> w = ad.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> F.embedding(ad.tensor([[2, 0, 2]]), w, padding_idx=0)
    tensor([[[3., 4.],
             [0., 0.],
             [3., 4.]]], grad_fn=<embedding_grad_scale>)
    >>> F.embedding(ad.tensor([[2, 0, 2]]), w, padding_idx=0).sum().backward(); w.grad
    tensor([[0., 0.],
            [0., 0.],
            [2., 2.]])
    """
    idx = indices("embedding", input)
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-d Tensor (num_embeddings, "
                         f"embedding_dim), got {getattr(weight, 'shape', type(weight).__name__)}")
    if sparse:
        raise ValueError("embedding: sparse gradients do not exist in this library; use "
                         "sparse=False (dense gradients; optim.SparseAdam then moves only the "
                         "rows a batch looked up, as PyTorch's does with sparse=True)")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings "
                         f"(indices must be in [0, {n - 1}])")
    padding_idx = _padding_index(padding_idx, n)
    if max_norm is not None:
        renorm_(weight, idx, max_norm, norm_type)
    out = ad.take(weight, idx, axis=0)
    scale = np.ones(idx.shape, dtype=weight.dtype)
    if padding_idx is not None:
        scale[idx == padding_idx] = 0
    if scale_grad_by_freq and idx.size:
        scale /= np.bincount(idx.ravel(), minlength=n)[idx]
    if np.all(scale == 1):
        return out
    return ScaleGrad.apply(out, scale=scale[..., None])


def _padding_index(padding_idx: int | None, n: int) -> int | None:
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {n} "
                         "embeddings")
    return padding_idx % n


def renorm_(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: each row looked up whose norm exceeds max_norm is scaled
    in place by max_norm / (norm + 1e-7) (outside the graph; the version counter moves)."""
    rows = np.unique(idx)
    norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        scale = (max_norm / (norms[big] + 1e-7)).astype(weight.dtype)
        weight.data[rows[big]] *= scale[:, None]
        ad.increment_version(weight)


class ScaleGrad(ad.Function):
    """The identity forward (a copy); backward multiplies the gradient by `scale`, a constant
    array broadcast to the input. embedding's padding_idx (scale 0) and scale_grad_by_freq
    (1 / count) are this."""

    name = "embedding_grad_scale"

    @staticmethod
    def forward(ctx, x, *, scale):
        ctx.scale = scale
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale
