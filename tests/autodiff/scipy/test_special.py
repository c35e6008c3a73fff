"""autodiff.scipy.special: a table of rows, each checked by the op table's generic tests
(tests/autodiff/test_ops.py: the value against SciPy, gradcheck, gradgradcheck, no aliasing,
the graph freed, float32 kept); then what a row cannot say: SciPy's edge values and the
gradients chosen there, scipy.special's ufuncs reaching these ops, PyTorch's gradients."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sp = pytest.importorskip("scipy.special", reason="the optional extra 'scipy'")

import autodiff as ad  # noqa: E402
from autodiff.scipy import special  # noqa: E402
from autodiff.testing import gradcheck, gradgradcheck  # noqa: E402
from autodiff.testing.strategies import shapes, valid_axes  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
try:
    test_ops = importlib.import_module("test_ops")
finally:
    sys.path.pop(0)
Case, arrays, binary, floats, unary = (test_ops.Case, test_ops.arrays, test_ops.binary,
                                       test_ops.floats, test_ops.unary)

# Away from the poles of gamma (0, -1, -2, ...), where gammaln and its derivatives blow up.
OFF_POLES = st.one_of(floats(0.2, 5), floats(-0.8, -0.2), floats(-2.8, -2.2))


def with_zeros(elements):
    return st.one_of(st.just(0.0), elements)


def polygamma_kwargs(draw, xs):
    if draw(st.booleans()):
        return {"n": draw(st.integers(0, 3))}
    shape = draw(hnp.broadcastable_shapes(xs[0].shape, max_dims=xs[0].ndim, max_side=3))
    return {"n": draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 3)))}


def _polygamma(x, n):
    return special.polygamma(n, x)


def _polygamma_ref(x, n):
    return sp.polygamma(n, x)


def reduce_kwargs(draw, xs):
    return {"axis": draw(valid_axes(xs[0].ndim)), "keepdims": draw(st.booleans())}


def axis_only(draw, xs):
    return {"axis": draw(valid_axes(xs[0].ndim))}


def weighted_inputs(draw):
    """a, and weights b of either sign broadcasting with it."""
    a = draw(arrays(draw(shapes(min_dims=1, max_dims=2, max_side=3))))
    b_shape = draw(hnp.broadcastable_shapes(a.shape, max_dims=a.ndim, max_side=3))
    return [a, draw(arrays(b_shape, st.one_of(floats(0.2, 2), floats(-2, -0.2))))]


def weighted_kwargs(draw, xs):
    kw = {"axis": draw(valid_axes(xs[0].ndim)), "keepdims": draw(st.booleans()),
          "return_sign": draw(st.booleans())}
    # log|sum b e^a| is ill-conditioned where the sum cancels: keep it away from 0, and
    # positive unless the sign is returned (a negative sum is nan otherwise).
    total = np.sum(xs[1] * np.exp(xs[0]), axis=kw["axis"])
    scale = np.sum(np.abs(xs[1] * np.exp(xs[0])), axis=kw["axis"])
    assume(np.all(np.abs(total) > 0.2 * scale))
    assume(kw["return_sign"] or np.all(total > 0))
    return kw


def _weighted(a, b, **kw):
    return special.logsumexp(a, b=b, **kw)


def _weighted_ref(a, b, **kw):
    return sp.logsumexp(a, b=b, **kw)


CASES = [
    Case("erf", special.erf, sp.erf, unary()),
    Case("erfc", special.erfc, sp.erfc, unary()),
    Case("erfinv", special.erfinv, sp.erfinv, unary(floats(-0.9, 0.9))),
    Case("gammaln", special.gammaln, sp.gammaln, unary(OFF_POLES)),
    Case("digamma", special.digamma, sp.digamma, unary(OFF_POLES)),
    Case("polygamma", _polygamma, _polygamma_ref, unary(floats(0.5, 5)), polygamma_kwargs),
    Case("expit", special.expit, sp.expit, unary()),
    Case("logit", special.logit, sp.logit, unary(floats(0.05, 0.95))),
    Case("xlogy", special.xlogy, sp.xlogy, binary(with_zeros(floats()), floats(0.2, 3))),
    Case("xlog1py", special.xlog1py, sp.xlog1py, binary(with_zeros(floats()), floats(-0.8, 3))),
    Case("entr", special.entr, sp.entr, unary(floats(0.1, 3))),
    Case("logsumexp", special.logsumexp, sp.logsumexp, unary(), reduce_kwargs),
    Case("logsumexp_b", _weighted, _weighted_ref, weighted_inputs, weighted_kwargs),
    Case("softmax", special.softmax, sp.softmax, unary(), axis_only),
    Case("log_softmax", special.log_softmax, sp.log_softmax, unary(), axis_only),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_op(case, data):
    test_ops.test_op.hypothesis.inner_test(case=case, data=data)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(case, data):
    test_ops.test_float32_stays_float32.hypothesis.inner_test(case=case, data=data)


def test_every_function_has_a_row():
    rows = {c.name for c in CASES}
    missing = [f for f in special.__all__ if f not in rows]
    assert not missing, f"autodiff.scipy.special functions without a row: {missing}"


# -- SciPy's ufuncs on a Tensor --


@pytest.mark.parametrize("ufunc", list(special.SCIPY_UFUNCS), ids=lambda u: u.__name__)
def test_scipy_ufuncs_reach_the_ops(ufunc):
    ours = special.SCIPY_UFUNCS[ufunc]
    args = [ad.tensor([0.3, 0.6], dtype="float64", requires_grad=True) for _ in range(ufunc.nin)]
    got = ufunc(*args)
    assert isinstance(got, ad.Tensor) and got.requires_grad
    np.testing.assert_array_equal(got.data, ours(*args).data)
    np.testing.assert_allclose(got.data, ufunc(*[a.data for a in args]), rtol=1e-15)
    got.sum().backward()
    assert all(a.grad is not None for a in args)


def test_other_scipy_ufuncs_raise_naming_scipy():
    with pytest.raises(TypeError, match=r"scipy\.special\.gamma is not supported"):
        sp.gamma(ad.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match=r"^scipy\.special\.erf on autodiff Tensors: the "
                                        r"argument 'out' is not supported"):
        sp.erf(ad.tensor([1.0], requires_grad=True), out=np.zeros(1))  # no out= on a Tensor


def test_scipy_functions_that_are_not_ufuncs_refuse_a_graph():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for f in (sp.logsumexp, sp.softmax, lambda t: sp.polygamma(1, t)):
        with pytest.raises(RuntimeError, match="cannot become a NumPy array"):
            f(x)


# -- values and gradients at SciPy's edges --


def grads(f, *values, order=1, dtype="float64"):
    """f's value, and its gradient with respect to each value (order 2: the diagonal of the
    second derivatives)."""
    ts = [ad.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    out = f(*ts)
    gs = ad.gradients(out.sum(), ts, create_graph=order > 1)
    if order > 1:
        gs = [ad.gradients(g.sum(), [t], allow_unused=True)[0] for g, t in zip(gs, ts)]
    return out.data, [g.data for g in gs]


@pytest.mark.parametrize("f,ref,zero", [(special.xlogy, sp.xlogy, 0.0),
                                        (special.xlog1py, sp.xlog1py, -1.0)])
def test_x_log_y_at_x_zero(f, ref, zero):
    """0 where x = 0 (unless y is nan), as SciPy; there, where the formula has no value (y at
    or below the log's pole, or +inf), both gradients are 0; elsewhere log(y) and x / y."""
    y = np.array([zero, zero - 1.0, np.inf, np.nan, zero + 2.0])
    x = np.zeros_like(y)
    out, (gx, gy) = grads(f, x, y)
    np.testing.assert_array_equal(out, ref(x, y))
    np.testing.assert_array_equal(gx[:3], 0.0)
    np.testing.assert_array_equal(gy[:3], 0.0)
    assert np.isnan(gx[3]) and np.isnan(gy[3])
    log = np.log if zero == 0 else np.log1p
    np.testing.assert_allclose(gx[4], log(y[4]))  # smooth in x at x = 0
    assert gy[4] == 0.0
    with np.errstate(all="raise"):  # silent, as SciPy
        f(ad.tensor(x), ad.tensor(y))


def test_entr_at_and_below_zero():
    """entr(0) = 0 with gradient +inf (the one-sided derivative, as PyTorch); -inf below 0."""
    out, (g,) = grads(special.entr, np.array([0.0, -1.0, np.e]))
    np.testing.assert_array_equal(out, sp.entr([0.0, -1.0, np.e]))
    assert g[0] == np.inf and np.isnan(g[1]) and np.isclose(g[2], -2.0)


def test_logit_is_exact_near_one_half():
    """The primitive keeps the digits a difference of logs loses near p = 1/2."""
    p = 0.49999927547972756
    exact = -2.8980810897769904e-06  # log(p / (1 - p)), to 17 digits
    got = special.logit(ad.tensor(p, dtype="float64")).item()
    assert got == pytest.approx(exact, rel=1e-15, abs=0)
    assert np.log(p) - np.log1p(-p) != pytest.approx(exact, rel=1e-11, abs=0)


def test_erfc_keeps_the_tail():
    x = np.array([5.0, 10.0, 26.0])
    np.testing.assert_array_equal(special.erfc(ad.tensor(x, dtype="float64")).data, sp.erfc(x))
    assert (1 - sp.erf(x) == 0)[1:].all()  # what 1 - erf would give


def test_every_order_of_gammaln():
    """gammaln -> digamma -> polygamma(1) -> polygamma(2) -> ...: each derivative is the next."""
    x = ad.tensor([0.7, 3.5], dtype="float64", requires_grad=True)
    y = special.gammaln(x).sum()
    for n in range(5):
        (y,) = ad.gradients(y, [x], create_graph=True)
        np.testing.assert_allclose(y.data, sp.polygamma(n, x.data), rtol=1e-13)
        y = y.sum()


@pytest.mark.parametrize("n,message", [(-1, "n must be >= 0"), (1.5, "n must be an integer"),
                                       ("1", "n must be an integer")])
def test_polygamma_refuses_bad_orders(n, message):
    with pytest.raises(ValueError, match=f"polygamma: {message}"):
        special.polygamma(n, ad.tensor([1.0]))


def test_polygamma_is_not_differentiable_in_n():
    with pytest.raises(TypeError, match="not differentiable in n"):
        special.polygamma(ad.tensor(1.0, requires_grad=True), ad.tensor([1.0]))
    out = special.polygamma(ad.tensor([1.0, 2.0]), ad.tensor(1.0))  # a plain tensor of orders
    np.testing.assert_allclose(out.data, sp.polygamma([1, 2], 1.0), rtol=1e-6)


@pytest.mark.parametrize("a,b,kw", [
    ([1.0, np.inf], [1.0, 0.0], {}),  # a is ignored where b = 0
    ([1.0, 2.0], [1.0, -1.0], {}),  # a negative sum: nan
    ([1.0, 2.0], [1.0, -1.0], {"return_sign": True}),
    ([1.0, 2.0], [1.0, -np.exp(1.0)], {"return_sign": True}),  # a zero sum: -inf, sign 0
    ([-np.inf, -np.inf], None, {}),
    ([np.inf, 1.0], None, {}),
    (np.zeros((0, 2)), None, {"axis": 0}),
    (3.0, None, {"axis": 0}),
    (3.0, None, {"keepdims": True}),  # shape (1,): SciPy makes a 1-d
    (3.0, [2.0, 3.0], {}),  # b broadcasts a
    ([[1e4, 0.0], [-1e4, 1.0]], None, {"axis": (0, 1), "keepdims": True}),
    ([[1e4, 0.0], [-1e4, 1.0]], [[1.0], [2.0]], {"axis": -1}),
])
def test_logsumexp_edges_as_scipy(a, b, kw):
    a = np.asarray(a, dtype=np.float64)
    got = special.logsumexp(ad.tensor(a), b=None if b is None else ad.tensor(b, "float64"), **kw)
    expected = sp.logsumexp(a, b=b, **kw)
    for g, e in zip(got if isinstance(got, tuple) else (got,),
                    expected if isinstance(expected, tuple) else (expected,)):
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g.data, e, rtol=1e-14)


def test_logsumexp_of_nothing():
    """-inf, and sign 0 with return_sign (SciPy 1.15+ gives sign -1 for an empty sum, and 0
    for a sum that cancels to 0: 0 for both here)."""
    out, sign = special.logsumexp(ad.tensor(np.zeros((0, 2))), axis=0, return_sign=True)
    np.testing.assert_array_equal(out.data, [-np.inf, -np.inf])
    np.testing.assert_array_equal(sign.data, [0.0, 0.0])


def test_logsumexp_gradient_in_the_weights():
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, -0.5])
    _, (ga, gb) = grads(lambda a, b: special.logsumexp(a, b=b, return_sign=True)[0], a, b)
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(ga, b * np.exp(a) / s)
    np.testing.assert_allclose(gb, np.exp(a) / s)  # also where b = 0


def test_softmax_takes_scipys_default_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(special.softmax(ad.tensor(x, "float64")).data, sp.softmax(x))
    assert special.softmax(ad.tensor(x, "float64")).data.sum() == pytest.approx(1.0)


def test_dtypes():
    """float32 stays float32 (values equal to SciPy's float32 loops); integers compute in
    float64, as SciPy; complex values are refused."""
    x32 = np.array([0.25, 0.5], dtype=np.float32)
    for ufunc, f in special.SCIPY_UFUNCS.items():
        args = [ad.tensor(x32)] * ufunc.nin
        assert f(*args).dtype == np.float32, ufunc.__name__
    np.testing.assert_array_equal(special.erf(ad.tensor(x32)).data, sp.erf(x32))
    assert special.polygamma(1, ad.tensor(x32)).dtype == np.float32  # SciPy: float64
    ints = np.array([1, 2])
    for ufunc, f in special.SCIPY_UFUNCS.items():
        got = f(*[ints] * ufunc.nin)
        assert got.dtype == np.float64, ufunc.__name__
        np.testing.assert_allclose(got.data, ufunc(*[ints] * ufunc.nin), rtol=1e-15)
    with pytest.raises(TypeError, match="complex"):
        special.erf(np.array([1j]))


# -- PyTorch's gradients, first and second order --


def torch_cases():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    ts = torch.special
    return [
        (special.erf, ts.erf, [0.3, -1.2]), (special.erfc, ts.erfc, [0.3, -1.2]),
        (special.erfinv, ts.erfinv, [0.3, -0.7]), (special.gammaln, ts.gammaln, [0.4, 3.0]),
        (special.digamma, ts.digamma, [0.4, 3.0]),
        (lambda x: special.polygamma(2, x), lambda x: ts.polygamma(2, x), [0.4, 3.0]),
        (special.expit, ts.expit, [0.3, -4.0]), (special.logit, ts.logit, [0.2, 0.7]),
        (special.entr, ts.entr, [0.2, 2.0]),
        (lambda x: special.xlogy(x, x + 1), lambda x: ts.xlogy(x, x + 1), [0.0, 2.0]),
        (lambda x: special.xlog1py(x, x), lambda x: ts.xlog1py(x, x), [0.0, 2.0]),
        (special.logsumexp, lambda x: torch.logsumexp(x, 0), [0.3, 2.0]),
        (lambda x: special.softmax(x)[0], lambda x: ts.softmax(x, 0)[0], [0.3, 2.0]),
        (lambda x: special.log_softmax(x)[1], lambda x: ts.log_softmax(x, 0)[1], [0.3, 2.0]),
    ]


def test_gradients_agree_with_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for ours, theirs, values in torch_cases():
        for order in (1, 2):
            x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(theirs(x).sum(), x, create_graph=True)
            if order == 2:
                (g,) = torch.autograd.grad(g.sum(), x)
            _, (mine,) = grads(ours, np.array(values), order=order)
            # rtol: PyTorch's trigamma is off by 2e-10 at 0.4 (SciPy's, ours, is exact)
            np.testing.assert_allclose(mine, g.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_gradcheck_through_a_composition():
    """A model a user writes from these: a logistic regression's loss, twice differentiable."""
    def loss(w, x):
        p = special.expit(x @ w)
        return -(special.xlogy(0.3, p) + special.xlog1py(0.7, -p)).sum() + special.gammaln(
            w * w + 1).sum()

    w = ad.tensor([0.2, -0.4], dtype="float64")
    x = ad.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype="float64")
    assert gradcheck(loss, w, x) and gradgradcheck(loss, w, x)
