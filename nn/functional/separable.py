"""Separable linear resampling, the map behind interpolate (every mode) and the adaptive
average pools: (M_h @ x) @ M_w^T over the last two axes of x (a third, depth, by moving it
last), with constant matrices whose rows hold each output's few weights.

The matrix products are the fast path (their gain over taps always: docs/performance.md),
but in them every output is a sum over a whole row or column of x, zero weights included,
and 0 * NaN and 0 * inf are NaN: one NaN or inf pixel would turn whole rows and columns of
the result into NaN. Without NaN or inf in x nothing of that
happens (each output is a convex combination of finite values, so it is finite), and with
them the products make NaN or inf somewhere in the result, so the smaller of x and the result
is checked once: when it holds NaN or inf, the result is redone tap by tap, each output the
sum of its nonzero weights times its own input cells only, as PyTorch's kernels do.

>>> import numpy as np
>>> import autodiff as ad
>>> m = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])   # (n_out, n_in) = (2, 3)
>>> resample(ad.tensor([[1.0, 3.0, np.nan]]), None, m)   # the NaN reaches only its output
tensor([[ 2., nan]])
"""

from __future__ import annotations

import numpy as np

import autodiff as ad
from autodiff import Tensor


def resample(x: Tensor, mh: np.ndarray | None, mw: np.ndarray) -> Tensor:
    """(mh @ x) @ mw^T, mh (H_out, H) acting on axis -2 (None: left alone) and mw (W_out, W)
    on axis -1; where x holds NaN or inf, each output reads only the cells its row weighs."""
    out = x @ ad.tensor(mw.T) if mh is None else ad.tensor(mh) @ x @ ad.tensor(mw.T)
    if np.isfinite(min(x.data, out.data, key=np.size)).all():
        return out
    out = _taps(x, mw, x.ndim - 1)
    return out if mh is None else _taps(out, mh, x.ndim - 2)


def resample3d(x: Tensor, md: np.ndarray, mh: np.ndarray, mw: np.ndarray) -> Tensor:
    """resample over the last three axes (D, H, W) of a 5-d x: H and W as `resample`, then D
    moved last and resampled by md, and moved back."""
    y = resample(x, mh, mw).transpose(0, 1, 3, 4, 2)
    return resample(y, None, md).transpose(0, 1, 4, 2, 3)


def _taps(x: Tensor, m: np.ndarray, axis: int) -> Tensor:
    """m applied along `axis` as a sum over taps: tap t of output i is m[i, j] x[j] for the
    t-th column j where row i of m is nonzero; a row with fewer nonzeros skips the rest (by
    where, so that a NaN or inf in a cell it does not weigh stays out)."""
    rows, cols = np.nonzero(m)
    counts = np.bincount(rows, minlength=m.shape[0])
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    shape = [1] * x.ndim
    shape[axis] = m.shape[0]
    out = None
    for t in range(int(counts.max(initial=0))):
        has = counts > t
        j = np.where(has, cols[np.minimum(first + t, len(cols) - 1)], 0)
        w = np.where(has, m[np.arange(m.shape[0]), j], 0).astype(x.dtype).reshape(shape)
        term = ad.where(has.reshape(shape), ad.take(x, j, axis=axis) * w, 0.0)
        out = term if out is None else out + term
    if out is None:  # no weights at all: an empty output
        return ad.tensor(m) @ x if axis == x.ndim - 2 else x @ ad.tensor(m.T)
    return out
