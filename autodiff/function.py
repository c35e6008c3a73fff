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

import os
import threading
import traceback
from collections.abc import Callable
from operator import is_
from typing import Any, ClassVar

import numpy as np

from autodiff import versions, views
from autodiff.anomaly import current_scope, is_library_file
from autodiff.grad_mode import STATE, SavedPerThread
from autodiff.tensor import Tensor

_FREED = "freed"
_numbers = versions.numbers  # creation numbers (shared with in-place writes)


class Function:
    """Subclass with static `forward(ctx, *arrays, **options)` and `backward(ctx, grad)`.

    - `forward` gets NumPy arrays for Tensor arguments and returns an array, or a tuple of
      arrays. Options (axes, shapes, indices, flags) are keyword-only: `forward(ctx, x, *,
      axis)`, called as `Op.apply(x, axis=1)`.
    - `backward` gets one gradient Tensor per output and returns one gradient per positional
      argument of `forward` (a single value when there is one; None for an input that gets
      no gradient). Each must have the input's dtype and its shape, or a shape the input
      broadcast to (the engine sums it back); anything else raises.
    - `ctx.save_for_backward(*arrays)` keeps arrays for backward; `ctx.saved_tensors` gives them
      back as Tensors, connected to the graph when they were the inputs or outputs of the call.
      What is saved this way is version-checked: if its memory is written in place before the
      backward runs, the backward raises. Arrays kept as `ctx` attributes are not checked, so
      keep only arrays forward made there.
    - `ctx.needs_input_grad[i]` tells whether argument i needs a gradient.

    >>> import autodiff as ad
    >>> class Square(ad.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 2 * x * grad
    >>> x = ad.tensor([3.0], requires_grad=True)
    >>> Square.apply(x).sum().backward()
    >>> x.grad
    tensor([6.])
    """

    # What the graph drawing shows; a subclass may set its own.
    name: ClassVar[str] = ""
    # True when backward uses only what Tensors and NumPy arrays share (operators, .reshape,
    # .astype, .swapaxes, .squeeze, ...): when no graph of the backward is needed
    # (create_graph=False), the engine then passes it arrays, which is faster.
    array_backward: ClassVar[bool] = False

    # Internal bookkeeping, filled by apply(), in slots (a million-node graph is a million of
    # these); user attributes (ctx.mask = ...) go to the instance dict beside them.
    __slots__ = ("__dict__", "_data_inputs", "_edges", "_out_meta", "_saved",
                 "_saved_arrays", "_seq")
    # _edges: one per positional argument of forward: None (no gradient needed), a leaf
    # Tensor, or (node, output index) for a tensor an op made.
    _edges: list[Any]
    # _out_meta: (shape, dtype) of each output.
    _out_meta: tuple[tuple[tuple[int, ...], np.dtype], ...]
    _seq: int  # creation order, from the sequence that also numbers in-place writes
    _saved: Any  # what forward saved (resolved), None, or _FREED
    _saved_arrays: tuple[Any, ...] | None  # the same, as forward saved it (a backward on arrays)
    # Rarely set (a hook on an op's output, anomaly mode), so class defaults, not slots.
    _hooks: dict[int, list[Any]] | None = None
    _stack: list[traceback.FrameSummary] | None = None  # where the op was made (anomaly mode)
    # (argument index, name, shape, dtype) of each Tensor argument that does not require grad
    # (the graph's data inputs, for drawings); metadata only, never the array.
    _data_inputs: list[tuple[int, str | None, tuple[int, ...], np.dtype]] | None
    # True when an output shares the memory of a leaf that requires grad (a view of it, made
    # by getitem, reshape, transpose, ...): writing into it in place would change the leaf.
    _leaf_view: bool = False
    # True on the ops whose output is a pure view of their first input (the same elements,
    # picked by basic indexing, reshape, transpose): the output remembers its base, so
    # in-place writes into either are replayed on the other (autodiff/views.py).
    _view_op: ClassVar[bool] = False
    # True on the engine's own ops (classes of the autodiff package), whose second derivatives
    # the op table checks: when a backward returns a constant gradient for a constant incoming
    # one, the walk asks theirs no second time to see whether it left the graph
    # (_check_recorded in autodiff/backward.py); every other Function's is asked.
    _engine_op: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._engine_op = cls.__module__.partition(".")[0] == "autodiff"

    @property
    def needs_input_grad(self) -> list[bool]:
        """For each positional argument of forward: does it need a gradient?"""
        edges = self._edges
        if len(edges) == 2:  # the binary ops ask on every backward: skip the loop
            return [edges[0] is not None, edges[1] is not None]
        return [e is not None for e in edges]

    @property
    def _n_outputs(self) -> int:
        return len(self._out_meta)

    @property
    def _shapes(self) -> tuple[tuple[int, ...] | None, ...]:
        """The shape of each input that needs a gradient (None for the others)."""
        return tuple(_edge_meta(e)[0] if e is not None else None for e in self._edges)

    @property
    def _dtypes(self) -> tuple[np.dtype | None, ...]:
        return tuple(_edge_meta(e)[1] if e is not None else None for e in self._edges)

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
    def _arrays(self) -> bool:
        """True when this backward gets arrays (a walk without create_graph, in this thread,
        and a backward that works on arrays), False when it gets Tensors."""
        return self.array_backward and STATE.walk_arrays

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        """What forward saved, as Tensors (inputs and outputs connected to the graph)."""
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"backward through '{self.op_name()}' a second time: its saved tensors were freed "
                "after the first backward. Call .backward(retain_graph=True) the first time to "
                "keep them."
            )
        if saved is None:
            return ()
        if self.array_backward and STATE.walk_arrays:
            return self._saved_arrays  # type: ignore[return-value]
        return tuple([s if s is None or isinstance(s, Tensor) else
                      Tensor._make(raw, self if STATE.grad_enabled else None, s.index)
                      if type(s) is _Output else Tensor._make(s, None, 0)
                      for s, raw in zip(saved, self._saved_arrays)])

    def __repr__(self) -> str:
        return f"<{self.op_name()} backward>"

    # -- the call -----------------------------------------------------------------------------

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the arrays of `args`; record a node when any input requires grad."""
        ctx = object.__new__(cls)
        arrays = []
        edges = []
        record = False
        constants = None  # the data inputs: Tensors that do not require grad
        grad_enabled = STATE.grad_enabled  # (a thread-local: each read costs, so read once)
        last_write = versions.last_write if grad_enabled else 0
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a._requires_grad:  # (the slot: the property costs on every op)
                    record = True
                    fn = a.grad_fn
                    if fn is None:
                        edges.append(a)
                    else:
                        if fn._seq < last_write:  # something was written since a was made
                            fn = _check_current(f"'{cls.op_name()}'", a)
                        edges.append((fn, a._index))
                    continue
                if a._base is not None and grad_enabled and views.follow_base(a):
                    record = True  # a constant's view whose base has a graph now
                    edges.append((a.grad_fn, a._index))
                    continue
                if constants is None:
                    constants = []
                constants.append((len(edges), a.name, a.data.shape, a.data.dtype))
            else:
                arrays.append(a)
            edges.append(None)
        ctx._edges = edges
        ctx._saved = None
        out = cls.forward(ctx, *arrays, **kwargs)
        anomaly = STATE.anomaly
        if anomaly:
            _check_forward(cls, out)
        if not (record and grad_enabled):
            if type(out) is tuple:
                return tuple(Tensor._make(o, None, 0) for o in out)
            if grad_enabled and cls._view_op:  # a view of a constant: a write may give the
                return _view_of_constant(out, args[0])  # constant a graph (views.rebase)
            return Tensor._make(out, None, 0)

        # Record the node: its creation number, and what its outputs look like.
        ctx._seq = next(_numbers)
        ctx._data_inputs = constants
        if anomaly:
            ctx._stack = _made_here(1)
        if _observing and STATE.observer is not None:  # (a global first: cheaper)
            STATE.observer(ctx, args, kwargs)
        saved = ctx._saved
        if type(out) is tuple:
            ctx._out_meta = tuple((o.shape, o.dtype) for o in out)
            if any(_may_view(o, arrays) for o in out):
                _mark_leaf_view(ctx, out, args)
            if saved is not None:
                ctx._saved_arrays = saved
                ctx._saved = _resolve_saved(saved, args, arrays, out)
            return tuple(Tensor._make(o, ctx, i) for i, o in enumerate(out))
        ctx._out_meta = ((out.shape, out.dtype),)
        if saved is not None:
            ctx._saved_arrays = saved
            ctx._saved = _resolve_saved(saved, args, arrays, (out,))
        if type(out) is np.ndarray:  # (_may_view inlined: it runs for every recorded op)
            if out.base is not None:  # a view: of a leaf's memory? (a new array has no base)
                return _view(ctx, out, args)
            for a in arrays:  # or an input array itself, returned as it was
                if a is out:
                    return _view(ctx, out, args)
        return Tensor._make(out, ctx, 0)


def _view(ctx: Function, out: np.ndarray, args: tuple[Any, ...]) -> Tensor:
    """The output Tensor of a recorded op whose output may share an input's memory."""
    _mark_leaf_view(ctx, (out,), args)
    t = Tensor._make(out, ctx, 0)
    if ctx._view_op:
        t._base = views.base_of(out, args[0])
    return t


def _view_of_constant(out: Any, arg: Any) -> Tensor:
    """The output of a view op that did not record (grad mode on, nothing required grad)."""
    t = Tensor._make(out, None, 0)
    if isinstance(arg, Tensor) and type(out) is np.ndarray:
        t._base = views.base_of(out, arg)
    return t


def _may_view(out: Any, arrays: list[Any]) -> bool:
    """Can `out` share an input's memory (a view of it, or the input array itself)?"""
    if type(out) is not np.ndarray:
        return False
    if out.base is not None:
        return True
    for a in arrays:  # noqa: SIM110 (any() over a generator or map costs more)
        if a is out:
            return True
    return False


def _mark_leaf_view(ctx: Function, outs: tuple[Any, ...], args: tuple[Any, ...]) -> None:
    """Mark the node when an output shares the memory of a leaf that requires grad, directly
    or through views of views (so that an in-place write into it is refused, as PyTorch's)."""
    owners = {id(versions.memory_owner(o)) for o in outs if type(o) is np.ndarray}
    for a in args:
        if (isinstance(a, Tensor) and a.requires_grad
                and (a.grad_fn is None or a.grad_fn._leaf_view)
                and id(versions.memory_owner(a.data)) in owners):
            ctx._leaf_view = True
            return


class observe_ops:
    """Inside the block, `callback(node, args, kwargs)` is called for every op this thread
    records, with the arguments of its `apply`: what the graph itself does not keep (the
    values of constant inputs, the keyword options). For tools that read a whole graph, such
    as an exporter; the innermost block's callback is the one called.

    >>> import autodiff as ad
    >>> seen = []
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.observe_ops(lambda node, args, kwargs: seen.append((node.op_name(), kwargs))):
    ...     y = (x * 3.0).sum()
    >>> seen
    [('mul', {}), ('sum', {'axes': (0,), 'keepdims': False})]
    """

    def __init__(self, callback: Callable[[Function, tuple[Any, ...], dict[str, Any]], None]
                 ) -> None:
        self.callback = callback
        self.prev = SavedPerThread()  # the callbacks before, per thread

    def __enter__(self) -> observe_ops:
        global _observing
        with _observing_lock:
            _observing += 1
        self.prev.push(STATE.observer)
        STATE.observer = self.callback
        return self

    def __exit__(self, *exc: object) -> None:
        global _observing
        STATE.observer = self.prev.pop_saved()
        with _observing_lock:
            _observing -= 1


# How many observe_ops blocks are open, in any thread: apply reads this global before the
# thread-local observer (a thread-local attribute costs several times a global's read).
_observing = 0
_observing_lock = threading.Lock()


def _check_current(who: str, a: Tensor) -> Function:
    """The node of `a`, called when something was written in place after it was made: `a`'s
    own node if its memory was not written; a view's node replayed on its base's current
    value if it was (autodiff/views.py). Refuses a tensor whose graph no longer describes its
    values and cannot be replayed (written under no_grad, or memory shared another way)."""
    moved = versions.written_after(a.data, a.grad_fn._seq)
    if moved is not None and not views.replay(a):
        raise RuntimeError(
            f"{who} got a tensor of shape {a.shape} made by "
            f"'{a.grad_fn.op_name()}' whose memory was modified in place after it was made "
            f"(version {moved[0]} -> {moved[1]}; it shares memory with the tensor that was "
            "written, or was written under no_grad()), so its graph no longer describes its "
            "values. Use the tensor the in-place op wrote, or .clone() before writing.")
    return a.grad_fn


def check_saved(node: Function) -> None:
    """Raise if an array `node` saved for backward was written in place after `node` was
    made (called by the walk when something was written since)."""
    for arr in node._saved_arrays or ():
        if type(arr) is np.ndarray:
            moved = versions.written_after(arr, node._seq)
            if moved is not None:
                where = (f"the op was created at {_user_frame(node._stack)}" if node._stack else
                         "run under autodiff.detect_anomaly() to see the line that made the op")
                raise RuntimeError(
                    f"one of the tensors needed by the backward of '{node.op_name()}' (shape "
                    f"{arr.shape}) was modified in place after it was saved (version "
                    f"{moved[0]} -> {moved[1]}); {where}. Write into a copy (.clone()) instead, "
                    "or compute the backward before writing.")


def _edge_meta(e: Any) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of the tensor an edge points at."""
    if type(e) is tuple:
        return e[0]._out_meta[e[1]]
    return e.data.shape, e.data.dtype


class _Output:
    """Marks a saved output by its index (the array is at the same place in
    `_saved_arrays`); rebuilt as a Tensor on demand, so a node never holds its own output
    Tensor (no reference cycle). One marker per index, shared by every node."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_OUTPUTS = [_Output(i) for i in range(4)]
_SAVED_OUTPUT = (_OUTPUTS[0],)


def _output(i: int) -> _Output:
    while i >= len(_OUTPUTS):
        _OUTPUTS.append(_Output(len(_OUTPUTS)))
    return _OUTPUTS[i]


def _resolve_saved(saved: tuple[Any, ...], args: tuple[Any, ...], arrays: list[Any],
                   outs: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    """Saved arrays that are this call's input tensors become those Tensors (so a second
    backward reaches them); outputs become `_Output`s; anything else stays a raw constant."""
    n = len(saved)
    if n <= len(arrays) and all(map(is_, saved, arrays)):  # the inputs, in order: most ops
        return args if n == len(args) else args[:n]
    if n == 1 and saved[0] is outs[0]:  # the output alone (tanh, exp, ...)
        return _SAVED_OUTPUT
    if n == 2 == len(arrays):  # a binary op that needs one of its inputs alone (mul, div)
        if saved[0] is None and saved[1] is arrays[1]:
            return None, args[1]
        if saved[1] is None and saved[0] is arrays[0]:
            return args[0], None
    resolved = []
    for s in saved:
        for arr, a in zip(arrays, args):
            if s is arr:
                resolved.append(a)
                break
        else:
            for i, o in enumerate(outs):
                if s is o:
                    resolved.append(_output(i))
                    break
            else:
                resolved.append(s)
    return tuple(resolved)


def _check_forward(cls: type[Function], out: Any) -> None:
    for o in out if type(out) is tuple else (out,):
        if isinstance(o, np.ndarray) and o.dtype.kind in "fc" and not np.isfinite(o).all():
            frame = _user_frame(_made_here(2))
            bad = "nan" if np.isnan(o).any() else "inf"
            raise FloatingPointError(
                f"detect_anomaly: '{cls.op_name()}' produced {bad} in forward "
                f"(output shape {o.shape}) at {frame}"
            )


class _Stack(list[traceback.FrameSummary]):
    """The frames where an op was made (anomaly mode), and the anomaly scope it ran in."""

    scope: str | None = None


def _made_here(skip: int) -> _Stack:
    """The current stack without this call and the `skip` innermost frames, and the scope."""
    stack = _Stack(traceback.extract_stack()[:-1 - skip])
    stack.scope = current_scope()
    return stack


_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_frame(stack: list[traceback.FrameSummary]) -> str:
    """Where the user's code made an op: the innermost frame outside library code (autodiff,
    the packages given to `register_library`, Python's frozen modules), and the anomaly scope
    it ran in. When all of it is library code (a library's own script, run with -m), the
    innermost frame outside autodiff."""
    frame = next((f for f in reversed(stack) if not is_library_file(f.filename)), None)
    if frame is None:
        frame = next((f for f in reversed(stack)
                      if not os.path.abspath(f.filename).startswith(_HERE)), stack[-1])
    where = f"{frame.filename}:{frame.lineno}: {frame.line}"
    scope = getattr(stack, "scope", None)
    return f"{where} [in {scope}]" if scope else where
