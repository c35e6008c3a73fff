"""dtype rules: the default floating dtype and how constants meet tensors.

- Python numbers and lists make float32 tensors on their own (the default dtype, settable).
- NumPy arrays keep their dtype.
- In an op with a tensor, a constant (Python or NumPy number, list, array) takes the tensor's
  floating dtype, as NumPy 2's weak scalars do, so a float32 graph never becomes float64.

>>> import autodiff as ad
>>> (ad.tensor([1.0, 2.0]) * 0.1).dtype
dtype('float32')
"""

from __future__ import annotations

import numpy as np

_default = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The floating dtype Python numbers and lists become (float32 unless changed).

    >>> import autodiff as ad
    >>> ad.get_default_dtype()
    dtype('float32')
    """
    return _default


def set_default_dtype(dtype: np.typing.DTypeLike) -> None:
    """Set the floating dtype Python numbers and lists become (float16/32/64).

    >>> import autodiff as ad
    >>> ad.set_default_dtype("float64"); ad.tensor(1.0).dtype
    dtype('float64')
    >>> ad.set_default_dtype("float32")
    """
    global _default
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: the default dtype must be floating, got {dt}")
    _default = dt


def is_floating(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


def as_data(value: object, dtype: np.typing.DTypeLike | None = None) -> np.ndarray:
    """The array a value makes on its own: Python numbers and lists become the default dtype.
    Complex values are refused: tensors are real.

    >>> import autodiff as ad
    >>> ad.tensor([1 + 2j])
    Traceback (most recent call last):
    ...
    TypeError: tensors are real: got complex values (dtype complex128); ...
    """
    if isinstance(value, np.ndarray):
        arr = value if dtype is None else value.astype(dtype, copy=False)
    elif isinstance(value, np.generic):
        arr = np.asarray(value, dtype=dtype)
    else:
        arr = np.asarray(value, dtype=dtype)
        if dtype is None and arr.dtype.kind in "fiu" and arr.dtype != _default:
            arr = arr.astype(_default)
    if arr.dtype.kind == "c":
        raise TypeError(f"tensors are real: got complex values (dtype {arr.dtype}); pass the "
                        "real and imaginary parts as two tensors")
    return arr


_scalars: dict[tuple[np.dtype, float], np.ndarray] = {}


def scalar(value: float, dtype: np.dtype) -> np.ndarray:
    """A Python number as a read-only 0-d array of a float `dtype`, cached: NumPy multiplies
    an array by a 0-d array faster than by a Python or NumPy scalar.

    >>> import numpy as np
    >>> from autodiff.dtypes import scalar
    >>> scalar(0.5, np.dtype("float32"))
    array(0.5, dtype=float32)
    """
    if not value or value != value:  # +-0.0 and nan are not cached (0.0 == -0.0 as keys)
        arr = np.array(value, dtype)
        arr.flags.writeable = False
        return arr
    key = (dtype, value)
    arr = _scalars.get(key)
    if arr is None:
        if len(_scalars) >= 4096:  # e.g. a learning rate that changes every step
            _scalars.clear()
        arr = _scalars[key] = np.array(value, dtype)
        arr.flags.writeable = False
    return arr


def constant_like(value: object, dtype: np.dtype) -> np.ndarray:
    """A constant that meets a tensor of `dtype`: it takes the tensor's floating dtype.

    Integer or boolean tensors meeting a float constant become the default float dtype;
    integer constants with integer tensors stay integers, and a Python int takes an integer
    tensor's own dtype (NumPy 2's weak scalar: uint8 + 1 stays uint8; a value out of the
    dtype's range raises OverflowError, as NumPy does).
    """
    if type(value) is int and dtype.kind in "iu":
        return np.asarray(value, dtype)  # OverflowError out of range, naming value and dtype
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"complex values are not supported (a {arr.dtype} constant would lose "
                        "its imaginary part)")
    if dtype.kind == "f":
        if kind in "fiub" and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr
    if kind == "f":
        return arr.astype(_default)
    return arr
