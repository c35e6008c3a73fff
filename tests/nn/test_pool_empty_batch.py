"""The pools on an empty batch (N = 0), as PyTorch's: an empty output of the right shape and an
empty gradient (adaptive_max_pool1d/2d raised NumPy's "cannot reshape array of size 0")."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

POOLS = [
    (F.adaptive_max_pool2d, (0, 2, 5, 4), ((3, 2),), (0, 2, 3, 2)),
    (F.adaptive_max_pool1d, (0, 2, 5), (3,), (0, 2, 3)),
    (F.adaptive_avg_pool2d, (0, 2, 5, 4), ((3, 2),), (0, 2, 3, 2)),
    (F.adaptive_avg_pool1d, (0, 2, 5), (3,), (0, 2, 3)),
    (F.max_pool2d, (0, 2, 5, 4), (2,), (0, 2, 2, 2)),
    (F.avg_pool2d, (0, 2, 5, 4), (2,), (0, 2, 2, 2)),
    (F.max_pool1d, (0, 2, 5), (2,), (0, 2, 2)),
    (F.avg_pool1d, (0, 2, 5), (2,), (0, 2, 2)),
]


@pytest.mark.parametrize("pool, shape, args, out", POOLS, ids=lambda v: getattr(v, "__name__", ""))
def test_an_empty_batch_gives_an_empty_output_and_gradient(pool, shape, args, out):
    x = ad.tensor(np.zeros(shape), requires_grad=True)
    y = pool(x, *args)
    assert y.shape == out
    y.sum().backward()
    assert x.grad.shape == shape


def test_adaptive_max_indices_of_an_empty_batch():
    y, i = F.adaptive_max_pool2d(ad.tensor(np.zeros((0, 2, 5, 4))), 2, return_indices=True)
    assert y.shape == i.shape == (0, 2, 2, 2) and i.dtype == np.int64
