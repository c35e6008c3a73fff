"""Axis arguments: out of range raises NumPy's AxisError naming the op, the axis and the number
of dimensions, for every op that takes an axis; a repeated axis raises ValueError; 0-d inputs
to concatenate, pad and split fail (or not) as NumPy does."""

import numpy as np
import pytest
from numpy.exceptions import AxisError

import autodiff as ad

X = ad.ones((2, 3))

OUT_OF_RANGE = [
    ("sum", lambda: ad.sum(X, axis=2), 2),
    ("sum", lambda: X.sum(axis=(0, -3)), -3),
    ("mean", lambda: X.mean(axis=5), 5),
    ("var", lambda: X.var(axis=-3), -3),
    ("std", lambda: X.std(axis=2), 2),
    ("max", lambda: X.max(axis=2), 2),
    ("min", lambda: X.min(axis=(2,)), 2),
    ("logsumexp", lambda: ad.logsumexp(X, axis=2), 2),
    ("softmax", lambda: ad.softmax(X, axis=2), 2),
    ("log_softmax", lambda: ad.log_softmax(X, axis=-3), -3),
    ("transpose", lambda: ad.transpose(ad.ones((2, 3, 4)), (0, 4, 2)), 4),
    ("swapaxes", lambda: ad.swapaxes(X, 0, 2), 2),
    ("expand_dims", lambda: ad.expand_dims(X, 3), 3),
    ("squeeze", lambda: ad.squeeze(ad.ones((1, 3)), 2), 2),
    ("concatenate", lambda: ad.concatenate([X, X], axis=2), 2),
    ("stack", lambda: ad.stack([X, X], axis=3), 3),
    ("stack", lambda: ad.stack([X, X], axis=-4), -4),
    ("split", lambda: ad.split(X, 2, axis=3), 3),
    ("split", lambda: np.split(X, 2, axis=-3), -3),
]


@pytest.mark.parametrize("op, call, axis", OUT_OF_RANGE,
                         ids=[f"{op}-{i}" for i, (op, _, _) in enumerate(OUT_OF_RANGE)])
def test_out_of_range_axis_raises_axis_error_naming_the_op(op, call, axis):
    with pytest.raises(AxisError, match=rf"^{op}: axis {axis} is out of bounds for array of "
                                        r"dimension \d"):
        call()


def test_the_two_silent_wrong_answers():
    # split wrapped around (axis 3 % 2 == 1) and transpose ignored the bad axis
    with pytest.raises(AxisError, match="dimension 2"):
        ad.split(ad.ones((2, 2)), 2, axis=3)
    with pytest.raises(AxisError, match="dimension 3"):
        ad.ones((2, 3, 4)).transpose((0, 4, 2))


@pytest.mark.parametrize("call", [
    lambda: X.sum(axis=(0, -2)),
    lambda: X.mean(axis=(1, 1)),
    lambda: ad.expand_dims(X, (0, 0)),
    lambda: ad.squeeze(ad.ones((1, 1)), (0, -2)),
    lambda: ad.transpose(X, (1, 1)),
])
def test_repeated_axis_raises_value_error(call):
    with pytest.raises(ValueError, match="repeated axis"):
        call()


def test_transpose_needs_a_permutation_of_every_axis():
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 1\) .* 3 axes"):
        ad.ones((2, 3, 4)).transpose((0, 1))


def test_an_axis_must_be_an_integer():
    with pytest.raises(TypeError, match="sum: axis must be an integer"):
        X.sum(axis=0.5)


def _numpy_error(call):
    try:
        call()
    except Exception as e:  # the type is what we compare
        return type(e)
    return None


@pytest.mark.parametrize("ours, numpys", [
    (lambda: ad.concatenate([ad.tensor(1.0), ad.tensor(2.0)]),
     lambda: np.concatenate([np.array(1.0), np.array(2.0)])),
    (lambda: ad.split(ad.tensor(1.0), 2), lambda: np.split(np.array(1.0), 2)),
    (lambda: ad.split(ad.tensor(1.0), [1]), lambda: np.split(np.array(1.0), [1])),
    (lambda: ad.pad(ad.tensor(1.0), ((1, 1), (1, 1))),
     lambda: np.pad(np.array(1.0), ((1, 1), (1, 1)))),
])
def test_zero_dim_inputs_fail_as_numpy(ours, numpys):
    expected = _numpy_error(numpys)
    assert expected is not None
    with pytest.raises(expected) as info:
        ours()
    assert "tuple index" not in str(info.value) and "modulo" not in str(info.value)


def test_zero_dim_concatenate_names_the_op():
    with pytest.raises(ValueError, match="concatenate: zero-dimensional"):
        ad.concatenate([ad.tensor(1.0), ad.tensor(2.0)])


def test_zero_dim_pad_is_a_copy_as_numpy():
    x = ad.tensor(1.5, requires_grad=True)
    for width in (1, ((1, 1),), 0):
        y = ad.pad(x, width)
        assert y.shape == np.pad(np.array(1.5), width).shape == ()
        assert y.item() == 1.5
    ad.pad(x, 2).backward()
    assert x.grad.item() == 1.0


def test_reductions_of_a_zero_dim_tensor_accept_axis_0_and_minus_1_as_numpy():
    x = ad.tensor(2.0)
    for axis in (0, -1):
        assert x.sum(axis=axis).item() == np.sum(np.array(2.0), axis=axis) == 2.0
        assert x.max(axis=axis).item() == 2.0
    for axis in (1, (0,)):
        assert _numpy_error(lambda: np.sum(np.array(2.0), axis=axis)) is AxisError  # noqa: B023
        with pytest.raises(AxisError, match="sum: axis"):
            x.sum(axis=axis)


def test_negative_and_tuple_axes_still_work():
    x = ad.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(x.sum(axis=(-1, 0)).data, x.data.sum(axis=(-1, 0)))
    assert ad.swapaxes(x, -1, 0).shape == (4, 3, 2)
    assert ad.expand_dims(x, (0, -1)).shape == np.expand_dims(x.data, (0, -1)).shape
    assert ad.squeeze(ad.ones((1, 3, 1)), -1).shape == (1, 3)
    assert ad.stack([x, x], axis=-1).shape == (2, 3, 4, 2)
    assert [t.shape for t in ad.split(x, 2, axis=-3)] == [(1, 3, 4), (1, 3, 4)]
    assert ad.concatenate([x, x], axis=-2).shape == (2, 6, 4)
    assert ad.softmax(x, axis=-3).shape == (2, 3, 4)
