"""np.linalg's norms, reached as `ad.linalg.<name>` and `np.linalg.<name>(tensor)`: norm (vector
and matrix, every `ord` NumPy has), vector_norm, matrix_norm. Composites of abs, sums, max/min,
powers and, for the spectral and nuclear norms, the singular values.

Gradient conventions, as PyTorch's: a p-norm (p > 0) has gradient 0 at the origin; for p < 1
an element at 0 gets gradient 0; ord=0 (the count of nonzeros) has gradient 0; the inf-norms
and the 2-norm of matrices share the gradient evenly between tied maxima (minima).

>>> import numpy as np
>>> import autodiff as ad
>>> x = ad.tensor([3.0, -4.0], requires_grad=True)
>>> np.linalg.norm(x).backward()
>>> x.grad
tensor([ 0.6, -0.8])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.ops._convert import as_tensor
from autodiff.ops.axes import normalize_axes
from autodiff.ops.decompositions import svd
from autodiff.ops.elementwise import abs, sqrt
from autodiff.ops.indexing import where
from autodiff.ops.reduce import max, min, sum
from autodiff.ops.registry import register
from autodiff.ops.shape import reshape, transpose
from autodiff.tensor import Tensor

__all__ = ["matrix_norm", "norm", "vector_norm"]

Ord = float | str | None

_VECTOR = "0 at the origin (every p > 0) and, for p < 1, at each zero element; ord=0: 0; " \
    "inf-norms: shared evenly between tied maxima; as PyTorch"


def _floating(x: Any) -> Tensor:
    x = as_tensor(x)
    if x.data.dtype.kind != "f":  # NumPy's norms compute in float64
        x = Tensor._make(x.data.astype(np.float64), None, 0)
    return x


def _root(s: Tensor, p: float) -> Tensor:
    """s ** (1 / p) (sqrt for p = 2), for p > 0 0 with gradient 0 where s == 0 (as PyTorch's
    norms: the derivative of the root is infinite there). Both branches stay finite: the zero
    gradient the unselected root gets never meets an inf. For p < 0 a sum of 0 (no elements,
    or all infinite) has the root inf, as NumPy."""
    zero = (s.data == 0) if p > 0 else np.zeros(s.shape, dtype=bool)
    root = sqrt if p == 2 else (lambda t: t ** (1.0 / p))
    if not zero.any():
        return root(s)
    return where(zero, 0, root(where(zero, 1, s)))


def _vector(op: str, x: Tensor, ord: Ord, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """The vector norm of x over `axes` (all of them taken as one vector)."""
    if isinstance(ord, str):
        raise ValueError(f"{op}: invalid norm order {ord!r} for vectors")
    if ord is None or ord == 2:
        return _root(sum(x * x, axes, keepdims=keepdims), 2)
    if ord == math.inf:  # of no elements 0, as NumPy
        return max(abs(x), axes, keepdims=keepdims, initial=0)
    if ord == -math.inf:
        return min(abs(x), axes, keepdims=keepdims)
    if ord == 0:  # the count of nonzeros: gradient 0, still connected to x (as PyTorch)
        counts = (x.data != 0).astype(x.dtype)
        return sum(where(np.zeros(x.shape, dtype=bool), x, counts), axes, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axes, keepdims=keepdims)
    p = float(ord)
    a = abs(x)
    if p < 1:  # |x| ** p has an infinite slope at 0: those elements get gradient 0
        zero = a.data == 0
        if zero.any():
            terms = where(zero, 0.0 if p > 0 else math.inf, where(zero, 1, a) ** p)
            return _root(sum(terms, axes, keepdims=keepdims), p)
    return _root(sum(a ** p, axes, keepdims=keepdims), p)


def _matrix(op: str, x: Tensor, ord: Ord, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """The matrix norm of the (row, col) planes `axes` of x."""
    row, col = axes
    if ord in (None, "fro", "f"):
        out = _root(sum(x * x, axes), 2)
    elif ord in (2, -2, "nuc"):
        rest = [i for i in range(x.ndim) if i not in axes]
        s = svd(transpose(x, (*rest, row, col)), full_matrices=False, compute_uv=False)
        out = {2: max, -2: min, "nuc": sum}[ord](s, -1)
    elif ord in (1, -1):
        out = (max if ord == 1 else min)(sum(abs(x), row), col - (col > row))
    elif ord in (math.inf, -math.inf):
        out = (max if ord > 0 else min)(sum(abs(x), col), row - (row > col))
    else:
        raise ValueError(f"{op}: invalid norm order {ord!r} for matrices (None, 'fro', 'nuc', "
                         "inf, -inf, 1, -1, 2, -2)")
    if keepdims:
        out = reshape(out, [1 if i in axes else n for i, n in enumerate(x.shape)])
    return out


@register(np.linalg.norm, namespace="linalg",
          convention=f"vectors: {_VECTOR}; matrices: the 2-norm's gradient is shared evenly "
                     "between tied largest singular values, and 'fro' is 0 at the origin")
def norm(x: Any, ord: Ord = None, axis: int | Sequence[int] | None = None,
         keepdims: bool = False) -> Tensor:
    """Vector or matrix norm, as np.linalg.norm: over `axis` (one axis: vectors; two: matrices;
    None: the whole of a 1-D or 2-D `x`, or with `ord=None` the 2-norm of everything). `ord`:
    vectors take any number (2 by default, inf, -inf, 0 counts nonzeros); matrices take 'fro'
    (default), 'nuc', inf, -inf, 1, -1, 2 (the largest singular value), -2 (the smallest).

    Gradients as PyTorch's: 0 at the origin (and, for p < 1, at each zero element); the
    inf-norms and the matrix 2-norm share it evenly between tied maxima.

    >>> import autodiff as ad
    >>> A = ad.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> ad.linalg.norm(A), ad.linalg.norm(A, 1), ad.linalg.norm(A, axis=1, ord=1)
    (tensor(5.477226), tensor(6.), tensor([3., 7.]))
    """
    x = _floating(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and x.ndim == 2) or (ord == 2 and x.ndim == 1):
            return _vector("norm", x, None, tuple(range(x.ndim)), keepdims)
        axes = tuple(range(x.ndim))
    else:
        axes = normalize_axes("norm", axis, x.ndim)
    if len(axes) == 1:
        return _vector("norm", x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix("norm", x, ord, axes, keepdims)
    raise ValueError(f"norm: improper number of dimensions to norm ({len(axes)} axes of shape "
                     f"{x.shape}); give axis= (one axis, or two)")


@register(np.linalg.vector_norm, namespace="linalg", convention=_VECTOR)
def vector_norm(x: Any, *, axis: int | Sequence[int] | None = None, keepdims: bool = False,
                ord: float = 2) -> Tensor:
    """The norm of x over `axis` taken as one vector (all axes when None), as
    np.linalg.vector_norm: `ord` any number (inf, -inf, 0 included).

    >>> import autodiff as ad
    >>> ad.linalg.vector_norm(ad.tensor([[3.0, 0.0], [0.0, -4.0]]))
    tensor(5.)
    """
    x = _floating(x)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axes("vector_norm", axis, x.ndim)
    return _vector("vector_norm", x, ord, axes, keepdims)


@register(np.linalg.matrix_norm, namespace="linalg",
          convention="the 2-norm's gradient is shared evenly between tied largest singular "
                     "values; 'fro' is 0 at the origin")
def matrix_norm(x: Any, *, keepdims: bool = False, ord: Ord = "fro") -> Tensor:
    """The norm of each matrix of the last two axes, as np.linalg.matrix_norm (the orders of
    `norm` for matrices).

    >>> import autodiff as ad
    >>> ad.linalg.matrix_norm(ad.ones((5, 2, 3)), ord=1).shape
    (5,)
    """
    x = _floating(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: needs at least 2 dimensions, got shape {x.shape}")
    return _matrix("matrix_norm", x, ord, (x.ndim - 2, x.ndim - 1), keepdims)
