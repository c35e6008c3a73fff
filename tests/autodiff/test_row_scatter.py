"""The gradient of picking rows (x[rows], take along axis 0, an embedding's lookup) adds
whole rows with flat element-wise add.at calls: the same sums, in the same order, as
np.add.at over rows."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F


@pytest.mark.parametrize("shape, n_rows", [((300, 20), 1000), ((50, 4, 30), 900),
                                           ((7, 2000), 40), ((4, 3), 5)])
def test_row_gradient_equals_np_add_at_bit_for_bit(shape, n_rows):
    rng = np.random.default_rng(0)
    rows = rng.integers(-shape[0], shape[0], n_rows)  # repeats and negative indices
    g = rng.standard_normal((n_rows, *shape[1:])).astype(np.float32)
    want = np.zeros(shape, np.float32)
    np.add.at(want, rows, g)
    for pick in (lambda t: t[rows], lambda t: ad.take(t, rows, axis=0),
                 lambda t: t[(rows,)]):
        x = ad.zeros(shape, requires_grad=True)
        (pick(x) * ad.tensor(g)).sum().backward()
        np.testing.assert_array_equal(x.grad.data, want)
        assert x.grad.dtype == np.float32


def test_embedding_gradient_over_many_chunks():
    # 70,000 indices of width 8: several chunks of the flat indices
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 100, 70_000)
    w = ad.tensor(rng.standard_normal((100, 8)), requires_grad=True)
    g = rng.standard_normal((70_000, 8))
    (F.embedding(ad.tensor(idx), w) * ad.tensor(g)).sum().backward()
    want = np.zeros((100, 8))
    np.add.at(want, idx, g)
    np.testing.assert_array_equal(w.grad.data, want)


def test_second_order_through_the_row_scatter():
    rng = np.random.default_rng(2)
    rows = rng.integers(0, 64, 512)
    x = ad.tensor(rng.standard_normal((64, 16)), requires_grad=True)
    y = (x[rows] ** 2).sum()
    (gx,) = ad.gradients(y, [x], create_graph=True)
    (gx * gx).sum().backward()
    counts = np.bincount(rows, minlength=64)[:, None]
    # d/dx sum((2 c x)^2) = 8 c^2 x
    np.testing.assert_allclose(x.grad.data, 8 * counts ** 2 * x.data, rtol=1e-12)
