"""detect_anomaly names the op that made the first NaN/inf, and the user's line."""

import pytest

import autodiff as ad


def test_forward_nan_names_the_op_and_the_line():
    x = ad.tensor([-1.0, 2.0], requires_grad=True)
    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        ad.log(x)  # the line the error must name
    msg = str(info.value)
    assert "'log'" in msg and "nan" in msg
    assert "test_anomaly.py" in msg and "ad.log(x)" in msg


def test_backward_inf_names_the_op_whose_backward_made_it():
    x = ad.tensor([0.0, 4.0], requires_grad=True)
    with ad.detect_anomaly():
        y = ad.sqrt(x)  # finite forward; its backward divides by 0
        with pytest.raises(FloatingPointError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "backward of 'sqrt'" in msg and "inf" in msg
    assert "test_anomaly.py" in msg


def test_off_by_default():
    assert not ad.is_anomaly_enabled()
    x = ad.tensor([-1.0], requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = ad.log(x)
    assert y.data[0] != y.data[0]  # nan, no error
