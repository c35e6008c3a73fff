"""Products and diagonals: matmul (a primitive), einsum (a primitive whose backward is einsums),
and composites of these and of the shape ops: dot, vdot, inner, outer, kron, cross, tensordot,
trace, diag, diagonal, tril, triu. Every one follows NumPy's rules for dimensions and broadcasting.

>>> import autodiff as ad
>>> W = ad.ones((2, 3), requires_grad=True)
>>> x = ad.tensor([1.0, 2.0, 3.0])
>>> (W @ x).sum().backward()
>>> W.grad
tensor([[1., 2., 3.],
        [1., 2., 3.]])
>>> ad.einsum("ij,j->i", W, x)
tensor([6., 6.], grad_fn=<einsum>)
"""

from __future__ import annotations

import math
import operator
import string
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from autodiff.dtypes import constant_like
from autodiff.function import Function
from autodiff.ops._convert import as_tensor, pair
from autodiff.ops.arith import mul
from autodiff.ops.axes import normalize_axes, normalize_axis
from autodiff.ops.indexing import getitem, setitem, where
from autodiff.ops.reduce import sum
from autodiff.ops.registry import register
from autodiff.ops.shape import astype, broadcast_to, moveaxis, reshape, stack, transpose
from autodiff.tensor import Tensor

__all__ = ["cross", "diag", "diagonal", "dot", "einsum", "inner", "kron", "matmul", "outer",
           "tensordot", "trace", "tril", "triu", "vdot"]


class MatMul(Function):
    array_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        # Only operators and methods Tensors and arrays share, so it runs on either.
        if a.ndim == 1 and b.ndim == 1:  # inner product
            ga = grad * b if need_a else None
            gb = grad * a if need_b else None
        elif a.ndim == 1:  # (n,) @ (..., n, k) -> (..., k)
            g = grad.reshape((*grad.shape[:-1], 1, grad.shape[-1]))  # (..., 1, k)
            ga = g @ b.swapaxes(-1, -2) if need_a else None  # (..., 1, n), summed to (n,)
            gb = a.reshape((-1, 1)) * g if need_b else None  # (..., n, k)
        elif b.ndim == 1:  # (..., m, n) @ (n,) -> (..., m)
            g = grad.reshape((*grad.shape, 1))  # (..., m, 1)
            ga = g * b if need_a else None  # (..., m, n)
            gb = (a.swapaxes(-1, -2) @ g).squeeze(-1) if need_b else None  # (..., n)
        else:
            ga = grad @ b.swapaxes(-1, -2) if need_a else None
            gb = a.swapaxes(-1, -2) @ grad if need_b else None
        return ga, gb


@register(np.matmul, np.linalg.matmul, method="__matmul__")
def matmul(a: Any, b: Any) -> Tensor:
    """a @ b with NumPy's rules: 1-D operands are vectors, leading axes broadcast.

    >>> import autodiff as ad
    >>> W = ad.ones((2, 3), requires_grad=True)
    >>> ad.matmul(W, ad.ones((3, 4))).shape
    (2, 4)
    """
    a, b = pair(a, b, "matmul")
    sa, sb = np.shape(a.data if isinstance(a, Tensor) else a), np.shape(
        b.data if isinstance(b, Tensor) else b)
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least 1 dimension, got shapes {sa} "
                         f"and {sb} (use * for scalars)")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: {ka} (last axis of "
                         f"the first) != {kb} ({'only' if len(sb) == 1 else 'second-to-last'} "
                         "axis of the second)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: batch axes of shapes {sa} and {sb} cannot be broadcast "
                         "together") from None


@register(method="__rmatmul__", public=False)
def _rmatmul(b: Any, a: Any) -> Tensor:
    """other @ tensor (the reflected operator)."""
    return matmul(a, b)


def _shape(x: Any) -> tuple[int, ...]:
    return np.shape(x.data if isinstance(x, Tensor) else x)


# -- products built on matmul --------------------------------------------------------------


@register(np.tensordot, np.linalg.tensordot)
def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum of products over `axes` (np.tensordot): an int N pairs the last N axes of `a` with
    the first N of `b`; a pair of sequences (or ints) names the axes of each. Composite: the
    paired axes are moved together, then one matrix product.

    >>> import autodiff as ad
    >>> a, b = ad.ones((2, 3, 4)), ad.ones((4, 3, 5))
    >>> ad.tensordot(a, b, axes=([1, 2], [1, 0])).shape
    (2, 5)
    >>> ad.tensordot(a, b, axes=1).shape
    (2, 3, 3, 5)
    """
    a, b = pair(a, b, "tensordot")
    sa, sb = _shape(a), _shape(b)
    if isinstance(axes, int | np.integer):
        n = int(axes)
        if n < 0 or n > len(sa) or n > len(sb):
            raise ValueError(f"tensordot: axes={n} does not fit shapes {sa} and {sb}")
        ax_a, ax_b = tuple(range(len(sa) - n, len(sa))), tuple(range(n))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: axes must be an int or a pair of axis sequences, got "
                             f"{axes!r}") from None
        ax_a = normalize_axes("tensordot", first, len(sa))
        ax_b = normalize_axes("tensordot", second, len(sb))
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: {len(ax_a)} axes of the first operand paired with "
                             f"{len(ax_b)} of the second ({axes!r})")
    if any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError(f"tensordot: shape-mismatch for sum: axes {ax_a} of shape {sa} and "
                         f"axes {ax_b} of shape {sb} differ in size")
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [i for i in range(len(sb)) if i not in ax_b]
    k = math.prod(sa[i] for i in ax_a)
    left = _as_matrix(a, (*free_a, *ax_a), (math.prod(sa[i] for i in free_a), k))
    right = _as_matrix(b, (*ax_b, *free_b), (k, math.prod(sb[i] for i in free_b)))
    return reshape(matmul(left, right), [sa[i] for i in free_a] + [sb[i] for i in free_b])


def _as_matrix(x: Tensor, order: tuple[int, ...], shape: tuple[int, int]) -> Tensor:
    """x with its axes in `order`, as a matrix of `shape` (no node for what changes nothing)."""
    if order != tuple(range(len(order))):
        x = transpose(x, order)
    return x if x.shape == shape else reshape(x, shape)


@register(np.dot, method=True)
def dot(a: Any, b: Any) -> Tensor:
    """np.dot in every dimension: scalars multiply, 1-D with 1-D is the inner product, N-D with
    1-D sums over the last axis of both, N-D with M-D (M >= 2) sums over the last axis of `a`
    and the second-to-last of `b`. 1-D and 2-D operands go to matmul, the rest to tensordot.

    >>> import autodiff as ad
    >>> ad.dot(ad.ones((2, 3, 4)), ad.ones((5, 4, 6))).shape
    (2, 3, 5, 6)
    >>> ad.dot(ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0]))
    tensor(11.)
    """
    a, b = pair(a, b, "dot")
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return mul(a, b)
    k = sb[-2] if len(sb) >= 2 else sb[0]
    if sa[-1] != k:
        raise ValueError(f"dot: shapes {sa} and {sb} are not aligned: {sa[-1]} (last axis of "
                         f"the first) != {k} ({'second-to-last' if len(sb) >= 2 else 'only'} "
                         "axis of the second)")
    if len(sa) <= 2 and len(sb) <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([len(sa) - 1], [max(len(sb) - 2, 0)]))


@register(np.inner)
def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axis of both (np.inner); scalars multiply.

    >>> import autodiff as ad
    >>> ad.inner(ad.ones((2, 3)), ad.ones((4, 3))).shape
    (2, 4)
    """
    a, b = pair(a, b, "inner")
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return mul(a, b)
    if sa[-1] != sb[-1]:
        raise ValueError(f"inner: shapes {sa} and {sb} are not aligned: their last axes differ "
                         f"({sa[-1]} != {sb[-1]})")
    return tensordot(a, b, axes=([-1], [-1]))


@register(np.vdot)
def vdot(a: Any, b: Any) -> Tensor:
    """Inner product of the two tensors flattened (np.vdot; tensors are real, so no conjugate).

    >>> import autodiff as ad
    >>> ad.vdot(ad.tensor([[1.0, 2.0], [3.0, 4.0]]), ad.ones((4,)))
    tensor(10.)
    """
    a, b = pair(a, b, "vdot")
    sa, sb = _shape(a), _shape(b)
    if math.prod(sa) != math.prod(sb):
        raise ValueError(f"vdot: shapes {sa} and {sb} have different sizes")
    return matmul(reshape(a, (-1,)), reshape(b, (-1,)))


@register(np.outer)
def outer(a: Any, b: Any) -> Tensor:
    """out[i, j] = a.ravel()[i] * b.ravel()[j] (np.outer).

    >>> import autodiff as ad
    >>> ad.outer(ad.tensor([1.0, 2.0]), ad.tensor([1.0, 10.0, 100.0]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]])
    """
    a, b = pair(a, b, "outer")
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


@register(np.kron)
def kron(a: Any, b: Any) -> Tensor:
    """Kronecker product (np.kron): blocks a[i, j] * b; the operand with fewer dimensions gets
    leading 1s. Composite: one broadcast product between interleaved axes.

    >>> import autodiff as ad
    >>> ad.kron(ad.tensor([[1.0, 2.0]]), ad.ones((2, 2)))
    tensor([[1., 1., 2., 2.],
            [1., 1., 2., 2.]])
    """
    a, b = pair(a, b, "kron")
    sa, sb = _shape(a), _shape(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    spread_a = reshape(a, [n for m in sa for n in (m, 1)])
    spread_b = reshape(b, [n for m in sb for n in (1, m)])
    return reshape(mul(spread_a, spread_b), [m * n for m, n in zip(sa, sb)])


def _vectors(op: str, which: str, x: Tensor, axis: Any) -> Tensor:
    """x with the axis of its vectors last."""
    if x.ndim < 1:
        raise ValueError(f"{op}: {which} is 0-d (shape {x.shape}): it has no axis of vectors")
    axis = normalize_axis(f"{op}: axis{which}", axis, x.ndim)
    return x if axis == x.ndim - 1 else moveaxis(x, axis, -1)


def _times(u: Tensor | None, v: Tensor | None) -> Tensor | None:
    return None if u is None or v is None else u * v  # None: a third component of 0


def _minus(u: Tensor | None, v: Tensor | None) -> Tensor:
    return -v if u is None else u if v is None else u - v


@register(np.cross)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """The cross products of the vectors of a and b (np.cross): along `axisa` and `axisb`
    (`axis` sets all three), the others broadcast; the vectors of the result along `axisc`.
    Vectors of 2 components (deprecated by NumPy 2, which warns, and so does this) are those of
    3 with a third of 0; two of them give the z component alone, with no vector axis.
    Composite: products and differences of the components.

    >>> import autodiff as ad
    >>> ad.cross(ad.tensor([1.0, 0.0, 0.0]), ad.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0]]))
    tensor([[ 0.,  0.,  1.],
            [ 0., -2.,  0.]])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = pair(a, b, "cross")
    a, b = _vectors("cross", "a", as_tensor(a), axisa), _vectors("cross", "b", as_tensor(b), axisb)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vectors have 2 or 3 components, got {na} and {nb} (a of "
                         f"shape {a.shape}, b of shape {b.shape}, their vectors moved last)")
    try:
        np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    except ValueError:
        raise ValueError(f"cross: the vectors of a and b do not broadcast together: shapes "
                         f"{a.shape} and {b.shape}, their vectors moved last") from None
    if 2 in (na, nb):  # NumPy's words
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    a0, a1, a2 = (getitem(a, (..., i)) if i < na else None for i in range(3))
    b0, b1, b2 = (getitem(b, (..., i)) if i < nb else None for i in range(3))
    z = a0 * b1 - a1 * b0
    if na == nb == 2:
        return z
    out = stack([_minus(_times(a1, b2), _times(a2, b1)),
                 _minus(_times(a2, b0), _times(a0, b2)), z], axis=-1)
    axisc = normalize_axis("cross: axisc", axisc, out.ndim)
    return out if axisc == out.ndim - 1 else moveaxis(out, -1, axisc)


# -- diagonals -------------------------------------------------------------------------------


@register(np.diagonal, method=True)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of the (axis1, axis2) planes, shifted by `offset`, as a new last axis
    (np.diagonal; a copy, not a read-only view). Composite: an integer index.

    >>> import autodiff as ad
    >>> x = ad.arange(9.0).reshape(3, 3)
    >>> ad.diagonal(x), ad.diagonal(x, offset=1)
    (tensor([0., 4., 8.]), tensor([1., 5.]))
    """
    a = as_tensor(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {a.shape}")
    axis1 = normalize_axis("diagonal", axis1, a.ndim)
    axis2 = normalize_axis("diagonal", axis2, a.ndim)
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({axis1})")
    offset = int(offset)
    rest = [i for i in range(a.ndim) if i not in (axis1, axis2)]
    n1, n2 = a.shape[axis1], a.shape[axis2]
    n = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    i = np.arange(n)
    rows, cols = i - min(offset, 0), i + max(offset, 0)
    moved = a if [*rest, axis1, axis2] == list(range(a.ndim)) else transpose(
        a, (*rest, axis1, axis2))
    return getitem(moved, (Ellipsis, rows, cols))


@register(np.trace, method=True)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None) -> Tensor:
    """Sum along a diagonal (np.trace): the sum of `diagonal(a, offset, axis1, axis2)`, in
    `dtype` when given (as np.sum's).

    >>> import autodiff as ad
    >>> x = ad.arange(9.0).reshape(3, 3).requires_grad_()
    >>> ad.trace(x).backward()
    >>> x.grad
    tensor([[1., 0., 0.],
            [0., 1., 0.],
            [0., 0., 1.]])
    """
    return sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


@register(np.diag)
def diag(v: Any, k: int = 0) -> Tensor:
    """A 1-D `v` on the k-th diagonal of a square matrix of zeros, or the k-th diagonal of a
    2-D `v` (np.diag).

    >>> import autodiff as ad
    >>> ad.diag(ad.tensor([1.0, 2.0]), k=1)
    tensor([[0., 1., 0.],
            [0., 0., 2.],
            [0., 0., 0.]])
    """
    v = as_tensor(v)
    k = int(k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    i = np.arange(v.shape[0])
    return setitem(Tensor._make(np.zeros((n, n), v.dtype), None, 0),
                   (i - min(k, 0), i + max(k, 0)), v)


def _triangle(op: str, m: Any, k: int, lower: bool) -> Tensor:
    m = as_tensor(m)
    if m.ndim == 0:
        raise ValueError(f"{op}: needs at least 1 dimension, got a 0-d tensor")
    shape = m.shape[-2:]
    keep = np.tri(*shape, k=int(k), dtype=bool) if lower else ~np.tri(*shape, k=int(k) - 1,
                                                                          dtype=bool)
    return where(keep, m, np.zeros((), m.dtype))  # a zero of m's dtype: bool stays bool


@register(np.tril)
def tril(m: Any, k: int = 0) -> Tensor:
    """Zeros above the k-th diagonal of the last two axes (np.tril; a 1-D `m` is taken as the
    row of a square matrix, as NumPy).

    >>> import autodiff as ad
    >>> ad.tril(ad.ones((3, 3)))
    tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]])
    """
    return _triangle("tril", m, k, lower=True)


@register(np.triu)
def triu(m: Any, k: int = 0) -> Tensor:
    """Zeros below the k-th diagonal of the last two axes (np.triu).

    >>> import autodiff as ad
    >>> ad.triu(ad.ones((2, 3)), k=1)
    tensor([[0., 1., 1.],
            [0., 0., 1.]])
    """
    return _triangle("triu", m, k, lower=False)


# -- einsum ----------------------------------------------------------------------------------

_LABELS = string.ascii_uppercase + string.ascii_lowercase  # NumPy's: sublist int i is _LABELS[i]


class Einsum(Function):
    """One einsum in explicit form, each label a letter: `terms` (one string per operand) ->
    `out`, labels of one size everywhere (broadcast axes of size 1 are squeezed beforehand).
    The gradient of an operand is an einsum of the output's gradient with the other operands,
    so every order of derivative is an einsum again."""

    @staticmethod
    def forward(ctx, *arrays, terms, out, optimize):
        ctx.terms, ctx.out, ctx.optimize = terms, out, optimize
        ctx.save_for_backward(*arrays)
        result = np.asarray(np.einsum(f"{','.join(terms)}->{out}", *arrays, optimize=optimize))
        if any(np.may_share_memory(result, x) for x in arrays):
            result = result.copy()  # a view of an input ('ij->ji', 'ii->i'): not aliased
        return result

    @staticmethod
    def backward(ctx, grad):
        xs = ctx.saved_tensors
        terms = ctx.terms
        return tuple(
            _operand_grad(grad, ctx.out, [(t, x) for j, (t, x) in enumerate(zip(terms, xs))
                                          if j != i], terms[i], xs[i].shape, ctx.optimize)
            if need else None for i, need in enumerate(ctx.needs_input_grad))


def _operand_grad(grad: Tensor, out: str, others: list[tuple[str, Tensor]], term: str,
                  shape: tuple[int, ...], optimize: bool) -> Tensor:
    """d/d(operand with labels `term`): the output's gradient contracted with the others onto
    the operand's distinct labels; a label only this operand has (summed in forward) is
    broadcast back; a label it repeats (a diagonal) puts the result on that diagonal."""
    distinct = "".join(dict.fromkeys(term))
    elsewhere = set(out).union(*(t for t, _ in others))
    kept = "".join(c for c in distinct if c in elsewhere)
    g = Einsum.apply(grad, *(x for _, x in others), terms=(out, *(t for t, _ in others)),
                     out=kept, optimize=optimize)
    size = dict(zip(term, shape))
    if kept != distinct:
        g = reshape(g, [size[c] if c in elsewhere else 1 for c in distinct])
        g = broadcast_to(g, [size[c] for c in distinct])
    if distinct == term:
        return g
    # term "iij" from distinct "ij": einsum("ij,ik->ikj", g, eye), a fresh label per repeat
    free = iter(c for c in _LABELS if c not in elsewhere and c not in term)
    spread, eyes = [], []
    for c in term:
        if c in spread:
            try:
                fresh = next(free)
            except StopIteration:
                raise ValueError(f"einsum: too many labels to differentiate '{term}' "
                                 "(NumPy has 52)") from None
            eyes.append(c + fresh)
            spread.append(fresh)
        else:
            spread.append(c)
    identities = [np.eye(size[c], dtype=g.dtype) for c, _ in eyes]
    return Einsum.apply(g, *identities, terms=(distinct, *eyes), out="".join(spread),
                        optimize=optimize)


def _sublists(op: str, operands: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """NumPy's second form, einsum(x, [0, 1], y, [1, 2], [0, 2]), as subscripts and operands."""

    def letters(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            else:
                try:
                    if isinstance(s, bool):
                        raise TypeError
                    out.append(_LABELS[operator.index(s)])
                except (TypeError, IndexError):
                    raise ValueError(f"{op}: a subscript in a sublist must be an integer in "
                                     f"[0, 52) or Ellipsis, got {s!r}") from None
        return "".join(out)

    xs, terms = list(operands[0::2]), list(operands[1::2])
    output = None
    if len(operands) % 2:  # a last sublist: the output
        output = letters(xs.pop())
    subscripts = ",".join(letters(t) for t in terms)
    return (subscripts if output is None else f"{subscripts}->{output}"), xs


def _parse(op: str, subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Explicit letters for every axis: '...' becomes fresh letters (right-aligned, as
    broadcasting), an implicit output the letters seen once, in alphabetical order, after the
    broadcast axes."""
    subscripts = subscripts.replace(" ", "")
    if subscripts.count("->") > 1 or ("-" in subscripts.replace("->", "")) or (
            ">" in subscripts.replace("->", "")):
        raise ValueError(f"{op}: subscripts {subscripts!r} have a misplaced '->'")
    lhs, arrow, rhs = subscripts.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"{op}: {len(terms)} operand subscripts in {subscripts!r} for "
                         f"{len(shapes)} operands")
    for t in [*terms, rhs]:
        bad = set(t.replace("...", "", 1)) - set(_LABELS)
        if bad:
            raise ValueError(f"{op}: subscripts {subscripts!r} have {sorted(bad)} (labels are "
                             "letters, with at most one '...' per operand)")
    used = set(lhs) | set(rhs)
    spare = [c for c in _LABELS if c not in used]
    widths = []
    for t, shape in zip(terms, shapes):
        n_labels = len(t.replace("...", ""))
        width = len(shape) - n_labels
        if width < 0 or (width and "..." not in t):
            raise ValueError(f"{op}: operand subscripts '{t}' do not fit an operand of shape "
                             f"{shape} ({len(shape)} dimensions)")
        widths.append(width if "..." in t else 0)
    width = max(widths, default=0)
    if width > len(spare):
        raise ValueError(f"{op}: too many labels in {subscripts!r} (NumPy has 52)")
    ell = "".join(spare[:width])
    terms = [t.replace("...", ell[width - w:] if w else "") for t, w in zip(terms, widths)]
    if arrow:
        if "..." not in rhs and width:
            raise ValueError(f"{op}: output subscripts {rhs!r} have no '...' for the broadcast "
                             f"axes of {subscripts!r}")
        out = rhs.replace("...", ell)
        seen = "".join(terms)
        for c in out:
            if c not in seen or out.count(c) > 1:
                raise ValueError(f"{op}: output label '{c}' of {subscripts!r} "
                                 f"{'repeats' if c in seen else 'is in no operand'}")
    else:
        letters = "".join(terms)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        out = ell + "".join(once)
    return terms, out


def _squeeze_broadcast(op: str, terms: list[str], xs: list[Tensor]) -> tuple[list[str], list[Any]]:
    """Check that a label has one size everywhere, but for 1s that broadcast (as NumPy); those
    axes are squeezed away with their labels, so that every einsum below sees one size."""
    sizes: dict[str, int] = {}
    for t, x in zip(terms, xs):
        for c, n in zip(t, x.shape):
            if t.count(c) > 1 and len({x.shape[i] for i, d in enumerate(t) if d == c}) > 1:
                raise ValueError(f"{op}: the repeated label '{c}' of '{t}' is on axes of "
                                 f"different sizes (shape {x.shape})")
            if n != 1:
                if sizes.get(c, n) != n:
                    raise ValueError(f"{op}: label '{c}' is on axes of sizes {sizes[c]} and "
                                     f"{n}; shapes {[x.shape for x in xs]} for "
                                     f"{','.join(terms)}")
                sizes[c] = n
    new_terms, new_xs = [], []
    for t, x in zip(terms, xs):
        drop = [i for i, (c, n) in enumerate(zip(t, x.shape)) if n == 1 and sizes.get(c, 1) > 1]
        if drop:
            x = reshape(x, [n for i, n in enumerate(x.shape) if i not in drop])
            t = "".join(c for i, c in enumerate(t) if i not in drop)
        new_terms.append(t)
        new_xs.append(x)
    return new_terms, new_xs


def _common(op: str, xs: Sequence[Any]) -> list[Tensor]:
    """Operands of one dtype: constants take the tensors' floating dtype (as NumPy 2's weak
    scalars), floating tensors the widest of theirs (a recorded cast), integer tensors the
    floating one."""
    floats = [x.data.dtype for x in xs if isinstance(x, Tensor) and x.data.dtype.kind == "f"]
    if not floats:
        ts = [as_tensor(x) for x in xs]
        floats = [t.data.dtype for t in ts if t.data.dtype.kind == "f"]
        if not floats:
            return ts
        xs = ts
    dt = np.result_type(*floats)
    out = []
    for x in xs:
        if not isinstance(x, Tensor):
            x = Tensor._make(constant_like(x, dt), None, 0)
        elif x.data.dtype != dt:
            x = astype(x, dt) if x.data.dtype.kind == "f" else Tensor._make(
                x.data.astype(dt), None, 0)
        out.append(x)
    return out


@register(np.einsum)
def einsum(*operands: Any, optimize: bool | str | list[Any] = False) -> Tensor:
    """Einstein summation, every form np.einsum takes: "ij,jk->ik" (explicit output),
    "ij,jk" (implicit: the labels seen once, in alphabetical order), '...' for broadcast axes,
    a label repeated in one operand for a diagonal or a trace ("ii->i", "ii"), any number of
    operands, and the sublist form einsum(x, [0, 1], y, [1, 2], [0, 2]).

    `optimize` as np.einsum: False contracts all operands at once; True, 'greedy', 'optimal'
    or an explicit path contract them pairwise in np.einsum_path's order, each contraction an
    einsum of its own (whose backward is einsums).

    >>> import autodiff as ad
    >>> A = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> ad.einsum("ii", A)
    tensor(5., grad_fn=<einsum>)
    >>> ad.einsum("ij,jk,kl->il", A, A, A, optimize=True).shape
    (2, 2)
    >>> ad.einsum("...ij->...ji", ad.ones((5, 2, 3))).shape
    (5, 3, 2)
    """
    if not operands:
        raise ValueError("einsum: no operands given")
    if isinstance(operands[0], str):
        subscripts, xs = operands[0], list(operands[1:])
    else:
        subscripts, xs = _sublists("einsum", operands)
    if not xs:
        raise ValueError("einsum: no operands given")
    xs = _common("einsum", xs)
    terms, out = _parse("einsum", subscripts, [x.shape for x in xs])
    terms, xs = _squeeze_broadcast("einsum", terms, xs)
    if optimize is False or optimize is None:
        return Einsum.apply(*xs, terms=tuple(terms), out=out, optimize=False)
    spec = f"{','.join(terms)}->{out}"
    try:
        path = np.einsum_path(spec, *(x.data for x in xs), optimize=optimize)[0][1:]
    except (TypeError, ValueError, KeyError, IndexError) as e:  # NumPy's kind of error
        raise type(e)(f"einsum: optimize={optimize!r} does not fit {spec!r}: {e}") from None
    items = list(zip(terms, xs))
    for step, chosen in enumerate(path):
        picked = [items[i] for i in chosen]
        items = [it for i, it in enumerate(items) if i not in chosen]
        if step == len(path) - 1 and not items:
            result = out
        else:  # the labels still needed later, in order of appearance
            later = set(out).union(*(t for t, _ in items))
            result = "".join(dict.fromkeys(c for t, _ in picked for c in t if c in later))
        items.append((result, Einsum.apply(*(x for _, x in picked),
                                           terms=tuple(t for t, _ in picked), out=result,
                                           optimize=True)))
    (last_term, last), = items
    if last_term != out:  # np.einsum_path left labels in another order
        last = Einsum.apply(last, terms=(last_term,), out=out, optimize=False)
    return last
