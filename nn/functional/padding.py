"""pad: PyTorch's `F.pad` on the engine's `ad.pad` (NumPy's np.pad).

PyTorch's argument order: `pad` lists (before, after) widths starting from the LAST axis and
moving forward, `(left, right, top, bottom, front, back)`, and pads only as many trailing axes
as it has pairs. The modes map onto np.pad's: constant -> constant, reflect -> reflect,
replicate -> edge, circular -> wrap.

>>> import autodiff as ad
>>> import nn.functional as F
>>> x = ad.tensor([[1.0, 2.0, 3.0]])
>>> F.pad(x, (1, 2))
tensor([[0., 1., 2., 3., 0., 0.]])
>>> F.pad(x, (2, 1), mode="reflect")
tensor([[3., 2., 1., 2., 3., 2.]])
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import autodiff as ad
from autodiff import Tensor

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None
        ) -> Tensor:
    """Pad the last len(pad) // 2 axes of `input`; `pad` = (before, after) for the last axis,
    then for the one before it, and so on (PyTorch's order, the reverse of np.pad's).

    Modes, as PyTorch's: 'constant' fills with `value` (0 by default); 'reflect' mirrors
    without repeating the edge (each width less than the axis's size); 'replicate' repeats the
    edge; 'circular' wraps around (each width at most the axis's size). Negative widths crop,
    in PyTorch's order: 'reflect' and 'replicate' pad from the whole input and then crop,
    'constant' and 'circular' crop first ('circular' wraps around what is left, at most once).
    Unlike PyTorch, the three non-constant modes pad any number of trailing axes of a tensor
    of any rank (PyTorch's kernels take only 1 to 3 axes of a 2-D to 5-D tensor); where
    PyTorch computes right, the values agree. Each output element's gradient goes to the
    input element it was copied from.

    >>> import autodiff as ad
    >>> import nn.functional as F
    >>> x = ad.arange(6.0).reshape(1, 2, 3)
    >>> F.pad(x, (1, 1, 1, 0), mode="replicate")
    tensor([[[0., 0., 1., 2., 2.],
             [0., 0., 1., 2., 2.],
             [3., 3., 4., 5., 5.]]])
    >>> F.pad(x, (-1, 1), value=9.0)
    tensor([[[1., 2., 9.],
             [4., 5., 9.]]])
    """
    x = input if isinstance(input, Tensor) else ad.tensor(input)
    if mode not in NUMPY_MODE:
        raise ValueError(f"pad: mode {mode!r} is not one of 'constant', 'reflect', 'replicate', "
                         "'circular'")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: mode {mode!r} takes no value (got value={value}); only "
                         "'constant' fills with a value")
    widths = _widths(pad, x)
    grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
    if mode == "constant":
        return ad.pad(_cropped(x, widths, pad), grow,
                      constant_values=0 if value is None else value)
    if mode == "circular":  # PyTorch's order: crop, then wrap around what is left
        cropped = _cropped(x, widths, pad)
        if cropped.shape != x.shape:
            _check_cropped_wrap(grow, cropped, pad)
        _check_widths(mode, grow, cropped)
        return ad.pad(cropped, grow, mode="wrap")
    _check_widths(mode, grow, x)
    # reflect, replicate: pad from the whole input, then crop
    if any(n + lo + hi < 0 for (lo, hi), n in zip(widths, x.shape)):
        raise ValueError(f"pad: negative widths {tuple(pad)} crop more than the padded "
                         f"input (shape {x.shape}) holds")
    padded = ad.pad(x, grow, mode=NUMPY_MODE[mode])
    return _cropped(padded, tuple((min(lo, 0), min(hi, 0)) for lo, hi in widths), pad)


def _cropped(x: Tensor, widths: tuple[tuple[int, int], ...], pad: Sequence[int]) -> Tensor:
    """x without the elements the negative widths remove from each side."""
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))
    if any(s.stop < s.start for s in crop):
        raise ValueError(f"pad: negative widths {tuple(pad)} crop more than the input's shape "
                         f"{x.shape} holds")
    if any(s.start or s.stop != n for s, n in zip(crop, x.shape)):
        return x[crop]
    return x


def _widths(pad: Sequence[int], x: Tensor) -> tuple[tuple[int, int], ...]:
    """PyTorch's flat list, last axis first, as np.pad's (before, after) per axis."""
    try:
        flat = [operator.index(w) for w in pad]
    except TypeError:
        raise TypeError(f"pad: pad must be a sequence of integers (left, right, top, bottom, "
                        f"...), got {pad!r}") from None
    if len(flat) % 2:
        raise ValueError(f"pad: pad must hold (before, after) pairs, an even number of widths, "
                         f"got {len(flat)}: {tuple(flat)}")
    if len(flat) // 2 > x.ndim:
        raise ValueError(f"pad: {len(flat) // 2} pairs of widths for a tensor of "
                         f"{x.ndim} dimensions (shape {x.shape}): at most one pair per axis")
    pairs = [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
    return tuple([(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1])


def _check_cropped_wrap(grow: tuple[tuple[int, int], ...], cropped: Tensor,
                        pad: Sequence[int]) -> None:
    """Circular widths after a crop: at most what is left of the axis (PyTorch wraps more,
    with wrong values and gradients, or reads uninitialized memory when nothing is left)."""
    for axis, ((lo, hi), n) in enumerate(zip(grow, cropped.shape)):
        if max(lo, hi) > n:
            raise ValueError(f"pad: mode 'circular' wraps around at most once: widths {pad} "
                             f"leave {n} elements of axis {axis} after cropping, fewer than "
                             f"the width {max(lo, hi)} to wrap")


def _check_widths(mode: str, widths: tuple[tuple[int, int], ...], x: Tensor) -> None:
    """PyTorch's limits on the non-constant modes' growing widths, which it would otherwise hit
    as errors of its own (np.pad would reflect or wrap more than once instead)."""
    for axis, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if not (lo or hi):
            continue
        if n == 0:
            raise ValueError(f"pad: mode {mode!r} cannot pad axis {axis} of size 0 "
                             f"(shape {x.shape})")
        if mode == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"pad: mode 'reflect' needs widths less than the axis's size: "
                             f"({lo}, {hi}) for axis {axis} of size {n} (shape {x.shape})")
        if mode == "circular" and max(lo, hi) > n:
            raise ValueError(f"pad: mode 'circular' needs widths at most the axis's size "
                             f"(it wraps around once): ({lo}, {hi}) for axis {axis} of size "
                             f"{n} (shape {x.shape})")
