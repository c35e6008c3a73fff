"""Ignored labels in nll_loss and cross_entropy, as PyTorch's: an ignored sample's inputs play
no part (a masked -inf in its row gave NaN), and a batch in which nothing counts gives a NaN
"mean" with a zero gradient (it was NaN, which poisons every weight it reaches)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

INF = np.inf


def test_nll_loss_ignores_a_masked_row():
    logp = np.array([[-INF, 0.0], [-1.0, -0.5]])
    x = ad.tensor(logp, requires_grad=True)
    loss = F.nll_loss(x, [-100, 1])
    assert loss.item() == 0.5
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0], [0.0, -1.0]])
    np.testing.assert_array_equal(F.nll_loss(ad.tensor(logp), [-100, 1], reduction="none").data,
                                  [0.0, 0.5])


def test_cross_entropy_ignores_a_fully_masked_row():
    z = np.array([[-INF, -INF], [-1.0, -0.5]])
    x = ad.tensor(z, requires_grad=True)
    loss = F.cross_entropy(x, [-100, 1])
    assert np.isclose(loss.item(), np.log1p(np.exp(-0.5)), rtol=1e-15)
    loss.backward()
    assert np.isfinite(x.grad.data).all() and (x.grad.data[0] == 0).all()


@pytest.mark.parametrize("op", [F.nll_loss, F.cross_entropy])
@pytest.mark.parametrize("weight", [None, np.array([1.0, 2.0])])
def test_nothing_counts_gives_nan_and_a_zero_gradient(op, weight):
    x = ad.tensor(np.array([[-0.1, -2.0], [-0.3, -1.5]]), requires_grad=True)
    loss = op(x, [0, 0], weight, ignore_index=0)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 2)))


def test_zero_total_class_weight_too():
    x = ad.tensor(np.array([[-0.1, -2.0]]), requires_grad=True)
    loss = F.cross_entropy(x, [0], np.array([0.0, 1.0]))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((1, 2)))


@pytest.mark.parametrize("op", ["nll_loss", "cross_entropy"])
def test_matches_pytorch(op):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    z = np.array([[-INF, 0.2, 1.0], [-1.0, -0.5, -INF], [0.3, 0.1, 0.0]])
    labels = np.array([0, 1, 0])
    for ignore in (0, 1):  # a masked ignored row; then every label ignored but one
        zt = torch.tensor(z, requires_grad=True)
        expected = getattr(torch.nn.functional, op)(zt, torch.tensor(labels), ignore_index=ignore)
        x = ad.tensor(z, requires_grad=True)
        got = getattr(F, op)(x, labels, ignore_index=ignore)
        np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-14)
        expected.backward()
        got.backward()
        np.testing.assert_allclose(x.grad.data, zt.grad.numpy(), rtol=1e-14, atol=1e-16)
    zt = torch.tensor(z[1:], requires_grad=True)  # nothing counts
    getattr(torch.nn.functional, op)(zt, torch.tensor([0, 0]), ignore_index=0).backward()
    x = ad.tensor(z[1:], requires_grad=True)
    getattr(F, op)(x, [0, 0], ignore_index=0).backward()
    np.testing.assert_array_equal(x.grad.data, zt.grad.numpy())
