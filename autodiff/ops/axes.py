"""Axis arguments, checked and normalized in one place for every op that takes one
(reductions, transpose, swapaxes, expand_dims, squeeze, concatenate, stack, split, softmax, ...).

An axis out of [-ndim, ndim) raises NumPy's `AxisError` (a ValueError and an IndexError), its
message naming the op, the axis and the number of dimensions; a repeated axis raises ValueError,
as NumPy does.

>>> from autodiff.ops.axes import normalize_axes, normalize_axis
>>> normalize_axis("split", -1, 2)
1
>>> normalize_axes("transpose", (2, 0, -2), 3)
(2, 0, 1)
>>> normalize_axis("split", 3, 2)
Traceback (most recent call last):
    ...
numpy.exceptions.AxisError: split: axis 3 is out of bounds for array of dimension 2
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import SupportsIndex

from numpy.exceptions import AxisError

Axes = SupportsIndex | Sequence[SupportsIndex]


def normalize_axis(op: str, axis: SupportsIndex, ndim: int) -> int:
    """`axis` as an index in [0, ndim); AxisError naming `op` when it is out of range (for
    ops of your own, so their errors read like the engine's).

    >>> import autodiff as ad
    >>> ad.normalize_axis("my_op", -1, 3)
    2
    """
    try:
        if isinstance(axis, bool):  # an int to Python, not an axis to NumPy (keepdim=True?)
            raise TypeError
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: an axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise AxisError(a, ndim, op)
    return a + ndim if a < 0 else a


def normalize_axes(op: str, axes: Axes, ndim: int) -> tuple[int, ...]:
    """One axis or a sequence of axes as indices in [0, ndim), in the order given; AxisError
    when one is out of range, ValueError when one repeats."""
    if hasattr(axes, "__index__"):
        return (normalize_axis(op, axes, ndim),)
    try:
        items = tuple(axes)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{op}: axis must be an integer or a sequence of integers, "
                        f"got {axes!r}") from None
    out = tuple(normalize_axis(op, a, ndim) for a in items)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {tuple(int(a) for a in items)} "
                         f"(a tensor of {ndim} dimensions)")
    return out
