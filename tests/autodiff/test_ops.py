"""The op table: every differentiable op is one row, checked by one generic property test.

A row gives the op, its NumPy reference, how to draw its inputs (shapes and the domain of the
values) and extra arguments. The generic test checks, on float64 inputs drawn by hypothesis:
the value against NumPy; when the row's op is a registered op, that every NumPy name of it
(`np.f(tensor)`) gives the same value with a gradient; the gradient against central
differences in reverse and forward mode (gradcheck), the second
gradient (gradgradcheck), that gradients alias neither the inputs nor the incoming gradient,
that no array an op keeps on ctx (outside save_for_backward, whose arrays the version check
guards) aliases an input or an output, that nothing mutates the inputs, and that the graph's
saved tensors are freed after backward.
Adding an op costs one row.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad
from autodiff.ops import registry
from autodiff.testing import gradcheck, gradgradcheck
from autodiff.testing.strategies import shapes, valid_axes


def floats(lo: float = -3.0, hi: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float = 0.2, hi: float = 3.0) -> st.SearchStrategy[float]:
    return st.one_of(st.floats(lo, hi), st.floats(-hi, -lo))


def distinct(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Values far from ties (max/min/sort-like ops are not differentiable at ties)."""
    n = int(np.prod(shape))
    return st.permutations(list(range(n))).map(
        lambda p: (np.array(p, dtype=np.float64).reshape(shape) - n / 2) * 0.37 + 0.05)


@dataclass
class Case:
    name: str
    op: Callable[..., Any]
    ref: Callable[..., Any]
    inputs: Callable[[st.DrawFn], list[np.ndarray]]
    kwargs: Callable[[st.DrawFn, list[np.ndarray]], dict[str, Any]] = lambda draw, xs: {}
    second_order: bool = True
    check: dict[str, float] = field(default_factory=dict)  # gradcheck's eps/atol/rtol
    numpy_protocol: bool = True  # False: NumPy's own signature cannot take the row's kwargs
    float32_out: Any = np.float32  # the output dtype for float32 inputs (float_power: float64)


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy[float] | None = None):
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements)


def unary(elements=None, min_dims=0):
    def draw_inputs(draw):
        return [draw(arrays(draw(shapes(min_dims=min_dims)), elements))]
    return draw_inputs


def binary(elements_a=None, elements_b=None):
    def draw_inputs(draw):
        sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                        max_side=3)).input_shapes
        return [draw(arrays(sa, elements_a)), draw(arrays(sb, elements_b))]
    return draw_inputs


def with_distinct(min_dims=1, min_side=1):
    def draw_inputs(draw):
        return [draw(distinct(draw(shapes(min_dims=min_dims, min_side=min_side))))]
    return draw_inputs


def axis_kwargs(keepdims=True, ddof=False, min_size=0):
    def draw_kwargs(draw, xs):
        kw = {"axis": draw(valid_axes(xs[0].ndim, min_size=min_size)),
              "keepdims": draw(st.booleans())
              if keepdims else False}
        if ddof:
            kw["ddof"] = 0
        return kw
    return draw_kwargs


def single_axis(draw, xs):
    return {"axis": draw(st.integers(-xs[0].ndim, xs[0].ndim - 1))}


# -- draws for the linear algebra rows (issue 14) --


def matmul_inputs(draw):
    kind = draw(st.sampled_from(["1d1d", "1d2d", "2d1d", "2d2d", "batched"]))
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    if kind == "1d1d":
        sa, sb = (k,), (k,)
    elif kind == "1d2d":
        sa, sb = (k,), (2, k, n)
    elif kind == "2d1d":
        sa, sb = (2, m, k), (k,)
    elif kind == "2d2d":
        sa, sb = (m, k), (k, n)
    else:
        sa, sb = (2, 1, m, k), (3, k, n)
    return [draw(arrays(sa)), draw(arrays(sb))]


def _sides(draw, n, lo=1, hi=2):
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


def dot_inputs(draw):
    """Every pair of dimensions np.dot takes (0-D to 3-D), aligned."""
    na, nb, k = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 3))
    sa = (*_sides(draw, na - 1), k) if na else ()
    sb = () if not nb else (k,) if nb == 1 else (*_sides(draw, nb - 2), k, draw(st.integers(1, 2)))
    return [draw(arrays(sa)), draw(arrays(sb))]


def inner_inputs(draw):
    na, nb, k = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 3))
    sa = (*_sides(draw, na - 1), k) if na else ()
    sb = (*_sides(draw, nb - 1), k) if nb else ()
    return [draw(arrays(sa)), draw(arrays(sb))]


def vdot_inputs(draw):
    sa = draw(shapes(max_dims=3, max_side=3))
    size = int(np.prod(sa))
    sb = draw(st.sampled_from([(size,), (1, size), tuple(reversed(sa))]))
    return [draw(arrays(sa)), draw(arrays(sb))]


def two_small(draw):
    return [draw(arrays(draw(shapes(max_dims=3, max_side=2)))) for _ in range(2)]


def tensordot_inputs(draw):
    """b holds some of a's axes (so that several `axes` fit), in any order, and maybe one more."""
    sa = draw(shapes(max_dims=3, max_side=3))
    shared = draw(st.permutations(list(sa)))[:draw(st.integers(0, len(sa)))]
    extra = list(_sides(draw, draw(st.integers(0, 1)), 1, 3))
    return [draw(arrays(sa)), draw(arrays(tuple(draw(st.permutations(shared + extra)))))]


def tensordot_kwargs(draw, xs):
    sa, sb = xs[0].shape, xs[1].shape
    ints = [n for n in range(min(len(sa), len(sb)) + 1) if sa[len(sa) - n:] == sb[:n]]
    pairs = [(list(pa), list(pb)) for r in range(1, min(len(sa), len(sb)) + 1)
             for pa in itertools.permutations(range(len(sa)), r)
             for pb in itertools.permutations(range(len(sb)), r)
             if all(sa[i] == sb[j] for i, j in zip(pa, pb))]
    if pairs and draw(st.booleans()):
        pa, pb = draw(st.sampled_from(pairs))
        if draw(st.booleans()):  # negative axes, and plain ints for one axis
            pa = [i - len(sa) for i in pa]
        return {"axes": (pa[0], pb[0]) if len(pa) == 1 and draw(st.booleans()) else (pa, pb)}
    return {"axes": draw(st.sampled_from(ints))}


# subscripts, and the shapes of their operands; several forms may share shapes
EINSUM_FORMS = [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ij,jk", [(2, 3), (3, 2)]), ("ij,jk->ki", [(2, 3), (3, 2)]),
    ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("ij->ji", [(3, 3)]), ("iij->ji", [(2, 2, 3)]),
    ("iji->j", [(2, 3, 2)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]), ("i,i", [(3,), (3,)]), ("i,i->i", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]), ("ij,ij->", [(2, 3), (1, 3)]), ("ij,ij->j", [(2, 3), (1, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("ij,jk,kl", [(2, 3), (3, 2), (2, 2)]),
    ("bA,Ab", [(2, 3), (3, 2)]), ("i...,i...", [(3, 2), (3,)]),
    ("...i,...i->...", [(2, 3), (3,)]),
    ("ab,ab,ab->a", [(2, 2), (2, 2), (2, 2)]), ("ii,ij,jk->k", [(2, 2), (2, 2), (2, 3)]),
    ("->", [()]), ("", [()]), ("...", [(2, 3)]),
]


def einsum_inputs(draw):
    _, operand_shapes = draw(st.sampled_from(EINSUM_FORMS))
    return [draw(arrays(s)) for s in operand_shapes]


def einsum_kwargs(draw, xs):
    found = [s for s, operand_shapes in EINSUM_FORMS if operand_shapes == [x.shape for x in xs]]
    return {"subscripts": draw(st.sampled_from(found)),
            "optimize": draw(st.sampled_from([False, True, "greedy", "optimal"]))}


def _einsum(*xs, subscripts, optimize):
    return ad.einsum(subscripts, *xs, optimize=optimize)


def _einsum_ref(*xs, subscripts, optimize):
    return np.einsum(subscripts, *xs, optimize=optimize)


def diagonal_inputs(draw):
    return [draw(arrays(draw(shapes(min_dims=2, max_dims=3, max_side=3))))]


def diagonal_kwargs(draw, xs):
    """Two different axes and an offset that leaves a diagonal of one element at least."""
    nd = xs[0].ndim
    axis1, axis2 = draw(st.permutations(list(range(nd))))[:2]
    n1, n2 = xs[0].shape[axis1], xs[0].shape[axis2]
    return {"offset": draw(st.integers(1 - n1, n2 - 1)),
            "axis1": axis1 - draw(st.sampled_from([0, nd])), "axis2": axis2}


def diag_inputs(draw):
    return [draw(arrays(draw(shapes(min_dims=1, max_dims=2, max_side=3))))]


def diag_kwargs(draw, xs):
    shape = xs[0].shape
    if len(shape) == 1:
        return {"k": draw(st.integers(-2, 2))}
    return {"k": draw(st.integers(1 - shape[0], shape[1] - 1))}


def triangle_kwargs(draw, xs):
    return {"k": draw(st.integers(-2, 2))}


def _batch(draw):
    return draw(st.sampled_from([(), (2,)]))


def invertible(draw):
    """Square matrices (maybe a batch), well conditioned: entries in [-1, 1] plus 3.5 I, so that
    every eigenvalue is at least 0.5 away from 0 (Gershgorin)."""
    n = draw(st.integers(1, 3))
    return draw(arrays((*_batch(draw), n, n), floats(-1, 1))) + 3.5 * np.eye(n)


def invertible_inputs(draw):
    return [invertible(draw)]


def solve_inputs(draw):
    """b a vector (M,) or a stack of (M, K) matrices whose batch axes broadcast with a's."""
    a = invertible(draw)
    n = a.shape[-1]
    b_shape = draw(st.sampled_from([(n,), (n, 2), (1, n, 1), (2, n, 2)]))
    return [a, draw(arrays(b_shape))]


def _sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def spd_inputs(draw):
    """Symmetric positive definite matrices: a symmetric [-1, 1] part plus 3.5 I."""
    return [_sym(invertible(draw))]


def spread_symmetric_inputs(draw):
    """Symmetric matrices with eigenvalues at least 1 apart: a small symmetric part (norm at
    most 1.5) plus diag(0, 4, 8) (Weyl)."""
    n = draw(st.integers(1, 3))
    e = draw(arrays((*_batch(draw), n, n), floats(-0.5, 0.5)))
    return [_sym(e) + np.diag([0.0, 4.0, 8.0][:n])]


def separated(draw, min_side=1):
    """(..., M, N) matrices with singular values at least 0.6 apart and from 0: a small part
    (norm at most 1.2) plus 2, 5, 8 on the diagonal (Weyl)."""
    m, n = draw(st.integers(min_side, 3)), draw(st.integers(min_side, 3))
    e = draw(arrays((*_batch(draw), m, n), floats(-0.4, 0.4)))
    d = np.zeros((m, n))
    k = min(m, n)
    d[range(k), range(k)] = [2.0, 5.0, 8.0][:k]
    return e + d


def separated_inputs(draw):
    return [separated(draw)]


def _mT(x):
    return x.swapaxes(-1, -2)


def _cholesky(x, upper):
    return ad.linalg.cholesky((x + _mT(x)) * 0.5, upper=upper)


def _cholesky_ref(x, upper):
    return np.linalg.cholesky(_sym(x), upper=upper)


def _eigh(x, UPLO):
    """Eigenvalues and the projectors v_k v_k^T (each eigenvector's sign is arbitrary)."""
    w, v = ad.linalg.eigh((x + _mT(x)) * 0.5, UPLO=UPLO)
    return w, ad.einsum("...ik,...jk->...kij", v, v)


def _eigh_ref(x, UPLO):
    w, v = np.linalg.eigh(_sym(x), UPLO=UPLO)
    return w, np.einsum("...ik,...jk->...kij", v, v)


def _svd(x, compute_uv):
    """Singular values and the products u_k v_k^T (each pair's common sign is arbitrary)."""
    if not compute_uv:
        return ad.linalg.svd(x, full_matrices=False, compute_uv=False)
    u, s, vh = ad.linalg.svd(x, full_matrices=False)
    return s, ad.einsum("...ik,...kj->...kij", u, vh)


def _svd_ref(x, compute_uv):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return (s, np.einsum("...ik,...kj->...kij", u, vh)) if compute_uv else s


def _qr(x, mode):
    """Q and R with R's diagonal made positive (LAPACK's signs flip where a pivot crosses 0)."""
    if mode == "r":
        r = ad.linalg.qr(x, mode="r")
        return r * np.sign(np.diagonal(r.data, axis1=-2, axis2=-1))[..., None]
    q, r = ad.linalg.qr(x, mode=mode)
    sign = np.sign(np.diagonal(r.data, axis1=-2, axis2=-1))
    return q * sign[..., None, :], r * sign[..., None]


def _qr_ref(x, mode):
    if mode == "r":
        r = np.linalg.qr(x, mode="r")
        return r * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None]
    q, r = np.linalg.qr(x, mode=mode)
    sign = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    return q * sign[..., None, :], r * sign[..., None]


def _eigvalsh(x, UPLO):
    """The eigenvalues of x's symmetric part (the gradient is the symmetric one)."""
    return ad.linalg.eigvalsh((x + _mT(x)) * 0.5, UPLO=UPLO)


def _eigvalsh_ref(x, UPLO):
    return np.linalg.eigvalsh(_sym(x), UPLO=UPLO)


def lstsq_inputs(draw):
    """a (M, N) of full rank (2-D, as NumPy's lstsq), M >= N or not, and b (M,) or (M, K)."""
    a = separated(draw)
    while a.ndim > 2:
        a = a[0]
    b_shape = draw(st.sampled_from([(a.shape[0],), (a.shape[0], 2)]))
    return [a, draw(arrays(b_shape))]


def _lstsq(a, b):
    """x, the residuals and the singular values (the rank is an integer, no gradient)."""
    x, residuals, _, s = ad.linalg.lstsq(a, b)
    return x, residuals, s


def _lstsq_ref(a, b):
    x, residuals, _, s = np.linalg.lstsq(a, b)
    return x, residuals, s


def chain_inputs(draw):
    """Two to four matrices of a chain, the first and the last maybe vectors."""
    dims = draw(st.lists(st.integers(1, 3), min_size=3, max_size=5))
    xs = [draw(arrays((dims[i], dims[i + 1]))) for i in range(len(dims) - 1)]
    if draw(st.booleans()):
        xs[0] = xs[0][0]
    if draw(st.booleans()):
        xs[-1] = xs[-1][:, 0]
    return xs


def vecdot_inputs(draw):
    """Vectors along the last axis, of one size, their other axes broadcasting."""
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,), (3, 2)]))
    other = draw(st.sampled_from([(), batch, (1,) * len(batch)]))
    return [draw(arrays((*batch, n))), draw(arrays((*other, n)))]


def offset_kwargs(draw, xs):
    return {"offset": draw(st.integers(-1, 1))}


def qr_kwargs(draw, xs):
    m, n = xs[0].shape[-2:]
    return {"mode": draw(st.sampled_from(["reduced", "r"] + (["complete"] if m <= n else [])))}


def matrix_power_kwargs(draw, xs):
    return {"n": draw(st.sampled_from([-2, -1, 0, 1, 2, 3, 5]))}


VECTOR_ORDS = [None, 2, 1, 3, 0.5, 1.5, -1, -0.5, np.inf, -np.inf, 0]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


def _apart(values, axis=-1, gap=0.05):
    """Every pair of values along `axis` at least `gap` apart (no ties for max/min)."""
    v = np.sort(np.moveaxis(np.asarray(values), axis, -1), axis=-1)
    return v.shape[-1] < 2 or bool((np.diff(v, axis=-1) > gap).all())


def _matrix_ord_fits(x, ord, axes):
    """No tie where the norm takes a max or a min, singular values apart and from 0."""
    row, col = axes
    if ord in ("nuc", 2, -2):
        s = np.linalg.svd(np.moveaxis(x, (row, col), (-2, -1)), compute_uv=False)
        return _apart(s) and (s > 0.05).all()
    if ord in (1, -1):
        return _apart(np.abs(x).sum(axis=row), col - (col > row))
    if ord in (np.inf, -np.inf):
        return _apart(np.abs(x).sum(axis=col), row - (row > col))
    return True


def norm_inputs(draw):
    return [draw(distinct(draw(shapes(min_dims=1, max_dims=3, max_side=3))))]


def norm_kwargs(draw, xs):
    x = xs[0]
    keepdims = draw(st.booleans())
    if x.ndim >= 2 and draw(st.booleans()):  # a matrix norm
        axes = tuple(draw(st.permutations(list(range(x.ndim))))[:2])
        ord = draw(st.sampled_from(MATRIX_ORDS))
        axis = None if x.ndim == 2 and draw(st.booleans()) and ord is not None else axes
        assume(_matrix_ord_fits(x, ord, (0, 1) if axis is None else axes))  # the axes used
        return {"ord": ord, "axis": axis, "keepdims": keepdims}
    ord = draw(st.sampled_from(VECTOR_ORDS))
    if x.ndim == 1 and draw(st.booleans()):
        return {"ord": ord, "axis": None, "keepdims": keepdims}
    if ord is None and draw(st.booleans()):  # the 2-norm of everything
        return {"ord": None, "axis": None, "keepdims": keepdims}
    return {"ord": ord, "axis": draw(st.integers(-x.ndim, x.ndim - 1)), "keepdims": keepdims}


def vector_norm_kwargs(draw, xs):
    x = xs[0]
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1), valid_axes(x.ndim)))
    return {"ord": draw(st.sampled_from([o for o in VECTOR_ORDS if o is not None])),
            "axis": axis, "keepdims": draw(st.booleans())}


def matrix_norm_inputs(draw):
    return [draw(distinct(draw(shapes(min_dims=2, max_dims=3, max_side=3))))]


def matrix_norm_kwargs(draw, xs):
    ord = draw(st.sampled_from([o for o in MATRIX_ORDS if o is not None]))
    assume(_matrix_ord_fits(xs[0], ord, (xs[0].ndim - 2, xs[0].ndim - 1)))
    return {"ord": ord, "keepdims": draw(st.booleans())}


def cond_inputs(draw):
    """Square matrices, or (..., M, N) ones for p = None, 2, -2, each with singular values
    apart and from 0 (for the norms' ties, see cond_kwargs)."""
    return [separated(draw, min_side=draw(st.sampled_from([1, 2])))]


def cond_kwargs(draw, xs):
    """p, with no tie where a norm of x or of its inverse takes a max or a min, and for the
    norms of sums of |x| no entry of either at the kink of |.|, 0."""
    x = xs[0]
    square = x.shape[-1] == x.shape[-2]
    p = draw(st.sampled_from(MATRIX_ORDS if square else [None, 2, -2]))
    axes = (x.ndim - 2, x.ndim - 1)
    ord = 2 if p is None else p
    assume(_matrix_ord_fits(x, ord, axes))
    if square and p not in (None, 2, -2):
        inverse = np.linalg.inv(x)
        assume(_matrix_ord_fits(inverse, ord, axes))
        if p in (1, -1, np.inf, -np.inf):
            assume(np.abs(x).min() > 1e-3 and np.abs(inverse).min() > 1e-3)
    return {"p": p}


def _with_vector_axis(draw, batch, n=3):
    """An array of shape `batch` with an axis of n components put somewhere, and where."""
    at = draw(st.integers(0, len(batch)))
    return draw(arrays((*batch[:at], n, *batch[at:]))), at


def cross_inputs(draw):
    """Two arrays of 3-vectors along an axis of each, their other axes broadcasting."""
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                    max_side=2)).input_shapes
    return [_with_vector_axis(draw, sa)[0], _with_vector_axis(draw, sb)[0]]


def _vector_axis(draw, x):
    """The axis of x's 3-vectors (one of its axes of size 3), maybe counted from the end."""
    at = draw(st.sampled_from([i for i, n in enumerate(x.shape) if n == 3]))
    return at - draw(st.sampled_from([0, x.ndim]))


def cross_kwargs(draw, xs):
    a, b = xs
    kw = {"axisa": _vector_axis(draw, a), "axisb": _vector_axis(draw, b)}
    out_ndim = max(a.ndim, b.ndim)
    kw["axisc"] = draw(st.integers(-out_ndim, out_ndim - 1))
    if a.ndim == b.ndim and kw["axisa"] % a.ndim == kw["axisb"] % b.ndim and draw(
            st.booleans()):
        return {"axis": kw["axisa"]}
    return kw


def linalg_cross_inputs(draw):
    """3-vectors along the same axis (counted from the end) of two arrays that broadcast."""
    sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                    max_side=2)).input_shapes
    at = draw(st.integers(0, min(len(sa), len(sb))))  # axes after the vectors' axis
    return [draw(arrays((*sa[:len(sa) - at], 3, *sa[len(sa) - at:]))),
            draw(arrays((*sb[:len(sb) - at], 3, *sb[len(sb) - at:]))), np.array(at)]


def _linalg_cross(x1, x2, at):
    return ad.linalg.cross(x1, x2, axis=-1 - int(at))


def _linalg_cross_ref(x1, x2, at):
    return np.linalg.cross(x1, x2, axis=-1 - int(at))


FACTORS = {1: [(), (1,)], 2: [(2,), (1, 2)], 3: [(3,)], 4: [(4,), (2, 2)], 6: [(6,), (2, 3),
                                                                            (3, 2)]}


def tensorsolve_inputs(draw):
    """a: an invertible n x n matrix shaped as b.shape + x.shape, maybe with some of its axes
    moved first (tensorsolve's axes= moves them back last), and b."""
    n = draw(st.sampled_from(sorted(FACTORS)))
    m = draw(arrays((n, n), floats(-1, 1))) + 3.5 * np.eye(n)
    b_shape = draw(st.sampled_from([s for s in FACTORS[n] if s]))
    a = m.reshape(b_shape + draw(st.sampled_from(FACTORS[n])))
    return [a, draw(arrays(b_shape))]


def tensorsolve_kwargs(draw, xs):
    a, b = xs
    if a.ndim == b.ndim or not draw(st.booleans()):
        return {"axes": None}
    x_axes = list(range(b.ndim, a.ndim))
    return {"axes": tuple(draw(st.permutations(x_axes)))} if len(x_axes) > 1 else {
        "axes": None}


def tensorinv_inputs(draw):
    n = draw(st.sampled_from(sorted(FACTORS)))
    m = draw(arrays((n, n), floats(-1, 1))) + 3.5 * np.eye(n)
    rows = draw(st.sampled_from([s for s in FACTORS[n] if s]))
    return [m.reshape(rows + draw(st.sampled_from(FACTORS[n]))), np.array(len(rows))]


def _tensorinv(a, ind):
    return ad.linalg.tensorinv(a, ind=int(ind))


def _tensorinv_ref(a, ind):
    return np.linalg.tensorinv(a, ind=int(ind))


# -- draws for the reduction rows (issue 14) --


def small_shapes(min_dims=0, max_size=12):
    """Up to 3 axes and `max_size` elements (every element is differentiated numerically, and
    the backward of prod and cumprod is a scan of several ops)."""
    return shapes(min_dims=min_dims, max_side=3).filter(lambda s: int(np.prod(s)) <= max_size)


def with_zeros(draw):
    """Values with exact zeros, often several in one slice (prod and cumprod's gradients
    must be exact there: no division by the input)."""
    return [draw(arrays(draw(small_shapes()), st.one_of(st.just(0.0), floats(-2, 2))))]


def distinct_small(draw):
    return [draw(distinct(draw(small_shapes())))]


def with_nans(base):
    """`base`'s values with some NaNs."""
    def draw_inputs(draw):
        x = base(draw)[0]
        nan = draw(hnp.arrays(bool, x.shape, elements=st.sampled_from([False, False, True])))
        return [np.where(nan, np.nan, x)]
    return draw_inputs


def reduce_kwargs(initial=None, where=False, nonempty=False):
    """axis and keepdims, and maybe NumPy's initial= and where= (a boolean mask that
    broadcasts to x; max's where= needs initial=). `nonempty`: every slice selects a value
    that is not NaN (else the value is NaN, which central differences cannot check)."""
    def draw_kwargs(draw, xs):
        x = xs[0]
        kw = axis_kwargs()(draw, xs)
        masked = where and draw(st.booleans())
        if initial is not None and (masked or draw(st.booleans())):
            kw["initial"] = initial
        if masked:
            shape = tuple(n if draw(st.booleans()) else 1 for n in x.shape)
            kw["where"] = draw(hnp.arrays(bool, shape[draw(st.integers(0, x.ndim)):]))
        if nonempty:
            selected = np.broadcast_to(kw.get("where", True), x.shape) & ~np.isnan(x)
            assume(np.all(selected.sum(axis=kw["axis"]) > 0))
        return kw
    return draw_kwargs


def scan_kwargs(draw, xs):
    n = max(xs[0].ndim, 1)  # a 0-d tensor scans as 1-d (NumPy)
    return {"axis": draw(st.one_of(st.none(), st.integers(-n, n - 1)))}


def quantile_kwargs(scale):
    def draw_kwargs(draw, xs):
        q = st.floats(0, 1).map(lambda v: v * scale)
        qs = hnp.arrays(np.float64, shapes(max_dims=2, max_side=2), elements=q)
        return {**axis_kwargs()(draw, xs), "q": draw(st.one_of(q, qs)),
                "method": draw(st.sampled_from(["linear", "lower", "higher", "midpoint",
                                                "nearest"]))}
    return draw_kwargs


QUANTILE_METHODS = ["linear", "lower", "higher", "midpoint", "nearest", "weibull", "hazen",
                    "median_unbiased", "normal_unbiased", "interpolated_inverted_cdf"]


def nan_order_kwargs(scale=None):
    """axis and keepdims (and q and any of NumPy's continuous methods when `scale` is given:
    nanquantile reads each slice at its own count), every slice with a number in it."""
    def draw_kwargs(draw, xs):
        kw = reduce_kwargs(nonempty=True)(draw, xs)
        if scale is None:
            return kw
        q = st.floats(0, 1).map(lambda v: v * scale)
        qs = hnp.arrays(np.float64, shapes(max_dims=2, max_side=2), elements=q)
        return {**kw, "q": draw(st.one_of(q, qs)),
                "method": draw(st.sampled_from(QUANTILE_METHODS))}
    return draw_kwargs


def _one_q_at_a_time(f):
    """np.nanquantile (np.nanpercentile) called for each q: given a q of 2 dimensions, over
    several axes, it puts q's axes last (NumPy 2.4)."""
    def ref(x, q, **kw):
        qs = np.asarray(q)
        if qs.ndim < 2:
            return f(x, q, **kw)
        return np.stack([f(x, v, **kw) for v in qs.ravel()]).reshape(
            qs.shape + np.shape(f(x, 0.5, **kw)))
    return ref


def average_inputs(draw):
    """a, and weights of a's shape or of the shape of some of its axes (in any order)."""
    x = draw(arrays(draw(small_shapes(min_dims=1))))
    if draw(st.booleans()):
        shape = x.shape
    else:
        given = draw(st.permutations(range(x.ndim)))[:draw(st.integers(1, x.ndim))]
        shape = tuple(x.shape[i] for i in given)
    return [x, draw(arrays(shape, floats(0.2, 2)))]


def average_kwargs(draw, xs):
    x, w = xs
    if w.shape == x.shape:
        axis = draw(valid_axes(x.ndim))
    else:  # axes whose sizes are the weights' shape
        axis = draw(st.sampled_from([p for p in itertools.permutations(range(x.ndim), w.ndim)
                                     if tuple(x.shape[i] for i in p) == w.shape]))
        axis = axis[0] if len(axis) == 1 and draw(st.booleans()) else axis
    return {"axis": axis, "keepdims": draw(st.booleans()), "returned": draw(st.booleans())}


def _average(a, w, **kw):
    return ad.average(a, weights=w, **kw)


def _average_ref(a, w, **kw):
    return np.average(a, weights=w, **kw)


def logsumexp_b_kwargs(draw, xs):
    ndim = len(np.broadcast_shapes(xs[0].shape, xs[1].shape))
    return {"axis": draw(valid_axes(ndim)), "keepdims": draw(st.booleans())}


def _logsumexp_b(x, b, **kw):
    return ad.logsumexp(x, b=b, **kw)


def _logsumexp_b_ref(x, b, axis, keepdims):
    x, b = np.broadcast_arrays(x, b)
    return np.log(np.sum(b * np.exp(x), axis=axis, keepdims=keepdims))


def reshape_kwargs(draw, xs):
    size = xs[0].size
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = draw(st.sampled_from(divisors))
    return {"shape": (d, -1)}


def flatten_kwargs(draw, xs):
    """torch.flatten's start_dim <= end_dim, each as a positive or a negative index."""
    n = max(xs[0].ndim, 1)
    start = draw(st.integers(0, n - 1))
    end = draw(st.integers(start, n - 1))
    return {"start_dim": start - n * draw(st.booleans()), "end_dim": end - n * draw(st.booleans())}


def _flatten_ref(x, start_dim, end_dim):
    n = max(x.ndim, 1)
    start, end = start_dim % n, end_dim % n
    return x.reshape((*x.shape[:start], -1, *x.shape[end + 1:])) if x.ndim else x.reshape(1)


def unflatten_kwargs(draw, xs):
    """An axis and sizes that multiply to its length, one of them perhaps -1."""
    axis = draw(st.integers(-xs[0].ndim, xs[0].ndim - 1))
    n = xs[0].shape[axis]
    first = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    sizes = [first, n // first, 1][:draw(st.integers(2, 3))]
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return {"axis": axis, "sizes": tuple(sizes)}


def _unflatten_ref(x, axis, sizes):
    a = axis % x.ndim
    return x.reshape(x.shape[:a] + sizes + x.shape[a + 1:])


def transpose_kwargs(draw, xs):
    return {"axes": tuple(draw(st.permutations(list(range(xs[0].ndim)))))}


def broadcast_kwargs(draw, xs):
    shape = xs[0].shape
    return {"shape": (draw(st.integers(1, 3)), *[n if n != 1 else draw(st.integers(1, 3))
                                                 for n in shape])}


# -- draws for the shape and joining rows (issue 14) --


def getitem_inputs(draw):
    return [draw(arrays((4, 3)))]


def getitem_kwargs(draw, xs):
    kind = draw(st.sampled_from(["slice", "int_array", "mask", "mixed", "newaxis"]))
    if kind == "slice":
        index = (slice(draw(st.integers(0, 2)), None, draw(st.integers(1, 2))), slice(None, 2))
    elif kind == "int_array":  # repeated indices must accumulate
        index = np.array(draw(st.lists(st.integers(0, 3), min_size=1, max_size=6)))
    elif kind == "mask":
        index = np.array(draw(st.lists(st.booleans(), min_size=12, max_size=12))).reshape(4, 3)
    elif kind == "mixed":
        index = (np.array([0, 2, 2]), np.array([1, 0, 1]))
    else:
        index = (None, Ellipsis, 1)
    return {"index": index}


def setitem_inputs(draw):
    return [draw(arrays((3, 4))), draw(arrays(draw(st.sampled_from([(), (4,), (1, 4)]))))]


def setitem_kwargs(draw, xs):
    rows = draw(st.sampled_from([1, slice(0, 2), np.array([0, 2]), np.array([True, False, True])]))
    return {"index": rows}


def _setitem_ref(x, v, index):
    out = x.copy()
    out[index] = v
    return out


def cat_inputs(draw):
    n = draw(st.integers(1, 3))
    base = list(draw(shapes(min_dims=1, max_dims=3)))
    axis = draw(st.integers(0, len(base) - 1))
    xs = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(s))))
    return [*xs, np.array(axis)]


def stack_inputs(draw):
    shape = draw(shapes(max_dims=2))
    n = draw(st.integers(1, 3))
    return [draw(arrays(shape)) for _ in range(n)] + [np.array(draw(st.integers(0, len(shape))))]


def where_inputs(draw):
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2,
                                                        max_side=3)).input_shapes
    cond = draw(hnp.arrays(np.float64, sc, elements=st.sampled_from([0.0, 1.0])))
    return [cond, draw(arrays(sa)), draw(arrays(sb))]


def split_inputs(draw):
    shape = (2 * draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    return [draw(arrays(shape))]


def pad_inputs(draw):
    return [draw(arrays(draw(shapes(min_dims=1, max_side=3))))]


def pad_kwargs(draw, xs):
    """Every supported mode (not 'empty': NumPy leaves its values unset) and NumPy's forms of
    pad_width (a number, a pair, a pair per axis, a dict) and constant_values."""
    ndim = xs[0].ndim
    width = st.integers(0, 2)  # beyond the size: reflections of reflections
    pair = st.tuples(width, width)
    kw = {"pad_width": draw(st.one_of(
        width, pair, st.tuples(*[pair] * ndim),
        st.dictionaries(st.integers(-ndim, ndim - 1), st.one_of(width, pair), max_size=2)))}
    kw["mode"] = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    if kw["mode"] == "constant" and draw(st.booleans()):
        value = floats()
        kw["constant_values"] = draw(st.one_of(value, st.tuples(value, value),
                                               st.tuples(*[st.tuples(value, value)] * ndim)))
    if kw["mode"] in ("reflect", "symmetric") and draw(st.booleans()):
        kw["reflect_type"] = draw(st.sampled_from(["even", "odd"]))
    return kw


def clip_kwargs(draw, xs):
    """NumPy's names for the bounds: a_min/a_max, NumPy 2.1's min/max, either one None, or
    none at all (a copy, as NumPy 2)."""
    return draw(st.sampled_from([{"min": -1.05, "max": 0.95}, {"a_min": -1.05, "a_max": 0.95},
                                 {"a_min": None, "a_max": 0.95}, {"min": -1.05}, {"max": 0.95},
                                 {"a_min": 1.3, "a_max": -0.6}, {}]))


def clip_bounds_inputs(draw):
    """x and tensor bounds (broadcast against x), from value sets that never tie; min > max
    in places. Sometimes min alone."""
    sx, slo, shi = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=2,
                                                          max_side=3)).input_shapes
    x = draw(arrays(sx, st.sampled_from([-2.0, -0.3, 0.4, 2.2, 0.1])))
    lo = draw(arrays(slo, st.sampled_from([-1.05, 0.25, 1.3])))
    hi = draw(arrays(shi, st.sampled_from([0.95, -0.6, 1.75])))
    return [x, lo, hi] if draw(st.booleans()) else [x, lo]


def clip_bounds_kwargs(draw, xs):
    return {} if len(xs) == 3 else {"a_max": None}


def order_kwargs(draw, xs):
    return {"order": draw(st.sampled_from(["C", "F", "A", "K"]))}


def stacking_inputs(kind):
    """Tensors a stacking function joins: shapes that agree except along its axis (after
    NumPy's atleast_nd), with 0-d and 1-D ones where the function allows them."""
    def draw_inputs(draw):
        n = draw(st.integers(1, 3))
        side = st.integers(1, 3)
        if kind == "vstack":  # rows: (c,) or (r, c), or all (r, c, d)
            tail = draw(st.sampled_from([(draw(side),), (draw(side), draw(side))]))
            shapes_ = [tail if len(tail) == 1 and draw(st.booleans()) else (draw(side), *tail)
                       for _ in range(n)]
        elif kind == "hstack":  # all 0-d or 1-D, or all (r, c_i) / (r, c_i, d)
            if draw(st.booleans()):
                shapes_ = [draw(st.sampled_from([(), (draw(side),)])) for _ in range(n)]
            else:
                r, tail = draw(side), draw(st.sampled_from([(), (draw(side),)]))
                shapes_ = [(r, draw(side), *tail) for _ in range(n)]
        elif kind == "dstack":  # (m, n), (m, n, k_i), and (n,) when m == 1
            m, c = draw(side), draw(side)
            forms = [lambda: (m, c), lambda: (m, c, draw(side))] + ([lambda: (c,)] if m == 1
                                                                     else [])
            shapes_ = [draw(st.sampled_from(forms))() for _ in range(n)]
        else:  # column_stack: (r,) columns or (r, c_i) blocks
            r = draw(side)
            shapes_ = [draw(st.sampled_from([(r,), (r, draw(side))])) for _ in range(n)]
        return [draw(arrays(s)) for s in shapes_]
    return draw_inputs


def several(min_n=1, max_n=3, max_dims=3):
    def draw_inputs(draw):
        return [draw(arrays(draw(shapes(max_dims=max_dims))))
                for _ in range(draw(st.integers(min_n, max_n)))]
    return draw_inputs


def broadcast_inputs(draw):
    n = draw(st.integers(1, 3))
    return [draw(arrays(s)) for s in draw(hnp.mutually_broadcastable_shapes(
        num_shapes=n, max_dims=3, max_side=3)).input_shapes]


# Empty outputs are left to tests/autodiff/test_shape_ops.py: gradgradcheck cannot take them.


def tile_kwargs(draw, xs):
    rep = st.integers(1, 2)
    return {"reps": draw(st.one_of(rep, st.lists(rep, max_size=3).map(tuple)))}


def repeat_kwargs(draw, xs):
    axis = draw(st.one_of(st.none(), st.integers(-xs[0].ndim, xs[0].ndim - 1)
                          if xs[0].ndim else st.none()))
    n = xs[0].size if axis is None else xs[0].shape[axis]
    counts = draw(st.one_of(st.integers(1, 2), st.lists(st.integers(0, 2), min_size=n,
                                                         max_size=n)))
    if isinstance(counts, list) and not sum(counts):
        counts[0] = 1
    return {"repeats": counts, "axis": axis}


def flip_kwargs(draw, xs):
    return {"axis": draw(valid_axes(xs[0].ndim))}


def roll_kwargs(draw, xs):
    ndim, shift = xs[0].ndim, st.integers(-5, 5)
    if not ndim or draw(st.booleans()):
        return {"shift": draw(shift), "axis": None}
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=3))  # may repeat
    return {"shift": draw(st.one_of(shift, st.lists(shift, min_size=len(axes),
                                                     max_size=len(axes)))), "axis": axes}


def moveaxis_kwargs(draw, xs):
    ndim = xs[0].ndim
    k = draw(st.integers(0, ndim))
    axes = st.permutations(range(ndim)).map(lambda p: [a - ndim * (a % 2) for a in p[:k]])
    return {"source": draw(axes), "destination": draw(axes)}


def rollaxis_kwargs(draw, xs):
    ndim = xs[0].ndim
    return {"axis": draw(st.integers(-ndim, ndim - 1)), "start": draw(st.integers(-ndim, ndim))}


def take_kwargs(draw, xs):
    x = xs[0]
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)) if x.ndim else st.none())
    n = x.size if axis is None else x.shape[axis]
    mode = draw(st.sampled_from(["raise", "wrap", "clip"]))
    values = st.integers(-n, n - 1) if mode == "raise" else st.integers(-2 * n - 1, 2 * n + 1)
    indices = draw(hnp.arrays(np.int64, draw(shapes(max_dims=2, max_side=3)), elements=values))
    return {"indices": indices, "axis": axis, "mode": mode}


def take_along_axis_kwargs(draw, xs):
    x = xs[0]
    if draw(st.booleans()):  # of the flattened x: 1-D indices
        indices = draw(hnp.arrays(np.int64, (draw(st.integers(1, 4)),),
                                  elements=st.integers(-x.size, x.size - 1)))
        return {"indices": indices, "axis": None}
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    shape = [draw(st.sampled_from([1, n])) for n in x.shape]  # broadcast against x's axes
    shape[axis] = draw(st.integers(1, 4))
    n = x.shape[axis]
    return {"indices": draw(hnp.arrays(np.int64, tuple(shape), elements=st.integers(-n, n - 1))),
            "axis": axis}


def sort_kwargs(draw, xs):
    return {"axis": draw(st.one_of(st.none(), st.integers(-xs[0].ndim, xs[0].ndim - 1))),
            "kind": draw(st.sampled_from([None, "quicksort", "stable", "heapsort"]))}


def diff_kwargs(draw, xs):
    """prepend and append: absent, a number, or an array of one or two slices; 1 <= n < the
    joined length (n = 0 returns the input itself, a leaf: test_shape_ops.py)."""
    x = xs[0]
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    kw, length = {"axis": axis}, x.shape[axis]
    for end in ("prepend", "append"):
        form = draw(st.sampled_from(["absent", "number", "array"]))
        if form == "number" or (form == "absent" and end == "append" and length == 1):
            kw[end] = draw(floats())
            length += 1
        elif form == "array":
            shape = list(x.shape)
            shape[axis] = draw(st.integers(1, 2))
            kw[end] = draw(arrays(tuple(shape)))
            length += shape[axis]
    kw["n"] = draw(st.integers(1, min(3, length - 1)))
    return kw


def array_split_kwargs(draw, xs):
    axis = draw(st.integers(-xs[0].ndim, xs[0].ndim - 1))
    n = xs[0].shape[axis]
    cuts = st.lists(st.integers(1, n - 1), unique=True, max_size=3).map(sorted) if n > 1 \
        else st.just([])  # no empty piece
    cuts = cuts.flatmap(lambda c: st.tuples(*[st.sampled_from([i, i - n]) for i in c]))
    return {"indices_or_sections": draw(st.one_of(st.integers(1, n), cuts.map(list))),
            "axis": axis}


def meshgrid_inputs(draw):
    return [draw(arrays(draw(st.sampled_from([(draw(st.integers(1, 3)),), (1, 2), ()]))))
            for _ in range(draw(st.integers(1, 3)))]


def meshgrid_kwargs(draw, xs):
    return {"indexing": draw(st.sampled_from(["xy", "ij"])), "sparse": draw(st.booleans()),
            "copy": draw(st.booleans())}


def _stacker(f):
    """A stacking function as a row's op: the row's inputs are the list it joins."""
    return lambda *xs: f(list(xs))


# -- draws for the math ufunc rows (issue 14) --


# Values away from the jumps of floor, ceil, trunc, rint and round(decimals=-1, 0, 1):
# integers, halves, and x.x5.
OFF_JUMPS = st.sampled_from([-2.72, -1.37, -0.21, 0.33, 1.12, 2.86])


def untied():
    """a and b from two disjoint sets (fmax, fmin: no ties), either larger."""
    return binary(st.sampled_from([-2.1, -0.9, 0.3, 1.4]), st.sampled_from([-1.6, -0.2, 0.8, 2.0]))


def off_quotient_jumps():
    """a and b with a / b at least 0.1 / |b| from an integer (remainder, fmod, floor_divide
    jump there), b of either sign."""
    return binary(st.sampled_from([-2.9, -1.1, -0.35, 0.45, 1.3, 2.6]),
                  st.sampled_from([-1.7, -0.6, 0.9, 2.3]))


def round_kwargs(draw, xs):
    return {"decimals": draw(st.sampled_from([-1, 0, 1]))}



def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_logsumexp(x, axis=None, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _concat(*xs):
    *ts, axis = xs
    return ad.concatenate(list(ts), axis=int(axis.item() if hasattr(axis, "item") else axis))


def _concat_ref(*xs):
    *ts, axis = xs
    return np.concatenate(ts, axis=int(axis))


def _stack(*xs):
    *ts, axis = xs
    return ad.stack(list(ts), axis=int(axis.item() if hasattr(axis, "item") else axis))


def _stack_ref(*xs):
    *ts, axis = xs
    return np.stack(ts, axis=int(axis))


def _where(cond, a, b):
    return ad.where(np.asarray(cond) > 0.5, a, b)


def _where_ref(cond, a, b):
    return np.where(cond > 0.5, a, b)


# nn's fused primitives (one node each, a backward of their own): the same checks.
def linear_inputs(draw):
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(shapes(min_dims=0, max_dims=2))
    return [draw(arrays((*lead, n_in))), draw(arrays((n_out, n_in))), draw(arrays((n_out,)))]


def _linear(x, w, b):
    import nn.functional as F

    return F.linear(x, w, b)


def logits_inputs(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    extra = draw(st.sampled_from([(), (2,)]))
    return [draw(arrays((n, c, *extra)))]


def cross_entropy_kwargs(draw, xs):
    n, c, *extra = xs[0].shape
    if draw(st.booleans()):  # integer labels
        target = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(0, c - 1)))
    else:  # class probabilities (rows need not sum to one)
        target = draw(arrays(xs[0].shape, floats(0, 1)))
    return {"target": target, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _cross_entropy(z, target, reduction):
    import nn.functional as F

    return F.cross_entropy(z, target, reduction=reduction)


def _cross_entropy_ref(z, target, reduction):
    logp = np.log(np_softmax(z, 1))
    if target.dtype.kind == "i":
        target = np.moveaxis(np.eye(z.shape[1])[target], -1, 1)
    per = -(logp * target).sum(axis=1)
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def softplus_kwargs(draw, xs):
    return {"beta": draw(st.sampled_from([0.5, 1.0, 2.0])),
            "threshold": draw(st.sampled_from([20.0, float("inf")]))}


def _softplus(x, beta, threshold):
    import nn.functional as F

    return F.softplus(x, beta=beta, threshold=threshold)


def _logsigmoid(x):
    import nn.functional as F

    return F.logsigmoid(x)


def bce_inputs(draw):
    shape = draw(shapes())
    return [draw(arrays(shape, floats(0.05, 0.95))), draw(arrays(shape, floats(0, 1)))]


def reduction_kwargs(draw, xs):
    return {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


def _bce(p, y, reduction):
    import nn.functional as F

    return F.binary_cross_entropy(p, y, reduction=reduction)


def _bce_ref(p, y, reduction):
    per = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def batch_norm_inputs(draw):
    n, c = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    spatial = draw(st.sampled_from([(), (2,), (2, 2)]))
    x = draw(arrays((n, c, *spatial), floats(-2, 2)))
    assume(np.all(x.var(axis=tuple(i for i in range(x.ndim) if i != 1)) > 0.05))
    return [x, draw(arrays((c,))), draw(arrays((c,)))]


def _batch_norm(x, w, b):
    import nn.functional as F

    return F.batch_norm(x, None, None, w, b, training=True)


def _batch_norm_ref(x, w, b):
    axes = tuple(i for i in range(x.ndim) if i != 1)
    shape = [1] * x.ndim
    shape[1] = -1
    xhat = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    return xhat * w.reshape(shape) + b.reshape(shape)


# Convolutions and pools: shapes drawn small (every element is differentiated numerically,
# twice over for the second gradient), options drawn per axis, legal values only.
def _grouped(draw):
    """(batch, groups, in channels per group, out channels per group), at most 4 channel
    pairs in all, so the weight stays small."""
    g, per_in, per_out = draw(st.sampled_from([(1, 1, 1), (1, 1, 2), (1, 2, 1), (1, 2, 2),
                                               (2, 1, 1), (2, 1, 2), (2, 2, 1)]))
    return draw(st.integers(1, 2)), g, per_in, per_out


def _maybe_bias(draw, n_out):
    return [draw(arrays((n_out,)))] if draw(st.booleans()) else []


def conv2d_inputs(draw):
    n, g, per_in, per_out = _grouped(draw)
    k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    area = 32 // (n * g * per_in)  # at most 32 input elements
    h = draw(st.integers(max(1, k[0] - 2), min(4, area)))
    w = draw(st.integers(max(1, k[1] - 2), min(4, area // h)))
    return [draw(arrays((n, g * per_in, h, w))), draw(arrays((g * per_out, per_in, *k))),
            *_maybe_bias(draw, g * per_out)]


def conv2d_kwargs(draw, xs):
    x, w = xs[0], xs[1]
    stride, padding, dilation = [], [], []
    for n, k in zip(x.shape[2:], w.shape[2:]):
        p = draw(st.integers(max(0, -(-(k - n) // 2)), 1))  # the kernel fits the padded input
        d_max = 3 if k == 1 else min(3, (n + 2 * p - 1) // (k - 1))
        stride.append(draw(st.integers(1, 3)))
        padding.append(p)
        dilation.append(draw(st.integers(1, d_max)))
    return {"stride": tuple(stride), "padding": tuple(padding), "dilation": tuple(dilation),
            "groups": x.shape[1] // w.shape[1]}


def _conv2d(x, w, b=None, **kw):
    import nn.functional as F

    return F.conv2d(x, w, b, **kw)


def np_conv2d(x, w, b=None, *, stride, padding, dilation, groups):
    """y[n, o, i, j] = b[o] + sum over the group's channels c and the kernel (a, e) of
    x_padded[n, c, i s + a d, j s + e d] w[o, c, a, e], one output at a time."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, _, h, wd = x.shape
    o, per_in, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for b_, oc, i, j in itertools.product(range(n), range(o), range(ho), range(wo)):
        first = (oc // (o // groups)) * per_in
        for c, a, e in itertools.product(range(per_in), range(kh), range(kw)):
            v = xp[b_, first + c, i * sh + a * dh, j * sw + e * dw]
            out[b_, oc, i, j] += v * w[oc, c, a, e]
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def conv_transpose2d_inputs(draw):
    """y, the weight, maybe a bias, and the groups last (the weight's shape does not tell)."""
    n, g, per_in, per_out = _grouped(draw)
    k = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(1, 3))
    w = draw(st.integers(1, 3 if n * g * per_in * h <= 8 else 1))
    return [draw(arrays((n, g * per_in, h, w))), draw(arrays((g * per_in, per_out, *k))),
            *_maybe_bias(draw, g * per_out), np.array(g)]


def conv_transpose2d_kwargs(draw, xs):
    """Any legal options (output_padding below the stride or the dilation, so possibly not
    below the stride); the padding is drawn last, large enough to keep the output small."""
    x, w, groups = xs[0], xs[1], int(xs[-1])
    area = 32 // (x.shape[0] * w.shape[1] * groups)  # at most about 32 output elements
    stride, padding, output_padding, dilation = [], [], [], []
    for n, k in zip(x.shape[2:], w.shape[2:]):
        s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        op = draw(st.integers(0, max(s, d) - 1))
        full = (n - 1) * s + d * (k - 1) + op + 1  # the output size with no padding
        p_max = (full - 1) // 2  # the output keeps one row at least
        p = draw(st.integers(min(p_max, max(0, -(-(full - min(5, area)) // 2))), p_max))
        area = max(1, area // (full - 2 * p))
        stride.append(s)
        padding.append(p)
        output_padding.append(op)
        dilation.append(d)
    return {"stride": tuple(stride), "padding": tuple(padding),
            "output_padding": tuple(output_padding), "dilation": tuple(dilation)}


def _conv_transpose2d(x, w, *rest, **kw):
    import nn.functional as F

    *b, groups = rest
    return F.conv_transpose2d(x, w, *b, groups=int(groups), **kw)


def np_conv_transpose2d(x, w, *rest, stride, padding, output_padding, dilation):
    """Each input x[n, c, i, j] adds x[n, c, i, j] w[c, o, a, e] at (i s + a d, j s + e d) of
    the group's output channels o, before the padding is cropped (p on each side, then
    output_padding more rows and columns at the bottom and right, zeros unless reached)."""
    *b, groups = rest
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    n, c, h, wd = x.shape
    _, per_out, kh, kw = w.shape
    per_in = c // int(groups)
    full = np.zeros((n, per_out * int(groups), (h - 1) * sh + dh * (kh - 1) + 1 + oph,
                     (wd - 1) * sw + dw * (kw - 1) + 1 + opw))
    for b_, ci, i, j in itertools.product(range(n), range(c), range(h), range(wd)):
        first = (ci // per_in) * per_out
        for o, a, e in itertools.product(range(per_out), range(kh), range(kw)):
            v = x[b_, ci, i, j] * w[ci, o, a, e]
            full[b_, first + o, i * sh + a * dh, j * sw + e * dw] += v
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out if not b else out + b[0].reshape(1, -1, 1, 1)


def pool_inputs(draw):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h = draw(st.integers(1, 4))
    return [draw(distinct((n, c, h, draw(st.integers(1, min(4, 24 // (n * c * h)))))))]


def pool_kwargs(avg):
    def draw_kwargs(draw, xs):
        """kernel 1 to 3, padding up to half the kernel (PyTorch's limit) and enough for
        the kernel to fit, the stride given or left to default to the kernel."""
        kernel, padding = [], []
        for n in xs[0].shape[2:]:
            k = draw(st.integers(1, 3))
            kernel.append(k)
            padding.append(draw(st.integers(max(0, -(-(k - n) // 2)), k // 2)))
        stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
        kw = {"kernel_size": tuple(kernel), "stride": stride, "padding": tuple(padding)}
        if avg:
            kw["count_include_pad"] = draw(st.booleans())
        return kw
    return draw_kwargs


def np_pool(x, kernel_size, stride, padding, reduce):
    """reduce(window) for each window of x, padded with NaN (which reduce ignores)."""
    (kh, kw), (ph, pw) = kernel_size, padding
    sh, sw = kernel_size if stride is None else stride
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=np.nan)
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, ho, wo))
    for b, ch, i, j in itertools.product(range(n), range(c), range(ho), range(wo)):
        out[b, ch, i, j] = reduce(xp[b, ch, i * sh:i * sh + kh, j * sw:j * sw + kw])
    return out


def _max_pool2d(x, **kw):
    import nn.functional as F

    return F.max_pool2d(x, **kw)


def np_max_pool2d(x, *, kernel_size, stride, padding):
    return np_pool(x, kernel_size, stride, padding, np.nanmax)


def _avg_pool2d(x, **kw):
    import nn.functional as F

    return F.avg_pool2d(x, **kw)


def np_avg_pool2d(x, *, kernel_size, stride, padding, count_include_pad):
    def mean(window):
        real = window[~np.isnan(window)]
        return real.sum() / (window.size if count_include_pad else real.size)
    return np_pool(x, kernel_size, stride, padding, mean)


CASES = [
    Case("add", lambda a, b: a + b, np.add, binary()),
    Case("sub", lambda a, b: a - b, np.subtract, binary()),
    Case("mul", lambda a, b: a * b, np.multiply, binary()),
    Case("div", lambda a, b: a / b, np.divide, binary(None, away_from_zero(0.5))),
    Case("neg", lambda a: -a, np.negative, unary()),
    Case("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, unary()),
    Case("pow_fractional", lambda a: a ** 1.5, lambda a: a ** 1.5, unary(floats(0.3, 3))),
    Case("pow_tensor", lambda a, b: a ** b, np.power, binary(floats(0.3, 3), floats(-2, 2))),
    Case("rpow", lambda b: 2.0 ** b, lambda b: 2.0 ** b, unary()),
    Case("exp", ad.exp, np.exp, unary()),
    Case("log", ad.log, np.log, unary(floats(0.2, 5))),
    Case("sqrt", ad.sqrt, np.sqrt, unary(floats(0.2, 5))),
    Case("abs", ad.abs, np.abs, unary(away_from_zero(0.1))),
    Case("tanh", ad.tanh, np.tanh, unary()),
    Case("sin", ad.sin, np.sin, unary()),
    Case("cos", ad.cos, np.cos, unary()),
    # -- math ufuncs (issue 14) --
    Case("log1p", ad.log1p, np.log1p, unary(floats(-0.8, 3))),
    Case("expm1", ad.expm1, np.expm1, unary()),
    Case("log2", ad.log2, np.log2, unary(floats(0.2, 5))),
    Case("log10", ad.log10, np.log10, unary(floats(0.2, 5))),
    Case("exp2", ad.exp2, np.exp2, unary()),
    Case("tan", ad.tan, np.tan, unary(floats(-1.2, 1.2))),
    Case("arcsin", ad.arcsin, np.arcsin, unary(floats(-0.9, 0.9))),
    Case("arccos", ad.arccos, np.arccos, unary(floats(-0.9, 0.9))),
    Case("arctan", ad.arctan, np.arctan, unary()),
    Case("sinh", ad.sinh, np.sinh, unary()),
    Case("cosh", ad.cosh, np.cosh, unary()),
    Case("arcsinh", ad.arcsinh, np.arcsinh, unary()),
    Case("arccosh", ad.arccosh, np.arccosh, unary(floats(1.2, 4))),
    Case("arctanh", ad.arctanh, np.arctanh, unary(floats(-0.9, 0.9))),
    Case("sinc", ad.sinc, np.sinc, unary()),  # 0 and tiny values too: the series branch
    Case("cbrt", ad.cbrt, np.cbrt, unary(away_from_zero())),
    Case("deg2rad", ad.deg2rad, np.deg2rad, unary()),
    Case("rad2deg", ad.rad2deg, np.rad2deg, unary()),
    Case("arctan2", ad.arctan2, np.arctan2, binary(away_from_zero(), floats())),
    Case("hypot", ad.hypot, np.hypot, binary(away_from_zero(), floats())),
    Case("logaddexp", ad.logaddexp, np.logaddexp, binary()),
    Case("logaddexp2", ad.logaddexp2, np.logaddexp2, binary()),
    Case("copysign", ad.copysign, np.copysign, binary(away_from_zero(), away_from_zero())),
    Case("float_power", ad.float_power, np.float_power, binary(floats(0.3, 3), floats(-2, 2)),
         float32_out=np.float64),
    Case("fmax", ad.fmax, np.fmax, untied()),
    Case("fmin", ad.fmin, np.fmin, untied()),
    Case("remainder", ad.remainder, np.remainder, off_quotient_jumps()),
    Case("fmod", ad.fmod, np.fmod, off_quotient_jumps()),
    Case("floor_divide", ad.floor_divide, np.floor_divide, off_quotient_jumps()),
    Case("divmod", ad.divmod, np.divmod, off_quotient_jumps()),
    Case("sign", ad.sign, np.sign, unary(away_from_zero(0.1))),
    Case("floor", ad.floor, np.floor, unary(OFF_JUMPS)),
    Case("ceil", ad.ceil, np.ceil, unary(OFF_JUMPS)),
    Case("rint", ad.rint, np.rint, unary(OFF_JUMPS)),
    Case("trunc", ad.trunc, np.trunc, unary(OFF_JUMPS)),
    Case("round", ad.round, np.round, unary(OFF_JUMPS), round_kwargs),
    Case("heaviside", ad.heaviside, np.heaviside, binary(away_from_zero(), floats())),
    Case("maximum", ad.maximum, np.maximum, binary(floats(0, 1), floats(1.5, 2.5))),
    Case("minimum", ad.minimum, np.minimum, binary(floats(-1, 0), floats(-2.5, -1.5))),
    Case("clip", ad.clip, np.clip, unary(st.sampled_from([-2.0, -0.3, 0.4, 2.2, 0.1])),
         clip_kwargs),
    Case("sum", ad.sum, np.sum, unary(), axis_kwargs()),
    Case("mean", ad.mean, np.mean, unary(min_dims=1), axis_kwargs()),
    Case("var", ad.var, np.var, unary(min_dims=1), axis_kwargs()),
    Case("std", ad.std, np.std, with_distinct(min_side=2), axis_kwargs(min_size=1)),
    Case("max", ad.max, np.max, with_distinct(), axis_kwargs()),
    Case("min", ad.min, np.min, with_distinct(), axis_kwargs()),
    Case("logsumexp", ad.logsumexp, np_logsumexp, unary(), axis_kwargs()),
    # -- reductions (issue 14) --
    Case("prod", ad.prod, np.prod, with_zeros, reduce_kwargs(initial=1.5, where=True)),
    Case("cumsum", ad.cumsum, np.cumsum, unary(), scan_kwargs),
    Case("cumprod", ad.cumprod, np.cumprod, with_zeros, scan_kwargs),
    Case("sum_initial_where", ad.sum, np.sum, unary(), reduce_kwargs(initial=0.5, where=True)),
    Case("mean_where", ad.mean, np.mean, unary(), reduce_kwargs(where=True, nonempty=True)),
    Case("max_initial_where", ad.max, np.max, distinct_small,
         reduce_kwargs(initial=0.12, where=True)),
    Case("min_initial_where", ad.min, np.min, distinct_small,
         reduce_kwargs(initial=0.12, where=True)),
    Case("average", _average, _average_ref, average_inputs, average_kwargs),
    Case("nansum", ad.nansum, np.nansum, with_nans(unary()),
         reduce_kwargs(initial=0.5, where=True)),
    Case("nanmean", ad.nanmean, np.nanmean, with_nans(unary()),
         reduce_kwargs(where=True, nonempty=True)),
    Case("nanvar", ad.nanvar, np.nanvar, with_nans(unary()),
         reduce_kwargs(where=True, nonempty=True)),
    Case("nanstd", ad.nanstd, np.nanstd, with_nans(distinct_small),
         reduce_kwargs(where=True, nonempty=True)),
    Case("nanmax", ad.nanmax, np.nanmax, with_nans(distinct_small),
         reduce_kwargs(initial=0.12, where=True, nonempty=True)),
    Case("nanmin", ad.nanmin, np.nanmin, with_nans(distinct_small),
         reduce_kwargs(initial=0.12, where=True, nonempty=True)),
    Case("ptp", ad.ptp, np.ptp, distinct_small, axis_kwargs()),
    Case("median", ad.median, np.median, distinct_small, axis_kwargs()),
    Case("quantile", ad.quantile, np.quantile, distinct_small, quantile_kwargs(1)),
    Case("percentile", ad.percentile, np.percentile, distinct_small, quantile_kwargs(100)),
    Case("nanmedian", ad.nanmedian, np.nanmedian, with_nans(distinct_small), nan_order_kwargs()),
    Case("nanquantile", ad.nanquantile, _one_q_at_a_time(np.nanquantile),
         with_nans(distinct_small), nan_order_kwargs(1)),
    Case("nanpercentile", ad.nanpercentile, _one_q_at_a_time(np.nanpercentile),
         with_nans(distinct_small), nan_order_kwargs(100)),
    Case("logsumexp_b", _logsumexp_b, _logsumexp_b_ref, binary(None, floats(0.2, 2)),
         logsumexp_b_kwargs),
    Case("sigmoid", ad.sigmoid, lambda x: 1 / (1 + np.exp(-x)), unary()),
    Case("relu", ad.relu, lambda x: np.maximum(x, 0), unary(away_from_zero(0.1))),
    Case("linear", _linear, lambda x, w, b: x @ w.T + b, linear_inputs),
    Case("cross_entropy", _cross_entropy, _cross_entropy_ref, logits_inputs,
         cross_entropy_kwargs),
    Case("batch_norm", _batch_norm, _batch_norm_ref, batch_norm_inputs),
    Case("conv2d", _conv2d, np_conv2d, conv2d_inputs, conv2d_kwargs),
    Case("conv_transpose2d", _conv_transpose2d, np_conv_transpose2d, conv_transpose2d_inputs,
         conv_transpose2d_kwargs),
    Case("max_pool2d", _max_pool2d, np_max_pool2d, pool_inputs, pool_kwargs(avg=False)),
    Case("avg_pool2d", _avg_pool2d, np_avg_pool2d, pool_inputs, pool_kwargs(avg=True)),
    Case("softplus", _softplus, lambda x, beta, threshold: np.logaddexp(0, beta * x) / beta,
         unary(), softplus_kwargs),
    Case("logsigmoid", _logsigmoid, lambda x: -np.logaddexp(0, -x), unary()),
    Case("binary_cross_entropy", _bce, _bce_ref, bce_inputs, reduction_kwargs),
    Case("softmax", ad.softmax, np_softmax, unary(min_dims=1), single_axis),
    Case("log_softmax", ad.log_softmax, lambda x, axis: np.log(np_softmax(x, axis)),
         unary(min_dims=1), single_axis),
    Case("matmul", ad.matmul, np.matmul, matmul_inputs),
    # -- linear algebra (issue 14) --
    Case("dot", ad.dot, np.dot, dot_inputs),
    Case("vdot", ad.vdot, np.vdot, vdot_inputs),
    Case("inner", ad.inner, np.inner, inner_inputs),
    Case("outer", ad.outer, np.outer, two_small),
    Case("kron", ad.kron, np.kron, two_small),
    Case("tensordot", ad.tensordot, np.tensordot, tensordot_inputs, tensordot_kwargs),
    Case("einsum", _einsum, _einsum_ref, einsum_inputs, einsum_kwargs),
    Case("diagonal", ad.diagonal, np.diagonal, diagonal_inputs, diagonal_kwargs),
    Case("trace", ad.trace, np.trace, diagonal_inputs, diagonal_kwargs),
    Case("diag", ad.diag, np.diag, diag_inputs, diag_kwargs),
    Case("tril", ad.tril, np.tril, unary(min_dims=1), triangle_kwargs),
    Case("triu", ad.triu, np.triu, unary(min_dims=1), triangle_kwargs),
    Case("linalg.inv", ad.linalg.inv, np.linalg.inv, invertible_inputs),
    Case("linalg.solve", ad.linalg.solve, np.linalg.solve, solve_inputs),
    Case("linalg.det", ad.linalg.det, np.linalg.det, invertible_inputs),
    Case("linalg.slogdet", ad.linalg.slogdet, np.linalg.slogdet, invertible_inputs),
    Case("linalg.cholesky", _cholesky, _cholesky_ref, spd_inputs,
         lambda draw, xs: {"upper": draw(st.booleans())}),
    Case("linalg.eigh", _eigh, _eigh_ref, spread_symmetric_inputs,
         lambda draw, xs: {"UPLO": draw(st.sampled_from(["L", "U"]))}),
    Case("linalg.svd", _svd, _svd_ref, separated_inputs,
         lambda draw, xs: {"compute_uv": draw(st.booleans())}),
    Case("linalg.qr", _qr, _qr_ref, separated_inputs, qr_kwargs),
    Case("linalg.pinv", ad.linalg.pinv, np.linalg.pinv, separated_inputs),
    Case("linalg.matrix_power", ad.linalg.matrix_power, np.linalg.matrix_power,
         invertible_inputs, matrix_power_kwargs),
    Case("linalg.svdvals", ad.linalg.svdvals, np.linalg.svdvals, separated_inputs),
    Case("linalg.eigvalsh", _eigvalsh, _eigvalsh_ref, spread_symmetric_inputs,
         lambda draw, xs: {"UPLO": draw(st.sampled_from(["L", "U"]))}),
    Case("linalg.lstsq", _lstsq, _lstsq_ref, lstsq_inputs),
    Case("linalg.multi_dot", lambda *xs: ad.linalg.multi_dot(xs),
         lambda *xs: np.linalg.multi_dot(xs), chain_inputs),
    Case("linalg.trace", ad.linalg.trace, np.linalg.trace, unary(min_dims=2), offset_kwargs),
    Case("linalg.diagonal", ad.linalg.diagonal, np.linalg.diagonal, unary(min_dims=2),
         offset_kwargs),
    Case("linalg.matrix_transpose", ad.linalg.matrix_transpose, np.linalg.matrix_transpose,
         unary(min_dims=2)),
    Case("linalg.vecdot", ad.linalg.vecdot, np.linalg.vecdot, vecdot_inputs),
    Case("linalg.outer", ad.linalg.outer, np.linalg.outer,
         lambda draw: [draw(arrays((draw(st.integers(1, 3)),))) for _ in range(2)]),
    Case("linalg.cond", ad.linalg.cond, np.linalg.cond, cond_inputs, cond_kwargs),
    Case("cross", ad.cross, np.cross, cross_inputs, cross_kwargs),
    Case("linalg.cross", _linalg_cross, _linalg_cross_ref, linalg_cross_inputs),
    Case("linalg.tensorsolve", ad.linalg.tensorsolve, np.linalg.tensorsolve, tensorsolve_inputs,
         tensorsolve_kwargs),
    Case("linalg.tensorinv", _tensorinv, _tensorinv_ref, tensorinv_inputs),
    Case("linalg.norm", ad.linalg.norm, np.linalg.norm, norm_inputs, norm_kwargs),
    Case("linalg.vector_norm", ad.linalg.vector_norm, np.linalg.vector_norm, norm_inputs,
         vector_norm_kwargs),
    Case("linalg.matrix_norm", ad.linalg.matrix_norm, np.linalg.matrix_norm, matrix_norm_inputs,
         matrix_norm_kwargs),
    Case("reshape", ad.reshape, np.reshape, unary(), reshape_kwargs),
    Case("transpose", ad.transpose, np.transpose, unary(), transpose_kwargs),
    Case("swapaxes", lambda x: ad.swapaxes(x, 0, -1), lambda x: np.swapaxes(x, 0, -1),
         unary(min_dims=1)),
    Case("broadcast_to", ad.broadcast_to, np.broadcast_to, unary(), broadcast_kwargs),
    Case("expand_dims", lambda x: ad.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), unary()),
    Case("squeeze", ad.squeeze, np.squeeze, lambda draw: [draw(arrays((1, 3, 1)))]),
    Case("getitem", lambda x, index: x[index], lambda x, index: x[index], getitem_inputs,
         getitem_kwargs),
    Case("setitem", lambda x, v, index: ad.setitem(x, index, v), _setitem_ref, setitem_inputs,
         setitem_kwargs),
    Case("concatenate", _concat, _concat_ref, cat_inputs),
    Case("stack", _stack, _stack_ref, stack_inputs),
    Case("split", lambda x: tuple(ad.split(x, 2, axis=0)),
         lambda x: tuple(np.split(x, 2, axis=0)), split_inputs),
    Case("where", _where, _where_ref, where_inputs),
    Case("pad", ad.pad, np.pad, pad_inputs, pad_kwargs),
    # -- shape and joining (issue 14) --
    Case("clip_tensor_bounds", ad.clip, np.clip, clip_bounds_inputs, clip_bounds_kwargs),
    Case("ravel", ad.ravel, np.ravel, unary(), order_kwargs),
    Case("flatten", ad.flatten, _flatten_ref, unary(), flatten_kwargs),
    Case("unflatten", ad.unflatten, _unflatten_ref, unary(min_dims=1), unflatten_kwargs),
    Case("vstack", _stacker(ad.vstack), _stacker(np.vstack), stacking_inputs("vstack")),
    Case("hstack", _stacker(ad.hstack), _stacker(np.hstack), stacking_inputs("hstack")),
    Case("dstack", _stacker(ad.dstack), _stacker(np.dstack), stacking_inputs("dstack")),
    Case("column_stack", _stacker(ad.column_stack), _stacker(np.column_stack),
         stacking_inputs("column_stack")),
    Case("atleast_1d", ad.atleast_1d, np.atleast_1d, several()),
    Case("atleast_2d", ad.atleast_2d, np.atleast_2d, several()),
    Case("atleast_3d", ad.atleast_3d, np.atleast_3d, several()),
    Case("tile", ad.tile, np.tile, unary(), tile_kwargs),
    Case("repeat", ad.repeat, np.repeat, unary(), repeat_kwargs),
    Case("flip", ad.flip, np.flip, unary(), flip_kwargs),
    Case("fliplr", ad.fliplr, np.fliplr, unary(min_dims=2)),
    Case("flipud", ad.flipud, np.flipud, unary(min_dims=1)),
    Case("roll", ad.roll, np.roll, unary(), roll_kwargs),
    Case("moveaxis", ad.moveaxis, np.moveaxis, unary(), moveaxis_kwargs),
    Case("rollaxis", ad.rollaxis, np.rollaxis, unary(min_dims=1), rollaxis_kwargs),
    Case("take", ad.take, np.take, unary(), take_kwargs),
    Case("take_along_axis", ad.take_along_axis, np.take_along_axis, unary(min_dims=1),
         take_along_axis_kwargs),
    Case("sort", ad.sort, np.sort, with_distinct(), sort_kwargs),
    Case("diff", ad.diff, np.diff, unary(min_dims=1), diff_kwargs),
    Case("array_split", ad.array_split, np.array_split, unary(min_dims=1), array_split_kwargs),
    Case("meshgrid", ad.meshgrid, np.meshgrid, meshgrid_inputs, meshgrid_kwargs),
    Case("broadcast_arrays", ad.broadcast_arrays, np.broadcast_arrays, broadcast_inputs),
    Case("astype", lambda x: ad.astype(x, np.float32) * 1.0,
         lambda x: x.astype(np.float32), unary(), second_order=False,
         check={"eps": 1e-2, "atol": 1e-3, "rtol": 1e-2}),
]

NON_DIFFERENTIABLE_ARGS = {"concatenate": -1, "stack": -1, "where": 0, "conv_transpose2d": -1,
                           "linalg.cross": -1, "linalg.tensorinv": -1}


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _kept_on_ctx(outs: list[Any]) -> list[tuple[str, str, np.ndarray]]:
    """(op, attribute, array) for every array the graph's nodes keep as ctx attributes
    (ctx.cols, ctx.indices.arg, ...), outside what save_for_backward holds."""
    found, seen, todo = [], set(), [o.grad_fn for o in outs if o.grad_fn is not None]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        todo += [e[0] for e in node._edges if type(e) is tuple]
        values, opened = list(vars(node).items()), set()
        while values:
            name, v = values.pop()
            if isinstance(v, ad.Tensor | np.ndarray):
                found.append((node.op_name(), name, getattr(v, "data", v)))
            elif isinstance(v, tuple | list):
                values += [(name, item) for item in v]
            elif hasattr(v, "__dict__") and not callable(v) and id(v) not in opened:
                opened.add(id(v))  # a helper object (max_pool2d's indices): its attributes
                values += [(f"{name}.{k}", item) for k, item in vars(v).items()]
    return found


def _check_numpy_protocol(case: Case, tensors: list[Any], kwargs: dict[str, Any],
                          out: Any) -> None:
    """np.f(tensor) reaches the op: the same values, still differentiable."""
    entry = next((e for e in registry.OPS.values() if e.fn is case.op), None)
    if not case.numpy_protocol or entry is None:
        return
    for np_f in entry.numpy:
        got = np_f(*tensors, **kwargs)
        for g, o in zip(_as_tuple(got), _as_tuple(out)):
            assert isinstance(g, ad.Tensor), f"np.{np_f.__name__} returned {type(g).__name__}"
            np.testing.assert_array_equal(g.data, o.data)
            assert g.requires_grad == o.requires_grad, f"np.{np_f.__name__} lost the graph"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_op(case: Case, data: st.DataObject) -> None:
    xs = case.inputs(data.draw)
    kwargs = case.kwargs(data.draw, xs)
    skip = NON_DIFFERENTIABLE_ARGS.get(case.name)
    diff = [i for i in range(len(xs)) if skip is None or i != skip % len(xs)]
    originals = [x.copy() for x in xs]

    def f(*ts: Any) -> Any:
        return case.op(*ts, **kwargs)

    # value against NumPy
    tensors = [ad.tensor(x, requires_grad=i in diff) if i in diff else x
               for i, x in enumerate(xs)]
    out = f(*tensors)
    expected = case.ref(*xs, **kwargs)
    for o, e in zip(_as_tuple(out), _as_tuple(expected)):
        assert o.shape == np.shape(e), f"{case.name}: shape {o.shape} != {np.shape(e)}"
        np.testing.assert_allclose(o.data, e, rtol=1e-6, atol=1e-6)
    _check_numpy_protocol(case, tensors, kwargs, out)

    # gradient and second gradient
    assume(all(x.size for x in xs[:1]))
    assert gradcheck(f, *tensors, **{"atol": 1e-5, "rtol": 1e-3, **case.check},
                     modes=("rev", "fwd"))
    if case.second_order:
        assert gradgradcheck(f, *tensors, atol=1e-4, rtol=1e-3)

    # backward: no aliasing of inputs or of the incoming gradient, no mutation, graph freed
    leaves = [ad.tensor(x, requires_grad=True) if i in diff else x for i, x in enumerate(xs)]
    outs = [o for o in _as_tuple(f(*leaves)) if o.requires_grad]
    # An input or output written in place later must not change what backward reads unseen:
    # the version check guards what save_for_backward holds, not ctx attributes.
    for op, name, kept in _kept_on_ctx(outs):
        for x in [*leaves, *outs]:
            assert not np.shares_memory(kept, getattr(x, "data", x)), \
                f"{case.name}: ctx.{name} of {op} aliases an input or an output"
    seeds = [ad.tensor(np.ones(o.shape)) for o in outs]
    nodes = [weakref.ref(o.grad_fn) for o in outs]
    wrt = [leaves[i] for i in diff]
    grads = ad.gradients(outs, wrt, grad_outputs=seeds, allow_unused=True)
    for leaf, g in zip(wrt, grads):
        assert g.dtype == leaf.dtype
        assert not np.shares_memory(g.data, leaf.data), f"{case.name}: grad aliases input"
        for s in seeds:
            assert not np.shares_memory(g.data, s.data), f"{case.name}: grad aliases the seed"
    try:  # the saved tensors were freed: a second pass fails, and says what to do
        ad.gradients(outs, wrt, grad_outputs=seeds, allow_unused=True)
    except RuntimeError as e:
        assert "retain_graph" in str(e)
    for x, x0 in zip(xs, originals):
        np.testing.assert_array_equal(x, x0)
    for leaf, x0 in zip(leaves, originals):
        np.testing.assert_array_equal(leaf.data, x0)
    del outs, seeds, grads
    # Reference counting alone frees the graph (no cycles: docs/engine.md), so no gc.collect(),
    # which would also cost ~50 ms per example in a process this size.
    assert all(n() is None for n in nodes), f"{case.name}: graph nodes still alive"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(case: Case, data: st.DataObject) -> None:
    """A float32 graph never becomes float64: forward values and gradients."""
    rng = np.random.default_rng(0)
    draw = data.draw
    xs = case.inputs(draw)
    kwargs = case.kwargs(draw, xs)
    skip = NON_DIFFERENTIABLE_ARGS.get(case.name)
    diff = [i for i in range(len(xs)) if skip is None or i != skip % len(xs)]
    ts = [ad.tensor(x.astype(np.float32), requires_grad=True) if i in diff else x
          for i, x in enumerate(xs)]
    outs = [o for o in _as_tuple(case.op(*ts, **kwargs))]
    for o in outs:
        assert o.dtype == case.float32_out, f"{case.name}: output dtype {o.dtype}"
    total = sum(((o * rng.standard_normal()).sum() for o in outs if o.requires_grad),
                ad.tensor(0.0))
    if total.requires_grad:
        total.backward()
    for i in diff:
        if ts[i].grad is not None:
            assert ts[i].grad.dtype == np.float32, f"{case.name}: grad dtype {ts[i].grad.dtype}"


def test_an_empty_list_index_selects_nothing_as_in_numpy():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for index in ([], ([], 0), [[]]):
        got = x[index]
        assert got.shape == x.data[index].shape
        got.sum().backward()
        assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]
        x.grad = None
    with pytest.raises(IndexError, match="getitem"):  # an empty float array: NumPy refuses too
        x[np.array([])]
