"""Which op belongs to which layer: `trace(model)` records each submodule's forward.

Inside `with trace(model):`, every submodule's `forward` is wrapped (on the instance, undone
on exit) to note the range of graph nodes created while it ran and its input and output
shapes. Without a trace, `draw(..., model=model)` still groups an op with the module whose
parameter it consumes.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

from autodiff import versions
from autodiff.grad_mode import SavedPerThread
from autodiff.tensor import Tensor


@dataclass
class ModuleRecord:
    path: str
    type: str
    start: int
    end: int
    in_shapes: list[tuple[int, ...]] = field(default_factory=list)
    out_shapes: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1 if self.path else 0


_TRACES: weakref.WeakKeyDictionary[Any, list[ModuleRecord]] = weakref.WeakKeyDictionary()


def _tick() -> int:
    return next(versions.numbers)


def _shapes(values: Any) -> list[tuple[int, ...]]:
    items = values if isinstance(values, tuple | list) else (values,)
    return [v.shape for v in items if isinstance(v, Tensor)]


class _Wrapped:
    """A submodule whose forward is wrapped while traces are open: its own `forward`
    attribute before (None: the class's) and the open traces' (thread id, records, path)."""

    __slots__ = ("module", "original", "sinks")

    def __init__(self, module: Any, original: Any) -> None:
        self.module, self.original = module, original
        self.sinks: list[tuple[int, list[ModuleRecord], str]] = []


# id(module) -> its wrapping, while any trace of a model that holds it is open (in any
# thread): one wrapper per module, undone when the last trace through it ends, whatever the
# order the traces end in.
_OPEN: dict[int, _Wrapped] = {}
_OPEN_LOCK = threading.Lock()


def _wrap(m: Any) -> _Wrapped:
    bound = m.forward
    w = _Wrapped(m, m.__dict__.get("forward"))
    kind = type(m).__name__

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        start, in_shapes = _tick(), _shapes(args)
        out = bound(*args, **kwargs)
        end, out_shapes = _tick(), _shapes(out)
        me = threading.get_ident()
        for ident, records, path in tuple(w.sinks):
            if ident == me:
                records.append(ModuleRecord(path, kind, start, end, in_shapes, out_shapes))
        return out

    object.__setattr__(m, "forward", wrapped)
    return w


class trace:
    """Record the layers of `model` during the forward passes run inside the block, in this
    thread (a forward another thread runs meanwhile is not recorded). The submodules' forward
    is wrapped while any trace through them is open, and unwrapped when the last one ends.

    >>> import autodiff as ad
    >>> from autodiff import viz
    >>> class Double:
    ...     def named_modules(self):
    ...         return [("", self)]
    ...     def forward(self, x):
    ...         return x * 2
    >>> m = Double()
    >>> with viz.trace(m):
    ...     y = m.forward(ad.ones(2, requires_grad=True))
    >>> len(viz.trace.records(m))
    0
    """

    def __init__(self, model: Any) -> None:
        if not hasattr(model, "named_modules"):
            raise TypeError("viz.trace: the model must have named_modules() (an nn.Module)")
        self.model = model
        self._open = SavedPerThread()  # per thread, each open block's sinks

    def __enter__(self) -> trace:
        records: list[ModuleRecord] = []
        _TRACES[self.model] = records
        sinks = []
        with _OPEN_LOCK:
            for path, m in self.model.named_modules():
                if not path:
                    continue
                w = _OPEN.get(id(m))
                if w is None:
                    w = _OPEN[id(m)] = _wrap(m)
                sink = (threading.get_ident(), records, path)
                w.sinks.append(sink)
                sinks.append((w, sink))
            self._open.push(sinks)
        return self

    def __exit__(self, *exc: object) -> None:
        with _OPEN_LOCK:
            for w, sink in self._open.pop_saved():
                w.sinks[:] = [s for s in w.sinks if s is not sink]  # (not ==: lists)
                if not w.sinks:
                    del _OPEN[id(w.module)]
                    if w.original is None:
                        object.__delattr__(w.module, "forward")
                    else:
                        object.__setattr__(w.module, "forward", w.original)

    @staticmethod
    def records(model: Any) -> list[ModuleRecord]:
        """The module records of the last trace of `model` (empty if none)."""
        try:
            return list(_TRACES.get(model, []))
        except TypeError:  # not weak-referenceable
            return []


def module_of(seq: int, records: list[ModuleRecord]) -> ModuleRecord | None:
    """The innermost module whose forward was running when node `seq` was created."""
    best = None
    for r in records:
        if r.start < seq < r.end and (best is None or r.end - r.start < best.end - best.start):
            best = r
    return best
