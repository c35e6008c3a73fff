"""The Tensor as a NumPy-like array: facts, constructors, seeding, repr."""

import numpy as np
import pytest

import autodiff as ad


def test_array_facts():
    t = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], name="t")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.dtype == np.float32 and t.T.shape == (3, 2)
    assert t[1, 2].item() == 6.0 and isinstance(t.numpy(), np.ndarray)
    assert [row.shape for row in t] == [(3,), (3,)]
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert "name='t'" in repr(t) and "tensor(" in repr(t)
    assert "grad_fn=<mul>" in repr(ad.tensor(1.0, requires_grad=True) * 2)
    with pytest.raises(ValueError, match="6 elements"):
        t.item()


def test_constructors():
    assert ad.zeros(2, 3).shape == (2, 3) and ad.zeros((2, 3)).dtype == np.float32
    assert ad.ones(4).data.sum() == 4
    assert ad.full((2,), 7.0).data.tolist() == [7.0, 7.0]
    assert ad.arange(3).dtype == np.int64 and ad.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert ad.eye(3).data.trace() == 3
    assert ad.zeros_like(ad.ones((2, 2), dtype="float64")).dtype == np.float64
    assert ad.ones_like(np.zeros(3)).data.tolist() == [1.0, 1.0, 1.0]
    assert ad.rand(5).data.min() >= 0 and ad.randn(2, 2).dtype == np.float32
    assert ad.tensor([1, 2]).dtype == np.float32  # Python lists: the default dtype
    assert ad.tensor(np.array([1, 2])).dtype == np.int64  # arrays keep theirs
    a = np.ones(2)
    assert not np.shares_memory(ad.tensor(a).data, a)  # tensor() copies


def test_manual_seed_reproduces_and_rng_state_restores():
    ad.manual_seed(7)
    a = ad.randn(3).data
    ad.manual_seed(7)
    np.testing.assert_array_equal(ad.randn(3).data, a)
    state = ad.get_rng_state()
    b = ad.rand(4).data
    ad.set_rng_state(state)
    np.testing.assert_array_equal(ad.rand(4).data, b)


def test_comparisons_give_boolean_tensors_without_grad():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == 2.0).data.tolist() == [False, True, False]
    assert ((x < 3) & (x >= 2)).data.tolist() == [False, True, False]
    assert x[m].shape == (2,)


def test_methods_match_numpy():
    x = ad.tensor([[1.0, -2.0], [3.0, 0.5]])
    d = x.data
    np.testing.assert_allclose(x.mean(axis=0).data, d.mean(axis=0))
    np.testing.assert_allclose(x.var(axis=1, ddof=1).data, d.var(axis=1, ddof=1))
    np.testing.assert_allclose(x.std().data, d.std(), rtol=1e-6)
    np.testing.assert_allclose(x.max(axis=1, keepdims=True).data, d.max(axis=1, keepdims=True))
    assert x.argmax(axis=1).data.tolist() == [0, 0]
    assert x.reshape(4).shape == (4,) and x.reshape((1, 4)).shape == (1, 4)
    assert x.flatten().shape == (4,) and x.transpose(1, 0).shape == (2, 2)
    assert x.expand_dims(0).shape == (1, 2, 2) and x.expand_dims(0).squeeze(0).shape == (2, 2)
    np.testing.assert_allclose(x.clip(-1, 1).data, np.clip(d, -1, 1))
    assert x.astype("float64").dtype == np.float64
