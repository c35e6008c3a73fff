"""triplet_margin_loss, poisson_nll_loss, gaussian_nll_loss and their modules: values,
gradients of every tensor argument and second gradients equal to PyTorch's (float64,
broadcasting, var's shapes and clamp), closed forms, finite differences, dtypes, errors."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _compare(torch, fn, tfn, arrays, grads=None, second=True, rtol=1e-13):
    """Values, gradients of the inputs flagged in `grads` (all by default) and second
    gradients on both engines; arrays that are not ndarrays are passed as they are."""
    grads = grads or [isinstance(a, np.ndarray) for a in arrays]
    ts = [torch.tensor(a, requires_grad=g) if isinstance(a, np.ndarray) else a
          for a, g in zip(arrays, grads)]
    xs = [ad.tensor(a, requires_grad=g) if isinstance(a, np.ndarray) else a
          for a, g in zip(arrays, grads)]
    ty, y = tfn(*ts), fn(*xs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=rtol, atol=1e-15)
    tin = [t for t, g in zip(ts, grads) if g]
    xin = [x for x, g in zip(xs, grads) if g]
    v = np.random.default_rng(2).standard_normal(y.shape)
    tg = torch.autograd.grad((ty * torch.tensor(v)).sum(), tin, create_graph=True)
    g = ad.gradients((y * v).sum(), xin, create_graph=True)
    for a, b in zip(g, tg):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=1e-14)
    if second:
        t2 = torch.autograd.grad(sum((b * b).sum() for b in tg), tin, allow_unused=True)
        g2 = ad.gradients(sum((a * a).sum() for a in g), xin)
        for a, b in zip(g2, t2):
            b = np.zeros(a.shape) if b is None else b.numpy()
            np.testing.assert_allclose(a.data, b, rtol=1e-11, atol=1e-13)


TRIPLET_CASES = [((5, 4), (5, 4), (5, 4)), ((5, 4), (1, 4), (5, 4)), ((4,), (4,), (4,)),
                 ((2, 3, 4), (2, 3, 4), (1, 3, 4)), ((0, 4), (0, 4), (0, 4))]


@pytest.mark.filterwarnings("ignore:Mean of empty slice")  # the empty batch: NaN, as PyTorch's
@pytest.mark.parametrize("shapes", TRIPLET_CASES)
@pytest.mark.parametrize("p, swap, reduction", [(2.0, False, "mean"), (1.0, True, "sum"),
                                                (3.0, True, "none"), (2, True, "mean")])
def test_triplet_margin_loss_matches_pytorch(shapes, p, swap, reduction):
    torch = _torch()
    rng = np.random.default_rng(len(shapes[0]) + int(p))
    arrays = [rng.standard_normal(s) for s in shapes]
    kw = dict(margin=1.5, p=p, eps=1e-6, swap=swap, reduction=reduction)
    _compare(torch, lambda a, b, c: F.triplet_margin_loss(a, b, c, **kw),
             lambda a, b, c: torch.nn.functional.triplet_margin_loss(a, b, c, **kw), arrays,
             second=p != 1.0 and np.prod(shapes[0]) > 0)


def test_triplet_swap_tie_splits_the_gradient_as_pytorch():
    torch = _torch()
    a, p = np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]])
    n = np.array([[1.0, 0.0]])  # d(a, n) = d(p, n) up to eps's sign: a tie for eps = 0
    kw = dict(margin=3.0, eps=0.0, swap=True)
    _compare(torch, lambda *t: F.triplet_margin_loss(*t, **kw),
             lambda *t: torch.nn.functional.triplet_margin_loss(*t, **kw), [a, p, n],
             second=False)


@pytest.mark.parametrize("log_input, full", [(True, False), (False, False), (True, True),
                                             (False, True)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_poisson_nll_loss_matches_pytorch(log_input, full, reduction):
    torch = _torch()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5)) if log_input else rng.random((4, 5)) * 3
    y = rng.integers(2, 6, (4, 5)).astype(float)  # PyTorch's target gradient is NaN at 0
    y[0] = [2.0, 1.5, 3.0, 4.0, 1.5]
    kw = dict(log_input=log_input, full=full, eps=1e-8, reduction=reduction)
    _compare(torch, lambda a, b: F.poisson_nll_loss(a, b, **kw),
             lambda a, b: torch.nn.functional.poisson_nll_loss(a, b, **kw), [x, y])


def test_poisson_full_at_target_0_and_1():
    """Stirling's term is 0 for y <= 1 and so is its gradient; PyTorch's target gradient is
    NaN at y = 0 (log 0 in the masked branch), ours is -x (log_input) and the values equal."""
    torch = _torch()
    x, y = np.array([0.5, -0.25, 1.0]), np.array([0.0, 1.0, 0.5])
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    tl = torch.nn.functional.poisson_nll_loss(tx, ty, full=True, reduction="sum")
    tl.backward()
    ax, ay = ad.tensor(x, requires_grad=True), ad.tensor(y, requires_grad=True)
    loss = F.poisson_nll_loss(ax, ay, full=True, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), tl.item(), rtol=1e-15)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), rtol=1e-15)
    assert np.isnan(ty.grad.numpy()[0])
    np.testing.assert_array_equal(ay.grad.data, -x)
    np.testing.assert_allclose(ay.grad.data[1:], ty.grad.numpy()[1:], rtol=1e-15)


# (input shape, target shape, var shape or "float")
GAUSS_CASES = [((4, 3), (4, 3), (4, 3)), ((4, 3), (4, 3), (4,)), ((4, 3), (4, 3), (4, 1)),
               ((2, 3, 4), (2, 3, 4), (2, 1, 4)), ((4, 3), (3,), (4, 3)),
               ((4, 3), (4, 3), "float"), ((5,), (5,), ()), ((0, 3), (0, 3), (0,))]


@pytest.mark.filterwarnings("ignore:Mean of empty slice")  # the empty batch: NaN, as PyTorch's
@pytest.mark.parametrize("shapes", GAUSS_CASES)
@pytest.mark.parametrize("full, reduction", [(False, "mean"), (True, "sum"), (True, "none")])
def test_gaussian_nll_loss_matches_pytorch(shapes, full, reduction):
    torch = _torch()
    rng = np.random.default_rng(len(shapes[0]))
    x, y = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    var = 0.7 if shapes[2] == "float" else rng.random(shapes[2]) + 0.1
    if shapes[2] == (4, 3):
        var[0, :2] = [0.0, 1e-8]  # clamped at eps: the gradient passes, as PyTorch's
    kw = dict(full=full, eps=1e-6, reduction=reduction)
    _compare(torch, lambda a, b, v: F.gaussian_nll_loss(a, b, v, **kw),
             lambda a, b, v: torch.nn.functional.gaussian_nll_loss(a, b, v, **kw),
             [x, y, var], second=x.size > 0, rtol=1e-12)


def test_closed_forms():
    a, p, n = np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[3.0, 4.0], [1.0, 0.0]]), \
        np.array([[0.0, 1.0], [1.5, 0.0]])
    np.testing.assert_allclose(
        F.triplet_margin_loss(a, p, n, eps=0.0, reduction="none").data, [5.0, 0.5])
    # swap: row 1 keeps d(a, n) = 1 < d(p, n); row 2 takes d(p, n) = 0.5 < d(a, n) = 1.5
    np.testing.assert_allclose(
        F.triplet_margin_loss(a, p, n, margin=9.0, eps=0.0, swap=True, reduction="none").data,
        [5 + 9 - 1, 1 + 9 - 0.5], rtol=1e-15)
    np.testing.assert_allclose(
        F.triplet_margin_loss(a, p, n, margin=9.0, eps=0.0, reduction="none").data,
        [5 + 9 - 1, 1 + 9 - 1.5], rtol=1e-15)
    x, y = np.array([0.0, math.log(2.0)]), np.array([1.0, 3.0])
    np.testing.assert_allclose(F.poisson_nll_loss(x, y, reduction="none").data,
                               [1.0, 2 - 3 * math.log(2)], rtol=1e-15)
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
    np.testing.assert_allclose(F.poisson_nll_loss(x, y, full=True, reduction="none").data,
                               [1.0, 2 - 3 * math.log(2) + stirling], rtol=1e-15)
    np.testing.assert_allclose(F.poisson_nll_loss(np.array([2.0]), np.array([3.0]),
                                                  log_input=False, eps=0.5).data,
                               2 - 3 * math.log(2.5), rtol=1e-15)
    np.testing.assert_allclose(F.gaussian_nll_loss(np.array([1.0]), np.array([3.0]),
                                                   np.array([2.0]), full=True).data,
                               0.5 * (math.log(2) + 2 + math.log(2 * math.pi)), rtol=1e-15)
    # var 0 is clamped at eps; its gradient is the unclamped one, (1/v - d^2/v^2) / 2 at eps
    v = ad.tensor(np.array([0.0]), requires_grad=True)
    loss = F.gaussian_nll_loss(np.array([1.0]), np.array([1.0]), v, eps=0.25)
    np.testing.assert_allclose(loss.data, 0.5 * math.log(0.25), rtol=1e-15)
    loss.backward()
    np.testing.assert_allclose(v.grad.data, [2.0], rtol=1e-15)


@pytest.mark.parametrize("fn", [
    lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=5.0),
    lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=5.0, p=3, swap=True),
    lambda a, b, c: F.poisson_nll_loss(a, c * c + 2, full=True),
    lambda a, b, c: F.poisson_nll_loss(a * a + 0.5, b, log_input=False),
    lambda a, b, c: F.gaussian_nll_loss(a, b, c * c + 0.5, full=True),
    lambda a, b, c: F.gaussian_nll_loss(a, b, (c * c + 0.5).sum(axis=-1)),
])
def test_gradcheck(fn):
    rng = np.random.default_rng(3)
    args = [ad.tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3)]
    assert gradcheck(fn, *args)
    assert gradgradcheck(fn, *args)


def test_dtypes():
    f32 = [ad.tensor(np.random.default_rng(i).random((3, 4)).astype(np.float32) + 0.5,
                     requires_grad=True) for i in range(3)]
    for fn in (lambda a, b, c: F.triplet_margin_loss(a, b, c),
               lambda a, b, c: F.poisson_nll_loss(a, b, full=True),
               lambda a, b, c: F.poisson_nll_loss(a, b, log_input=False),
               lambda a, b, c: F.gaussian_nll_loss(a, b, c, full=True),
               lambda a, b, c: F.gaussian_nll_loss(a, b, 0.5)):
        for t in f32:
            t.grad = None
        loss = fn(*f32)
        assert loss.dtype == np.float32
        loss.backward()
        assert all(t.grad is None or t.grad.dtype == np.float32 for t in f32)


def test_modules():
    a, p, n = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), np.array([[0.0, 1.0]])
    loss = nn.TripletMarginLoss(margin=2.0, p=2.0, eps=0.0, swap=True, reduction="sum")
    assert (loss.margin, loss.p, loss.eps, loss.swap, loss.reduction) == (2.0, 2.0, 0.0, True,
                                                                          "sum")
    np.testing.assert_allclose(loss(a, p, n).data, 5 + 2 - 1)
    assert repr(loss) == "TripletMarginLoss()"
    pl = nn.PoissonNLLLoss(log_input=False, full=True, eps=0.5, reduction="none")
    np.testing.assert_allclose(pl(np.array([2.0]), np.array([1.0])).data, [2 - math.log(2.5)])
    gl = nn.GaussianNLLLoss(full=False, eps=0.25, reduction="sum")
    np.testing.assert_allclose(gl(np.array([1.0, 1.0]), np.array([1.0, 1.0]),
                                  np.array([0.0, 1.0])).data, 0.5 * math.log(0.25))
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)  # keyword-only, as PyTorch's
    with pytest.raises(TypeError):
        nn.PoissonNLLLoss(True, False, 1e-8)  # eps after the deprecated size_average


def test_errors():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0, "
                                         "got 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match=r"triplet_margin_loss: anchor, positive and negative "
                                         r"must have the same number of dimensions, got shapes "
                                         r"\(2, 3\), \(2, 3\) and \(3,\)"):
        F.triplet_margin_loss(x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"triplet_margin_loss: the shapes .* \(2, 3\), "
                                         r"\(2, 3\) and \(4, 3\)"):
        F.triplet_margin_loss(x, x, np.ones((4, 3)))
    with pytest.raises(ValueError, match="triplet_margin_loss: reduction must be"):
        F.triplet_margin_loss(x, x, x, reduction="max")
    with pytest.raises(ValueError, match=r"poisson_nll_loss: reduction must be .* got 'max'"):
        F.poisson_nll_loss(x, x, reduction="max")
    with pytest.raises(ValueError, match=r"poisson_nll_loss: the shapes of input and target "
                                         r"do not broadcast together: \(2, 3\), \(4,\)"):
        F.poisson_nll_loss(x, np.ones(4))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must be non-negative, got "
                                         r"entries \[-1\.0\]"):
        F.gaussian_nll_loss(x, x, np.array([[1.0, -1.0, 1.0], [1.0, 1.0, 1.0]]))
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must be non-negative, got "
                                         r"-0\.5"):
        F.gaussian_nll_loss(x, x, -0.5)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var must have the input's shape "
                                         r"\(2, 3\).* got var shape \(3,\)"):
        F.gaussian_nll_loss(x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"got var shape \(1, 1\)"):
        F.gaussian_nll_loss(x, x, np.ones((1, 1)))  # two axes differ (PyTorch's rule)
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: reduction must be .* got 'max'"):
        F.gaussian_nll_loss(x, x, x, reduction="max")
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: the shapes of input, target and "
                                         r"var do not broadcast together"):
        F.gaussian_nll_loss(x, np.ones(4), x)
