"""A seeded differential fuzz of nn.functional against PyTorch (float64): random shapes (batch
1 and empty batches included) and keyword combinations of the losses, interpolate and the
normalizations; values and first gradients in every differentiable input. A few dozen
configurations, deterministic; the audit that found this area's bugs ran thousands."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
TF = torch.nn.functional
RTOL, ATOL = 1e-10, 1e-12


def compare(ours, theirs, arrays, diff, seed):
    """ours(*engine tensors) against theirs(*torch tensors): values, then gradients of the
    inputs listed in `diff` through one random cotangent."""
    xs = [ad.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    got, expected = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    if not expected.requires_grad or got.size == 0:
        return
    g = np.random.default_rng(seed).standard_normal(got.shape)
    mine = ad.gradients(got, [xs[i] for i in diff], ad.tensor(g), allow_unused=True)
    theirs_ = torch.autograd.grad(expected, [ts[i] for i in diff], torch.tensor(g),
                                  allow_unused=True)
    for a, b, i in zip(mine, theirs_, diff):
        a = np.zeros(arrays[i].shape) if a is None else a.data
        b = np.zeros(arrays[i].shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("seed", range(12))
def test_classification_losses(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.choice([0, 1, 3])), int(rng.integers(1, 4))
    extra = (2,) if seed % 3 == 0 else ()
    z = rng.standard_normal((n, c, *extra)) * 2
    labels = rng.integers(0, c, size=(n, *extra))
    ignore = int(rng.integers(0, c)) if seed % 2 else -100
    w = rng.random(c) + 0.1 if seed % 4 < 2 else None
    smooth = [0.0, 0.2][seed % 2]
    reduction = ["mean", "sum", "none"][seed % 3]
    kw = dict(ignore_index=ignore, reduction=reduction)
    wo, wt = (None, None) if w is None else (ad.tensor(w), torch.tensor(w))
    compare(lambda a: F.cross_entropy(a, labels, wo, label_smoothing=smooth, **kw),
            lambda a: TF.cross_entropy(a, torch.tensor(labels), wt, label_smoothing=smooth,
                                       **kw), [z], [0], seed)
    compare(lambda a: F.nll_loss(a, labels, wo, **kw),
            lambda a: TF.nll_loss(a, torch.tensor(labels), wt, **kw), [z], [0], seed)
    p = rng.random(z.shape)
    compare(lambda a, b: F.cross_entropy(a, b, wo, reduction=reduction, label_smoothing=smooth),
            lambda a, b: TF.cross_entropy(a, b, wt, reduction=reduction,
                                          label_smoothing=smooth), [z, p], [0, 1], seed)


@pytest.mark.parametrize("seed", range(8))
def test_elementwise_losses(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.choice([0, 1, 3])), int(rng.integers(1, 4)))
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    y = rng.random(shape)
    r = ["mean", "sum", "none"][seed % 3]
    beta, delta = [0.0, 0.5, 1.0, 2.0][seed % 4], [0.5, 1.0, 2.0][seed % 3]
    compare(lambda u, v: F.smooth_l1_loss(u, v, reduction=r, beta=beta),
            lambda u, v: TF.smooth_l1_loss(u, v, reduction=r, beta=beta), [a, b], [0, 1], seed)
    compare(lambda u, v: F.huber_loss(u, v, r, delta), lambda u, v: TF.huber_loss(u, v, r, delta),
            [a, b], [0, 1], seed)
    pw = rng.random(shape[-1]) * 3
    compare(lambda u, v: F.binary_cross_entropy_with_logits(u, v, reduction=r,
                                                            pos_weight=ad.tensor(pw)),
            lambda u, v: TF.binary_cross_entropy_with_logits(u, v, reduction=r,
                                                             pos_weight=torch.tensor(pw)),
            [a * 3, y], [0, 1], seed)
    log_target = bool(seed % 2)
    kr = ["batchmean", "sum", "none"][seed % 3]
    t = np.log(y) if log_target else y
    compare(lambda u, v: F.kl_div(u, v, reduction=kr, log_target=log_target),
            lambda u, v: TF.kl_div(u, v, reduction=kr, log_target=log_target),
            [np.log(1 / (1 + np.exp(-a))), t], [0, 1], seed)


@pytest.mark.parametrize("seed", range(10))
def test_interpolate(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(rng.choice([0, 1, 2])), 2, int(rng.integers(1, 6)),
                             int(rng.integers(1, 9))))
    mode = ["nearest", "bilinear"][seed % 2]
    ac = None if mode == "nearest" else [False, True][seed % 4 // 2]
    if seed % 3:
        kw = dict(scale_factor=(float(rng.choice([0.5, 1.3, 2.0, 2.2])),
                                float(rng.choice([1 / 3, 1.1, 1.7, 3.0]))),
                  recompute_scale_factor=[None, True][seed % 2])
    else:
        kw = dict(size=(int(rng.integers(1, 9)), int(rng.integers(1, 9))))
    compare(lambda t: F.interpolate(t, mode=mode, align_corners=ac, **kw),
            lambda t: TF.interpolate(t, mode=mode, align_corners=ac, **kw), [x], [0], seed)


@pytest.mark.parametrize("seed", range(8))
def test_normalizations(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.choice([1, 2, 3])), int(rng.choice([2, 4]))
    x = rng.standard_normal((n, c, 3, 2))
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    eps = [1e-5, 0.1][seed % 2]
    groups = [1, 2][seed % 2]
    compare(lambda t, u, v: F.group_norm(t, groups, u, v, eps=eps),
            lambda t, u, v: TF.group_norm(t, groups, u, v, eps=eps), [x, w, b], [0, 1, 2], seed)
    compare(lambda t, u, v: F.instance_norm(t, weight=u, bias=v, eps=eps),
            lambda t, u, v: TF.instance_norm(t, weight=u, bias=v, eps=eps), [x, w, b],
            [0, 1, 2], seed)
    compare(lambda t: F.layer_norm(t, (3, 2), eps=eps), lambda t: TF.layer_norm(t, (3, 2), eps=eps),
            [x], [0], seed)
    if n * 6 > 1:
        compare(lambda t, u, v: F.batch_norm(t, None, None, u, v, training=True, eps=eps),
                lambda t, u, v: TF.batch_norm(t, None, None, u, v, training=True, eps=eps),
                [x, w, b], [0, 1, 2], seed)
