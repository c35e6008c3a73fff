"""Stable numerics: values where the textbook formula overflows, cancels or meets 0 * inf, and
gradients that stay finite there. Each case is checked against NumPy or float64 references
(and against PyTorch in float32 and float64 when it is installed)."""

import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck

DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 1e-6, np.float64: 1e-14}


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _numpy_quietly(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return f(*args, **kwargs)


# -- mean, var, std of empty input; var(ddof) with no degrees of freedom --------------------------

EMPTY = [((0,), None, False), ((0, 3), 0, False), ((0, 3), 0, True), ((0, 3), None, True),
         ((2, 0), (0, 1), False), ((0, 3), 1, False), ((0, 3), 1, True)]


@pytest.mark.parametrize("shape, axis, keepdims", EMPTY)
def test_mean_of_empty_input_is_nan_with_numpys_warning(shape, axis, keepdims):
    x = np.zeros(shape, np.float32)
    expected = _numpy_quietly(np.mean, x, axis=axis, keepdims=keepdims)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = ad.mean(ad.tensor(x), axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    empty_slice = expected.size > 0  # NumPy warns when a mean is taken over nothing
    assert any("Mean of empty slice" in str(w.message) for w in caught) == empty_slice
    assert all(w.category is RuntimeWarning for w in caught)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("shape, axis, keepdims", EMPTY)
def test_var_and_std_of_empty_input_are_nan_with_numpys_warning(op, shape, axis, keepdims):
    x = np.zeros(shape)
    expected = _numpy_quietly(getattr(np, op), x, axis=axis, keepdims=keepdims)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(ad, op)(ad.tensor(x), axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    no_freedom = expected.size > 0
    assert any("Degrees of freedom <= 0 for slice" in str(w.message)
               for w in caught) == no_freedom
    assert not any("Mean of empty slice" in str(w.message) for w in caught)  # nor does NumPy


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("values, ddof", [([2.0], 1), ([1.0, 2.0], 2), ([1.0, 2.0], 3),
                                          ([1.0, 2.0, 4.0], 1)])
def test_ddof_without_degrees_of_freedom_gives_numpys_value(op, values, ddof):
    x = np.array(values)
    expected = _numpy_quietly(getattr(np, op), x, ddof=ddof)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(ad, op)(ad.tensor(x), ddof=ddof)
    assert any("Degrees of freedom <= 0 for slice" in str(w.message)
               for w in caught) == (len(values) <= ddof)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)  # nan, inf or the value


# -- std at zero variance: gradient 0 (as PyTorch), to second order ---------------------------

ZERO_VARIANCE = [  # (values, axis)
    ([3.0], None), ([[1.0], [2.0], [3.0]], 1), ([0.1, 0.1, 0.1], None),
    ([[0.7, 0.7, 0.7, 0.7], [1.0, 2.0, 3.0, 4.0]], 1), ([1e4 + 0.1] * 5, None),
]


def _equal_rows(values, axis):
    """Where every value of a reduced slice is the same (the variance is exactly 0)."""
    v = np.array(values, np.float64)
    return np.ptp(v, axis=axis, keepdims=True) == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("values, axis", ZERO_VARIANCE)
def test_std_at_zero_variance_has_gradient_zero(values, axis, dtype):
    x = ad.tensor(np.array(values, dtype), requires_grad=True)
    s = ad.std(x, axis=axis, keepdims=True)
    equal = _equal_rows(values, axis)
    # Equal values give exactly 0 (NumPy gives 1.4e-17 for [0.1] * 3 in float64, from the
    # rounding of the mean); PyTorch's float32 gives 0 too.
    assert (s.data[equal] == 0).all()
    s.sum().backward()
    g, rows = x.grad.data, np.broadcast_to(equal, x.shape)
    assert np.isfinite(g).all() and (g[rows] == 0).all()
    if not rows.all():  # the other rows keep the usual gradient (x - mean) / (n std)
        xs = np.array(values, np.float64)[~equal.reshape(-1)]
        expected = (xs - xs.mean(axis=-1, keepdims=True)) / (xs.shape[-1] * xs.std(-1))
        np.testing.assert_allclose(g[~rows].reshape(expected.shape), expected, rtol=1e-5)


@pytest.mark.parametrize("values, axis", ZERO_VARIANCE)
def test_std_at_zero_variance_second_order_is_finite(values, axis):
    x = ad.tensor(np.array(values), requires_grad=True)
    (g,) = ad.gradients(ad.std(x, axis=axis).sum(), [x], create_graph=True)
    (h,) = ad.gradients((g * g).sum() + g.sum(), [x])
    assert np.isfinite(g.data).all() and np.isfinite(h.data).all()


def test_std_away_from_zero_variance_still_checks():
    x = ad.tensor([[1.0, 2.5, -0.5], [0.3, 0.3, 0.3]], dtype="float64")
    assert gradcheck(lambda x: ad.std(x[:1], axis=1), x)
    assert gradgradcheck(lambda x: ad.std(x[:1], axis=1, ddof=1), x)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("values, axis", ZERO_VARIANCE)
def test_std_at_zero_variance_matches_pytorch(values, axis, dtype):
    torch = _torch()
    x = ad.tensor(np.array(values, dtype), requires_grad=True)
    t = torch.tensor(np.array(values, dtype), requires_grad=True)
    ad.std(x, axis=axis, keepdims=True).sum().backward()
    s = torch.std(t, dim=axis, correction=0, keepdim=True)
    s.sum().backward()
    # Compared except where PyTorch's rounded mean leaves a variance of 1e-34 for equal values
    # (float64 [0.1] * 3): there PyTorch's gradient is -1/3 each, ours 0.
    # There ours is the convention at zero variance (0, as PyTorch's where its variance is 0).
    same = np.broadcast_to(~_equal_rows(values, axis) | (s.detach().numpy() == 0), x.shape)
    np.testing.assert_allclose(x.grad.data[same], t.grad.numpy()[same], rtol=1e-5, atol=1e-7)
    assert (x.grad.data[~same] == 0).all()


# -- x ** p at x = 0: 0 for p = 0, finite for integer p >= 1, to any order --------------------

def _derivatives(f, x, order):
    """[f'(x), f''(x), ...] up to `order`, each by reverse mode over the previous one."""
    out, g = [], f
    for _ in range(order):
        g = ad.grad(g)
        out.append(g(x).item())
    return out


@pytest.mark.parametrize("p, expected", [
    (0, [0, 0, 0, 0]), (1, [1, 0, 0, 0]), (2, [0, 2, 0, 0]), (3, [0, 0, 6, 0]),
    (4, [0, 0, 0, 24]),
])
@pytest.mark.parametrize("exponent", ["scalar", "tensor"])
def test_pow_at_zero_to_any_order(p, expected, exponent):
    x0 = ad.tensor(0.0, dtype="float64")
    if exponent == "scalar":
        def f(x):
            return x ** p
    else:
        pt = ad.tensor(float(p), dtype="float64")

        def f(x):
            return x ** pt
    assert _derivatives(f, x0, 4) == expected


@pytest.mark.parametrize("p", [0, 1, 2, 3])
def test_pow_at_zero_gradchecks(p):
    x = ad.tensor([0.0, 0.0, 0.5, -1.5], dtype="float64")
    assert gradcheck(lambda x: x ** p, x)
    assert gradgradcheck(lambda x: x ** p, x)
    # the exponent a tensor (a constant here: around a base 0, x ** e is not smooth in e)
    x.requires_grad_()
    e = ad.tensor([float(p)] * 4, dtype="float64")
    assert gradcheck(lambda x, e: x ** e, x, e)
    assert gradgradcheck(lambda x, e: x ** e, x, e)


def test_pow_tensor_exponent_at_zero_base_and_zero_exponent():
    a = ad.tensor([0.0, 0.0, 2.0, 0.0], dtype="float64", requires_grad=True)
    p = ad.tensor([0.0, 3.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    (ga, gp) = ad.gradients((a ** p).sum(), [a, p], create_graph=True)
    np.testing.assert_array_equal(ga.data, [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(gp.data, [0.0, 0.0, np.log(2.0), 0.0])
    second = ad.gradients((ga * ga).sum() + ga.sum() + gp.sum(), [a, p])
    assert all(np.isfinite(g.data).all() for g in second)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0, 1, 2, 3])
def test_pow_at_zero_matches_pytorch(p, dtype):
    torch = _torch()
    values = np.array([0.0, 0.0, 1.5, -2.0], dtype)
    x = ad.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    g, gt = (x ** p).sum(), (t ** p).sum()
    for _ in range(4):  # the first four derivatives, each summed and differentiated again
        (g,) = ad.gradients(g, [x], create_graph=True, allow_unused=True)
        if gt.requires_grad:
            (gt,) = torch.autograd.grad(gt, [t], create_graph=True)
        else:  # PyTorch's zeros for a constant gradient (x ** 0, then x ** 1 ...) end its graph
            gt = torch.zeros_like(t)
        assert g.dtype == dtype
        np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-6)
        g, gt = g.sum(), gt.sum()


# -- sigmoid: accurate in both tails ------------------------------------------------------------

def _sigmoid64(x):
    """The float64 reference, each branch without overflow."""
    x = np.asarray(x, np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def test_sigmoid_float32_relative_error_below_1e_6_over_the_whole_range():
    x = np.linspace(-88, 88, 1_000_001, dtype=np.float32)
    got = ad.sigmoid(ad.tensor(x)).data
    assert got.dtype == np.float32
    rel = np.abs(got - _sigmoid64(x)) / _sigmoid64(x)
    assert rel.max() <= 1e-6, f"relative error {rel.max():.3g} at x = {x[np.argmax(rel)]}"


def test_sigmoid_float64_relative_error_within_a_few_ulps():
    x = np.linspace(-700, 700, 100_001)
    rel = np.abs(ad.sigmoid(ad.tensor(x)).data - _sigmoid64(x)) / _sigmoid64(x)
    assert rel.max() <= 4e-16


@pytest.mark.parametrize("dtype", [*DTYPES, np.float16])
def test_sigmoid_never_warns_and_saturates_exactly(dtype):
    x = np.array([-1e4, -1000.0, -60.0, 0.0, 60.0, 1000.0, 1e4, -np.inf, np.inf], dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ad.sigmoid(ad.tensor(x)).data
    assert out.dtype == dtype
    assert out[0] == 0 and out[3] == 0.5 and out[-3] == 1 and out[-2] == 0 and out[-1] == 1
    assert np.isnan(ad.sigmoid(ad.tensor(np.array([np.nan], dtype))).data).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_gradient_in_the_tails(dtype):
    x = ad.tensor(np.array([-80.0, -30.0, -15.0, 0.0, 15.0], dtype), requires_grad=True)
    ad.sigmoid(x).sum().backward()
    s = _sigmoid64(x.data)
    # out * (1 - out): relative in the left tail; the right one holds 1 - out to an epsilon
    np.testing.assert_allclose(x.grad.data, s * (1 - s), rtol=2e-6, atol=np.finfo(dtype).eps)
    np.testing.assert_allclose(x.grad.data[:3], (s * (1 - s))[:3], rtol=2e-6)
    assert x.grad.dtype == dtype


def test_sigmoid_gradcheck_and_second_order_in_the_tails():
    x = ad.tensor([-30.0, -8.0, -0.5, 0.0, 0.5, 8.0, 30.0], dtype="float64")
    assert gradcheck(ad.sigmoid, x)
    assert gradgradcheck(ad.sigmoid, x)
    (g,) = ad.gradients(ad.sigmoid(x.requires_grad_()).sum(), [x], create_graph=True)
    (h,) = ad.gradients(g.sum(), [x])
    s = _sigmoid64(x.data)
    np.testing.assert_allclose(h.data, s * (1 - s) * (1 - 2 * s), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_course_cost_on_a_saturated_sigmoid_is_finite(y, dtype):
    """-(y log a + (1 - y) log(1 - a)) with a = sigmoid(Z), Z = -30: a = 9.4e-14, not 0."""
    Z = ad.tensor(np.array([-30.0], dtype), requires_grad=True)
    a = ad.sigmoid(Z)
    cost = -(y * ad.log(a) + (1 - y) * ad.log(1 - a)).sum()
    cost.backward()
    assert np.isfinite(cost.item()) and np.isfinite(Z.grad.data).all()
    # (for y = 0, log(1 - a) keeps a only to the precision of 1 - a)
    np.testing.assert_allclose(cost.item(), 30.0 if y else 9.357623e-14, rtol=1e-5,
                               atol=np.finfo(dtype).eps)
    np.testing.assert_allclose(Z.grad.data, _sigmoid64(-30.0) - y, rtol=1e-5)  # dZ = A - Y


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_matches_pytorch_to_second_order(dtype):
    torch = _torch()
    values = np.linspace(-88, 88, 2001).astype(dtype)
    x = ad.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    out, ref = ad.sigmoid(x), torch.sigmoid(t)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol)
    (g,) = ad.gradients(out.sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad(ref.sum(), [t], create_graph=True)
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=10 * rtol, atol=1e-30)
    (h,) = ad.gradients(g.sum(), [x])
    (ht,) = torch.autograd.grad(gt.sum(), [t])
    np.testing.assert_allclose(h.data, ht.numpy(), rtol=10 * rtol, atol=1e-30)


# -- softmax and log_softmax: masks (-inf), float16, large offsets ------------------------------

INF = np.inf
MASKED = [[0.0, -INF, 1.0, 0.5], [-INF, 2.0, -INF, -INF], [3.0, -1.0, -INF, 0.0]]


def _log_softmax64(x, axis=-1):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    d = x - m
    return d - np.log(np.sum(np.exp(d), axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_log_softmax_with_masked_logits_are_finite(dtype):
    x = ad.tensor(np.array(MASKED, dtype), requires_grad=True)
    ref = _log_softmax64(MASKED)
    w = np.arange(12.0).reshape(3, 4).astype(dtype)  # a seed that weighs every entry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        soft, logp = ad.softmax(x, axis=1), ad.log_softmax(x, axis=1)
        np.testing.assert_allclose(soft.data, np.exp(ref), rtol=RTOL[dtype])
        np.testing.assert_allclose(logp.data, ref, rtol=RTOL[dtype])  # -inf where masked
        (g_soft,) = ad.gradients(soft, [x], grad_outputs=ad.tensor(w))
        (g_logp,) = ad.gradients(ad.where(np.isfinite(ref), logp, 0), [x],
                                 grad_outputs=ad.tensor(w))
    s = np.exp(ref)
    expected_soft = s * (w - (w * s).sum(axis=1, keepdims=True))
    wf = np.where(np.isfinite(ref), w, 0)
    expected_logp = wf - s * wf.sum(axis=1, keepdims=True)
    for g, e in ((g_soft, expected_soft), (g_logp, expected_logp)):
        assert g.dtype == dtype and np.isfinite(g.data).all()
        np.testing.assert_allclose(g.data, e, rtol=10 * RTOL[dtype], atol=10 * RTOL[dtype])
    assert (g_soft.data[~np.isfinite(ref)] == 0).all()


def test_softmax_with_masked_logits_second_order_is_finite():
    x = ad.tensor(np.array(MASKED), requires_grad=True)
    for f in (lambda x: ad.softmax(x, axis=1) ** 2, lambda x: ad.exp(ad.log_softmax(x, 1))):
        (g,) = ad.gradients(f(x).sum(), [x], create_graph=True)
        (h,) = ad.gradients((g * g).sum(), [x])
        assert np.isfinite(g.data).all() and np.isfinite(h.data).all()


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_float16_is_computed_in_float32_and_returned_in_float16(op):
    values = [[-1000.0, -1001.0, -1002.0], [0.0, 1.0, 65504.0]]
    x = ad.tensor(np.array(values, np.float16), requires_grad=True)
    out = getattr(ad, op)(x, axis=1)
    assert out.dtype == np.float16
    ref = _log_softmax64(np.array(values, np.float16))
    ref = np.exp(ref) if op == "softmax" else ref
    np.testing.assert_allclose(out.data.astype(np.float64), ref, rtol=1e-3, atol=1e-7)
    (g,) = ad.gradients(out, [x], grad_outputs=ad.ones(x.shape, dtype="float16"))
    assert g.dtype == np.float16 and np.isfinite(g.data).all()


@pytest.mark.parametrize("offset", [-1e6, 1e6, -3e7])
def test_float32_logits_with_a_large_offset_lose_no_digits(offset):
    same = ad.tensor(np.array([offset, offset], np.float32))
    np.testing.assert_array_equal(ad.softmax(same).data, [0.5, 0.5])
    np.testing.assert_array_equal(ad.log_softmax(same).data, np.float32([-np.log(2.0)] * 2))
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((200, 10)) * 5 + offset).astype(np.float32)
    soft = ad.softmax(ad.tensor(x), axis=1).data
    # Each row sums to 1 to float32 rounding: a few epsilons from rounding the ten terms and
    # their sum (2.0 eps at most here; PyTorch's softmax: 2.7). It was 0.5%, 47,000 eps, off.
    eps = np.finfo(np.float32).eps
    assert np.abs(soft.astype(np.float64).sum(axis=1) - 1).max() <= 3 * eps
    # against float64 on the same float32 inputs: the only error is float32 rounding of x - m
    np.testing.assert_allclose(ad.log_softmax(ad.tensor(x), axis=1).data, _log_softmax64(x, 1),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, *DTYPES])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_masked_float16_and_offset_softmax_match_pytorch(op, dtype):
    torch = _torch()
    values = np.array([*MASKED, [-1000.0, -1001.0, -1002.0, -1e4], [-6e4, -6e4, 3.0, -INF]],
                      dtype)
    x, t = ad.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, ref = getattr(ad, op)(x, axis=1), getattr(torch, op)(t, 1)
    rtol = 1e-3 if dtype == np.float16 else RTOL[dtype]
    np.testing.assert_allclose(out.data.astype(np.float64), ref.detach().numpy(), rtol=rtol,
                               atol=rtol)
    seed = np.linspace(-1, 1, values.size).reshape(values.shape).astype(dtype)
    (g,) = ad.gradients(out, [x], grad_outputs=ad.tensor(seed))
    (gt,) = torch.autograd.grad(ref, [t], grad_outputs=torch.tensor(seed))
    assert g.dtype == dtype
    np.testing.assert_allclose(g.data.astype(np.float64), gt.numpy(), rtol=10 * rtol,
                               atol=10 * rtol)


def test_expm1_gradient_keeps_its_tail():
    """d/dx expm1(x) = e^x, computed from x: from the output (expm1(x) + 1) it rounds to 0
    below x of about -37 in float64 (PyTorch gives 4.2e-18 at -40); second order too."""
    x = ad.tensor([-40.0, -1e-3, 0.0, 2.0], dtype="float64", requires_grad=True)
    (g,) = ad.gradients(ad.expm1(x).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, np.exp(x.data), rtol=1e-15)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x.data), rtol=1e-15)
