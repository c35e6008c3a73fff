"""Which op belongs to which layer: `trace(model)` records each submodule's forward.

Inside `with trace(model):`, every submodule's `forward` is wrapped (on the instance, undone
on exit) to note the range of graph nodes created while it ran and its input and output
shapes. Without a trace, `draw(..., model=model)` still groups an op with the module whose
parameter it consumes.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from autodiff import versions
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


class trace:
    """Record the layers of `model` during the forward passes run inside the block.

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
        self._wrapped: list[tuple[Any, Any]] = []

    def __enter__(self) -> trace:
        records: list[ModuleRecord] = []
        _TRACES[self.model] = records
        for path, m in self.model.named_modules():
            if not path:
                continue
            original = m.__dict__.get("forward")
            bound = m.forward

            def wrapped(*args: Any, _bound: Any = bound, _path: str = path, _m: Any = m,
                        **kwargs: Any) -> Any:
                rec = ModuleRecord(_path, type(_m).__name__, _tick(), -1, _shapes(args))
                out = _bound(*args, **kwargs)
                rec.end = _tick()
                rec.out_shapes = _shapes(out)
                records.append(rec)
                return out

            object.__setattr__(m, "forward", wrapped)
            self._wrapped.append((m, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for m, original in self._wrapped:
            if original is None:
                object.__delattr__(m, "forward")
            else:
                object.__setattr__(m, "forward", original)
        self._wrapped.clear()

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
