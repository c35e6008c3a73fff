"""cosine_similarity, pairwise_distance and their modules: values, gradients and second
gradients equal to PyTorch's (float64, broadcasting, norms below eps), closed forms,
finite differences, dtypes and the errors."""

import math

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

# (x1 shape, x2 shape, dim): broadcasting both ways, negative dims, 0-d pairs
COS_CASES = [((4, 3), (4, 3), 1), ((2, 3, 1), (4,), 1), ((5,), (2, 5), -1), ((3, 2, 4), (1, 4), 0),
             ((), (), 0), ((0, 3), (0, 3), 1), ((3,), (3,), 0)]
# (x1 shape, x2 shape, p)
DIST_CASES = [((4, 3), (4, 3), 2.0), ((3, 4), (4,), 1.0), ((4,), (2, 4), 3.0),
              ((2, 3), (2, 3), math.inf), ((2, 3), (2, 3), 0.5), ((2, 3), (2, 3), -1.0),
              ((2, 3), (2, 3), -math.inf), ((), (), 2.0), ((0, 3), (0, 3), 2.0)]


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _compare(torch, fn_ad, fn_t, arrays, second=True):
    """Values, gradients (a random cotangent) and, if `second`, second gradients (of the
    squared gradient norm) of fn on both engines."""
    v = np.random.default_rng(7).standard_normal(np.shape(fn_ad(*map(ad.tensor, arrays)).data))
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    xs = [ad.tensor(a, requires_grad=True) for a in arrays]
    ty, y = fn_t(*ts), fn_ad(*xs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-13, atol=1e-15)
    tg = torch.autograd.grad((ty * torch.tensor(v)).sum(), ts, create_graph=True)
    g = ad.gradients((y * v).sum(), xs, create_graph=True)
    for a, b in zip(g, tg):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-14)
    if second and ty.numel():
        t2 = torch.autograd.grad(sum((b * b).sum() for b in tg), ts)
        g2 = ad.gradients(sum((a * a).sum() for a in g), xs)
        for a, b in zip(g2, t2):
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("s1, s2, dim", COS_CASES)
def test_cosine_similarity_matches_pytorch(s1, s2, dim):
    torch = _torch()
    rng = np.random.default_rng(sum(s1) + sum(s2) + dim)
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    _compare(torch, lambda x, y: F.cosine_similarity(x, y, dim),
             lambda x, y: torch.nn.functional.cosine_similarity(x, y, dim), [a, b])


@pytest.mark.parametrize("scale", [0.0, 1e-10, 1e-9])
def test_cosine_similarity_norms_below_eps_match_pytorch(scale):
    """A norm below eps is clamped, its gradient the unclamped norm's (PyTorch 2.x)."""
    torch = _torch()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)) * scale, rng.standard_normal((3, 4))
    a[0] = 1.0  # one row above eps
    _compare(torch, lambda x, y: F.cosine_similarity(x, y, eps=1e-8),
             lambda x, y: torch.nn.functional.cosine_similarity(x, y, eps=1e-8), [a, b],
             second=scale > 0)


@pytest.mark.parametrize("s1, s2, p", DIST_CASES)
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance_matches_pytorch(s1, s2, p, keepdim):
    torch = _torch()
    rng = np.random.default_rng(len(s1) + len(s2))
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    _compare(torch, lambda x, y: F.pairwise_distance(x, y, p, 1e-6, keepdim),
             lambda x, y: torch.nn.functional.pairwise_distance(x, y, p, 1e-6, keepdim),
             [a, b], second=p in (2.0, 3.0))  # p = 1: no second derivative


def test_pairwise_distance_equal_vectors_match_pytorch():
    torch = _torch()
    a = np.ones((2, 3))
    # (no second gradients: |grad|^2 is 1 for p = 2, both engines give rounding noise)
    _compare(torch, F.pairwise_distance, torch.nn.functional.pairwise_distance, [a, a],
             second=False)


def test_closed_forms():
    a, b = np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[4.0, 3.0], [0.0, 2.0]])
    np.testing.assert_allclose(F.cosine_similarity(a, b).data, [24 / 25, 0.0], rtol=1e-15)
    # a zero vector: 0, each norm clamped on its own (not the product's square root)
    np.testing.assert_allclose(F.cosine_similarity(np.zeros(2), np.array([1e-5, 0]), 0,
                                                   eps=1e-4).data, 0.0)
    np.testing.assert_allclose(F.cosine_similarity(np.array([1e-6, 0]), np.array([1.0, 0]),
                                                   0, eps=1e-4).data, 1e-2, rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(a, b, eps=0.0).data,
                               [math.sqrt(2), math.sqrt(5)], rtol=1e-15)
    np.testing.assert_allclose(F.pairwise_distance(a, a).data, [1e-6 * math.sqrt(2)] * 2,
                               rtol=1e-12)
    np.testing.assert_allclose(F.pairwise_distance(a, b, p=1, eps=0.0, keepdim=True).data,
                               [[2.0], [3.0]])
    assert F.cosine_similarity(ad.tensor(2.0), ad.tensor(-3.0), 0).item() == -1.0


def test_clamped_norm_passes_the_gradient():
    """Below eps the gradient is x2 / (eps ||x2||) minus the unclamped norm's term: for x1
    along e1 at 1e-10 and x2 = e2, d cos / d x1 = e2 / eps (PyTorch 2.x)."""
    x1 = ad.tensor([1e-10, 0.0], requires_grad=True)
    F.cosine_similarity(x1, np.array([0.0, 1.0]), 0, eps=1e-8).backward()
    np.testing.assert_allclose(x1.grad.data, [0.0, 1e8], rtol=1e-12)


@pytest.mark.parametrize("fn", [lambda x, y: F.cosine_similarity(x, y),
                                lambda x, y: F.cosine_similarity(x, y, dim=0),
                                lambda x, y: F.pairwise_distance(x, y),
                                lambda x, y: F.pairwise_distance(x, y, p=3.0),
                                lambda x, y: F.pairwise_distance(x, y, p=1.0, keepdim=True)])
def test_gradcheck(fn):
    rng = np.random.default_rng(0)
    x = ad.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = ad.tensor(rng.standard_normal((4,)), requires_grad=True)
    assert gradcheck(fn, x, y)
    assert gradgradcheck(fn, x, y)


def test_dtypes():
    f32 = np.ones((2, 3), np.float32)
    for fn in (F.cosine_similarity, F.pairwise_distance):
        x = ad.tensor(f32, requires_grad=True)
        y = fn(x, f32)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
        assert fn(f32, np.ones((2, 3))).dtype == np.float64
        assert fn(np.ones((2, 3), np.int64), np.ones((2, 3), np.int64)).dtype == np.float32


def test_empty():
    assert F.cosine_similarity(np.ones((0, 3)), np.ones((0, 3))).shape == (0,)
    assert F.pairwise_distance(np.ones((0, 3)), np.ones((0, 3))).shape == (0,)
    np.testing.assert_array_equal(F.cosine_similarity(np.ones((2, 0)), np.ones((2, 0))).data,
                                  [0.0, 0.0])


def test_modules():
    a, b = np.array([[3.0, 4.0]]), np.array([[4.0, 3.0]])
    cos = nn.CosineSimilarity(dim=-1, eps=1e-3)
    assert (cos.axis, cos.eps) == (-1, 1e-3) and repr(cos) == "CosineSimilarity()"
    np.testing.assert_allclose(cos(a, b).data, [0.96])
    dist = nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)
    assert (dist.norm, dist.eps, dist.keepdim) == (1.0, 0.0, True)
    np.testing.assert_allclose(dist(a, b).data, [[2.0]])
    assert repr(dist) == "PairwiseDistance()"


def test_errors():
    with pytest.raises(ValueError, match=r"cosine_similarity: the shapes of x1 \(3, 2\) and "
                                         r"x2 \(4, 2\) do not broadcast"):
        F.cosine_similarity(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"cosine_similarity: axis 1 is out of range .*\(3,\)"):
        F.cosine_similarity(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"cosine_similarity: axis -3 is out of range"):
        F.cosine_similarity(np.ones((2, 3)), np.ones(3), dim=-3)
    with pytest.raises(ValueError, match=r"cosine_similarity: axis 1 is out of range .*\(\)"):
        F.cosine_similarity(np.ones(()), np.ones(()))
    with pytest.raises(ValueError, match=r"cosine_similarity: eps must be >= 0, got -1\.0"):
        F.cosine_similarity(np.ones((2, 3)), np.ones(3), eps=-1.0)
    with pytest.raises(TypeError, match="cosine_similarity: got axis=0 and dim=1"):
        F.cosine_similarity(np.ones((2, 3)), np.ones(3), axis=0, dim=1)
    with pytest.raises(TypeError, match="CosineSimilarity: got axis=0 and dim=1"):
        nn.CosineSimilarity(0, dim=1)
    assert F.cosine_similarity(np.ones((2, 3)), np.ones(3), axis=0).shape == (3,)
    assert nn.CosineSimilarity(dim=0)(np.ones((2, 3)), np.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match=r"pairwise_distance: the shapes of x1 \(3,\) and x2 "
                                         r"\(4,\) do not broadcast"):
        F.pairwise_distance(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="pairwise_distance: p must be a number, got 'fro'"):
        F.pairwise_distance(np.ones(3), np.ones(3), p="fro")
