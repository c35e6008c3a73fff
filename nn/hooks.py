"""Forward hooks and pre-hooks of a Module, as PyTorch's: the handle that removes one, and the
call that runs them around `forward`.

A pre-hook `hook(module, args)` runs before `forward` and may return new positional
arguments (a tuple, or one value that becomes a 1-tuple); with `with_kwargs=True` it is
`hook(module, args, kwargs)` and may return a new `(args, kwargs)` pair. A forward hook
`hook(module, args, output)` (`hook(module, args, kwargs, output)` with `with_kwargs=True`)
runs after `forward` and may return a replacement output. Returning None keeps what was
there. Hooks run in registration order (`prepend=True` puts one first); a hook registered
with `always_call=True` also runs when `forward` raises (its exception, if any, becomes a
warning; the forward's exception is the one raised).

>>> import autodiff as ad, nn
>>> layer = nn.Linear(2, 2)
>>> handle = layer.register_forward_hook(lambda m, args, out: out * 0)
>>> layer(ad.ones((1, 2))).tolist()
[[0.0, 0.0]]
>>> handle.remove()
>>> layer(ad.ones((1, 2))).tolist() != [[0.0, 0.0]]
True
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from nn.backward_hooks import run_with_backward_hooks

_IDS = itertools.count()


class RemovableHandle:
    """What `register_forward_hook` and `register_forward_pre_hook` return: `remove()` takes
    the hook away (a second `remove()` does nothing); as a context manager, the hook is
    removed at the end of the `with` block.

    >>> import autodiff as ad, nn
    >>> seen = []
    >>> layer = nn.Identity()
    >>> with layer.register_forward_pre_hook(lambda m, args: seen.append(args[0].shape)):
    ...     _ = layer(ad.ones(3))
    >>> _ = layer(ad.ones(4))
    >>> seen
    [(3,)]
    """

    def __init__(self, hooks: OrderedDict[int, Any], *extra: dict[int, Any]) -> None:
        self.id = next(_IDS)
        self._refs = [weakref.ref(hooks), *(weakref.ref(d) for d in extra)]

    def remove(self) -> None:
        for ref in self._refs:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(hooks: OrderedDict[int, Callable[..., Any]], hook: Callable[..., Any],
             prepend: bool, flagged: list[tuple[OrderedDict[int, bool], bool]]
             ) -> RemovableHandle:
    """Register `hook` in `hooks` (first if `prepend`) and its id in each flag set (an
    OrderedDict id -> True: the hooks registered with that option) whose option is on; the
    handle removes it from all of them."""
    if not callable(hook):
        raise TypeError(f"register hook: expected a callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, *(flags for flags, _ in flagged))
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    for flags, on in flagged:
        if on:
            flags[handle.id] = True
    return handle


def call_with_hooks(m: Any, forward: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
    """`forward(*args, **kwargs)` with `m`'s pre-hooks before and forward hooks after (and,
    when `m` has backward hooks, identity nodes around both that run them: see
    `nn.backward_hooks`)."""
    args, kwargs = _run_pre_hooks(m, args, kwargs)
    if m._backward_hooks or m._backward_pre_hooks:
        return run_with_backward_hooks(
            m, lambda *a, **k: _forward_and_hooks(m, forward, a, k), args, kwargs)
    return _forward_and_hooks(m, forward, args, kwargs)


def _forward_and_hooks(m: Any, forward: Callable[..., Any], args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Any:
    called: set[int] = set()
    out = None
    try:
        out = forward(*args, **kwargs)
        for hook_id, hook in list(m._forward_hooks.items()):
            called.add(hook_id)
            if hook_id in m._forward_hooks_with_kwargs:
                result = hook(m, args, kwargs, out)
            else:
                result = hook(m, args, out)
            if result is not None:
                out = result
        return out
    except Exception:
        _run_always_called(m, args, kwargs, out, called)
        raise


def _run_pre_hooks(m: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    for hook_id, hook in list(m._forward_pre_hooks.items()):
        if hook_id in m._forward_pre_hooks_with_kwargs:
            result = hook(m, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        else:
            result = hook(m, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _run_always_called(m: Any, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any,
                       called: set[int]) -> None:
    """The always_call forward hooks not yet run, after `forward` or a hook raised: each gets
    the output so far (None if `forward` raised); an exception of theirs becomes a warning
    (the first exception is the one raised)."""
    for hook_id, hook in list(m._forward_hooks.items()):
        if hook_id not in m._forward_hooks_always_called or hook_id in called:
            continue
        try:
            if hook_id in m._forward_hooks_with_kwargs:
                hook(m, args, kwargs, out)
            else:
                hook(m, args, out)
        except Exception as e:
            warnings.warn("module forward hook with ``always_call=True`` raised an exception "
                          f"that was silenced as another error was raised in forward: {e}",
                          stacklevel=3)
