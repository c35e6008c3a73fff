"""autodiff.scipy.stats: a table of rows checked by the op table's generic tests
(tests/autodiff/test_ops.py) against scipy.stats, then the lower tail of the normal, SciPy's
invalid parameters and shapes, frozen distributions, and PyTorch's gradients."""

from __future__ import annotations

import copy
import importlib
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

ss = pytest.importorskip("scipy.stats", reason="the optional extra 'scipy'")

import autodiff as ad  # noqa: E402
from autodiff.scipy import special, stats  # noqa: E402
from autodiff.testing import gradcheck, gradgradcheck  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
try:
    test_ops = importlib.import_module("test_ops")
finally:
    sys.path.pop(0)
Case, arrays, floats = test_ops.Case, test_ops.arrays, test_ops.floats

POSITIVE = floats(0.3, 3)


def located(*elements):
    """Arrays of mutually broadcastable shapes, one per strategy of elements."""
    def draw_inputs(draw):
        found = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(elements), max_dims=2,
                                                       max_side=3))
        return [draw(arrays(s, e)) for s, e in zip(found.input_shapes, elements)]
    return draw_inputs


def mvn_inputs(draw):
    """x (one point or a batch), mean and cov (a matrix, a diagonal or a number), d = 1..3."""
    d = draw(st.integers(1, 3))
    x_shapes = [(d,), (2, d), (2, 1, d)] + ([(), (3,)] if d == 1 else [])
    x = draw(arrays(draw(st.sampled_from(x_shapes))))
    mean = draw(arrays(draw(st.sampled_from([(d,), ()] if d == 1 else [(d,)]))))
    kind = draw(st.sampled_from(["matrix", "diagonal", "number"]))
    if kind == "matrix":
        a = draw(arrays((d, d), floats(-1, 1)))
        cov = a @ a.T + 0.5 * np.eye(d)
    else:
        cov = draw(arrays((d,) if kind == "diagonal" else (), POSITIVE))
    return [x, mean, cov]


def method(dist, name):
    def call(*args):
        return getattr(dist, name)(*args)
    call.__name__ = name
    return call


CASES = [
    Case("norm_logpdf", method(stats.norm, "logpdf"), ss.norm.logpdf,
         located(None, None, POSITIVE)),
    Case("norm_pdf", method(stats.norm, "pdf"), ss.norm.pdf, located(None, None, POSITIVE)),
    Case("norm_cdf", method(stats.norm, "cdf"), ss.norm.cdf, located(None, None, POSITIVE)),
    Case("norm_logcdf", method(stats.norm, "logcdf"), ss.norm.logcdf,
         located(None, None, POSITIVE)),
    Case("t_logpdf", method(stats.t, "logpdf"), ss.t.logpdf,
         located(None, floats(0.5, 10), None, POSITIVE)),
    Case("multivariate_normal_logpdf", method(stats.multivariate_normal, "logpdf"),
         ss.multivariate_normal.logpdf, mvn_inputs),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_op(case, data):
    test_ops.test_op.hypothesis.inner_test(case=case, data=data)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=5)
@given(data=st.data())
def test_float32_stays_float32(case, data):
    """SciPy's stats compute in float64; a float32 graph stays float32 here."""
    test_ops.test_float32_stays_float32.hypothesis.inner_test(case=case, data=data)


def public_methods():
    for name in stats.__all__:
        obj = getattr(stats, name)
        if inspect.isclass(obj):
            for m in ("pdf", "logpdf", "cdf", "logcdf"):
                if hasattr(obj, m):
                    yield name.removesuffix("_gen"), m


def test_every_method_has_a_row():
    rows = {c.name for c in CASES}
    missing = [f"{d}.{m}" for d, m in public_methods() if f"{d}_{m}" not in rows]
    assert not missing, f"autodiff.scipy.stats methods without a row: {missing}"


@pytest.mark.parametrize("module", [special, stats], ids=lambda m: m.__name__)
def test_every_public_name_has_an_example(module):
    for name in module.__all__:
        obj = getattr(module, name)
        members = [obj] + [getattr(obj, m) for _, m in public_methods()
                           if inspect.isclass(obj) and hasattr(obj, m)]
        for member in members if inspect.isclass(obj) or inspect.isfunction(obj) else []:
            assert ">>>" in (inspect.getdoc(member) or ""), f"{name}: no example"


# -- the lower tail of the normal --


def inverse_mills(u):
    """phi(-u) / Phi(-u) and its derivative in z = -u, for u >= 5, by Laplace's continued
    fraction (no exp to underflow, no cancellation): r = u + c, c = 1/(u + 2/(u + 3/...));
    dr/dz = -r (z + r) = -r c."""
    c = 0.0
    for k in range(200, 1, -1):
        c = (k - 1) / (u + c) if k > 2 else c
    c = 1 / (u + c)
    return u + c, -(u + c) * c


@pytest.mark.parametrize("z", [-5.0, -40.0, -1e3, -1e5])
def test_logcdf_far_in_the_lower_tail(z):
    """log Phi(z) is SciPy's log_ndtr; its first and second derivatives are right where
    Phi(z) and phi(z) underflow (below -38), where pdf / cdf would be 0 / 0."""
    x = ad.tensor(z, dtype="float64", requires_grad=True)
    out = stats.norm.logcdf(x)
    assert out.item() == ss.norm.logcdf(z)
    (g,) = ad.gradients(out, [x], create_graph=True)
    (gg,) = ad.gradients(g, [x])
    r, dr = inverse_mills(-z)
    np.testing.assert_allclose(g.item(), r, rtol=1e-14)
    # -r (z + r) cancels: about z^2 eps relative
    np.testing.assert_allclose(gg.item(), dr, rtol=max(1e-12, 10 * z * z * 2.2e-16))
    if z < -38:
        with np.errstate(all="ignore"):
            assert np.isnan(ss.norm.pdf(z) / ss.norm.cdf(z))


def test_logcdf_in_the_upper_tail():
    x = ad.tensor([10.0, 40.0], dtype="float64", requires_grad=True)
    out = stats.norm.logcdf(x)
    np.testing.assert_allclose(out.data, ss.norm.logcdf(x.data), rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, [ss.norm.pdf(10.0), 0.0], rtol=1e-13)


def test_cdf_keeps_the_lower_tail():
    z = np.array([-10.0, -30.0, -37.0])
    np.testing.assert_allclose(stats.norm.cdf(ad.tensor(z, dtype="float64")).data,
                               ss.norm.cdf(z), rtol=1e-13)


# -- SciPy's parameters --


@pytest.mark.parametrize("f,ref", [
    (lambda s: stats.norm.logpdf(0.5, 0.0, s), lambda s: ss.norm.logpdf(0.5, 0.0, s)),
    (lambda s: stats.norm.pdf(0.5, 0.0, s), lambda s: ss.norm.pdf(0.5, 0.0, s)),
    (lambda s: stats.norm.cdf(0.5, 0.0, s), lambda s: ss.norm.cdf(0.5, 0.0, s)),
    (lambda s: stats.norm.logcdf(0.5, 0.0, s), lambda s: ss.norm.logcdf(0.5, 0.0, s)),
    (lambda s: stats.t.logpdf(0.5, 3.0, 0.0, s), lambda s: ss.t.logpdf(0.5, 3.0, 0.0, s)),
    (lambda s: stats.t.logpdf(0.5, s), lambda s: ss.t.logpdf(0.5, s)),
])
def test_invalid_parameters_give_nan_as_scipy(f, ref):
    s = np.array([1.5, 0.0, -1.0])
    with np.errstate(all="ignore"):  # SciPy divides by 0
        want = ref(s)
    np.testing.assert_allclose(f(ad.tensor(s, dtype="float64")).data, want, rtol=1e-13)
    assert np.isnan(want[1:]).all()


def test_t_with_infinite_df_is_the_normal():
    x, df, loc, scale = (ad.tensor(v, dtype="float64", requires_grad=True)
                         for v in ([0.5, 2.0], [np.inf, 3.0], 0.2, 1.5))
    out = stats.t.logpdf(x, df, loc, scale)
    np.testing.assert_allclose(out.data, ss.t.logpdf(x.data, df.data, 0.2, 1.5), rtol=1e-14)
    assert out.data[0] == pytest.approx(ss.norm.logpdf(0.5, 0.2, 1.5), rel=1e-15)
    out.sum().backward()
    assert df.grad.data[0] == 0 and np.isfinite(df.grad.data[1])
    assert np.isfinite(x.grad.data).all() and np.isfinite(scale.grad.item())


def test_t_with_a_large_df_is_accurate():
    """log Gamma((df + 1) / 2) - log Gamma(df / 2) as SciPy: log(poch(df / 2, 1 / 2)) (a
    difference of gammaln would be off by 3e-10 at df = 1e6, 1e-8 at 1e8)."""
    df = np.array([1e3, 1e6, 1e8, 1e12])
    got = stats.t.logpdf(ad.tensor(0.7, dtype="float64"), ad.tensor(df, dtype="float64"))
    np.testing.assert_allclose(got.data, ss.t.logpdf(0.7, df), rtol=1e-14)


def test_frozen_distributions():
    x = ad.tensor([0.3, 1.2], dtype="float64")
    for frozen, method_, args in [(stats.norm(1.0, 2.0), "logcdf", (1.0, 2.0)),
                                  (stats.t(3.0, 1.0), "logpdf", (3.0, 1.0)),
                                  (stats.multivariate_normal([0.0, 1.0], 2.0), "logpdf",
                                   ([0.0, 1.0], 2.0))]:
        got = getattr(frozen, method_)(x)
        want = getattr({"norm": ss.norm, "t": ss.t}.get(repr(frozen).split("(")[0],
                                                         ss.multivariate_normal),
                        method_)(x.data, *args)
        np.testing.assert_allclose(got.data, want, rtol=1e-13)
    frozen = copy.deepcopy(stats.norm(1.0, 2.0))
    assert repr(frozen) == "norm(loc=1.0, scale=2.0)"
    with pytest.raises(AttributeError, match="sf"):  # not there
        frozen.sf(x)


# -- multivariate_normal: SciPy's shapes and refusals --


@pytest.mark.parametrize("x,mean,cov", [
    (0.5, None, 1.0), ([0.5, 1.0, 2.0], None, 2.0), ([0.5, 1.0, 2.0], 1.0, [[2.0]]),
    ([0.5, 1.0], [0.0, 0.0], [1.0, 2.0]), ([0.5, 1.0], [0.0, 1.0], [[2.0, 0.3], [0.3, 1.0]]),
    ([[[0.5, 1.0]], [[0.0, 0.0]]], [0.0, 1.0], [1.0, 3.0]), ([[0.5, 1.0]], [0.0, 1.0], 1.0),
    (np.zeros((0, 2)), [0.0, 1.0], 1.0),
])
def test_mvn_shapes_as_scipy(x, mean, cov):
    got = stats.multivariate_normal.logpdf(ad.tensor(x, dtype="float64"), mean, cov)
    want = ss.multivariate_normal.logpdf(x, mean, cov)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.data, want, rtol=1e-13)


@pytest.mark.parametrize("x,mean,cov,message", [
    ([0.5, 1.0], None, [[1.0, 2.0], [2.0, 1.0]], "cov must be positive definite"),
    ([0.5, 1.0], None, [[1.0, 1.0], [1.0, 1.0]], "cov must be positive definite"),
    ([0.5, 1.0], [0.0, 0.0, 0.0], 1.0, r"the points' last axis must have length 3"),
    ([0.5, 1.0], [[0.0, 0.0]], 1.0, r"mean must be a vector of length 2"),
    ([0.5, 1.0], [0.0, 0.0], [[1.0, 0.0, 0.0]] * 3, r"cov of shape \(3, 3\) does not fit"),
    ([0.5, 1.0], [0.0, 0.0], [1.0, 2.0, 3.0], r"cov of shape \(3,\) does not fit"),
    (0.5, None, [1.0, 2.0], r"cov of shape \(2,\) does not fit dimension 1"),
])
def test_mvn_refusals_name_the_problem(x, mean, cov, message):
    with pytest.raises(ValueError, match=f"multivariate_normal.logpdf: {message}"):
        stats.multivariate_normal.logpdf(ad.tensor(x), mean, cov)
    with pytest.raises(ValueError):  # SciPy refuses them too
        ss.multivariate_normal.logpdf(x, mean, cov)


def test_mvn_singular_cov_is_refused_even_when_allowed():
    with pytest.raises(ValueError, match="singular cov is not supported"):
        stats.multivariate_normal.logpdf(ad.tensor([0.5, 1.0]), None, [[1.0, 1.0], [1.0, 1.0]],
                                         allow_singular=True)


def test_mvn_gradient_in_cov_is_symmetric_and_twice_differentiable():
    x = ad.tensor([[0.5, -1.0], [0.2, 0.3]], dtype="float64")
    mean = ad.tensor([0.1, 0.2], dtype="float64")
    cov = ad.tensor([[2.0, 0.4], [0.4, 1.0]], dtype="float64", requires_grad=True)
    stats.multivariate_normal.logpdf(x, mean, cov).sum().backward()
    g = cov.grad.data
    np.testing.assert_allclose(g, g.T, rtol=1e-15)
    inv = np.linalg.inv(cov.data)
    d = x.data - mean.data
    np.testing.assert_allclose(g, -0.5 * (2 * inv - inv @ d.T @ d @ inv), rtol=1e-12)
    assert gradgradcheck(lambda c: stats.multivariate_normal.logpdf(x, mean, c),
                         cov.detach())


# -- PyTorch's gradients --


def test_gradients_agree_with_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    D = torch.distributions
    values = ([0.3, -1.2, 2.5], [0.1], [1.7])
    x, loc, scale = (ad.tensor(v, dtype="float64", requires_grad=True) for v in values)
    tx, tloc, tscale = (torch.tensor(v, dtype=torch.float64, requires_grad=True)
                        for v in values)
    pairs = [
        (stats.norm.logpdf(x, loc, scale), D.Normal(tloc, tscale).log_prob(tx)),
        (stats.norm.pdf(x, loc, scale), D.Normal(tloc, tscale).log_prob(tx).exp()),
        (stats.norm.cdf(x, loc, scale), D.Normal(tloc, tscale).cdf(tx)),
        (stats.norm.logcdf(x, loc, scale), torch.special.log_ndtr((tx - tloc) / tscale)),
        (stats.t.logpdf(x, 3.5 * scale, loc, scale),
         D.StudentT(3.5 * tscale, tloc, tscale).log_prob(tx)),
    ]
    for ours, theirs in pairs:
        mine = ad.gradients(ours.sum(), [x, loc, scale])
        want = torch.autograd.grad(theirs.sum(), [tx, tloc, tscale])
        for m, w in zip(mine, want):
            np.testing.assert_allclose(m.data, w.numpy(), rtol=1e-10, atol=1e-14)

    cov = [[2.0, 0.4, 0.1], [0.4, 1.0, -0.2], [0.1, -0.2, 1.5]]
    xs = ad.tensor([[0.5, -1.0, 0.3], [0.2, 0.3, 2.0]], dtype="float64", requires_grad=True)
    mean, c = (ad.tensor(v, dtype="float64", requires_grad=True) for v in ([0.1, 0.2, 0.0], cov))
    txs, tmean, tc = (torch.tensor(v.data, requires_grad=True) for v in (xs, mean, c))
    mine = ad.gradients(stats.multivariate_normal.logpdf(xs, mean, c).sum(), [xs, mean, c])
    theirs = D.MultivariateNormal(tmean, covariance_matrix=tc).log_prob(txs).sum()
    for m, w in zip(mine, torch.autograd.grad(theirs, [txs, tmean, tc])):
        np.testing.assert_allclose(m.data, w.numpy(), rtol=1e-10, atol=1e-14)


def test_a_model_a_user_writes():
    """The negative log likelihood of a Student-t regression, fitted in (w, log scale, df)."""
    def nll(w, log_scale, df):
        x = ad.tensor([[1.0, 0.2], [0.5, -1.0], [2.0, 0.3]], dtype="float64")
        y = ad.tensor([0.3, -0.8, 1.9], dtype="float64")
        return -stats.t.logpdf(y, df, x @ w, ad.exp(log_scale)).sum()

    args = [ad.tensor(v, dtype="float64") for v in ([0.5, 0.1], 0.2, 4.0)]
    assert gradcheck(nll, *args) and gradgradcheck(nll, *args)
