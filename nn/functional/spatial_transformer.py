"""Spatial transformers, as PyTorch's: affine_grid (the sampling grid of an affine map) and
grid_sample (the input read at a grid of normalized (x, y) points in [-1, 1], by bilinear or
nearest interpolation, outside the image zeros, the border or its reflection). Composed of
engine ops: the input's gradient is a scatter of the weights, the grid's the weights'
derivatives times the corner values, and both can be differentiated again.

>>> import autodiff as ad
>>> import nn.functional as F
>>> theta = ad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])   # the identity
>>> x = ad.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
>>> F.grid_sample(x, F.affine_grid(theta, (1, 1, 2, 2))).tolist()
[[[[1.0, 2.0], [3.0, 4.0]]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor


def _base(n: int, align_corners: bool) -> np.ndarray:
    """The normalized centers of n cells: -1 .. 1 at the corners' centers (align_corners), or
    at the edges' (the centers then (2i + 1) / n - 1), as PyTorch's linspace."""
    line = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(n)
    return line if align_corners else line * (n - 1) / n


def affine_grid(theta: Tensor, size: Any, align_corners: bool = False) -> Tensor:
    """The grid (N, H, W, 2) of the points theta @ (x, y, 1) for the normalized centers (x, y)
    of an output of `size` (N, C, H, W); theta (N, 2, 3). theta gets its gradient.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> theta = ad.tensor([[[2.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])
    >>> F.affine_grid(theta, (1, 1, 1, 2), align_corners=True).tolist()
    [[[[-1.5, 0.0], [2.5, 0.0]]]]
    """
    theta = theta if isinstance(theta, Tensor) else ad.tensor(theta)
    if len(size) != 4:
        raise ValueError(f"affine_grid: size must be (N, C, H, W) (2-d only), got {tuple(size)}")
    n, _, h, w = (int(v) for v in size)
    if theta.ndim != 3 or theta.shape != (n, 2, 3):
        raise ValueError(f"affine_grid: expected theta of shape ({n}, 2, 3) for size "
                         f"{tuple(size)}, got {theta.shape}")
    ys, xs = np.meshgrid(_base(h, align_corners), _base(w, align_corners), indexing="ij")
    base = np.stack([xs, ys, np.ones_like(xs)], axis=-1).reshape(1, h * w, 3)
    grid = ad.tensor(base.astype(theta.dtype)) @ theta.transpose(0, 2, 1)  # (N, HW, 2)
    return grid.reshape(n, h, w, 2)


def _unnormalize(g: Tensor, size: int, align_corners: bool) -> Tensor:
    """[-1, 1] to pixel coordinates: to [0, size - 1] (align_corners) or [-0.5, size - 0.5]."""
    if align_corners:
        return (g + 1) / 2 * (size - 1)
    return ((g + 1) * size - 1) / 2


def _clip(c: Tensor, size: int) -> Tensor:
    """c clamped to [0, size - 1], NaN to 0 (as PyTorch's); the gradient passes strictly
    inside only: PyTorch's clip_coordinates_set_grad counts the borders as out of bounds."""
    inside = (c.data > 0) & (c.data < size - 1)
    with np.errstate(invalid="ignore"):
        return ad.where(inside, c, np.nan_to_num(np.clip(c.data, 0, size - 1), nan=0.0))


def _reflect(c: Tensor, size: int, align_corners: bool) -> Tensor:
    """c reflected at the image's borders until it lands inside (PyTorch's
    reflect_coordinates), then clipped: piecewise +-c + constant, so the gradient is +-1."""
    lo, hi = (0.0, 2.0 * (size - 1)) if align_corners else (-1.0, 2.0 * size - 1)
    if lo == hi:  # one cell, corners aligned: every point reads it, with no gradient
        return ad.where(np.zeros(c.shape, bool), c, 0.0)
    low, span = lo / 2, (hi - lo) / 2
    with np.errstate(invalid="ignore"):  # an infinite c: NaN, which the clip takes to 0
        return _clip(_reflected(c, low, span), size)


def _reflected(c: Tensor, low: float, span: float) -> Tensor:
    """c folded into [low, low + span] by reflections: +-c + a constant, piecewise."""
    u = c.data - low
    sign = np.where(u < 0, -1.0, 1.0)
    flips = np.floor(np.abs(u) / span)
    even = flips % 2 == 0
    s = np.where(even, sign, -sign)
    offset = np.where(even, -sign * low - flips * span + low,
                      sign * low + (flips + 1) * span + low)
    return c * s.astype(c.dtype) + offset.astype(c.dtype)


def _coordinate(g: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    c = _unnormalize(g, size, align_corners)
    if padding_mode == "border":
        return _clip(c, size)
    if padding_mode == "reflection":
        return _reflect(c, size, align_corners)
    return c


def _tap(flat: Tensor, iy: np.ndarray, ix: np.ndarray, h: int, w: int) -> Tensor:
    """input[n, :, iy, ix] at integer (float-valued) places (N, P), 0 outside the image."""
    valid = (ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)  # NaN: outside
    index = np.where(valid, iy * w + ix, 0).astype(np.intp)[:, None, :]
    values = ad.take_along_axis(flat, np.broadcast_to(index, (*flat.shape[:2], index.shape[2])),
                                axis=2)
    return ad.where(valid[:, None, :], values, 0.0)


def grid_sample(input: Any, grid: Any, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Read input (N, C, H, W) at grid (N, H_out, W_out, 2), whose last axis holds normalized
    (x, y) in [-1, 1] (-1 the left/top edge, or the first cell's center with
    `align_corners`); the result is (N, C, H_out, W_out). `mode` "bilinear" or "nearest"
    (round half to even, no grid gradient); `padding_mode` for points outside: "zeros",
    "border" (clamped) or "reflection". As PyTorch's (align_corners None means False).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([[[[0.0, 10.0]]]])
    >>> F.grid_sample(x, ad.tensor([[[[0.0, 0.0], [1.0, 0.0]]]])).tolist()  # center, edge
    [[[[5.0, 5.0]]]]
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    g = grid if isinstance(grid, Tensor) else ad.tensor(grid)
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest' (bicubic is not "
                         f"implemented), got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or "
                         f"'reflection', got {padding_mode!r}")
    if x.ndim != 4 or g.ndim != 4 or g.shape[-1] != 2 or g.shape[0] != x.shape[0]:
        raise ValueError(f"grid_sample: expected input (N, C, H, W) and grid (N, H_out, W_out, "
                         f"2) with the same N (2-d only), got {x.shape} and {g.shape}")
    n, c, h, w = x.shape
    ho, wo = g.shape[1:3]
    ac = bool(align_corners)
    g = g.reshape(n, ho * wo, 2)
    ix = _coordinate(g[..., 0], w, padding_mode, ac)
    iy = _coordinate(g[..., 1], h, padding_mode, ac)
    flat = x.reshape(n, c, h * w)
    if mode == "nearest":
        out = _tap(flat, np.rint(iy.data), np.rint(ix.data), h, w)
        return out.reshape(n, c, ho, wo)
    x0, y0 = np.floor(ix.data), np.floor(iy.data)
    ex, ey = ix - x0, iy - y0  # distances from the north-west corner, with their gradients
    out = None
    for dy, dx, wy, wx in ((0, 0, 1 - ey, 1 - ex), (0, 1, 1 - ey, ex), (1, 0, ey, 1 - ex),
                           (1, 1, ey, ex)):
        term = _tap(flat, y0 + dy, x0 + dx, h, w) * (wx * wy)[:, None, :]
        out = term if out is None else out + term
    return out.reshape(n, c, ho, wo)
