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


STATE = _State()


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


class set_grad_enabled:
    """Turn recording on or off in this thread; a context manager and a decorator.

    >>> import autodiff as ad
    >>> with ad.set_grad_enabled(False):
    ...     ad.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(STATE.grad_enabled)
        STATE.grad_enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self.prev.pop()

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)(self.mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
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

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class enable_grad(set_grad_enabled):
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

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with enable_grad():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
