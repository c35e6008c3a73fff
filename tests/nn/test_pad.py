"""F.pad: PyTorch's argument order (last axis first) and modes, equal to PyTorch's values and
gradients wherever PyTorch computes, and to np.pad without it; its errors."""

import itertools

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

NUMPY_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
              "circular": "wrap"}


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _reference(x, pad, mode, value=0.0):
    """np.pad with the widths read PyTorch's way; negative widths crop, in PyTorch's order:
    first in 'constant' and 'circular', after padding in 'reflect' and 'replicate'."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    kw = {"constant_values": value} if mode == "constant" else {}
    if mode in ("reflect", "replicate"):
        x = np.pad(x, grow, mode=NUMPY_MODE[mode])
        widths = [(min(a, 0), min(b, 0)) for a, b in widths]
        grow = [(0, 0)] * x.ndim
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))
    return np.pad(x[crop], grow, mode=NUMPY_MODE[mode], **kw)


def _valid(mode, pad, shape):
    """Whether PyTorch computes `mode` with these widths (PyTorch's own limits), and right
    (with 'circular' widths beyond what a crop leaves, PyTorch's values and gradients are
    wrong)."""
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    sizes = shape[::-1][:len(pairs)]
    left = [n + min(a, 0) + min(b, 0) for (a, b), n in zip(pairs, sizes)]
    if mode == "constant":
        return all(k >= 0 for k in left)
    if mode == "circular":
        return all(k > 0 and max(a, b) <= k for (a, b), k in zip(pairs, left))
    limit = {"reflect": lambda n: n - 1, "replicate": lambda n: 99}[mode]
    return all(max(a, b) <= limit(n) and n + a + b > 0 for (a, b), n in zip(pairs, sizes))


WIDTHS = [(1, 2), (0, 3), (2, 0), (3, 3), (-1, 2), (2, -1), (1, 1, 2, 0), (0, 2, 1, 1),
          (-1, 0, 2, 1), (1, 2, 1, 0, 2, 1), (-2, 1, 0, -1, 1, 1), (-3, 4), (4, -3, -1, 2)]
# the widths each mode takes in PyTorch and gets right
CASES = [(mode, pad) for mode in NUMPY_MODE for pad in WIDTHS
         if _valid(mode, pad, (2, 2, 3, 4, 5)[3 - len(pad) // 2:])]


@pytest.mark.parametrize("mode, pad", CASES, ids=str)
def test_pad_matches_pytorch_values_and_gradients(mode, pad):
    torch = _torch()
    shape = (2, 2, 3, 4, 5)[3 - len(pad) // 2:]  # batch, channels and the padded axes
    assert _valid(mode, pad, shape)
    x = np.random.default_rng(0).standard_normal(shape)
    t = torch.tensor(x, requires_grad=True)
    kw = {"value": 1.5} if mode == "constant" else {}
    want = torch.nn.functional.pad(t, pad, mode=mode, **kw)
    v = np.random.default_rng(1).standard_normal(tuple(want.shape))
    (want * torch.tensor(v)).sum().backward()
    a = ad.tensor(x, requires_grad=True)
    got = F.pad(a, pad, mode=mode, **kw)
    (got * v).sum().backward()
    np.testing.assert_array_equal(got.data, want.detach().numpy())
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
def test_pad_equals_np_pad_read_last_axis_first(mode):
    x = np.arange(24.0).reshape(2, 3, 4)
    for pad in [(1, 2), (2, 1, 1, 0), (1, 0, 0, 2, 1, 1), (0, 0, 0, 0)]:
        np.testing.assert_array_equal(F.pad(x, pad, mode).data, _reference(x, pad, mode),
                                      err_msg=f"{mode} {pad}")
    np.testing.assert_array_equal(F.pad(x, (1, 1), value=7.0).data,
                                  np.pad(x, ((0, 0), (0, 0), (1, 1)), constant_values=7.0))


def test_pad_beyond_pytorchs_ranks_and_axes():
    # the non-constant modes on a 1-d and a 6-d tensor, and on 4 axes (PyTorch: 1 to 3 axes
    # of a 2-d to 5-d tensor), the same as np.pad
    x = np.arange(3.0)
    np.testing.assert_array_equal(F.pad(x, (2, 1), "reflect").data, [2, 1, 0, 1, 2, 1])
    y = np.random.default_rng(2).standard_normal((1, 2, 2, 3, 2, 3))
    pad = (1, 1, 0, 1, 2, 1, 1, 0)
    for mode in ("reflect", "replicate", "circular"):
        np.testing.assert_array_equal(F.pad(y, pad, mode).data, _reference(y, pad, mode))


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
def test_pad_second_order(mode):
    x = ad.tensor(np.random.default_rng(3).standard_normal((2, 3, 4)))
    f = lambda t: F.pad(t, (2, 1, 1, 2), mode) ** 2  # noqa: E731
    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


def test_pad_keeps_dtype_integers_and_the_graph():
    assert F.pad(ad.tensor(np.arange(3)), (1, 1), value=7).tolist() == [7, 0, 1, 2, 7]
    x = ad.ones((2, 2), requires_grad=True)
    y = F.pad(x, (1, 1))
    assert y.dtype == np.float32 and y.grad_fn is not None


def test_pytorchs_limits_raise_here_too():
    x = ad.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=r"mode 'reflect' needs widths less than the axis's "
                                         r"size: \(3, 3\) for axis 2 of size 3"):
        F.pad(x, (3, 3), "reflect")
    with pytest.raises(ValueError, match=r"mode 'circular' needs widths at most the axis's "
                                         r"size \(it wraps around once\): \(4, 0\)"):
        F.pad(x, (4, 0), "circular")
    # 'circular' after a crop wraps around at most what is left: beyond it PyTorch's values
    # and gradients are wrong, and with nothing left it returns memory it never wrote
    with pytest.raises(ValueError, match=r"mode 'circular' wraps around at most once: widths "
                                         r"\(-2, 2\) leave 1 elements of axis 2 after "
                                         r"cropping, fewer than the width 2"):
        F.pad(x, (-2, 2), "circular")
    with pytest.raises(ValueError, match=r"leave 0 elements of axis 2"):
        F.pad(x, (-3, 1), "circular")
    with pytest.raises(ValueError, match=r"negative widths \(1, -5\) crop more than the padded "
                                         r"input \(shape \(1, 2, 3\)\) holds"):
        F.pad(x, (1, -5), "reflect")
    with pytest.raises(ValueError, match=r"negative widths \(-4, 0\) crop more than the "
                                         r"input's shape"):
        F.pad(x, (-4, 0))
    with pytest.raises(ValueError, match="mode 'replicate' cannot pad axis 1 of size 0"):
        F.pad(ad.zeros((1, 0, 3)), (1, 1, 1, 1), "replicate")


def test_pad_argument_errors():
    x = ad.zeros((2, 3))
    with pytest.raises(ValueError, match="pad: mode 'wrap' is not one of 'constant', "
                                         "'reflect', 'replicate', 'circular'"):
        F.pad(x, (1, 1), "wrap")
    with pytest.raises(ValueError, match=r"mode 'reflect' takes no value \(got value=1.0\)"):
        F.pad(x, (1, 1), "reflect", 1.0)
    with pytest.raises(ValueError, match=r"an even number of widths, got 3: \(1, 1, 1\)"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match=r"3 pairs of widths for a tensor of 2 dimensions"):
        F.pad(x, (1,) * 6)
    with pytest.raises(TypeError, match=r"pad must be a sequence of integers"):
        F.pad(x, (1.5, 1))
    assert F.pad(x, (1, 1), "reflect", 0).shape == (2, 5)  # value 0 is no value, as PyTorch


@pytest.mark.parametrize("mode, pad", list(itertools.product(["reflect", "circular"],
                                                             [(2, 2), (0, 3), (3, 0)])))
def test_widths_at_pytorchs_limit_agree_with_np_pad(mode, pad):
    x = np.arange(6.0).reshape(2, 3)
    if _valid(mode, pad, x.shape):
        np.testing.assert_array_equal(F.pad(x, pad, mode).data, _reference(x, pad, mode))
    else:
        with pytest.raises(ValueError, match=f"mode '{mode}' needs widths"):
            F.pad(x, pad, mode)


def test_negative_widths_crop_in_every_mode_in_pytorchs_order():
    x = ad.tensor(np.arange(5.0), requires_grad=True)
    # reflect and replicate pad from the whole input, then crop
    assert F.pad(x, (-3, 3), "reflect").tolist() == [3, 4, 3, 2, 1]
    assert F.pad(x, (3, -4), "replicate").tolist() == [0, 0, 0, 0]
    # circular crops first, then wraps around what is left
    assert F.pad(x, (2, -1), "circular").tolist() == [2, 3, 0, 1, 2, 3]
    assert F.pad(x, (-1, 2), "circular").tolist() == [1, 2, 3, 4, 1, 2]
    # each output element's gradient goes to the element it was copied from
    F.pad(x, (-3, 3), "reflect").sum().backward()
    assert x.grad.tolist() == [0, 1, 1, 2, 1]
    x.grad = None
    F.pad(x, (2, -1), "circular").sum().backward()
    assert x.grad.tolist() == [1, 1, 2, 2, 0]
    y = ad.tensor(np.random.default_rng(4).standard_normal((2, 3, 4)))
    for mode in ("reflect", "replicate", "circular"):
        f = lambda t, mode=mode: F.pad(t, (-1, 2, 1, -1), mode) ** 2  # noqa: E731
        np.testing.assert_array_equal(f(y).data, _reference(y.data, (-1, 2, 1, -1), mode) ** 2)
        assert gradcheck(f, y) and gradgradcheck(f, y)


def test_negative_widths_against_pytorch_on_random_configurations():
    torch = _torch()
    rng = np.random.default_rng(5)
    compared = 0
    for _ in range(300):
        shape = tuple(rng.integers(1, 6, rng.integers(2, 5)))
        k = int(rng.integers(1, min(3, len(shape) - 1) + 1))
        pad = tuple(int(w) for w in rng.integers(-4, 5, 2 * k))
        mode = str(rng.choice(list(NUMPY_MODE)))
        if not _valid(mode, pad, shape) or (mode != "constant" and len(shape) - k not in (1, 2)):
            continue  # PyTorch's non-constant kernels: k axes of a (k+1)-d or (k+2)-d tensor
        x = rng.standard_normal(shape)
        t = torch.tensor(x, requires_grad=True)
        want = torch.nn.functional.pad(t, pad, mode=mode)
        v = rng.standard_normal(tuple(want.shape))
        (want * torch.tensor(v)).sum().backward()
        a = ad.tensor(x, requires_grad=True)
        got = F.pad(a, pad, mode=mode)
        (got * v).sum().backward()
        np.testing.assert_array_equal(got.data, want.detach().numpy(), err_msg=f"{mode} {pad}")
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-15, atol=1e-15)
        compared += 1
    assert compared > 100
