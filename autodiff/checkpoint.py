"""Activation checkpointing, as PyTorch's `torch.utils.checkpoint`: trade compute for memory.

`checkpoint(fn, *args)` runs `fn` and keeps none of the graph it made: only its inputs (and
the tensors it read from outside: parameters, closed-over tensors). When the backward reaches
it, `fn` runs again, with recording and with the random state it saw the first time (the same
dropout masks), and the backward goes through the graph this recomputation made. A training
step then holds the activations of one checkpointed segment at a time instead of all of them.

>>> import autodiff as ad
>>> x = ad.tensor([1.0, 2.0], requires_grad=True)
>>> y = ad.checkpoint.checkpoint(lambda t: (t.tanh() * t).sum(), x)
>>> y.backward()
>>> x.grad.shape
(2,)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autodiff import versions
from autodiff.backward import boundary_gradients
from autodiff.creation import get_rng_state, thread_generator
from autodiff.function import Function, observe_ops
from autodiff.grad_mode import STATE, enable_grad
from autodiff.pytree import flatten
from autodiff.replay import Frame, replayed, running
from autodiff.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "inline", "replayed"]

_INLINE = threading.local()  # .on: checkpoint is a plain call on this thread


@contextmanager
def inline() -> Iterator[None]:
    """Within it, on this thread, `checkpoint(fn, *args)` is `fn(*args)`: the graph records
    `fn`'s own ops instead of one `checkpoint` node (what `nn.onnx.export` reads).

    >>> import autodiff as ad
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> with ad.checkpoint.inline():
    ...     y = ad.checkpoint.checkpoint(ad.tanh, x)
    >>> y.grad_fn.op_name()
    'tanh'
    """
    was = getattr(_INLINE, "on", False)
    _INLINE.on = True
    try:
        yield
    finally:
        _INLINE.on = was


def checkpoint(function: Callable[..., Any], *args: Any, use_reentrant: bool | None = None,
               preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`, whose intermediate results are not kept for the backward
    but recomputed when it reaches them (PyTorch's `torch.utils.checkpoint.checkpoint`).

    The gradients are the ones the plain call gives, bit for bit, for every tensor `function`
    reads: its arguments and the tensors it reads from outside (a module's parameters, a
    closure's tensors); second derivatives equal to rounding. `function` may return a Tensor or
    any tuple, list or dict of them and of other values. With `preserve_rng_state=True` (the
    default) the recomputation draws the same random numbers (`autodiff.generator()`: dropout
    masks) as the first run, drawn from a generator of the thread's own
    (`creation.thread_generator`; other threads' draws do not interleave with them). Under
    `no_grad()` and `inline()` it is `function(*args, **kwargs)`. `use_reentrant` is accepted
    for PyTorch code; both of PyTorch's variants are this one (which `gradients`,
    `create_graph=True`, forward mode and nesting all go through).

    `function` must compute the same thing when run again: a tensor it uses that is written
    in place before the backward makes the backward raise; a module that updates a buffer
    (BatchNorm's running statistics in training) updates it again on recomputation, as in
    PyTorch, except where the update goes through `replayed` (spectral_norm's power
    iteration: it runs once, and the recomputation uses the vectors of the first run).

    >>> import autodiff as ad
    >>> w = ad.tensor([[1.0, -1.0], [2.0, 0.5]], requires_grad=True)
    >>> x = ad.tensor([[0.5, 1.0]], requires_grad=True)
    >>> y = ad.checkpoint.checkpoint(lambda t: (t @ w).tanh(), x)
    >>> y.sum().backward()
    >>> w.grad.shape, x.grad.shape
    ((2, 2), (1, 2))
    """
    if use_reentrant not in (None, True, False):
        raise TypeError(f"checkpoint: use_reentrant must be None, True or False, got "
                        f"{use_reentrant!r}")
    if not STATE.grad_enabled or getattr(_INLINE, "on", False):
        return function(*args, **kwargs)
    tensor_args = [a for a in args if isinstance(a, Tensor)]
    before = [versions.version(a.data) for a in tensor_args]
    floor = next(versions.numbers)
    seen = _Outside(floor)
    memo: list[Any] = []
    with observe_ops(seen), running(Frame(memo, again=False)), _drawing(
            preserve_rng_state) as state:
        out = function(*args, **kwargs)
    for i, (a, v) in enumerate(zip(tensor_args, before)):
        if versions.version(a.data) != v:
            raise RuntimeError(
                f"checkpoint: {_name(function)} wrote its tensor argument {i} (shape {a.shape}) "
                "in place; running it again in the backward would write it twice. Write into "
                "a copy (.clone()) inside the function.")
    leaves, rebuild = flatten(out)
    positions = [i for i, t in enumerate(leaves) if isinstance(t, Tensor) and t.requires_grad]
    if not positions:
        return out
    for i in positions:  # an output that is a tensor from outside, returned as it is
        seen.add(leaves[i])
    inputs = _unique(tensor_args + seen.tensors)
    run = _Run(function, args, kwargs, inputs, state, positions, memo)
    results = _Checkpoint.apply(*inputs, run=run, outs=[leaves[i].data for i in positions])
    for i, r in zip(positions, results):
        leaves[i] = r
    return rebuild(leaves)


def checkpoint_sequential(functions: Any, segments: int, input: Any,
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run `functions` (an `nn.Sequential`, or a list of modules or functions) one after the
    other on `input`, in `segments` chunks of `len(functions) // segments`: every chunk but
    the last is checkpointed; the last one (with the remainder) runs as usual. PyTorch's
    `torch.utils.checkpoint.checkpoint_sequential`; `preserve_rng_state` is its only keyword.

    >>> import autodiff as ad
    >>> x = ad.tensor([0.5, -1.0], requires_grad=True)
    >>> y = ad.checkpoint.checkpoint_sequential([ad.tanh, ad.exp, ad.sin, ad.cos], 2, x)
    >>> y.sum().backward()
    >>> x.grad.shape
    (2,)
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("checkpoint_sequential: unexpected keyword arguments: "
                         + ", ".join(kwargs))
    if hasattr(functions, "children"):  # an nn.Sequential (autodiff does not import nn)
        functions = list(functions.children())
    functions = list(functions)
    if not isinstance(segments, int | np.integer) or not 1 <= segments <= max(len(functions), 1):
        raise ValueError(f"checkpoint_sequential: segments must be an integer from 1 to the "
                         f"number of functions ({len(functions)}), got {segments!r}")
    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        input = checkpoint(_Chain(functions[start:end]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _Chain(functions[end:])(input)


class _Chain:
    """Functions applied one after the other (a segment of checkpoint_sequential)."""

    def __init__(self, functions: Sequence[Callable[[Any], Any]]) -> None:
        self.functions = functions

    def __call__(self, x: Any) -> Any:
        for f in self.functions:
            x = f(x)
        return x


class _Run:
    """A checkpointed call: the function, its arguments (each tensor among them as its place
    among the node's inputs: the node keeps the tensors, and frees them after a backward),
    the random state it started from, and which leaves of its result are the node's outputs."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], inputs: list[Tensor],
                 rng_state: dict[str, Any] | None, positions: list[int],
                 memo: list[Any]) -> None:
        place = {id(t): i for i, t in enumerate(inputs)}
        self.function = function
        self.args = [(place[id(a)], None) if isinstance(a, Tensor) else (None, a) for a in args]
        self.kwargs = kwargs
        self.rng_state = rng_state
        self.positions = positions
        self.memo = memo  # the values `replayed` gave in the first run

    def again(self, inputs: tuple[Tensor, ...]) -> list[Any]:
        """The function's result leaves at `positions`, recomputed from the node's `inputs`
        with recording and the random state of the first run, drawn from this thread's own
        generator (the shared one is left as it was)."""
        args = [a if i is None else inputs[i] for i, a in self.args]
        with enable_grad(), running(Frame(self.memo, again=True)), _replaying(self.rng_state):
            out = self.function(*args, **self.kwargs)
        leaves = flatten(out)[0]
        return [leaves[i] if i < len(leaves) else None for i in self.positions]


class _Outside:
    """An `observe_ops` callback that collects the tensors requiring grad that a function's
    ops read from outside it: leaves, and tensors made before it started (creation number
    below `floor`). Ops the function makes itself are not kept (their graph is dropped)."""

    def __init__(self, floor: int) -> None:
        self.floor = floor
        self.tensors: list[Tensor] = []
        self.outer = STATE.observer  # an enclosing observe_ops still sees every op

    def __call__(self, node: Function, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        for a in args:
            if isinstance(a, Tensor):
                self.add(a)
        if self.outer is not None:
            self.outer(node, args, kwargs)

    def add(self, t: Tensor) -> None:
        if t.requires_grad and (t.grad_fn is None or t.grad_fn._seq < self.floor):
            self.tensors.append(t)


@contextmanager
def _drawing(preserve: bool) -> Iterator[dict[str, Any] | None]:
    """The first run's random draws come from this thread's own generator (which takes over
    from the shared one: other threads drawing meanwhile neither take numbers from the middle
    of its sequence nor draw them again); yields the state it starts from (None when the
    draws are not replayed)."""
    if not preserve:
        yield None
        return
    with thread_generator():
        yield get_rng_state()


@contextmanager
def _replaying(state: dict[str, Any] | None) -> Iterator[None]:
    """The recomputation's draws come from this thread's own generator started at `state`
    (the shared generator is left as it is), or from the shared one with `state` None."""
    if state is None:
        yield
        return
    with thread_generator(state):
        yield


def _unique(tensors: list[Tensor]) -> list[Tensor]:
    seen: set[int] = set()
    return [t for t in tensors if not (id(t) in seen or seen.add(id(t)))]  # type: ignore


def _name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__


class _Checkpoint(Function):
    """The node of a checkpointed call. Its inputs are the tensors the call read (its tensor
    arguments and the tensors it read from outside); its outputs, the call's outputs that
    require grad. Forward hands over the outputs the call made; backward runs the call again
    with recording and takes the gradients through that graph, cut at the node's inputs (under
    `create_graph=True` the recomputed graph is recorded, so they can be differentiated)."""

    name = "checkpoint"

    @staticmethod
    def forward(ctx: Any, *arrays: Any, run: _Run, outs: list[np.ndarray]) -> tuple[Any, ...]:
        ctx.save_for_backward(*arrays)  # version-checked; freed after a backward
        ctx.run = run
        return tuple(outs)

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor | None, ...]:
        inputs = ctx.saved_tensors  # (raises if a backward already freed this node)
        floor = next(versions.numbers)
        outs = ctx.run.again(inputs)
        for i, (o, (shape, dtype)) in enumerate(zip(outs, ctx._out_meta)):
            if not isinstance(o, Tensor) or o.shape != shape or o.dtype != dtype:
                got = (f"shape {o.shape}, dtype {o.dtype}" if isinstance(o, Tensor)
                       else type(o).__name__)
                raise RuntimeError(
                    f"checkpoint: {_name(ctx.run.function)} recomputed output {i} as {got}, but "
                    f"the first run gave shape {shape}, dtype {dtype}: a checkpointed function "
                    "must compute the same thing when run again")
        live = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
        wrt = [t for t in inputs if t.requires_grad]
        if not live or not wrt:
            return (None,) * len(inputs)
        got = iter(boundary_gradients([o for o, _ in live], [g for _, g in live], wrt, floor,
                                      create_graph=STATE.grad_enabled))
        return tuple(next(got) if t.requires_grad else None for t in inputs)
