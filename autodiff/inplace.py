"""In-place writes: `t[i] = v`, `+=` and its kin, and PyTorch's in-place methods `add_`,
`sub_`, `mul_`, `div_`, `neg_`, `clamp_`, `zero_`, `fill_`, `copy_`; and `apply_`, t <- op(t)
for an elementwise op (the activations' `inplace=True`).

Each keeps the tensor's identity and its memory (views see the new values) and bumps the
memory's version counter, so a backward that saved the old values raises instead of using
the new ones.

- Nothing to record (grad mode off, or no tensor involved requires grad): NumPy writes into
  the array directly, in the tensor's dtype.
- A leaf that requires grad: only under `no_grad()` (an optimizer's update); outside it raises,
  as in PyTorch, since its graph would lose the value it was made with.
- Otherwise (a tensor an op made, or one that starts to depend on a tensor requiring grad):
  the op is recorded out of place, its result written into the tensor's memory, and the
  tensor re-pointed to the new node. When the op saves its operands for backward, those that
  share the tensor's memory are copied first, so its backward reads the values from before.

>>> import autodiff as ad
>>> W = ad.tensor([1.0, 2.0], requires_grad=True)
>>> (W * W).sum().backward()
>>> with ad.no_grad():
...     W -= 0.5 * W.grad
>>> W, W._version
(tensor([0., 0.], requires_grad=True), 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autodiff import versions, views
from autodiff.grad_mode import STATE, no_grad
from autodiff.ops import arith, elementwise, indexing, linalg
from autodiff.tensor import Tensor

# name -> (NumPy ufunc for the direct write, differentiable op, does the op save its inputs?)
BINARY: dict[str, tuple[Any, Callable[[Any, Any], Tensor], bool]] = {
    "add_": (np.add, arith.add, False),
    "sub_": (np.subtract, arith.sub, False),
    "mul_": (np.multiply, arith.mul, True),
    "div_": (np.true_divide, arith.div, True),
    "pow_": (np.power, arith.pow, True),
    "matmul_": (np.matmul, linalg.matmul, True),
    "remainder_": (np.remainder, arith.remainder, True),
    "floor_divide_": (np.floor_divide, arith.floor_divide, True),
}


def binary(t: Tensor, name: str, other: Any) -> Tensor:
    """t <- t (op) other, for the ops of BINARY."""
    ufunc, op, saves = BINARY[name]
    if not _recording(t, name, other):
        _direct(t, name, ufunc, other.data if isinstance(other, Tensor) else other)
        return t
    return _record(t, name, op, (other,), saves)


def neg_(t: Tensor) -> Tensor:
    """t <- -t."""
    if not _recording(t, "neg_"):
        _direct(t, "neg_", np.negative)
        return t
    return _record(t, "neg_", arith.neg, (), False)


def clamp_(t: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """t <- clip(t, min, max) (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clamp_: give min, max or both (both are None)")
    if not _recording(t, "clamp_", min, max):  # a bound that requires grad is recorded
        lo = min.data if isinstance(min, Tensor) else min
        hi = max.data if isinstance(max, Tensor) else max
        _direct(t, "clamp_", np.clip, lo, hi)
        return t
    return _record(t, "clamp_", lambda x: elementwise.clip(x, min, max), (), False)


def setitem(t: Tensor, index: Any, value: Any, name: str = "setitem") -> Tensor:
    """t[index] <- value (NumPy's assignment: value broadcasts into the selected places)."""
    index = indexing.plain_index(index)
    if not _recording(t, name, value):
        with _writing(t, name):
            try:
                t.data[index] = _raw(value)
            except (ValueError, IndexError, TypeError) as e:
                raise type(e)(f"{name}: cannot write a value of shape {np.shape(_raw(value))} "
                              f"into index {index!r} of a tensor of shape {t.shape}: "
                              f"{e}") from None
        return t
    return _record(t, name, lambda x, v: indexing.setitem(x, index, v), (value,), False)


def fill_(t: Tensor, value: Any) -> Tensor:
    """Every element <- value (a number, or a 0-d tensor)."""
    if np.ndim(_raw(value)) != 0:
        raise ValueError(f"fill_: the value must be a number or a 0-d tensor, got shape "
                         f"{np.shape(_raw(value))} (use copy_ to write an array)")
    return setitem(t, Ellipsis, value, "fill_")


def copy_(t: Tensor, src: Any) -> Tensor:
    """t <- src, broadcast to t's shape and cast to its dtype."""
    return setitem(t, Ellipsis, src, "copy_")


def apply_(t: Tensor, name: str, op: Callable[[Tensor], Tensor]) -> Tensor:
    """t <- op(t), for an op whose result has t's shape (an activation's `inplace=True`).
    Under the rules above: direct when nothing records; refused on a leaf that requires grad;
    otherwise op is recorded on a copy of t (its backward reads the values from before).

    >>> import autodiff as ad
    >>> from autodiff import inplace
    >>> x = ad.tensor([-1.0, 2.0], requires_grad=True)
    >>> y = x * 1.0
    >>> inplace.apply_(y, "relu_", ad.relu) is y, y.tolist(), y._version
    (True, [0.0, 2.0], 1)
    """
    if _recording(t, name):
        return _record(t, name, op, (), True)
    with no_grad():
        out = op(t)
    if out.shape != t.shape:
        raise ValueError(f"{name}: the result has shape {out.shape} but the tensor being "
                         f"written has shape {t.shape}")
    with _writing(t, name):
        try:
            np.copyto(t.data, out.data, casting="same_kind")
        except TypeError:  # NumPy refuses before writing: e.g. a float result, an int tensor
            raise TypeError(f"{name}: the result has dtype {out.dtype}, which cannot be "
                            f"written into a tensor of dtype {t.dtype}") from None
    return t


def _raw(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _recording(t: Tensor, name: str, *operands: Any) -> bool:
    """Must this write be recorded in the graph? Refuses a leaf that requires grad."""
    if not STATE.grad_enabled:
        return False
    if t.requires_grad and t.grad_fn is None:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad (shape {t.shape}) cannot be modified in "
            "place while grad mode is on: its graph would lose the value it was made with. "
            "Update it inside `with autodiff.no_grad():` (as an optimizer step does), or "
            "compute a new tensor.")
    if t.requires_grad and t.grad_fn._leaf_view:
        raise RuntimeError(
            f"{name}: this tensor (shape {t.shape}, made by '{t.grad_fn.op_name()}') is a view "
            "of a leaf tensor that requires grad, so writing into it would modify the leaf in "
            "place while grad mode is on. Write under `with autodiff.no_grad():`, or into a "
            "copy (.clone()).")
    recording = t.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                       for o in operands)
    if recording and t.dtype.kind not in "fc":
        raise TypeError(
            f"{name}: a tensor of dtype {t.dtype} cannot hold a value that requires grad (it "
            "would lose its gradient); write value.detach() to store the numbers, or write "
            "into a floating tensor")
    return recording


def _check_writeable(t: Tensor, name: str) -> None:
    if not t.data.flags.writeable:
        raise ValueError(f"{name}: the tensor's memory (shape {t.shape}) is read-only, e.g. a "
                         "broadcast view; write into a copy (.copy())")


@contextmanager
def _writing(t: Tensor, name: str) -> Iterator[None]:
    """Around a write into t's memory: refuse read-only memory, and bump the version once the
    write has run, or was interrupted (it may have written part); not when NumPy refused it
    (a TypeError or ValueError is raised before anything is written)."""
    _check_writeable(t, name)
    try:
        yield
    except (TypeError, ValueError, IndexError):
        raise
    except BaseException:
        versions.bump(t.data)
        raise
    versions.bump(t.data)


def _direct(t: Tensor, name: str, ufunc: Any, *operands: Any) -> None:
    """Write ufunc(t, *operands) into t's array, in its dtype; bump its version."""
    with _writing(t, name):
        try:
            ufunc(t.data, *operands, out=t.data)
        except TypeError as e:  # NumPy's casting rule: e.g. a float result into an int tensor
            raise TypeError(f"{name}: the result cannot be written into a tensor of dtype "
                            f"{t.dtype} ({e})") from None
        except ValueError as e:
            shapes = [np.shape(o) for o in operands]
            raise ValueError(f"{name}: a tensor of shape {t.shape} cannot hold the result of "
                             f"its op with operands of shape {shapes} ({e})") from None


def _record(t: Tensor, name: str, op: Callable[..., Tensor], operands: tuple[Any, ...],
            saves: bool) -> Tensor:
    """Record op(t, *operands) out of place, then write it into t and re-point t to it."""
    _check_writeable(t, name)
    since = next(versions.numbers)  # the nodes made from here on record this write
    if saves:  # the op keeps its inputs for backward: give it copies of what will change
        operands = tuple(o.copy() if isinstance(o, Tensor) and np.may_share_memory(
            o.data, t.data) else o for o in operands)
    out = op(t.copy() if saves else t, *operands)
    if out.shape != t.shape:
        raise ValueError(f"{name}: the result has shape {out.shape} but the tensor being "
                         f"written has shape {t.shape} (in-place ops cannot broadcast it)")
    if out.dtype != t.dtype:
        if not np.can_cast(out.dtype, t.dtype, "same_kind"):
            raise TypeError(f"{name}: the result has dtype {out.dtype}, which cannot be "
                            f"written into a tensor of dtype {t.dtype}")
        out = out.astype(t.dtype)
    base = views.rebase(t, out)  # t is a view: its base's new value (None if not)
    versions.bump(t.data)  # first: an interrupt after it leaves t stale, never silently new
    np.copyto(t.data, out.data)
    # Numbered after the write: what they saved is untouched (copies, or never written).
    views.renumber([out] if base is None else [out, base], since)
    views.adopt(t, out)
    if base is not None:
        views.adopt(t._base, base)
    return t

