"""Resizing (NCHW): interpolate with mode "nearest" or "bilinear", PyTorch's index formulas.

Both modes are separable linear maps, so the resize is M_h @ x @ M_w^T with constant matrices
(nn.functional.separable.resample, which keeps a NaN or inf pixel to the outputs that read it):
differentiable to any order with no backward of its own.

>>> import autodiff as ad
>>> import nn.functional as F
>>> F.interpolate(ad.tensor([[[[1.0, 2.0]]]]), scale_factor=2).tolist()
[[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autodiff as ad
from autodiff import Tensor
from nn.functional.separable import resample


def _matrix(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool,
            dtype: Any) -> np.ndarray:
    """The (n_out, n_in) resampling matrix of one axis, PyTorch's: an axis that keeps its size
    is copied whatever the scale; nearest doubling takes dst // 2; otherwise nearest takes
    floor(dst * r) with r = 1 / scale (or n_in / n_out) in float32, as PyTorch's kernel."""
    if n_out == n_in:
        return np.eye(n_in, dtype=dtype)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    if mode == "nearest":
        if n_out == 2 * n_in:
            src = np.arange(n_out) >> 1
        else:
            ratio = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
            src = np.floor(np.arange(n_out, dtype=np.float32) * ratio).astype(np.int64)
        m[np.arange(n_out), np.minimum(src, n_in - 1)] = 1.0
        return m.astype(dtype)
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        ratio = (1.0 / scale) if scale else n_in / n_out
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(m, (np.arange(n_out), i0), 1 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m.astype(dtype)


def _pair_of(name: str, value: Any, kind: type) -> tuple[Any, Any]:
    """`size` (ints) or `scale_factor` (numbers) as one value per spatial axis, checked."""
    values = (value, value) if isinstance(value, int | float | np.number) else value
    try:
        pair = tuple(values)
    except TypeError:
        pair = ()
    allowed = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
    ok = len(pair) == 2 and all(isinstance(v, allowed) and not isinstance(v, bool)
                                 for v in pair)
    if not ok:
        what = "an int or a pair of ints" if kind is int else "a number or a pair of numbers"
        raise ValueError(f"interpolate: {name} must be {what} (H, W), got {value!r}")
    return (int(pair[0]), int(pair[1])) if kind is int else (float(pair[0]), float(pair[1]))


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial axes of (N, C, H, W) to `size`, or by `scale_factor` (output size
    floor(H * scale)); the given scale, not the size ratio, places the samples unless
    `recompute_scale_factor=True`. `antialias` is not implemented (False only).

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.tensor([[[[0.0, 1.0]]]])
    >>> F.interpolate(x, scale_factor=2)
    tensor([[[[0., 0., 1., 1.],
              [0., 0., 1., 1.]]]])
    >>> F.interpolate(x, size=(1, 3), mode='bilinear', align_corners=True)
    tensor([[[[0. , 0.5, 1. ]]]])
    """
    x = x if isinstance(x, Tensor) else ad.tensor(x)
    if x.ndim != 4:
        raise ValueError(f"interpolate: expected (N, C, H, W), got {x.shape}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to mode='bilinear'")
    if antialias:
        raise ValueError("interpolate: antialias=True is not implemented (PyTorch's "
                         "anti-aliased bilinear); use antialias=False")
    h, w = x.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor applies to scale_factor, "
                             f"not to an explicit size (got size={size!r})")
        (ho, wo), sh, sw = _pair_of("size", size, int), None, None
    else:
        sh, sw = _pair_of("scale_factor", scale_factor, float)
        if not (sh > 0 and sw > 0):
            raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
        ho, wo = math.floor(h * sh), math.floor(w * sw)
        if recompute_scale_factor:
            sh = sw = None
    if ho <= 0 or wo <= 0:
        raise ValueError(f"interpolate: output size must be positive, got {(ho, wo)}")
    ac = bool(align_corners)
    return resample(x, _matrix(h, ho, sh, mode, ac, x.dtype), _matrix(w, wo, sw, mode, ac, x.dtype))
