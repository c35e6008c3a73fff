"""Checks shared by `Module.load_state_dict` and `Optimizer.load_state_dict`, which check a whole
saved state before writing any of it: one entry as an array of the expected shape and dtype,
and a hyperparameter as a finite number, or a ValueError saying what is wrong.

>>> import numpy as np
>>> from nn._state import checked_array
>>> checked_array("'w'", [[1, 2]], (1, 2), np.float32)
array([[1., 2.]], dtype=float32)
>>> checked_array("'w'", np.ones(3), (1, 2), np.float32)
Traceback (most recent call last):
...
ValueError: 'w' has shape (3,) in the state but (1, 2) in the model
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from autodiff import Tensor


def checked_array(label: str, value: Any, shape: tuple[int, ...], dtype: Any, *,
                  finite: bool = False, where: str = "the model") -> np.ndarray:
    """`value` (an array, a Tensor, a nested list) as a fresh array of `shape` and `dtype`, or a
    ValueError that starts with `label` (which entry) and says what is wrong: not real numbers,
    the shape (both are named), a dtype that cannot hold the values, values beyond its range,
    or (with `finite`) NaN or inf.

    >>> import numpy as np
    >>> checked_array("'b'", np.array([np.nan]), (1,), np.float32, finite=True)
    Traceback (most recent call last):
    ...
    ValueError: 'b' holds 1 NaN or inf values (saved after training diverged?)
    """
    try:
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
    except ValueError as e:  # a ragged list
        raise ValueError(f"{label} is not an array ({e})") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{label} holds {array.dtype} values, not real numbers")
    if array.shape != tuple(shape):
        raise ValueError(f"{label} has shape {array.shape} in the state but {tuple(shape)} in "
                         f"{where}")
    dtype = np.dtype(dtype)
    if not np.can_cast(array.dtype, dtype, "same_kind"):
        raise ValueError(f"{label} is {array.dtype} in the state but {dtype} in {where}, which "
                         "cannot hold its values")
    with np.errstate(over="ignore", invalid="ignore"):
        out = array.astype(dtype, copy=True)
    if dtype.kind != "f":
        if not np.array_equal(out, array):
            raise ValueError(f"{label} has values beyond the range of {dtype}")
        return out
    overflow = np.isfinite(array) & ~np.isfinite(out)
    if overflow.any():
        raise ValueError(f"{label} has values beyond the range of {dtype} (e.g. "
                         f"{array[overflow].flat[0]})")
    if finite and not np.isfinite(out).all():
        raise ValueError(f"{label} holds {int((~np.isfinite(out)).sum())} NaN or inf values "
                         "(saved after training diverged?)")
    return out


def real_number(value: Any) -> bool:
    """Whether `value` is a finite real number (a bool is not one).

    >>> real_number(0.1), real_number(float('nan')), real_number(True), real_number('0.1')
    (True, False, False, False)
    """
    return (isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
            and math.isfinite(value))
