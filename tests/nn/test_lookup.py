"""one_hot, embedding and nn.Embedding, and normalize: against PyTorch (values, gradients, the
in-place max_norm renormalization), closed forms, finite differences, errors."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


IDX = np.array([[1, 4, 4, 0], [2, 4, 9, 1]])


# -- one_hot --------------------------------------------------------------------------------

@pytest.mark.parametrize("num_classes", [-1, 10, 12])
def test_one_hot_matches_pytorch(num_classes):
    torch = _torch()
    want = torch.nn.functional.one_hot(torch.tensor(IDX), num_classes).numpy()
    got = F.one_hot(IDX, num_classes)
    assert got.dtype == np.int64 and got.shape == want.shape
    np.testing.assert_array_equal(got.data, want)


def test_one_hot_closed_form_and_float_labels():
    np.testing.assert_array_equal(F.one_hot(np.array([0, 2]), 3).data, [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(ad.tensor([0, 2])).tolist() == [[1, 0, 0], [0, 0, 1]]  # a float32 list
    assert F.one_hot(np.zeros((0,), np.int64), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(ValueError, match="class value 3 is out of range for num_classes=3"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="class values must be non-negative, got -1"):
        F.one_hot(np.array([-1, 2]))
    with pytest.raises(ValueError, match="cannot infer the number of classes from an empty"):
        F.one_hot(np.zeros(0, np.int64))
    with pytest.raises(TypeError, match="one_hot: indices must be integers, got dtype float"):
        F.one_hot(np.array([0.5]))
    with pytest.raises(ValueError, match=r"num_classes must be -1 \(inferred\) or >= 0, got -2"):
        F.one_hot(np.array([0]), -2)


# -- embedding --------------------------------------------------------------------------------

OPTIONS = [{}, {"padding_idx": 4}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
           {"padding_idx": 1, "scale_grad_by_freq": True}, {"max_norm": 1.0},
           {"max_norm": 1.5, "norm_type": 1.0}]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_embedding_matches_pytorch(options):
    torch = _torch()
    w = np.random.default_rng(0).standard_normal((10, 3))
    v = np.random.default_rng(1).standard_normal((*IDX.shape, 3))
    tw = torch.tensor(w, requires_grad=True)
    want = torch.nn.functional.embedding(torch.tensor(IDX), tw, **options)
    (want * torch.tensor(v)).sum().backward()
    aw = ad.tensor(w, requires_grad=True)
    got = F.embedding(IDX, aw, **options)
    (got * v).sum().backward()
    np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(aw.grad.data, tw.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(aw.data, tw.detach().numpy(), rtol=1e-15)  # max_norm: in place


def test_embedding_gradients_closed_form_and_second_order():
    w = ad.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    out = F.embedding(np.array([1, 1, 3, 0]), w, padding_idx=0, scale_grad_by_freq=True)
    np.testing.assert_array_equal(out.data, w.data[[1, 1, 3, 0]])
    out.sum().backward()
    # row 1 occurs twice: each of its gradients is divided by 2; row 0 is padding: none
    np.testing.assert_array_equal(w.grad.data, [[0, 0], [1, 1], [0, 0], [1, 1]])
    # finite differences see the true derivative, which padding_idx and scale_grad_by_freq
    # change on purpose (checked above and against PyTorch): the plain lookup is checked here
    w = ad.tensor(np.random.default_rng(2).standard_normal((10, 2)))
    assert gradcheck(lambda t: F.embedding(IDX, t) ** 2, w)
    assert gradgradcheck(lambda t: F.embedding(IDX, t) ** 2, w)


def test_embedding_max_norm_renormalizes_looked_up_rows_in_place():
    w = ad.tensor(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]), requires_grad=True)
    version = w._version
    F.embedding(np.array([0, 1]), w, max_norm=1.0)
    np.testing.assert_allclose(w.data[0], np.array([3.0, 4.0]) / (5 + 1e-7), rtol=1e-15)
    np.testing.assert_array_equal(w.data[1:], [[0.3, 0.4], [6.0, 8.0]])  # small, not looked up
    assert w._version > version


def test_embedding_errors():
    w = ad.ones((5, 2))
    with pytest.raises(IndexError, match=r"embedding: index 5 is out of range for 5 "
                                         r"embeddings \(indices must be in \[0, 4\]\)"):
        F.embedding(np.array([0, 5]), w)
    with pytest.raises(IndexError, match="index -1 is out of range"):
        F.embedding(np.array([-1]), w)
    with pytest.raises(ValueError, match="padding_idx 5 is out of range for 5 embeddings"):
        F.embedding(np.array([0]), w, padding_idx=5)
    with pytest.raises(ValueError, match="sparse gradients do not exist in this library"):
        F.embedding(np.array([0]), w, sparse=True)
    with pytest.raises(ValueError, match=r"weight must be a 2-d Tensor .* got \(5,\)"):
        F.embedding(np.array([0]), ad.ones(5))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        F.embedding(np.array([0.5]), w)


def test_embedding_module():
    ad.manual_seed(0)
    emb = nn.Embedding(10, 3, padding_idx=2)
    assert repr(emb) == "Embedding(10, 3, padding_idx=2)"
    assert emb.weight.shape == (10, 3) and emb.weight[2].tolist() == [0.0, 0.0, 0.0]
    assert abs(float(emb.weight.data.std()) - 1.0) < 0.5  # N(0, 1)
    out = emb(IDX)
    out.sum().backward()
    assert out.shape == (2, 4, 3) and emb.weight.grad.data[2].tolist() == [0.0, 0.0, 0.0]
    pre = nn.Embedding.from_pretrained(np.eye(3), padding_idx=0)
    assert not pre.weight.requires_grad and pre.weight.dtype == np.float64
    assert nn.Embedding.from_pretrained(np.eye(3), freeze=False).weight.requires_grad
    assert repr(nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)) == \
        "Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)"
    with pytest.raises(ValueError, match="Embedding: sizes must be positive"):
        nn.Embedding(0, 3)
    with pytest.raises(ValueError, match="Embedding: padding_idx 10 is out of range"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match=r"embeddings must be 2-d, got shape \(3,\)"):
        nn.Embedding.from_pretrained(np.ones(3))


def test_embedding_module_repr_matches_pytorch():
    torch = _torch()
    for kw in [{}, {"padding_idx": 0}, {"max_norm": 2.0, "norm_type": 1.0},
               {"scale_grad_by_freq": True}]:
        assert repr(nn.Embedding(7, 4, **kw)) == repr(torch.nn.Embedding(7, 4, **kw))


# -- normalize --------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("axis", [1, 0, -1])
def test_normalize_matches_pytorch(p, axis):
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    x[0, :, 0] = 0.0  # a zero vector along axis 1: divided by eps
    x[:, 1, 1] = 1e-13  # a tiny one along axis 0
    v = np.random.default_rng(1).standard_normal(x.shape)
    t = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.normalize(t, p=p, dim=axis)
    (want * torch.tensor(v)).sum().backward()
    a = ad.tensor(x, requires_grad=True)
    got = F.normalize(a, p=p, axis=axis)
    (got * v).sum().backward()
    np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_normalize_closed_form_second_order_and_dim():
    x = ad.tensor(np.array([[3.0, 4.0], [0.0, 0.0], [1e-13, 0.0]]))
    np.testing.assert_allclose(F.normalize(x).data, [[0.6, 0.8], [0, 0], [0.1, 0]], rtol=1e-12)
    np.testing.assert_array_equal(F.normalize(x, dim=0).data, F.normalize(x, axis=0).data)
    y = ad.tensor(np.random.default_rng(4).standard_normal((3, 4)))
    assert gradcheck(lambda t: F.normalize(t, p=3.0), y)
    assert gradgradcheck(lambda t: F.normalize(t), y)
    with pytest.raises(ValueError, match="normalize: needs a tensor of at least 1 dimension"):
        F.normalize(ad.tensor(1.0))
    with pytest.raises(TypeError, match="normalize: got axis=0 and dim=1"):
        F.normalize(x, axis=0, dim=1)
