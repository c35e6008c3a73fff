"""np.linalg's composites (autodiff/ops/linalg_composites.py): lstsq, svdvals, eigvalsh,
multi_dot, matrix_rank. Values against NumPy, closed forms, gradients to second order with
gradgradcheck, against PyTorch where it is installed, and the errors. The op table
(test_ops.py) checks each on random inputs too."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(31)


def test_lstsq_closed_form():
    # two measurements of one unknown: x is their mean, the residual the squared spread
    a = ad.tensor([[1.0], [1.0]], dtype="float64", requires_grad=True)
    b = ad.tensor([1.0, 3.0], dtype="float64", requires_grad=True)
    x, residuals, rank, s = ad.linalg.lstsq(a, b)
    assert x.tolist() == pytest.approx([2.0]) and residuals.tolist() == pytest.approx([2.0])
    assert int(rank) == 1
    assert s.tolist() == pytest.approx([np.sqrt(2.0)])
    assert rank.dtype == np.int32 and not rank.requires_grad
    gb, = ad.gradients(x.sum(), [b])
    assert gb.tolist() == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("shape,b_shape,rank", [((5, 3), (5,), 3), ((5, 3), (5, 2), 3),
                                                ((3, 5), (3, 2), 3), ((4, 3), (4,), 2),
                                                ((0, 2), (0,), 0)])
def test_lstsq_equals_numpys(shape, b_shape, rank):
    a = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    b = rng.standard_normal(b_shape)
    ours, ref = np.linalg.lstsq(ad.tensor(a), ad.tensor(b)), np.linalg.lstsq(a, b)
    for o, r in zip(ours, ref):
        assert o.shape == np.shape(r)
        np.testing.assert_allclose(o.data, r, rtol=1e-10, atol=1e-12)
    assert ours[0].dtype == np.float64


def test_lstsq_rcond_and_float32():
    a = np.diag([1.0, 1e-9])
    for rcond in [None, -1, 1e-6]:
        x, _, rank, _ = ad.linalg.lstsq(ad.tensor(a), ad.ones(2, dtype="float64"), rcond=rcond)
        ref = np.linalg.lstsq(a, np.ones(2), rcond=rcond)
        np.testing.assert_allclose(x.data, ref[0], rtol=1e-12)
        assert int(rank) == ref[2]
    out = ad.linalg.lstsq(ad.tensor(np.eye(3, 2, dtype=np.float32)), ad.ones(3))
    assert [t.dtype for t in out] == [np.float32, np.float32, np.int32, np.float32]


def test_lstsq_gradients_to_second_order():
    a = ad.tensor(rng.standard_normal((4, 2)))
    b = ad.tensor(rng.standard_normal((4, 3)))
    assert gradcheck(lambda a, b: ad.linalg.lstsq(a, b)[0], a, b, modes=("rev", "fwd"))
    assert gradgradcheck(lambda a, b: ad.linalg.lstsq(a, b)[1], a, b)


def test_lstsq_gradients_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, where installed")
    for shape, b_shape in [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((4, 4), (4, 1))]:
        a, b = rng.standard_normal(shape), rng.standard_normal(b_shape)
        seed = rng.standard_normal((shape[1], b_shape[1]))
        ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
        x, residuals, _, _ = ad.linalg.lstsq(ta, tb)
        ours = ad.gradients((x * ad.tensor(seed)).sum() + residuals.sum(), [ta, tb])
        pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        px = torch.linalg.lstsq(pa, pb, driver="gelsd").solution
        loss = (px * torch.tensor(seed)).sum()
        if shape[0] > shape[1]:
            loss = loss + ((pa @ px - pb) ** 2).sum()
        expected = torch.autograd.grad(loss, [pa, pb])
        np.testing.assert_allclose(x.data, px.detach().numpy(), rtol=1e-10, atol=1e-12)
        for g, e in zip(ours, expected):
            np.testing.assert_allclose(g.data, e.numpy(), rtol=1e-9, atol=1e-11)


def test_lstsq_errors():
    with pytest.raises(ValueError, match=r"lstsq: a must be 2-D .* shapes \(2, 3, 3\)"):
        ad.linalg.lstsq(ad.ones((2, 3, 3)), ad.ones(3))
    with pytest.raises(ValueError, match=r"lstsq: b of shape \(4,\) does not fit a of shape"):
        ad.linalg.lstsq(ad.ones((3, 2)), ad.ones(4))


def test_multi_dot_takes_numpys_order_and_vectors():
    a, b, c = (rng.standard_normal(s) for s in [(6, 1), (1, 5), (5, 2)])
    ts = [ad.tensor(x, requires_grad=True) for x in (a, b, c)]
    out = np.linalg.multi_dot(ts)
    np.testing.assert_array_equal(out.data, np.linalg.multi_dot([a, b, c]))  # a (b c)
    v, w = rng.standard_normal(6), rng.standard_normal(2)
    vec = ad.linalg.multi_dot([ad.tensor(v), *ts, ad.tensor(w)])
    assert vec.shape == () and vec.item() == pytest.approx(v @ a @ b @ c @ w)
    assert gradgradcheck(lambda *xs: ad.linalg.multi_dot(xs), ad.tensor(v), *ts)


def test_multi_dot_errors():
    with pytest.raises(ValueError, match="multi_dot: needs at least two arrays, got 1"):
        ad.linalg.multi_dot([ad.ones((2, 2))])
    with pytest.raises(ValueError, match="multi_dot: array 1 has 3 dimensions"):
        ad.linalg.multi_dot([ad.ones((2, 2)), ad.ones((2, 2, 2)), ad.ones(2)])
    with pytest.raises(ValueError, match=r"multi_dot: shapes \(2, 3\) \(array 0\) and \(2, 2\)"):
        ad.linalg.multi_dot([ad.ones((2, 3)), ad.ones((2, 2))])
    with pytest.raises(TypeError, match="multi_dot: out= is not supported"):
        ad.linalg.multi_dot([ad.ones((2, 2)), ad.ones((2, 2))], out=np.empty((2, 2)))


def test_svdvals_and_eigvalsh_are_the_values_of_svd_and_eigh():
    x = rng.standard_normal((2, 3, 4))
    s = np.linalg.svdvals(ad.tensor(x, requires_grad=True))
    np.testing.assert_allclose(s.data, np.linalg.svdvals(x), rtol=1e-12)
    assert gradgradcheck(ad.linalg.svdvals, ad.tensor(x))
    sym = x[..., :3] + np.swapaxes(x[..., :3], -1, -2)
    for uplo in "LU":
        w = np.linalg.eigvalsh(ad.tensor(np.triu(sym) if uplo == "U" else np.tril(sym)), uplo)
        np.testing.assert_allclose(w.data, np.linalg.eigvalsh(sym), rtol=1e-12, atol=1e-14)
    t = ad.tensor(sym, requires_grad=True)
    ad.linalg.eigvalsh(t).sum().backward()  # the trace: the identity
    np.testing.assert_allclose(t.grad.data, np.broadcast_to(np.eye(3), sym.shape), atol=1e-14)


def test_matrix_rank_is_a_count_without_gradient():
    x = ad.tensor(rng.standard_normal((2, 4, 2)) @ rng.standard_normal((2, 2, 3)),
                  requires_grad=True)
    rank = np.linalg.matrix_rank(x)
    assert rank.tolist() == [2, 2] and not rank.requires_grad
    assert int(ad.linalg.matrix_rank(ad.tensor(np.diag([1.0, 1e-3])), tol=1e-2)) == 1
    assert int(ad.linalg.matrix_rank(ad.eye(3), hermitian=True, rtol=0.5)) == 3


def test_numpy2_linalg_names_act_on_the_last_axes():
    x = rng.standard_normal((2, 3, 3))
    t = ad.tensor(x, requires_grad=True)
    np.testing.assert_allclose(np.linalg.trace(t).data, np.trace(x, axis1=1, axis2=2))
    assert ad.trace(t).shape == (3,) and ad.linalg.trace(t).shape == (2,)  # np.trace: axes 0, 1
    np.testing.assert_array_equal(np.linalg.diagonal(t, offset=1).data,
                                  np.linalg.diagonal(x, offset=1))
    np.testing.assert_array_equal(np.linalg.matrix_transpose(t).data, x.swapaxes(1, 2))
    np.testing.assert_allclose(np.linalg.vecdot(t, ad.tensor(x[0])).data,
                               np.linalg.vecdot(x, x[0]), rtol=1e-13)
    np.testing.assert_array_equal(np.linalg.matmul(t, t).data, x @ x)
    np.testing.assert_array_equal(np.linalg.tensordot(t, t[0], axes=1).data,
                                  np.tensordot(x, x[0], axes=1))
    v = ad.tensor(x[0, 0], requires_grad=True)
    np.linalg.outer(v, ad.tensor(x[0, 1])).sum().backward()
    np.testing.assert_allclose(v.grad.data, np.full(3, x[0, 1].sum()), rtol=1e-13)
    assert gradgradcheck(lambda a, b: ad.linalg.vecdot(a, b, axis=1), ad.tensor(x),
                         ad.tensor(x[:1]))


def test_numpy2_linalg_names_errors():
    with pytest.raises(ValueError, match=r"linalg.outer: takes vectors \(1-D\), got shapes"):
        np.linalg.outer(ad.ones((2, 2)), ad.ones(2))
    with pytest.raises(ValueError, match=r"linalg.vecdot: .* along axis -1 differ in size"):
        np.linalg.vecdot(ad.ones((2, 3)), ad.ones(2))
    with pytest.raises(ValueError, match=r"linalg.vecdot: needs vectors, got shapes \(\)"):
        ad.linalg.vecdot(ad.tensor(1.0), ad.ones(2))
    for f in [ad.linalg.trace, ad.linalg.diagonal, ad.linalg.matrix_transpose]:
        with pytest.raises(ValueError, match=r"needs at least 2 dimensions .* shape \(3,\)"):
            f(ad.ones(3))


# -- cond, cross, tensorsolve, tensorinv -------------------------------------------------------

COND_ORDERS = [None, 2, -2, "fro", "nuc", np.inf, -np.inf, 1, -1]


@pytest.mark.parametrize("p", COND_ORDERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cond_equals_numpys(p, dtype):
    shapes = [(1, 1), (3, 3), (2, 4, 4), (2, 1, 3, 3), (0, 2, 2)]
    if p in (None, 2, -2):
        shapes += [(2, 3), (4, 2), (2, 3, 5)]  # the SVD's: any M, N
    for shape in shapes:
        x = rng.standard_normal(shape).astype(dtype)
        got, want = np.linalg.cond(ad.tensor(x), p), np.linalg.cond(x, p)  # NumPy's name
        assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype == dtype
        np.testing.assert_allclose(got.data, want, rtol=2e-5 if dtype == np.float32 else 1e-12)


def test_cond_closed_forms_and_gradients():
    # diag(2, 1/2): s_max / s_min = 4; d/ds_max = 1/s_min, d/ds_min = -s_max/s_min^2
    a = ad.tensor([[2.0, 0.0], [0.0, 0.5]], dtype="float64", requires_grad=True)
    (g,) = ad.gradients(ad.linalg.cond(a), [a])
    assert g.tolist() == [[2.0, 0.0], [0.0, -8.0]]
    (g,) = ad.gradients(ad.linalg.cond(a, -2), [a])  # s_min / s_max: -s_min/s_max^2, 1/s_max
    np.testing.assert_allclose(g.data, [[-1 / 8, 0.0], [0.0, 1 / 2]], rtol=1e-15)
    for p in ["fro", 1, np.inf]:  # ||A|| ||A^-1|| of a diagonal matrix
        want = {"fro": np.sqrt(4.25) * np.sqrt(4.25), 1: 4.0, np.inf: 4.0}[p]
        assert ad.linalg.cond(a, p).item() == pytest.approx(want)
    assert ad.linalg.cond(ad.eye(3), "nuc").item() == pytest.approx(9.0)
    x = ad.tensor(rng.standard_normal((2, 3, 3)) + 2 * np.eye(3))
    for p in COND_ORDERS:
        assert gradcheck(lambda t, p=p: ad.linalg.cond(t, p), x, modes=("rev", "fwd"))
        assert gradgradcheck(lambda t, p=p: ad.linalg.cond(t, p), x)


def test_cond_of_singular_matrices_is_inf_as_numpys_with_gradient_0():
    # A zero pivot (NumPy's inv fails) gives inf for the norms' p, batched with regular
    # matrices; a zero singular value gives inf for p = None, 2 (0 / 0 for the zero matrix:
    # inf too, as NumPy, and for -2).
    s = np.stack([[[1.0, 2.0], [2.0, 4.0]], np.eye(2) * 2, np.zeros((2, 2)),
                  [[3.0, 0.0], [0.0, 0.0]]])
    for p in COND_ORDERS:
        x = ad.tensor(s, requires_grad=True)
        out = ad.linalg.cond(x, p)
        if p == "nuc":  # NumPy raises here (the SVD of its NaN inverse); inf as the others
            want = np.array([np.inf, 4.0, np.inf, np.inf])
        else:
            with np.errstate(all="ignore"):
                want = np.linalg.cond(s, p)
        if p in (None, 2):  # the first is singular only up to rounding: NumPy's 4.8e16
            np.testing.assert_allclose(out.data[1:], want[1:])
            assert out.data[0] == pytest.approx(want[0], rel=1e-6)
        else:
            np.testing.assert_allclose(out.data, want, rtol=1e-15)
        (g,) = ad.gradients(out[1:].sum(), [x])
        infinite = np.isinf(out.data)
        assert infinite[2] and not infinite[1]
        assert np.isfinite(g.data).all() and (g.data[infinite] == 0).all(), p
    assert ad.linalg.cond(ad.zeros((2, 2)), -2).item() == np.linalg.cond(np.zeros((2, 2)), -2)


def test_cond_of_a_nan_is_nan_or_raises_as_numpys():
    x = np.array([[np.nan, 1.0], [1.0, 1.0]])
    for p in ["fro", 1, -np.inf]:
        got = ad.linalg.cond(ad.tensor(np.stack([x, np.eye(2)])), p)
        np.testing.assert_array_equal(got.data, np.linalg.cond(np.stack([x, np.eye(2)]), p))
    with pytest.raises(np.linalg.LinAlgError, match="cond: svd: SVD did not converge"):
        ad.linalg.cond(x)


def test_cond_gradients_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, where installed")
    for shape in [(3, 3), (2, 4, 4), (3, 2), (2, 2, 5)]:
        x = rng.standard_normal(shape) + 2 * np.eye(*shape[-2:])
        seed = rng.standard_normal(shape[:-2])
        for p in COND_ORDERS if shape[-1] == shape[-2] else [None, 2, -2]:
            t = ad.tensor(x, requires_grad=True)
            (g,) = ad.gradients((ad.linalg.cond(t, p) * seed).sum(), [t])
            pt = torch.tensor(x, requires_grad=True)
            if p in (None, 2, -2):
                ref = torch.linalg.cond(pt, p)
            else:  # torch.linalg.cond's backward raises for these p (PyTorch 2.13: an
                # in-place write to inv's output); its definition, in its own norms:
                ref = torch.linalg.matrix_norm(pt, p) * torch.linalg.matrix_norm(
                    torch.linalg.inv(pt), p)
            (want,) = torch.autograd.grad((ref * torch.tensor(seed)).sum(), pt)
            np.testing.assert_allclose(ad.linalg.cond(t, p).data, ref.detach().numpy(),
                                       rtol=1e-12)
            np.testing.assert_allclose(g.data, want.numpy(), rtol=1e-9, atol=1e-12)


def test_cond_errors():
    with pytest.raises(ValueError, match=r"cond: invalid norm order p=3 \(None, 2, -2"):
        np.linalg.cond(ad.eye(2), 3)
    with pytest.raises(np.linalg.LinAlgError, match=r"cond: p=1 needs square matrices, got "
                                                    r"shape \(2, 3\)"):
        ad.linalg.cond(ad.ones((2, 3)), 1)
    with pytest.raises(np.linalg.LinAlgError, match=r"cond: not defined on empty matrices, "
                                                    r"got shape \(2, 0, 0\)"):
        ad.linalg.cond(ad.ones((2, 0, 0)))
    with pytest.raises(np.linalg.LinAlgError, match=r"cond: needs a matrix .* shape \(3,\)"):
        ad.linalg.cond(ad.ones(3))


@pytest.mark.parametrize("sa,sb,kw", [
    ((3,), (3,), {}), ((4, 3), (3,), {}), ((2, 1, 3), (5, 3), {}), ((3, 4), (4, 3), {"axisa": 0}),
    ((3, 4), (3, 4), {"axis": 0}), ((2, 3, 4), (3, 1), {"axisa": 1, "axisb": 0, "axisc": 0}),
    ((2, 3), (2, 3), {"axisc": -2}), ((0, 3), (3,), {})])
def test_cross_equals_numpys(sa, sb, kw):
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
        got, want = np.cross(ad.tensor(a), b, **kw), np.cross(a, b, **kw)  # NumPy's name
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)
    assert ad.cross([1, 0, 0], [0, 1, 0]).tolist() == [0, 0, 1]  # integers stay integers


@pytest.mark.parametrize("sa,sb", [((2,), (2,)), ((2,), (3,)), ((4, 3), (2,)), ((4, 2), (1, 2))])
def test_cross_of_2_vectors_warns_as_numpy_2(sa, sb):
    # NumPy 2 deprecates them: the same warning; a third component of 0, and two 2-vectors
    # give the z component alone.
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    with pytest.warns(DeprecationWarning, match="Arrays of 2-dimensional vectors are "
                                                "deprecated"):
        got = ad.cross(ad.tensor(a, requires_grad=True), ad.tensor(b))
    with pytest.warns(DeprecationWarning):
        want = np.cross(a, b)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.data, want)
    with pytest.warns(DeprecationWarning):
        assert gradgradcheck(ad.cross, ad.tensor(a), ad.tensor(b))


def test_cross_closed_form_gradient():
    # d/da (a x b) . w = b x w, d/db = w x a
    a, b, w = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    ga, gb = ad.gradients((ad.linalg.cross(ta, tb) * w).sum(), [ta, tb])
    np.testing.assert_allclose(ga.data, np.cross(b, w), rtol=1e-14)
    np.testing.assert_allclose(gb.data, np.cross(w, a), rtol=1e-14)
    assert gradcheck(lambda x, y: ad.cross(x, y, axisa=0, axisc=0), ad.tensor(
        rng.standard_normal((3, 2))), ad.tensor(rng.standard_normal((2, 3))),
        modes=("rev", "fwd"))


def test_cross_gradients_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, where installed")
    for sa, sb, axis in [((4, 3), (1, 3), -1), ((3, 5), (3, 1), 0), ((2, 3, 4), (1, 3, 4), -2)]:
        a, b = rng.standard_normal(sa), rng.standard_normal(sb)
        ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
        out = ad.linalg.cross(ta, tb, axis=axis)
        seed = rng.standard_normal(out.shape)
        ours = ad.gradients((out * seed).sum(), [ta, tb])
        pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ref = torch.linalg.cross(pa, pb, dim=axis)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-14, atol=1e-15)
        want = torch.autograd.grad((ref * torch.tensor(seed)).sum(), [pa, pb])
        for g, w in zip(ours, want):
            np.testing.assert_allclose(g.data, w.numpy(), rtol=1e-14, atol=1e-15)


def test_cross_errors():
    with pytest.raises(ValueError, match=r"cross: vectors have 2 or 3 components, got 3 and 4"):
        np.cross(ad.ones(3), ad.ones(4))
    with pytest.raises(ValueError, match=r"cross: a is 0-d \(shape \(\)\)"):
        ad.cross(ad.tensor(1.0), ad.ones(3))
    with pytest.raises(ValueError, match=r"cross: the vectors of a and b do not broadcast "
                                         r"together: shapes \(2, 3\) and \(4, 3\)"):
        ad.cross(ad.ones((2, 3)), ad.ones((4, 3)))
    with pytest.raises(np.exceptions.AxisError, match="cross: axisc: axis 1 is out of bounds"):
        ad.cross(ad.ones(3), ad.ones(3), axisc=1)
    with pytest.raises(np.exceptions.AxisError, match="cross: axisb: axis 2 is out of bounds"):
        ad.cross(ad.ones(3), ad.ones(3), axisb=2)
    with pytest.raises(ValueError, match=r"linalg.cross: takes 3-vectors, got 2 and 2 "
                                         r"components along axis -1 \(shapes \(2,\) and \(2,\)"):
        np.linalg.cross(ad.ones(2), ad.ones(2))
    with pytest.raises(ValueError, match=r"linalg.cross: needs vectors, got shapes \(\)"):
        ad.linalg.cross(ad.tensor(1.0), ad.ones(3))


@pytest.mark.parametrize("b_shape,x_shape,axes", [
    ((6,), (2, 3), None), ((2, 3), (6,), None), ((2, 3), (3, 2), None), ((4,), (4,), None),
    ((2, 2), (4,), (0,)), ((2, 3), (3, 2), (1, 0)), ((1, 1), (), None)])
def test_tensorsolve_equals_numpys(b_shape, x_shape, axes):
    n = int(np.prod(b_shape))
    for dtype in (np.float32, np.float64):
        a = (rng.standard_normal((n, n)) + 3 * np.eye(n)).astype(dtype).reshape(
            b_shape + x_shape)
        if axes is not None:  # a's axes tensorsolve moves last, put elsewhere
            order = [i for i in range(a.ndim) if i not in axes] + list(axes)
            a = np.transpose(a, np.argsort(order))
        b = rng.standard_normal(b_shape).astype(dtype)
        got, want = np.linalg.tensorsolve(ad.tensor(a), b, axes), np.linalg.tensorsolve(
            a, b, axes)
        # a and b of as many axes: NumPy's x has a's shape ((1, 1) here), not ()
        assert got.shape == want.shape and got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got.data, want, rtol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("shape,ind", [((4, 6, 8, 3), 2), ((24, 8, 3), 1), ((2, 3, 6), 2),
                                       ((2, 2, 2, 2), 2), ((1,), 1)])
def test_tensorinv_equals_numpys(shape, ind):
    k = int(np.prod(shape[:ind]))
    for dtype in (np.float32, np.float64):
        a = (rng.standard_normal((k, k)) + 3 * np.eye(k)).astype(dtype).reshape(shape)
        got, want = np.linalg.tensorinv(ad.tensor(a), ind), np.linalg.tensorinv(a, ind)
        assert got.shape == want.shape and got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got.data, want, rtol=1e-4 if dtype == np.float32 else 1e-12)


def test_tensorsolve_and_tensorinv_gradients():
    # tensordot(a, x) = b is solve on a as a matrix: a's gradient is -(A^-T g) x^T
    a = rng.standard_normal((6, 6)) + 3 * np.eye(6)
    b, seed = rng.standard_normal((2, 3)), rng.standard_normal(6)
    ta, tb = ad.tensor(a.reshape(2, 3, 6), requires_grad=True), ad.tensor(b, requires_grad=True)
    x = ad.linalg.tensorsolve(ta, tb)
    ga, gb = ad.gradients((x * seed).sum(), [ta, tb])
    gb_want = np.linalg.solve(a.T, seed)
    np.testing.assert_allclose(gb.data, gb_want.reshape(2, 3), rtol=1e-12)
    np.testing.assert_allclose(ga.data, -np.outer(gb_want, np.linalg.solve(a, b.ravel()))
                               .reshape(2, 3, 6), rtol=1e-12)
    assert gradgradcheck(lambda a, b: ad.linalg.tensorsolve(a, b, axes=(0,)),
                         ad.tensor(a.reshape(6, 2, 3)), ad.tensor(rng.standard_normal((2, 3))))
    assert gradcheck(lambda a: ad.linalg.tensorinv(a, ind=1), ad.tensor(a.reshape(6, 3, 2)),
                     modes=("rev", "fwd"))
    assert gradgradcheck(ad.linalg.tensorinv, ad.tensor(a.reshape(2, 3, 3, 2)))


def test_tensorsolve_and_tensorinv_gradients_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, where installed")
    a = (rng.standard_normal((6, 6)) + 3 * np.eye(6)).reshape(6, 2, 3)
    b = rng.standard_normal((2, 3))
    seed = rng.standard_normal(6)
    ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    ours = ad.gradients((ad.linalg.tensorsolve(ta, tb, axes=(0,)) * seed).sum(), [ta, tb])
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    want = torch.autograd.grad((torch.linalg.tensorsolve(pa, pb, dims=(0,)) * torch.tensor(
        seed)).sum(), [pa, pb])
    for g, w in zip(ours, want):
        np.testing.assert_allclose(g.data, w.numpy(), rtol=1e-10, atol=1e-13)
    a = a.reshape(2, 3, 6)
    seed = rng.standard_normal((6, 2, 3))
    ta, pa = ad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (g,) = ad.gradients((ad.linalg.tensorinv(ta) * seed).sum(), [ta])
    (w,) = torch.autograd.grad((torch.linalg.tensorinv(pa) * torch.tensor(seed)).sum(), pa)
    np.testing.assert_allclose(g.data, w.numpy(), rtol=1e-10, atol=1e-13)


def test_tensorsolve_and_tensorinv_errors():
    LinAlgError = np.linalg.LinAlgError
    with pytest.raises(LinAlgError, match=r"tensorsolve: a of shape \(2, 3\) is not 'square': "
                                          r"its leading axes \(2,\) hold 2 elements"):
        np.linalg.tensorsolve(ad.ones((2, 3)), ad.ones(2))
    with pytest.raises(LinAlgError, match=r"tensorsolve: b of shape \(2, 2, 2\) has more "
                                          r"dimensions than a of shape \(2, 2\)"):
        ad.linalg.tensorsolve(ad.ones((2, 2)), ad.ones((2, 2, 2)))
    with pytest.raises(LinAlgError, match=r"tensorsolve: a of shape \(2, 2\) is not 'square': "
                                          r"its leading axes \(\) hold 1 elements"):
        ad.linalg.tensorsolve(ad.ones((2, 2)), ad.ones((2, 2)))  # NumPy's x would be (2, 2)
    with pytest.raises(LinAlgError, match=r"tensorsolve: a of shape \(2, 2\), as a matrix: "
                                          r"solve: Singular matrix"):
        ad.linalg.tensorsolve(ad.ones((2, 2)), ad.ones(2))
    with pytest.raises(ValueError, match=r"tensorsolve: repeated axis in \(0, 0\)"):
        ad.linalg.tensorsolve(ad.ones((2, 2)), ad.ones(2), axes=(0, 0))
    with pytest.raises(LinAlgError, match=r"tensorinv: a of shape \(2, 3\) is not 'square'"):
        np.linalg.tensorinv(ad.ones((2, 3)), ind=1)
    with pytest.raises(LinAlgError, match=r"tensorinv: a of shape \(2, 2, 2, 2\), as a matrix: "
                                          r"inv: Singular matrix"):
        ad.linalg.tensorinv(ad.ones((2, 2, 2, 2)))
    for ind in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=rf"tensorinv: ind must be a positive integer, "
                                             rf"got {ind!r}"):
            ad.linalg.tensorinv(ad.eye(4).reshape(2, 2, 2, 2), ind=ind)


def test_empty_inputs_of_cond_tensorsolve_and_tensorinv():
    c = ad.tensor(np.ones((0, 3, 3)), requires_grad=True)
    for p in COND_ORDERS:
        out = ad.linalg.cond(c, p)
        assert out.shape == np.linalg.cond(np.ones((0, 3, 3)), p).shape == (0,)
        assert ad.gradients(out.sum(), [c])[0].shape == (0, 3, 3)
    a, b = ad.tensor(np.ones((0, 0)), requires_grad=True), ad.tensor(np.ones(0))
    x = ad.linalg.tensorsolve(a, b)
    assert x.shape == np.linalg.tensorsolve(np.ones((0, 0)), np.ones(0)).shape == (0,)
    # NumPy's tensorinv cannot reshape a size-0 array to (0, -1) and raises; 0 x 0 has an
    # inverse, 0 x 0
    a = ad.tensor(np.ones((0, 3, 0)), requires_grad=True)
    y = ad.linalg.tensorinv(a, ind=1)
    assert y.shape == (3, 0, 0) and ad.gradients(y.sum(), [a])[0].shape == (0, 3, 0)
