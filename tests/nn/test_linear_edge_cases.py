"""F.linear at its edges, as PyTorch's: no input features (in_features = 0: the output is the
bias; NumPy's reshape to -1 raised), and a weight that is not 2-d (an IndexError before)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck


@pytest.mark.parametrize("shape", [(2, 0), (0,), (3, 2, 0)])
def test_no_input_features_gives_the_bias(shape):
    x = ad.tensor(np.ones(shape), requires_grad=True)
    w = ad.tensor(np.ones((4, 0)), requires_grad=True)
    b = ad.tensor(np.arange(4.0), requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.data, np.broadcast_to(np.arange(4.0), (*shape[:-1], 4)))
    y.sum().backward()
    assert x.grad.shape == shape and w.grad.shape == (4, 0)
    np.testing.assert_array_equal(b.grad.data, np.full(4, np.prod(shape[:-1])))


def test_an_empty_batch_with_features():
    assert gradcheck(F.linear, ad.tensor(np.ones((0, 3))), ad.tensor(np.ones((2, 3))),
                     ad.tensor(np.ones(2)))


def test_a_weight_that_is_not_2d_is_refused_by_name():
    with pytest.raises(ValueError, match=r"linear: weight must be 2-d \(out_features, "
                                         r"in_features\), got shape \(3,\)"):
        F.linear(ad.ones((4, 3)), ad.ones(3))
