"""Linear algebra (issue 14): values and gradients against PyTorch in float32 and float64,
batched; the NumPy names the op table cannot call directly; the conventions where a gradient
needs a condition (repeated eigenvalues or singular values, singular matrices, the origin of
a norm); the errors. The op table (test_ops.py) checks each op's value against NumPy and its
gradients to second order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(14)


def invertible(*shape: int) -> np.ndarray:
    return rng.uniform(-1, 1, shape) + 3.5 * np.eye(shape[-1])


def spd(*shape: int) -> np.ndarray:
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(x: Any) -> Any:
    return (x + x.swapaxes(-1, -2)) * 0.5 if isinstance(x, ad.Tensor) else (
        x + x.transpose(-1, -2)) * 0.5


def pair_outer(u: Any, vh: Any, lib: Any) -> Any:
    """u_k vh_k for each k: the invariant of a pair of singular vectors (or, with vh = v^T, the
    projector on an eigenvector)."""
    return lib.einsum("...ik,...kj->...kij", u, vh)


# Each: name, the autodiff function, the PyTorch one (same arguments), the inputs. Outputs are
# made invariant where eigenvectors or singular vectors have arbitrary signs.
def _eigh(lib: Any) -> Callable[..., Any]:
    def f(a):
        w, v = lib.linalg.eigh(sym(a))
        return w, pair_outer(v, v.swapaxes(-1, -2), lib)
    return f


def _svd(lib: Any) -> Callable[..., Any]:
    def f(a):
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        return s, pair_outer(u, vh, lib)
    return f


def _qr(lib: Any) -> Callable[..., Any]:
    def f(a):
        q, r = lib.linalg.qr(a)
        sign = np.sign(np.diagonal(r.detach().numpy() if lib is not ad else r.data, 0, -2, -1))
        return q * lib.tensor(sign[..., None, :]), r * lib.tensor(sign[..., None])
    return f


def torch_cases() -> list[tuple[str, Callable[..., Any], Callable[[Any], Callable[..., Any]],
                                list[np.ndarray]]]:
    """(name, autodiff function, function of the torch module giving the reference, inputs)."""
    x3, y3 = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 2))
    return [
        ("dot_nd", ad.dot, lambda t: lambda a, b: t.tensordot(a, b, dims=([-1], [-2])),
         [x3, rng.standard_normal((5, 4, 2))]),
        ("dot_1d", ad.dot, lambda t: t.dot, [rng.standard_normal(4), rng.standard_normal(4)]),
        ("vdot", ad.vdot, lambda t: lambda a, b: t.vdot(a.reshape(-1), b.reshape(-1)),
         [rng.standard_normal((2, 3)), rng.standard_normal((3, 2))]),
        ("inner", ad.inner, lambda t: t.inner, [x3, rng.standard_normal((5, 4))]),
        ("outer", ad.outer, lambda t: t.outer, [rng.standard_normal(3), rng.standard_normal(4)]),
        ("kron", ad.kron, lambda t: t.kron, [rng.standard_normal((2, 3)),
                                             rng.standard_normal((2, 1, 2))]),
        ("tensordot", lambda a, b: ad.tensordot(a, b, axes=([1, 2], [1, 0])),
         lambda t: lambda a, b: t.tensordot(a, b, dims=([1, 2], [1, 0])), [x3, y3]),
        ("einsum", lambda a, b, c: ad.einsum("bij,bjk,kl->bil", a, b, c, optimize=True),
         lambda t: lambda a, b, c: t.einsum("bij,bjk,kl->bil", a, b, c),
         [rng.standard_normal((2, 2, 3)), rng.standard_normal((2, 3, 4)),
          rng.standard_normal((4, 2))]),
        ("einsum_trace", lambda a: ad.einsum("...ii->...", a),
         lambda t: lambda a: t.einsum("...ii->...", a), [rng.standard_normal((2, 3, 3))]),
        ("trace", ad.trace, lambda t: t.trace, [rng.standard_normal((3, 4))]),
        ("diagonal", lambda a: ad.diagonal(a, 1, 0, 2),
         lambda t: lambda a: t.diagonal(a, 1, 0, 2), [x3]),
        ("diag", lambda v: ad.diag(v, -1), lambda t: lambda v: t.diag(v, -1),
         [rng.standard_normal(3)]),
        ("tril", lambda a: ad.tril(a, -1), lambda t: lambda a: t.tril(a, -1), [x3]),
        ("triu", lambda a: ad.triu(a, 1), lambda t: lambda a: t.triu(a, 1), [x3]),
        ("inv", ad.linalg.inv, lambda t: t.linalg.inv, [invertible(2, 3, 3)]),
        ("solve", ad.linalg.solve, lambda t: t.linalg.solve,
         [invertible(2, 3, 3), rng.standard_normal((3, 2))]),
        ("solve_vector", ad.linalg.solve, lambda t: t.linalg.solve,
         [invertible(3, 3), rng.standard_normal(3)]),
        ("det", ad.linalg.det, lambda t: t.linalg.det, [invertible(2, 3, 3)]),
        ("slogdet", lambda a: ad.linalg.slogdet(a).logabsdet,
         lambda t: lambda a: t.linalg.slogdet(a).logabsdet, [invertible(2, 3, 3)]),
        ("cholesky", lambda a: ad.linalg.cholesky(sym(a)),
         lambda t: lambda a: t.linalg.cholesky(sym(a)), [spd(2, 3, 3)]),
        ("cholesky_upper", lambda a: ad.linalg.cholesky(sym(a), upper=True),
         lambda t: lambda a: t.linalg.cholesky(sym(a), upper=True), [spd(3, 3)]),
        ("eigh", _eigh(ad), _eigh, [spd(2, 3, 3)]),
        ("svd_tall", _svd(ad), _svd, [rng.standard_normal((2, 4, 3))]),
        ("svd_wide", _svd(ad), _svd, [rng.standard_normal((3, 5))]),
        ("svdvals", lambda a: ad.linalg.svd(a, compute_uv=False),
         lambda t: t.linalg.svdvals, [rng.standard_normal((2, 3, 3))]),
        ("qr_tall", _qr(ad), _qr, [rng.standard_normal((2, 4, 3))]),
        ("qr_wide", _qr(ad), _qr, [rng.standard_normal((3, 5))]),
        ("pinv", ad.linalg.pinv, lambda t: t.linalg.pinv, [rng.standard_normal((2, 4, 3))]),
        ("pinv_wide", ad.linalg.pinv, lambda t: t.linalg.pinv, [rng.standard_normal((2, 4))]),
        ("matrix_power", lambda a: ad.linalg.matrix_power(a, 5),
         lambda t: lambda a: t.linalg.matrix_power(a, 5), [invertible(2, 3, 3)]),
        ("matrix_power_negative", lambda a: ad.linalg.matrix_power(a, -2),
         lambda t: lambda a: t.linalg.matrix_power(a, -2), [invertible(3, 3)]),
        *[(f"vector_norm_{o}", lambda a, o=o: ad.linalg.vector_norm(a, ord=o, axis=(0, 2)),
           lambda t, o=o: lambda a: t.linalg.vector_norm(a, ord=o, dim=(0, 2)), [x3])
          for o in (2, 1, 3, 0.5, -1, np.inf, -np.inf, 0)],
        *[(f"matrix_norm_{o}", lambda a, o=o: ad.linalg.norm(a, ord=o, axis=(2, 0)),
           lambda t, o=o: lambda a: t.linalg.matrix_norm(a, ord=o, dim=(2, 0)), [x3])
          for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)],
    ]


CASES = torch_cases()


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, tuple | list) else (x,)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,torch_fn,xs", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_equal_pytorchs(name, fn, torch_fn, xs, dtype):
    torch = pytest.importorskip("torch")
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else {"rtol": 1e-9, "atol": 1e-10}
    ts = [ad.tensor(x.astype(dtype), requires_grad=True) for x in xs]
    ps = [torch.tensor(x.astype(dtype), requires_grad=True) for x in xs]
    outs, refs = _as_tuple(fn(*ts)), _as_tuple(torch_fn(torch)(*ps))
    seeds = [rng.standard_normal(o.shape).astype(dtype) for o in outs]
    for o, r in zip(outs, refs):
        assert o.dtype == dtype and o.shape == tuple(r.shape)
        np.testing.assert_allclose(o.data, r.detach().numpy(), **tol)
    grads = ad.gradients([o for o in outs], ts, grad_outputs=[ad.tensor(s) for s in seeds])
    loss = sum((r * torch.tensor(s)).sum() for r, s in zip(refs, seeds))
    expected = torch.autograd.grad(loss, ps, allow_unused=True)
    for g, e in zip(grads, expected):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.data, 0 if e is None else e.numpy(), **tol)


# -- NumPy's names where the op table calls a composite ------------------------------------


def test_np_einsum_in_both_forms_reaches_einsum():
    a = ad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = ad.tensor(rng.standard_normal(3), requires_grad=True)
    for y in (np.einsum("ij,j->i", a, b), np.einsum(a, [0, 1], b, [1], [0]),
              np.einsum(a, [Ellipsis, 1], b, [1], optimize=True)):
        assert isinstance(y, ad.Tensor) and y.requires_grad
        np.testing.assert_allclose(y.data, a.data @ b.data)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.broadcast_to(b.data, (2, 3)))


@pytest.mark.parametrize("f", [np.linalg.cholesky, np.linalg.eigh, np.linalg.svd,
                               np.linalg.qr, np.linalg.slogdet],
                         ids=lambda f: f.__name__)
def test_np_linalg_decompositions_reach_their_op(f):
    a = spd(2, 3, 3)
    t = ad.tensor(a, requires_grad=True)
    got, expected = _as_tuple(f(t)), _as_tuple(f(a))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert isinstance(g, ad.Tensor)
        np.testing.assert_allclose(g.data, e, rtol=1e-12, atol=1e-12)
    assert got[-1].requires_grad
    assert type(got).__name__ == type(expected).__name__  # EighResult, SVDResult, ...
    assert got._fields == expected._fields if hasattr(expected, "_fields") else True


def test_the_namespace_is_numpys():
    assert ad.linalg.norm is ad.ops.norms.norm and not hasattr(ad, "inv")
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert np.linalg.inv(x).grad_fn.op_name() == "inv"
    assert x.dot(x).shape == (2, 2) and x.trace().item() == 5.0
    assert x.diagonal().tolist() == [1.0, 4.0]


def test_einsum_optimize_contracts_pairwise_in_numpys_order():
    a, b, c = (ad.tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(2, 30), (30, 30), (30, 3)])
    plain = ad.einsum("ij,jk,kl->il", a, b, c)
    assert all(e is not None and type(e) is not tuple for e in plain.grad_fn._edges)  # one node
    for optimize in (True, "greedy", "optimal", np.einsum_path("ij,jk,kl->il", a.data, b.data,
                                                               c.data)[0]):
        y = ad.einsum("ij,jk,kl->il", a, b, c, optimize=optimize)
        inner = [e[0] for e in y.grad_fn._edges if type(e) is tuple]
        assert [n.op_name() for n in inner] == ["einsum"]  # (a b) first, then with c
        np.testing.assert_allclose(y.data, plain.data, rtol=1e-12)
    with pytest.raises(TypeError, match=r"einsum: optimize=.*Did not understand the path"):
        ad.einsum("ij,jk", a, b, optimize=[(0, 1)])


# -- conventions where the gradient needs a condition ------------------------------------------


def test_eigh_at_a_repeated_eigenvalue():
    # through the eigenvalues: exact (the eigenvalues' sum is the trace)
    a = ad.tensor(np.eye(3), requires_grad=True)
    ad.linalg.eigh(a).eigenvalues.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.eye(3), atol=1e-15)
    # through the eigenvector of a simple eigenvalue, the others tied: exact (finite differences)
    base = np.diag([1.0, 1.0, 3.0])

    def top_projector(x):
        v = ad.linalg.eigh(sym(x)).eigenvectors[..., 2:]
        return v @ v.swapaxes(-1, -2)

    assert gradcheck(top_projector, ad.tensor(base))
    # through the eigenvectors of the repeated eigenvalue: no gradient, a clear error
    b = ad.tensor(base, requires_grad=True)
    with pytest.raises(ValueError, match=r"eigh: .*repeated eigenvalue: eigenvalues 0 and 1 "
                                         r"are both 1\.0"):
        ad.linalg.eigh(b).eigenvectors[:, 0].sum().backward()


def test_svd_at_a_repeated_singular_value():
    a = ad.tensor(np.eye(2, 3) * 2, requires_grad=True)
    ad.linalg.svd(a, full_matrices=False).S.sum().backward()  # nuclear norm: exact
    np.testing.assert_allclose(a.grad.data, np.eye(2, 3), atol=1e-15)
    with pytest.raises(ValueError, match=r"svd: .*repeated singular value.* both 2\.0"):
        ad.linalg.svd(a, full_matrices=False).U.sum().backward()
    # the top pair is simple: its gradient exists and is found
    x = np.diag([1.0, 1.0, 3.0])

    def top_pair(x):
        u, _, vh = ad.linalg.svd(x)  # singular values 3, 1, 1
        return u[:, :1] @ vh[:1]

    assert gradcheck(top_pair, ad.tensor(x))


def cofactors(a: np.ndarray) -> np.ndarray:
    n = a.shape[-1]
    out = np.zeros_like(a)
    for i, j in np.ndindex(n, n):
        minor = np.delete(np.delete(a, i, axis=0), j, axis=1)
        out[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def test_singular_matrices():
    # det: its gradient, the cofactors, exists everywhere (rank n - 1, rank n - 2, a batch)
    for m in ([[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]],
              [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]):
        m = np.array(m)
        t = ad.tensor(np.stack([m, invertible(*m.shape)]), requires_grad=True)
        assert ad.linalg.det(t).data[0] == 0.0
        ad.linalg.det(t).sum().backward()
        for got, x in zip(t.grad.data, t.data):
            np.testing.assert_allclose(got, cofactors(x), atol=1e-12)
    assert gradcheck(ad.linalg.det, ad.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert gradgradcheck(ad.linalg.det, ad.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0],
                                                   [1.0, 0.0, 1.0]]))
    # slogdet (log|det| = -inf), inv, qr: no gradient there, a clear error
    a = ad.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="slogdet: no gradient at a singular matrix"):
        ad.linalg.slogdet(a).logabsdet.backward()
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: Singular matrix \(input of shape"):
        ad.linalg.inv(a)
    with pytest.raises(np.linalg.LinAlgError, match="qr: the gradient of a rank-deficient"):
        ad.linalg.qr(ad.tensor([[1.0, 2.0], [0.0, 0.0]], requires_grad=True)).R.sum().backward()


def test_matrix_power_zero_and_one():
    a = ad.tensor(invertible(2, 2, 2), requires_grad=True)
    eye = ad.linalg.matrix_power(a, 0)
    np.testing.assert_array_equal(eye.data, np.broadcast_to(np.eye(2), (2, 2, 2)))
    eye.sum().backward()  # connected, as PyTorch, with gradient 0
    np.testing.assert_array_equal(a.grad.data, 0)
    one = ad.linalg.matrix_power(a, 1)
    assert one is not a and not np.shares_memory(one.data, a.data)


@pytest.mark.parametrize("ord", [None, 2, 1, 3, 0.5, -1, np.inf, -np.inf, 0])
def test_vector_norms_at_the_origin_and_at_zero_elements(ord):
    """Gradient 0 at the origin (and, for p < 1, at each zero element), as PyTorch: checked
    against it where PyTorch is installed."""
    x = np.array([[0.0, 0.0, 0.0], [0.0, 2.0, -1.0]])
    t = ad.tensor(x, requires_grad=True)
    ad.linalg.norm(t, ord=ord, axis=1).sum().backward()
    assert np.isfinite(t.grad.data).all()
    np.testing.assert_array_equal(t.grad.data[0], 0)
    g2 = ad.grad(lambda v: ad.grad(lambda w: ad.linalg.norm(w, ord=ord))(v).sum())(
        ad.tensor(x[0]))
    assert np.isfinite(g2.data).all()  # second order at the origin: finite too
    torch = pytest.importorskip("torch")
    p = torch.tensor(x, requires_grad=True)
    torch.linalg.vector_norm(p, ord=2 if ord is None else ord, dim=1).sum().backward()
    expected = 0 if p.grad is None else p.grad.numpy()  # ord=0: PyTorch gives None
    np.testing.assert_allclose(t.grad.data, expected, atol=1e-12)


def test_matrix_norms_at_the_origin():
    t = ad.tensor(np.zeros((2, 2)), requires_grad=True)
    (ad.linalg.norm(t) + ad.linalg.matrix_norm(t, ord="fro")).backward()
    np.testing.assert_array_equal(t.grad.data, 0)


def test_symmetric_gradient_of_cholesky_and_eigh():
    """NumPy reads one triangle; the gradient is the symmetric one (PyTorch's)."""
    a = spd(3, 3)
    for f in (lambda t: ad.linalg.cholesky(t).sum(), lambda t: ad.linalg.cholesky(t, upper=True)
              .sum(), lambda t: ad.linalg.eigh(t, UPLO="U").eigenvalues[-1]):
        t = ad.tensor(a, requires_grad=True)
        f(t).backward()
        np.testing.assert_allclose(t.grad.data, t.grad.data.T, atol=1e-14)


def test_second_order_through_decompositions_on_batches():
    a = ad.tensor(rng.standard_normal((2, 3, 2)))
    assert gradgradcheck(lambda x: _svd(ad)(x), a)
    assert gradgradcheck(lambda x: ad.linalg.pinv(x), a)
    b = ad.tensor(spd(2, 2, 2))
    assert gradgradcheck(lambda x: ad.linalg.cholesky(sym(x)), b)
    assert gradgradcheck(lambda x: ad.linalg.slogdet(x).logabsdet, b)


# -- errors --------------------------------------------------------------------------------


def test_errors_name_the_op_and_the_shapes():
    m = ad.ones((2, 3))
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: .*square.*\(2, 3\)"):
        ad.linalg.inv(m)
    with pytest.raises(np.linalg.LinAlgError, match=r"det: .*at least 2 dimensions.*\(3,\)"):
        ad.linalg.det(ad.ones(3))
    with pytest.raises(np.linalg.LinAlgError, match="cholesky: Matrix is not positive definite"):
        ad.linalg.cholesky(-ad.tensor(np.eye(2)))
    with pytest.raises(ValueError, match=r"solve: b of shape \(2,\) does not fit a of shape"):
        ad.linalg.solve(ad.tensor(np.eye(3)), ad.ones(2))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(2, 3\) are not aligned"):
        ad.dot(m, m)
    with pytest.raises(ValueError, match=r"inner: shapes \(2, 3\) and \(2,\)"):
        ad.inner(m, ad.ones(2))
    with pytest.raises(ValueError, match="tensordot: shape-mismatch for sum"):
        ad.tensordot(m, m, axes=([1], [0]))
    with pytest.raises(ValueError, match=r"vdot: shapes \(2, 3\) and \(5,\)"):
        ad.vdot(m, ad.ones(5))
    with pytest.raises(ValueError, match=r"einsum: label 'j' is on axes of sizes 3 and 2"):
        ad.einsum("ij,jk", m, m)
    with pytest.raises(ValueError, match="einsum: output label 'k' of 'ij->k' is in no operand"):
        ad.einsum("ij->k", m)
    with pytest.raises(ValueError, match=r"einsum: output subscripts 'ij' have no '\.\.\.'"):
        ad.einsum("...ij->ij", ad.ones((2, 2, 3)))
    with pytest.raises(ValueError, match="einsum: 2 operand subscripts in 'ij,jk' for 1"):
        ad.einsum("ij,jk", m)
    with pytest.raises(ValueError, match="diagonal: needs at least 2 dimensions"):
        ad.diagonal(ad.ones(3))
    with pytest.raises(ValueError, match="diag: input must be 1-D or 2-D"):
        ad.diag(ad.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="norm: invalid norm order 'nuc' for vectors"):
        ad.linalg.norm(ad.ones(3), "nuc")
    with pytest.raises(ValueError, match="norm: invalid norm order 3 for matrices"):
        ad.linalg.norm(m, 3)
    with pytest.raises(ValueError, match="norm: improper number of dimensions"):
        ad.linalg.norm(ad.ones((2, 2, 2)), 2)
    with pytest.raises(TypeError, match="matrix_power: the exponent must be an integer"):
        ad.linalg.matrix_power(ad.tensor(np.eye(2)), 1.5)


def test_what_is_refused_says_why():
    m = ad.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    with pytest.raises(ValueError, match="svd: full_matrices=True on a non-square matrix"):
        np.linalg.svd(m)  # NumPy's default
    assert len(np.linalg.svd(ad.tensor(np.eye(2)))) == 3  # square: full is reduced
    with pytest.raises(ValueError, match="svd: hermitian=True is not supported"):
        ad.linalg.svd(m, full_matrices=False, hermitian=True)
    with pytest.raises(ValueError, match="qr: mode 'raw' is not supported"):
        ad.linalg.qr(m, mode="raw")
    with pytest.raises(ValueError, match="qr: mode='complete' on a tall matrix"):
        ad.linalg.qr(m, mode="complete")
    with pytest.raises(ValueError, match="pinv: hermitian=True is not supported"):
        ad.linalg.pinv(m, hermitian=True)
    with pytest.raises(ValueError, match="pinv: rtol and rcond can't be both set"):
        ad.linalg.pinv(m, 1e-3, rtol=1e-3)
    with pytest.raises(TypeError, match=r"np\.einsum on autodiff Tensors.*'out'"):
        np.einsum("ij", m, out=np.empty((3, 2)))
    with pytest.raises(TypeError, match=r"np\.trace on autodiff Tensors.*'out'"):
        np.trace(m, out=np.empty(()))  # (dtype= is np.trace's, and taken)
    with pytest.raises(TypeError, match="complex"):
        ad.einsum("i,i", ad.ones(2), np.array([1j, 2.0]))
    with pytest.raises(TypeError, match="tensors are real"):
        ad.linalg.inv(np.eye(2) * 1j)


def test_integer_inputs_follow_numpy():
    i = ad.tensor(np.array([[2, 1], [1, 3]]))
    assert ad.linalg.inv(i).dtype == np.float64 and ad.linalg.norm(i).dtype == np.float64
    assert ad.einsum("ij,jk", i, i).dtype == np.int64 and ad.dot(i, i).dtype == np.int64
    assert ad.linalg.matrix_power(i, 2).dtype == np.int64
    np.testing.assert_allclose(ad.linalg.pinv(i).data, np.linalg.pinv(i.data))
