"""Version counters: how many times a tensor's memory was written in place.

Every in-place write through the public API (`t[i] = v`, `+=`, `add_`, `zero_`, ...,
`increment_version` after an optimizer step) bumps the counter of the memory it wrote. The
counter belongs to the memory, not to one Tensor object, so views and `detach()` share it, as
in PyTorch. Writes through `.data` (the raw array) are not seen.

Each write takes a number from the same sequence that numbers graph nodes, so "was this memory
written after that node was made?" is one comparison. A backward that needs a saved array
written after its node was made raises instead of using the new values.

>>> import autodiff as ad
>>> c = ad.tensor([3.0, 4.0])
>>> view = c[:1]
>>> c._version, view._version
(0, 0)
>>> c[0] = 100.0
>>> c._version, view._version
(1, 1)
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

import numpy as np

# One sequence numbers both the graph's nodes (their creation order) and in-place writes.
numbers = itertools.count(1)
# The number of the newest write (0: nothing was ever written in place).
last_write = 0

_RECENT = 64  # writes remembered per memory block, to tell how many came after a node


class _Counter:
    """The writes into one memory block: how many, and the numbers of the recent ones."""

    __slots__ = ("owner", "version", "writes")

    def __init__(self, owner: weakref.ref[np.ndarray]) -> None:
        self.owner = owner
        self.version = 0
        self.writes: list[int] = []


_counters: dict[int, _Counter] = {}  # id(the array that owns the memory) -> its counter
# One write recorded at a time, across threads: taking a number and publishing it as
# last_write is one step (else a slower thread could set last_write back below a newer
# write, and a node made between the two would skip its check), and two first writes into
# one memory make one counter, not two (one of them lost). Reentrant: a weakref callback
# (_forget) may run inside bump when the allocation there triggers a garbage collection.
_lock = threading.RLock()


def memory_owner(a: np.ndarray) -> np.ndarray:
    """The array that owns `a`'s memory (`a` itself unless it is a view)."""
    base = a.base
    while isinstance(base, np.ndarray):
        a = base
        base = a.base
    return a


def _counter(a: np.ndarray) -> _Counter | None:
    owner = memory_owner(a)
    c = _counters.get(id(owner))
    return c if c is not None and c.owner() is owner else None


def bump(a: np.ndarray) -> None:
    """Record one in-place write into `a`'s memory."""
    global last_write
    owner = memory_owner(a)
    key = id(owner)
    with _lock:
        c = _counters.get(key)
        if c is None or c.owner() is not owner:
            c = _counters[key] = _Counter(weakref.ref(owner, lambda _, k=key: _forget(k)))
        number = next(numbers)
        c.version += 1
        c.writes.append(number)
        if len(c.writes) > _RECENT:
            del c.writes[0]
        last_write = number  # last: a reader that sees it sees the write's record


def _forget(key: int) -> None:
    with _lock:  # (never drop a live counter a bump in another thread just put under this id)
        c = _counters.get(key)
        if c is not None and c.owner() is None:
            del _counters[key]


def version(a: np.ndarray) -> int:
    """How many in-place writes `a`'s memory has seen."""
    c = _counter(a)
    return 0 if c is None else c.version


def written_after(a: np.ndarray, number: int) -> tuple[int, int] | None:
    """(version then, version now) if `a`'s memory was written after sequence `number`
    (the creation number of a node); None if it was not."""
    c = _counter(a)
    if c is None or not c.writes or c.writes[-1] < number:
        return None
    later = sum(1 for w in c.writes if w > number)
    return c.version - later, c.version


def increment_version(tensor: Any) -> None:
    """Tell the engine that `tensor`'s memory was written in place behind its back (through
    `.data`, as an optimizer step does), as PyTorch's `torch.autograd.graph.increment_version`:
    a backward that saved the old values then raises instead of using the new ones.

    >>> import autodiff as ad
    >>> w = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> w.data -= 0.5          # a write the engine cannot see
    >>> ad.increment_version(w)
    >>> w._version
    1
    """
    data = getattr(tensor, "data", None)
    if not isinstance(data, np.ndarray):
        raise TypeError(f"increment_version: expected a Tensor, got {type(tensor).__name__}")
    bump(data)
