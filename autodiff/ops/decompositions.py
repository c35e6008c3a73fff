"""np.linalg's matrix functions, reached as `ad.linalg.<name>` and `np.linalg.<name>(tensor)`:
inv, solve, det, slogdet, cholesky, eigh, svd, qr, pinv (primitives, NumPy's LAPACK forward and
a backward in Tensor ops, so that it can be differentiated again) and matrix_power (matrix
products). Each works on the last two axes and is batched over the leading ones, as NumPy.

Where a gradient exists only under a condition, the condition is the one of the math:
- inv, solve, slogdet, qr: an invertible matrix (qr: full rank, R's diagonal nonzero within
  rounding); a singular one raises. det has
  derivatives of every order everywhere: at a singular matrix, its cofactors, and their
  derivatives from the determinants of the minors.
- cholesky, eigh: the input is taken as symmetric (NumPy reads one triangle), and the gradient
  is the symmetric one (as PyTorch and JAX): the derivative along symmetric perturbations.
- eigh, svd: the gradient through the eigenvectors (singular vectors) needs the eigenvalues
  (singular values) of the vectors the loss uses to be distinct; at a repeated value it raises,
  naming the values (PyTorch returns inf/nan there). Through the eigenvalues (singular values)
  alone it is V diag(grad) V^T, grad shared evenly within a repeated value (so that it does not
  depend on the basis LAPACK chose). Repeated: equal within k eps max|value|.

>>> import numpy as np
>>> import autodiff as ad
>>> A = ad.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> np.linalg.det(A).backward()
>>> A.grad
tensor([[ 3., -1.],
        [-1.,  2.]])
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from autodiff.function import Function
from autodiff.grad_mode import STATE
from autodiff.ops._convert import as_tensor, pair
from autodiff.ops.indexing import getitem, where
from autodiff.ops.linalg import matmul, tril
from autodiff.ops.reduce import sum
from autodiff.ops.registry import register
from autodiff.ops.shape import astype, concatenate, reshape
from autodiff.tensor import Tensor

__all__ = ["cholesky", "det", "eigh", "inv", "matrix_power", "pinv", "qr", "slogdet", "solve",
           "svd"]

LinAlgError = np.linalg.LinAlgError


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


def _mT(x: Any) -> Any:
    """The matrices of x transposed (its last two axes swapped)."""
    return x.swapaxes(-1, -2)


def _matrices(op: str, a: Any, square: bool = True) -> Tensor:
    """`a` as a stack of matrices (..., M, N), square when asked; integer input becomes
    float64, as NumPy's linalg (a constant: integer tensors carry no gradient); float16 raises."""
    a = as_tensor(a)
    if a.ndim < 2:
        raise LinAlgError(f"{op}: needs a matrix or a stack of matrices (at least 2 "
                          f"dimensions), got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"{op}: the last two dimensions must be square, got shape {a.shape}")
    if a.data.dtype.kind != "f":
        a = Tensor._make(a.data.astype(np.float64), None, 0)
    elif a.data.dtype not in (np.float32, np.float64):  # NumPy's message names no function
        raise TypeError(f"{op}: {a.data.dtype} is not supported (LAPACK computes in float32 and "
                        "float64 only, as NumPy and PyTorch); cast first: x.astype('float32')")
    return a


def _lapack(op: str, f: Any, *arrays: Any, **kwargs: Any) -> Any:
    """NumPy's function, its LinAlgError naming the op and the shape."""
    try:
        return f(*arrays, **kwargs)
    except LinAlgError as e:
        raise LinAlgError(f"{op}: {e} (input of shape {arrays[0].shape})") from None


def _eye(n: int, dtype: np.dtype) -> np.ndarray:
    return np.eye(n, dtype=dtype)


# -- inverse, solve, determinants --------------------------------------------------------------


class Inv(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a):
        out = _lapack("inv", np.linalg.inv, a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        t = _mT(out)
        return -(t @ grad @ t)  # d(A^-1) = -A^-1 dA A^-1


@register(np.linalg.inv, namespace="linalg")
def inv(a: Any) -> Tensor:
    """The inverse of each matrix of `a` (..., M, M); its gradient is -A^-T grad A^-T.

    >>> import autodiff as ad
    >>> ad.linalg.inv(ad.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    return Inv.apply(_matrices("inv", a))


class Solve(Function):
    @staticmethod
    def forward(ctx, a, b):
        x = _lapack("solve", np.linalg.solve, a, b)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        gb = solve(_mT(a), grad)  # A^T gb = grad
        return (-(gb @ _mT(x)) if ctx.needs_input_grad[0] else None), gb


@register(np.linalg.solve, namespace="linalg")
def solve(a: Any, b: Any) -> Tensor:
    """x with a @ x = b (np.linalg.solve's rules: `b` of shape (M,) is a vector, otherwise a
    stack of (M, K) matrices; batch axes broadcast). Gradients: gb = solve(A^T, grad),
    ga = -gb x^T.

    >>> import autodiff as ad
    >>> ad.linalg.solve(ad.tensor([[2.0, 0.0], [0.0, 4.0]]), ad.tensor([1.0, 1.0]))
    tensor([0.5 , 0.25])
    """
    a, b = pair(a, b, "solve")  # one dtype, as the arithmetic ops
    a, b = _matrices("solve", a), as_tensor(b)
    m = a.shape[-1]
    vector = b.ndim == 1
    if (b.shape[0] if vector else b.shape[-2] if b.ndim >= 2 else None) != m:
        raise ValueError(f"solve: b of shape {b.shape} does not fit a of shape {a.shape} "
                         "(b is (M,) or (..., M, K))")
    try:
        x = Solve.apply(a, reshape(b, (m, 1)) if vector else b)
    except ValueError as e:
        if isinstance(e, LinAlgError):
            raise
        raise ValueError(f"solve: batch axes of shapes {a.shape} and {b.shape} cannot be "
                         "broadcast together") from None
    return reshape(x, x.shape[:-1]) if vector else x


class Det(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        g = reshape(grad, (*grad.shape, 1, 1))
        # invertible: a det of 0 may be an underflow (0.1 I of size 40 in float32), which
        # slogdet tells from a zero pivot
        if (out.data != 0).all() or (np.linalg.slogdet(a.data)[0] != 0).all():
            try:  # d det = det tr(A^-1 dA)
                return g * reshape(out, (*out.shape, 1, 1)) * _mT(inv(a))
            except LinAlgError:
                pass
        # a singular matrix (in the batch): no inverse. Recorded (a gradient to differentiate
        # again), the determinants of the minors; otherwise the SVD, faster.
        return g * (_cofactors_of_minors(a) if STATE.grad_enabled else _cofactors(a))


def _cofactors(a: Tensor) -> Tensor:
    """adj(A)^T, the matrix of cofactors: the gradient of det at any matrix, singular ones
    included (as PyTorch). From the SVD A = U S Vh: det(U) det(Vh) U diag(prod_{j!=i} s_j) Vh,
    the products without s_i made of products before and after it (no division by 0)."""
    u, s, vh = svd(a, full_matrices=False)
    k = s.shape[-1]
    values = [getitem(s, (Ellipsis, slice(i, i + 1))) for i in range(k)]
    before = after = [np.ones((*s.shape[:-1], 1), s.dtype)]
    for i in range(k - 1):
        before = [*before, before[-1] * values[i]]
        after = [*after, after[-1] * values[k - 1 - i]]
    others = concatenate([before[i] * after[k - 1 - i] for i in range(k)], axis=-1)
    sign = np.linalg.det(u.data) * np.linalg.det(vh.data)  # +-1, a constant
    return (u * reshape(others * sign[..., None], (*s.shape[:-1], 1, k))) @ vh


_MINORS_LIMIT = 2 ** 27  # numbers (1 GiB of float64): a singular 107 x 107 matrix's minors


def _cofactors_of_minors(a: Tensor) -> Tensor:
    """The cofactors (-1)^(i+j) det(A without row i and column j) as determinants of the n^2
    minors: a composite of det, so exact to every order at any matrix (at a singular one the
    SVD's vectors of a repeated singular value have no derivative). Costs n^2 determinants of
    size n - 1, and n^4 numbers per matrix."""
    n = a.shape[-1]
    numbers = a.size * (n - 1) ** 2  # the minors of every matrix of the batch
    if numbers > _MINORS_LIMIT:
        raise MemoryError(f"det: differentiating the gradient of a singular matrix takes its "
                          f"n^2 minors, {numbers:.3g} numbers for shape {a.shape}; more than "
                          f"{_MINORS_LIMIT:.3g} are not made (the first derivative is)")
    rest = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp)
    minors = getitem(a, (Ellipsis, rest[:, None, :, None], rest[None, :, None, :]))
    signs = 1.0 - 2.0 * (np.add.outer(np.arange(n), np.arange(n)) % 2)
    return det(minors) * signs.astype(a.dtype)


class LogAbsDet(Function):
    name = "slogdet"

    @staticmethod
    def forward(ctx, a, *, logabsdet):
        ctx.save_for_backward(a)
        return logabsdet  # np.linalg.slogdet(a)'s, computed once with the sign

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        try:
            a_inv = inv(a)
        except LinAlgError:
            raise LinAlgError(f"slogdet: no gradient at a singular matrix (shape {a.shape}): "
                              "log|det| is -inf there") from None
        return reshape(grad, (*grad.shape, 1, 1)) * _mT(a_inv)  # d log|det| = tr(A^-1 dA)


@register(np.linalg.det, namespace="linalg",
          convention="at a singular matrix: the cofactors, and derivatives of every order exact "
                     "there too (det is a polynomial); PyTorch 2.13 returns zeros there")
def det(a: Any) -> Tensor:
    """The determinant of each matrix of `a` (..., M, M). Its gradient is det(A) A^-T, and at
    a singular matrix the cofactors (from the SVD; differentiated again, the determinants of the
    minors), so that every order of derivative is exact everywhere, det being a polynomial.
    PyTorch 2.13 returns zeros at a singular matrix, and NaN for its second derivative where
    singular values repeat.

    >>> import autodiff as ad
    >>> ad.linalg.det(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(-2.)
    """
    return Det.apply(_matrices("det", a))


@register(np.linalg.slogdet, namespace="linalg")
def slogdet(a: Any) -> SlogdetResult:
    """(sign, log|det|) of each matrix, as NumPy's SlogdetResult; `sign` carries no gradient,
    log|det| has A^-T (an invertible matrix: at a singular one, log|det| = -inf and the
    backward raises).

    >>> import autodiff as ad
    >>> sign, logabsdet = ad.linalg.slogdet(ad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> sign, logabsdet
    (tensor(-1.), tensor(0.6931472))
    """
    a = _matrices("slogdet", a)
    sign, logabsdet = np.linalg.slogdet(a.data)
    return SlogdetResult(Tensor._make(np.asarray(sign), None, 0),
                         LogAbsDet.apply(a, logabsdet=np.asarray(logabsdet)))


# -- decompositions --------------------------------------------------------------------------


def _symmetric(x: Tensor) -> Tensor:
    return (x + _mT(x)) * 0.5


class Cholesky(Function):
    @staticmethod
    def forward(ctx, a, *, upper):
        ctx.upper = upper
        out = _lapack("cholesky", np.linalg.cholesky, a, upper=upper)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        low, g = (_mT(out), _mT(grad)) if ctx.upper else (out, grad)
        p = _mT(low) @ g  # A = L L^T: gA = L^-T Phi(L^T gL) L^-1, Phi: lower, half diagonal
        phi = tril(p, -1) + _diag_part(p) * 0.5
        low_inv = inv(low)
        return _symmetric(_mT(low_inv) @ phi @ low_inv)


def _diag_part(x: Tensor) -> Tensor:
    return x * _eye(x.shape[-1], x.dtype)


@register(np.linalg.cholesky, namespace="linalg",
          convention="symmetric gradient: the input is taken as a symmetric matrix (NumPy reads "
                     "its lower triangle, or upper with upper=True), as PyTorch")
def cholesky(a: Any, *, upper: bool = False) -> Tensor:
    """L lower triangular with L L^T = a (or U = L^T with `upper=True`), for symmetric positive
    definite matrices (..., M, M). NumPy reads one triangle; the gradient is the symmetric one
    (the derivative along symmetric perturbations, as PyTorch and JAX).

    >>> import autodiff as ad
    >>> ad.linalg.cholesky(ad.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    return Cholesky.apply(_matrices("cholesky", a), upper=bool(upper))


class Eigh(Function):
    @staticmethod
    def forward(ctx, a, *, uplo):
        w, v = _lapack("eigh", np.linalg.eigh, a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        gw = _share_ties(gw, w)
        inner = reshape(gw, (*gw.shape, 1)) * _eye(w.shape[-1], w.dtype)  # diag(gw)
        if _used(gv):  # gA = V (diag(gw) + F o skew(V^T gV)) V^T, F_ij = 1 / (w_j - w_i)
            f = _inverse_gaps("eigh", w, [_columns_used(gv)])
            m = _mT(v) @ gv
            inner = inner + f * (m - _mT(m)) * 0.5
        return v @ inner @ _mT(v)


def _ties(values: np.ndarray) -> np.ndarray:
    """(..., k, k): are values i and j equal within LAPACK's accuracy, k eps max|value| (there
    the computed vectors are any basis of the common space)? The diagonal is True."""
    k = values.shape[-1]
    scale = np.abs(values).max(axis=-1, initial=0)[..., None, None]
    close = np.abs(values[..., :, None] - values[..., None, :]) <= k * np.finfo(
        values.dtype).eps * scale
    return close | np.eye(k, dtype=bool)


def _share_ties(g: Tensor, values: Tensor) -> Tensor:
    """g shared evenly within each group of tied values (as max shares it among tied maxima):
    at a repeated eigenvalue (singular value) the vectors are any basis of a common space, and
    V diag(g) V^T depends on that basis unless g is equal across the group. Linear in g (a
    constant averaging matrix), so it differentiates on."""
    tie = _ties(values.data)
    if tie.sum() == tie.size // max(values.shape[-1], 1):  # only the diagonal: no tie
        return g
    share = (tie / tie.sum(axis=-1, keepdims=True)).astype(values.dtype)
    return sum(reshape(g, (*g.shape[:-1], 1, g.shape[-1])) * share, axis=-1)


def _used(g: Tensor) -> bool:
    """False for a gradient the engine filled with zeros (an output the loss does not use)."""
    return g.requires_grad or bool(g.data.any())


def _columns_used(g: Tensor) -> np.ndarray:
    """(..., k): does the loss use vector i (column i of g)?"""
    return (g.data != 0).any(axis=-2)


def _inverse_gaps(op: str, values: Tensor, used: list[np.ndarray], square: bool = False,
                  value: str = "eigenvalue", vectors: str = "eigenvectors") -> Tensor:
    """F_ij = 1 / (v_j - v_i) (of the squares when `square`), 0 on the diagonal. A gap of 0
    (a repeated value, within LAPACK's accuracy: `_ties`) is allowed only between vectors the
    loss does not use (`used`: (..., k) per cotangent): their term is then exactly 0, whatever
    basis NumPy chose; otherwise raise (1 / gap would be 1e16 times a basis made by rounding)."""
    x = values * values if square else values
    k = x.shape[-1]
    gaps = reshape(x, (*x.shape[:-1], 1, k)) - reshape(x, (*x.shape, 1))
    tie = _ties(values.data)
    off = tie & ~np.eye(k, dtype=bool)
    if off.any():
        bad = off & np.any([u[..., :, None] | u[..., None, :] for u in used], axis=0)
        if bad.any():
            *batch, i, j = (int(n) for n in np.argwhere(bad)[0])
            vi, vj = float(values.data[(*batch, i)]), float(values.data[(*batch, j)])
            at = f"both {vi}" if vi == vj else f"{vi} and {vj}, equal within rounding"
            at += f" (batch index {tuple(batch)})" if batch else ""
            raise ValueError(
                f"{op}: the gradient through the {vectors} is not defined at a repeated "
                f"{value}: {value}s {i} and {j} are {at}, "
                f"and the loss uses their {vectors}, which are any basis of a common space. "
                f"Use the {value}s alone, or a function of the {vectors} that does not depend "
                "on that basis, away from the repetition.")
    return where(tie, 0, 1 / where(tie, 1, gaps))


@register(np.linalg.eigh, namespace="linalg",
          convention="symmetric gradient (the input is taken as symmetric, as PyTorch); "
                     "at a repeated eigenvalue (within rounding) the eigenvalues' gradient is "
                     "shared evenly within it, and through its eigenvectors raises (PyTorch: "
                     "inf/nan)")
def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices (..., M, M), as
    NumPy's EighResult; NumPy reads the lower triangle (`UPLO="U"`: the upper one).

    The gradient is the symmetric one (the input is taken as symmetric, as PyTorch and JAX).
    Through the eigenvalues it is V diag(grad) V^T; at a repeated eigenvalue grad is shared
    evenly among its copies, as max shares among tied maxima (PyTorch's depends on the basis
    LAPACK returns). Through the eigenvectors it needs the eigenvalues of the vectors the loss
    uses to be distinct (each eigenvector is defined up to its sign, so use functions that do
    not depend on it, v v^T say): at a repeated eigenvalue the eigenvectors are any basis of
    its eigenspace and the backward raises a ValueError naming the eigenvalue (PyTorch returns
    inf/nan there). Repeated means equal within k eps max|w|, LAPACK's accuracy: closer than
    that, the computed vectors are made by rounding.

    >>> import autodiff as ad
    >>> w, v = ad.linalg.eigh(ad.tensor([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    tensor([1., 3.])
    """
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*Eigh.apply(_matrices("eigh", a), uplo=UPLO))


class Svd(Function):
    @staticmethod
    def forward(ctx, a):
        u, s, vh = _lapack("svd", np.linalg.svd, a, full_matrices=False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, k, n = u.shape[-2], s.shape[-1], vh.shape[-1]
        gs = _share_ties(gs, s)
        diag_gs = reshape(gs, (*gs.shape, 1)) * _eye(k, s.dtype)
        use_u, use_v = _used(gu), _used(gvh)
        if not (use_u or use_v):
            return u @ diag_gs @ vh
        # Townsend's formula, F_ij = 1 / (s_j^2 - s_i^2):
        # gA = U [(F o skew(U^T gU)) S + diag(gS) + S (F o skew(V^T gV))] V^T
        #      + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)
        u_used = _columns_used(gu) if use_u else np.zeros(s.shape, dtype=bool)
        v_used = (gvh.data != 0).any(axis=-1) if use_v else np.zeros(s.shape, dtype=bool)
        f = _inverse_gaps("svd", s, [u_used, v_used], square=True, value="singular value",
                          vectors="singular vectors")
        inner, extra = diag_gs, []
        if use_u:
            j = _mT(u) @ gu
            inner = inner + f * (j - _mT(j)) * reshape(s, (*s.shape[:-1], 1, k))
            if m > k:
                extra.append((gu - u @ j) * _inverse_values("svd", s, u_used, max(m, n)) @ vh)
        if use_v:
            v, gv = _mT(vh), _mT(gvh)
            kk = vh @ gv
            inner = inner + reshape(s, (*s.shape, 1)) * (f * (kk - _mT(kk)))
            if n > k:
                extra.append(u @ _mT((gv - v @ kk) * _inverse_values("svd", s, v_used, max(m, n))))
        ga = u @ inner @ vh
        for term in extra:
            ga = ga + term
        return ga


def _inverse_values(op: str, s: Tensor, used: np.ndarray, size: int) -> Tensor:
    """1 / s as a row (..., 1, k); a zero singular value of a non-square matrix (at most
    max(M, N) eps s_max, np.linalg.matrix_rank's tolerance: its vector is made by rounding) is
    allowed only for vectors the loss does not use (their term is 0)."""
    x = s.data
    tol = size * np.finfo(x.dtype).eps * np.abs(x).max(axis=-1, initial=0)[..., None]
    zero = x <= tol
    if (zero & used).any():
        raise ValueError(f"{op}: the gradient through the singular vectors of a non-square "
                         "matrix is not defined at a zero singular value (rank deficient: "
                         f"at most {float(tol.max()):.3g}, np.linalg.matrix_rank's tolerance); "
                         f"singular values {x}")
    inv_s = where(zero, 0, 1 / where(zero, 1, s)) if zero.any() else 1 / s
    return reshape(inv_s, (*s.shape[:-1], 1, s.shape[-1]))


@register(np.linalg.svd, namespace="linalg",
          convention="at a repeated singular value (within rounding) the singular values' "
                     "gradient is shared evenly within it; through the singular vectors, "
                     "distinct singular values (nonzero for a non-square matrix) are needed: a "
                     "repeated one raises (PyTorch: inf/nan)")
def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> SVDResult | Tensor:
    """U, S, Vh with a = U diag(S) Vh (..., M, N), singular values descending, as NumPy's
    SVDResult; only S with `compute_uv=False` (whatever `full_matrices`, as NumPy). The reduced
    SVD: `full_matrices=True` (NumPy's default) with U and Vh is refused for a non-square
    matrix, whose extra columns are not unique.

    Through S the gradient is U diag(grad) Vh, grad shared evenly within a repeated singular
    value (as eigh's). Through U and Vh it needs the singular values of the vectors the loss
    uses to be distinct, and nonzero when the matrix is not square (nonzero: above
    np.linalg.matrix_rank's tolerance); at a repeated value the backward raises a ValueError
    naming it (PyTorch returns inf/nan). Each pair (u_i, v_i) is defined up to a common sign:
    use functions that do not depend on it (u_i v_i^T, say).

    >>> import autodiff as ad
    >>> U, S, Vh = ad.linalg.svd(ad.tensor([[3.0, 0.0], [0.0, -2.0]]))
    >>> S
    tensor([3., 2.])
    """
    a = _matrices("svd", a, square=False)
    if hermitian:
        raise ValueError("svd: hermitian=True is not supported (NumPy then computes it from "
                         "eigh, with other signs); use ad.linalg.eigh, or the default")
    if full_matrices and compute_uv and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"svd: full_matrices=True on a non-square matrix (shape {a.shape}) is "
                         "not supported: the extra columns of U or rows of Vh are not unique, so "
                         "they have no gradient. Pass full_matrices=False (the reduced SVD)")
    u, s, vh = Svd.apply(a)
    return SVDResult(u, s, vh) if compute_uv else s


class Qr(Function):
    @staticmethod
    def forward(ctx, a):
        q, r = np.linalg.qr(a, mode="reduced")
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        a, q, r = ctx.saved_tensors
        m, n = a.shape[-2:]
        if m >= n:
            return _qr_square_grad(q, r, gq, gr)
        # A = Q [X | Y] = Q [U | V]: X = Q U is a square QR, Y = Q V
        y, u = getitem(a, (Ellipsis, slice(m, None))), getitem(r, (Ellipsis, slice(None, m)))
        gu, gv = getitem(gr, (Ellipsis, slice(None, m))), getitem(gr, (Ellipsis, slice(m, None)))
        gx = _qr_square_grad(q, u, gq + y @ _mT(gv), gu)
        return concatenate([gx, q @ gv], axis=-1)


def _qr_square_grad(q: Tensor, r: Tensor, gq: Tensor, gr: Tensor) -> Tensor:
    """A = Q R with R square (m >= n): gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q,
    copyltu(M) the symmetric matrix of M's lower triangle."""
    pivots = np.abs(np.diagonal(r.data, axis1=-2, axis2=-1))
    scale = np.abs(r.data).max(axis=(-2, -1), initial=0)[..., None]
    tol = max(q.shape[-2], r.shape[-1]) * np.finfo(r.dtype).eps * scale
    if (pivots <= tol).any():  # R^-T of a 0 made by rounding: a gradient of 1e15 or inf
        *batch, i = (int(n) for n in np.argwhere(pivots <= tol)[0])
        raise LinAlgError(f"qr: the gradient of a rank-deficient matrix is not computed: R's "
                          f"diagonal entry {i} is {pivots[(*batch, i)]:.3g}, 0 within rounding "
                          f"(at most {float(tol[(*batch, 0)]):.3g}; R of shape {r.shape})")
    mm = r @ _mT(gr) - _mT(gq) @ q
    low = tril(mm, -1)
    b = gq + q @ (low + _mT(low) + _diag_part(mm))
    return _mT(solve(r, _mT(b)))


@register(np.linalg.qr, namespace="linalg",
          convention="needs a full-rank matrix (R invertible on its square part)")
def qr(a: Any, mode: str = "reduced") -> QRResult | Tensor:
    """Q with orthonormal columns and R upper triangular, a = Q R (..., M, N), as NumPy's
    QRResult: the reduced factorization (NumPy's default); `mode="r"` gives R alone, and
    `mode="complete"` is accepted where it equals the reduced one (M <= N). Its gradient needs
    a full-rank matrix.

    >>> import autodiff as ad
    >>> Q, R = ad.linalg.qr(ad.tensor([[3.0, 1.0], [4.0, 2.0]]))
    >>> (Q @ R).tolist()
    [[3.0, 1.0], [4.0, 2.0]]
    """
    a = _matrices("qr", a, square=False)
    if mode not in ("reduced", "r", "complete"):
        raise ValueError(f"qr: mode {mode!r} is not supported ('reduced', 'r', or 'complete' "
                         "for M <= N); 'raw' is LAPACK's internal form")
    if mode == "complete" and a.shape[-2] > a.shape[-1]:
        raise ValueError(f"qr: mode='complete' on a tall matrix (shape {a.shape}) is not "
                         "supported: the extra columns of Q are not unique, so they have no "
                         "gradient. Use mode='reduced'")
    q, r = Qr.apply(a)
    return r if mode == "r" else QRResult(q, r)


_NOT_GIVEN: Any = object()  # pinv's rtol when not given (NumPy's _NoValue)


class Pinv(Function):
    @staticmethod
    def forward(ctx, a, *, options):
        out = np.linalg.pinv(a, **options)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # P = A^+, for A of constant rank: gA = -P^T G P^T + (I - A P) G^T P P^T
        #                                        + P^T P G^T (I - P A)
        a, p = ctx.saved_tensors
        pt, gt = _mT(p), _mT(grad)
        return (-(pt @ grad @ pt)
                + (gt - a @ (p @ gt)) @ (p @ pt)
                + (pt @ p) @ (gt - (gt @ p) @ a))


@register(np.linalg.pinv, namespace="linalg",
          convention="the gradient of a matrix of constant rank (singular values below the "
                     "cutoff stay zero), as PyTorch")
def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _NOT_GIVEN) -> Tensor:
    """Moore-Penrose pseudo-inverse of (..., M, N) matrices (np.linalg.pinv; singular values up
    to `rcond` (or `rtol`; None: max(M, N) * eps) times the largest count as zero; 1e-15 when
    neither is given). Its gradient is the one of a matrix whose rank does not change (Golub and
    Pereyra's formula, as PyTorch).

    >>> import autodiff as ad
    >>> ad.linalg.pinv(ad.tensor([[1.0, 0.0], [0.0, 0.0]]))
    tensor([[1., 0.],
            [0., 0.]])
    """
    a = _matrices("pinv", a, square=False)
    if hermitian:
        raise ValueError("pinv: hermitian=True is not supported (NumPy then reads one "
                         "triangle); the default gives the same value for a symmetric matrix")
    if rcond is not None and rtol is not _NOT_GIVEN:
        raise ValueError("pinv: rtol and rcond can't be both set")
    options = {}  # what was given, as given: NumPy tells None from nothing for rtol
    if rcond is not None:
        options["rcond"] = np.asarray(rcond.data if isinstance(rcond, Tensor) else rcond)
    if rtol is not _NOT_GIVEN:
        options["rtol"] = rtol if rtol is None else np.asarray(
            rtol.data if isinstance(rtol, Tensor) else rtol)
    return Pinv.apply(a, options=options)


@register(np.linalg.matrix_power, namespace="linalg")
def matrix_power(a: Any, n: int) -> Tensor:
    """a @ a @ ... (n times) for an integer n; n = 0 gives identities (their gradient is 0),
    n < 0 powers of the inverse. Composite: matrix products by binary decomposition, as NumPy.

    >>> import autodiff as ad
    >>> ad.linalg.matrix_power(ad.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    a = as_tensor(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"matrix_power: needs square matrices (..., M, M), got shape "
                          f"{a.shape}")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}") from None
    if n == 0:  # identities, still connected to a (with gradient 0), as PyTorch
        eye = np.broadcast_to(_eye(a.shape[-1], a.dtype), a.shape)
        return where(np.zeros(a.shape, dtype=bool), a, eye)
    if n < 0:
        a, n = inv(a), -n
    if n == 1:
        return astype(a, a.dtype)  # a copy: the result is not the input itself
    if n <= 3:  # NumPy's short cuts, for its exact values
        return matmul(a, a) if n == 2 else matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result
