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
- `add`, `sub`, `mul`, `div`, `pow`, `matmul`: the ops of those names.

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
from autodiff.ops.axes import normalize_axes
from autodiff.ops.elementwise import clip
from autodiff.ops.indexing import where
from autodiff.ops.linalg import matmul
from autodiff.ops.registry import register_method
from autodiff.ops.shape import astype, broadcast_to, expand_dims, reshape, transpose
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


METHODS: dict[str, Callable[..., Any]] = {
    "view": view, "view_as": view_as, "reshape_as": reshape_as, "permute": permute,
    "unsqueeze": unsqueeze, "expand": expand, "expand_as": expand_as,
    "contiguous": contiguous, "t": t, "to": to, "type_as": type_as, "cpu": cpu, "cuda": cuda,
    **{name: _to_dtype(name, dt) for name, dt in DTYPE_METHODS.items()},
    "numel": numel, "dim": dim, "ndimension": dim,
    **{name: _comparison(name, ufunc) for name, ufunc in COMPARISONS.items()},
    "masked_fill": masked_fill, "clamp": clamp,
    "add": add, "sub": sub, "mul": mul, "div": div, "pow": pow, "matmul": matmul,
}
for _name, _fn in METHODS.items():
    register_method(_name, _fn)
register_method("device", property(lambda self: "cpu", doc="Where the data is: 'cpu'."))  # type: ignore[arg-type]

