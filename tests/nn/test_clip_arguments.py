"""clip_grad_norm_ and clip_grad_value_: every norm order against the closed form and PyTorch,
and the arguments PyTorch accepts although they make nonsense (refused here)."""

import numpy as np
import pytest

import autodiff as ad
import nn

GRADS = [np.array([3.0, 0.0, -4.0]), None, np.array([[0.5, -1.0]]), np.zeros((0,)),
         np.array(2.0)]


def params(grads, dtype=np.float64):
    out = []
    for g in grads:
        p = ad.zeros(() if g is None else g.shape, dtype=dtype, requires_grad=True)
        p.grad = None if g is None else ad.tensor(g.astype(dtype))
        out.append(p)
    return out


@pytest.mark.parametrize("norm_type", [0.5, 1, 1.0, 2.0, 3, float("inf")])
def test_every_order_is_the_norm_over_all_elements(norm_type):
    ps = params(GRADS)
    flat = np.concatenate([g.ravel() for g in GRADS if g is not None])
    expected = (np.abs(flat).max() if norm_type == float("inf")
                else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type))
    total = nn.optim.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    assert total == pytest.approx(expected, rel=1e-14)
    clipped = np.concatenate([p.grad.data.ravel() for p in ps if p.grad is not None])
    np.testing.assert_allclose(clipped, flat * (1.0 / (expected + 1e-6)), rtol=1e-14)


@pytest.mark.parametrize("norm_type", [0, 0.0, -1.0, -2, float("-inf"), float("nan"), "fro",
                                       True])
def test_an_order_that_is_not_a_norm_is_refused(norm_type):
    """PyTorch's order 0 counts the parameters whose gradient is not all zero, -inf takes the
    smallest |g|; the engine divided by zero (0) or returned 1.0 (-inf)."""
    ps = params(GRADS)
    with pytest.raises(ValueError, match=r"clip_grad_norm_: norm_type must be a number > 0 or "
                                         r"inf, got"):
        nn.optim.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(ps[0].grad.data, GRADS[0])


@pytest.mark.parametrize("limit", [-1.0, -1e-9, float("nan"), float("-inf"), None, "1"])
def test_a_negative_or_nan_limit_is_refused(limit):
    """PyTorch flips every clipped gradient for a negative max_norm (clip_grad_value_ sets every
    element to -clip_value) and makes them NaN for a NaN one; so did the engine."""
    ps = params(GRADS)
    with pytest.raises(ValueError, match=r"clip_grad_norm_: max_norm must be a number >= 0 "):
        nn.optim.clip_grad_norm_(ps, limit)
    with pytest.raises(ValueError, match=r"clip_grad_value_: clip_value must be a number >= 0"):
        nn.optim.clip_grad_value_(ps, limit)
    np.testing.assert_array_equal(ps[0].grad.data, GRADS[0])


def test_an_infinite_or_zero_limit():
    ps = params(GRADS)
    assert nn.optim.clip_grad_norm_(ps, float("inf")) == pytest.approx(np.sqrt(30.25))
    nn.optim.clip_grad_value_(ps, float("inf"))
    np.testing.assert_array_equal(ps[0].grad.data, GRADS[0])
    nn.optim.clip_grad_value_(ps, 0)
    assert not ps[0].grad.data.any()


def test_the_inf_norm_with_an_empty_gradient_and_a_nan_anywhere():
    """max() of Python kept the first of (1.0, nan), so a NaN gradient after a finite one went
    unseen (error_if_nonfinite too); an empty gradient crashed in NumPy's max."""
    assert nn.optim.clip_grad_norm_(params(GRADS), 10.0, norm_type=float("inf")) == 4.0
    for order in ([1.0, np.nan], [np.nan, 1.0]):
        ps = params([np.array([v]) for v in order])
        assert np.isnan(nn.optim.clip_grad_norm_(ps, 10.0, norm_type=float("inf")))
        ps = params([np.array([v]) for v in order])
        with pytest.raises(RuntimeError, match=r"total norm of order inf .* is nan"):
            nn.optim.clip_grad_norm_(ps, 10.0, norm_type=float("inf"), error_if_nonfinite=True)


def test_no_gradients_at_all():
    assert nn.optim.clip_grad_norm_([], 1.0) == 0.0
    assert nn.optim.clip_grad_norm_(params([None, None]), 1.0, norm_type=3) == 0.0
    nn.optim.clip_grad_value_([], 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [0.5, 1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.0, 0.1, 100.0])
def test_against_pytorch(dtype, norm_type, max_norm):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference for clipping")
    grads = [g for g in GRADS if g is None or g.size]  # PyTorch's inf norm fails on an empty one
    ps = params(grads, dtype)
    ts = []
    for g in grads:
        t = torch.zeros(() if g is None else g.shape, dtype=getattr(torch, np.dtype(dtype).name),
                        requires_grad=True)
        t.grad = None if g is None else torch.tensor(g.astype(dtype))
        ts.append(t)
    theirs = float(torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type))
    ours = nn.optim.clip_grad_norm_(ps, max_norm, norm_type)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert ours == pytest.approx(theirs, rel=rtol)
    for p, t in zip(ps, ts):
        assert (p.grad is None) == (t.grad is None)
        if p.grad is not None:
            assert p.grad.dtype == dtype
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=1e-30)
