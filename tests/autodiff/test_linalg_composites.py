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
