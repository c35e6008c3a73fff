"""Reductions of small integer and boolean tensors give NumPy's values: var and std do not
wrap around in uint8 / int8 (images, labels), and an initial= that the result's integer dtype
cannot hold is refused, as NumPy refuses it, rather than wrapped."""

import numpy as np
import pytest

import autodiff as ad

SMALL = [np.array([3, 0], np.uint8), np.array([100, -100], np.int8),
         np.array([[0, 255], [255, 0]], np.uint8), np.array([True, False, False])]


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("x", SMALL, ids=lambda x: f"{x.dtype}{x.shape}")
def test_var_and_std_of_small_integers_and_booleans_equal_numpys(op, x):
    for kw in ({}, {"axis": 0}, {"ddof": 1}):
        out = getattr(ad, op)(ad.tensor(x), **kw)
        np.testing.assert_allclose(out.numpy(), getattr(np, op)(x, **kw), rtol=1e-6)
        assert out.dtype.kind == "f"


@pytest.mark.parametrize("op, x, initial", [
    ("max", np.array([1, 2], np.uint8), -9),
    ("min", np.array([100], np.uint8), 300),
    ("sum", np.array([1, 2], np.uint8), -9),
    ("prod", np.array([1, 2], np.uint8), -1),
    ("max", np.array([1, 2], np.int8), 1000),
])
def test_an_initial_out_of_the_integer_results_range_is_refused(op, x, initial):
    with pytest.raises(OverflowError, match=rf"^{op}: initial={initial} is out of range"):
        getattr(ad, op)(ad.tensor(x), initial=initial)
    with pytest.raises(OverflowError):  # as NumPy
        getattr(np, op)(x, initial=initial)


def test_an_initial_in_range_or_a_float_is_cast_as_numpy_casts_it():
    x = np.array([1, 2], np.uint8)
    assert ad.sum(ad.tensor(x), initial=300).item() == np.sum(x, initial=300) == 303
    assert ad.max(ad.tensor(np.array([1, 2])), initial=2.5).item() == 2  # NumPy truncates
    assert ad.max(ad.tensor(x), initial=np.uint8(7)).item() == 7
