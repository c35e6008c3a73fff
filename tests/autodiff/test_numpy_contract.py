"""Regression tests of the audit of the NumPy-breadth ops against NumPy 2 (values, dtypes,
shapes) and PyTorch (gradients at special points). Each test failed before its fix."""

import numpy as np
import pytest

import autodiff as ad


@pytest.mark.parametrize("op", ["sum", "prod", "cumsum", "cumprod", "nansum"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.bool_])
def test_an_integer_dtype_keyword_gives_that_dtype_wrapped_as_numpys(op, dtype):
    # sum(uint8 [200, 100], dtype=uint8) was 300 as uint64; NumPy's is 44 as uint8.
    x = np.array([[200, 100, 7], [3, 0, 255]], np.uint8)
    for axis in (None, 0, 1):
        out = getattr(ad, op)(ad.tensor(x), axis=axis, dtype=dtype)
        expected = getattr(np, op)(x, axis=axis, dtype=dtype)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out.numpy(), expected)


def test_an_integer_dtype_keyword_applies_before_initial():
    x = np.array([200, 100], np.uint8)
    out = ad.sum(ad.tensor(x), dtype=np.uint8, initial=250)
    assert out.dtype == np.uint8 and out.item() == np.sum(x, dtype=np.uint8, initial=250) == 38


@pytest.mark.parametrize("other", [np.int8, np.uint8, np.bool_, np.int64])
def test_float16_divided_by_an_integer_tensor_stays_float16(other):
    # float16 / int8 was float32 (the integer became the default float32 first).
    x = ad.tensor(np.array([1.0, 3.0], np.float16), requires_grad=True)
    k = ad.tensor(np.array([2, 1], other))
    for out in (x / k, k / x):
        assert out.dtype == np.float16
        out.sum().backward()
        assert x.grad.dtype == np.float16
    np.testing.assert_array_equal((x / k).data, x.data / k.data)
    assert (ad.tensor(np.array([3], np.int8)) / k).dtype == np.float32  # no float: the default


def test_float16_mean_var_and_std_are_computed_in_float32_and_rounded_once():
    # A float16 sum of 65504 + 65504 is inf: mean was inf (NumPy's is 65504, computed in
    # float32); var and std summed their squares in float16 (NumPy's std of these 12,000
    # values near 10 is inf too; PyTorch's is computed in float32).
    big = ad.tensor(np.array([65504, 65504], np.float16))
    assert ad.mean(big).item() == 65504 and ad.nanmean(big).item() == 65504
    a = (np.random.default_rng(0).standard_normal(12000) + 10).astype(np.float16)
    for op in ("mean", "var", "std"):
        out = getattr(ad, op)(ad.tensor(a))
        exact = getattr(np, op)(a.astype(np.float64))
        assert out.dtype == np.float16
        assert abs(out.item() - exact) <= np.spacing(np.float16(exact))
    x = ad.tensor(a[:6].reshape(2, 3), requires_grad=True)
    (ad.mean(x) + ad.std(x, axis=1).sum() + ad.nanmean(x, axis=0).sum()).backward()
    assert x.grad.dtype == np.float16


@pytest.mark.parametrize("op", ["tril", "triu"])
def test_tril_and_triu_keep_a_boolean_tensors_dtype(op):
    # They filled with the int 0, so a bool mask came back int64.
    m = np.array([[True, True, False], [True, True, True]])
    for a in (m, m[0]):
        out = getattr(ad, op)(ad.tensor(a))
        assert out.dtype == bool
        np.testing.assert_array_equal(out.numpy(), getattr(np, op)(a))


def test_abs_of_booleans_is_themselves_as_numpys():
    # It raised a UFuncTypeError from np.sign.
    m = np.array([True, False])
    out = ad.abs(ad.tensor(m))
    assert out.dtype == bool and out.numpy().tolist() == [True, False]
    assert np.abs(ad.tensor(m)).dtype == np.abs(m).dtype


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_a_nan_result_of_maximum_and_minimum_sends_its_gradient_to_the_nan_input(op):
    # maximum(nan, 1) is the NaN, but its gradient went to the 1 (and maximum(1, nan)'s to
    # the NaN): the side decided it. PyTorch gives the whole gradient to both inputs.
    nan = np.nan
    a = ad.tensor([nan, 1.0, nan, 2.0], requires_grad=True)
    b = ad.tensor([1.0, nan, nan, 2.0], requires_grad=True)
    out = getattr(ad, op)(a, b)
    np.testing.assert_array_equal(out.data, getattr(np, op)(a.data, b.data))
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 1.0, 0.5])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 1.0, 0.0, 0.5])


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the empty slices' (NumPy's too)
def test_var_and_std_take_numpy_2s_keywords(op):
    # dtype=, where= and correction= were refused; np.var(t, 1, np.float32) passed the dtype
    # as keepdims (NumPy's third positional argument is dtype), silently keeping the axis.
    a = np.array([[1.0, 2.0, 4.0, 8.0], [3.0, -1.0, 0.5, 2.0], [5.0, 5.0, 6.0, 0.0]])
    mask = np.array([[True, True, False, True], [True, False, False, False],
                     [False, False, False, False]])
    f, g = getattr(ad, op), getattr(np, op)
    for axis in (None, 0, 1):
        for kw in ({"where": mask}, {"where": mask, "ddof": 1, "keepdims": True},
                   {"correction": 1}, {"dtype": np.float32}, {"where": mask[0]}):
            out = f(ad.tensor(a), axis=axis, **kw)
            expected = g(a, axis=axis, **kw)
            assert out.dtype == expected.dtype and out.shape == expected.shape
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert g(ad.tensor(a), 1, np.float32).shape == (3,)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0 for slice"):
        f(ad.tensor(a), axis=1, where=mask, ddof=1)  # rows of 1 and 0 elements, as NumPy
    with pytest.raises(ValueError, match=rf"^{op}: ddof=1 and correction=1 can't be provided"):
        f(ad.tensor(a), ddof=1, correction=1)
    with pytest.raises(TypeError, match=rf"^{op}: dtype=True is not a NumPy dtype"):
        f(ad.tensor(a), 0, True)  # PyTorch's unbiased=True, positionally: refused, not kept


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_and_std_with_where_have_gradients_to_second_order(op):
    from autodiff.testing import gradcheck, gradgradcheck

    a = ad.tensor(np.array([[1.0, 2.5, 4.0], [3.0, -1.0, 0.5]]), requires_grad=True)
    mask = np.array([[True, False, True], [True, True, True]])
    fn = lambda x: getattr(ad, op)(x, axis=1, where=mask, ddof=1)  # noqa: E731
    assert gradcheck(fn, a) and gradgradcheck(fn, a)


def test_concatenate_with_axis_none_flattens_0d_tensors_too():
    # It refused them ("zero-dimensional arrays cannot be concatenated"); NumPy flattens first.
    a, b = np.array(1.5), np.array([2.0, 3.0])
    out = ad.concatenate([ad.tensor(a), ad.tensor(b)], axis=None)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b], axis=None))
    with pytest.raises(ValueError, match="zero-dimensional arrays cannot be concatenated"):
        ad.concatenate([ad.tensor(a), ad.tensor(a)])  # along an axis: refused, as NumPy


@pytest.mark.parametrize("call", [lambda x: x.sum(True), lambda x: ad.argmax(x, True),
                                  lambda x: x.cumsum(True), lambda x: x.mean(axis=(0, True))])
def test_a_boolean_axis_is_refused_as_numpy_refuses_it(call):
    # x.sum(True) summed over axis 1 (True == 1 to Python); NumPy raises TypeError.
    with pytest.raises(TypeError, match="an axis must be an integer, got True"):
        call(ad.ones((2, 3)))


def test_arange_with_only_a_start_and_a_step_takes_the_step():
    # ad.arange(5, step=2) was [0, 1, 2, 3, 4]: the step was dropped when stop was not given.
    assert ad.arange(5, step=2).tolist() == np.arange(5, step=2).tolist() == [0, 2, 4]
    assert ad.arange(3.0, step=1.5).tolist() == [0.0, 1.5]


def test_eye_takes_numpys_k():
    # eye(3, k=1) was a TypeError; np.eye's third argument is k.
    for args, kw in (((3,), {"k": 1}), ((2, 4, -1), {}), ((3, 2), {"k": 5})):
        np.testing.assert_array_equal(ad.eye(*args, **kw).numpy(), np.eye(*args, **kw))
    assert ad.eye(2, dtype="float64").dtype == np.float64


def test_clip_of_integers_to_fractional_bounds_is_floating():
    # clip([2, 3, 0], 0.5, 2.5) was [2, 2, 0] (int64): the bounds were truncated to the
    # tensor's dtype. NumPy's and PyTorch's are [2.0, 2.5, 0.5].
    i = np.array([2, 3, 0])
    out = ad.clip(ad.tensor(i), 0.5, 2.5)
    assert out.dtype == np.float32  # an integer tensor meeting a Python float (dtype rules)
    np.testing.assert_array_equal(out.numpy(), np.clip(i, 0.5, 2.5))
    assert ad.tensor(i).clip(max=1.5).tolist() == [1.5, 1.5, 0.0]
    assert ad.clip(ad.tensor(i), np.array([0.5, 1.0, 1.0]), None).dtype == np.float64
    out = ad.clip(ad.tensor(i), 0, 2)  # integer bounds: still integers
    assert out.dtype == i.dtype and out.tolist() == [2, 2, 0]


def test_numpys_out_argument_is_refused_by_its_name_and_out_none_is_accepted():
    # np.add(t, 1, out=o) said "np.add is not supported" (it is; out= is not), and
    # np.sum(t, out=None), NumPy's default written out, was refused.
    t = ad.tensor([1.0, 2.0], requires_grad=True)
    message = r"on autodiff Tensors: the argument 'out' is not supported"
    for call in (lambda: np.add(t, 1, out=np.zeros(2)), lambda: np.sum(t, out=np.zeros(())),
                 lambda: np.add.reduce(t, out=np.zeros(())),
                 lambda: np.clip(t, 0, 1, out=np.zeros(2))):
        with pytest.raises(TypeError, match=message):
            call()
    assert np.sum(t, out=None).item() == np.mean(t, axis=0, out=None).item() * 2 == 3.0


def test_reshape_takes_numpys_order_and_copy():
    # np.reshape(t, shape, order="F") was a TypeError (ravel took order=, reshape did not).
    from autodiff.testing import gradcheck

    a = np.arange(24.0).reshape(2, 3, 4)
    for t in (ad.tensor(a), ad.tensor(a).transpose(2, 0, 1), ad.tensor(a)[:, ::2]):
        for shape in ((-1,), (2, -1), (2, 2, -1)):
            for order in "CFA":
                expected = np.reshape(t.data, shape, order=order)
                np.testing.assert_array_equal(ad.reshape(t, shape, order=order).data, expected)
                np.testing.assert_array_equal(np.reshape(t, shape, order=order).data, expected)
                np.testing.assert_array_equal(t.reshape(*shape, order=order).data, expected)
    weights = ad.tensor(np.arange(24.0).reshape(4, 6))
    assert gradcheck(lambda x: ad.reshape(x, (4, 6), order="F") * weights,
                     ad.tensor(a, requires_grad=True))
    t = ad.tensor(a)
    ad.reshape(t, (24,), copy=True).data[0] = 99.0
    assert t.data[0, 0, 0] == 0.0
    with pytest.raises(ValueError, match=r"^reshape: copy=False, but the tensor of shape"):
        ad.reshape(t.transpose(), (24,), copy=False)
    with pytest.raises(ValueError, match=r"^reshape: order must be 'C', 'F' or 'A', got 'K'"):
        ad.reshape(t, (24,), order="K")


@pytest.mark.parametrize("method", ["weibull", "hazen", "median_unbiased", "normal_unbiased",
                                    "interpolated_inverted_cdf"])
def test_quantile_takes_numpys_continuous_methods(method):
    # They were refused ("method='hazen' is not supported").
    from autodiff.testing import gradcheck

    x = np.random.default_rng(0).standard_normal((3, 5))
    for q in (0.0, 0.05, 0.5, 0.93, 1.0, [0.2, 0.8]):
        for axis in (None, 1):
            out = ad.quantile(ad.tensor(x), q, axis=axis, method=method)
            np.testing.assert_allclose(out.data, np.quantile(x, q, axis=axis, method=method))
    assert gradcheck(lambda t: ad.quantile(t, [0.05, 0.6], axis=1, method=method),
                     ad.tensor(x, requires_grad=True))
    np.testing.assert_allclose(ad.percentile(ad.tensor(x), 33, method=method).data,
                               np.percentile(x, 33, method=method))
    with pytest.raises(ValueError, match="method='inverted_cdf' is not supported"):
        ad.quantile(ad.tensor(x), 0.5, method="inverted_cdf")


UNARY = ["abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "cbrt", "ceil",
         "cos", "cosh", "deg2rad", "exp", "exp2", "expm1", "floor", "log", "log1p", "log2",
         "log10", "rad2deg", "rint", "sign", "sin", "sinc", "sinh", "sqrt", "tan", "tanh",
         "trunc"]
DTYPES = [np.float16, np.float32, np.float64, np.int8, np.uint8, np.int16, np.int64, np.bool_]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and inf outside the domains
@pytest.mark.parametrize("op", UNARY)
def test_unary_ops_give_numpys_values_and_dtypes(op):
    # A seeded sweep over dtypes and shapes (0-d and empty included): the audit's fuzz, kept.
    rng = np.random.default_rng(sum(map(ord, op)))
    for dtype in DTYPES:
        for shape in [(), (0,), (2, 3)]:
            a = rng.standard_normal(shape) * 3
            a = (np.abs(a) if dtype in (np.uint8, np.bool_) else a).astype(dtype)
            try:
                expected = getattr(np, op)(a)
            except TypeError:  # NumPy has no loop for it: neither has the engine
                with pytest.raises(TypeError):
                    getattr(ad, op)(ad.tensor(a))
                continue
            out = getattr(ad, op)(ad.tensor(a))
            assert out.dtype == expected.dtype, (dtype, shape)
            np.testing.assert_allclose(out.data.astype(float), expected.astype(float),
                                       rtol=2e-3 if dtype == np.float16 else 1e-6)


def test_add_and_sub_with_alpha_keep_a_constant_a_weak_scalar():
    # x64.add(0.1, alpha=3) was 1.3000000119 (0.1 * 3 made a float32 tensor first), and
    # x32.add(np.float64(1), alpha=2) a float64 result: a float32 graph turned float64.
    x = ad.tensor(np.array([1.0]))
    assert x.add(0.1, alpha=3).item() == 1.0 + 0.1 * 3
    assert x.sub(0.1, alpha=3).item() == 1.0 - 0.1 * 3
    x32 = ad.tensor([1.0], requires_grad=True)
    for other in (np.float64(1.0), np.array([0.5]), [0.5], 2.0):
        assert x32.add(other, alpha=2).dtype == np.float32
        assert x32.sub(other, alpha=2).dtype == np.float32
    a = ad.tensor(2.0, requires_grad=True)
    x32.add(ad.tensor([3.0]), alpha=a).sum().backward()  # a tensor alpha: a recorded product
    assert a.grad.item() == 3.0


def test_constants_joined_with_tensors_take_the_tensors_dtype():
    # concatenate([x64, [0.1]]) held 0.10000000149 (the list became float32 first), and a
    # float64 array joined to a float32 tensor made the result float64.
    x = ad.tensor(np.array([1.0]))
    assert ad.concatenate([x, [0.1]]).data[1] == 0.1
    assert ad.stack([ad.tensor(np.array(1.0)), 0.1]).data[1] == 0.1
    x32 = ad.tensor([1.0, 2.0], requires_grad=True)
    for join in (ad.concatenate, ad.hstack, ad.vstack, ad.dstack, ad.column_stack, ad.stack):
        out = join([x32, np.array([0.5, 0.25])])
        assert out.dtype == np.float32
        out.sum().backward()
        assert x32.grad.dtype == np.float32
        x32.grad = None
