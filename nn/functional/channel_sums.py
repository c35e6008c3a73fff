"""Per-channel sums over the batch and the spatial axes, as batch norm needs them: an array
(N, C, M) seen as N C rows of M values; each row reduced by one matrix-vector product
(`rows @ ones`, or a row-wise dot for a sum of products), then the N row results of each
channel added. NumPy's `x.sum(axis=(0, 2))` over the same array walks it with a strided
reduction, two to three times slower (docs/performance.md, the batch norm rows).

>>> import numpy as np
>>> from nn.functional.channel_sums import channel_sums
>>> channel_sums(np.ones((2, 3, 4), np.float32))
array([8., 8., 8.], dtype=float32)
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _ones(m: int, dtype: np.dtype) -> np.ndarray:
    v = np.ones(m, dtype)
    v.flags.writeable = False
    return v


def channel_sums(x3: np.ndarray) -> np.ndarray:
    """x3 (N, C, M) summed over axes 0 and 2: shape (C,), x3's dtype.

    >>> import numpy as np
    >>> channel_sums(np.arange(8.0).reshape(2, 2, 2))
    array([10., 18.])
    """
    n, c, m = x3.shape
    if m == 1:
        return np.add.reduce(x3[:, :, 0], axis=0)
    rows = x3.reshape(n * c, m) @ _ones(m, x3.dtype)
    return np.add.reduce(rows.reshape(n, c), axis=0)


def channel_dots(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """sum(a3 * b3) over axes 0 and 2 of two (N, C, M) arrays, without the product array:
    shape (C,).

    >>> import numpy as np
    >>> x = np.arange(8.0).reshape(2, 2, 2)
    >>> channel_dots(x, x)
    array([42., 98.])
    """
    n, c, m = a3.shape
    rows = np.einsum("ij,ij->i", a3.reshape(n * c, m), b3.reshape(n * c, m))
    return np.add.reduce(rows.reshape(n, c), axis=0)
