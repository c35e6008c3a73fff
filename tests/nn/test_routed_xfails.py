"""Bugs found in files another engineer owns, each as a test that fails today (strict xfail:
it turns into a failure the day the bug is fixed, so the mark is removed with the fix)."""

import numpy as np
import pytest

import autodiff as ad
import nn


@pytest.mark.xfail(strict=True, reason="batch_norm(training=True) refuses an empty batch "
                                       "('needs more than one value per channel'); PyTorch "
                                       "returns an empty output and leaves the running stats")
def test_batch_norm_of_an_empty_batch_in_training_is_empty():
    bn = nn.BatchNorm2d(4)
    y = bn(ad.zeros((0, 4, 3, 3)))
    assert y.shape == (0, 4, 3, 3)
    np.testing.assert_array_equal(bn.running_mean.data, 0.0)
    np.testing.assert_array_equal(bn.running_var.data, 1.0)
