"""Linear algebra at degenerate points and odd inputs, one regression test per bug found by a
differential audit against PyTorch and NumPy: second derivatives of det at singular matrices,
the singular values of a non-square matrix with NumPy's defaults, norms of no elements or of
infinite ones, half precision. Each fails on the code before its fix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck

rng = np.random.default_rng(2026)


def cofactors(a: np.ndarray) -> np.ndarray:
    """(-1)^(i+j) det(a without row i and column j), from NumPy's det of each minor."""
    n = a.shape[-1]
    out = np.empty_like(a)
    for i, j in itertools.product(range(n), range(n)):
        minor = np.delete(np.delete(a, i, 0), j, 1)
        out[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    return out


def det_hessian(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The derivative of det's gradient along v, with both made differentiable twice."""
    t = ad.tensor(a, requires_grad=True)
    (g,) = ad.gradients(ad.linalg.det(t), t, create_graph=True)
    return ad.gradients((g * ad.tensor(v)).sum(), t)[0].data


def test_det_second_derivative_at_the_zero_matrix_is_the_cofactors_derivative():
    # det [[a, b], [c, d]] = ad - bc: its gradient [[d, -c], [-b, a]] moves along v by
    # [[v11, -v10], [-v01, v00]] everywhere, at 0 too (the SVD's vectors there are any basis:
    # the Hessian had the diagonal only).
    v = rng.standard_normal((2, 2))
    expected = np.array([[v[1, 1], -v[1, 0]], [-v[0, 1], v[0, 0]]])
    np.testing.assert_allclose(det_hessian(np.zeros((2, 2)), v), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("diagonal", [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
def test_det_second_derivative_at_singular_matrices_with_repeated_singular_values(diagonal):
    a = np.diag(diagonal)
    v = rng.standard_normal(a.shape)
    h = 1e-3  # the cofactors are polynomials of degree n - 1 <= 3: central differences of
    expected = (cofactors(a + h * v) - cofactors(a - h * v)) / (2 * h)  # them err by h^2 v^3
    np.testing.assert_allclose(det_hessian(a, v), expected, rtol=0, atol=1e-5)
    assert gradgradcheck(ad.linalg.det, ad.tensor(a))


def test_det_first_derivative_at_a_singular_matrix_is_its_cofactors():
    # PyTorch 2.13 returns zeros here; the gradient of a polynomial exists everywhere.
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    t = ad.tensor(a, requires_grad=True)
    ad.linalg.det(t).backward()
    np.testing.assert_allclose(t.grad.data, cofactors(a), rtol=0, atol=1e-12)
    _, tangent = ad.jvp(ad.linalg.det, (ad.tensor(a),), (ad.tensor(np.eye(3)),))
    assert tangent.item() == pytest.approx(np.trace(cofactors(a)), abs=1e-12)


def test_singular_values_alone_of_a_non_square_matrix_with_numpys_defaults():
    x = rng.standard_normal((2, 3, 4))
    t = ad.tensor(x, requires_grad=True)
    s = np.linalg.svd(t, compute_uv=False)  # full_matrices=True, NumPy's default, unused
    np.testing.assert_allclose(s.data, np.linalg.svd(x, compute_uv=False), rtol=1e-12)
    assert gradcheck(lambda y: ad.linalg.svd(y, compute_uv=False), t)
    with pytest.raises(ValueError, match="full_matrices=True on a non-square"):
        ad.linalg.svd(t)  # with U and Vh it is still refused


@pytest.mark.parametrize("ord", [-1, -0.5, -3])
def test_negative_order_norm_of_no_elements_or_of_infinite_ones_is_inf(ord):
    with np.errstate(divide="ignore"):
        for x in [np.zeros(0), np.array([np.inf, np.inf])]:
            assert ad.linalg.vector_norm(ad.tensor(x), ord=ord).item() == np.inf
            assert np.linalg.norm(x, ord) == np.inf  # NumPy's, and PyTorch's for inf elements
    assert ad.linalg.norm(ad.tensor([np.inf, 2.0]), ord=ord).item() == pytest.approx(2.0)


def test_inf_norm_of_no_elements_is_zero():
    x = ad.zeros((2, 0), requires_grad=True)
    out = ad.linalg.norm(x, np.inf, axis=1)
    np.testing.assert_array_equal(out.data, np.linalg.norm(np.zeros((2, 0)), np.inf, axis=1))
    assert ad.gradients(out.sum(), x)[0].shape == (2, 0)
    y = ad.tensor([1.0, -3.0, 3.0], requires_grad=True)  # ties still share the gradient
    ad.linalg.vector_norm(y, ord=np.inf).backward()
    np.testing.assert_array_equal(y.grad.data, [0.0, -0.5, 0.5])


@pytest.mark.parametrize("f", [ad.linalg.inv, ad.linalg.det, ad.linalg.cholesky,
                               np.linalg.eigh, np.linalg.svd, ad.linalg.qr, ad.linalg.pinv])
def test_half_precision_raises_naming_the_function(f):
    name = f.__name__
    with pytest.raises(TypeError, match=f"^{name}: float16 is not supported.*float32"):
        f(ad.eye(2, dtype="float16"))


def _projector(v: ad.Tensor, columns: slice) -> ad.Tensor:
    return v[..., columns] @ v[..., columns].swapaxes(-1, -2)


def test_forward_mode_through_vectors_of_a_repeated_value_raises_as_reverse_mode():
    # Forward mode is reverse mode twice, the first pass with a recorded cotangent u: a zero u
    # hid which eigenvectors the function uses, so jvp returned a finite, basis-made answer
    # (zeros for the tied block) where the derivative does not exist.
    a, tangent = ad.tensor(np.diag([1.0, 1.0, 2.0])), ad.tensor(rng.standard_normal((3, 3)))
    for f in [lambda x: ad.linalg.eigh(x)[1], lambda x: _projector(ad.linalg.eigh(x)[1],
                                                                   slice(0, 1))]:
        with pytest.raises(ValueError, match="eigh: the gradient through the eigenvectors is "
                                             "not defined at a repeated eigenvalue"):
            ad.jvp(f, (a,), (tangent,))
        with pytest.raises(ValueError, match="repeated eigenvalue"):
            ad.jacfwd(f)(a)
    with pytest.raises(ValueError, match=r"svd: .* repeated singular value"):
        ad.jvp(lambda x: ad.linalg.svd(x)[0], (ad.eye(2, dtype="float64"),), (tangent[:2, :2],))
    with pytest.raises(ValueError, match=r"svd: .* zero singular value"):
        ad.jvp(lambda x: ad.linalg.svd(x, full_matrices=False)[0],
               (ad.tensor(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])),), (tangent[:, :2],))


def test_forward_mode_through_vectors_of_distinct_values_next_to_a_repeated_one():
    # The eigenvector of the distinct eigenvalue 2 is unique up to its sign: its projector has
    # a derivative in both modes (PyTorch: NaN); so do the first singular vectors of a tall
    # matrix whose other singular value is 0.
    def top(x):
        return _projector(ad.linalg.eigh((x + x.swapaxes(-1, -2)) * 0.5)[1], slice(2, 3))

    def first(x):
        u, _, vh = ad.linalg.svd(x, full_matrices=False)
        return u[..., :1] @ vh[..., :1, :]

    assert gradcheck(top, ad.tensor(np.diag([1.0, 1.0, 2.0])), modes=("rev", "fwd"))
    assert gradcheck(first, ad.tensor(np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]])),
                     modes=("rev", "fwd"))


def _rotated(diagonal: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Q diag Q^T for a random orthogonal Q: LAPACK's eigenvalues of it tie only up to
    rounding, and its eigenvectors of a repeated one are any basis."""
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    return q @ np.diag(diagonal) @ q.T, q


def test_eigenvalue_gradient_at_a_repeated_eigenvalue_is_shared_within_the_tie():
    # w . (1, 2, 3) at eigenvalues (1, 1, 2): V diag(1, 2, 3) V^T depended on which basis of
    # the tied space LAPACK returned (0.44 off for a rotated matrix); shared evenly, as max
    # shares among tied maxima, it is 1.5 P + 3 q q^T, P the projector on the tied space.
    a, q = _rotated([1.0, 1.0, 2.0])
    expected = 1.5 * q[:, :2] @ q[:, :2].T + 3.0 * np.outer(q[:, 2], q[:, 2])
    weights = ad.tensor([1.0, 2.0, 3.0], dtype="float64")
    for matrix, want in [(a, expected), (np.eye(3), 2.0 * np.eye(3))]:
        t = ad.tensor(matrix, requires_grad=True)
        (ad.linalg.eigvalsh(t) * weights).sum().backward()
        np.testing.assert_allclose(t.grad.data, want, rtol=0, atol=1e-13)
    s = ad.tensor(np.eye(2, 3) * 2.0, requires_grad=True)  # singular values alike
    (ad.linalg.svdvals(s) * ad.tensor([1.0, 3.0], dtype="float64")).sum().backward()
    np.testing.assert_allclose(s.grad.data, 2.0 * np.eye(2, 3), rtol=0, atol=1e-15)


def test_vectors_of_values_tied_within_rounding_raise_instead_of_1e15():
    a, _ = _rotated([1.0, 1.0, 2.0])  # computed eigenvalues 1 - 3e-16 and 1 + 7e-16
    t = ad.tensor(a, requires_grad=True)
    v = ad.linalg.eigh(t).eigenvectors
    with pytest.raises(ValueError, match=r"eigenvalues 0 and 1 are .* equal within rounding"):
        _projector(v, slice(0, 1)).sum().backward()  # the gradient was 1.1e15, made by rounding

    def top(x):
        return _projector(ad.linalg.eigh((x + x.swapaxes(-1, -2)) * 0.5)[1], slice(2, 3))

    assert gradcheck(top, ad.tensor(a), modes=("rev", "fwd"))  # the simple one still works
    tall = ad.tensor(np.outer([1.0, 2.0, 3.0], [1.0, 2.0]), requires_grad=True)  # s_2: 7e-16
    u, _, vh = ad.linalg.svd(tall, full_matrices=False)
    with pytest.raises(ValueError, match=r"svd: .* zero singular value .*matrix_rank's"):
        (u[:, 1:] @ vh[1:]).sum().backward()  # the gradient was 7.7e13


def test_qr_gradient_of_a_matrix_rank_deficient_within_rounding_raises():
    # R's last pivot is 1.6e-15, not 0: solving with it gave a gradient made by rounding
    # (PyTorch: another one, as large)
    a = ad.tensor(np.outer([1.0, 2.0, 3.0], [1.0, 2.0]), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"qr: .* R's diagonal entry 1 is 1\.6\de-15, 0 within rounding"):
        ad.linalg.qr(a).R.sum().backward()
    b = ad.tensor(np.eye(3) + 1e-8, requires_grad=True)  # far from it: a gradient
    ad.linalg.qr(b).R.sum().backward()
    assert np.isfinite(b.grad.data).all()


def test_trace_takes_numpys_dtype():
    a = np.arange(9.0).reshape(3, 3)
    t = ad.tensor(a, requires_grad=True)
    out = np.trace(t, dtype=np.float32)  # was a TypeError: trace() got 'dtype'
    assert out.dtype == np.trace(a, dtype=np.float32).dtype == np.float32 and out.item() == 12.0
    out.backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad.data, np.eye(3))
    ints = np.arange(8, dtype=np.int32).reshape(2, 2, 2)
    assert ad.trace(ad.tensor(ints), axis1=1, axis2=2, dtype=np.int64).dtype == np.int64


def test_det_second_derivative_at_a_large_singular_matrix_says_what_it_would_take():
    t = ad.zeros((120, 120), dtype="float64", requires_grad=True)
    assert not ad.gradients(ad.linalg.det(t), t)[0].data.any()  # the first derivative: 0
    with pytest.raises(MemoryError, match=r"det: .* n\^2 minors, 2\.\d+e\+08 numbers for "
                                          r"shape \(120, 120\)"):
        ad.gradients(ad.linalg.det(t), t, create_graph=True)


def test_det_of_an_invertible_matrix_whose_determinant_underflows_takes_the_inverse():
    # det(0.1 I + noise) of size 60 in float32 is 0.0 (1e-60 underflows): taken for singular,
    # its second derivative went through 3,600 minors (120 s); invertible, it is det A^-T,
    # which underflows to 0 as the true one does.
    a = (0.1 * np.eye(60) + 1e-3 * rng.standard_normal((60, 60))).astype(np.float32)
    t = ad.tensor(a, requires_grad=True)
    assert ad.linalg.det(t).item() == 0.0 and np.linalg.slogdet(a).sign == 1
    (g,) = ad.gradients(ad.linalg.det(t), t, create_graph=True)
    (h,) = ad.gradients((g * g).sum(), t)
    assert g.dtype == h.dtype == np.float32 and not g.data.any() and not h.data.any()
