"""nn.init as PyTorch's where the audit found it short: calculate_gain for every name
PyTorch knows (selu, conv3d, the transposed convolutions) and its check of the slope;
kaiming and xavier on a tensor with no elements (ZeroDivisionError before: PyTorch warns and
returns it); orthogonal_, eye_, dirac_, trunc_normal_ (values or statistics against closed
forms and PyTorch)."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn

NAMES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]


def test_calculate_gain_for_every_name():
    gains = [nn.init.calculate_gain(n) for n in NAMES]
    assert gains == [1.0] * 8 + [5 / 3, math.sqrt(2), math.sqrt(2 / (1 + 0.01 ** 2)), 0.75]
    assert nn.init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    with pytest.raises(ValueError, match="negative_slope True is not a valid number"):
        nn.init.calculate_gain("leaky_relu", True)  # was taken as a slope of 1
    with pytest.raises(ValueError, match="negative_slope 'a' is not a valid number"):
        nn.init.calculate_gain("leaky_relu", "a")


def test_calculate_gain_equals_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for n in NAMES:
        assert nn.init.calculate_gain(n) == torch.nn.init.calculate_gain(n)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == \
        torch.nn.init.calculate_gain("leaky_relu", 0.2)


@pytest.mark.parametrize("fn", [nn.init.kaiming_uniform_, nn.init.kaiming_normal_,
                                nn.init.xavier_uniform_, nn.init.xavier_normal_])
def test_no_elements_is_a_no_op_with_pytorchs_warning(fn):
    for shape in [(3, 0), (0, 0), (2, 0, 3)]:
        t = ad.zeros(shape)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert fn(t) is t


def test_orthogonal_rows_or_columns_are_orthonormal():
    ad.manual_seed(0)
    for shape, gain in [((3, 5), 1.0), ((5, 3), 2.0), ((4, 2, 3, 3), 0.5)]:
        w = nn.init.orthogonal_(ad.zeros(shape, dtype=np.float64), gain=gain)
        flat = w.data.reshape(shape[0], -1)
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, gain ** 2 * np.eye(len(gram)), atol=1e-12)
    assert nn.init.orthogonal_(ad.zeros(3, 4)).dtype == np.float32
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more"):
        nn.init.orthogonal_(ad.zeros(3))
    # Q uniform over orthogonal matrices: each entry of a 2 x 2 has mean 0 over draws
    draws = np.stack([nn.init.orthogonal_(ad.zeros(2, 2, dtype=np.float64)).data
                      for _ in range(400)])
    assert np.abs(draws.mean(axis=0)).max() < 0.1


def test_eye_and_dirac_equal_pytorchs_values():
    assert nn.init.eye_(ad.ones(3, 2)).tolist() == [[1, 0], [0, 1], [0, 0]]
    w = nn.init.dirac_(ad.ones(4, 2, 3, 3), groups=2)
    expected = np.zeros((4, 2, 3, 3))
    expected[0, 0, 1, 1] = expected[1, 1, 1, 1] = expected[2, 0, 1, 1] = expected[3, 1, 1, 1] = 1
    assert np.array_equal(w.data, expected)
    with pytest.raises(ValueError, match="dirac_: dim 0 \\(4\\) must be divisible by groups"):
        nn.init.dirac_(ad.zeros(4, 2, 3), groups=3)
    with pytest.raises(ValueError, match="eye_: only 2-d"):
        nn.init.eye_(ad.zeros(2, 2, 2))
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for shape, groups in [((4, 2, 3, 3), 2), ((3, 5, 2), 1), ((6, 1, 3, 2, 2), 3)]:
        ours = nn.init.dirac_(ad.ones(shape), groups=groups).data
        assert np.array_equal(ours, torch.nn.init.dirac_(torch.ones(shape), groups).numpy())
    assert np.array_equal(nn.init.eye_(ad.ones(2, 4)).data,
                          torch.nn.init.eye_(torch.ones(2, 4)).numpy())


def test_trunc_normal_moments_equal_the_closed_form():
    ad.manual_seed(0)
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    w = nn.init.trunc_normal_(ad.zeros(200_000, dtype=np.float64), mean, std, a, b).data
    assert w.min() >= a and w.max() <= b
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (alpha, beta)]
    z = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    m = mean + std * (pdf[0] - pdf[1]) / z
    var = std ** 2 * (1 + (alpha * pdf[0] - beta * pdf[1]) / z - ((pdf[0] - pdf[1]) / z) ** 2)
    assert abs(w.mean() - m) < 0.01 and abs(w.var() - var) / var < 0.01
    assert nn.init.trunc_normal_(ad.zeros(10)).dtype == np.float32
    with pytest.raises(ValueError, match="trunc_normal_: needs std > 0 and a < b"):
        nn.init.trunc_normal_(ad.zeros(3), a=2.0, b=-2.0)
    with pytest.raises(ValueError, match="holds no probability"):
        nn.init.trunc_normal_(ad.zeros(3), mean=0.0, std=1.0, a=50.0, b=60.0)
