import numpy as np
import pytest

import autodiff as ad
import nn


def test_clip_grad_norm():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    a.grad, b.grad = ad.tensor([3.0, 0.0]), ad.tensor([0.0, 4.0])
    total = nn.optim.clip_grad_norm_([a, b], 1.0)
    assert np.isclose(total, 5.0)
    assert np.isclose(np.sqrt((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum()), 1.0,
                      atol=1e-5)
    a.grad = ad.tensor([0.1, 0.0])
    assert np.isclose(nn.optim.clip_grad_norm_([a], 1.0, norm_type=float("inf")), 0.1)
    np.testing.assert_allclose(a.grad.data, [0.1, 0.0])  # under the limit: untouched


def test_clip_grad_value():
    a = ad.ones(3, requires_grad=True)
    a.grad = ad.tensor([-5.0, 0.5, 5.0])
    nn.optim.clip_grad_value_([a], 1.0)
    np.testing.assert_allclose(a.grad.data, [-1.0, 0.5, 1.0])


def test_clip_grad_norm_non_finite_as_pytorch():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    a.grad, b.grad = ad.tensor([np.nan, 1.0]), ad.tensor([3.0, 4.0])
    assert np.isnan(nn.optim.clip_grad_norm_([a, b], 1.0))
    assert np.isnan(a.grad.data).all() and np.isnan(b.grad.data).all()  # all of them
    a.grad, b.grad = ad.tensor([np.inf, 1.0]), ad.tensor([3.0, 4.0])
    assert nn.optim.clip_grad_norm_([a, b], 1.0) == np.inf
    assert np.isnan(a.grad.data[0]) and a.grad.data[1] == 0 and b.grad.tolist() == [0.0, 0.0]
    a.grad = ad.tensor([np.nan, 1.0])
    before = a.grad.data.copy()
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 .* "
                                           r"2 parameters is nan"):
        nn.optim.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(a.grad.data, before)  # untouched when it raises


def test_clip_grad_norm_non_finite_matches_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for non-finite norms")
    for bad in (np.nan, np.inf):
        ours = [ad.ones(2, requires_grad=True) for _ in range(2)]
        theirs = [torch.ones(2, requires_grad=True) for _ in range(2)]
        for o, t, g in zip(ours, theirs, ([bad, 1.0], [3.0, 4.0])):
            o.grad, t.grad = ad.tensor(np.array(g, np.float32)), torch.tensor(g)
        n_ours = nn.optim.clip_grad_norm_(ours, 1.0)
        n_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0).item()
        np.testing.assert_equal(n_ours, n_theirs)
        for o, t in zip(ours, theirs):
            np.testing.assert_array_equal(o.grad.data, t.grad.numpy())
