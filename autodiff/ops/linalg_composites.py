"""np.linalg's functions built from the factorizations and products, reached as
`ad.linalg.<name>` and `np.linalg.<name>(tensor)`: lstsq (from pinv), svdvals and eigvalsh
(the values of svd and eigh), cond (from svdvals, or norms and inv), tensorsolve and tensorinv
(solve and inv of the tensor reshaped to a matrix), multi_dot (matrix products in the cheapest
order) and matrix_rank (a count, no gradient); and NumPy 2's array-API functions of np.linalg,
which act on the last axes: trace, diagonal, matrix_transpose, vecdot, outer (1-D only), cross
(3-vectors only). Composites:
their gradients are those of the ops they are made of, to every order, with those ops'
conventions at degenerate points.

>>> import numpy as np
>>> import autodiff as ad
>>> A = ad.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], requires_grad=True)
>>> x, residuals, rank, s = np.linalg.lstsq(A, ad.tensor([6.0, 0.0, 0.0]))
>>> x.data.round(4)  # float32, as the inputs
array([ 5., -3.], dtype=float32)
>>> residuals.backward()
>>> A.grad.shape
(3, 2)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.ops import linalg as _products
from autodiff.ops._convert import as_tensor, pair
from autodiff.ops.arith import mul
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.decompositions import LinAlgError, _matrices, eigh, inv, pinv, solve, svd
from autodiff.ops.indexing import getitem, where
from autodiff.ops.linalg import matmul
from autodiff.ops.norms import matrix_norm
from autodiff.ops.reduce import sum
from autodiff.ops.registry import register
from autodiff.ops.shape import reshape, swapaxes, transpose
from autodiff.tensor import Tensor

__all__ = ["cond", "cross", "diagonal", "eigvalsh", "lstsq", "matrix_rank", "matrix_transpose",
           "multi_dot", "outer", "svdvals", "tensorinv", "tensorsolve", "trace", "vecdot"]


@register(np.linalg.svdvals, namespace="linalg",
          convention="at a repeated singular value, U diag(grad) Vh with LAPACK's vectors "
                     "(unique when the loss treats tied values alike), as PyTorch")
def svdvals(x: Any) -> Tensor:
    """The singular values of each matrix (..., M, N), descending (np.linalg.svdvals):
    `svd(x, compute_uv=False)`. Gradient U diag(grad) Vh.

    >>> import autodiff as ad
    >>> ad.linalg.svdvals(ad.tensor([[3.0, 0.0, 0.0], [0.0, -4.0, 0.0]]))
    tensor([4., 3.])
    """
    return svd(x, full_matrices=False, compute_uv=False)


@register(np.linalg.eigvalsh, namespace="linalg",
          convention="symmetric gradient V diag(grad) V^T, with LAPACK's vectors at a repeated "
                     "eigenvalue (unique when the loss treats tied values alike), as PyTorch")
def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:
    """The eigenvalues, ascending, of symmetric matrices (..., M, M) (np.linalg.eigvalsh; NumPy
    reads the lower triangle, `UPLO="U"` the upper one): `eigh(a, UPLO).eigenvalues`. The
    gradient is the symmetric one, V diag(grad) V^T.

    >>> import autodiff as ad
    >>> ad.linalg.eigvalsh(ad.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    return eigh(a, UPLO=UPLO).eigenvalues


_COND_ORDERS = (None, 2, -2, "fro", "f", "nuc", math.inf, -math.inf, 1, -1)


@register(np.linalg.cond, namespace="linalg",
          convention="that of svdvals (p = None, 2, -2) or of the norms and inv; at a singular "
                     "matrix (value inf, as NumPy) 0")
def cond(x: Any, p: Any = None) -> Tensor:
    """The condition number of each matrix (..., M, N), as np.linalg.cond: the ratio of the
    largest to the smallest singular value for `p` None or 2 (the smallest to the largest for
    -2; M and N may differ), otherwise norm(x, p) * norm(inv(x), p) for square matrices with
    p 'fro', 'nuc', inf, -inf, 1, -1. A singular matrix gives inf, as NumPy, with gradient 0;
    a nearly singular one gives a large number (NumPy's too), and a large gradient.

    >>> import autodiff as ad
    >>> A = ad.tensor([[2.0, 0.0], [0.0, 0.5]], requires_grad=True)
    >>> ad.linalg.cond(A)
    tensor(4., grad_fn=<div>)
    >>> ad.linalg.cond(A).backward()
    >>> A.grad
    tensor([[ 2.,  0.],
            [ 0., -8.]])
    >>> ad.linalg.cond(ad.tensor([[1.0, 2.0], [2.0, 4.0]]), p=1)
    tensor(inf)
    """
    x = _matrices("cond", x, square=False)
    if not isinstance(p, str | int | float | np.number | None) or p not in _COND_ORDERS:
        raise ValueError(f"cond: invalid norm order p={p!r} (None, 2, -2, 'fro', 'nuc', inf, "
                         "-inf, 1, -1)")
    if x.size == 0 and 0 in x.shape[-2:]:
        raise LinAlgError(f"cond: not defined on empty matrices, got shape {x.shape}")
    if p is None or p in (2, -2):
        try:
            s = svdvals(x)
        except LinAlgError as e:  # a NaN: NumPy's SVD does not converge either
            raise LinAlgError(f"cond: {e}") from None
        num, den = getitem(s, (..., 0)), getitem(s, (..., -1))
        if p == -2:
            num, den = den, num
        infinite = den.data == 0  # NumPy's s_max / 0 (a 0 / 0 too: inf, not NaN)
        out = num / where(infinite, 1, den)
    else:
        if x.shape[-1] != x.shape[-2]:
            raise LinAlgError(f"cond: p={p!r} needs square matrices, got shape {x.shape}")
        with np.errstate(invalid="ignore"):  # a NaN in x
            singular = np.linalg.slogdet(x.data)[0] == 0  # a zero pivot: NumPy's inv fails
        nan = np.isnan(x.data).any(axis=(-2, -1))
        skip = singular | nan  # inf, NaN (as NumPy), each with gradient 0
        safe = where(skip[..., None, None], np.eye(x.shape[-1], dtype=x.dtype), x)
        out = matrix_norm(safe, ord=p) * matrix_norm(inv(safe), ord=p)
        out = where(nan, math.nan, out) if nan.any() else out
        infinite = singular & ~nan
    # NaN from inv's overflow is inf too, as NumPy (unless x holds a NaN)
    infinite = infinite | (np.isnan(out.data) & ~np.isnan(x.data).any(axis=(-2, -1)))
    return where(infinite, math.inf, out) if infinite.any() else out


def _square(op: str, a: Tensor, rows: tuple[int, ...], cols: tuple[int, ...]) -> int:
    """n, when a's leading axes (of sizes `rows`) and its trailing ones (`cols`) make an n x n
    matrix."""
    n = math.prod(cols)
    if math.prod(rows) != n:
        raise LinAlgError(f"{op}: a of shape {a.shape} is not 'square': its leading axes "
                          f"{rows} hold {math.prod(rows)} elements, its trailing axes {cols} "
                          f"{n}")
    return n


def _invertible(op: str, a: Tensor, f: Any, *args: Any) -> Tensor:
    """f(*args) (solve, inv), its LinAlgError naming `op` and a's shape."""
    try:
        return f(*args)
    except LinAlgError as e:
        raise LinAlgError(f"{op}: a of shape {a.shape}, as a matrix: {e}") from None


@register(np.linalg.tensorsolve, namespace="linalg")
def tensorsolve(a: Any, b: Any, axes: Sequence[int] | None = None) -> Tensor:
    """x with tensordot(a, x, x.ndim) = b, as np.linalg.tensorsolve: a of shape
    b.shape + x.shape (`axes`: a's axes moved last first, in that order), the product of x's
    shape that of b's; `b` is read flat, as NumPy and PyTorch do. Composite: solve of a
    reshaped to a square matrix, so its gradients.

    >>> import numpy as np
    >>> import autodiff as ad
    >>> a = ad.tensor(np.eye(6).reshape(6, 2, 3) * 2)
    >>> ad.linalg.tensorsolve(a, ad.ones(6)).shape
    (2, 3)
    """
    a, b = pair(a, b, "tensorsolve")
    a, b = as_tensor(a), as_tensor(b)
    if axes is not None:
        moved = normalize_axes("tensorsolve", axes, a.ndim)
        a = transpose(a, [i for i in range(a.ndim) if i not in moved] + list(moved))
    if b.ndim > a.ndim:
        raise LinAlgError(f"tensorsolve: b of shape {b.shape} has more dimensions than a of "
                          f"shape {a.shape} (a's shape is b's followed by x's)")
    # NumPy's x.shape, a.shape[-(a.ndim - b.ndim):], is all of a's when they have as many axes
    shape = a.shape[b.ndim:] if a.ndim > b.ndim else a.shape
    n = _square("tensorsolve", a, a.shape[:a.ndim - len(shape)], shape)
    if b.size != n:
        raise LinAlgError(f"tensorsolve: b of shape {b.shape} does not fit a of shape {a.shape}"
                          f": b has {b.size} elements, x {n}")
    x = _invertible("tensorsolve", a, solve, reshape(a, (n, n)), reshape(b, (n,)))
    return reshape(x, shape)


@register(np.linalg.tensorinv, namespace="linalg")
def tensorinv(a: Any, ind: int = 2) -> Tensor:
    """The inverse of `a` for tensordot(., ., ind), as np.linalg.tensorinv: of shape
    a.shape[ind:] + a.shape[:ind], the products of both parts equal. Composite: inv of a
    reshaped to a square matrix, so its gradient.

    >>> import numpy as np
    >>> import autodiff as ad
    >>> a = ad.tensor(np.eye(6).reshape(2, 3, 6) * 4)
    >>> ad.linalg.tensorinv(a).shape
    (6, 2, 3)
    """
    a = as_tensor(a)
    if isinstance(ind, bool) or not hasattr(ind, "__index__") or operator.index(ind) <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind!r}")
    rows, cols = a.shape[:operator.index(ind)], a.shape[operator.index(ind):]
    n = _square("tensorinv", a, rows, cols)
    return reshape(_invertible("tensorinv", a, inv, reshape(a, (n, n))), cols + rows)


def _lstsq_cutoff(rcond: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """np.linalg.lstsq's rcond: None is eps * max(M, N); a negative one is eps (LAPACK's)."""
    eps = np.finfo(dtype).eps
    if rcond is None:
        return eps * max(shape[-2:])
    rcond = float(rcond.item() if isinstance(rcond, Tensor) else rcond)
    return eps if rcond < 0 else rcond


@register(np.linalg.lstsq, namespace="linalg",
          convention="x = pinv(a) b: the gradient of a matrix of constant rank, as pinv")
def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The least-squares solution of a @ x = b, as np.linalg.lstsq: `a` (M, N), `b` (M,) or
    (M, K); returns (x, residuals, rank, s). x is the minimum-norm solution pinv(a) @ b, with
    singular values up to `rcond` times the largest counted as zero (None: eps * max(M, N)).
    residuals: the squared 2-norm of each column of b - a x when the rank is N < M, otherwise
    empty (shape (0,)); rank: an integer tensor, no gradient; s: the singular values of `a`.

    >>> import autodiff as ad
    >>> x, residuals, rank, s = ad.linalg.lstsq(ad.tensor([[1.0, 0.0], [0.0, 2.0]]),
    ...                                         ad.tensor([1.0, 1.0]))
    >>> x, int(rank)
    (tensor([1. , 0.5]), 2)
    """
    a, b = pair(a, b, "lstsq")  # one dtype, as the arithmetic ops
    a, b = _matrices("lstsq", a, square=False), as_tensor(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise ValueError(f"lstsq: a must be 2-D (M, N) and b (M,) or (M, K), as NumPy's, got "
                         f"shapes {a.shape} and {b.shape}")
    m, n = a.shape
    if b.shape[0] != m:
        raise ValueError(f"lstsq: b of shape {b.shape} does not fit a of shape {a.shape}: "
                         f"its first axis must be {m}")
    cutoff = _lstsq_cutoff(rcond, a.shape, a.dtype)
    x = matmul(pinv(a, rcond=cutoff), b)
    s = svdvals(a)
    rank = int((s.data > cutoff * s.data.max(initial=0)).sum())
    if rank == n and m > n:
        r = matmul(a, x) - b
        residuals = sum(r * r, axis=0)
        if b.ndim == 1:
            residuals = reshape(residuals, (1,))
    else:
        residuals = Tensor._make(np.zeros(0, dtype=a.dtype), None, 0)
    return x, residuals, Tensor._make(np.asarray(rank, dtype=np.int32), None, 0), s


def _chain_order(shapes: list[tuple[int, int]]) -> list[list[int]]:
    """The cheapest order of matrix products for a chain (np.linalg.multi_dot's dynamic
    program): split[i][j] is where the product of matrices i..j splits."""
    n = len(shapes)
    p = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = np.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ms: list[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    if i == j:
        return ms[i]
    k = split[i][j]
    return matmul(_chain(ms, split, i, k), _chain(ms, split, k + 1, j))


@register(np.linalg.multi_dot, namespace="linalg")
def multi_dot(arrays: Sequence[Any], *, out: None = None) -> Tensor:
    """The product of two or more matrices in the cheapest order (np.linalg.multi_dot): a 1-D
    first operand is a row vector and a 1-D last one a column vector, their axes dropped from
    the result; the others are 2-D.

    >>> import autodiff as ad
    >>> A, B, x = ad.ones((10, 100)), ad.ones((100, 5)), ad.ones(5)
    >>> ad.linalg.multi_dot([A, B, x]).shape
    (10,)
    """
    if out is not None:
        raise TypeError("multi_dot: out= is not supported (results are new tensors)")
    ms = [as_tensor(x) for x in arrays]
    if len(ms) < 2:
        raise ValueError(f"multi_dot: needs at least two arrays, got {len(ms)}")
    first, last = ms[0].ndim == 1, ms[-1].ndim == 1
    if first:
        ms[0] = reshape(ms[0], (1, -1))
    if last:
        ms[-1] = reshape(ms[-1], (-1, 1))
    for i, x in enumerate(ms):
        if x.ndim != 2:
            raise ValueError(f"multi_dot: array {i} has {x.ndim} dimensions: the first and the "
                             "last may be 1-D, every other one is 2-D")
    for i in range(len(ms) - 1):
        if ms[i].shape[1] != ms[i + 1].shape[0]:
            raise ValueError(f"multi_dot: shapes {ms[i].shape} (array {i}) and "
                             f"{ms[i + 1].shape} (array {i + 1}) are not aligned")
    result = _chain(ms, _chain_order([x.shape for x in ms]), 0, len(ms) - 1)
    if first or last:
        result = reshape(result, [n for n, drop in zip(result.shape, (first, last)) if not drop])
    return result


@register(np.linalg.matrix_rank, namespace="linalg", differentiable=False)
def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *,
                rtol: Any = None) -> Tensor:
    """The number of singular values above the tolerance, per matrix (np.linalg.matrix_rank,
    its arguments and defaults): an integer tensor, without gradient.

    >>> import autodiff as ad
    >>> int(ad.linalg.matrix_rank(ad.tensor([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    def plain(v: Any) -> Any:
        return v.data if isinstance(v, Tensor) else v

    a = as_tensor(A)
    rank = np.linalg.matrix_rank(a.data, tol=plain(tol), hermitian=hermitian, rtol=plain(rtol))
    return Tensor._make(np.asarray(rank), None, 0)


# -- NumPy 2's array-API functions of np.linalg: on the last axes --------------------------


def _at_least_2d(op: str, x: Any) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dimensions (a stack of matrices), got shape "
                         f"{x.shape}")
    return x


@register(np.linalg.trace, namespace="linalg")
def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """The trace of each matrix of the last two axes (np.linalg.trace; `ad.trace` is np.trace,
    over the first two axes).

    >>> import autodiff as ad
    >>> ad.linalg.trace(ad.ones((5, 3, 3))).shape
    (5,)
    """
    x = _at_least_2d("linalg.trace", x)
    return _products.trace(x, offset, -2, -1, dtype=dtype)


@register(np.linalg.diagonal, namespace="linalg")
def diagonal(x: Any, /, *, offset: int = 0) -> Tensor:
    """The diagonal of each matrix of the last two axes (np.linalg.diagonal; `ad.diagonal` is
    np.diagonal, over the first two axes).

    >>> import autodiff as ad
    >>> ad.linalg.diagonal(ad.ones((5, 2, 3)), offset=1).shape
    (5, 2)
    """
    x = _at_least_2d("linalg.diagonal", x)
    return _products.diagonal(x, offset, -2, -1)


@register(np.linalg.matrix_transpose, namespace="linalg")
def matrix_transpose(x: Any, /) -> Tensor:
    """Each matrix of the last two axes transposed (np.linalg.matrix_transpose, `x.mT`).

    >>> import autodiff as ad
    >>> ad.linalg.matrix_transpose(ad.ones((5, 2, 3))).shape
    (5, 3, 2)
    """
    return swapaxes(_at_least_2d("linalg.matrix_transpose", x), -1, -2)


@register(np.linalg.vecdot, namespace="linalg")
def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Tensor:
    """The dot product of the vectors along `axis` (np.linalg.vecdot): sum(x1 * x2, axis), the
    other axes broadcast; the vectors' axis must have one size in both.

    >>> import autodiff as ad
    >>> ad.linalg.vecdot(ad.ones((4, 3)), ad.tensor([1.0, 2.0, 3.0]))
    tensor([6., 6., 6., 6.])
    """
    x1, x2 = pair(x1, x2, "linalg.vecdot")
    s1, s2 = np.shape(x1.data), np.shape(x2.data)
    if not s1 or not s2:
        raise ValueError(f"linalg.vecdot: needs vectors, got shapes {s1} and {s2}")
    a1, a2 = normalize_axis("linalg.vecdot", axis, len(s1)), normalize_axis(
        "linalg.vecdot", axis, len(s2))
    if s1[a1] != s2[a2]:
        raise ValueError(f"linalg.vecdot: the vectors of shapes {s1} and {s2} along axis "
                         f"{axis} differ in size ({s1[a1]} != {s2[a2]})")
    return sum(mul(swapaxes(x1, a1, -1), swapaxes(x2, a2, -1)), axis=-1)


@register(np.linalg.outer, namespace="linalg")
def outer(x1: Any, x2: Any, /) -> Tensor:
    """out[i, j] = x1[i] * x2[j] for two vectors (np.linalg.outer, which takes 1-D arrays only;
    `ad.outer`, np.outer, flattens).

    >>> import autodiff as ad
    >>> ad.linalg.outer(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 10.0]))
    tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    x1, x2 = pair(x1, x2, "linalg.outer")
    s1, s2 = np.shape(x1.data), np.shape(x2.data)
    if len(s1) != 1 or len(s2) != 1:
        raise ValueError(f"linalg.outer: takes vectors (1-D), got shapes {s1} and {s2}; "
                         "ad.outer (np.outer) flattens")
    return _products.outer(x1, x2)


@register(np.linalg.cross, namespace="linalg")
def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Tensor:
    """The cross products of the 3-vectors along `axis` of x1 and x2 (np.linalg.cross, which
    takes 3-vectors only; `ad.cross`, np.cross, also 2-vectors), the other axes broadcast.

    >>> import autodiff as ad
    >>> ad.linalg.cross(ad.tensor([1.0, 0.0, 0.0]), ad.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    x1, x2 = pair(x1, x2, "linalg.cross")
    s1, s2 = np.shape(x1.data), np.shape(x2.data)
    if not s1 or not s2:
        raise ValueError(f"linalg.cross: needs vectors, got shapes {s1} and {s2}")
    n1 = s1[normalize_axis("linalg.cross", axis, len(s1))]
    n2 = s2[normalize_axis("linalg.cross", axis, len(s2))]
    if n1 != 3 or n2 != 3:
        raise ValueError(f"linalg.cross: takes 3-vectors, got {n1} and {n2} components along "
                         f"axis {axis} (shapes {s1} and {s2}); ad.cross (np.cross) takes 2 too")
    return _products.cross(x1, x2, axis=axis)
