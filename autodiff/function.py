"""`Function`: the base of every differentiable primitive, built-in or the user's.

A primitive has a forward on NumPy arrays and a backward written in Tensor operations, so
that the backward is itself recorded when asked (`create_graph=True`) and any gradient can be
differentiated again. The instance made for one call is both the `ctx` and the graph node.

>>> import numpy as np
>>> import autodiff as ad
>>> class Cube(ad.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad):
...         (x,) = ctx.saved_tensors
...         return grad * 3 * x ** 2
>>> x = ad.tensor(2.0, requires_grad=True)
>>> y = Cube.apply(x)
>>> y.backward()
>>> x.grad.item()
12.0
"""

from __future__ import annotations

import itertools
import traceback
from typing import Any, ClassVar

import numpy as np

from autodiff.grad_mode import STATE
from autodiff.tensor import Tensor

_sequence = itertools.count()
_FREED = "freed"


class Function:
    """Subclass with static `forward(ctx, *arrays, **options)` and `backward(ctx, grad)`.

    - `forward` gets NumPy arrays for Tensor arguments (other arguments as they were given)
      and returns an array, or a tuple of arrays.
    - `backward` gets one gradient Tensor per output and returns one gradient per positional
      argument of `forward` (a single value when there is one; None where there is none).
      Broadcasting is undone by the engine: a gradient may have the broadcast shape.
    - `ctx.save_for_backward(*arrays)` keeps arrays for backward; `ctx.saved_tensors` gives them
      back as Tensors, connected to the graph when they were the inputs or outputs of the call.
    - `ctx.needs_input_grad[i]` tells whether argument i needs a gradient.
    """

    # What the graph drawing shows; a subclass may set its own.
    name: ClassVar[str] = ""

    # Internal bookkeeping, filled by apply(); user attributes live beside them on the ctx.
    _edges: tuple[Any, ...]
    _shapes: tuple[tuple[int, ...] | None, ...]
    _dtypes: tuple[np.dtype | None, ...]
    _saved: Any
    _n_outputs: int
    _out_meta: tuple[tuple[tuple[int, ...], np.dtype], ...] | None
    _hooks: dict[int, list[Any]] | None
    _seq: int
    _stack: list[traceback.FrameSummary] | None
    needs_input_grad: tuple[bool, ...]

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward(ctx, grad)")

    @classmethod
    def op_name(cls) -> str:
        return cls.name or cls.__name__.lower()

    # -- recording ----------------------------------------------------------------------------

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward (the inputs and outputs of this call stay connected)."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"backward through '{self.op_name()}' a second time: its saved tensors were freed "
                "after the first backward. Call .backward(retain_graph=True) the first time to "
                "keep them."
            )
        out = []
        for kind, value in saved:
            if kind == "t":
                out.append(value)
            elif kind == "o":  # an output: rebuilt on demand, so the node holds no cycle
                t = Tensor._make(value[0], self if STATE.grad_enabled else None, value[1])
                out.append(t)
            else:
                out.append(Tensor._make(value, None, 0))
        return tuple(out)

    def _free(self) -> None:
        if getattr(self, "_saved", None) is not None:
            self._saved = _FREED

    def __repr__(self) -> str:
        return f"<{self.op_name()} backward>"

    # -- the call -----------------------------------------------------------------------------

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the arrays of `args`; record a node when any input requires grad."""
        ctx = cls.__new__(cls)
        ctx._saved = None
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        record = record and STATE.grad_enabled
        out = cls.forward(ctx, *arrays, **kwargs)
        anomaly = STATE.anomaly
        if anomaly:
            _check_forward(cls, out)
        if not record:
            ctx._saved = None
            if type(out) is tuple:
                return tuple(Tensor._make(o, None, 0) for o in out)
            return Tensor._make(out, None, 0)

        # Record the node: one edge per positional argument.
        edges = []
        shapes = []
        dtypes = []
        needs = []
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                fn = a.grad_fn
                edges.append(a if fn is None else (fn, a._index))
                shapes.append(a.data.shape)
                dtypes.append(a.data.dtype)
                needs.append(True)
            else:
                edges.append(None)
                shapes.append(None)
                dtypes.append(None)
                needs.append(False)
        ctx._edges = tuple(edges)
        ctx._shapes = tuple(shapes)
        ctx._dtypes = tuple(dtypes)
        ctx.needs_input_grad = tuple(needs)
        ctx._hooks = None
        ctx._seq = next(_sequence)
        ctx._stack = traceback.extract_stack()[:-2] if anomaly else None

        multi = type(out) is tuple
        outs = out if multi else (out,)
        ctx._n_outputs = len(outs)
        ctx._out_meta = tuple((o.shape, o.dtype) for o in outs) if multi else None
        if ctx._saved is not None:
            ctx._saved = _resolve_saved(ctx._saved, args, arrays, outs)
        if multi:
            return tuple(Tensor._make(o, ctx, i) for i, o in enumerate(outs))
        return Tensor._make(out, ctx, 0)


def _resolve_saved(saved: tuple[Any, ...], args: tuple[Any, ...], arrays: list[Any],
                   outs: tuple[np.ndarray, ...]) -> list[tuple[str, Any]]:
    resolved = []
    for s in saved:
        if isinstance(s, Tensor):
            resolved.append(("t", s))
            continue
        for a, arr in zip(args, arrays):
            if s is arr and isinstance(a, Tensor):
                resolved.append(("t", a))
                break
        else:
            for i, o in enumerate(outs):
                if s is o:
                    resolved.append(("o", (o, i)))
                    break
            else:
                resolved.append(("c", np.asarray(s)))
    return resolved


def _check_forward(cls: type[Function], out: Any) -> None:
    for o in out if type(out) is tuple else (out,):
        if isinstance(o, np.ndarray) and o.dtype.kind in "fc" and not np.isfinite(o).all():
            frame = _user_frame(traceback.extract_stack()[:-3])
            bad = "nan" if np.isnan(o).any() else "inf"
            raise FloatingPointError(
                f"detect_anomaly: '{cls.op_name()}' produced {bad} in forward "
                f"(output shape {o.shape}) at {frame}"
            )


def _user_frame(stack: list[traceback.FrameSummary]) -> str:
    """The innermost frame outside the autodiff package: the user's source line."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    for frame in reversed(stack):
        if not os.path.abspath(frame.filename).startswith(here):
            return f"{frame.filename}:{frame.lineno}: {frame.line}"
    last = stack[-1]
    return f"{last.filename}:{last.lineno}: {last.line}"
