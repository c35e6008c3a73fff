"""A seeded differential fuzz of nn.functional against PyTorch (float64): random shapes (batch
1 and empty batches included) and keyword combinations of the losses, interpolate and the
normalizations; values and first gradients in every differentiable input; then second
derivatives of the losses, convolutions (padding modes, groups, dilation, transposed), pools
(ties, NaNs, indices, unpooling), fold/unfold and pad. A few dozen configurations,
deterministic; the audits that found this area's bugs ran thousands."""

import numpy as np
import pytest

import autodiff as ad
import nn
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


# -- second derivatives, convolutions, pools, sliding blocks (the loss/conv/pool audit) -------

def compare2(ours, theirs, arrays, diff, seed):
    """compare(), then the second derivatives: the gradient of <first gradients, v> in every
    input of `diff`, for a random v (a piecewise-linear map has none: then both are 0)."""
    compare(ours, theirs, arrays, diff, seed)
    rng = np.random.default_rng(seed + 1000)
    xs = [ad.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
    got, expected = ours(*xs), theirs(*ts)
    if got.size == 0:
        return
    g = rng.standard_normal(got.shape)
    mine = ad.gradients(got, [xs[i] for i in diff], ad.tensor(g), create_graph=True,
                        allow_unused=True)
    their = torch.autograd.grad(expected, [ts[i] for i in diff], torch.tensor(g),
                                create_graph=True, allow_unused=True)
    vs = [rng.standard_normal(arrays[i].shape) for i in diff]
    s_mine = sum((a * ad.tensor(v)).sum() for a, v in zip(mine, vs) if a is not None)
    s_their = sum((b * torch.tensor(v)).sum() for b, v in zip(their, vs)
                  if b is not None and b.requires_grad)
    second = (ad.gradients(s_mine, [xs[i] for i in diff], allow_unused=True)
              if getattr(s_mine, "requires_grad", False) else [None] * len(diff))
    second_t = (torch.autograd.grad(s_their, [ts[i] for i in diff], allow_unused=True)
                if torch.is_tensor(s_their) and s_their.requires_grad else [None] * len(diff))
    for a, b, i in zip(second, second_t, diff):
        a = np.zeros(arrays[i].shape) if a is None else a.data
        b = np.zeros(arrays[i].shape) if b is None else b.numpy(force=True)
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_regression_and_likelihood_losses_to_second_order(seed):
    """Ties (input == target) included: smooth_l1 and huber have curvature there."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.choice([1, 3])), int(rng.integers(1, 4)))
    a = rng.standard_normal(shape)
    b = a.copy() if seed % 2 else rng.standard_normal(shape)
    r = ["mean", "sum", "none"][seed % 3]
    beta = [0.0, 0.5, 1.0, 2.0][seed % 4]
    compare2(lambda u, v: F.smooth_l1_loss(u, v, reduction=r, beta=beta),
             lambda u, v: TF.smooth_l1_loss(u, v, reduction=r, beta=beta), [a, b], [0, 1], seed)
    compare2(lambda u, v: F.huber_loss(u, v, r, beta + 0.5),
             lambda u, v: TF.huber_loss(u, v, r, beta + 0.5), [a, b], [0, 1], seed)
    var = rng.random((*shape[:1], 1)) + 0.05
    full = bool(seed % 2)
    compare2(lambda u, v, w: F.gaussian_nll_loss(u, v, w, full, reduction=r),
             lambda u, v, w: TF.gaussian_nll_loss(u, v, w, full, reduction=r),
             [a, rng.standard_normal(shape), var], [0, 1, 2], seed)
    counts = rng.integers(0, 5, shape).astype(float)
    compare2(lambda u, v: F.poisson_nll_loss(u, v, True, full, reduction=r),
             lambda u, v: TF.poisson_nll_loss(u, v, True, full, reduction=r),
             [a, counts], [0], seed)
    n = shape[0]
    x1, x2, x3 = (rng.standard_normal((n, 4)) for _ in range(3))
    compare2(lambda u, v, w: F.triplet_margin_loss(u, v, w, 0.5, [1.5, 2, 3][seed % 3],
                                                   swap=bool(seed % 2), reduction=r),
             lambda u, v, w: TF.triplet_margin_loss(u, v, w, 0.5, [1.5, 2, 3][seed % 3],
                                                    swap=bool(seed % 2), reduction=r),
             [x1, x2, x3], [0, 1, 2], seed)
    y = rng.choice([-1.0, 1.0], n)
    compare2(lambda u, v: F.cosine_embedding_loss(u, v, ad.tensor(y), 0.2, reduction=r),
             lambda u, v: TF.cosine_embedding_loss(u, v, torch.tensor(y), 0.2, reduction=r),
             [x1, x2], [0, 1], seed)


@pytest.mark.parametrize("seed", range(8))
def test_classification_losses_to_second_order(seed):
    rng = np.random.default_rng(seed)
    n, c = int(rng.choice([1, 3])), int(rng.integers(2, 4))
    z = rng.standard_normal((n, c, 2)) * 2
    labels = rng.integers(0, c, size=(n, 2))
    w = rng.random(c) + 0.1
    r = ["mean", "sum", "none"][seed % 3]
    compare2(lambda a: F.cross_entropy(a, labels, ad.tensor(w), ignore_index=int(labels[0, 0]),
                                       reduction=r, label_smoothing=0.1 * (seed % 2)),
             lambda a: TF.cross_entropy(a, torch.tensor(labels), torch.tensor(w),
                                        ignore_index=int(labels[0, 0]), reduction=r,
                                        label_smoothing=0.1 * (seed % 2)), [z], [0], seed)
    p = rng.random(z.shape) * 0.9 + 0.05
    y = rng.random(z.shape)
    compare2(lambda a, b: F.binary_cross_entropy(a, b, reduction=r),
             lambda a, b: TF.binary_cross_entropy(a, b, reduction=r), [p, y], [0, 1], seed)
    pw = rng.random(2) * 3
    compare2(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=r,
                                                            pos_weight=ad.tensor(pw)),
             lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction=r,
                                                             pos_weight=torch.tensor(pw)),
             [z, y], [0, 1], seed)


@pytest.mark.parametrize("seed", range(6))
def test_ctc_loss_through_log_softmax(seed):
    """PyTorch's ctc_loss gradient is the logits' (it assumes log_softmax before it), ours is
    the log-probabilities' own: they agree once both pass back through log_softmax."""
    rng = np.random.default_rng(seed)
    t, n, c = int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
    blank = int(rng.integers(0, c))
    lengths = rng.integers(1, t + 1, n)
    target_lengths = rng.integers(0, 4, n)
    targets = rng.choice([k for k in range(c) if k != blank], size=(n, 3))
    r = ["mean", "sum", "none"][seed % 3]
    compare(lambda a: F.ctc_loss(F.log_softmax(a, axis=2), targets, lengths, target_lengths,
                                 blank, r, bool(seed % 2)),
            lambda a: TF.ctc_loss(TF.log_softmax(a, 2), torch.tensor(targets),
                                  torch.tensor(lengths), torch.tensor(target_lengths), blank, r,
                                  bool(seed % 2)), [rng.standard_normal((t, n, c)) * 2], [0],
            seed)


@pytest.mark.parametrize("seed", range(10))
def test_convolutions_to_second_order(seed):
    rng = np.random.default_rng(seed)
    g = int(rng.choice([1, 2]))
    cin, cout = g * int(rng.integers(1, 3)), g * int(rng.integers(1, 3))
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s, d = (int(rng.integers(1, 3)), int(rng.integers(1, 3))), (int(rng.integers(1, 3)), 1)
    p = (int(rng.integers(0, 3)), int(rng.integers(0, 2)))
    x = rng.standard_normal((int(rng.choice([1, 2])), cin, int(rng.integers(k[0] * d[0], 7)),
                             int(rng.integers(k[1], 8))))
    w, b = rng.standard_normal((cout, cin // g, *k)), rng.standard_normal(cout)
    padding = [p, p[0], "valid", "same"][seed % 4]
    stride = 1 if padding == "same" else s
    compare2(lambda u, v, c: F.conv2d(u, v, c, stride, padding, d, g),
             lambda u, v, c: TF.conv2d(u, v, c, stride, padding, d, g), [x, w, b], [0, 1, 2],
             seed)
    compare2(lambda u, v: F.conv1d(u, v, None, s[1], p[1], d[0], g),
             lambda u, v: TF.conv1d(u, v, None, s[1], p[1], d[0], g),
             [x[:, :, 0], w[:, :, 0]], [0, 1], seed)
    wt = rng.standard_normal((cin, cout // g, *k))
    op = (int(rng.integers(0, max(s[0], d[0]))), 0)
    compare2(lambda u, v, c: F.conv_transpose2d(u, v, c, s, (0, p[1]), op, g, d),
             lambda u, v, c: TF.conv_transpose2d(u, v, c, s, (0, p[1]), op, g, d),
             [x, wt, b], [0, 1, 2], seed)
    mode = ["zeros", "reflect", "replicate", "circular"][seed % 4]
    theirs = torch.nn.Conv2d(cin, cout, k, 1, "same", d, g, True, mode, dtype=torch.float64)
    mine = nn.Conv2d(cin, cout, k, 1, "same", d, g, True, mode, dtype=np.float64)
    mine.weight.data[...] = theirs.weight.detach().numpy()
    mine.bias.data[...] = theirs.bias.detach().numpy()
    if min(x.shape[2:]) > max((ki - 1) * di for ki, di in zip(k, d)):  # reflect's limit
        compare(mine, theirs, [x], [0], seed)


@pytest.mark.parametrize("seed", range(12))
def test_pools_with_ties_and_nans(seed):
    """Integer-valued inputs (ties: the first maximum wins) and two NaNs (the last NaN of a
    window wins): values, indices, gradients and second derivatives as PyTorch's."""
    rng = np.random.default_rng(seed)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s, d = (int(rng.integers(1, 3)), int(rng.integers(1, 3))), (int(rng.integers(1, 3)), 1)
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    x = rng.integers(0, 3, (2, 2, int(rng.integers(k[0] * d[0], 8)),
                            int(rng.integers(k[1], 8)))).astype(float)
    if seed % 2:
        x[0, 0, :2, :2] = np.nan
    cm = bool(seed % 3 == 1)
    compare2(lambda a: F.max_pool2d(a, k, s, p, d, cm), lambda a: TF.max_pool2d(a, k, s, p, d, cm),
             [x], [0], seed)
    got = F.max_pool2d(ad.tensor(x), k, s, p, d, cm, return_indices=True)[1]
    expected = TF.max_pool2d(torch.tensor(x), k, s, p, d, cm, return_indices=True)[1]
    np.testing.assert_array_equal(got.data, expected.numpy())
    compare2(lambda a: F.max_pool1d(a, k[1], s[1], p[1], d[0], cm),
             lambda a: TF.max_pool1d(a, k[1], s[1], p[1], d[0], cm), [x[:, :, 0]], [0], seed)
    cip, div = bool(seed % 2), [None, 2][seed % 4 // 2]
    compare2(lambda a: F.avg_pool2d(a, k, s, p, cm, cip, div),
             lambda a: TF.avg_pool2d(a, k, s, p, cm, cip, div), [x], [0], seed)
    size = [(int(rng.integers(1, 6)), None), 3, (None, 2), (5, 4)][seed % 4]
    compare2(lambda a: F.adaptive_max_pool2d(a, size), lambda a: TF.adaptive_max_pool2d(a, size),
             [x], [0], seed)
    compare2(lambda a: F.adaptive_avg_pool2d(a, size), lambda a: TF.adaptive_avg_pool2d(a, size),
             [x], [0], seed)
    out = (x.shape[2], x.shape[3])
    y, idx = TF.max_pool2d(torch.tensor(np.nan_to_num(x)), k, s, 0, 1, False, True)
    compare2(lambda a: F.max_unpool2d(a, ad.tensor(idx.numpy()), k, s, output_size=out),
             lambda a: TF.max_unpool2d(a, idx, k, s, output_size=out), [y.numpy()], [0], seed)


@pytest.mark.parametrize("seed", range(6))
def test_sliding_blocks_shuffles_and_padding(seed):
    rng = np.random.default_rng(seed)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d, p = (int(rng.integers(1, 3)), 1), (int(rng.integers(0, 2)), 1)
    s = (1, int(rng.integers(1, 3)))
    x = rng.standard_normal((2, 2, int(rng.integers(6, 9)), int(rng.integers(4, 8))))
    compare2(lambda a: F.unfold(a, k, d, p, s), lambda a: TF.unfold(a, k, d, p, s), [x], [0], seed)
    cols = TF.unfold(torch.tensor(x), k, d, p, s).numpy()
    compare2(lambda a: F.fold(a, x.shape[2:], k, d, p, s),
             lambda a: TF.fold(a, x.shape[2:], k, d, p, s), [cols], [0], seed)
    r = int(rng.integers(1, 3))
    compare(lambda a: F.pixel_shuffle(a, r), lambda a: TF.pixel_shuffle(a, r),
            [rng.standard_normal((1, 2 * r * r, 3, 2))], [0], seed)
    compare(lambda a: F.pixel_unshuffle(a, r), lambda a: TF.pixel_unshuffle(a, r),
            [rng.standard_normal((1, 2, 2 * r, 3 * r))], [0], seed)
    mode = ["constant", "reflect", "replicate", "circular"][seed % 4]
    widths = tuple(int(v) for v in rng.integers(-1, 3, 4))
    compare2(lambda a: F.pad(a, widths, mode), lambda a: TF.pad(a, widths, mode), [x], [0], seed)
