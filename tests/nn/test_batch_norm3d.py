"""BatchNorm3d: against PyTorch (training and evaluation, running statistics, gradients,
its state dict and printed form), and without it: the statistics over (N, D, H, W) by NumPy,
gradcheck and gradgradcheck, and the 5-d input check."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck


def test_batch_norm3d_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm3d(3, momentum=0.2, dtype=np.float64), torch.nn.BatchNorm3d(
        3, momentum=0.2).double()
    assert repr(ours) == repr(theirs)
    theirs.weight.data.uniform_(0.5, 2.0)
    theirs.bias.data.uniform_(-1.0, 1.0)
    ours.load_state_dict({k: ad.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    for step in range(3):
        x = rng.standard_normal((4, 3, 2, 3, 5)) * (step + 1) + step
        g = rng.standard_normal(x.shape)
        xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ya, yt = ours(xa), theirs(xt)
        np.testing.assert_allclose(ya.data, yt.detach().numpy(), rtol=1e-12, atol=1e-12)
        ya.backward(ad.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-10)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(ad.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


def test_batch_norm3d_statistics_and_gradients_without_pytorch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 2, 3, 2)) * 3 + 1
    bn = nn.BatchNorm3d(2, momentum=1.0, eps=0.0, dtype=np.float64)
    y = bn(ad.tensor(x))
    mean = x.mean(axis=(0, 2, 3, 4), keepdims=True)
    std = x.std(axis=(0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(y.data, (x - mean) / std, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, mean.ravel(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, x.var(axis=(0, 2, 3, 4), ddof=1),
                               rtol=1e-12)
    layer = nn.BatchNorm3d(2, dtype=np.float64)
    xa = ad.tensor(x, requires_grad=True)
    assert gradcheck(layer, xa)
    assert gradgradcheck(layer, xa)


def test_batch_norm3d_takes_five_dimensions_only():
    bn = nn.BatchNorm3d(2)
    for shape in [(2, 2, 3, 3), (2, 3, 2, 3, 3)]:
        with pytest.raises(ValueError, match=r"BatchNorm3d\(2\): expected input of 5 dimensions"
                                             " with 2 channels"):
            bn(ad.ones(shape))
