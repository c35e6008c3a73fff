"""The losses PyTorch users reach for: values and gradients equal to PyTorch's (float64, over
their options), gradients checked by finite differences to second order, closed forms without
PyTorch, and every error."""

import warnings

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

REDUCTIONS = ["none", "mean", "sum"]
RTOL, ATOL = 1e-12, 1e-14  # float64: agreement to rounding


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _rng(seed=0):
    return np.random.default_rng(seed)


def compare(ours, theirs, inputs, constants=(), grad_mask=None):
    """Run `ours(*tensors, *constants)` and `theirs(*torch tensors, *torch constants)` on the
    float64 `inputs`; assert equal values and equal gradients in every input (through a
    random cotangent, for unreduced losses). `grad_mask[i]` limits input i's comparison.
    Nothing compared may be NaN (NaN would equal NaN)."""
    torch = _torch()
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    tc = [torch.tensor(c) if isinstance(c, np.ndarray) else c for c in constants]
    expected = theirs(*ts, *tc)
    xs = [ad.tensor(a, requires_grad=True) for a in inputs]
    got = ours(*xs, *constants)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert not np.isnan(got.data).any()
    v = _rng(1).standard_normal(got.shape)
    (expected * torch.tensor(v)).sum().backward()
    (got * v).sum().backward()
    for i, (t, x) in enumerate(zip(ts, xs)):
        mask = Ellipsis if grad_mask is None or grad_mask[i] is None else grad_mask[i]
        want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.data[mask], want[mask], rtol=RTOL, atol=ATOL,
                                   err_msg=f"gradient of input {i}")
        assert not np.isnan(x.grad.data[mask]).any()


# -- cross_entropy and nll_loss -------------------------------------------------------------

WEIGHT = np.array([0.2, 1.0, 3.0, 0.7])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_index", [-100, 1, -1])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2)])
def test_cross_entropy_labels_match_pytorch(shape, label_smoothing, ignore_index, weight,
                                            reduction):
    torch = _torch()
    rng = _rng()
    z = rng.standard_normal(shape) * 2
    y = rng.integers(0, 4, (shape[0], *shape[2:]))
    y.flat[::3] = ignore_index if ignore_index != -100 else 0  # some ignored labels
    w = None if weight is None else torch.tensor(weight)
    compare(lambda t, lab: F.cross_entropy(t, lab, weight, ignore_index=ignore_index,
                                           reduction=reduction,
                                           label_smoothing=label_smoothing),
            lambda t, lab: torch.nn.functional.cross_entropy(
                t, lab, w, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing),
            [z], [y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_probabilities_match_pytorch(shape, label_smoothing, weight, reduction):
    torch = _torch()
    rng = _rng()
    z = rng.standard_normal(shape)
    p = rng.random(shape)
    p /= p.sum(axis=1, keepdims=True)
    w = None if weight is None else torch.tensor(weight)
    compare(lambda t, q: F.cross_entropy(t, q, weight, reduction=reduction,
                                         label_smoothing=label_smoothing),
            lambda t, q: torch.nn.functional.cross_entropy(t, q, w, reduction=reduction,
                                                           label_smoothing=label_smoothing),
            [z], [p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
def test_nll_loss_matches_pytorch(shape, ignore_index, weight, reduction):
    torch = _torch()
    rng = _rng()
    logp = np.log(rng.dirichlet(np.ones(4), (shape[0], *shape[2:])))
    logp = np.moveaxis(logp, -1, 1)
    y = rng.integers(0, 4, (shape[0], *shape[2:]))
    y.flat[::4] = 2
    w = None if weight is None else torch.tensor(weight)
    compare(lambda t, lab: F.nll_loss(t, lab, weight, ignore_index=ignore_index,
                                      reduction=reduction),
            lambda t, lab: torch.nn.functional.nll_loss(t, lab, w, ignore_index=ignore_index,
                                                        reduction=reduction),
            [logp], [y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_and_all_ignored_match_pytorch(reduction):
    torch = _torch()
    z = _rng().standard_normal(4)
    for ours, theirs in [(F.cross_entropy, torch.nn.functional.cross_entropy),
                         (F.nll_loss, torch.nn.functional.nll_loss)]:
        compare(lambda t, lab, f=ours: f(t, lab, WEIGHT, reduction=reduction),
                lambda t, lab, f=theirs: f(t, lab, torch.tensor(WEIGHT), reduction=reduction),
                [z], [np.array(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 0 / 0 is NaN without a RuntimeWarning
        got = F.cross_entropy(ad.tensor(_rng().standard_normal((2, 3))), [-100, -100],
                              reduction=reduction)
        want = torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100]),
                                                 reduction=reduction)
        np.testing.assert_array_equal(np.isnan(got.data), np.isnan(want.numpy()))


def test_cross_entropy_weights_closed_form():
    # per sample: -log softmax(z)_y; weighted mean = sum w_y l / sum w_y over counted labels
    z = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    y = np.array([0, 1, 2])
    w = np.array([1.0, 2.0, 4.0])
    lse = np.log(np.exp(z).sum(1))
    per = lse - z[np.arange(3), y]
    got = F.cross_entropy(ad.tensor(z), y, w, reduction="none")
    np.testing.assert_allclose(got.data, w[y] * per, rtol=1e-14)
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y, w).item(),
                               (w[y] * per).sum() / w[y].sum(), rtol=1e-14)
    # the third label ignored: it contributes 0 and leaves the denominator
    got = F.cross_entropy(ad.tensor(z), y, w, ignore_index=2)
    np.testing.assert_allclose(got.item(), (w[:2] * per[:2]).sum() / w[:2].sum(), rtol=1e-14)
    # label smoothing eps: (1 - eps) w_y nll + eps / C sum_c w_c (-log p_c), same denominator
    eps = 0.3
    logp = z - lse[:, None]
    smooth = (1 - eps) * w[y] * per - eps / 3 * (logp * w).sum(1)
    np.testing.assert_allclose(F.cross_entropy(ad.tensor(z), y, w, label_smoothing=eps).item(),
                               smooth.sum() / w[y].sum(), rtol=1e-14)


def test_nll_loss_closed_form_and_gradient():
    logp = ad.tensor([[-0.5, -1.0], [-2.0, -0.1], [-0.3, -0.7]], requires_grad=True)
    loss = F.nll_loss(logp, [0, 1, 1], weight=[3.0, 1.0], ignore_index=0)
    assert loss.item() == pytest.approx((0.1 + 0.7) / 2)
    loss.backward()
    np.testing.assert_allclose(logp.grad.data, [[0, 0], [0, -0.5], [0, -0.5]])


@pytest.mark.parametrize("options", [dict(weight=WEIGHT[:3]), dict(ignore_index=1),
                                     dict(weight=WEIGHT[:3], ignore_index=0,
                                          label_smoothing=0.1)])
def test_weighted_cross_entropy_second_order(options):
    z = ad.tensor(_rng().standard_normal((4, 3, 2)))
    y = np.array([[0, 1], [2, 1], [1, 1], [0, 2]])
    assert gradcheck(lambda t: F.cross_entropy(t, y, **options), z)
    assert gradgradcheck(lambda t: F.cross_entropy(t, y, **options), z)
    nll = {k: v for k, v in options.items() if k != "label_smoothing"}
    assert gradcheck(lambda t: F.nll_loss(t, y, **nll), z)


def test_float32_stays_float32_with_weights():
    z = ad.randn(4, 3, requires_grad=True)
    loss = F.cross_entropy(z, [0, 1, 2, 1], [1.0, 2.0, 3.0], ignore_index=1)
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    assert F.nll_loss(z, [0, 1, 2, 1], np.ones(3)).dtype == np.float32


def test_cross_entropy_and_nll_errors():
    z = ad.ones((2, 3))
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes .*"
                                         r"or ignore_index=-100"):
        F.cross_entropy(z, [0, 3])
    with pytest.raises(ValueError, match=r"label -100 is out of range"):
        F.cross_entropy(z, [0, -100], ignore_index=0)
    with pytest.raises(ValueError, match=r"weight must hold one weight per class, shape "
                                         r"\(3,\), got shape \(2,\)"):
        F.cross_entropy(z, [0, 1], [1.0, 2.0])
    with pytest.raises(TypeError, match="reduction is a keyword argument: reduction='sum'"):
        F.nll_loss(z, [0, 1], "sum")
    with pytest.raises(TypeError, match=r"weight requires grad.*weight\.detach\(\)"):
        F.cross_entropy(z, [0, 1], ad.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="ignore_index=0 applies to class labels, not to "
                                         "probability targets"):
        F.cross_entropy(z, np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"probability targets must have the logits' shape"):
        F.cross_entropy(z, np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match=r"unbatched input of shape \(3,\) takes a 0-d label"):
        F.cross_entropy(ad.ones(3), np.zeros((2, 2), np.int64))
    with pytest.raises(ValueError, match=r"nll_loss: expected input of shape \(N, C, \.\.\.\) "
                                         r"or \(C,\), got \(\)"):
        F.nll_loss(ad.tensor(1.0), 0)
    with pytest.raises(ValueError, match="nll_loss: reduction must be"):
        F.nll_loss(z, [0, 1], reduction="avg")
    with pytest.raises(TypeError, match="nll_loss: class labels must be integers"):
        F.nll_loss(z, [0.5, 1])


# -- binary cross-entropies ---------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "row", "full"])
@pytest.mark.parametrize("pos_weight", [None, "classes", "column"])
def test_bce_with_logits_matches_pytorch(pos_weight, weight, reduction):
    torch = _torch()
    rng = _rng()
    x, y = rng.standard_normal((5, 3)) * 4, rng.random((5, 3))
    w = {None: None, "row": rng.random(3), "full": rng.random((5, 3))}[weight]
    pw = {None: None, "classes": rng.random(3) * 3, "column": rng.random((5, 1)) * 3}[
        pos_weight]
    tw, tpw = (None if a is None else torch.tensor(a) for a in (w, pw))
    compare(lambda t, u: F.binary_cross_entropy_with_logits(t, u, w, reduction=reduction,
                                                             pos_weight=pw),
            lambda t, u: torch.nn.functional.binary_cross_entropy_with_logits(
                t, u, tw, reduction=reduction, pos_weight=tpw),
            [x, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, "row"])
def test_bce_weight_matches_pytorch(weight, reduction):
    torch = _torch()
    rng = _rng()
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.random((4, 3))
    w = None if weight is None else rng.random(3)
    tw = None if w is None else torch.tensor(w)
    compare(lambda t, u: F.binary_cross_entropy(t, u, w, reduction=reduction),
            lambda t, u: torch.nn.functional.binary_cross_entropy(t, u, tw,
                                                                  reduction=reduction),
            [p, y])


def test_clamps_use_pytorchs_float32_epsilon():
    """PyTorch's losses clamp with `constexpr float EPSILON = 1e-12`, 9.99999996e-13 in float64:
    the saturated binary_cross_entropy gradient and cosine_embedding_loss at a zero vector use
    that number (1e-12 itself was 4e-9 off, relative)."""
    e = float(np.float32(1e-12))
    p = ad.tensor(np.array([0.0, 1.0]), requires_grad=True)
    F.binary_cross_entropy(p, ad.tensor(np.array([1.0, 0.0])), reduction="sum").backward()
    np.testing.assert_array_equal(p.grad.data, [-1 / e, 1 / e])
    x1 = ad.tensor(np.zeros((1, 3)), requires_grad=True)
    F.cosine_embedding_loss(x1, ad.tensor(np.ones((1, 3))), np.array([1.0])).backward()
    np.testing.assert_allclose(x1.grad.data, np.full((1, 3), -1 / np.sqrt(e * (3 + e))),
                               rtol=1e-15)


def test_pos_weight_closed_form_and_second_order():
    # x = 0: sigmoid = 1/2, so the loss is w (pw y + (1 - y)) log 2
    y = np.array([1.0, 0.0, 0.25])
    pw, w = np.array([3.0, 3.0, 2.0]), np.array([1.0, 2.0, 4.0])
    got = F.binary_cross_entropy_with_logits(ad.zeros(3, dtype=np.float64), y, w,
                                             reduction="none", pos_weight=pw)
    np.testing.assert_allclose(got.data, w * (pw * y + 1 - y) * np.log(2), rtol=1e-15)
    x = ad.tensor(_rng().standard_normal((4, 3)) * 3)
    t = ad.tensor(_rng(2).random((4, 3)))
    f = lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw)  # noqa: E731
    assert gradcheck(f, x, t)
    assert gradgradcheck(f, x, t)
    p = ad.tensor(_rng(4).uniform(0.1, 0.9, (4, 3)))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, w), p, t)
    # tails stay exact and finite with pos_weight
    big = F.binary_cross_entropy_with_logits(np.array([40.0, -40.0]), np.array([1.0, 0.0]),
                                             reduction="none", pos_weight=np.array([2.0]))
    np.testing.assert_allclose(big.data, [2 * np.exp(-40.0), np.exp(-40.0)], rtol=1e-12)


def test_binary_weights_errors():
    x = ad.zeros((2, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(2,\) does not broadcast to the "
                                         r"input's shape \(2, 3\)"):
        F.binary_cross_entropy_with_logits(x, x, np.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3, 1, 1\) does not "
                                         r"broadcast"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=np.ones((3, 1, 1)))
    with pytest.raises(TypeError, match="pos_weight requires grad"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=ad.ones(3, requires_grad=True))
    with pytest.raises(TypeError, match="reduction is a keyword argument"):
        F.binary_cross_entropy(ad.full((2,), 0.5), ad.ones(2), "sum")


# -- kl_div ---------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_pytorch(log_target, reduction):
    torch = _torch()
    rng = _rng()
    logq = np.log(rng.dirichlet(np.ones(4), 3))
    p = rng.dirichlet(np.ones(4), 3)
    if not log_target:
        p[0, 1] = 0.0  # 0 log 0 = 0
    target = np.log(p) if log_target else p
    mask = None if log_target else p > 0  # PyTorch's target gradient at target 0 is NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn for "mean" (checked below)
        compare(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: torch.nn.functional.kl_div(a, b, reduction=reduction,
                                                        log_target=log_target),
                [logq, target], grad_mask=[None, mask])


def test_kl_div_mean_warns_as_pytorch_and_batchmean_is_the_divergence():
    p, q = np.array([[0.75, 0.25], [0.5, 0.5]]), np.array([[0.5, 0.5], [0.25, 0.75]])
    kl = (p * np.log(p / q)).sum(1)  # the divergence of each row
    logq = ad.tensor(np.log(q))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        mean = F.kl_div(logq, p)
    np.testing.assert_allclose(mean.item(), kl.sum() / 4, rtol=1e-15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(F.kl_div(logq, p, reduction="batchmean").item(),
                                   kl.mean(), rtol=1e-15)
        np.testing.assert_allclose(
            F.kl_div(logq, np.log(p), reduction="batchmean", log_target=True).item(),
            kl.mean(), rtol=1e-15)
    # the target gradient at target 0 is finite: -input (PyTorch's is NaN)
    t = ad.tensor([0.0, 1.0], requires_grad=True)
    F.kl_div(ad.tensor([-2.0, -0.5]), t, reduction="sum").backward()
    np.testing.assert_allclose(t.grad.data, [2.0, 1.5])


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_second_order(log_target):
    rng = _rng()
    logq = ad.tensor(np.log(rng.dirichlet(np.ones(3), 2)))
    p = rng.dirichlet(np.ones(3), 2)
    t = ad.tensor(np.log(p) if log_target else p)
    f = lambda a, b: F.kl_div(a, b, reduction="sum", log_target=log_target)  # noqa: E731
    assert gradcheck(f, logq, t)
    assert gradgradcheck(f, logq, t)


def test_kl_div_errors():
    with pytest.raises(ValueError, match="kl_div: reduction must be 'mean', 'batchmean'"):
        F.kl_div(ad.zeros(2), ad.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="'batchmean' divides by the batch size, axis 0"):
        F.kl_div(ad.tensor(0.0), ad.tensor(1.0), reduction="batchmean")
    with pytest.raises(ValueError, match=r"kl_div: input shape \(3,\) and target shape "
                                         r"\(3, 1\) differ"):
        F.kl_div(ad.zeros(3), ad.zeros((3, 1)), reduction="sum")


# -- l1, smooth l1, huber ---------------------------------------------------------------------

KINKS = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, 0.25])  # d at 0, +-beta, +-delta


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss, option", [("l1_loss", None), ("smooth_l1_loss", 0.0),
                                          ("smooth_l1_loss", 0.5), ("smooth_l1_loss", 1.0),
                                          ("smooth_l1_loss", 2.0), ("huber_loss", 0.5),
                                          ("huber_loss", 1.0), ("huber_loss", 2.0)])
def test_regression_losses_match_pytorch_also_at_the_kinks(loss, option, reduction):
    torch = _torch()
    rng = _rng()
    x = np.concatenate([rng.standard_normal(12) * 2, KINKS + 1.0])
    y = np.concatenate([rng.standard_normal(12), np.ones(9)])
    kw = {} if option is None else {"beta" if loss == "smooth_l1_loss" else "delta": option}
    compare(lambda a, b: getattr(F, loss)(a, b, reduction=reduction, **kw),
            lambda a, b: getattr(torch.nn.functional, loss)(a, b, reduction=reduction, **kw),
            [x, y])


def test_regression_losses_closed_forms_and_gradients():
    x = ad.tensor([0.0, 0.5, -3.0, 2.0], requires_grad=True)
    zero = np.zeros(4)
    np.testing.assert_allclose(F.l1_loss(x, zero, reduction="none").data, [0, 0.5, 3, 2])
    np.testing.assert_allclose(F.smooth_l1_loss(x, zero, reduction="none", beta=2.0).data,
                               [0, 0.0625, 2, 1])  # 0.5 d^2 / 2 inside, |d| - 1 outside
    np.testing.assert_allclose(F.huber_loss(x, zero, "none", 2.0).data,
                               [0, 0.125, 4, 2])  # 0.5 d^2 inside, 2 (|d| - 1) outside
    F.smooth_l1_loss(x, zero, reduction="sum", beta=2.0).backward()
    np.testing.assert_allclose(x.grad.data, [0, 0.25, -1, 1])  # d / beta, then sign(d)
    x.grad = None
    F.l1_loss(x, zero, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [0, 1, -1, 1])  # sign(0) = 0
    u = ad.tensor(_rng().standard_normal(6) * 2)
    v = ad.tensor(_rng(3).standard_normal(6))
    for f in (lambda a, b: F.smooth_l1_loss(a, b, beta=0.7),
              lambda a, b: F.huber_loss(a, b, delta=1.3), F.l1_loss):
        assert gradcheck(f, u, v)
        assert gradgradcheck(f, u, v)


@pytest.mark.parametrize("loss, option, curvature", [("smooth_l1_loss", 0.5, 2.0),
                                                     ("smooth_l1_loss", 2.0, 0.5),
                                                     ("huber_loss", 0.5, 1.0),
                                                     ("huber_loss", 2.0, 1.0)])
def test_regression_losses_second_derivative_at_a_tie(loss, option, curvature):
    """At input == target the loss is inside its quadratic part: d^2/dx^2 is 1 / beta
    (smooth l1) or 1 (huber), as PyTorch's double backward. It was 0: the square was taken of
    |d|, whose gradient at d = 0 is 0."""
    kw = {"beta" if loss == "smooth_l1_loss" else "delta": option}
    y = ad.tensor([0.3, -1.0, 2.0])

    def f(x):
        return getattr(F, loss)(x, y, reduction="sum", **kw)

    for x in (ad.tensor([0.3, -1.0, 2.0]), ad.tensor([0.3 + option / 4, -1.0, 2.0])):
        np.testing.assert_allclose(ad.hessian(f)(x).data, np.eye(3) * curvature)
    assert gradgradcheck(lambda a, b: getattr(F, loss)(a, b, **kw), y, ad.tensor(y.data.copy()))


def test_regression_losses_errors():
    a = ad.zeros(3)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be >= 0, got -1"):
        F.smooth_l1_loss(a, a, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta must be > 0, got 0"):
        F.huber_loss(a, a, delta=0.0)
    with pytest.raises(ValueError, match=r"l1_loss: input shape \(3,\) and target shape "
                                         r"\(3, 1\) differ"):
        F.l1_loss(a, ad.zeros((3, 1)))  # PyTorch broadcasts to (3, 3) with a warning
    with pytest.raises(ValueError, match="huber_loss: reduction must be"):
        F.huber_loss(a, a, "avg")


# -- cosine embedding, margin ranking -----------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.2])
@pytest.mark.parametrize("batched", [True, False])
def test_cosine_embedding_loss_matches_pytorch(batched, margin, reduction):
    torch = _torch()
    rng = _rng()
    shape = (6, 4) if batched else (4,)
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    y = np.array([1.0, -1.0, -1.0, 1.0, -1.0, 1.0]) if batched else np.array(-1.0)
    compare(lambda u, v, t: F.cosine_embedding_loss(u, v, t, margin, reduction=reduction),
            lambda u, v, t: torch.nn.functional.cosine_embedding_loss(u, v, t, margin,
                                                                      reduction=reduction),
            [a, b], [y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("shapes", [((5,), (5,), (5,)), ((4, 1), (4, 3), (1, 3))])
def test_margin_ranking_loss_matches_pytorch(shapes, margin, reduction):
    torch = _torch()
    rng = _rng()
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    y = np.sign(rng.standard_normal(shapes[2]))
    a.flat[0], b.flat[0], y.flat[0] = 1.0, 1.0 + margin, 1.0  # exactly at the hinge
    compare(lambda u, v, t: F.margin_ranking_loss(u, v, t, margin, reduction=reduction),
            lambda u, v, t: torch.nn.functional.margin_ranking_loss(u, v, t, margin,
                                                                    reduction=reduction),
            [a, b, y])


def test_pair_losses_closed_forms_and_second_order():
    a = ad.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 4.0]])
    b = ad.tensor([[0.0, 2.0], [1.0, 1.0], [3.0, 4.0]])
    got = F.cosine_embedding_loss(a, b, np.array([1, -1, 1]), 0.5, reduction="none")
    np.testing.assert_allclose(got.data, [1.0, np.sqrt(0.5) - 0.5, 0.0], atol=1e-7)
    got = F.margin_ranking_loss(ad.tensor([1.0, 2.0]), ad.tensor([2.0, 1.0]),
                                ad.tensor([1.0, 1.0]), 0.5, reduction="none")
    np.testing.assert_allclose(got.data, [1.5, 0.0])
    rng = _rng()
    u, v = ad.tensor(rng.standard_normal((4, 3))), ad.tensor(rng.standard_normal((4, 3)))
    y = np.array([1, -1, 1, -1])
    f = lambda p, q: F.cosine_embedding_loss(p, q, y, -0.9)  # noqa: E731  (no hinge at 0)
    assert gradcheck(f, u, v)
    assert gradgradcheck(f, u, v)
    assert gradcheck(lambda p, q, t: F.margin_ranking_loss(p, q, t, 0.1),
                     ad.tensor([0.3, -1.0]), ad.tensor([1.0, 0.2]), ad.tensor([1.0, -1.0]))


def test_pair_losses_errors():
    a = ad.zeros((2, 3))
    with pytest.raises(ValueError, match=r"target values must be 1 \(alike\) or -1 "
                                         r"\(unlike\), got \[0\.0\]"):
        F.cosine_embedding_loss(a, a, np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"got \(2, 3\), \(2, 3\) and target \(2, 1\)"):
        F.cosine_embedding_loss(a, a, np.ones((2, 1)))
    with pytest.raises(ValueError, match="same number of dimensions, got shapes \\(3, 1\\), "
                                         "\\(3,\\) and \\(3,\\)"):
        F.margin_ranking_loss(ad.zeros((3, 1)), ad.zeros(3), ad.ones(3))


# -- the modules --------------------------------------------------------------------------------

def test_loss_modules_call_their_functions_with_their_options():
    rng = _rng()
    z = ad.tensor(rng.standard_normal((4, 3)))
    y = np.array([0, 2, 1, 2])
    w = ad.tensor([1.0, 2.0, 0.5], dtype=np.float64)
    ce = nn.CrossEntropyLoss(w, ignore_index=1, reduction="sum", label_smoothing=0.1)
    assert ce(z, y).item() == F.cross_entropy(z, y, w, ignore_index=1, reduction="sum",
                                              label_smoothing=0.1).item()
    logp = F.log_softmax(z, axis=1)
    assert nn.NLLLoss(w, ignore_index=2)(logp, y).item() == F.nll_loss(
        logp, y, w, ignore_index=2).item()
    t = rng.random((4, 3))
    pw = np.array([2.0, 1.0, 3.0])
    assert nn.BCEWithLogitsLoss(w, pos_weight=pw)(z, t).item() == \
        F.binary_cross_entropy_with_logits(z, t, w, pos_weight=pw).item()
    assert nn.L1Loss(reduction="sum")(z, t).item() == F.l1_loss(z, t, reduction="sum").item()
    assert nn.SmoothL1Loss(beta=0.3)(z, t).item() == F.smooth_l1_loss(z, t, beta=0.3).item()
    assert nn.HuberLoss("sum", 0.3)(z, t).item() == F.huber_loss(z, t, "sum", 0.3).item()
    assert nn.KLDivLoss(reduction="batchmean", log_target=True)(logp, logp).item() == 0.0
    assert nn.CosineEmbeddingLoss(0.2)(z, z * -1, np.ones(4) * -1).item() == 0.0
    assert nn.MarginRankingLoss(1.0, reduction="none")(
        ad.zeros(2), ad.zeros(2), ad.ones(2)).tolist() == [1.0, 1.0]


def test_class_weights_are_buffers_cast_with_the_module():
    loss = nn.CrossEntropyLoss(weight=[1.0, 2.0])
    assert [k for k, _ in loss.named_buffers()] == ["weight"]
    assert loss.double().weight.dtype == np.float64
    assert list(nn.BCEWithLogitsLoss(pos_weight=[2.0]).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss().state_dict()) == []
    with pytest.raises(TypeError, match="CrossEntropyLoss: weight must be an array of weights, "
                                        "got the string 'sum'; reduction is a keyword"):
        nn.CrossEntropyLoss("sum")
