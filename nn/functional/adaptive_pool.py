"""Adaptive pooling beyond adaptive_avg_pool2d: adaptive_max_pool2d (a primitive), and the 1-d
adaptive_avg_pool1d and adaptive_max_pool1d over a unit height axis.

PyTorch's bins: output cell i of n_out covers input cells floor(i n / n_out) up to
ceil((i + 1) n / n_out), so neighbouring bins overlap when n_out does not divide n. The maximum
of each bin is found with where it sits; the backward is a scatter-add to those places (two
overlapping bins may pick the same cell), whose backward is the gather from them, so
derivatives of any order work (max_pool2d's PoolScatter and PoolGather).

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.adaptive_max_pool2d(ad.arange(16.0).reshape(1, 1, 4, 4), 2).tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.pooling import PoolScatter, _bins, require_floating, unbatched_too
from nn.functional.separable import resample


def _bin_edges(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins along one axis: [floor(i n / out), ceil((i + 1) n / out))."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


class _BinIndices:
    """Where each bin's maximum sits: its flat offset into the input's (H * W) plane."""

    kernel = stride = None  # (read by PoolGather, which max_pool2d's windows also use)

    def __init__(self, flat: np.ndarray, in_shape: tuple[int, ...]) -> None:
        self.flat, self.in_shape = flat, in_shape

    def gather(self, x: np.ndarray) -> np.ndarray:
        n, c, oh, ow = self.flat.shape  # (sizes, not -1: an empty batch has none to infer)
        taken = np.take_along_axis(x.reshape(n, c, x.shape[2] * x.shape[3]),
                                   self.flat.reshape(n, c, oh * ow), axis=-1)
        return taken.reshape(self.flat.shape)

    def scatter(self, g: np.ndarray) -> np.ndarray:
        n, c, h, w = self.in_shape
        planes = np.arange(n * c).reshape(n, c, 1, 1) * (h * w)
        out = np.zeros(n * c * h * w, dtype=g.dtype)
        np.add.at(out, (planes + self.flat).ravel(), g.ravel())  # bins may share a maximum
        return out.reshape(self.in_shape)


class AdaptiveMaxPool2d(ad.Function):
    """The maximum of each of PyTorch's adaptive bins, found with where it sits."""

    name = "adaptive_max_pool2d"

    @staticmethod
    def forward(ctx, x, *, output_size, found=None):
        n, c, h, w = x.shape
        best = np.empty((n, c, *output_size), dtype=x.dtype)
        flat = np.empty((n, c, *output_size), dtype=np.intp)
        for i, (top, bottom) in enumerate(_bin_edges(h, output_size[0])):
            for j, (left, right) in enumerate(_bin_edges(w, output_size[1])):
                region = x[:, :, top:bottom, left:right].reshape(
                    n, c, (bottom - top) * (right - left))
                at = _first_max_last_nan(region)
                best[:, :, i, j] = np.take_along_axis(region, at[..., None], axis=-1)[..., 0]
                flat[:, :, i, j] = (top + at // (right - left)) * w + left + at % (right - left)
        ctx.indices = _BinIndices(flat, x.shape)
        if found is not None:  # return_indices: the caller's list gets them
            found.append(flat)
        return best

    @staticmethod
    def backward(ctx, grad):
        return PoolScatter.apply(grad, indices=ctx.indices)


def _first_max_last_nan(region: np.ndarray) -> np.ndarray:
    """PyTorch's choice in a bin (its loop keeps a value that is greater, or NaN): the first
    maximum, or the last NaN when there is one."""
    at = region.argmax(axis=-1)
    if region.dtype.kind == "f":
        nan = np.isnan(region)
        if nan.any():
            last = region.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
            at = np.where(nan.any(axis=-1), last, at)
    return at


def _output_size(op: str, output_size: Any, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """An int or one entry per axis (None keeps the input's size), checked positive."""
    asked = output_size
    if output_size is None or isinstance(output_size, int | np.integer):
        output_size = (output_size,) * len(sizes)
    try:
        if isinstance(output_size, str):
            raise TypeError
        given = tuple(output_size)
    except TypeError:
        raise TypeError(f"{op}: output_size must be an int or a tuple of {len(sizes)}, got "
                        f"{output_size!r}") from None
    if len(given) != len(sizes):
        raise ValueError(f"{op}: output_size must be an int or a tuple of {len(sizes)}, got "
                         f"{output_size!r}")
    out = tuple(n if o is None else int(o) for o, n in zip(given, sizes))
    if min(out) <= 0:
        raise ValueError(f"{op}: output size must be positive, got {asked!r}")
    return out


def _check_ndim(op: str, x: Tensor, ndim: int) -> None:
    if x.ndim != ndim:
        want = "(N, C, H, W) or (C, H, W)" if ndim == 4 else "(N, C, L) or (C, L)"
        raise ValueError(f"{op}: expected input of shape {want}, got {x.shape}")


@unbatched_too(4)
def adaptive_max_pool2d(x: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive bins to reach `output_size` (an int, a pair, None
    in a pair keeps that size); ties go to the first maximum in the bin. `return_indices=True`
    also returns where each maximum sits, h * W + w in its input plane (int64), as PyTorch.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.adaptive_max_pool2d(ad.arange(15.0).reshape(1, 1, 3, 5), (1, 2)).tolist()
    [[[[12.0, 14.0]]]]
    >>> F.adaptive_max_pool2d(ad.arange(15.0).reshape(1, 1, 3, 5), (1, 2), True)[1].tolist()
    [[[[12, 14]]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    _check_ndim("adaptive_max_pool2d", x, 4)
    size = _output_size("adaptive_max_pool2d", output_size, x.shape[2:])
    if not return_indices:
        return AdaptiveMaxPool2d.apply(x, output_size=size)
    found: list[np.ndarray] = []
    y = AdaptiveMaxPool2d.apply(x, output_size=size, found=found)
    return y, Tensor._make(found[0].astype(np.int64), None, 0)


@unbatched_too(3)
def adaptive_max_pool1d(x: Any, output_size: Any, return_indices: bool = False) -> Any:
    """The maximum over PyTorch's adaptive bins of (N, C, L) to (N, C, output_size), and with
    `return_indices=True` the position of each maximum in L (int64).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.adaptive_max_pool1d(ad.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]), 2).tolist()
    [[[5.0, 3.0]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    _check_ndim("adaptive_max_pool1d", x, 3)
    (lo,) = _output_size("adaptive_max_pool1d", output_size, x.shape[2:])
    n, c, length = x.shape
    y = adaptive_max_pool2d(x.reshape(n, c, 1, length), (1, lo), return_indices)
    if return_indices:  # h * L + w with h = 0: the position in L
        return y[0].reshape(n, c, lo), y[1].reshape(n, c, lo)
    return y.reshape(n, c, lo)


@unbatched_too(3)
def adaptive_avg_pool1d(x: Any, output_size: Any) -> Tensor:
    """The mean over PyTorch's adaptive bins of (N, C, L) to (N, C, output_size): one
    product by the bins' averaging matrix.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> F.adaptive_avg_pool1d(ad.tensor([[[1.0, 5.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 1.0]]]
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    _check_ndim("adaptive_avg_pool1d", x, 3)
    require_floating("adaptive_avg_pool1d", x)
    (lo,) = _output_size("adaptive_avg_pool1d", output_size, x.shape[2:])
    return resample(x, None, _bins(x.shape[2], lo, x.dtype))
