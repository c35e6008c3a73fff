"""Reductions (autodiff/ops/reduce.py) beyond the op table: PyTorch's values and gradients
(zeros of prod and cumprod, ties, second order), SciPy's logsumexp, the conventions at ties and
NaNs, NumPy's behaviour on empty inputs, the integer results of argmax/argmin/argsort, and the
clear refusals."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.exceptions import AxisError

import autodiff as ad
from autodiff.ops import registry
from autodiff.testing.strategies import shapes, valid_axes


def t64(values, requires_grad=True):
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def grad_of(f, values, seed=None):
    """(f(x), df/dx . seed) with autodiff."""
    x = t64(values)
    y = f(x)
    g = np.ones(y.shape) if seed is None else seed
    (gx,) = ad.gradients(y, [x], grad_outputs=ad.tensor(g, dtype="float64"))
    return y.data, gx.data


def torch_grad_of(f, values, seed=None, create_graph=False):
    torch = pytest.importorskip("torch")
    x = torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    y = f(x)
    g = torch.ones_like(y) if seed is None else torch.tensor(seed)
    (gx,) = torch.autograd.grad(y, x, g, create_graph=create_graph)
    return y.detach().numpy(), gx.detach().numpy()


def second_order(f, values, v):
    """d/dx (df/dx . v) with autodiff (f returns a scalar)."""
    x = t64(values)
    (g,) = ad.gradients(f(x), [x], create_graph=True)
    (h,) = ad.gradients((g * ad.tensor(v, dtype="float64")).sum(), [x])
    return h.data


def torch_second_order(f, values, v):
    torch = pytest.importorskip("torch")
    x = torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (h,) = torch.autograd.grad((g * torch.tensor(v)).sum(), x)
    return h.numpy()


# -- prod and cumprod: zeros, exactly, to second order (PyTorch) -----------------------------

ZEROS = [[2.0, -1.5, 3.0, 0.5], [2.0, 0.0, 3.0, 0.5], [0.0, -1.5, 0.0, 0.5],
         [0.0, 0.0, 0.0, 0.0]]


@pytest.mark.parametrize("values", ZEROS, ids=["no zero", "one zero", "two zeros", "all"])
def test_prod_with_zeros_matches_pytorch_to_second_order(values):
    y, g = grad_of(ad.prod, values)
    ty, tg = torch_grad_of(lambda x: x.prod(), values)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_allclose(g, tg, rtol=1e-15)
    v = np.array([0.3, -1.0, 2.0, 0.7])
    np.testing.assert_allclose(second_order(ad.prod, values, v),
                               torch_second_order(lambda x: x.prod(), values, v), rtol=1e-14)


def test_prod_gradient_is_the_product_of_the_others_exactly():
    # One zero: the product of the others at its place, 0 elsewhere; two zeros: 0 everywhere.
    _, g = grad_of(ad.prod, [2.0, 0.0, 3.0])
    assert g.tolist() == [0.0, 6.0, 0.0]
    _, g = grad_of(ad.prod, [2.0, 0.0, 0.0])
    assert g.tolist() == [0.0, 0.0, 0.0]
    # No division by the input: the product underflows to 0, the others' product does not.
    y, g = grad_of(ad.prod, [1e-300, 1e-300])
    assert y == 0 and g.tolist() == [1e-300, 1e-300]


@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), None])
def test_prod_over_axes_matches_pytorch(axis):
    x = np.random.default_rng(0).choice([0.0, 0.5, -1.5, 2.0], size=(2, 3, 4))
    seed_shape = np.prod(x, axis=axis).shape
    seed = np.random.default_rng(1).standard_normal(seed_shape)
    y, g = grad_of(lambda t: ad.prod(t, axis=axis), x, seed)

    def torch_prod(t):
        for a in sorted(np.atleast_1d(axis if axis is not None else range(3)) % 3,
                        reverse=True):
            t = t.prod(int(a))
        return t
    ty, tg = torch_grad_of(torch_prod, x, seed)
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_allclose(g, tg, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("values", [*ZEROS, [2.0, 0.0, 3.0, 0.0, 5.0, 1.5]],
                         ids=["no zero", "one zero", "two zeros", "all", "zeros inside"])
def test_cumprod_with_zeros_matches_pytorch_to_second_order(values):
    seed = np.linspace(-1, 1.5, len(values))
    y, g = grad_of(ad.cumprod, values, seed)
    ty, tg = torch_grad_of(lambda x: x.cumprod(0), values, seed)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_allclose(g, tg, rtol=1e-14)
    v = np.linspace(0.5, -2, len(values))
    np.testing.assert_allclose(
        second_order(lambda x: (ad.cumprod(x) * ad.tensor(seed, dtype="float64")).sum(),
                     values, v),
        torch_second_order(lambda x: (x.cumprod(0) * pytest.importorskip("torch").tensor(seed))
                           .sum(), values, v), rtol=1e-13, atol=1e-15)


def test_cumprod_never_divides_by_the_input():
    # The running product underflows to 0 after the second element; a gradient computed as
    # (reversed cumsum of grad * out) / x would be 0 there.
    _, g = grad_of(ad.cumprod, [1e-300, 1e-300, 2.0])
    assert g.tolist() == [1.0 + 1e-300 + 2e-300, 1e-300 + 2e-300, 1e-600]


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_cumsum_and_cumprod_along_an_axis_match_pytorch(axis):
    x = np.random.default_rng(2).choice([0.0, 0.5, -1.5, 2.0], size=(3, 4))
    seed = np.random.default_rng(3).standard_normal(x.size if axis is None else x.shape)
    for op, name in [(ad.cumsum, "cumsum"), (ad.cumprod, "cumprod")]:
        y, g = grad_of(lambda t, op=op: op(t, axis=axis), x, seed)

        def torch_op(t, name=name):
            return getattr(t.reshape(-1) if axis is None else t, name)(0 if axis is None
                                                                      else axis)
        ty, tg = torch_grad_of(torch_op, x, seed)
        np.testing.assert_allclose(y, ty, rtol=1e-15)
        np.testing.assert_allclose(g, tg, rtol=1e-14, atol=1e-15)


# -- order statistics: PyTorch where it agrees, the shared-ties convention where it does not --


def test_median_of_an_odd_count_matches_pytorch():
    x = np.random.default_rng(4).standard_normal((3, 5))
    seed = np.array([0.5, -1.0, 2.0])
    y, g = grad_of(lambda t: ad.median(t, axis=1), x, seed)
    ty, tg = torch_grad_of(lambda t: t.median(1).values, x, seed)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


def test_median_of_an_even_count_is_numpys_mean_of_the_middle_two():
    # PyTorch's median of an even count is the lower middle value; NumPy's (ours) the mean of
    # the two, as PyTorch's quantile(0.5): the gradient is 1/2 on each.
    x = np.random.default_rng(5).standard_normal((3, 4))
    y, g = grad_of(lambda t: ad.median(t, axis=1), x)
    ty, tg = torch_grad_of(lambda t: t.quantile(0.5, dim=1), x)
    np.testing.assert_allclose(y, np.median(x, axis=1), rtol=0)
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_array_equal(g, tg)
    assert sorted(g[0].tolist()) == [0.0, 0.0, 0.5, 0.5]


@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.99, 1.0, [0.1, 0.75]])
def test_quantile_of_distinct_values_matches_pytorch(q):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(6).standard_normal((4, 6))
    seed = np.random.default_rng(7).standard_normal(np.quantile(x, q, axis=0).shape)
    y, g = grad_of(lambda t: ad.quantile(t, q, axis=0), x, seed)
    ty, tg = torch_grad_of(lambda t: t.quantile(torch.tensor(q, dtype=t.dtype), dim=0), x,
                           seed)
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(g, tg, rtol=1e-14)


def test_ties_share_the_gradient_evenly():
    # PyTorch's median over all elements shares it; its quantile and median over an axis give
    # it to one of the tied elements (the one its sort puts there).
    x = [2.0, 2.0, 1.0, 2.0, 5.0]
    _, g = grad_of(ad.median, x)
    _, tg = torch_grad_of(lambda t: t.median(), x)
    np.testing.assert_allclose(g, tg)
    assert g.tolist() == [1 / 3, 1 / 3, 0.0, 1 / 3, 0.0]
    # quantile(x, 1) is max(x), in value and in gradient; quantile(x, 0) is min(x).
    for q, ref in [(1.0, ad.max), (0.0, ad.min)]:
        v = [3.0, 1.0, 3.0, 1.0]
        np.testing.assert_array_equal(grad_of(lambda t, q=q: ad.quantile(t, q), v)[1],
                                      grad_of(ref, v)[1])
    # A tie straddling the interpolation: the group's total weight, shared.
    _, g = grad_of(lambda t: ad.quantile(t, 0.25), [1.0, 3.0, 2.0, 2.0, 4.0])
    assert g.tolist() == [0.0, 0.0, 0.5, 0.5, 0.0]


def test_the_tie_groups_get_pytorchs_total():
    # Whatever the convention inside a tie, each group of tied elements gets the same total.
    x = np.array([[1.0, 2.0, 2.0, 3.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])
    for q in (0.2, 0.5, 0.9):
        _, g = grad_of(lambda t, q=q: ad.quantile(t, q, axis=1), x)
        _, tg = torch_grad_of(lambda t, q=q: t.quantile(q, dim=1), x)
        for row in range(2):
            for value in np.unique(x[row]):
                group = x[row] == value
                np.testing.assert_allclose(g[row][group].sum(), tg[row][group].sum())
                assert np.ptp(g[row][group]) == 0  # shared evenly


@given(st.data())
def test_the_gradient_of_a_quantile_reproduces_its_value(data):
    """A quantile is piecewise linear and homogeneous: value = gradient . x, for every method,
    ties included (small integers tie often)."""
    x = data.draw(hnp.arrays(np.float64, shapes(min_dims=1), elements=st.integers(-3, 3)
                             .map(float)))
    axis = data.draw(valid_axes(x.ndim))
    q = data.draw(st.floats(0, 1))
    method = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))
    y, g = grad_of(lambda t: ad.quantile(t, q, axis=axis, keepdims=True, method=method), x)
    ref = np.quantile(x, q, axis=axis, keepdims=True, method=method)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose((g * x).sum(axis=axis, keepdims=True), ref, rtol=1e-12,
                               atol=1e-12)
    assert np.all(g >= 0)


def test_a_nan_result_gives_its_gradient_to_the_nans():
    # As PyTorch's max and median over all elements.
    nan = float("nan")
    for op, torch_op in [(ad.max, lambda t: t.max()), (ad.median, lambda t: t.median())]:
        y, g = grad_of(op, [1.0, nan, 2.0])
        _, tg = torch_grad_of(torch_op, [1.0, nan, 2.0])
        assert np.isnan(y) and g.tolist() == tg.tolist() == [0.0, 1.0, 0.0]
    y, g = grad_of(lambda t: ad.quantile(t, [0.1, 0.9]), [nan, 1.0, nan])
    assert np.isnan(y).all() and g.tolist() == [1.0, 0.0, 1.0]


def test_float32_stays_float32_where_numpy_would_promote():
    x = ad.tensor([3.0, 1.0, 2.0], requires_grad=True)
    assert np.quantile(x.detach().data, [0.5]).dtype == np.float64  # NumPy's array q
    y = ad.quantile(x, [0.25, 0.5])
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert ad.median(ad.tensor([1, 2, 4])).dtype == ad.get_default_dtype()  # ints: as mean


# -- nanmedian, nanquantile, nanpercentile: each slice's numbers, NaNs left out --------------

NAN = float("nan")
WITH_NANS = [[3.0, NAN, 1.0, 4.0, 2.0], [NAN, 5.0, NAN, -1.0, 0.5], [2.0, 7.0, NAN, NAN, NAN]]


def test_nanmedian_of_an_odd_count_matches_pytorch():
    x = np.array([[3.0, NAN, 1.0, 4.0, NAN, 2.0, 6.0], [NAN, 5.0, NAN, -1.0, 0.5, NAN, NAN]])
    seed = np.array([0.5, -2.0])
    y, g = grad_of(lambda t: np.nanmedian(t, axis=1), x, seed)  # NumPy's name reaches it
    ty, tg = torch_grad_of(lambda t: t.nanmedian(1).values, x, seed)
    np.testing.assert_array_equal(y, np.nanmedian(x, axis=1))
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)
    assert g[0].tolist() == [0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]  # 3, 1, 4, 2, 6: the 3


def test_nanmedian_of_an_even_count_is_numpys_mean_of_the_middle_two():
    # PyTorch's nanmedian of an even count is the lower middle number; NumPy's (ours) the mean
    # of the two, as PyTorch's nanquantile(0.5): the gradient is 1/2 on each, 0 on the NaNs.
    x = np.array(WITH_NANS[:2])
    y, g = grad_of(lambda t: ad.nanmedian(t, axis=1), x)
    ty, tg = torch_grad_of(lambda t: t.nanquantile(0.5, dim=1), x)
    np.testing.assert_array_equal(y, np.nanmedian(x, axis=1))
    assert y.tolist() == [2.5, 0.5] != pytest.importorskip("torch").tensor(x).nanmedian(
        1).values.tolist()
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)
    assert g.tolist() == [[0.5, 0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0, 1.0]]


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q", [0.0, 0.3, 0.5, 0.99, 1.0, [0.1, 0.75]])
def test_nanquantile_of_distinct_values_matches_pytorch(q, method):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = rng.standard_normal((7, 5))
    x[rng.random(x.shape) < 0.4] = NAN  # each column keeps a different count of numbers
    x[0] = rng.standard_normal(5)
    seed = rng.standard_normal(np.nanquantile(x, q, axis=0).shape)
    y, g = grad_of(lambda t: ad.nanquantile(t, q, axis=0, method=method), x, seed)
    ty, tg = torch_grad_of(lambda t: t.nanquantile(torch.tensor(q, dtype=t.dtype), dim=0,
                                                   interpolation=method), x, seed)
    np.testing.assert_allclose(y, np.nanquantile(x, q, axis=0, method=method), rtol=1e-14)
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(g, tg, rtol=1e-14)
    assert (g[np.isnan(x)] == 0).all()


@given(st.data())
def test_the_gradient_of_a_nanquantile_reproduces_its_value(data):
    """Piecewise linear and homogeneous in the numbers of each slice: value = gradient . x
    (NaNs taken as 0), for every method, ties included; NaNs get nothing."""
    x = data.draw(hnp.arrays(np.float64, shapes(min_dims=1), elements=st.sampled_from(
        [-2.0, -1.0, 0.0, 1.0, 3.0, NAN])))
    axis = data.draw(valid_axes(x.ndim))
    q = data.draw(st.floats(0, 1))
    method = data.draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest",
                                        "weibull", "hazen", "median_unbiased",
                                        "normal_unbiased", "interpolated_inverted_cdf"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        y, g = grad_of(lambda t: ad.nanquantile(t, q, axis=axis, keepdims=True,
                                                method=method), x)
        ref = np.nanquantile(x, q, axis=axis, keepdims=True, method=method)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    numbers = np.where(np.isnan(x), 0.0, x)
    full = ~np.isnan(ref)
    np.testing.assert_allclose((g * numbers).sum(axis=axis, keepdims=True)[full], ref[full],
                               rtol=1e-12, atol=1e-12)
    assert np.all(g >= 0) and (g[np.isnan(x)] == 0).all()
    np.testing.assert_array_equal(np.broadcast_to(~full, x.shape) & (g != 0),
                                  np.zeros(x.shape, bool))  # all-NaN slices: 0


def test_nan_order_statistics_share_ties_evenly_as_median():
    x = [2.0, NAN, 2.0, 1.0, 2.0, 5.0]
    _, g = grad_of(ad.nanmedian, x)
    _, g_median = grad_of(ad.median, [2.0, 2.0, 1.0, 2.0, 5.0])
    assert g.tolist() == [1 / 3, 0.0, 1 / 3, 0.0, 1 / 3, 0.0]
    assert np.delete(g, 1).tolist() == g_median.tolist()
    _, tg = torch_grad_of(lambda t: t.nanmedian(), x)  # PyTorch's over all elements shares too
    np.testing.assert_allclose(g, tg)
    _, g = grad_of(lambda t: ad.nanpercentile(t, 25), [1.0, NAN, 3.0, 2.0, 2.0, 4.0])
    assert g.tolist() == [0.0, 0.0, 0.0, 0.5, 0.5, 0.0]


def test_an_all_nan_slice_is_nan_with_numpys_warning_and_no_gradient():
    # PyTorch gives its gradient to one of the NaNs; NaNs get none here, as nanmean's.
    x = np.array([[NAN, NAN, NAN], [1.0, NAN, 3.0]])
    for op, ref in [(lambda t: ad.nanmedian(t, axis=1), lambda a: np.nanmedian(a, axis=1)),
                    (lambda t: ad.nanquantile(t, [0.2, 0.5], axis=1),
                     lambda a: np.nanquantile(a, [0.2, 0.5], axis=1)),
                    (lambda t: np.nanpercentile(t, 90, axis=1, keepdims=True),
                     lambda a: np.nanpercentile(a, 90, axis=1, keepdims=True))]:
        with pytest.warns(RuntimeWarning, match="All-NaN slice encountered"):
            y, g = grad_of(op, x)
        with pytest.warns(RuntimeWarning, match="All-NaN slice encountered"):
            np.testing.assert_array_equal(y, ref(x))
        assert np.isnan(y).sum() == y.size // 2  # the first row's results, and only they
        assert (g[0] == 0).all() and g[1, 1] == 0 and g[1, [0, 2]].sum() > 0


def test_empty_inputs_give_nan_with_numpys_warning():
    # np.nanquantile of an empty array drops an array q's axes (NumPy 2.4); ours keeps them,
    # as quantile's shape rule says: one NaN per q and slice.
    x = t64(np.zeros((0, 3)))
    with pytest.warns(RuntimeWarning):
        y = ad.nanquantile(x, [0.25, 0.5, 0.75], axis=0)
    assert y.shape == (3, 3) and np.isnan(y.data).all()
    assert ad.nanquantile(x, [0.25, 0.5], axis=1).shape == (2, 0)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        y = ad.nanmedian(x)
    assert y.shape == () and np.isnan(y.item())
    y.backward()
    assert x.grad.shape == (0, 3)
    assert ad.nanmedian(t64(4.0)).item() == 4.0 and ad.nanpercentile(t64(4.0), [10, 90]).tolist(
        ) == [4.0, 4.0]


def test_an_array_q_over_several_axes_keeps_q_axes_first():
    # np.nanquantile puts a 2-d q's axes last when it reduces several axes (NumPy 2.4): a
    # reshape of its result would mix the values up. Ours: quantile's layout, q's axes first.
    x = np.random.default_rng(9).standard_normal((2, 3, 4))
    x[0, 1, 2] = NAN
    q = np.array([[0.1], [0.9]])
    got = ad.nanquantile(t64(x), q, axis=(0, 2))
    assert got.shape == np.quantile(x, q, axis=(0, 2)).shape == (2, 1, 3)
    for i, v in enumerate(q.ravel()):
        np.testing.assert_allclose(got.data[i, 0], np.nanquantile(x, v, axis=(0, 2)),
                                   rtol=1e-15)
    keep = ad.nanpercentile(t64(x), q * 100, axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(keep.data.reshape(got.shape), got.data, rtol=1e-14)


def test_nan_order_statistics_keep_float32_and_refuse_as_quantile():
    x = ad.tensor([3.0, NAN, 2.0], requires_grad=True)
    y = ad.nanquantile(x, [0.25, 0.5])
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.75, 0.0, 1.25]
    with pytest.raises(ValueError, match=r"nanquantile: method='inverted_cdf' is not"):
        np.nanquantile(x, 0.5, method="inverted_cdf")
    with pytest.raises(ValueError, match=r"nanpercentile: q must be in \[0, 100\], got 101"):
        ad.nanpercentile(x, 101)
    with pytest.raises(ValueError, match=r"nanquantile: weights= is not supported"):
        ad.nanquantile(x, 0.5, weights=[1, 1, 1])
    with pytest.raises(TypeError, match="nanmedian: this library uses NumPy's axis="):
        ad.nanmedian(x, dim=0)


# -- the nan-functions, amax/amin and logsumexp against PyTorch and SciPy --------------------


def test_nansum_and_nanmean_match_pytorch():
    nan = float("nan")
    x = np.array([[1.0, nan, 2.5], [nan, -1.0, 4.0]])
    for op, torch_op in [(ad.nansum, "nansum"), (ad.nanmean, "nanmean")]:
        for axis in (None, 0, 1):
            y, g = grad_of(lambda t, op=op, axis=axis: op(t, axis=axis), x)
            ty, tg = torch_grad_of(lambda t, name=torch_op, axis=axis: getattr(t, name)(
                **({} if axis is None else {"dim": axis})), x)
            np.testing.assert_allclose(y, ty, rtol=1e-15)
            np.testing.assert_allclose(g, tg, rtol=1e-15)


def test_nanmax_skips_nans():
    nan = float("nan")
    y, g = grad_of(lambda t: ad.nanmax(t, axis=1), [[1.0, nan, 3.0], [2.0, 2.0, nan]])
    assert y.tolist() == [3.0, 2.0] and g.tolist() == [[0, 0, 1], [0.5, 0.5, 0]]
    y, g = grad_of(ad.nanmin, [nan, 4.0, -1.0])
    assert y == -1.0 and g.tolist() == [0, 0, 1]
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        assert np.isnan(ad.nanmax(t64([nan, nan])).item())


@pytest.mark.parametrize("op, torch_name", [(np.amax, "amax"), (np.amin, "amin"),
                                            (ad.max, "amax"), (ad.min, "amin")])
def test_amax_and_amin_share_ties_as_pytorch(op, torch_name):
    x = np.array([[1.0, 3.0, 3.0], [-2.0, -2.0, 0.0]])
    for axis in (0, 1, None, (0, 1)):
        kw = {} if axis is None else {"dim": axis}
        y, g = grad_of(lambda t, axis=axis: op(t, axis=axis), x)
        ty, tg = torch_grad_of(lambda t, kw=kw: getattr(t, torch_name)(**kw), x)
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_allclose(g, tg, rtol=1e-15)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, True), ((0, 2), False),
                                            (-1, False)])
def test_logsumexp_matches_pytorch_and_scipy(axis, keepdims):
    special = pytest.importorskip("scipy.special")
    x = np.random.default_rng(8).standard_normal((2, 3, 4)) * 30
    y, g = grad_of(lambda t: ad.logsumexp(t, axis=axis, keepdims=keepdims), x)
    np.testing.assert_allclose(y, special.logsumexp(x, axis=axis, keepdims=keepdims),
                               rtol=1e-14)
    dim = tuple(range(3)) if axis is None else axis
    ty, tg = torch_grad_of(lambda t: t.logsumexp(dim=dim, keepdim=keepdims), x)
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(g, tg, rtol=1e-13, atol=1e-300)


def test_logsumexp_with_weights_matches_scipy():
    special = pytest.importorskip("scipy.special")
    a = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -np.inf]])
    for b in ([0.5, 2.0, 1.0], [[1.0], [3.0]], [[0.0, 1.0, 2.0]], [1.0, -2.0, 0.5]):
        for axis in (None, 1):
            ref = special.logsumexp(a, axis=axis, b=b)
            np.testing.assert_allclose(ad.logsumexp(t64(a), axis=axis, b=b).data, ref)
            mag, sign = ad.logsumexp(t64(a), axis=axis, b=b, return_sign=True)
            ref_mag, ref_sign = special.logsumexp(a, axis=axis, b=b, return_sign=True)
            np.testing.assert_allclose(mag.data, ref_mag)
            np.testing.assert_array_equal(sign.data, ref_sign)
            assert not sign.requires_grad
    # A weight of 0 drops its term, even an infinite one; a sum of 0 is -inf, silently.
    assert ad.logsumexp(t64([np.inf, 1.0]), b=[0.0, 1.0]).item() == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ad.logsumexp(t64([1.0, 1.0]), b=[1.0, -1.0]).item() == -np.inf


def test_logsumexp_is_differentiable_in_its_weights():
    from autodiff.testing import gradcheck, gradgradcheck

    a, b = t64([[0.5, -1.0, 2.0]]), t64([[1.0], [0.5]])
    assert gradcheck(lambda a, b: ad.logsumexp(a, axis=1, b=b), a, b)
    assert gradgradcheck(lambda a, b: ad.logsumexp(a, axis=1, b=b), a, b)


# -- NumPy's arguments: dtype, initial, where, average's weights ------------------------------


def test_dtype_converts_first():
    x = ad.tensor([0.1, 0.2, 0.7], requires_grad=True)  # float32
    y = ad.sum(x, dtype=np.float64)
    assert y.dtype == np.float64 and y.item() == np.sum(x.data, dtype=np.float64)
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]
    for op in (np.sum, np.prod, np.cumsum, np.cumprod, np.nansum):
        got = op(ad.tensor([1.7, 2.6, 3.5]), dtype=np.int64)  # NumPy's cast, then no gradient
        assert got.dtype == np.int64 and not got.requires_grad
        np.testing.assert_array_equal(got.data, op(np.array([1.7, 2.6, 3.5], np.float32),
                                                   dtype=np.int64))
    assert ad.mean(ad.tensor([1.0, 2.0]), dtype="float64").dtype == np.float64
    assert np.cumsum(x, dtype=np.float64).dtype == np.float64


def test_where_and_initial_as_numpy():
    x = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    mask = np.array([True, False, True])
    cases = [(np.sum, {"where": mask, "initial": 1.5}), (np.prod, {"where": mask}),
             (np.mean, {"where": mask, "axis": 1}), (np.max, {"where": mask, "initial": 0.0}),
             (np.min, {"where": mask[None], "initial": 10.0}),
             (np.nansum, {"where": mask, "axis": 0}), (np.nanmean, {"where": mask}),
             (np.nanmax, {"initial": 7.0}), (np.max, {"axis": 0, "initial": 4.5})]
    for op, kw in cases:
        t = t64(x)
        got = op(t, **kw)
        np.testing.assert_allclose(got.data, op(x, **kw), err_msg=f"{op.__name__} {kw}")
        got.sum().backward()
        assert t.grad.shape == x.shape
    t = t64(x)
    ad.max(t, axis=0, initial=4.0).sum().backward()  # 4.0 ties with the 4.0 in column 0
    assert t.grad.tolist() == [[0, 0, 0], [0.5, 1, 0]]  # column 2: the initial wins


def test_average_matches_numpy_and_is_differentiable_in_the_weights():
    a = np.arange(6.0).reshape(2, 3)
    w = np.array([1.0, 2.0, 3.0])
    assert np.average(t64(a), axis=1, weights=w).tolist() == np.average(a, 1, w).tolist()
    avg, total = np.average(a, axis=1, weights=t64(w), returned=True)  # w alone a tensor
    ref_avg, ref_total = np.average(a, axis=1, weights=w, returned=True)
    assert avg.requires_grad and avg.tolist() == ref_avg.tolist()
    assert total.tolist() == ref_total.tolist()
    avg, count = ad.average(t64(a), axis=0, returned=True)
    assert count.tolist() == np.average(a, axis=0, returned=True)[1].tolist()


# -- argmax, argmin, argsort: integer tensors with no gradient ------------------------------


def test_positions_are_integer_tensors_without_gradient():
    x = t64([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0]])
    for call, ref in [(lambda: np.argmax(x, axis=1), [0, 1]), (lambda: x.argmax(1), [0, 1]),
                      (lambda: ad.argmin(x), 3), (lambda: np.argmin(x, axis=0), [1, 0, 0]),
                      (lambda: np.argsort(x), [[1, 2, 0], [0, 1, 2]]),
                      (lambda: x.argsort(axis=None), [3, 1, 2, 0, 4, 5]),
                      (lambda: np.argsort(x, axis=0, stable=True), [[1, 0, 0], [0, 1, 1]])]:
        got = call()
        assert isinstance(got, ad.Tensor) and got.dtype.kind == "i"
        assert not got.requires_grad and got.tolist() == ref
    assert ad.argmax(x, axis=0, keepdims=True).shape == (1, 3)
    for name in ("argmax", "argmin", "argsort"):
        assert not registry.OPS[name].differentiable
        assert registry.NUMPY_FUNCTIONS[getattr(np, name)] is getattr(ad, name)
    with pytest.raises(ValueError, match="argsort: order="):
        ad.argsort(x, order="f")


# -- axes, empty inputs, refusals -----------------------------------------------------------

REDUCTIONS = {
    "sum": ad.sum, "prod": ad.prod, "mean": ad.mean, "max": ad.max, "min": ad.min,
    "nansum": ad.nansum, "nanmean": ad.nanmean, "nanmax": ad.nanmax, "nanmin": ad.nanmin,
    "ptp": ad.ptp, "median": ad.median, "average": ad.average, "logsumexp": ad.logsumexp,
    "quantile": lambda x, axis: ad.quantile(x, 0.5, axis=axis),
    "percentile": lambda x, axis: ad.percentile(x, 50, axis=axis),
    "nanmedian": ad.nanmedian, "nanquantile": lambda x, axis: ad.nanquantile(x, 0.5, axis=axis),
    "nanpercentile": lambda x, axis: ad.nanpercentile(x, 50, axis=axis),
    "cumsum": ad.cumsum, "cumprod": ad.cumprod, "argmax": ad.argmax, "argmin": ad.argmin,
    "argsort": ad.argsort,
}


@pytest.mark.parametrize("op", REDUCTIONS)
def test_a_bad_axis_raises_axis_error_naming_the_op(op):
    x = ad.ones((2, 3))
    with pytest.raises(AxisError, match=rf"^{op}: axis 2 is out of bounds for array of "
                                        "dimension 2"):
        REDUCTIONS[op](x, axis=2)


@pytest.mark.parametrize("op", ["sum", "prod", "mean", "nansum", "nanmean", "median",
                                "cumsum", "cumprod", "logsumexp", "average"])
def test_empty_inputs_give_numpys_values_and_warnings(op):
    x = np.zeros((0, 3))
    # NumPy's average over axis 1 (an empty result) divides by its size 0 even when it is
    # not asked for the count (ZeroDivisionError); ours returns the empty mean.
    for axis in (0, None) if op == "average" else (0, 1, None):
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            got = REDUCTIONS[op](t64(x), axis=axis)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            ref = (getattr(np, op)(x, axis=axis) if op != "logsumexp"
                   else np.log(np.sum(np.exp(x), axis=axis)))
        np.testing.assert_array_equal(got.data, ref)
        assert {str(w.message) for w in theirs if "Mean of empty" in str(w.message)} <= \
            {str(w.message) for w in ours}


def test_empty_inputs_without_an_identity_raise_as_numpy():
    x = t64(np.zeros((0, 3)))
    for op in ("max", "min", "nanmax", "nanmin", "ptp"):
        with pytest.raises(ValueError, match=rf"^{op}: reduction over an empty axis"):
            REDUCTIONS[op](x, axis=0)
        assert REDUCTIONS[op](x, axis=1).shape == (0,)
    assert ad.max(x, axis=0, initial=-1.0).tolist() == [-1.0, -1.0, -1.0]
    for op in ("quantile", "percentile"):
        with pytest.raises(IndexError, match=rf"^{op}: cannot take a {op} over an empty axis"):
            REDUCTIONS[op](x, axis=0)
    with pytest.raises(ValueError, match="attempt to get argmax of an empty sequence"):
        ad.argmax(x)


def test_unsupported_arguments_are_refused_clearly():
    x = t64([1.0, 2.0, 3.0])
    refusals = [
        (ValueError, r"quantile: method='inverted_cdf' is not supported; the supported "
                     r"methods are 'linear', 'lower'",
         lambda: np.quantile(x, 0.5, method="inverted_cdf")),
        (ValueError, r"percentile: weights= is not supported",
         lambda: ad.percentile(x, 50, weights=[1, 1, 1])),
        (ValueError, r"quantile: q must be in \[0, 1\], got 1.5", lambda: ad.quantile(x, 1.5)),
        (ValueError, r"percentile: q must be in \[0, 100\]",
         lambda: ad.percentile(x, [50, -1])),
        (TypeError, r"quantile: q gets no gradient", lambda: ad.quantile(x, t64(0.5))),
        (ValueError, r"max: where= needs initial=", lambda: ad.max(x, where=[True] * 3)),
        (TypeError, r"mean: dtype=int64 is not supported",
         lambda: np.mean(x, dtype=np.int64)),
        (TypeError, r"sum: dtype=complex128 is not supported",
         lambda: ad.sum(x, dtype=complex)),
        (TypeError, r"sum: dtype=True is not a NumPy dtype", lambda: ad.sum(x, 0, True)),
        (TypeError, r"prod: where= must be booleans", lambda: ad.prod(x, where=[1, 0, 1])),
        (ValueError, r"sum: where= of shape \(2,\) does not broadcast to the tensor's shape",
         lambda: ad.sum(x, where=[True, False])),
        (TypeError, r"sum: initial= gets no gradient", lambda: ad.sum(x, initial=t64(1.0))),
        (TypeError, r"nansum: initial= gets no gradient",
         lambda: np.nansum(x, initial=t64(1.0))),
        (ValueError, r"nanmean: where= of shape", lambda: np.nanmean(x, where=[True] * 2)),
        (ZeroDivisionError, r"average: the weights sum to zero",
         lambda: ad.average(x, weights=[1.0, -1.0, 0.0])),
        (TypeError, r"average: axis must be given", lambda: ad.average(x, weights=[1.0])),
        (ValueError, r"average: weights of shape \(2,\) do not fit",
         lambda: ad.average(x, axis=0, weights=[1.0, 2.0])),
        (TypeError, r"np\.sum on autodiff Tensors: .*'out'",
         lambda: np.sum(x, out=np.empty(()))),
        (TypeError, r"positional", lambda: ad.max(x, 0, True)),
    ]
    for error, message, call in refusals:
        with pytest.raises(error, match=message):
            call()


def test_0d_tensors_scan_as_numpy():
    x = t64(5.0)
    assert ad.cumsum(x).shape == np.cumsum(np.float64(5.0)).shape == (1,)
    assert ad.cumprod(x, axis=0).shape == (1,)
    assert ad.argsort(x).tolist() == [0]
    with pytest.raises(AxisError, match="cumsum: axis 1 is out of bounds for array of "
                                        "dimension 1"):
        ad.cumsum(x, axis=1)


def test_tensor_methods():
    x = t64([[1.0, 2.0], [3.0, 4.0]])
    assert x.prod().item() == 24.0 and x.cumsum(1).tolist() == [[1, 3], [3, 7]]
    assert x.cumprod().tolist() == [1, 2, 6, 24] and x.argmax().item() == 3
    assert x.logsumexp(axis=0).shape == (2,)


def test_nanvar_and_nanstd_as_numpy():
    data = np.array([[1.0, np.nan, 3.0, 6.0], [np.nan, np.nan, np.nan, np.nan]], np.float32)
    x = ad.tensor(data, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0 for slice"):
        v = np.nanvar(x, axis=1, ddof=1)  # NumPy's function reaches the engine's
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):
        want = np.nanvar(data, axis=1, ddof=1)
    assert v.dtype == np.float32
    np.testing.assert_allclose(v.data, want, rtol=1e-6)
    v[0].backward()
    # d/dx of sum((x - m)^2) / (n - 1) over the three numbers; 0 at the NaNs
    m = (1.0 + 3.0 + 6.0) / 3
    np.testing.assert_allclose(x.grad.data[0], [2 * (1 - m) / 2, 0, 2 * (3 - m) / 2,
                                                2 * (6 - m) / 2], rtol=1e-6)
    assert (x.grad.data[1] == 0).all()
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"):
        s = ad.nanstd(x, axis=1, keepdims=True)
    with pytest.warns(RuntimeWarning):
        np.testing.assert_allclose(s.data, np.nanstd(data, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(ad.nanstd(x[:1], correction=1).data, np.nanstd(data[:1], ddof=1),
                               rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op, ddof", [("nanvar", 0), ("nanvar", 1), ("var_where", 0),
                                      ("nanstd", 0), ("nanmean", 0)])
def test_backward_through_an_all_nan_slice_warns_nothing(op, ddof, dtype):
    # Before: the forward's warning was right (NumPy's), but the backward divided by the
    # slice's count 0 again ("divide by zero encountered in divide", "invalid value ...").
    data = np.array([[1.0, np.nan, 3.0, 6.0], [np.nan] * 4], dtype)
    keep = ~np.isnan(data)
    fns = {"nanvar": lambda t: np.nanvar(t, axis=1, ddof=ddof),
           "var_where": lambda t: t.var(axis=1, where=keep),
           "nanstd": lambda t: np.nanstd(t, axis=1),
           "nanmean": lambda t: np.nanmean(t, axis=1)}
    x = ad.tensor(data, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom|Mean of empty slice"):
        out = fns[op](x)  # the forward warns, as NumPy's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = ad.gradients(out.sum(), x, create_graph=True)
        if op != "nanmean":  # (linear: its gradient is a constant)
            ad.gradients(g.sum(), x)
    assert np.isnan(out.data[1]) and (g.data[1] == 0).all()
    row, m = np.array([1.0, 3.0, 6.0]), 10.0 / 3
    n = 3 - ddof
    want = {"nanvar": 2 * (row - m) / n, "var_where": 2 * (row - m) / n,
            "nanstd": (row - m) / (3 * np.sqrt(((row - m) ** 2).mean())),
            "nanmean": np.full(3, 1 / 3)}[op]
    np.testing.assert_allclose(out.data[0], {"nanstd": np.sqrt(((row - m) ** 2).mean()),
                                             "nanmean": m}.get(op, ((row - m) ** 2).sum() / n),
                               rtol=1e-6)
    np.testing.assert_allclose(g.data[0][keep[0]], want, rtol=1e-6)
    assert g.data[0][1] == 0
