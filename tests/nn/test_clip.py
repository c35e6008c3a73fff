import numpy as np

import autodiff as ad
import nn


def test_clip_grad_norm():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    a.grad, b.grad = ad.tensor([3.0, 0.0]), ad.tensor([0.0, 4.0])
    total = nn.optim.clip_grad_norm_([a, b], 1.0)
    assert np.isclose(total, 5.0)
    assert np.isclose(np.sqrt((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum()), 1.0,
                      atol=1e-5)
    a.grad = ad.tensor([0.1, 0.0])
    assert np.isclose(nn.optim.clip_grad_norm_([a], 1.0, norm_type=float("inf")), 0.1)
    np.testing.assert_allclose(a.grad.data, [0.1, 0.0])  # under the limit: untouched


def test_clip_grad_value():
    a = ad.ones(3, requires_grad=True)
    a.grad = ad.tensor([-5.0, 0.5, 5.0])
    nn.optim.clip_grad_value_([a], 1.0)
    np.testing.assert_allclose(a.grad.data, [-1.0, 0.5, 1.0])
