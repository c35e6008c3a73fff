"""Making tensors: tensor, zeros, ones, full, arange, eye, rand, randn; zeros_like, ones_like,
full_like, empty_like (registered: np.zeros_like(t) and its kin reach them; their results
carry no gradient); and the seedable random generator (manual_seed). np.linspace, np.logspace
and np.geomspace with tensor bounds raise a TypeError: their values would carry no gradient.

>>> import autodiff as ad
>>> ad.manual_seed(0)
>>> ad.randn(2, 3).shape
(2, 3)
>>> ad.zeros(2).dtype, ad.arange(3).dtype
(dtype('float32'), dtype('int64'))
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from autodiff.dtypes import get_default_dtype
from autodiff.ops.registry import register
from autodiff.tensor import Tensor

__all__ = ["arange", "empty_like", "eye", "full", "full_like", "generator", "get_rng_state",
           "manual_seed", "ones", "ones_like", "rand", "randn", "set_rng_state", "tensor",
           "thread_generator", "zeros", "zeros_like"]

_rng = np.random.default_rng()
# .rng: this thread's own generator, within thread_generator().
_THREAD = threading.local()


def manual_seed(seed: int) -> None:
    """Seed the generator behind rand, randn and every random op (nn's initializers too).

    >>> import autodiff as ad
    >>> ad.manual_seed(0); a = ad.randn(3)
    >>> ad.manual_seed(0); b = ad.randn(3)
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    global _rng
    own = getattr(_THREAD, "rng", None)
    if own is not None:  # within thread_generator: this thread's (the shared one at its end)
        own.bit_generator.state = np.random.default_rng(seed).bit_generator.state
        _THREAD.reseeded = True
        return
    _rng = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The NumPy generator that manual_seed seeds (this thread's own one within
    `thread_generator`).

    >>> import autodiff as ad
    >>> ad.manual_seed(0)
    >>> round(float(ad.generator().random()), 4)
    0.637
    """
    return getattr(_THREAD, "rng", None) or _rng


@contextmanager
def thread_generator(state: dict[str, Any] | None = None) -> Iterator[np.random.Generator]:
    """Within it, this thread draws from a generator of its own: `generator()`,
    `get_rng_state()` and `set_rng_state()` reach it, and other threads drawing meanwhile
    neither take numbers from its sequence nor are handed them again.

    With a `state` (a `get_rng_state()`) it starts there, and the generator before it is left
    as it was: a replay. Without, it takes over from the current generator: it starts at its
    state, the current generator jumps far ahead meanwhile (another thread's draws come from
    elsewhere in its sequence), and at the end goes on after this thread's draws, unless
    another thread drew meanwhile; in one thread the numbers are those of plain draws (a
    `manual_seed` in the block seeds this thread's generator, and the shared one goes on after
    it at the end; in a replay it seeds the replay only). This is what checkpoint and
    vmap(randomness="same") run a function in.

    >>> import autodiff as ad
    >>> ad.manual_seed(0); state = ad.get_rng_state(); a = ad.rand(2)
    >>> with ad.creation.thread_generator(state):  # a replay
    ...     b = ad.rand(2)
    >>> bool((a.numpy() == b.numpy()).all()), ad.get_rng_state() == state
    (True, False)
    """
    was = getattr(_THREAD, "rng", None)
    shared = generator()
    bits = shared.bit_generator
    take_over = state is None
    if take_over:
        with bits.lock:  # (NumPy's draws hold it)
            state = bits.state
            if hasattr(bits, "advance"):  # PCG64's: in place, cheaper than jumped()
                bits.advance(2 ** 96)
            else:
                bits.state = bits.jumped().state
            ahead = bits.state
    assert state is not None
    gen = np.random.Generator(getattr(np.random, state["bit_generator"])(0))  # (0: no entropy
    gen.bit_generator.state = state  # gathered for a state replaced at once)
    was_reseeded = getattr(_THREAD, "reseeded", False)
    _THREAD.rng, _THREAD.reseeded = gen, False
    try:
        yield gen
    finally:
        reseeded = _THREAD.reseeded  # manual_seed in the block (a replay's is its own)
        _THREAD.rng, _THREAD.reseeded = was, was_reseeded or (take_over and reseeded)
        if take_over:
            with bits.lock:
                if reseeded or bits.state == ahead:  # go on after our draws (unless
                    bits.state = gen.bit_generator.state  # another thread drew meanwhile)


def get_rng_state() -> dict[str, Any]:
    """The generator's state (a dict of plain numbers), to save in a checkpoint.

    >>> import autodiff as ad
    >>> ad.manual_seed(1)
    >>> state = ad.get_rng_state()
    >>> a = ad.rand(2)
    >>> ad.set_rng_state(state)
    >>> bool((ad.rand(2).numpy() == a.numpy()).all())
    True
    """
    return generator().bit_generator.state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a state from get_rng_state().

    >>> import autodiff as ad
    >>> ad.manual_seed(3); state = ad.get_rng_state(); a = ad.randn(2)
    >>> ad.set_rng_state(state); b = ad.randn(2)
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    generator().bit_generator.state = state


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and not isinstance(shape[0], int | np.integer):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False,
           name: str | None = None) -> Tensor:
    """A tensor from a number, a (nested) list, an array or a tensor (copied).

    Python numbers and lists become the default dtype (float32); arrays keep theirs.

    >>> import autodiff as ad
    >>> ad.tensor([[1, 2], [3, 4]]).dtype
    dtype('float32')
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: zeros(2, 3) or zeros((2, 3)).

    >>> import autodiff as ad
    >>> ad.zeros(2, 2)
    tensor([[0., 0.],
            [0., 0.]])
    """
    return Tensor(np.zeros(_shape(shape), _dtype(dtype)), requires_grad=requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ones(2, 3) or ones((2, 3)).

    >>> import autodiff as ad
    >>> ad.ones(2, 3).shape
    (2, 3)
    >>> ad.ones((2,), dtype='float64')
    tensor([1., 1.], dtype=float64)
    """
    return Tensor(np.ones(_shape(shape), _dtype(dtype)), requires_grad=requires_grad)


def full(shape: int | Sequence[int], value: float, dtype: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with `value`.

    >>> import autodiff as ad
    >>> ad.full((2, 2), 7.0)
    tensor([[7., 7.],
            [7., 7.]])
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(np.full(shape, value, _dtype(dtype)), requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); integers give int64 (indices, labels) as in
    NumPy and PyTorch, floats give the default dtype. Tensor bounds raise a TypeError (the
    values would carry no gradient of them): pass plain numbers (t.item()).

    >>> import autodiff as ad
    >>> ad.arange(4)
    tensor([0, 1, 2, 3])
    >>> ad.arange(0.0, 1.0, 0.25)
    tensor([0.  , 0.25, 0.5 , 0.75])
    """
    if any(isinstance(v, Tensor) for v in (start, stop, step)):
        raise TypeError("arange: its bounds are tensors, and the result would carry no "
                        "gradient of them; pass plain numbers (t.item())")
    ints = all(isinstance(v, int | np.integer) for v in (start, stop, step) if v is not None)
    dt = np.dtype(dtype) if dtype is not None else (np.dtype(np.int64) if ints
                                                    else get_default_dtype())
    values = np.arange(start, stop, step)  # stop None: [0, start) by step, as NumPy
    return Tensor(values.astype(dt), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m matrix with ones on its k-th diagonal (np.eye's arguments, in its order).

    >>> import autodiff as ad
    >>> ad.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    >>> ad.eye(2, 3, k=1)
    tensor([[0., 1., 0.],
            [0., 0., 1.]])
    """
    return Tensor(np.eye(n, m, k=operator.index(k), dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the seeded generator.

    >>> import autodiff as ad
    >>> ad.manual_seed(0)
    >>> r = ad.rand(2, 3)
    >>> r.shape, bool(((r.numpy() >= 0) & (r.numpy() < 1)).all())
    ((2, 3), True)
    """
    data = generator().random(_shape(shape)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the seeded generator.

    >>> import autodiff as ad
    >>> ad.manual_seed(0)
    >>> round(float(ad.randn(1000).numpy().std()), 1)
    1.0
    """
    data = generator().standard_normal(_shape(shape)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def _like(make: Any, op: str, a: Any, *fill: Any, dtype: Any, order: str, shape: Any,
          device: Any, requires_grad: bool) -> Tensor:
    """make(a's array, *fill, ...) as a new tensor (the NumPy function checks the arguments)."""
    if device not in (None, "cpu"):
        raise ValueError(f"{op}: device must be 'cpu' or None, got {device!r}")
    arr = a.data if isinstance(a, Tensor) else np.asarray(a)
    return Tensor(make(arr, *fill, dtype=dtype, order=order, shape=shape),
                  requires_grad=requires_grad)


@register(np.zeros_like, differentiable=False)
def zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of a's shape and dtype (or `dtype`, `shape`), as np.zeros_like; a new tensor
    that does not require grad (unless asked). `subok` has no effect: the result is a tensor.

    >>> import numpy as np
    >>> import autodiff as ad
    >>> x = ad.ones((2, 3), requires_grad=True)
    >>> ad.zeros_like(x).shape, np.zeros_like(x).requires_grad
    ((2, 3), False)
    """
    return _like(np.zeros_like, "zeros_like", a, dtype=dtype, order=order, shape=shape,
                 device=device, requires_grad=requires_grad)


@register(np.ones_like, differentiable=False)
def ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of a's shape and dtype (or `dtype`, `shape`), as np.ones_like; a new tensor that
    does not require grad (unless asked).

    >>> import autodiff as ad
    >>> ad.ones_like(ad.zeros((2, 2), dtype='float64')).dtype
    dtype('float64')
    """
    return _like(np.ones_like, "ones_like", a, dtype=dtype, order=order, shape=shape,
                 device=device, requires_grad=requires_grad)


@register(np.full_like, differentiable=False)
def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` in a's shape and dtype (or `dtype`, `shape`), as np.full_like; a new
    tensor that does not require grad (unless asked). A fill value that requires grad is
    refused: write `value * ad.ones_like(a)` to differentiate through it.

    >>> import autodiff as ad
    >>> ad.full_like(ad.zeros(3), 0.5)
    tensor([0.5, 0.5, 0.5])
    """
    if isinstance(fill_value, Tensor):
        if fill_value.requires_grad:
            raise TypeError("full_like: fill_value is a tensor that requires grad, and the "
                            "result would not carry its gradient; use fill_value * "
                            "ad.ones_like(a) to keep it, or fill_value.detach()")
        fill_value = fill_value.data
    return _like(np.full_like, "full_like", a, fill_value, dtype=dtype, order=order,
                 shape=shape, device=device, requires_grad=requires_grad)


@register(np.empty_like, differentiable=False)
def empty_like(prototype: Any, /, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, *, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of prototype's shape and dtype (or `dtype`, `shape`) whose values are
    whatever the memory held, as np.empty_like; it does not require grad (unless asked).

    >>> import autodiff as ad
    >>> ad.empty_like(ad.ones((2, 3))).shape
    (2, 3)
    """
    return _like(np.empty_like, "empty_like", prototype, dtype=dtype, order=order, shape=shape,
                 device=device, requires_grad=requires_grad)


def _refuse_tensor_bounds(func: Any) -> None:
    """np.linspace(t, ...) and its kin: a clear TypeError (their values would carry no
    gradient of the tensor bounds). NumPy dispatches them on their bounds only."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise TypeError(f"np.{func.__name__}: its bounds are tensors, and the result would "
                        f"carry no gradient of them; pass plain numbers (t.item()), or build "
                        "the values from the tensors with ad ops (start + (stop - start) * "
                        "ad.arange(n) / (n - 1))")

    refuse.__name__ = f"_refuse_{func.__name__}"
    register(func, public=False)(refuse)


for _func in (np.linspace, np.logspace, np.geomspace):
    _refuse_tensor_bounds(_func)
