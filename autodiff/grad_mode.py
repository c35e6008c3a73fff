"""Grad mode: whether operations are recorded into the graph (thread-local).

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0], requires_grad=True)
>>> with ad.no_grad():
...     y = x * 2
>>> y.requires_grad
False
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.observer: Callable[..., Any] | None = None  # autodiff.observe_ops
        # True while this thread's backward walk carries arrays (no create_graph): then the
        # nodes whose backward works on arrays get arrays from ctx.saved_tensors. Per thread,
        # not per node: two threads may walk one graph at once, one with create_graph.
        self.walk_arrays = False


STATE = _State()


class SavedPerThread(dict[int, list[Any]]):
    """What the open blocks of one context-manager object replaced, a stack per thread (thread
    id -> stack): one object may be entered again inside its own block, and by several threads
    at once (a module-level `inference = no_grad()`), each of which gets its own state back at
    the end of its block. Empty when no block is open.

    >>> from autodiff.grad_mode import SavedPerThread
    >>> saved = SavedPerThread()
    >>> saved.push("outer"); saved.push("inner")
    >>> saved.pop_saved(), saved.pop_saved(), saved
    ('inner', 'outer', {})
    """

    def push(self, value: Any) -> None:
        self.setdefault(threading.get_ident(), []).append(value)

    def pop_saved(self) -> Any:
        """The value this thread's innermost open block saved (its block ends)."""
        ident = threading.get_ident()
        stack = self[ident]
        value = stack.pop()
        if not stack:
            del self[ident]
        return value


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded (the default).

    >>> import autodiff as ad
    >>> ad.is_grad_enabled()
    True
    >>> with ad.no_grad():
    ...     print(ad.is_grad_enabled())
    False
    """
    return STATE.grad_enabled


class _GradMode:
    """Recording set to `mode` inside a block (the mode before it comes back at its end,
    whatever the block raised), or around each call of a decorated function."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = SavedPerThread()  # the modes before, per thread

    def __enter__(self) -> None:
        self.prev.push(STATE.grad_enabled)
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.prev.pop_saved()

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class set_grad_enabled(_GradMode):
    """Turn recording on or off in this thread, as PyTorch's: at once when called as a
    statement; for a block as a context manager (the mode from before the call comes back at
    its end); around each call as a decorator (then the call itself changes nothing).

    >>> import autodiff as ad
    >>> with ad.set_grad_enabled(False):
    ...     ad.is_grad_enabled()
    False
    >>> ad.is_grad_enabled()
    True
    >>> _ = ad.set_grad_enabled(False)  # a statement: from here on
    >>> ad.is_grad_enabled()
    False
    >>> _ = ad.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.before: bool | None = STATE.grad_enabled  # given back by the first block's end
        STATE.grad_enabled = self.mode

    def __enter__(self) -> None:
        if self.before is None:  # entered again: as any block
            super().__enter__()
            return
        self.prev.push(self.before)
        self.before = None
        STATE.grad_enabled = self.mode

    def __call__(self, fn: F) -> F:
        if self.before is not None:  # a decorator: the call changes nothing by itself
            STATE.grad_enabled, self.before = self.before, None
        return super().__call__(fn)


class no_grad(_GradMode):
    """Record nothing inside (inference, optimizer updates); usable as a decorator.

    >>> import autodiff as ad
    >>> @ad.no_grad()
    ... def double(t):
    ...     return t * 2
    >>> double(ad.ones(2, requires_grad=True)).requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_GradMode):
    """Record again inside a `no_grad` block; usable as a decorator.

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0], requires_grad=True)
    >>> with ad.no_grad():
    ...     with ad.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """

    def __init__(self) -> None:
        super().__init__(True)
