"""Edge cases a review found in batch normalization, fixed: an empty batch in training."""

import numpy as np
import pytest

import autodiff as ad
import nn


def test_batch_norm_of_an_empty_batch_in_training_is_empty():
    # PyTorch: an empty output, the running statistics untouched, zero parameter gradients
    bn = nn.BatchNorm2d(4)
    x = ad.zeros((0, 4, 3, 3), requires_grad=True)
    y = bn(x)
    assert y.shape == (0, 4, 3, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(bn.running_mean.data, 0.0)
    np.testing.assert_array_equal(bn.running_var.data, 1.0)
    y.sum().backward()
    assert x.grad.shape == (0, 4, 3, 3)
    np.testing.assert_array_equal(bn.weight.grad.data, 0.0)
    np.testing.assert_array_equal(bn.bias.grad.data, 0.0)
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn(ad.zeros((1, 4, 1, 1)))
