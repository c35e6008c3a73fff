"""hypothesis strategies for property-based tests of differentiable functions.

>>> from hypothesis import given
>>> from autodiff.testing.strategies import tensors
>>> @given(tensors(shape=(2, 3)))
... def test_double(x):
...     assert ((x * 2).data == x.data * 2).all()
>>> test_double()
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from autodiff.tensor import Tensor

__all__ = ["broadcastable_shapes", "mutually_broadcastable_shapes", "shapes", "tensors",
           "valid_axes"]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Small array shapes (defaults keep gradient checks fast); `min_side=0` adds empty ones.

    >>> from hypothesis import given
    >>> from autodiff.testing import shapes
    >>> @given(shapes(min_dims=1, max_dims=2, max_side=3))
    ... def check(shape):
    ...     assert 1 <= len(shape) <= 2 and all(1 <= n <= 3 for n in shape)
    >>> check()
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def tensors(shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
            dtype: Any = np.float64, elements: st.SearchStrategy[float] | None = None,
            requires_grad: bool = False) -> st.SearchStrategy[Tensor]:
    """Tensors of `shape` (a tuple or a strategy; small shapes by default) and `dtype`, with
    `elements`: by default finite floats in [-10, 10] (of the dtype's width), integers in
    [-10, 10] ([0, 10] unsigned), or booleans. `requires_grad=True` needs a floating dtype.

    >>> from hypothesis import given, strategies as st
    >>> from autodiff.testing import tensors
    >>> @given(tensors(shape=(3,), elements=st.floats(0.1, 2.0)))
    ... def test_log_positive(x):
    ...     assert (x.log().data <= 1.0).all()
    >>> test_log_positive()
    """
    dt = np.dtype(dtype)
    if dt.kind not in "fiub":
        raise ValueError(f"tensors: dtype must be floating, integer or bool, got {dt}")
    if requires_grad and dt.kind != "f":
        raise ValueError(f"tensors: requires_grad=True needs a floating dtype, got {dt}")
    if elements is None:
        elements = (st.floats(-10, 10, allow_nan=False, allow_infinity=False,
                              width=8 * dt.itemsize) if dt.kind == "f" else
                    st.booleans() if dt.kind == "b" else
                    st.integers(0 if dt.kind == "u" else -10, 10))
    shape_st = shapes() if shape is None else shape
    arrays = hnp.arrays(dt, shape_st, elements=elements)
    return arrays.map(lambda a: ad.tensor(a, dtype=dt, requires_grad=requires_grad))


def broadcastable_shapes(shape: tuple[int, ...], min_dims: int = 0, max_dims: int | None = None,
                         min_side: int = 1, max_side: int = 4
                         ) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes that broadcast with `shape` (NumPy's rules).

    >>> from hypothesis import given
    >>> from autodiff.testing import broadcastable_shapes
    >>> import numpy as np
    >>> @given(broadcastable_shapes((3, 1)))
    ... def check(shape):
    ...     np.broadcast_shapes((3, 1), shape)
    >>> check()
    """
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims,
                                    min_side=min_side, max_side=max_side)


def mutually_broadcastable_shapes(num_shapes: int, base_shape: tuple[int, ...] = (),
                                  min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                                  max_side: int = 4) -> st.SearchStrategy[Any]:
    """`num_shapes` shapes that broadcast together; `.input_shapes` and `.result_shape`.

    >>> from hypothesis import given
    >>> from autodiff.testing import mutually_broadcastable_shapes
    >>> import numpy as np
    >>> @given(mutually_broadcastable_shapes(2))
    ... def check(shapes):
    ...     assert np.broadcast_shapes(*shapes.input_shapes) == shapes.result_shape
    >>> check()
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, base_shape=base_shape,
                                             min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side)


def valid_axes(ndim: int, min_size: int = 0, allow_none: bool = True,
               single: bool = False) -> st.SearchStrategy[Any]:
    """An `axis` argument valid for `ndim` dimensions: None, an int, or a tuple of distinct
    ints (at least `min_size` of them; `()` reduces nothing), negative values included
    (NumPy's conventions). `single=True`: an int only; `allow_none=False`: no None.

    >>> from hypothesis import given
    >>> from autodiff.testing import valid_axes
    >>> import autodiff as ad
    >>> @given(valid_axes(3))
    ... def check(axis):
    ...     ad.ones((2, 3, 4)).sum(axis=axis)
    >>> check()
    """
    if ndim == 0:
        return st.none() if allow_none else st.just(())
    one = st.integers(-ndim, ndim - 1)
    many = hnp.valid_tuple_axes(ndim, min_size=min_size)
    options = [one] if single else [one, many]
    if allow_none:
        options.append(st.none())
    return st.one_of(*options)
