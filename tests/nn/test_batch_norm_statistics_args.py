"""F.batch_norm's running statistics, as PyTorch's: evaluation (training=False) needs them (it
normalized with the batch's statistics silently), and they are given both or neither (one of
them alone was ignored in training and raised AttributeError in evaluation)."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

X = ad.tensor(np.random.default_rng(0).standard_normal((4, 3)))


def test_evaluation_needs_the_running_statistics():
    with pytest.raises(ValueError, match=r"batch_norm: evaluation \(training=False\) "
                                         r"normalizes with the running statistics"):
        F.batch_norm(X, None, None)


@pytest.mark.parametrize("training", [False, True])
def test_running_statistics_come_in_pairs(training):
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var must both "
                                         r"be given or both be None, got running_mean=a "
                                         r"tensor of shape \(3,\) and running_var=None"):
        F.batch_norm(X, ad.zeros(3), None, training=training)
    with pytest.raises(ValueError, match=r"running_mean=None and running_var=a tensor"):
        F.batch_norm(X, None, ad.ones(3), training=training)


def test_the_layers_still_use_batch_statistics_without_running_ones():
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    np.testing.assert_allclose(layer(X).data, F.batch_norm(X, None, None, training=True).data)
    tracked = nn.BatchNorm1d(3).eval()
    np.testing.assert_allclose(tracked(X).data, X.data / np.sqrt(1 + 1e-5), rtol=1e-6)
