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
