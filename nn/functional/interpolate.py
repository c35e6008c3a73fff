"""Resizing, PyTorch's interpolate: (N, C, L) by "nearest", "nearest-exact", "area" or
"linear"; (N, C, H, W) by "nearest", "nearest-exact", "area", "bilinear" or "bicubic";
(N, C, D, H, W) by "nearest", "nearest-exact", "area" or "trilinear"; PyTorch's index formulas
and weights.

Every mode is a separable linear map, so the resize is M_h @ x @ M_w^T with constant matrices
(and M_d along depth; nn.functional.separable.resample and resample3d, which keep a NaN or
inf pixel to the outputs that read it):
differentiable to any order with no backward of its own.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.interpolate(ad.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
[[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.pooling import _bins
from nn.functional.separable import resample, resample3d


@functools.lru_cache(maxsize=64)
def _matrix(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool,
            dtype: Any, axes: int = 2) -> np.ndarray:
    """The (n_out, n_in) resampling matrix of one axis of an input with `axes` spatial axes
    (made once per arguments, read-only), PyTorch's: an axis that keeps its size is copied
    whatever the scale (not by nearest-exact and bicubic, which resample it, nor by 1-d and
    3-d nearest); "area" is adaptive_avg_pool's bins; 2-d nearest doubling takes dst // 2;
    otherwise nearest takes floor(dst * r) with r = 1 / scale (or n_in / n_out) in float32,
    as PyTorch's kernels (its 2-d nearest alone takes those two shortcuts)."""
    m = _weights(n_in, n_out, scale, mode, align_corners, axes).astype(dtype)
    m.flags.writeable = False
    return m


def _weights(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool,
             axes: int = 2) -> np.ndarray:
    """_matrix's weights, in float64."""
    shortcut = mode != "nearest" or axes == 2  # (PyTorch's 1-d and 3-d nearest: no copy)
    if n_out == n_in and mode not in ("nearest-exact", "bicubic") and shortcut:
        return np.eye(n_in)
    if mode == "area":
        return _bins(n_in, n_out, np.float64)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    if mode in ("nearest", "nearest-exact"):
        m[np.arange(n_out), _nearest(n_in, n_out, scale, mode, axes)] = 1.0
        return m
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        ratio = (1.0 / scale) if scale else n_in / n_out
        src = (dst + 0.5) * ratio - 0.5
    if mode == "bicubic":
        return _cubic(m, src)
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(m, (np.arange(n_out), i0), 1 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m


def _nearest(n_in: int, n_out: int, scale: float | None, mode: str, axes: int = 2
             ) -> np.ndarray:
    """The source index of each output, PyTorch's (its float32 arithmetic): nearest
    floor(dst r) (dst // 2 when a 2-d axis doubles), nearest-exact floor((dst + 1/2) r),
    clamped."""
    if mode == "nearest" and n_out == 2 * n_in and axes == 2:
        return np.arange(n_out) >> 1
    ratio = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    if mode == "nearest-exact":  # (dst + 0.5) * r in double, then floorf's float
        src = np.floor(((np.arange(n_out) + 0.5) * np.float64(ratio)).astype(np.float32))
    else:
        src = np.floor(np.arange(n_out, dtype=np.float32) * ratio)
    return np.minimum(src.astype(np.int64), n_in - 1)


CUBIC_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _near(u: np.ndarray, a: float = CUBIC_A) -> np.ndarray:
    """The cubic kernel for |u| <= 1, in PyTorch's operation order."""
    return ((a + 2) * u - (a + 3)) * u * u + 1


def _far(u: np.ndarray, a: float = CUBIC_A) -> np.ndarray:
    """The cubic kernel for 1 < |u| < 2, in PyTorch's operation order."""
    return ((a * u - 5 * a) * u + 8 * a) * u - 4 * a


def _cubic(m: np.ndarray, src: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution (a = -0.75) at unclamped sources: taps floor(src) - 1 .. + 2,
    each read at its index clamped to the axis (PyTorch's bicubic), added into m."""
    i0 = np.floor(src).astype(int)
    t = src - i0
    rows = np.arange(len(src))
    weights = (_far(t + 1), _near(t), _near(1 - t), _far(2 - t))
    for offset, w in zip((-1, 0, 1, 2), weights):
        np.add.at(m, (rows, np.clip(i0 + offset, 0, m.shape[1] - 1)), w)
    return m


def _per_axis(name: str, value: Any, kind: type, axes: int) -> tuple[Any, ...]:
    """`size` (ints) or `scale_factor` (numbers) as one value per spatial axis, checked."""
    values = (value,) * axes if isinstance(value, int | float | np.number) else value
    try:
        per_axis = tuple(values)
    except TypeError:
        per_axis = ()
    allowed = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
    ok = len(per_axis) == axes and all(isinstance(v, allowed) and not isinstance(v, bool)
                                       for v in per_axis)
    if not ok:
        several = {1: "one", 2: "a pair of", 3: "a triple of"}[axes]
        what = (f"an int or {several} int{'s' * (axes > 1)}" if kind is int else
                f"a number or {several} number{'s' * (axes > 1)}")
        raise ValueError(f"interpolate: {name} must be {what} {_SPATIAL[axes]}, got {value!r}")
    return tuple(kind(v) for v in per_axis)


_SPATIAL = {1: "(L,)", 2: "(H, W)", 3: "(D, H, W)"}
_SHAPES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_MODES = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,),
          "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial axes of (N, C, L), (N, C, H, W) or (N, C, D, H, W) to `size`, or
    by `scale_factor` (output size floor(H * scale)); the given scale, not the size ratio,
    places the samples unless `recompute_scale_factor=True`. Modes as PyTorch's: "nearest"
    (floor(i r)), "nearest-exact" (floor((i + 1/2) r)), "area" (adaptive_avg_pool's bins),
    "linear" (1-d), "bilinear", "bicubic" (Keys' cubic convolution, a = -0.75, taps clamped at
    the edges; it overshoots, as PyTorch's), "trilinear" (3-d); `align_corners` for the last
    four. `antialias` is not implemented (False only).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([[[[0.0, 1.0]]]])
    >>> F.interpolate(x, scale_factor=2)
    tensor([[[[0., 0., 1., 1.],
              [0., 0., 1., 1.]]]])
    >>> F.interpolate(x, size=(1, 3), mode='bilinear', align_corners=True)
    tensor([[[[0. , 0.5, 1. ]]]])
    >>> F.interpolate(ad.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0]]]), size=3, mode='nearest-exact')
    tensor([[[0., 2., 4.]]])
    >>> F.interpolate(ad.ones((1, 1, 2, 2, 2)), scale_factor=(2, 1, 3), mode='trilinear').shape
    (1, 1, 4, 2, 6)
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected (N, C, L), (N, C, H, W) or (N, C, D, H, W), "
                         f"got {x.shape}")
    axes = x.ndim - 2
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(map(repr, _MODES))}, "
                         f"got {mode!r}")
    if axes not in _MODES[mode]:
        wanted = " or ".join(_SHAPES[a] for a in _MODES[mode])
        raise ValueError(f"interpolate: mode {mode!r} takes {wanted} input, got {x.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to modes 'linear', "
                         f"'bilinear', 'bicubic' and 'trilinear', not {mode!r}")
    if antialias:
        raise ValueError("interpolate: antialias=True is not implemented (PyTorch's "
                         "anti-aliased bilinear); use antialias=False")
    sizes = x.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor applies to scale_factor, "
                             f"not to an explicit size (got size={size!r})")
        out, scales = _per_axis("size", size, int, axes), (None,) * axes
    else:
        scales = _per_axis("scale_factor", scale_factor, float, axes)
        if not all(s > 0 for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
        out = tuple(math.floor(n * s) for n, s in zip(sizes, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * axes
    if min(out) <= 0:
        raise ValueError(f"interpolate: output size must be positive, got {out}")
    ac = bool(align_corners)
    m = [_matrix(n, o, s, mode, ac, x.dtype, axes) for n, o, s in zip(sizes, out, scales)]
    if axes == 3:
        return resample3d(x, *m)
    return resample(x, None, m[0]) if axes == 1 else resample(x, m[0], m[1])
