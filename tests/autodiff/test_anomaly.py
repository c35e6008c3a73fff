"""detect_anomaly names the op that made the first NaN/inf, and the user's line."""

import numpy as np
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


def test_forward_error_gives_the_line_number():
    import inspect

    x = ad.tensor([0.0], requires_grad=True)
    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        line = inspect.currentframe().f_lineno + 1
        _ = x / 0.0
    assert f"test_anomaly.py:{line}" in str(info.value) or f"line {line}" in str(info.value)


def test_finite_backward_with_two_leaf_inputs_passes_and_matches():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([3.0, -1.0], requires_grad=True)
    with ad.detect_anomaly():
        (x.exp() * w).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([1.0, 2.0]) * [3.0, -1.0], rtol=1e-6)
    np.testing.assert_allclose(w.grad.data, np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_names_the_input_that_got_the_inf():
    class BadSecond(ad.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad / 0.0  # the second input's gradient is inf

    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([0.0, 1.0], requires_grad=True)
    with ad.detect_anomaly():
        y = BadSecond.apply(x, w)
        with pytest.raises(FloatingPointError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "backward of 'badsecond'" in msg and "input 1" in msg and "(2,)" in msg
    assert "test_anomaly.py" in msg


def test_forward_of_a_user_function_called_directly_names_the_caller():
    class Inf(ad.Function):
        @staticmethod
        def forward(ctx, a):
            return a / 0.0

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = ad.tensor([1.0], requires_grad=True)
    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        Inf.apply(x)  # this line
    assert "test_anomaly.py" in str(info.value) and "Inf.apply(x)  # this line" in str(info.value)


def test_a_scope_is_named_in_the_forward_and_the_backward_error():
    x = ad.tensor([0.0, 4.0], requires_grad=True)
    with ad.detect_anomaly():
        with ad.anomaly_scope("encoder"), ad.anomaly_scope("encoder.norm"):
            y = ad.sqrt(x)  # finite; its backward divides by 0
        with pytest.raises(FloatingPointError) as info:
            y.sum().backward()  # outside the scope: the one the op was made in is named
        assert str(info.value).endswith("y = ad.sqrt(x)  # finite; its backward divides by 0 "
                                        "[in encoder.norm]")
        with ad.anomaly_scope("decoder"), pytest.raises(FloatingPointError) as info:
            ad.log(-x)
        assert str(info.value).endswith("ad.log(-x) [in decoder]")


def test_a_registered_library_is_skipped_when_naming_the_users_line(tmp_path):
    import importlib.util

    lib = tmp_path / "mylib"
    lib.mkdir()
    (lib / "layers.py").write_text("import autodiff as ad\n\n\ndef layer(x):\n"
                                   "    return ad.log(x)\n")
    spec = importlib.util.spec_from_file_location("mylib_layers", lib / "layers.py")
    layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(layers)
    x = ad.tensor([-1.0], requires_grad=True)
    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        layers.layer(x)  # before registering: the library's line
    assert "return ad.log(x)" in str(info.value)
    ad.register_library(str(lib))
    with ad.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        layers.layer(x)  # after: this line
    assert "test_anomaly.py" in str(info.value) and "layers.layer(x)  # after" in str(info.value)


def test_the_users_frame_skips_nn_and_falls_back_when_all_is_library_code():
    import os
    import traceback

    import nn
    from autodiff.function import _user_frame

    def frame(filename, line):
        return traceback.FrameSummary(filename, 7, "f", line=line)

    nn_file = os.path.join(os.path.dirname(nn.__file__), "functional", "linear.py")
    engine = frame(ad.function.__file__, "out = cls.forward(ctx, *arrays, **kwargs)")
    layer = frame(nn_file, "return Affine.apply(x, weight, bias)")
    user = frame("/home/me/train.py", "out = model(x)")
    assert _user_frame([user, layer, engine]) == "/home/me/train.py:7: out = model(x)"
    runpy = frame("<frozen runpy>", "exec(code, run_globals)")  # python -m nn.vision ...
    assert _user_frame([runpy, layer, engine]).endswith("return Affine.apply(x, weight, bias)")
