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
    """np.pad with the widths read PyTorch's way; negative widths crop first."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    kw = {"constant_values": value} if mode == "constant" else {}
    return np.pad(x[crop], grow, mode=NUMPY_MODE[mode], **kw)


def _valid(mode, pad, shape):
    """Whether PyTorch computes `mode` with these widths (PyTorch's own limits)."""
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    sizes = shape[::-1][:len(pairs)]
    if mode == "constant":
        return all(n + min(a, 0) + min(b, 0) >= 0 for (a, b), n in zip(pairs, sizes))
    if any(a < 0 or b < 0 for a, b in pairs):
        return False
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n, "replicate": lambda n: 99}
    return all(max(a, b) <= limit[mode](n) for (a, b), n in zip(pairs, sizes))


WIDTHS = [(1, 2), (0, 3), (2, 0), (3, 3), (-1, 2), (2, -1), (1, 1, 2, 0), (0, 2, 1, 1),
          (-1, 0, 2, 1), (1, 2, 1, 0, 2, 1), (-2, 1, 0, -1, 1, 1)]
# the widths each mode takes in PyTorch (negative widths: only 'constant' here)
CASES = [(mode, pad) for mode in NUMPY_MODE for pad in WIDTHS
         if mode == "constant" or min(pad) >= 0]


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
    # PyTorch crops with negative widths in the other modes too, but in 'circular' it reads
    # memory it never wrote; here they crop only in 'constant'
    with pytest.raises(ValueError, match=r"negative widths crop only in mode 'constant', got "
                                         r"\(-1, 2\) for axis 2 in mode 'replicate'"):
        F.pad(x, (-1, 2), "replicate")
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
