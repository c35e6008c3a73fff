"""cross_entropy with class probabilities as the target: a target that requires grad gets its
gradient, -log softmax(z) per class (times the smoothing and class weights), as PyTorch's; a
plain array target stays a constant. (The target used to be detached silently: gradient 0.)"""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _inputs(shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape)
    p = rng.random(shape)
    return z, p / p.sum(axis=1, keepdims=True)


def _log_softmax(z):
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def test_the_target_gradient_is_minus_log_softmax():
    z, p = _inputs()
    target = ad.tensor(p, requires_grad=True)
    F.cross_entropy(ad.tensor(z), target, reduction="sum").backward()
    np.testing.assert_allclose(target.grad.data, -_log_softmax(z), rtol=1e-13)


def test_mean_smoothing_and_weights_scale_it():
    z, p = _inputs()
    w, eps = np.array([1.0, 2.0, 0.5, 3.0]), 0.2
    target = ad.tensor(p, requires_grad=True)
    F.cross_entropy(ad.tensor(z), target, w, label_smoothing=eps).backward()
    np.testing.assert_allclose(target.grad.data, -_log_softmax(z) * w * (1 - eps) / 3,
                               rtol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_in_both_and_second_order(reduction):
    z, p = _inputs((2, 3, 2))
    def f(a, b):
        return F.cross_entropy(a, b, label_smoothing=0.1, reduction=reduction)
    assert gradcheck(f, ad.tensor(z, requires_grad=True), ad.tensor(p, requires_grad=True))
    assert gradgradcheck(f, ad.tensor(z, requires_grad=True), ad.tensor(p, requires_grad=True))


def test_a_constant_target_stays_a_constant():
    z, p = _inputs()
    logits = ad.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, ad.tensor(p))
    assert ad.gradients(loss, [logits])[0].shape == z.shape


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_pytorch(reduction):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    z, p = _inputs((2, 3, 2), seed=1)
    w = np.array([0.5, 1.0, 2.0])
    zt, pt = (torch.tensor(a, requires_grad=True) for a in (z, p))
    expected = torch.nn.functional.cross_entropy(zt, pt, torch.tensor(w), reduction=reduction,
                                                 label_smoothing=0.3)
    zo, po = (ad.tensor(a, requires_grad=True) for a in (z, p))
    got = F.cross_entropy(zo, po, ad.tensor(w), reduction=reduction, label_smoothing=0.3)
    g = np.random.default_rng(2).standard_normal(got.shape)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12)
    for ours, theirs in zip(ad.gradients(got, [zo, po], ad.tensor(g)),
                            torch.autograd.grad(expected, [zt, pt], torch.tensor(g))):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-14)
