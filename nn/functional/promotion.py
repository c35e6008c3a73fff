"""The dtype fused layers compute in when their tensors mix dtypes: NumPy's promotion, as the
unfused ops would give.

>>> import autodiff as ad
>>> from nn.functional.promotion import promoted
>>> [t.dtype.name for t in promoted(ad.ones(2, dtype="float32"), ad.ones(2, dtype="float64"))]
['float64', 'float64']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff import Tensor


def promoted(*tensors: Tensor | None) -> tuple[Any, ...]:
    """The tensors (None stays None) in their common dtype, a mixed one cast first as a
    recorded op, so that each gradient comes back in its own tensor's dtype.

    >>> import autodiff as ad
    >>> x, w, b = promoted(ad.ones(2, dtype="uint8"), ad.ones(2), None)
    >>> x.dtype, b
    (dtype('float32'), None)
    """
    common = np.result_type(*(t.dtype for t in tensors if t is not None))
    return tuple(t if t is None or t.dtype == common else t.astype(common) for t in tensors)
