"""How the arguments of a SciPy function become Tensors of one floating dtype.

SciPy's rules where the engine has none: integer and boolean values compute in float64. The
engine's where it has them: a Python number or list alone is the default dtype (float32),
constants take the floating dtype of the tensors they meet (a float32 graph stays float32),
and tensors of two floating dtypes meet in the wider one (a recorded cast).

>>> import numpy as np
>>> import autodiff as ad
>>> from autodiff.scipy._convert import floats
>>> [t.dtype.name for t in floats(ad.tensor([1.0]), 0.5, np.array(2.0))]
['float32', 'float32', 'float32']
>>> [t.dtype.name for t in floats(np.array([1, 2]))]
['float64']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autodiff import dtypes
from autodiff.ops.shape import astype
from autodiff.tensor import Tensor


def floats(*args: Any) -> list[Tensor]:
    """`args` as Tensors of one floating dtype (see the module docstring)."""
    tensors = [a.dtype for a in args if isinstance(a, Tensor) and a.dtype.kind == "f"]
    if tensors:
        dt = np.result_type(*tensors)
    else:
        dt = np.result_type(*[a.data if isinstance(a, Tensor) else dtypes.as_data(a)
                              for a in args])
        if dt.kind != "f":  # integers and booleans: float64, as SciPy
            dt = np.dtype(np.float64)
    return [_as(a, dt) for a in args]


def _as(a: Any, dt: np.dtype) -> Tensor:
    if isinstance(a, Tensor):
        if a.dtype == dt:
            return a
        if a.dtype.kind == "f":
            return astype(a, dt)  # recorded: the gradient comes back in a's dtype
        return Tensor._make(a.data.astype(dt), None, 0)
    return Tensor._make(dtypes.constant_like(a, dt), None, 0)


def data(t: Any) -> np.ndarray:
    """The array of a Tensor (or of a constant)."""
    return t.data if isinstance(t, Tensor) else np.asarray(t)
