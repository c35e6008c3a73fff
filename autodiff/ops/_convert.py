"""How the arguments of an op become tensors or constants of the right dtype."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from autodiff import dtypes, views
from autodiff.grad_mode import STATE
from autodiff.tensor import Tensor

if TYPE_CHECKING:
    from autodiff.function import Function


def as_tensor(x: Any) -> Tensor:
    """A Tensor as is; anything else as a constant tensor (Python numbers -> default dtype)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def pair(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    """The two operands of a binary op: constants take the tensor's dtype (weak scalars), and
    an integer or boolean tensor meeting a floating one becomes that floating dtype."""
    tb = isinstance(b, Tensor)
    if isinstance(a, Tensor):
        dt = a.data.dtype
        if tb:
            if dt is b.data.dtype:
                return a, b
        elif (type(b) is float or type(b) is int) and dt.kind == "f":
            return a, dtypes.scalar(b, dt)  # a weak Python scalar takes the tensor's dtype
    elif tb and (type(a) is float or type(a) is int) and b.data.dtype.kind == "f":
        return dtypes.scalar(a, b.data.dtype), b
    ta = isinstance(a, Tensor)
    if ta and tb:
        ka, kb = a.data.dtype.kind, b.data.dtype.kind
        if ka == "f" and kb != "f":
            b = Tensor._make(b.data.astype(a.data.dtype), None, 0)
        elif kb == "f" and ka != "f":
            a = Tensor._make(a.data.astype(b.data.dtype), None, 0)
        elif ka == kb == "f":  # float32 with float64: a recorded cast, so each input's
            dt = np.promote_types(a.data.dtype, b.data.dtype)  # gradient keeps its dtype
            a = a if a.data.dtype == dt else a.astype(dt)
            b = b if b.data.dtype == dt else b.astype(dt)
        return a, b
    if ta:
        b = _constant(b, a, op)
        if a.data.dtype.kind != "f" and b.dtype.kind == "f":
            a = Tensor._make(a.data.astype(b.dtype), None, 0)
        return a, b
    if tb:
        a = _constant(a, b, op)
        if b.data.dtype.kind != "f" and a.dtype.kind == "f":
            b = Tensor._make(b.data.astype(a.dtype), None, 0)
        return a, b
    return Tensor(a), Tensor(b)


def binary(fn: type[Function], ufunc: np.ufunc, a: Any, b: Any, *, floats: bool = False
           ) -> Tensor:
    """The one way two operands meet in a binary op (`fn`, whose value is `ufunc`'s). When
    they already agree (two float tensors of one dtype, or a float tensor and a Python number,
    which takes the tensor's dtype) they go straight to the op's Function when it records, to
    the NumPy ufunc when it does not; anything else is promoted first (`pair`), and a shape
    mismatch is reported by name. `floats=True` (true division): integer tensors become the
    default float dtype first."""
    if isinstance(a, Tensor):
        x = a.data
        dt = x.dtype
        if dt.kind != "f":
            return _promoted(fn, a, b, floats)
        if isinstance(b, Tensor):
            y = b.data
            if y.dtype is not dt:
                return _promoted(fn, a, b, floats)
            record = a._requires_grad or b._requires_grad
        elif type(b) is float or type(b) is int:
            y = b = dtypes.scalar(b, dt)  # a weak Python scalar takes the tensor's dtype
            record = a._requires_grad
        else:
            return _promoted(fn, a, b, floats)
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int) and \
            b.data.dtype.kind == "f":
        y = b.data
        x = a = dtypes.scalar(a, y.dtype)
        record = b._requires_grad
    else:
        return _promoted(fn, a, b, floats)
    try:
        if record:
            if STATE.grad_enabled:
                return fn.apply(a, b)
        elif STATE.grad_enabled and (_follows_base(a) or _follows_base(b)):
            return fn.apply(a, b)
        return Tensor._make(ufunc(x, y), None, 0)
    except ValueError:
        return _promoted(fn, a, b, floats)  # reports the shapes


def _follows_base(t: Any) -> bool:
    """A constant's view whose base has a graph now (`views.follow_base`): it records."""
    return isinstance(t, Tensor) and t._base is not None and views.follow_base(t)


def _promoted(fn: type[Function], a: Any, b: Any, floats: bool) -> Tensor:
    name = fn.op_name()
    if floats and not (_is_float(a) or _is_float(b)):  # with a float tensor, pair promotes to
        a, b = _as_float(a), _as_float(b)  # its dtype: float16 / int8 stays float16
    a, b = pair(a, b, name)
    try:
        return fn.apply(a, b)
    except ValueError:
        broadcast_check(name, a, b)
        raise


def _is_float(t: Any) -> bool:
    return isinstance(t, Tensor) and t.data.dtype.kind == "f"


def _as_float(t: Any) -> Any:
    if isinstance(t, Tensor) and t.data.dtype.kind != "f":
        return Tensor._make(t.data.astype(dtypes.get_default_dtype()), None, 0)
    return t


def _constant(value: Any, t: Tensor, op: str) -> np.ndarray:
    try:
        return dtypes.constant_like(value, t.data.dtype)
    except OverflowError as e:  # a Python int outside an integer tensor's dtype (NumPy 2)
        raise OverflowError(f"{op}: {e} (the tensor of shape {t.shape} is {t.data.dtype}; "
                            "cast it first, e.g. .astype('int64'))") from None
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: cannot combine a tensor of shape {t.shape} with "
                        f"{type(value).__name__} {value!r}: {e}") from e


def broadcast_check(op: str, a: Any, b: Any) -> None:
    """Raise a ValueError naming the op and both shapes when they do not broadcast."""
    sa, sb = np.shape(a.data if isinstance(a, Tensor) else a), np.shape(
        b.data if isinstance(b, Tensor) else b)
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        raise ValueError(f"{op}: shapes {sa} and {sb} cannot be broadcast together") from None
