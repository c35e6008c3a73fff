"""Shape mismatches in nn.functional name the function, the argument and the shapes (they
surfaced as NumPy's or a primitive's reshape/broadcast errors, naming neither)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

X = ad.tensor(np.random.default_rng(0).standard_normal((4, 3)))


@pytest.mark.parametrize("call, message", [
    (lambda: F.batch_norm(X, ad.zeros(3), ad.ones(3), ad.ones(4)),
     r"batch_norm: weight must have shape \(3,\), one value per channel of the input "
     r"\(shape \(4, 3\)\), got shape \(4,\)"),
    (lambda: F.batch_norm(X, ad.zeros(3), ad.ones(3), None, ad.ones(2)),
     r"batch_norm: bias must have shape \(3,\)"),
    (lambda: F.batch_norm(X, ad.zeros(4), ad.ones(4)),
     r"batch_norm: running_mean must have shape \(3,\)"),
    (lambda: F.batch_norm(X, ad.zeros(3), ad.ones(4), training=True),
     r"batch_norm: running_var must have shape \(3,\)"),
    (lambda: F.layer_norm(X, (3,), ad.ones(4)),
     r"layer_norm: weight must have the normalized_shape \(3,\), got shape \(4,\)"),
    (lambda: F.layer_norm(X, (3,), None, ad.ones((1, 3))),
     r"layer_norm: bias must have the normalized_shape \(3,\), got shape \(1, 3\)"),
    (lambda: F.margin_ranking_loss(ad.ones(3), ad.ones(4), ad.ones(3)),
     r"margin_ranking_loss: the shapes of the inputs and the target do not broadcast "
     r"together: \(3,\), \(4,\) and \(3,\)"),
])
def test_the_error_names_the_function_and_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_running_statistics_untouched_by_a_refused_call():
    mean, var = ad.zeros(3), ad.ones(3)
    with pytest.raises(ValueError):
        F.batch_norm(X, mean, var, ad.ones(2), training=True)
    assert mean.data.tolist() == [0.0, 0.0, 0.0] and var.data.tolist() == [1.0, 1.0, 1.0]
