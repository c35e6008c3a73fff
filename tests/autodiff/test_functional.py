"""grad, value_and_grad, jacobian, hessian, vjp: closed forms, purity, composition."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad


def f(x):
    return (x ** 3).sum() + (x[0] * x[1])


def test_grad_closed_form():
    x = ad.tensor([1.0, 2.0], dtype="float64")
    g = ad.grad(f)(x)
    np.testing.assert_allclose(g.data, [3 * 1 + 2, 3 * 4 + 1])


def test_grad_argnums_tuple_and_value_and_grad():
    def h(a, b):
        return (a * b).sum()

    a, b = ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0])
    ga, gb = ad.grad(h, argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(ga.data, b.data)
    np.testing.assert_array_equal(gb.data, a.data)
    v, g = ad.value_and_grad(h, argnums=1)(a, b)
    assert v.item() == 11.0
    np.testing.assert_array_equal(g.data, a.data)


def test_grad_of_grad():
    d2 = ad.grad(ad.grad(lambda x: x.sin()))
    d3 = ad.grad(ad.grad(ad.grad(lambda x: x ** 4)))
    assert np.isclose(d2(ad.tensor(0.5, dtype="float64")).item(), -np.sin(0.5))
    assert np.isclose(d3(ad.tensor(2.0)).item(), 24 * 2.0)


def test_transforms_are_pure():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    ad.grad(f)(x)
    ad.jacobian(lambda t: t * t)(x)
    ad.hessian(f)(x)
    assert x.grad is None


def test_returned_gradient_stays_connected_when_x_requires_grad():
    x = ad.tensor(3.0, requires_grad=True)
    g = ad.grad(lambda t: t ** 3)(x)  # 3 x^2
    assert g.requires_grad
    g.backward()
    assert x.grad.item() == 18.0  # 6 x


def test_gradient_of_plain_input_is_not_connected():
    g = ad.grad(lambda t: t ** 3)(ad.tensor(3.0))
    assert not g.requires_grad and g.item() == 27.0


def test_jacobian_closed_form():
    A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    J = ad.jacobian(lambda x: ad.tensor(A) @ x)(ad.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(J.data, A)
    J2 = ad.jacobian(lambda x: x.tanh())(ad.tensor([[0.1, 0.2]], dtype="float64"))
    assert J2.shape == (1, 2, 1, 2)
    np.testing.assert_allclose(J2.data[0, :, 0, :], np.diag(1 - np.tanh([0.1, 0.2]) ** 2))


def test_hessian_closed_form():
    # f(x) = x0^2 x1 + x1^3 -> H = [[2 x1, 2 x0], [2 x0, 6 x1]]
    def g(x):
        return x[0] ** 2 * x[1] + x[1] ** 3

    H = ad.hessian(g)(ad.tensor([1.0, 2.0], dtype="float64"))
    np.testing.assert_allclose(H.data, [[4.0, 2.0], [2.0, 12.0]])


def test_vjp():
    out, pullback = ad.vjp(lambda a, b: a * b, ad.tensor([1.0, 2.0]), ad.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [3.0, 8.0])
    ga, gb = pullback(ad.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(ga.data, [3.0, 40.0])
    np.testing.assert_array_equal(gb.data, [1.0, 20.0])
    ga2, _ = pullback(ad.tensor([1.0, 1.0]))  # can be called again
    np.testing.assert_array_equal(ga2.data, [3.0, 4.0])


def test_errors():
    with pytest.raises(ValueError, match="scalar"):
        ad.grad(lambda x: x * 2)(ad.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="Tensor"):
        ad.grad(lambda x: 3.0)(ad.tensor(1.0))
    with pytest.raises(TypeError, match="floating"):
        ad.grad(lambda x: x.sum())(np.array([1, 2]))
    with pytest.raises(ValueError, match="argnums"):
        ad.grad(lambda x: x.sum(), argnums=2)(ad.tensor([1.0]))


def test_gradients_allow_unused():
    x, y = ad.tensor(1.0, requires_grad=True), ad.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        ad.gradients(x * 2, [x, y])
    gx, gy = ad.gradients(x * 2, [x, y], allow_unused=True)
    assert gx.item() == 2.0 and gy.item() == 0.0


@pytest.mark.parametrize("transform", [
    lambda f, x: ad.grad(lambda t: f(t).sum())(x),
    lambda f, x: ad.value_and_grad(lambda t: f(t).sum())(x),
    lambda f, x: ad.jacobian(f)(x),
    lambda f, x: ad.hessian(lambda t: (f(t) * t).sum())(x),
    lambda f, x: ad.vjp(f, x)[1](np.ones(2, np.float32)),
])
def test_transforms_neither_write_grads_nor_free_the_callers_graph(transform):
    h = ad.tensor([1.0, 2.0], requires_grad=True)
    q = (h * 2).exp()  # a non-leaf of the caller's graph, used inside f
    q.retain_grad()
    transform(lambda t: t * q, ad.tensor([0.5, 1.5]))
    assert h.grad is None and q.grad is None
    (q * 3).sum().backward()  # the caller's graph still has what it saved
    np.testing.assert_allclose(q.grad.data, [3.0, 3.0])
    np.testing.assert_allclose(h.grad.data, 6.0 * np.exp(2.0 * np.array([1.0, 2.0])), rtol=1e-6)


# -- composition: nesting, closures, perturbation confusion (each fails on the old main) ----

@pytest.mark.parametrize("call, expected", [
    (lambda: ad.grad(lambda x: x * ad.grad(lambda y: x * y)(2.0))(1.0), 2.0),
    (lambda: ad.grad(lambda x: ad.grad(lambda a, b: a * b, argnums=1)(x, 3.0))(1.0), 1.0),
    (lambda: ad.grad(lambda x: ad.grad(lambda y: x * y)(x))(1.0), 1.0),
    # Siskind and Pearlmutter: d/dx [x * d/dy (x + y) at y=1] at x=1
    (lambda: ad.grad(lambda x: x * ad.grad(lambda y: x + y)(1.0))(1.0), 1.0),
])
def test_nested_grads_are_right(call, expected):
    assert call().item() == expected


def test_the_same_tensor_twice_gets_two_gradients():
    x = ad.tensor(5.0, requires_grad=True)
    ga, gb = ad.grad(lambda a, b: a * b, argnums=(0, 1))(x, x)
    assert (ga.item(), gb.item()) == (5.0, 5.0)
    (ga + gb).backward()  # both are x: d(2x)/dx
    assert x.grad.item() == 2.0


def test_third_derivative_with_arguments_not_differentiated():
    def f(x, a, b):
        return a * x ** 4 + b * x

    d3 = ad.grad(ad.grad(ad.grad(f)))
    x = ad.tensor(1.5, dtype="float64")
    assert np.isclose(d3(x, ad.tensor(2.0, dtype="float64"), 7.0).item(), 24 * 2.0 * 1.5)
    a = ad.tensor(2.0, dtype="float64", requires_grad=True)  # an outer graph's tensor
    out = d3(x, a, 7.0)
    assert out.requires_grad
    out.backward()
    assert np.isclose(a.grad.item(), 24 * 1.5)  # d/da 24 a x


def test_a_gradient_penalty_reaches_the_parameters():
    # WGAN-GP: the norm of d critic / d input, differentiated with respect to the critic's w
    w = ad.tensor([0.5, -2.0], dtype="float64", requires_grad=True)
    x = ad.tensor([1.0, 3.0], dtype="float64")
    g = ad.grad(lambda t: (w * t * t).sum())(x)  # 2 w x
    penalty = (g * g).sum()  # 4 sum w^2 x^2
    penalty.backward()
    np.testing.assert_allclose(w.grad.data, 8 * w.data * x.data ** 2)


def test_every_transform_nests_inside_grad_with_closures():
    w = ad.tensor([0.3, -0.7], dtype="float64", requires_grad=True)
    x0 = ad.tensor([1.2, 0.4], dtype="float64")

    def hess_trace(s):
        return ad.hessian(lambda x: (s * w * x ** 3).sum())(x0).data.trace() * 0 + \
            ad.jacobian(ad.grad(lambda x: (s * w * x ** 3).sum()))(x0)[0, 0]

    # d/ds of d2/dx0^2 (s w x^3) = 6 w0 x0
    d = ad.grad(hess_trace)(ad.tensor(2.0, dtype="float64"))
    assert np.isclose(d.item(), 6 * 0.3 * 1.2)

    def through_vjp(s):
        _, pull = ad.vjp(lambda x: s * x * x, x0)
        return pull(ad.ones(2, dtype="float64"))[0].sum()  # 2 s (x0 + x1)

    assert np.isclose(ad.grad(through_vjp)(ad.tensor(3.0, dtype="float64")).item(), 2 * 1.6)

    def through_value_and_grad(s):
        v, g = ad.value_and_grad(lambda x: s * (x ** 2).sum())(x0)
        return v + g.sum()  # s |x|^2 + 2 s sum x

    got = ad.grad(through_value_and_grad)(ad.tensor(1.0, dtype="float64")).item()
    assert np.isclose(got, 1.2 ** 2 + 0.4 ** 2 + 2 * 1.6)
    assert w.grad is None


@given(coefficients=hnp.arrays(np.float64, (4, 4), elements=st.integers(-3, 3).map(float)),
       order=st.lists(st.sampled_from("xy"), min_size=1, max_size=3),
       x0=st.floats(-2, 2), y0=st.floats(-2, 2))
def test_nested_grads_of_polynomials_match_the_symbolic_derivative(coefficients, order, x0, y0):
    """p(x, y) = sum C[i, j] x^i y^j; each level differentiates the one inside it with respect
    to x or y, closing over the other variable (which an outer level may be differentiating)."""
    def p(x, y):
        powers_x, powers_y = [1.0, x, x * x, x * x * x], [1.0, y, y * y, y * y * y]
        total = ad.tensor(0.0, dtype="float64")
        for i in range(4):
            for j in range(4):
                if coefficients[i, j]:
                    total = total + coefficients[i, j] * powers_x[i] * powers_y[j]
        return total

    f = p
    for var in order:
        f = _differentiate(f, var)
    got = f(ad.tensor(x0, dtype="float64"), ad.tensor(y0, dtype="float64"))
    c = coefficients
    for var in order:
        c = np.polynomial.polynomial.polyder(c, axis=0 if var == "x" else 1)
    expected = np.polynomial.polynomial.polyval2d(x0, y0, c) if c.size else 0.0
    assert np.isclose(float(got.data) if isinstance(got, ad.Tensor) else got, expected,
                      rtol=1e-9, atol=1e-9)


def _differentiate(f, var):
    if var == "x":
        return lambda x, y: ad.grad(lambda u: f(u, y))(x)
    return lambda x, y: ad.grad(lambda v: f(x, v))(y)


# -- forward mode: jvp, linearize, jacfwd, hessian(mode="fwd") --------------------------------

def test_jvp_closed_form_and_tuple_outputs():
    x = ad.tensor([0.5, -1.0, 2.0], dtype="float64")
    v = ad.tensor([1.0, 2.0, -1.0], dtype="float64")
    out, t = ad.jvp(lambda a: a.sin() * a, (x,), (v,))
    np.testing.assert_allclose(out.data, np.sin(x.data) * x.data)
    np.testing.assert_allclose(t.data, (np.cos(x.data) * x.data + np.sin(x.data)) * v.data)
    (o1, _), (t1, t2) = ad.jvp(lambda a, b: (a * b, (a ** 2).sum()), (x, x * 0 + 3.0), (v, v))
    np.testing.assert_allclose(o1.data, x.data * 3.0)
    np.testing.assert_allclose(t1.data, v.data * 3.0 + x.data * v.data)
    assert np.isclose(t2.item(), (2 * x.data * v.data).sum())


def test_jacfwd_equals_jacobian_and_hessian_modes_agree():
    x = ad.tensor([[0.3, -0.2, 0.9]], dtype="float64")

    def f(a):
        return (a.tanh() * a.exp()).T @ a

    np.testing.assert_allclose(ad.jacfwd(f)(x).data, ad.jacobian(f)(x).data, rtol=1e-12)
    g = lambda a: (a ** 3 * a.sin()).sum()  # noqa: E731
    np.testing.assert_allclose(ad.hessian(g, mode="fwd")(x).data, ad.hessian(g)(x).data,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="mode must be 'rev' or 'fwd'"):
        ad.hessian(g, mode="both")


def test_linearize_reuses_one_forward_pass():
    calls = []

    def f(a):
        calls.append(1)
        return a.exp()

    x = ad.tensor([0.0, 1.0], dtype="float64")
    out, f_jvp = ad.linearize(f, x)
    np.testing.assert_allclose(out.data, np.exp(x.data))
    for v in ([1.0, 0.0], [0.0, 2.0], [3.0, 3.0]):
        np.testing.assert_allclose(f_jvp(ad.tensor(v, dtype="float64")).data,
                                   np.exp(x.data) * np.array(v))
    assert len(calls) == 1


def test_forward_mode_nests_with_reverse_mode_both_ways():
    cube = lambda a: a ** 3  # noqa: E731
    one = ad.tensor(1.0, dtype="float64")
    y = ad.tensor(2.0, dtype="float64")
    assert ad.grad(lambda t: ad.jvp(cube, (t,), (one,))[1])(y).item() == 12.0  # d/dy 3y^2
    assert ad.jvp(ad.grad(cube), (y,), (one,))[1].item() == 12.0  # (3y^2)' = 6y
    assert ad.jvp(lambda t: ad.jvp(cube, (t,), (one,))[1], (y,), (one,))[1].item() == 12.0
    # perturbation confusion in forward mode: d/dx [x * d/dy (x + y)] = 1
    inner = lambda x: x * ad.jvp(lambda t: x + t, (one,), (one,))[1]  # noqa: E731
    assert ad.jvp(inner, (one,), (one,))[1].item() == 1.0


def test_jvp_is_pure_and_stays_connected_to_outer_graphs():
    w = ad.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    x = ad.tensor([1.0, 2.0], dtype="float64")
    _, t = ad.jvp(lambda a: (w * a * a).sum(), (x,), (ad.ones(2, dtype="float64"),))
    assert w.grad is None and t.requires_grad  # 2 w . x
    t.backward()
    np.testing.assert_allclose(w.grad.data, 2 * x.data)


def test_jvp_errors():
    x = ad.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        ad.jvp(lambda a: a, (x,), (x, x))
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\) but its primal has shape"):
        ad.jvp(lambda a: a, (x,), (ad.ones(3),))
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of Tensors"):
        ad.jvp(lambda a: 3.0, (x,), (x,))


EMPTY_OR_0D = [  # (function, input, its Jacobian): empty or 0-d inputs and outputs
    (lambda x: x.sum(axis=1), np.zeros((3, 0)), np.zeros((3, 3, 0))),
    (lambda x: x.sum(axis=0), np.zeros((0, 3)), np.zeros((3, 0, 3))),
    (lambda x: (x * x).sum(), np.zeros((1, 0)), np.zeros((1, 0))),
    (lambda x: x[:0] * 2, np.array([0.5, 1.0]), np.zeros((0, 2))),
    (lambda x: x.exp(), np.zeros((1, 0)), np.zeros((1, 0, 1, 0))),
    (lambda x: x ** 3, np.array(0.5), np.array(0.75)),
    (lambda x: x * ad.tensor([1.0, -2.0], dtype="float64"), np.array(0.5), np.array([1.0, -2.0])),
]


@pytest.mark.parametrize("fn, x, expected", EMPTY_OR_0D)
def test_jacobians_and_hessians_of_empty_and_0d_shapes(fn, x, expected):
    """out.shape + in.shape with an empty or 0-d input or output, from both modes; the
    Hessian (in.shape * 2) agrees between modes."""
    t = ad.tensor(x)
    for jac in (ad.jacobian(fn)(t), ad.jacfwd(fn)(t)):
        assert jac.shape == expected.shape
        np.testing.assert_allclose(jac.data, expected)
    if fn(t).size == 1:
        scalar = lambda y: fn(y).sum()  # noqa: E731
        hess = [ad.hessian(scalar, mode=m)(t) for m in ("rev", "fwd")]
        assert hess[0].shape == hess[1].shape == t.shape + t.shape
        np.testing.assert_allclose(hess[0].data, hess[1].data)
