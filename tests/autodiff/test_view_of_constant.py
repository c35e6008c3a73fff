"""A view made while its base needed no gradient follows the base once the base has one (a
write gave it a graph, or requires_grad_()), as PyTorch's views do. Before, the view stayed a
constant holding the new values: the gradient through it was dropped silently."""

import numpy as np
import pytest

import autodiff as ad


def _setup():
    a = ad.zeros(3, dtype="float64")
    v = a[1:]
    w = ad.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    a.add_(w)  # a = w, with a graph; v shows a[1:]
    return a, v, w


@pytest.mark.parametrize("use", [
    lambda v: v * 2.0,                  # the binary ops' fast path, a Python number
    lambda v: v * ad.tensor([2.0, 2.0], dtype="float64"),  # two tensors
    lambda v: 2.0 * v,
    lambda v: ad.abs(v) * 2,            # a unary op first (Function.apply)
    lambda v: ad.stack([v, v]).sum(0),  # a list of tensors
], ids=["mul scalar", "mul tensor", "rmul", "unary", "stack"])
def test_the_gradient_reaches_the_base_through_an_older_view(use):
    a, v, w = _setup()
    (use(v).sum() + a.sum()).backward()
    np.testing.assert_allclose(w.grad.data, [1.0, 3.0, 3.0])


def test_requires_grad_reports_it_and_a_write_into_the_view_records():
    a, v, w = _setup()
    assert v.requires_grad and v.grad_fn is not None
    v.mul_(3.0)  # through the view: the base's graph takes it
    a.sum().backward()
    np.testing.assert_allclose(w.grad.data, [1.0, 3.0, 3.0])


def test_a_view_of_a_leaf_that_starts_to_require_grad():
    a = ad.zeros(3, dtype="float64")
    v = a[1:]
    a.requires_grad_()
    (v * 2.0).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="is a view of a leaf tensor that requires grad"):
        v.mul_(2.0)  # as any view of a leaf that requires grad


def test_views_of_constants_stay_constants():
    a = ad.zeros(3)
    v = a[1:]
    a += 1.0
    assert not (v * 2.0).requires_grad and not v.requires_grad
    with ad.no_grad():
        assert not (v * 2.0).requires_grad


def test_against_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch's views are the reference")
    for use in ("mul", "exp"):
        a, v, w = _setup()
        ta = torch.zeros(3, dtype=torch.float64)
        tv = ta[1:]
        tw = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        ta.add_(tw)
        f = (lambda t: t * 2.0) if use == "mul" else (lambda t: t.exp() if isinstance(
            t, torch.Tensor) else ad.exp(t))
        (f(tv).sum() + (ta * ta).sum()).backward()
        (f(v).sum() + (a * a).sum()).backward()
        np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-15)
