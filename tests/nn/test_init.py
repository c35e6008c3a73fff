"""Initializers: statistics follow the formulas; dtype kept; seeded."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn


@pytest.mark.parametrize("fn, std", [
    (lambda w: nn.init.xavier_uniform_(w), math.sqrt(2 / (300 + 200))),
    (lambda w: nn.init.xavier_normal_(w), math.sqrt(2 / (300 + 200))),
    (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), math.sqrt(2 / 300)),
    (lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2 / 200)),
    (lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh")),
     5 / 3 * math.sqrt(2 / 500)),
])
def test_std_matches_formula(fn, std):
    ad.manual_seed(0)
    w = ad.zeros(200, 300)
    fn(w)
    assert w.dtype == np.float32
    assert abs(w.data.std() - std) / std < 0.03
    assert abs(w.data.mean()) < 0.1 * std


def test_simple_fills_and_gain():
    w = ad.zeros(3, 2, dtype="float64")
    assert (nn.init.ones_(w).data == 1).all() and w.dtype == np.float64
    assert (nn.init.constant_(w, 0.5).data == 0.5).all()
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.xavier_uniform_(ad.zeros(3))


def test_seeded():
    ad.manual_seed(3)
    a = nn.Linear(4, 4).weight.data.copy()
    ad.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 4).weight.data, a)
