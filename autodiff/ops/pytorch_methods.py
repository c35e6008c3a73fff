"""Tensor methods with PyTorch's names that NumPy's ndarray does not have, each a composite of
registered ops (differentiable where its op is; no backward of its own):

- `view(*shape)`, `view_as(other)`: reshape, only as a view of the same memory (RuntimeError
  otherwise, as PyTorch); `reshape_as(other)`: `reshape(other.shape)`;
- `permute(*axes)`: `transpose(axes)`; `unsqueeze(axis)`: `expand_dims(axis)`; `t()`: `T` for
  at most 2 dimensions;
- `expand(*sizes)`, `expand_as(other)`: `broadcast_to`, -1 keeping a size;
- `contiguous()`: itself, or a C-ordered copy;
- `to(dtype, device or tensor)`, `float()`, `double()`, `half()`, `long()`, `int()`, `bool()`,
  `type_as(other)`: `astype`, and itself when nothing changes; `cpu()`: itself, `device`:
  'cpu' (`cuda()` is refused);
- `numel()`, `dim()`, `ndimension()`: `size`, `ndim`;
- `eq`, `ne`, `lt`, `le`, `gt`, `ge`: `==`, `!=`, `<`, `<=`, `>`, `>=`;
- `masked_fill(mask, value)`: `where(mask, value, self)`; `clamp(min, max)`: `clip`;
- `add`, `sub` (with `alpha=`), `mul`, `div`, `pow`, `matmul`: the ops of those names;
- `index_select`, `gather`, `narrow`: `take`, `take_along_axis`, a slice; `chunk`: `split`;
  `repeat_interleave`: NumPy's `repeat`;
- `new_zeros`, `new_ones`, `new_empty`, `new_full`, `new_tensor`: self's dtype, not its graph.

`flatten(start_dim, end_dim)`, `unflatten`, `tile` and `clone` are the methods of their ops
(ops/shape.py). Where ndarray has the name (`flatten` given an order, `repeat`, `squeeze`,
`transpose`, `std`, `max`, `size`, ...) it keeps NumPy's meaning: docs/from-pytorch.md.

>>> import autodiff as ad
>>> x = ad.arange(6.0).view(2, 3)
>>> x.permute(1, 0).shape, x.unsqueeze(0).shape, x.numel(), x.dim()
((3, 2), (1, 2, 3), 6, 2)
>>> x.masked_fill(x > 3, 0.0)
tensor([[0., 1., 2.],
        [3., 0., 0.]])
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from autodiff.dtypes import constant_like
from autodiff.ops.arith import add, compare, div, mul, pow, sub
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.elementwise import clip
from autodiff.ops.indexing import take, take_along_axis, where
from autodiff.ops.linalg import matmul
from autodiff.ops.registry import register_method
from autodiff.ops.shape import astype, broadcast_to, expand_dims, repeat, reshape, split, transpose
from autodiff.tensor import Tensor

__all__: list[str] = []  # methods only: t.view(...), never ad.view


def _sizes(args: tuple[Any, ...]) -> tuple[int, ...]:
    """PyTorch's `*sizes`: integers, or one sequence of them (`view(2, 3)`, `view((2, 3))`)."""
    if len(args) == 1 and not isinstance(args[0], int | np.integer):
        args = tuple(args[0])
    return tuple(operator.index(a) for a in args)


# -- shapes ---------------------------------------------------------------------------------


def view(self: Tensor, *shape: Any) -> Tensor:
    """The same memory in another shape (one size may be -1), as PyTorch's view: a write to
    either shows in the other. A tensor whose memory is not laid out for that shape (a
    transposed, sliced or expanded one) raises RuntimeError, as in PyTorch: `reshape` copies
    when it must, or `contiguous().view(...)`. Without arguments, NumPy's `view()`: the same
    shape. A dtype (reinterpreting the bytes) is refused.

    >>> import autodiff as ad
    >>> ad.arange(6.0).view(2, -1).shape, ad.arange(6.0).view((3, 2)).shape
    ((2, 3), (3, 2))
    """
    if len(shape) == 1 and isinstance(shape[0], str | type | np.dtype):
        raise TypeError(f"view: reinterpreting the bytes as {shape[0]!r} is not supported (it "
                        "has no gradient); to convert the values use .to(dtype) or "
                        ".astype(dtype), for the bytes t.detach().numpy().view(dtype)")
    new = _sizes(shape) if shape else self.shape
    try:
        out = reshape(self, new)
    except ValueError:
        raise ValueError(f"view: shape {new} does not fit a tensor of shape {self.shape} "
                         f"({self.size} elements)") from None
    try:
        np.reshape(self.data, out.shape, copy=False)
    except ValueError:
        raise RuntimeError(
            f"view: a tensor of shape {self.shape} with strides {self.data.strides} (a "
            f"transposed, sliced or expanded one) cannot be viewed as {new} without copying; "
            f"use .reshape({', '.join(map(str, new))}), which copies when it must, or "
            ".contiguous().view(...)") from None
    return out


def view_as(self: Tensor, other: Any) -> Tensor:
    """`self.view(other.shape)`.

    >>> import autodiff as ad
    >>> ad.arange(6.0).view_as(ad.ones((3, 2))).shape
    (3, 2)
    """
    return view(self, np.shape(other))


def reshape_as(self: Tensor, other: Any) -> Tensor:
    """`self.reshape(other.shape)`.

    >>> import autodiff as ad
    >>> ad.arange(6.0).reshape_as(ad.ones((3, 2))).shape
    (3, 2)
    """
    return reshape(self, np.shape(other))


def permute(self: Tensor, *axes: Any) -> Tensor:
    """The axes in the order `axes` (all of them), as PyTorch's permute: `transpose(axes)`.

    >>> import autodiff as ad
    >>> ad.ones((2, 3, 4)).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    order = normalize_axes("permute", _sizes(axes), self.ndim)
    if len(order) != self.ndim:
        raise ValueError(f"permute: {len(order)} axes {tuple(axes)} for a tensor of "
                         f"{self.ndim} dimensions (shape {self.shape}): give the order of all")
    return transpose(self, order)


def unsqueeze(self: Tensor, axis: int) -> Tensor:
    """A new axis of size 1 at `axis` (in [-ndim - 1, ndim]), as PyTorch's unsqueeze:
    `expand_dims(axis)`.

    >>> import autodiff as ad
    >>> ad.ones((2, 3)).unsqueeze(1).shape, ad.ones((2, 3)).unsqueeze(-1).shape
    ((2, 1, 3), (2, 3, 1))
    """
    if not hasattr(axis, "__index__"):
        raise TypeError(f"unsqueeze: axis must be an integer, got {axis!r}")
    return expand_dims(self, axis)


def expand(self: Tensor, *sizes: Any) -> Tensor:
    """The tensor broadcast to `sizes` without copying, as PyTorch's expand: -1 keeps a
    dimension's size, new dimensions go in front: `broadcast_to`.

    >>> import autodiff as ad
    >>> ad.ones((3, 1)).expand(2, -1, 4).shape
    (2, 3, 4)
    """
    new = _sizes(sizes)
    lead = len(new) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(new)} sizes {new} for a tensor of {self.ndim} "
                         f"dimensions (shape {self.shape}): give one for each, at least")
    if -1 in new[:lead]:
        raise ValueError(f"expand: -1 in sizes {new} stands for a new dimension, which has "
                         "no size to keep")
    shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(new))
    try:
        return broadcast_to(self, shape)
    except ValueError:
        raise ValueError(f"expand: a tensor of shape {self.shape} cannot be expanded to {new} "
                         "(only a dimension of size 1 can grow)") from None


def expand_as(self: Tensor, other: Any) -> Tensor:
    """`self.expand(other.shape)`.

    >>> import autodiff as ad
    >>> ad.ones(3).expand_as(ad.zeros((2, 3))).shape
    (2, 3)
    """
    return expand(self, np.shape(other))


def contiguous(self: Tensor) -> Tensor:
    """The tensor itself when its memory is C-contiguous (row by row), otherwise a C-ordered
    copy (differentiable), as PyTorch's contiguous: then `view` works.

    >>> import autodiff as ad
    >>> x = ad.ones((2, 3))
    >>> x.contiguous() is x, x.T.contiguous().view(-1).shape
    (True, (6,))
    """
    return self if self.data.flags.c_contiguous else self.copy()


def t(self: Tensor) -> Tensor:
    """The transpose of a tensor of at most 2 dimensions (0-d and 1-d are returned as they
    are), as PyTorch's t().

    >>> import autodiff as ad
    >>> ad.ones((2, 3)).t().shape
    (3, 2)
    """
    if self.ndim > 2:
        raise ValueError(f"t: a tensor of at most 2 dimensions, got shape {self.shape}; "
                         "swapaxes(-1, -2) transposes the last two")
    return transpose(self, None) if self.ndim == 2 else self


# -- dtypes and devices ---------------------------------------------------------------------

_DEVICE = re.compile(r"[a-z_]+(:\d+)?")


def _dtype_or_device(arg: Any) -> tuple[np.dtype | None, str | None]:
    """What one argument of `to` is: a dtype (or a tensor, for its dtype) or a device ('cpu',
    'cuda:0', a torch.device)."""
    if isinstance(arg, Tensor | np.ndarray):
        return arg.dtype, None
    if isinstance(getattr(arg, "type", None), str):  # a torch.device
        return None, str(arg)
    if type(arg).__module__ == "torch" and type(arg).__name__ == "dtype":
        arg = str(arg).removeprefix("torch.")  # torch.float32 -> 'float32'
    try:
        if arg is not None:
            return np.dtype(arg), None
    except TypeError:
        if isinstance(arg, str) and _DEVICE.fullmatch(arg):
            return None, arg
    raise TypeError(f"to: expected a dtype, a device ('cpu') or a tensor, got {arg!r}")


def to(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False,
       non_blocking: bool = False) -> Tensor:
    """The tensor in `dtype` (given as a dtype, or as a tensor whose dtype to take), as
    PyTorch's `to`: itself when nothing changes, unless `copy=True`; differentiable between
    floating dtypes (astype). The device may be 'cpu' (or torch.device('cpu')): this library
    computes with NumPy, on the CPU, so any other device is refused. `non_blocking` does
    nothing.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.5, 2.5])
    >>> x.to('float64').dtype, x.to('cpu') is x, x.to(ad.tensor([1], dtype='int64')).dtype
    (dtype('float64'), True, dtype('int64'))
    """
    target = self.dtype
    for arg in (*args, *(() if dtype is None else (dtype,))):
        dt, dev = _dtype_or_device(arg)
        if dt is not None:
            target = dt
        elif arg is dtype:
            raise TypeError(f"to: dtype= must be a dtype, got {dtype!r}")
        else:
            device = dev
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(f"to: this library computes with NumPy on the CPU; device "
                           f"{str(device)!r} is not available (use 'cpu')")
    if target == self.dtype:
        return self.copy() if copy else self
    return astype(self, target)


def cpu(self: Tensor) -> Tensor:
    """The tensor itself, as PyTorch's `cpu()` of a tensor on the CPU: NumPy's arrays are
    there (so `x.detach().cpu().numpy()` works).

    >>> import autodiff as ad
    >>> x = ad.ones(2)
    >>> x.cpu() is x, x.device
    (True, 'cpu')
    """
    return self


def cuda(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Refused: this library computes with NumPy, on the CPU."""
    raise RuntimeError("cuda: this library computes with NumPy on the CPU; there is no CUDA "
                       "device (x.cpu() and x.to('cpu') return the tensor itself)")


def type_as(self: Tensor, other: Any) -> Tensor:
    """`self.to(other.dtype)`.

    >>> import autodiff as ad
    >>> ad.tensor([1.5]).type_as(ad.tensor([1], dtype='int64'))
    tensor([1])
    """
    return to(self, np.asarray(other).dtype if not isinstance(other, Tensor) else other.dtype)


def _to_dtype(name: str, dtype: Any) -> Callable[[Tensor], Tensor]:
    def convert(self: Tensor) -> Tensor:
        return to(self, dtype)

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = (f"`self.to({np.dtype(dtype).name})`, as PyTorch's Tensor.{name}(): "
                       "itself when it has that dtype already.")
    return convert


DTYPE_METHODS = {"float": np.float32, "double": np.float64, "half": np.float16,
                 "long": np.int64, "int": np.int32, "bool": np.bool_}


# -- facts and comparisons -------------------------------------------------------------------


def numel(self: Tensor) -> int:
    """The number of elements (NumPy's `t.size`, an int here; PyTorch's size() is `t.shape`).

    >>> import autodiff as ad
    >>> ad.ones((2, 3)).numel()
    6
    """
    return self.data.size


def dim(self: Tensor) -> int:
    """The number of dimensions, `t.ndim`.

    >>> import autodiff as ad
    >>> ad.ones((2, 3)).dim()
    2
    """
    return self.data.ndim


COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
               "gt": np.greater, "ge": np.greater_equal}


def _comparison(name: str, ufunc: np.ufunc) -> Callable[[Tensor, Any], Tensor]:
    def compare_with(self: Tensor, other: Any) -> Tensor:
        return compare(ufunc, self, other)

    compare_with.__name__ = compare_with.__qualname__ = name
    compare_with.__doc__ = (f"`np.{ufunc.__name__}(self, other)`, as PyTorch's Tensor.{name}: "
                            "a boolean tensor, no gradient.")
    return compare_with


def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """`value` where the boolean `mask` is True, `self` elsewhere (they broadcast together),
    in self's dtype, as PyTorch's masked_fill: `where(mask, value, self)`. `value` is a number
    or a 0-d tensor, which gets the gradient of the places it fills.

    >>> import autodiff as ad
    >>> ad.tensor([1.0, 2.0, 3.0]).masked_fill(ad.tensor([True, False, True]), -1.0)
    tensor([-1.,  2., -1.])
    """
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {m.dtype} (compare "
                        "first: t > 0)")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{value.shape}")
        fill = value if value.dtype == self.dtype else astype(value, self.dtype)
    else:
        fill = Tensor._make(constant_like(value, self.dtype).astype(self.dtype), None, 0)
    return where(m, fill, self)


def clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Limit to [min, max] (either may be None, not both), as PyTorch's clamp: `clip`.

    >>> import autodiff as ad
    >>> ad.tensor([-2.0, 0.5, 3.0]).clamp(0, 1)
    tensor([0. , 0.5, 1. ])
    """
    if min is None and max is None:
        raise ValueError("clamp: give min or max (or both)")
    return clip(self, min=min, max=max)


# -- selecting, splitting, new tensors ------------------------------------------------------


def index_select(self: Tensor, axis: int, index: Any) -> Tensor:
    """The entries at the 1-D integer `index` along `axis`, as PyTorch's index_select: `take`.

    >>> import autodiff as ad
    >>> ad.arange(6.0).view(2, 3).index_select(1, ad.tensor(np.array([2, 0])))
    tensor([[2., 0.],
            [5., 3.]])
    """
    idx = np.asarray(getattr(index, "data", index))
    if idx.ndim > 1 or (idx.size and idx.dtype.kind not in "iu"):
        raise IndexError(f"index_select: index must be a 0-d or 1-D integer tensor, got shape "
                         f"{idx.shape} and dtype {idx.dtype}")
    return take(self, idx.reshape(-1).astype(np.intp), axis=axis)


def gather(self: Tensor, axis: int, index: Any) -> Tensor:
    """out[i][j] = self[index[i][j]][j] along `axis` (for axis 0), as PyTorch's gather: `index`
    has self's number of dimensions and no axis longer than self's outside `axis` (the rest of
    self is ignored); `take_along_axis` of the matching corner.

    >>> import autodiff as ad
    >>> x = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.gather(1, ad.tensor(np.array([[0, 0], [1, 0]])))
    tensor([[1., 1.],
            [4., 3.]])
    """
    idx = np.asarray(getattr(index, "data", index))
    axis = normalize_axis("gather", axis, self.ndim) if self.ndim else 0
    if idx.ndim != self.ndim or (idx.size and idx.dtype.kind not in "iu") or any(
            i > s for d, (i, s) in enumerate(zip(idx.shape, self.shape)) if d != axis):
        raise RuntimeError(f"gather: index of shape {idx.shape} and dtype {idx.dtype} must be "
                           f"an integer tensor with {self.ndim} dimensions and no axis longer "
                           f"than self's {self.shape} except axis {axis}")
    corner = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(idx.shape))
    return take_along_axis(self[corner], idx.astype(np.intp), axis=axis)


def repeat_interleave(self: Tensor, repeats: Any, axis: int | None = None) -> Tensor:
    """Each element `repeats` times along `axis` (of the flattened tensor when None), as
    PyTorch's repeat_interleave: NumPy's `repeat`, under PyTorch's name.

    >>> import autodiff as ad
    >>> ad.tensor([1.0, 2.0]).repeat_interleave(2)
    tensor([1., 1., 2., 2.])
    """
    counts = np.asarray(getattr(repeats, "data", repeats))
    return repeat(self, counts.tolist() if counts.ndim else int(counts), axis=axis)


def chunk(self: Tensor, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """At most `chunks` pieces along `axis`, each ceil(n / chunks) long but the last, as
    PyTorch's chunk (which may return fewer pieces than asked: 6 in 4 gives 3 of 2).

    >>> import autodiff as ad
    >>> [c.shape for c in ad.zeros((6, 2)).chunk(4)]
    [(2, 2), (2, 2), (2, 2)]
    """
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    if self.ndim == 0:
        raise RuntimeError("chunk: expects at least a 1-dimensional tensor")
    axis = normalize_axis("chunk", axis, self.ndim)
    n = self.shape[axis]
    step = -(-n // chunks) if n else 1
    return tuple(split(self, list(range(step, n, step)), axis=axis)) if n else (self,)


def narrow(self: Tensor, axis: int, start: int, length: int) -> Tensor:
    """`length` entries from `start` along `axis` (a view), as PyTorch's narrow.

    >>> import autodiff as ad
    >>> ad.arange(5.0).narrow(0, 1, 3)
    tensor([1., 2., 3.])
    """
    ax = normalize_axis("narrow", axis, self.ndim)
    n = self.shape[ax]
    start = operator.index(start) + (n if operator.index(start) < 0 else 0)
    if not 0 <= start <= n or not 0 <= operator.index(length) <= n - start:
        raise IndexError(f"narrow: start {start} and length {length} do not fit axis {axis} "
                         f"of length {n}")
    return self[(slice(None),) * ax + (slice(start, start + length),)]


def _new(name: str, fill: Callable[[tuple[int, ...], np.dtype], np.ndarray]
         ) -> Callable[..., Tensor]:
    def new(self: Tensor, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        data = fill(_sizes(size), np.dtype(dtype) if dtype is not None else self.dtype)
        return Tensor(data, requires_grad=requires_grad)

    new.__name__ = new.__qualname__ = name
    new.__doc__ = (f"A new tensor of the given size with self's dtype (or `dtype`), not in "
                   f"self's graph, as PyTorch's {name}.\n\n    >>> import autodiff as ad\n"
                   f"    >>> ad.ones(2, dtype='float32').{name}(2, 3).dtype\n"
                   f"    dtype('float32')\n    ")
    return new


def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A new tensor of `size` filled with `fill_value`, self's dtype (or `dtype`), as
    PyTorch's new_full.

    >>> import autodiff as ad
    >>> ad.zeros(1, dtype="int64").new_full((2,), 7)
    tensor([7, 7])
    """
    dt = np.dtype(dtype) if dtype is not None else self.dtype
    return Tensor(np.full(_sizes((size,)), fill_value, dtype=dt), requires_grad=requires_grad)


def new_tensor(self: Tensor, data: Any, *, dtype: Any = None,
               requires_grad: bool = False) -> Tensor:
    """`data` copied into a new tensor with self's dtype (or `dtype`), as PyTorch's new_tensor.

    >>> import autodiff as ad
    >>> ad.zeros(1, dtype="float32").new_tensor([1, 2]).dtype
    dtype('float32')
    """
    dt = np.dtype(dtype) if dtype is not None else self.dtype
    return Tensor(np.array(getattr(data, "data", data), dtype=dt), requires_grad=requires_grad)


def _with_alpha(name: str, op: Callable[[Any, Any], Tensor]) -> Callable[..., Tensor]:
    def method(self: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
        if isinstance(other, Tensor) or isinstance(alpha, Tensor):
            other = mul(other, alpha)
        elif alpha != 1:  # a constant stays one: a weak scalar, exact until it meets self
            other = other * alpha if isinstance(other, int | float) else np.multiply(other,
                                                                                     alpha)
        return op(self, other)

    method.__name__ = method.__qualname__ = name
    method.op = op  # type: ignore[attr-defined]  # docs/make_numpy_page.py lists it under the op
    method.__doc__ = (f"self {'+' if name == 'add' else '-'} alpha * other, as PyTorch's "
                      f"{name}.\n\n    >>> import autodiff as ad\n"
                      f"    >>> ad.tensor([1.0]).{name}(ad.tensor([2.0]), alpha=3)\n"
                      f"    tensor([{7.0 if name == 'add' else -5.0}])\n    ")
    return method


METHODS: dict[str, Callable[..., Any]] = {
    "view": view, "view_as": view_as, "reshape_as": reshape_as, "permute": permute,
    "unsqueeze": unsqueeze, "expand": expand, "expand_as": expand_as,
    "contiguous": contiguous, "t": t, "to": to, "type_as": type_as, "cpu": cpu, "cuda": cuda,
    **{name: _to_dtype(name, dt) for name, dt in DTYPE_METHODS.items()},
    "numel": numel, "dim": dim, "ndimension": dim,
    **{name: _comparison(name, ufunc) for name, ufunc in COMPARISONS.items()},
    "masked_fill": masked_fill, "clamp": clamp,
    "add": _with_alpha("add", add), "sub": _with_alpha("sub", sub), "mul": mul, "div": div,
    "pow": pow, "matmul": matmul,
    "index_select": index_select, "gather": gather, "repeat_interleave": repeat_interleave,
    "chunk": chunk, "narrow": narrow, "new_full": new_full, "new_tensor": new_tensor,
    "new_zeros": _new("new_zeros", np.zeros), "new_ones": _new("new_ones", np.ones),
    "new_empty": _new("new_empty", np.zeros),
}
for _name, _fn in METHODS.items():
    register_method(_name, _fn)


def _device(self: Tensor) -> str:
    """Where the data is: 'cpu'."""
    return "cpu"


register_method("device", property(_device))  # type: ignore[arg-type]

