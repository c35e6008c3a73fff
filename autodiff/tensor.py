"""`Tensor`: a NumPy array that records the operations applied to it.

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autodiff import dtypes
from autodiff.grad_mode import STATE

Axis = int | Sequence[int] | None


class Tensor:
    """An n-dimensional array with a gradient and the graph node that made it.

    - `data`: the NumPy array; `grad`: a Tensor after backward (leaves), or None;
    - `requires_grad`: whether operations on it are recorded;
    - `grad_fn`: the node (a `Function` instance) that made it; None for leaves;
    - `name`: an optional label (used by error messages and graph drawings).

    >>> import autodiff as ad
    >>> x = ad.Tensor([1.0, 2.0], requires_grad=True, name='x')
    >>> x.shape, x.dtype, x.requires_grad
    ((2,), dtype('float32'), True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    __slots__ = ("__weakref__", "_base", "_grad", "_hooks", "_index", "_requires_grad", "_retain",
                 "data", "grad_fn", "name")

    # NumPy defers binary operators (ndarray + Tensor) to the Tensor.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        arr = dtypes.as_data(data, dtype)
        self.data: np.ndarray = arr
        self._grad: Tensor | None = None
        self._base: Tensor | None = None  # the tensor a view shows (autodiff/views.py)
        self.grad_fn: Any = None
        self._index = 0
        self._hooks: list[Callable[[Tensor], Tensor | None]] | None = None
        self._retain = False
        self.name = name
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: Any, grad_fn: Any, index: int) -> Tensor:
        """Wrap an op's output array without copying (internal; the engine's fast path)."""
        t = object.__new__(Tensor)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = None
        t._base = None
        t.grad_fn = grad_fn
        t._index = index
        t._hooks = None
        t._retain = False
        t.name = None
        t._requires_grad = grad_fn is not None
        return t

    # -- array facts ----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters, constants)."""
        return self.grad_fn is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def item(self) -> float | int | bool:
        """The single value as a Python number (typed as PyTorch's `Tensor.item`)."""
        if self.data.size != 1:
            raise ValueError(f"item(): the tensor has {self.data.size} elements, not 1 "
                             f"(shape {self.shape})")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied). A tensor that requires grad must be
        detached first (`t.detach().numpy()`), as in PyTorch: the array has no graph.

        >>> import autodiff as ad
        >>> ad.tensor([1.0, 2.0], requires_grad=True).detach().numpy()
        array([1., 2.], dtype=float32)
        """
        _refuse_to_drop_the_graph(self, "numpy()")
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        _refuse_to_drop_the_graph(self, "np.asarray / np.array")
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_interop.array_function(func, types, args, kwargs)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.data.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()")
        return bool(self.data.item())

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = []
        if self.data.dtype != dtypes.get_default_dtype() and not (
                self.data.dtype.kind in "iu" and self.data.dtype == np.int64):
            extra.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.op_name()}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return f"tensor({body}{', ' if extra else ''}{', '.join(extra)})"

    # -- gradient bookkeeping ---------------------------------------------------------------

    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated here (leaves, and tensors that retain_grad()), or
        None. Assigning checks, as PyTorch: None, or a Tensor of this tensor's shape and dtype
        (a wrong shape would broadcast silently in the next accumulation).

        >>> import autodiff as ad
        >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> x.grad = ad.zeros(2)
        >>> x.grad = ad.zeros(3)
        Traceback (most recent call last):
        ...
        RuntimeError: assigning .grad: a gradient of shape (3,) to a tensor of shape (2,)...
        """
        return self._grad

    @grad.setter
    def grad(self, grad: Tensor | None) -> None:
        if grad is not None:
            if not isinstance(grad, Tensor):
                raise TypeError(f"assigning .grad: expected a Tensor or None, got "
                                f"{type(grad).__name__}")
            if grad.data.shape != self.data.shape:
                raise RuntimeError(f"assigning .grad: a gradient of shape {grad.shape} to a "
                                   f"tensor of shape {self.shape} (they must match)")
            if grad.data.dtype != self.data.dtype:
                raise RuntimeError(f"assigning .grad: a gradient of dtype {grad.dtype} to a "
                                   f"tensor of dtype {self.dtype} (they must match)")
        self._grad = grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Ask for (or stop asking for) a gradient of this leaf; returns self."""
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating tensors can require grad; this tensor has dtype "
                f"{self.data.dtype} (convert it first, e.g. t.astype('float32'))")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use detach()")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded. Assigning it is `requires_grad_`:
        checked (floating leaves only; a non-leaf cannot stop), as PyTorch's.

        >>> import autodiff as ad
        >>> x = ad.tensor([1.0, 2.0])
        >>> x.requires_grad = True
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
        """
        if not self._requires_grad and self._base is not None and STATE.grad_enabled:
            from autodiff import views  # (views imports this module)
            views.follow_base(self)  # a constant's view whose base has a graph now
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, requires no grad)."""
        return Tensor._make(self.data, None, 0)

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self.grad_fn is not None and not self._retain:
            self._retain = True
            ref = weakref.ref(self)

            def keep(grad: Tensor) -> None:
                t = ref()
                if t is not None:
                    with backward_mod.GRAD_LOCK:  # (backward calls in other threads add too)
                        if t.grad is None:  # a copy unless recorded: the array flows on
                            t.grad = grad if grad.requires_grad else Tensor._make(
                                grad.data.copy(), None, 0)
                        else:
                            t.grad = t.grad + grad
            keep.retains_grad = True  # type: ignore[attr-defined]  # skipped by the transforms
            _node_hooks(self).append(keep)
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Hooks run in the order they were registered, and before the
        gradient `retain_grad()` keeps (as in PyTorch). Returns a handle whose `remove()`
        removes the hook (calling the handle does too).

        >>> import autodiff as ad
        >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * 3).sum().backward()
        >>> x.grad
        tensor([30., 30.])
        >>> handle.remove()
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad")
        hooks = _node_hooks(self) if self.grad_fn is not None else self._leaf_hooks()
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _leaf_hooks(self) -> list[Callable[[Tensor], Tensor | None]]:
        if self._hooks is None:
            self._hooks = []
        return self._hooks

    def backward(self, grad: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` that requires grad.

        A scalar seeds 1; a non-scalar needs `grad` (the vector of a vector-Jacobian product).
        The graph's saved tensors are freed unless `retain_graph=True`; with
        `create_graph=True` the backward is recorded too, so gradients can be differentiated.
        """
        backward_mod.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        self.grad = None

    # -- operators: + - * / ** @ (and reflected), unary -, +, abs(), t[i] are the ops the
    # registry installs below (autodiff/ops/registry.py); comparisons carry no gradient.

    if TYPE_CHECKING:  # what type checkers see of the methods and operators installed below
        def __add__(self, other: Any) -> Tensor: ...
        def __radd__(self, other: Any) -> Tensor: ...
        def __sub__(self, other: Any) -> Tensor: ...
        def __rsub__(self, other: Any) -> Tensor: ...
        def __mul__(self, other: Any) -> Tensor: ...
        def __rmul__(self, other: Any) -> Tensor: ...
        def __truediv__(self, other: Any) -> Tensor: ...
        def __rtruediv__(self, other: Any) -> Tensor: ...
        def __pow__(self, other: Any) -> Tensor: ...
        def __rpow__(self, other: Any) -> Tensor: ...
        def __matmul__(self, other: Any) -> Tensor: ...
        def __rmatmul__(self, other: Any) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pos__(self) -> Tensor: ...
        def __abs__(self) -> Tensor: ...
        def __getitem__(self, index: Any) -> Tensor: ...
        def __mod__(self, other: Any) -> Tensor: ...
        def __rmod__(self, other: Any) -> Tensor: ...
        def __floordiv__(self, other: Any) -> Tensor: ...
        def __rfloordiv__(self, other: Any) -> Tensor: ...
        def __divmod__(self, other: Any) -> tuple[Tensor, Tensor]: ...
        def __rdivmod__(self, other: Any) -> tuple[Tensor, Tensor]: ...
        @property
        def real(self) -> Tensor: ...
        @property
        def imag(self) -> Tensor: ...
        @property
        def device(self) -> str: ...
        def numel(self) -> int: ...  # PyTorch's names (autodiff/ops/pytorch_methods.py)
        def dim(self) -> int: ...
        def ndimension(self) -> int: ...
        def chunk(self, chunks: int, axis: int = 0) -> tuple[Tensor, ...]: ...
        def __getattr__(self, name: str) -> Callable[..., Tensor]: ...  # t.sum(), t.exp()

    # -- in-place writes (autodiff/inplace.py): the same tensor and memory, version bumped ---

    def __setitem__(self, index: Any, value: Any) -> None:
        inplace.setitem(self, index, value)

    def __iadd__(self, other: Any) -> Tensor:
        return inplace.binary(self, "add_", other)

    def __isub__(self, other: Any) -> Tensor:
        return inplace.binary(self, "sub_", other)

    def __imul__(self, other: Any) -> Tensor:
        return inplace.binary(self, "mul_", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return inplace.binary(self, "div_", other)

    def __ipow__(self, other: Any) -> Tensor:
        return inplace.binary(self, "pow_", other)

    def __imatmul__(self, other: Any) -> Tensor:
        return inplace.binary(self, "matmul_", other)

    def __imod__(self, other: Any) -> Tensor:
        return inplace.binary(self, "remainder_", other)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return inplace.binary(self, "floor_divide_", other)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place (PyTorch's add_).

        >>> import autodiff as ad
        >>> ad.tensor([1.0, 2.0]).add_(ad.ones(2), alpha=10)
        tensor([11., 12.])
        """
        return inplace.binary(self, "add_", other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place."""
        return inplace.binary(self, "sub_", other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place."""
        return inplace.binary(self, "mul_", other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place."""
        return inplace.binary(self, "div_", other)

    def neg_(self) -> Tensor:
        """self = -self, in place."""
        return inplace.neg_(self)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """Limit to [min, max] in place (PyTorch's clamp_; either bound may be None)."""
        return inplace.clamp_(self, min, max)

    def fill_(self, value: Any) -> Tensor:
        """Every element = value, in place."""
        return inplace.fill_(self, value)

    def zero_(self) -> Tensor:
        """Every element = 0, in place.

        >>> import autodiff as ad
        >>> t = ad.ones(2)
        >>> t.zero_() is t, t.tolist(), t._version
        (True, [0.0, 0.0], 1)
        """
        return inplace.fill_(self, 0)

    def copy_(self, src: Any) -> Tensor:
        """self = src (broadcast to self's shape, cast to its dtype), in place."""
        return inplace.copy_(self, src)

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has seen (shared with its views)."""
        return versions.version(self.data)

    # Comparisons: no gradient, a boolean tensor (like NumPy).
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return arith.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return arith.compare(np.not_equal, self, other)

    def __lt__(self, other: Any) -> Tensor:
        return arith.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return arith.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return arith.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return arith.compare(np.greater_equal, self, other)

    def __invert__(self) -> Tensor:
        return Tensor._make(np.invert(self.data), None, 0)

    def __and__(self, other: Any) -> Tensor:
        return arith.compare(np.logical_and, self, other)

    def __or__(self, other: Any) -> Tensor:
        return arith.compare(np.logical_or, self, other)

    # -- methods: the ops' own (t.sum(), t.exp(), t.reshape(2, 3), ...) are installed from
    # the op registry below; these give facts about the values and carry no gradient.

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axis = None if axis is None else normalize_axes("any", axis, self.ndim)
        return Tensor._make(np.any(self.data, axis=axis, keepdims=keepdims), None, 0)

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axis = None if axis is None else normalize_axes("all", axis, self.ndim)
        return Tensor._make(np.all(self.data, axis=axis, keepdims=keepdims), None, 0)

    @property
    def T(self) -> Tensor:
        """The axes reversed (a differentiable view)."""
        return shape_ops.transpose(self, None)


class RemovableHandle:
    """What `Tensor.register_hook` returns: `remove()` takes the hook out (a second call does
    nothing), as PyTorch's handle; calling the handle itself removes it too.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0], requires_grad=True)
    >>> handle = x.register_hook(lambda g: g * 10)
    >>> handle.remove()
    >>> (x * 3).sum().backward()
    >>> x.grad
    tensor([3.])
    """

    __slots__ = ("hook", "hooks")

    def __init__(self, hooks: list[Callable[[Tensor], Tensor | None]],
                 hook: Callable[[Tensor], Tensor | None]) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if any(h is self.hook for h in self.hooks):
            self.hooks.remove(self.hook)

    __call__ = remove


def _refuse_to_drop_the_graph(t: Tensor, how: str) -> None:
    """A tensor that requires grad becomes a plain array only on purpose, never silently."""
    if t.requires_grad and STATE.grad_enabled:
        raise RuntimeError(
            f"{how}: a tensor that requires grad (shape {t.shape}) cannot become a NumPy array: "
            "its graph, and so its gradient, would be dropped silently. To leave the graph on "
            "purpose use t.detach() (t.detach().numpy(), np.asarray(t.detach())); to keep it, "
            "use the engine's functions (ad.stack([x, y]) for a list of tensors, ad.mean, "
            "np.mean(t) on the tensor itself, ...).")


def _node_hooks(t: Tensor) -> list[Callable[[Tensor], Tensor | None]]:
    node = t.grad_fn
    if node._hooks is None:
        node._hooks = {}
    return node._hooks.setdefault(t._index, [])


# The one import cycle of the package, resolved here: the ops build Tensors, so their modules
# load after the class exists. Then each method and operator the op registry holds is set on
# the class, once: the registry is the one list (autodiff/ops/registry.py).
from autodiff import backward as backward_mod  # noqa: E402
from autodiff import inplace, numpy_interop, versions  # noqa: E402
from autodiff.ops import arith, registry  # noqa: E402  (autodiff.ops loads every op module)
from autodiff.ops import shape as shape_ops  # noqa: E402
from autodiff.ops.axes import normalize_axes  # noqa: E402

_OWN = set(vars(Tensor))  # what the class defines itself: never replaced by a method


def _install(name: str, fn: Callable[..., Any]) -> None:
    if name in _OWN:
        raise ValueError(f"register: Tensor already has its own '{name}'")
    setattr(Tensor, name, fn)


registry.install_methods(_install)
