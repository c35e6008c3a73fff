"""Every pool takes one example without its batch axis, (C, H, W) or (C, L), as PyTorch's:
the same values and gradients as the batched call on x[None]; other ranks are refused by name."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck

POOLS_2D = [(F.max_pool2d, (2,), {}), (F.avg_pool2d, (3,), {"stride": 2, "padding": 1}),
            (F.adaptive_avg_pool2d, ((2, 3),), {}), (F.adaptive_max_pool2d, (2,), {})]
POOLS_1D = [(F.max_pool1d, (2,), {"ceil_mode": True}), (F.avg_pool1d, (3,), {"padding": 1}),
            (F.adaptive_avg_pool1d, (3,), {}), (F.adaptive_max_pool1d, (2,), {})]


@pytest.mark.parametrize(("pool", "args", "kwargs"), POOLS_2D + POOLS_1D,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_unbatched_equals_batched(pool, args, kwargs):
    rng = np.random.default_rng(0)
    shape = (3, 5, 7) if pool in [p for p, _, _ in POOLS_2D] else (3, 7)
    x = ad.tensor(rng.standard_normal(shape), requires_grad=True)
    y = pool(x, *args, **kwargs)
    batched = pool(ad.tensor(x.data[None]), *args, **kwargs)
    assert y.shape == batched.shape[1:]
    np.testing.assert_array_equal(y.data, batched.data[0])
    assert gradcheck(lambda t: pool(t, *args, **kwargs), x)


def test_layers_take_unbatched_input_and_refuse_other_ranks():
    x = ad.ones((2, 4, 4))
    assert nn.MaxPool2d(2)(x).shape == (2, 2, 2)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 1, 1)
    assert nn.MaxPool1d(2)(ad.ones((2, 4))).shape == (2, 2)
    with pytest.raises(ValueError, match=r"max_pool2d: expected input of shape \(N, C, H, W\) "
                                         r"or \(C, H, W\), got \(4, 4\)"):
        F.max_pool2d(ad.ones((4, 4)), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected .* got \(4,\)"):
        F.adaptive_avg_pool2d(ad.ones(4), 1)
    with pytest.raises(ValueError, match=r"avg_pool1d: expected input of shape \(N, C, L\) or "
                                         r"\(C, L\), got \(1, 2, 3, 4\)"):
        F.avg_pool1d(ad.ones((1, 2, 3, 4)), 2)
    with pytest.raises(ValueError, match=r"adaptive_max_pool1d: expected input of shape"):
        F.adaptive_max_pool1d(ad.ones(4), 2)


@pytest.mark.parametrize(("pool", "args", "kwargs"), POOLS_2D + POOLS_1D,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_unbatched_matches_pytorch(pool, args, kwargs):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference, not a dependency")
    rng = np.random.default_rng(1)
    shape = (3, 5, 7) if pool in [p for p, _, _ in POOLS_2D] else (3, 7)
    x = rng.standard_normal(shape)
    ax, tx = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = pool(ax, *args, **kwargs), getattr(torch.nn.functional, pool.__name__)(
        tx, *args, **kwargs)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-14, atol=1e-15)
    g = rng.standard_normal(ours.shape)
    ours.backward(ad.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-14, atol=1e-15)
