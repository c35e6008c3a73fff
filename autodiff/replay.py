"""Side effects that happen once when a function runs again: `replayed(compute)`.

Two transforms call a function more than once for one call of the user's: checkpoint
recomputes it in the backward, and vmap calls it once per sample. A side effect in it (a
buffer written, as spectral_norm's power iteration writes `u` and `v`) must happen once, as
in the plain call (and in torch.func.vmap, which calls the function once), and every run
must see the value the first one got. `replayed(compute)` is `compute()` on a first run and
that value again on the runs after it, matched by call order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["Frame", "replayed", "running"]

# .stack: the Frames running on this thread, outermost first.
_RUNS = threading.local()

T = TypeVar("T")


class Frame:
    """A function running under a transform: its first run (`again` False: `replayed` values
    are appended to `memo`) or a run after it (`again` True: they are read back from `memo`,
    in order)."""

    def __init__(self, memo: list[Any], again: bool) -> None:
        self.memo = memo
        self.again = again
        self.cursor = 0


@contextmanager
def running(frame: Frame) -> Iterator[None]:
    stack = getattr(_RUNS, "stack", None)
    if stack is None:
        stack = _RUNS.stack = []
    stack.append(frame)
    try:
        yield
    finally:
        stack.pop()


def replayed(compute: Callable[[], T]) -> T:
    """`compute()`, except in a run after the first of a function that a transform calls
    again: a checkpointed function recomputed in the backward, the samples after the first
    under `vmap`. There it is the value `compute()` gave at the same place (by call order) of
    the first run, and `compute` is not called. Outside them it is `compute()`. For a side
    effect that must happen once, and whose result every run must see unchanged:
    spectral_norm's power iteration writes its buffers and returns the vectors sigma is
    computed from.

    >>> import autodiff as ad
    >>> calls = []
    >>> def step():
    ...     calls.append(1)
    ...     return float(len(calls))
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> y = ad.checkpoint.checkpoint(lambda t: t * ad.checkpoint.replayed(step), x)
    >>> y.sum().backward()  # the recomputation reads 1.0 back: step ran once
    >>> len(calls), x.grad.tolist()
    (1, [1.0, 1.0])
    """
    stack = getattr(_RUNS, "stack", None) or []
    source = next((f for f in stack if f.again), None)  # the outermost recomputation
    if source is None:
        value = compute()
    else:
        if source.cursor >= len(source.memo):
            raise RuntimeError(
                f"replayed({getattr(compute, '__qualname__', type(compute).__name__)}) was "
                f"called {source.cursor + 1} times in a run of a function that a transform "
                f"(checkpoint, vmap) runs again, but only {len(source.memo)} times in its "
                "first run: the runs must do the same thing")
        value = source.memo[source.cursor]
        source.cursor += 1
    for f in stack:
        if not f.again:
            f.memo.append(value)
    return value
