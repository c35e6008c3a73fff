"""Resizing (NCHW): interpolate with mode "nearest" or "bilinear", PyTorch's index formulas.

Both modes are separable linear maps, so the resize is M_h @ x @ M_w^T with constant matrices:
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


def _matrix(n_in: int, n_out: int, scale: float | None, mode: str, align_corners: bool,
            dtype: Any) -> np.ndarray:
    m = np.zeros((n_out, n_in), dtype=np.float64)
    dst = np.arange(n_out, dtype=np.float64)
    ratio = (1.0 / scale) if scale is not None else n_in / n_out
    if mode == "nearest":
        src = np.minimum(np.floor(dst * ratio).astype(int), n_in - 1)
        m[np.arange(n_out), src] = 1.0
        return m.astype(dtype)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    np.add.at(m, (np.arange(n_out), i0), 1 - lam)
    np.add.at(m, (np.arange(n_out), i1), lam)
    return m.astype(dtype)


def interpolate(x: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize the spatial axes of (N, C, H, W) to `size`, or by `scale_factor`.

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
    h, w = x.shape[2:]
    if size is not None:
        ho, wo = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        sh = sw = None
    else:
        sh, sw = ((float(scale_factor),) * 2 if isinstance(scale_factor, int | float)
                  else tuple(float(s) for s in scale_factor))
        ho, wo = math.floor(h * sh), math.floor(w * sw)
    if ho <= 0 or wo <= 0:
        raise ValueError(f"interpolate: output size must be positive, got {(ho, wo)}")
    ac = bool(align_corners)
    mh = ad.tensor(_matrix(h, ho, sh, mode, ac, x.dtype))
    mw = ad.tensor(_matrix(w, wo, sw, mode, ac, x.dtype).T)
    return mh @ x @ mw
