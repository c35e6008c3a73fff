"""ctc_loss and CTCLoss: values equal to PyTorch's and to brute-force enumeration of the
alignments; gradients equal to PyTorch's through log_softmax and, with respect to log_probs,
to PyTorch's minus its extra exp(log_probs) term (ours is the derivative: gradcheck); every
layout (padded, concatenated, unbatched), reduction, zero_infinity; errors."""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _random_case(rng, reduction):
    T, N, C = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
    blank, S = int(rng.integers(0, C)), int(rng.integers(0, 4))
    labels = rng.choice([c for c in range(C) if c != blank], (N, max(S, 1)))
    tl, il = rng.integers(0, S + 1, N), rng.integers(0, T + 1, N)
    targets = (np.concatenate([labels[n, :tl[n]] for n in range(N)])
               if rng.random() < 0.4 else labels)
    options = {"blank": blank, "reduction": reduction, "zero_infinity": bool(rng.random() < 0.5)}
    return rng.standard_normal((T, N, C)) * 2, targets, il, tl, options


def _upstream_weights(v, tl, reduction):
    n = tl.size
    if reduction == "none":
        return np.broadcast_to(v, (n,))
    return np.full(n, float(v)) / (np.maximum(tl, 1) * n if reduction == "mean" else 1)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_matches_pytorch_on_random_cases(reduction):
    torch = _torch()
    tf = torch.nn.functional
    rng = np.random.default_rng(["none", "sum", "mean"].index(reduction))
    for _ in range(20):
        x, targets, il, tl, options = _random_case(rng, reduction)
        args = (torch.tensor(targets), torch.tensor(il), torch.tensor(tl))
        tx, ax = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        tloss = tf.ctc_loss(tx.log_softmax(2), *args, **options)
        loss = F.ctc_loss(ad.log_softmax(ax, axis=2), targets, il, tl, **options)
        np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-14, atol=1e-14)
        v = rng.standard_normal(loss.shape)
        (tloss * torch.tensor(v)).sum().backward()
        (loss * v).sum().backward()
        np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)
        # with respect to log_probs: PyTorch's adds exp(log_probs) on each used frame
        lp = ad.log_softmax(ax, axis=2).data
        tlp, alp = torch.tensor(lp, requires_grad=True), ad.tensor(lp, requires_grad=True)
        (tf.ctc_loss(tlp, *args, **options) * torch.tensor(v)).sum().backward()
        (F.ctc_loss(alp, targets, il, tl, **options) * v).sum().backward()
        finite = np.isfinite(F.ctc_loss(lp, targets, il, tl, blank=options["blank"],
                                        reduction="none").data)
        used = (np.arange(x.shape[0])[:, None] < il) & finite
        extra = np.exp(lp) * (_upstream_weights(v, tl, reduction) * used)[:, :, None]
        np.testing.assert_allclose(alp.grad.data, tlp.grad.numpy() - extra, rtol=1e-12,
                                   atol=1e-14)


def test_float32_and_unbatched_match_pytorch():
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5)).astype(np.float32)
    tx, ax = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
    tloss = torch.nn.CTCLoss(blank=4)(tx.log_softmax(1), torch.tensor([1, 1, 2]),
                                      torch.tensor([6]), torch.tensor([3]))
    loss = nn.CTCLoss(blank=4)(ad.log_softmax(ax, axis=1), [1, 1, 2], [6], [3])
    tloss.backward()
    loss.backward()
    assert loss.dtype == np.float32 and ax.grad.dtype == np.float32 and loss.shape == ()
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-5, atol=1e-7)


def _brute_force(lp, target, blank):
    """-log of the sum over every frame labelling that collapses to target."""
    total = 0.0
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += np.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return -np.log(total) if total > 0 else np.inf


def test_equals_brute_force_enumeration():
    rng = np.random.default_rng(4)
    for _ in range(12):
        T, N, C = int(rng.integers(1, 6)), 3, 3
        blank = int(rng.integers(0, C))
        lp = np.asarray(ad.log_softmax(ad.tensor(rng.standard_normal((T, N, C))), axis=2).data)
        tl, il = rng.integers(0, 4, N), rng.integers(0, T + 1, N)
        targets = rng.choice([c for c in range(C) if c != blank], (N, 3))
        loss = F.ctc_loss(lp, targets, il, tl, blank=blank, reduction="none").data
        expected = [_brute_force(lp[:il[n], n], targets[n, :tl[n]], blank) for n in range(N)]
        np.testing.assert_allclose(loss, expected, rtol=1e-13)


def test_hand_computed_losses():
    half = np.log(np.full((2, 1, 2), 0.5))
    # target [1] in 2 frames: (1, 1), (0, 1), (1, 0) -> 3/4
    assert np.isclose(F.ctc_loss(half, [[1]], [2], [1], reduction="sum").item(), -np.log(0.75))
    third = np.log(np.full((3, 1, 3), 1 / 3))
    # [1, 1] in 3 frames needs 1, blank, 1; the empty target needs all blanks
    assert np.isclose(F.ctc_loss(third, [[1, 1]], [3], [2], reduction="sum").item(),
                      3 * np.log(3))
    assert np.isclose(F.ctc_loss(third, [[1]], [3], [0], reduction="sum").item(), 3 * np.log(3))
    # 'mean' divides each loss by its target length (at least 1), then averages
    both = np.concatenate([third, third], axis=1)
    y = F.ctc_loss(both, [[1, 1], [2, 0]], [3, 3], [2, 0]).item()
    assert np.isclose(y, (3 * np.log(3) / 2 + 3 * np.log(3)) / 2)
    # concatenated targets are the padded ones
    a = F.ctc_loss(both, [1, 2, 2], [3, 2], [1, 2], reduction="none").data
    b = F.ctc_loss(both, [[1, 0], [2, 2]], [3, 2], [1, 2], reduction="none").data
    np.testing.assert_array_equal(a, b)


def test_infeasible_target_is_inf_with_nan_gradient_or_zero_with_zero_infinity():
    lp = ad.tensor(np.log(np.full((2, 2, 3), 1 / 3)), requires_grad=True)
    loss = F.ctc_loss(lp, [[1, 1], [1, 2]], [2, 2], [2, 2], reduction="none")
    assert np.isinf(loss.data[0]) and np.isfinite(loss.data[1])  # 1, 1 needs 3 frames
    loss.sum().backward()
    assert np.isnan(lp.grad.data[:, 0]).all() and np.isfinite(lp.grad.data[:, 1]).all()
    lp.grad = None
    loss = F.ctc_loss(lp, [[1, 1], [1, 2]], [2, 2], [2, 2], zero_infinity=True, reduction="sum")
    loss.backward()
    assert np.isfinite(loss.item()) and not lp.grad.data[:, 0].any()


def test_gradcheck_with_respect_to_log_probs_and_through_log_softmax():
    rng = np.random.default_rng(5)
    x = ad.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    for f in (lambda t: F.ctc_loss(t, [[1, 2], [2, 0]], [5, 3], [2, 1], reduction="none"),
              lambda t: F.ctc_loss(ad.log_softmax(t, axis=2), [1, 2, 2], [5, 4], [2, 1],
                                   blank=0, reduction="mean")):
        assert gradcheck(f, x)


def _losses(targets, il, tl, options):
    """ctc_loss of log_probs, and of logits through log_softmax."""
    return (lambda t: F.ctc_loss(t, targets, il, tl, **options),
            lambda t: F.ctc_loss(ad.log_softmax(t, axis=2), targets, il, tl, **options))


def test_second_derivatives_match_central_differences_of_the_gradient():
    # Before, create_graph=True raised: the backward ran on arrays only. PyTorch's ctc_loss has
    # no double backward, so the reference is central differences of our own gradient
    # (gradgradcheck), on random cases: every layout, reduction, zero_infinity, lengths 0.
    rng = np.random.default_rng(11)
    checked = 0
    for k in range(12):
        x, targets, il, tl, options = _random_case(rng, ("none", "sum", "mean")[k % 3])
        finite = np.isfinite(F.ctc_loss(x, targets, il, tl, blank=options["blank"],
                                        reduction="none").data).all()
        if not (finite or options["zero_infinity"]):
            continue  # an impossible target: its gradient is NaN (as PyTorch's)
        x = ad.tensor(x, requires_grad=True)
        for f in _losses(targets, il, tl, options):
            assert gradgradcheck(f, x)
            assert gradcheck(f, x, modes=("fwd",))
            checked += 1
    assert checked >= 12


def test_the_gradient_with_create_graph_is_the_array_backward_s():
    rng = np.random.default_rng(12)
    for k in range(12):
        x, targets, il, tl, options = _random_case(rng, ("none", "sum", "mean")[k % 3])
        x = ad.tensor(x, requires_grad=True)
        loss = _losses(targets, il, tl, options)[1]
        (plain,) = ad.gradients(loss(x).sum(), x)
        (recorded,) = ad.gradients(loss(x).sum(), x, create_graph=True)
        np.testing.assert_allclose(recorded.data, plain.data, rtol=1e-12, atol=1e-14)


def test_hessian_of_a_target_with_one_alignment_is_the_softmax_s():
    # [1, 1] in 3 frames has one alignment (1, blank, 1): the loss is
    # -sum_t log_softmax(z_t)[c_t], whose Hessian in frame t is diag(p_t) - p_t p_t^T.
    z = np.random.default_rng(13).standard_normal((3, 1, 3))
    h = ad.hessian(lambda t: F.ctc_loss(ad.log_softmax(t, axis=2), [[1, 1]], [3], [2],
                                        reduction="sum"))(ad.tensor(z)).data.reshape(9, 9)
    p = np.exp(z[:, 0]) / np.exp(z[:, 0]).sum(axis=1, keepdims=True)
    expected = np.zeros((9, 9))
    for t in range(3):
        expected[3 * t:3 * t + 3, 3 * t:3 * t + 3] = np.diag(p[t]) - np.outer(p[t], p[t])
    np.testing.assert_allclose(h, expected, atol=1e-14)


def test_hessian_is_the_covariance_of_the_alignment_posterior_by_enumeration():
    # d2(-log p) / d lp[t, c] d lp[t', c'] = g_t(c) g_t'(c') - P(pi_t = c, pi_t' = c'), with
    # the posterior over alignments enumerated: every path of C**T that collapses to the target.
    rng = np.random.default_rng(14)
    T, C, blank, target = 4, 3, 0, [1, 2]
    lp = np.asarray(ad.log_softmax(ad.tensor(rng.standard_normal((T, C))), axis=1).data)
    onehots, weights = [], []
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == target:
            onehots.append(np.eye(C)[list(path)].reshape(-1))
            weights.append(np.exp(sum(lp[t, c] for t, c in enumerate(path))))
    e, w = np.array(onehots), np.array(weights) / np.sum(weights)
    gamma = w @ e
    expected = np.outer(gamma, gamma) - (e * w[:, None]).T @ e
    h = ad.hessian(lambda t: F.ctc_loss(t, target, [T], [2], blank=blank, reduction="sum"))(
        ad.tensor(lp)).data.reshape(T * C, T * C)
    np.testing.assert_allclose(h, expected, atol=1e-14)


def test_an_impossible_target_keeps_its_nan_or_zero_gradient_with_create_graph():
    x = ad.tensor(np.log(np.full((2, 2, 3), 1 / 3)), requires_grad=True)
    for zero_infinity, bad in ((False, np.nan), (True, 0.0)):
        loss = F.ctc_loss(x, [[1, 1], [1, 2]], [2, 2], [2, 2], reduction="sum",
                          zero_infinity=zero_infinity)  # sample 0 needs 3 frames
        (g,) = ad.gradients(loss, x, create_graph=True)
        np.testing.assert_array_equal(g.data[:, 0], np.full((2, 3), bad))
        np.testing.assert_allclose(g.data[:, 1], [[0, -1, 0], [0, 0, -1]], atol=1e-15)


def test_frames_past_the_input_length_get_no_gradient():
    x = ad.tensor(np.random.default_rng(6).standard_normal((5, 1, 3)), requires_grad=True)
    F.ctc_loss(ad.log_softmax(x, axis=2), [[1]], [3], [1]).backward()
    assert not x.grad.data[3:].any() and x.grad.data[:3].any()


def test_layer_and_repr():
    lp = np.log(np.full((2, 1, 2), 0.5))
    layer = nn.CTCLoss(blank=1, reduction="none", zero_infinity=True)
    assert repr(layer) == "CTCLoss()"
    np.testing.assert_array_equal(layer(lp, [[0]], [2], [1]).data,
                                  F.ctc_loss(lp, [[0]], [2], [1], blank=1, reduction="none").data)


@pytest.mark.parametrize("call, error, message", [
    (lambda lp: F.ctc_loss(lp, [[1]], [2], [1], reduction="avg"), ValueError,
     "ctc_loss: reduction must be 'none', 'mean' or 'sum', got 'avg'"),
    (lambda lp: F.ctc_loss(lp, [[1]], [2], [1], blank=3), ValueError,
     r"ctc_loss: blank must be a class index in \[0, 2\], got 3"),
    (lambda lp: F.ctc_loss(lp[0, 0], [[1]], [2], [1]), ValueError,
     r"ctc_loss: log_probs must be \(T, N, C\) or unbatched \(T, C\), got shape \(3,\)"),
    (lambda lp: F.ctc_loss(np.zeros((2, 0, 3)), [[1]], [2], [1]), ValueError,
     "ctc_loss: log_probs must not be empty"),
    (lambda lp: F.ctc_loss(np.zeros((2, 1, 3), int), [[1]], [2], [1]), TypeError,
     "ctc_loss: log_probs must be floating, got dtype int64"),
    (lambda lp: F.ctc_loss(lp, [[1]], [3], [1]), ValueError,
     "ctc_loss: input_lengths must be at most the number of frames 2, got 3"),
    (lambda lp: F.ctc_loss(lp, [[1]], [-1], [1]), ValueError,
     "ctc_loss: input_lengths must be at least 0, got -1"),
    (lambda lp: F.ctc_loss(lp, [[1]], [2, 2], [1]), ValueError,
     r"ctc_loss: input_lengths must hold one length per sample \(1\), got shape \(2,\)"),
    (lambda lp: F.ctc_loss(lp, [[1]], [2], [-1]), ValueError,
     "ctc_loss: target_lengths must be at least 0, got -1"),
    (lambda lp: F.ctc_loss(lp, [[1]], [2], [2]), ValueError,
     "ctc_loss: target_lengths must be at most the targets' width 1, got 2"),
    (lambda lp: F.ctc_loss(lp, [[1], [1]], [2], [1]), ValueError,
     r"ctc_loss: padded targets must be \(N, S\) with N = 1, got shape \(2, 1\)"),
    (lambda lp: F.ctc_loss(lp, [1, 2], [2], [1]), ValueError,
     r"ctc_loss: concatenated targets must hold sum\(target_lengths\) = 1 labels, got 2"),
    (lambda lp: F.ctc_loss(lp, np.ones((1, 1, 1), int), [2], [1]), ValueError,
     r"ctc_loss: targets must be padded \(N, S\) or concatenated 1-d, got shape \(1, 1, 1\)"),
    (lambda lp: F.ctc_loss(lp, [[3]], [2], [1]), ValueError,
     "ctc_loss: target label 3 is out of range for 3 classes"),
    (lambda lp: F.ctc_loss(lp, [[0]], [2], [1]), ValueError,
     "ctc_loss: targets must not contain the blank label 0"),
    (lambda lp: F.ctc_loss(lp, [[1.5]], [2], [1]), TypeError,
     r"ctc_loss \(targets\): indices must be integers, got dtype float64"),
    (lambda lp: F.ctc_loss(lp, [[1]], [2.5], [1]), TypeError,
     r"ctc_loss \(input_lengths\): indices must be integers, got dtype float64"),
    (lambda lp: nn.CTCLoss(reduction="avg"), ValueError,
     "CTCLoss: reduction must be 'none', 'mean' or 'sum', got 'avg'"),
    (lambda lp: nn.CTCLoss(blank=-1), ValueError, r"CTCLoss: blank must be a class index"),
])
def test_errors_name_the_argument_and_value(call, error, message):
    with pytest.raises(error, match=message):
        call(np.log(np.full((2, 1, 3), 1 / 3)))


def test_padding_past_the_lengths_is_never_read_nor_written():
    targets = np.array([[1, -1, 99]])  # padding values out of range are fine
    lp = np.log(np.full((2, 1, 3), 1 / 3))
    assert np.isfinite(F.ctc_loss(lp, targets, [2], [1]).item())
    np.testing.assert_array_equal(targets, [[1, -1, 99]])
