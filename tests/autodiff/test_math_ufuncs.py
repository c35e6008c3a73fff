"""The math ufuncs of issue 14 (autodiff/ops/elementwise.py and arith.py): values and gradients
against PyTorch's, in float32 and float64, at ordinary points and at the points where the
math has no derivative (the conventions), and what the op table cannot see: accuracy where a
naive backward overflows or cancels, the step functions' zero gradients, real/imag/conj, the
operators, and the refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

INF, NAN = float("inf"), float("nan")
ORDINARY = [-2.3, -0.7, 0.4, 1.9]  # away from every op's special points (domains below)

# name: (autodiff op, PyTorch's name, ordinary points, special points), one input.
UNARY = {
    "log1p": (ad.log1p, "log1p", [-0.6, 0.4, 2.5], [-1.0, 0.0]),
    "expm1": (ad.expm1, "expm1", ORDINARY, [0.0]),
    "log2": (ad.log2, "log2", [0.3, 1.0, 5.0], [0.0]),
    "log10": (ad.log10, "log10", [0.3, 1.0, 5.0], [0.0]),
    "exp2": (ad.exp2, "exp2", ORDINARY, []),
    "tan": (ad.tan, "tan", [-1.2, 0.3, 1.1], [0.0]),
    "arcsin": (ad.arcsin, "asin", [-0.8, 0.1, 0.6], [-1.0, 1.0, 1.5]),
    "arccos": (ad.arccos, "acos", [-0.8, 0.1, 0.6], [-1.0, 1.0, -1.5]),
    "arctan": (ad.arctan, "atan", ORDINARY, [0.0]),
    "sinh": (ad.sinh, "sinh", ORDINARY, []),
    "cosh": (ad.cosh, "cosh", ORDINARY, [0.0]),
    "arcsinh": (ad.arcsinh, "asinh", ORDINARY, [0.0]),
    "arccosh": (ad.arccosh, "acosh", [1.3, 2.0, 4.5], [1.0, 0.5]),
    "arctanh": (ad.arctanh, "atanh", [-0.8, 0.1, 0.6], [-1.0, 1.0]),
    "sinc": (ad.sinc, "sinc", ORDINARY, [0.0, -0.0, 1.0, 2.0]),
    "deg2rad": (ad.deg2rad, "deg2rad", ORDINARY, []),
    "rad2deg": (ad.rad2deg, "rad2deg", ORDINARY, []),
    "sign": (ad.sign, "sign", ORDINARY, [0.0]),
    "floor": (ad.floor, "floor", ORDINARY, [1.0, -2.0]),
    "ceil": (ad.ceil, "ceil", ORDINARY, [1.0, -2.0]),
    "trunc": (ad.trunc, "trunc", ORDINARY, [1.0, -2.0]),
    "rint": (ad.rint, "round", [*ORDINARY, 0.5, 1.5, -2.5], [1.0]),  # halves to even, both
}

# name: (autodiff op, PyTorch's name, ordinary pairs, special pairs), two inputs.
BINARY = {
    "arctan2": (ad.arctan2, "atan2", [(0.5, 1.2), (-1.1, -0.4), (2.0, -0.3)],
                [(0.0, 0.0), (0.0, -0.0), (-0.0, 0.0), (0.0, 1.0), (0.0, -1.0)]),
    "hypot": (ad.hypot, "hypot", [(0.5, 1.2), (-1.1, -0.4), (2.0, 0.0)], [(0.0, 0.0)]),
    "logaddexp": (ad.logaddexp, "logaddexp", [(0.5, 1.2), (-1.1, -0.4), (3.0, 3.0)],
                  [(-INF, -INF), (INF, INF), (-INF, 0.0), (80.0, -80.0), (1000.0, -1000.0)]),
    "logaddexp2": (ad.logaddexp2, "logaddexp2", [(0.5, 1.2), (-1.1, -0.4), (3.0, 3.0)],
                   [(-INF, -INF), (INF, INF), (-INF, 0.0), (1000.0, -1000.0)]),
    "copysign": (ad.copysign, "copysign", [(0.5, 1.2), (-1.1, -0.4), (2.0, -0.3)],
                 [(0.0, 1.0), (-0.0, 1.0), (0.0, -1.0), (2.0, -0.0)]),
    "float_power": (ad.float_power, "float_power", [(0.5, 1.2), (1.1, -0.4), (2.0, 3.0)],
                    [(0.0, 0.0), (0.0, 2.0), (0.0, 1.0), (-2.0, 3.0)]),
    "fmax": (ad.fmax, "fmax", [(0.5, 1.2), (-1.1, -2.4)],
             [(1.0, 1.0), (NAN, 1.0), (1.0, NAN), (NAN, NAN)]),
    "fmin": (ad.fmin, "fmin", [(0.5, 1.2), (-1.1, -2.4)],
             [(1.0, 1.0), (NAN, 1.0), (1.0, NAN), (NAN, NAN)]),
    "remainder": (ad.remainder, "remainder", [(2.5, 0.7), (-2.5, 0.7), (2.5, -0.7), (-2.5, -0.7)],
                  [(1.0, 0.1), (0.0, 0.5)]),
    "fmod": (ad.fmod, "fmod", [(2.5, 0.7), (-2.5, 0.7), (2.5, -0.7), (-2.5, -0.7)],
             [(0.0, 0.5), (0.9, 0.3)]),
}


def _torch_case(torch, name, dtype, points):
    """Values, first gradients (for a cotangent of 1.5) and second gradients (of the first
    with respect to each input, summed) of torch.<name> at `points`."""
    cols = list(zip(*points)) if isinstance(points[0], tuple) else [points]
    ts = [torch.tensor(c, dtype=dtype, requires_grad=True) for c in cols]
    y = getattr(torch, name)(*ts)
    if not y.requires_grad:
        return y.detach().numpy(), None, None
    try:
        gs = torch.autograd.grad(y, ts, torch.full_like(y, 1.5), create_graph=True,
                                 allow_unused=True)
    except RuntimeError:  # floor_divide, heaviside: "derivative ... is not implemented"
        return y.detach().numpy(), None, None
    gs = [torch.zeros_like(t) if g is None else g for g, t in zip(gs, ts)]
    second = []
    for g in gs:
        if g.requires_grad:
            gg = torch.autograd.grad(g.sum(), ts, allow_unused=True, retain_graph=True)
            second.append([np.zeros(t.shape) if x is None else x.detach().numpy()
                           for x, t in zip(gg, ts)])
        else:
            second.append([np.zeros(t.shape) for t in ts])
    return y.detach().numpy(), [g.detach().numpy() for g in gs], second


def _ours(op, dtype, points):
    cols = list(zip(*points)) if isinstance(points[0], tuple) else [points]
    ts = [ad.tensor(np.array(c, dtype=dtype), requires_grad=True) for c in cols]
    y = op(*ts)
    seed = ad.tensor(np.full(y.shape, 1.5, dtype=y.dtype))
    gs = ad.gradients(y, ts, grad_outputs=seed, create_graph=True, allow_unused=True)
    second = []
    for g in gs:
        if g.requires_grad:
            second.append([x.data for x in ad.gradients(g.sum(), ts, allow_unused=True,
                                                        retain_graph=True)])
        else:
            second.append([np.zeros(t.shape) for t in ts])
    return y.data, [g.data for g in gs], second


def _close(ours, theirs, dtype, what):
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(ours, theirs, err_msg=what, **tol)


def _compare(torch, name, op, torch_name, points, dtype, second_order):
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    with np.errstate(all="ignore"):
        value, grads, second = _ours(op, dtype, points)
    t_value, t_grads, t_second = _torch_case(torch, torch_name, tdtype, points)
    _close(value, t_value, dtype, f"{name} value at {points}")
    out_dtype = np.float64 if name == "float_power" else dtype
    assert value.dtype == out_dtype, f"{name}: {value.dtype}"
    for i, g in enumerate(grads):
        assert g.dtype == dtype, f"{name}: gradient dtype {g.dtype}"
        _close(g, t_grads[i], dtype, f"{name} gradient of input {i} at {points}")
    if second_order:
        for i, row in enumerate(second):
            for j, gg in enumerate(row):
                _close(gg, t_second[i][j], dtype, f"{name} d2/d{i}d{j} at {points}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    op, torch_name, ordinary, special = UNARY[name]
    _compare(torch, name, op, torch_name, ordinary, dtype, second_order=True)
    for x in special:  # one at a time: PyTorch's value there, first order
        _compare(torch, name, op, torch_name, [x], dtype, second_order=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_pytorch(name, dtype):
    torch = pytest.importorskip("torch")
    op, torch_name, ordinary, special = BINARY[name]
    _compare(torch, name, op, torch_name, ordinary, dtype, second_order=True)
    for pair in special:
        _compare(torch, name, op, torch_name, [pair], dtype, second_order=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_round_floor_divide_heaviside_against_pytorch(dtype):
    """Values as PyTorch's; gradient 0 (PyTorch's for round; it has no derivative for
    floor_divide and heaviside)."""
    torch = pytest.importorskip("torch")
    td = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    x = np.array([-2.72, -1.25, 0.35, 1.15, 2.5, 25.0], dtype)
    for decimals in (-1, 0, 1):
        y = torch.round(torch.tensor(x, dtype=td), decimals=decimals).numpy()
        _close(ad.round(ad.tensor(x), decimals).data, y, dtype, f"round({decimals})")
    a, b = np.array([7.5, -7.5, 7.5, -7.5], dtype), np.array([2.0, 2.0, -2.0, -2.0], dtype)
    _close(ad.floor_divide(ad.tensor(a), ad.tensor(b)).data,
           torch.floor_divide(torch.tensor(a), torch.tensor(b)).numpy(), dtype, "floor_divide")
    h = np.array([-1.0, 0.0, 2.0], dtype)
    _close(ad.heaviside(ad.tensor(h), 0.5).data,
           torch.heaviside(torch.tensor(h), torch.tensor(0.5, dtype=td)).numpy(), dtype,
           "heaviside")


def test_real_and_conj_are_the_tensor_itself_as_pytorch():
    torch = pytest.importorskip("torch")
    t = torch.ones(2, requires_grad=True)
    assert torch.real(t) is t and torch.conj(t) is t
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    assert ad.real(x) is x and ad.conj(x) is x and x.real is x
    assert np.real(x) is x and np.conj(x) is x and np.conjugate(x) is x
    assert x.conj() is x and x.conjugate() is x


# -- accuracy where a naive backward overflows, underflows or cancels -----------------------


def test_logaddexp_gradient_is_exact_where_the_output_is_rounded():
    """float32 inputs near 1e4: a - out would carry out's rounding error (1e-3 there);
    sigmoid(a - b) does not."""
    a, b = np.float32(10000.0), np.float32(10000.5)
    x = ad.tensor(np.array([a]), requires_grad=True)
    ad.logaddexp(x, ad.tensor(np.array([b]))).sum().backward()
    expected = 1 / (1 + math.exp(float(b) - float(a)))
    assert abs(x.grad.item() - expected) < 1e-7
    x2 = ad.tensor(np.array([a]), requires_grad=True)
    ad.logaddexp2(x2, ad.tensor(np.array([b]))).sum().backward()
    assert abs(x2.grad.item() - 1 / (1 + 2 ** (float(b) - float(a)))) < 1e-7


def test_logaddexp_second_order_stays_finite_far_apart():
    """PyTorch's second derivative of logaddexp2 at (1000, -1000) is NaN; ours is 0."""
    f = ad.grad(lambda a: ad.logaddexp2(a, -1000.0))
    assert ad.grad(f)(ad.tensor(1000.0, dtype="float64")).item() == 0.0
    g = ad.grad(lambda a: ad.logaddexp(a, -1000.0))
    assert ad.grad(g)(ad.tensor(1000.0, dtype="float64")).item() == 0.0


def test_stable_values_are_numpys_own():
    x = np.array([1e-12, -1e-9, 3.0, 1e-30], np.float32)
    np.testing.assert_array_equal(ad.log1p(ad.tensor(x)).data, np.log1p(x))
    np.testing.assert_array_equal(ad.expm1(ad.tensor(x)).data, np.expm1(x))
    a, b = np.array([3e30, -1e4], np.float32), np.array([4e30, 1e4], np.float32)
    np.testing.assert_array_equal(ad.hypot(ad.tensor(a), ad.tensor(b)).data, np.hypot(a, b))
    np.testing.assert_array_equal(ad.logaddexp(ad.tensor(a), ad.tensor(b)).data,
                                  np.logaddexp(a, b))
    np.testing.assert_array_equal(ad.logaddexp2(ad.tensor(a), ad.tensor(b)).data,
                                  np.logaddexp2(a, b))


def test_hypot_and_arctan2_gradients_do_not_overflow_or_underflow():
    """x^2 + y^2 overflows in float32 beyond 1.8e19 and underflows below 1e-23; the
    gradients are computed through hypot, which does neither."""
    for scale in (1e30, 1e-30):
        a = ad.tensor(np.array([3 * scale], np.float32), requires_grad=True)
        b = ad.tensor(np.array([4 * scale], np.float32), requires_grad=True)
        ad.hypot(a, b).sum().backward()
        np.testing.assert_allclose([a.grad.item(), b.grad.item()], [0.6, 0.8], rtol=1e-6)
        a.grad = b.grad = None
        ad.arctan2(a, b).sum().backward()
        np.testing.assert_allclose([a.grad.item(), b.grad.item()],
                                   [0.16 / scale, -0.12 / scale], rtol=1e-5)


def test_inverse_functions_keep_their_digits_near_the_ends_of_their_domain():
    x = np.array([1 - 2.0 ** -40, -1 + 2.0 ** -40])  # 1 - x * x would lose half the digits
    t = ad.tensor(x, requires_grad=True)
    ad.arcsin(t).sum().backward()
    exact = 1 / np.sqrt((1 - x) * (1 + x))
    np.testing.assert_allclose(t.grad.data, exact, rtol=1e-14)
    t = ad.tensor(np.array([1 + 2.0 ** -40, 1e300]), requires_grad=True)
    ad.arccosh(t).sum().backward()  # x * x - 1: digits lost near 1, inf at 1e300
    np.testing.assert_allclose(t.grad.data, [1 / math.sqrt(2.0 ** -40 * (2 + 2.0 ** -40)),
                                             1e-300], rtol=1e-14)
    t = ad.tensor(np.array([1e300]), requires_grad=True)
    ad.arcsinh(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, [1e-300], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sinc_gradient_is_accurate_near_zero(dtype):
    """(cos(pi x) - sinc(x)) / x cancels near 0; the series takes over below eps^(1/6)."""
    x = np.array([0.0, 1e-300 if dtype == np.float64 else 1e-30, 1e-6, 1e-3, 0.05, 0.08, 0.3],
                 dtype)
    t = ad.tensor(x, requires_grad=True)
    ad.sinc(t).sum().backward()
    x64 = x.astype(np.float64)
    y = np.pi * x64
    with np.errstate(all="ignore"):
        exact = np.where(x64 == 0, 0.0, (y * np.cos(y) - np.sin(y)) / (np.pi * x64 * x64))
    # float64: the formula itself is exact enough at these points except the tiny ones
    exact[np.abs(x64) < 1e-3] = (-np.pi ** 2 / 3 * x64 + np.pi ** 4 / 30 * x64 ** 3)[
        np.abs(x64) < 1e-3]
    rtol = 3e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(t.grad.data, exact.astype(dtype), rtol=rtol, atol=1e-38)


def test_sinc_second_derivative_at_zero():
    """PyTorch gives NaN there; the series gives the exact -pi^2 / 3, and 0 for the third."""
    d2 = ad.grad(ad.grad(ad.sinc))(ad.tensor(0.0, dtype="float64"))
    assert d2.item() == pytest.approx(-np.pi ** 2 / 3, rel=1e-15)
    assert ad.grad(ad.grad(ad.grad(ad.sinc)))(ad.tensor(0.0, dtype="float64")).item() == 0.0


def test_cbrt_gradient_is_inf_at_zero_and_exact_elsewhere():
    x = ad.tensor(np.array([0.0, -8.0, 27.0, 1e-300]), requires_grad=True)
    with np.errstate(divide="ignore"):
        ad.cbrt(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [INF, 1 / 12, 1 / 27, 1 / (3 * 1e-200)],
                               rtol=1e-14)


def test_fmod_gradient_uses_the_quotient_fmod_took():
    """fmod(1, 0.1) took 9 tenths (0.1 is a bit more than 1/10); trunc(1 / 0.1) is 10."""
    b = ad.tensor(np.array([0.1]), requires_grad=True)
    out = ad.fmod(1.0, b)
    out.sum().backward()
    assert np.fmod(1.0, 0.1) > 0.09 and b.grad.item() == -9.0
    b2 = ad.tensor(np.array([0.1]), requires_grad=True)
    ad.remainder(1.0, b2).sum().backward()
    assert b2.grad.item() == -float(np.floor_divide(1.0, 0.1))


# -- step functions: recorded, with a gradient of zeros ------------------------------------


STEPS = {"sign": ad.sign, "floor": ad.floor, "ceil": ad.ceil, "rint": ad.rint,
         "trunc": ad.trunc, "round": lambda x: ad.round(x, 1),
         "floor_divide": lambda x: x // 0.7, "heaviside": lambda x: ad.heaviside(x, x)}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_step_functions_are_recorded_with_a_zero_gradient(name):
    x = ad.tensor([-1.3, 0.4, 2.6], requires_grad=True)
    y = STEPS[name](x)
    assert y.requires_grad and y.grad_fn is not None
    y.backward(ad.tensor([INF, NAN, 1.0]))  # zeros, even for an inf or NaN upstream
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.0, 0.0, 0.0]
    assert ad.grad(lambda t: STEPS[name](t).sum())(x).tolist() == [0.0, 0.0, 0.0]
    assert ad.hessian(lambda t: STEPS[name](t).sum())(x).data.tolist() == [[0.0] * 3] * 3


def test_np_sign_is_now_differentiable():
    x = ad.tensor([-2.0, 3.0], requires_grad=True)
    y = np.sign(x)
    assert isinstance(y, ad.Tensor) and y.requires_grad and y.tolist() == [-1.0, 1.0]


def test_integer_inputs_follow_numpy():
    i = np.array([-3, 4])
    for op, ref in [(ad.floor, np.floor), (ad.sign, np.sign), (ad.log1p, np.log1p),
                    (ad.rint, np.rint), (ad.cbrt, np.cbrt), (lambda x: ad.round(x, -1),
                                                             lambda x: np.round(x, -1))]:
        with np.errstate(invalid="ignore"):
            got, want = op(ad.tensor(i)), ref(i)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)
    assert (ad.tensor(i) % 3).tolist() == [0, 1] and (ad.tensor(i) // 3).tolist() == [-1, 1]


# -- the operators and NumPy's names -------------------------------------------------------


def test_mod_floordiv_divmod_operators_and_reflected_forms():
    x = ad.tensor([7.5, -7.5], requires_grad=True)
    assert (x % 2).tolist() == [1.5, 0.5] and (10.0 % x).tolist() == [2.5, -5.0]
    assert (x // 2).tolist() == [3.0, -4.0] and (10.0 // x).tolist() == [1.0, -2.0]
    q, r = divmod(x, 2)
    assert q.tolist() == [3.0, -4.0] and r.tolist() == [1.5, 0.5]
    q, r = divmod(10.0, x)
    assert q.tolist() == [1.0, -2.0] and r.tolist() == [2.5, -5.0]
    assert np.mod(x, 2).requires_grad and np.mod is np.remainder
    (10.0 % x).sum().backward()
    assert x.grad.tolist() == [-1.0, 2.0]  # -floor(10 / x)
    q, r = np.divmod(x, 2)
    assert isinstance(q, ad.Tensor) and r.requires_grad


def test_every_numpy_alias_reaches_the_op():
    x = ad.tensor([0.3, 2.6], requires_grad=True)
    for np_f, op in [(np.radians, ad.deg2rad), (np.degrees, ad.rad2deg), (np.fix, ad.trunc),
                     (np.around, ad.round), (np.round, ad.round), (np.conj, ad.conj)]:
        y = np_f(x)
        np.testing.assert_array_equal(y.data, op(x).data)
    assert np.round(x, decimals=1).tolist() == ad.round(x, 1).tolist()


def test_imag_is_a_constant_zero():
    x = ad.tensor([1.0, -2.0], requires_grad=True)
    for y in (ad.imag(x), x.imag, np.imag(x)):
        assert y.tolist() == [0.0, 0.0] and y.dtype == x.dtype and not y.requires_grad


def test_float_power_is_float64_for_float32_inputs_as_numpy():
    x = ad.tensor([1.5, 2.5], requires_grad=True)
    y = ad.float_power(x, 0.1)  # 0.1 stays the float64 number, not float32's
    np.testing.assert_array_equal(y.data, np.float_power(x.data, 0.1))
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert ad.float_power(2, ad.tensor([3.0])).dtype == np.float64


# -- refusals ------------------------------------------------------------------------------


def test_refusals_name_the_op_and_the_argument():
    x = ad.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"round: decimals must be an integer, got 1\.5"):
        ad.round(x, 1.5)
    with pytest.raises(TypeError, match=r"round.*out"):
        np.round(x, out=np.empty(2))
    with pytest.raises(TypeError, match="complex"):
        ad.log1p(np.array([1j]))
    with pytest.raises(TypeError, match="arctan2: cannot combine"):
        ad.arctan2(x, 1j)
    with pytest.raises(TypeError, match="complex"):
        ad.float_power(x, 1j)
    with pytest.raises(ValueError, match=r"hypot: shapes \(2,\) and \(3,\)"):
        ad.hypot(x, ad.ones(3))
    with pytest.raises(ValueError, match=r"remainder: shapes \(2,\) and \(3,\)"):
        x % ad.ones(3)
