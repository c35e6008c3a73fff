"""soft_margin, multilabel_soft_margin, hinge_embedding, multi_margin, multilabel_margin and
triplet_margin_with_distance losses (and their modules): closed forms, gradients to second
order, the errors, and PyTorch's numbers where it is installed."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

REDUCTIONS = ["mean", "sum", "none"]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_closed_forms():
    x = np.array([[0.1, 0.2, 0.4, 0.8], [1.0, -1.0, 0.5, 0.0]])
    got = F.multi_margin_loss(ad.tensor(x), [3, 1], reduction="none").data
    row0 = (0.3 + 0.4 + 0.6) / 4
    row1 = (max(0, 1 + 1 + 1.0) + max(0, 1 + 1 + 0.5) + max(0, 1 + 1 + 0.0)) / 4
    np.testing.assert_allclose(got, [row0, row1])
    got = F.multi_margin_loss(ad.tensor(x), [3, 1], p=2, margin=0.5,
                              weight=ad.tensor([1.0, 2.0, 1.0, 3.0]), reduction="none").data
    np.testing.assert_allclose(got, [3 * (0.0 + 0.1**2 + 0.0) / 4,
                                     2 * (2.5**2 + 2.0**2 + 1.5**2) / 4])
    # classes {3, 0} (the 1 after -1 is not listed): pairs (j, i) with i in {1, 2}
    got = F.multilabel_margin_loss(ad.tensor(x[:1]), [[3, 0, -1, 1]]).item()
    np.testing.assert_allclose(got, (0.4 + 0.6 + 1.1 + 1.3) / 4)
    got = F.multilabel_margin_loss(ad.tensor(x[0]), [3, 3, -1, 0]).item()  # 3 listed twice
    np.testing.assert_allclose(got, 2 * (max(0, 1 - 0.7) + 0.4 + 0.6) / 4)
    y = np.array([[1.0, -1.0, 1.0, -1.0]])
    np.testing.assert_allclose(F.soft_margin_loss(ad.tensor(x[:1]), ad.tensor(y)).item(),
                               np.log1p(np.exp(-y * x[:1])).mean())
    t = np.array([[1.0, 0.0, 0.3, 1.0]])
    w = np.array([1.0, 2.0, 0.5, 1.0])
    ref = -(t * np.log(sigmoid(x[:1])) + (1 - t) * np.log(sigmoid(-x[:1]))) * w
    np.testing.assert_allclose(
        F.multilabel_soft_margin_loss(ad.tensor(x[:1]), ad.tensor(t), ad.tensor(w),
                                      reduction="none").data, ref.mean(axis=1))
    d = np.array([0.3, 0.3, 2.0, 1.0])
    np.testing.assert_allclose(F.hinge_embedding_loss(ad.tensor(d), np.array([1, -1, -1, -1]),
                                                      reduction="sum").item(), 0.3 + 0.7)


def test_soft_margin_stays_finite_where_log1p_exp_overflows():
    x = ad.tensor(np.array([-800.0, 800.0]), requires_grad=True)
    loss = F.soft_margin_loss(x, ad.tensor(np.array([1.0, 1.0])), reduction="sum")
    np.testing.assert_allclose(loss.item(), 800.0)  # PyTorch's log1p(exp(800)) is inf
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [-1.0, 0.0])


def test_hinges_have_no_gradient_at_exactly_zero_as_pytorch_kernels():
    x = ad.tensor(np.array([[0.0, 1.0, 0.5]]), requires_grad=True)  # 1 - 1 + 0 = 0: hinge 0
    F.multi_margin_loss(x, [1], reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, -1 / 3, 1 / 3]])  # class 0: z = 0
    x.grad = None
    F.multilabel_margin_loss(x, [[1, -1, 0]], reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, -1 / 3, 1 / 3]])


@pytest.mark.parametrize("p", [1, 2])
def test_gradients_to_second_order(p):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((3, 4)))
    labels = np.array([0, 3, 1])
    targets = np.array([[1, 2, -1, 0], [3, -1, 0, 0], [0, 1, 2, -1]])
    w = ad.tensor(rng.random(4) + 0.5)
    y = ad.tensor(rng.choice([-1.0, 1.0], (3, 4)))
    t01 = ad.tensor(rng.random((3, 4)))
    cases = [lambda a: F.multi_margin_loss(a, labels, p, 0.7, w),
             lambda a: F.multilabel_margin_loss(a, targets),
             lambda a, b: F.soft_margin_loss(a, b * y),
             lambda a, b: F.multilabel_soft_margin_loss(a, b, w),
             lambda a: F.hinge_embedding_loss(a, np.sign(y.data), margin=0.5)]
    for f in cases:
        args = (x,) if f.__code__.co_argcount == 1 else (x, t01)
        assert gradcheck(f, *args) and gradgradcheck(f, *args)
    a, b, c = (ad.tensor(rng.standard_normal((3, 4))) for _ in range(3))
    for dist in (None, lambda u, v: 1 - F.cosine_similarity(u, v)):
        def f(u, v, z, dist=dist):
            return F.triplet_margin_with_distance_loss(u, v, z, distance_function=dist,
                                                       margin=2.0, swap=p == 2)
        assert gradcheck(f, a, b, c) and gradgradcheck(f, a, b, c)


def test_unbatched_and_modules():
    x = ad.tensor(np.array([0.1, 0.2, 0.4, 0.8]))
    assert F.multi_margin_loss(x, 3, reduction="none").shape == ()
    np.testing.assert_allclose(F.multi_margin_loss(x, 3).item(), 0.325)
    assert F.multilabel_margin_loss(x, [3, -1, 0, 0], reduction="none").shape == ()
    w = ad.tensor(np.array([1.0, 2.0, 1.0, 3.0]))
    assert nn.MultiMarginLoss(2, 0.5, w)(x[None], [3]).item() == F.multi_margin_loss(
        x[None], [3], 2, 0.5, w).item()
    assert "weight" in dict(nn.MultiMarginLoss(weight=w).named_buffers())
    assert "weight" in dict(nn.MultiLabelSoftMarginLoss(weight=w).named_buffers())
    assert nn.SoftMarginLoss(reduction="sum")(x, ad.ones(4)).item() == F.soft_margin_loss(
        x, ad.ones(4), reduction="sum").item()
    assert nn.HingeEmbeddingLoss(0.5)(x, np.ones(4)).item() == pytest.approx(0.375)
    assert nn.MultiLabelMarginLoss()(x, [3, -1, 0, 0]).item() == F.multilabel_margin_loss(
        x, [3, -1, 0, 0]).item()
    loss = nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: ad.abs(u - v),
                                            margin=2.0, reduction="none")
    np.testing.assert_allclose(loss(x, x + 1, x + 2).data, [1.0] * 4)  # 1 - 2 + 2
    assert repr(nn.MultiMarginLoss()) == "MultiMarginLoss()"
    with pytest.raises(TypeError):
        nn.SoftMarginLoss("sum")  # reduction is keyword-only (PyTorch's size_average stood there)


def test_errors():
    x = ad.zeros((2, 3))
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2, got 3"):
        F.multi_margin_loss(x, [0, 1], p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: label 3 is out of range for 3 "
                                         r"classes \(labels must be in \[0, 2\]\)"):
        F.multi_margin_loss(x, [0, 3])
    with pytest.raises(ValueError, match="label -1 is out of range"):
        F.multi_margin_loss(x, [0, -1])
    with pytest.raises(TypeError, match="class labels must be integers, got dtype float64"):
        F.multi_margin_loss(x, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"target shape \(3,\) does not fit input shape"):
        F.multi_margin_loss(x, [0, 1, 2])
    with pytest.raises(ValueError, match="multi_margin_loss: weight must hold one weight per "
                                         "class"):
        F.multi_margin_loss(x, [0, 1], weight=ad.ones(2))
    with pytest.raises(ValueError, match="multilabel_margin_loss: target 3 is out of range"):
        F.multilabel_margin_loss(x, [[0, 3, -1], [1, -1, 0]])
    with pytest.raises(ValueError, match="multilabel_margin_loss: target -2 is out of range"):
        F.multilabel_margin_loss(x, [[0, -1, -2], [1, -1, 0]])
    with pytest.raises(TypeError, match="multilabel_margin_loss: target must hold integer"):
        F.multilabel_margin_loss(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: expected input \(N, C\)"):
        F.multilabel_margin_loss(x, [0, 1])
    with pytest.raises(ValueError, match=r"hinge_embedding_loss: target values must be 1 "
                                         r"\(alike\) or -1 \(unlike\), got \[0.0\]"):
        F.hinge_embedding_loss(x, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="hinge_embedding_loss: input shape"):
        F.hinge_embedding_loss(x, np.ones(3))
    with pytest.raises(ValueError, match="soft_margin_loss: input shape"):
        F.soft_margin_loss(x, ad.ones(3))
    with pytest.raises(ValueError, match="multilabel_soft_margin_loss: weight of shape"):
        F.multilabel_soft_margin_loss(x, x, ad.ones(4))
    with pytest.raises(ValueError, match="multilabel_soft_margin_loss: expected input"):
        F.multilabel_soft_margin_loss(ad.tensor(0.0), ad.tensor(1.0))
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be "
                                         "greater than 0"):
        F.triplet_margin_with_distance_loss(x, x, x, margin=0.0)
    with pytest.raises(ValueError, match="must have the same number of dimensions"):
        F.triplet_margin_with_distance_loss(x, x, ad.zeros(3))
    with pytest.raises(ValueError, match="soft_margin_loss: reduction must be"):
        F.soft_margin_loss(x, x, reduction="avg")
    with pytest.raises(TypeError, match="weight requires grad"):
        F.multi_margin_loss(x, [0, 1], weight=ad.ones(3, requires_grad=True))


@pytest.mark.parametrize("seed", range(12))
def test_match_pytorch(seed):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    TF = torch.nn.functional
    rng = np.random.default_rng(seed)
    n, c = int(rng.choice([1, 3])), int(rng.integers(1, 5))
    r = REDUCTIONS[seed % 3]
    x = rng.standard_normal((n, c)) * 2
    if seed % 4 == 0:
        x = np.round(x)  # hinges at exactly 0
    y = rng.choice([-1.0, 1.0], (n, c))
    labels = rng.integers(0, c, n)
    targets = np.full((n, c), -1)
    for i in range(n):
        k = int(rng.integers(0, c + 1))
        targets[i, :k] = rng.integers(0, c, k)
    w = rng.random(c) + 0.1
    p, margin = 1 + seed % 2, [1.0, 0.5, 2.0][seed % 3]
    pairs = [
        (lambda a: F.soft_margin_loss(a, ad.tensor(y), reduction=r),
         lambda a: TF.soft_margin_loss(a, torch.tensor(y), reduction=r)),
        (lambda a: F.multilabel_soft_margin_loss(a, ad.tensor((y + 1) / 2), ad.tensor(w),
                                                 reduction=r),
         lambda a: TF.multilabel_soft_margin_loss(a, torch.tensor((y + 1) / 2), torch.tensor(w),
                                                  reduction=r)),
        (lambda a: F.hinge_embedding_loss(a, y, margin, reduction=r),
         lambda a: TF.hinge_embedding_loss(a, torch.tensor(y), margin, reduction=r)),
        (lambda a: F.multi_margin_loss(a, labels, p, margin, ad.tensor(w), reduction=r),
         lambda a: TF.multi_margin_loss(a, torch.tensor(labels), p, margin, torch.tensor(w),
                                        reduction=r)),
        (lambda a: F.multilabel_margin_loss(a, targets, reduction=r),
         lambda a: TF.multilabel_margin_loss(a, torch.tensor(targets), reduction=r)),
        (lambda a: F.triplet_margin_with_distance_loss(a, ad.tensor(y), ad.tensor(x * y),
                                                       margin=margin, swap=p == 2,
                                                       reduction=r),
         lambda a: TF.triplet_margin_with_distance_loss(a, torch.tensor(y), torch.tensor(x * y),
                                                        margin=margin, swap=p == 2,
                                                        reduction=r)),
    ]
    g = None
    for ours, theirs in pairs:
        a = ad.tensor(x, requires_grad=True)
        b = torch.tensor(x, requires_grad=True)
        got, expected = ours(a), theirs(b)
        np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-12, atol=1e-14)
        g = np.random.default_rng(seed).standard_normal(got.shape)
        (ga,) = ad.gradients(got, [a], ad.tensor(g))
        (gb,) = torch.autograd.grad(expected, [b], torch.tensor(g))
        np.testing.assert_allclose(ga.data, gb.numpy(), rtol=1e-12, atol=1e-14)
