"""Layers against NumPy references; train/eval behaviour; init defaults; bad input."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck


def test_linear_matches_numpy_and_course_orientation():
    layer = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    y = layer(ad.tensor(x))
    np.testing.assert_allclose(y.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-6)
    assert layer.weight.shape == (2, 3) and y.dtype == np.float32
    bound = 1 / np.sqrt(3)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound


def test_linear_wrong_feature_count_names_both_sizes():
    with pytest.raises(ValueError, match=r"4 features.*in_features=3"):
        nn.Linear(3, 2)(ad.ones((5, 4)))
    with pytest.raises(ValueError, match="positive"):
        nn.Linear(0, 2)


def test_flatten_identity():
    assert nn.Flatten()(ad.ones((2, 3, 4))).shape == (2, 12)
    assert nn.Flatten(0)(ad.ones((2, 3))).shape == (6,)
    x = ad.ones(3)
    assert nn.Identity()(x) is x


def test_flatten_axes_out_of_range_raise_axis_error():
    from numpy.exceptions import AxisError

    with pytest.raises(AxisError, match="flatten: axis 3 is out of bounds for array of "
                                        "dimension 2"):
        nn.Flatten(3)(ad.ones((2, 3)))  # wrapped around to axis 1 before
    with pytest.raises(AxisError, match="flatten: axis -4"):
        nn.Flatten(0, -4)(ad.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(ad.ones((2, 3, 4)))
    assert nn.Flatten(-2)(ad.ones((2, 3, 4))).shape == (2, 12)


def test_dropout_train_and_eval():
    ad.manual_seed(0)
    d = nn.Dropout(0.25)
    y = d(ad.ones(10000))
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    assert (d.eval()(ad.ones(5)).data == 1).all()
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.5)


def test_batchnorm1d_training_and_running_statistics():
    bn = nn.BatchNorm1d(2, momentum=0.1)
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]], np.float32)
    y = bn(ad.tensor(x))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y.data, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-6)
    bn.eval()
    y2 = bn(ad.tensor(x))
    expected = (x - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(y2.data, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="2 channels"):
        bn(ad.ones((3, 5)))


def test_batchnorm_and_layernorm_gradients():
    x = ad.tensor(np.random.default_rng(1).standard_normal((4, 3)))
    w = ad.tensor([1.0, 2.0, 0.5], dtype="float64")
    b = ad.tensor([0.1, 0.0, -0.1], dtype="float64")
    assert gradcheck(lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b,
                                                             training=True), x, w, b)
    assert gradcheck(lambda x, w, b: nn.functional.layer_norm(x, 3, w, b), x, w, b)


def test_batchnorm_fused_matches_the_composed_formula_to_second_order():
    rng = np.random.default_rng(2)
    x = ad.tensor(rng.standard_normal((3, 2, 2, 2)))
    w = ad.tensor(rng.standard_normal(2))
    b = ad.tensor(rng.standard_normal(2))
    mean = x.data.mean((0, 2, 3), keepdims=True)
    var = x.data.var((0, 2, 3), keepdims=True)
    expected = (x.data - mean) / np.sqrt(var + 1e-5) * w.data[:, None, None] + b.data[:, None, None]

    def f(x, w, b):
        return nn.functional.batch_norm(x, None, None, w, b, training=True)

    np.testing.assert_allclose(f(x, w, b).data, expected, rtol=1e-6, atol=1e-9)
    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)
    assert gradgradcheck(lambda x: nn.functional.batch_norm(x, None, None, training=True), x)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(2,\)"):
        f(x, ad.ones(3), b)


@pytest.mark.parametrize("affine", [False, True])
def test_batchnorm_output_written_in_place_leaves_the_gradient(affine):
    """y += 1 on the output (a non-leaf: written into its memory) changes no gradient; the
    normalized x that backward keeps must not be the output's memory (without weight and bias
    it was, and the gradient of x came out wrong by up to 3.2 here)."""
    rng = np.random.default_rng(3)
    x0, c = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    w = ad.tensor([1.0, 2.0, 0.5], dtype="float64") if affine else None
    b = ad.tensor([0.1, 0.0, -0.1], dtype="float64") if affine else None

    def grad_x(in_place):
        x = ad.tensor(x0, requires_grad=True)
        y = nn.functional.batch_norm(x, None, None, w, b, training=True)
        if in_place:
            y += 1.0
        (y * ad.tensor(c)).sum().backward()
        return x.grad.data

    np.testing.assert_allclose(grad_x(True), grad_x(False), atol=1e-12)


def test_layernorm_values():
    ln = nn.LayerNorm(3)
    x = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], np.float32)
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(ad.tensor(x)).data, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="normalized_shape"):
        ln(ad.ones((2, 4)))


@pytest.mark.parametrize("layer, ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.GELU(), lambda x: x * 0.5 * (1 + np.vectorize(__import__("math").erf)(x / np.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi)
                                                      * (x + 0.044715 * x ** 3)))),
    (nn.Softmax(axis=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(axis=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
])
def test_activation_modules(layer, ref):
    x = np.array([[-2.0, -0.5, 0.3, 1.7]])
    np.testing.assert_allclose(layer(ad.tensor(x)).data, ref(x), rtol=1e-6, atol=1e-7)
    assert gradcheck(layer, ad.tensor(x))
    assert layer(ad.tensor(x.astype(np.float32))).dtype == np.float32
