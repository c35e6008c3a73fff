"""embedding_bag: the sums, means or maxima of bags of embedding rows, without making the
rows' (bags, bag size, dim) tensor first; PyTorch's `F.embedding_bag`.

>>> import autodiff as ad
>>> import nn.functional as F
>>> w = ad.tensor([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]])
>>> F.embedding_bag(ad.tensor([0, 1, 2]), w, ad.tensor([0, 2]), mode="sum")
tensor([[1., 2.],
        [4., 4.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.lookup import ScaleGrad, indices, renorm_

MODES = ("sum", "mean", "max")


def embedding_bag(input: Any, weight: Tensor, offsets: Any = None,
                  max_norm: float | None = None, norm_type: float = 2.0,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Any = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """One row per bag: the sum, mean or max (per column) of the rows of `weight` (num,
    dim) at the bag's indices. Bags are the rows of a 2-d `input` (offsets None), or the
    slices input[offsets[i]:offsets[i + 1]] of a 1-d `input` (the last to the end; with
    `include_last_offset`, offsets ends with input's length, as in the CSR format). Indices equal to
    `padding_idx` are left out (a mean counts only the others); an empty bag gives zeros.
    `per_sample_weights` (input's shape, mode 'sum' only) weights each index, and gets a
    gradient. The gradient to `weight` is PyTorch's: each looked-up row gets its share (max:
    each column's argmax row, the first in the bag on a tie); `max_norm`, `norm_type` and
    `scale_grad_by_freq` as in `embedding`. Gradients are dense (`sparse=True` is refused).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> w = ad.tensor([[1.0, 5.0], [3.0, 1.0], [0.0, 0.0]], requires_grad=True)
    >>> F.embedding_bag(ad.tensor([[0, 1, 2]]), w, padding_idx=2)  # mean of rows 0 and 1
    tensor([[2., 3.]], grad_fn=<div>)
    >>> F.embedding_bag(ad.tensor([[0, 1]]), w, mode="max").sum().backward(); w.grad
    tensor([[0., 1.],
            [1., 0.],
            [0., 0.]])
    """
    _check_options(weight, mode, sparse, per_sample_weights, scale_grad_by_freq)
    idx, sizes = _bags(input, offsets, include_last_offset)
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding_bag: index {bad} is out of range for {n} embeddings "
                         f"(indices must be in [0, {n - 1}])")
    if max_norm is not None:
        renorm_(weight, idx, max_norm, norm_type)
    psw = (None if per_sample_weights is None else
           _sample_weights(per_sample_weights, input, weight))
    if padding_idx is not None:  # left out: each bag holds only its other indices
        keep = idx != _padding(padding_idx, n)
        if not keep.all():
            bag = np.repeat(np.arange(sizes.size), sizes)
            sizes = np.bincount(bag[keep], minlength=sizes.size)
            idx = idx[keep]
            psw = None if psw is None else psw[keep]
    if mode == "max":
        return _bag_max(weight, idx, sizes)
    rows = ad.take(weight, idx, axis=0)
    if scale_grad_by_freq and idx.size:
        rows = ScaleGrad.apply(rows, scale=1 / np.bincount(idx, minlength=n)[idx, None].astype(
            weight.dtype))
    if psw is not None:
        rows = rows * psw[:, None]
    out = BagSum.apply(rows, sizes=sizes)
    if mode == "mean":  # the sum divided by the count, as PyTorch's (the same bits)
        out = out / np.maximum(sizes, 1)[:, None].astype(weight.dtype)
    return out


class BagSum(ad.Function):
    """The sums of consecutive runs of rows, `sizes` rows each (a run of 0 rows sums to 0);
    backward: each row gets its run's gradient (a `take`, so it can be differentiated
    again)."""

    name = "bag_sum"

    @staticmethod
    def forward(ctx, rows, *, sizes):
        ctx.bag = np.repeat(np.arange(sizes.size), sizes)
        return _run_sums(rows, sizes)

    @staticmethod
    def backward(ctx, grad):
        return ad.take(grad, ctx.bag, axis=0)


def _run_sums(rows: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each run's rows added one after another into zeros, as PyTorch's kernel does (the same
    bits), faster than np.add.reduceat (another order): docs/performance.md."""
    out = np.zeros((sizes.size, rows.shape[1]), rows.dtype)
    order, starts, steps = _longest_first(sizes)
    sums = out[order]
    for j, n in enumerate(steps):
        sums[:n] += rows[starts[:n] + j]
    out[order] = sums
    return out


def _longest_first(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """To walk runs of consecutive rows (`sizes` rows each) in step: the runs sorted longest
    first, their first rows, and for each step j how many have a j-th row (a prefix of them),
    so that step j handles the j-th row of every run at once, max(sizes) steps in all."""
    order = np.argsort(-sizes, kind="stable")
    starts = (np.cumsum(sizes) - sizes)[order]
    steps = np.searchsorted(-sizes[order], -np.arange(int(sizes.max(initial=0))), side="left")
    return order, starts, steps


def _bag_max(weight: Tensor, idx: np.ndarray, sizes: np.ndarray) -> Tensor:
    """Per bag and column, the largest value, found as PyTorch's kernel does (a row replaces
    the best so far when greater: the first of equal ones stays, a NaN only when first), then
    gathered from `weight` (its gradient goes to that row); an empty bag gives zeros and no
    gradient."""
    order, starts, steps = _longest_first(sizes)
    best = np.zeros((sizes.size, weight.shape[1]), weight.dtype)
    at = np.zeros(best.shape, np.int64)  # the row of weight that holds it
    for j, n in enumerate(steps):
        i = idx[starts[:n] + j]
        v = weight.data[i]
        better = True if j == 0 else v > best[:n]
        np.copyto(best[:n], v, where=better)
        np.copyto(at[:n], i[:, None], where=better)
    rows_at = np.empty_like(at)
    rows_at[order] = at
    out = ad.take_along_axis(weight, rows_at, axis=0)
    return out if sizes.all() else out * (sizes > 0)[:, None].astype(weight.dtype)


def _bags(input: Any, offsets: Any, include_last_offset: bool
          ) -> tuple[np.ndarray, np.ndarray]:
    """The indices used (1-d) and each bag's size; checks the layout as PyTorch does."""
    idx = indices("embedding_bag", input)
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"embedding_bag: a 2-d input (shape {idx.shape}) is a batch of "
                             "bags of equal size, so offsets must be None")
        return idx.ravel(), np.full(idx.shape[0], idx.shape[1])
    if idx.ndim != 1:
        raise ValueError(f"embedding_bag: input must be 1-d (with offsets) or 2-d, got shape "
                         f"{idx.shape}")
    if offsets is None:
        raise ValueError("embedding_bag: a 1-d input needs offsets (a 1-d tensor of the bags' "
                         "starting positions), got None")
    off = indices("embedding_bag", offsets)
    if off.ndim != 1:
        raise ValueError(f"embedding_bag: offsets must be 1-d, got shape {off.shape}")
    if off.size and off[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] must be 0 (the first bag starts at the "
                         f"first index), got {int(off[0])}")
    if off.size and off[-1] > idx.size:
        raise ValueError(f"embedding_bag: offsets[-1] must not be greater than input's length "
                         f"{idx.size}, got {int(off[-1])}")
    if np.any(np.diff(off) < 0):
        raise ValueError(f"embedding_bag: offsets must not decrease, got {off.tolist()}")
    if include_last_offset and off.size and off[-1] != idx.size:
        # PyTorch's kernels disagree here (float32 ends the last bag there, float64 at the end)
        raise ValueError(f"embedding_bag: with include_last_offset=True, offsets[-1] must be "
                         f"input's length {idx.size} (the end of the last bag), got "
                         f"{int(off[-1])}")
    ends = off[1:] if include_last_offset else np.append(off[1:], idx.size)
    return idx, ends - off[:ends.size]


def check_mode(who: str, mode: str, sparse: bool) -> None:
    """The options `embedding_bag` and `nn.EmbeddingBag` both check: a known mode, dense
    gradients.

    >>> check_mode("embedding_bag", "median", False)
    Traceback (most recent call last):
    ...
    ValueError: embedding_bag: mode must be 'sum', 'mean' or 'max', got 'median'
    """
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if sparse:
        raise ValueError(f"{who}: sparse gradients do not exist in this library; use "
                         "sparse=False (dense gradients; optim.SparseAdam then moves only the "
                         "rows a batch looked up, as PyTorch's does with sparse=True)")


def _check_options(weight: Any, mode: str, sparse: bool, per_sample_weights: Any,
                   scale_grad_by_freq: bool) -> None:
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must be a 2-d Tensor (num_embeddings, "
                         f"embedding_dim), got {getattr(weight, 'shape', type(weight).__name__)}")
    check_mode("embedding_bag", mode, sparse)
    if per_sample_weights is not None and mode != "sum":
        raise ValueError(f"embedding_bag: per_sample_weights is only supported for mode='sum', "
                         f"got mode={mode!r}")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("embedding_bag: mode='max' does not support scale_grad_by_freq=True")


def _padding(padding_idx: int, n: int) -> int:
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding_bag: padding_idx {padding_idx} is out of range for {n} "
                         f"embeddings (-{n} to {n - 1})")
    return padding_idx % n


def _sample_weights(per_sample_weights: Any, input: Any, weight: Tensor) -> Tensor:
    """per_sample_weights as a 1-d Tensor, checked against input and weight."""
    psw = per_sample_weights if isinstance(per_sample_weights, Tensor) else ad.tensor(
        per_sample_weights, dtype=weight.dtype)
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if psw.shape != shape:
        raise ValueError(f"embedding_bag: per_sample_weights must have input's shape {shape}, "
                         f"got {psw.shape}")
    if psw.dtype != weight.dtype:
        raise TypeError(f"embedding_bag: per_sample_weights must have weight's dtype "
                        f"{weight.dtype}, got {psw.dtype}")
    return psw.reshape(-1)
